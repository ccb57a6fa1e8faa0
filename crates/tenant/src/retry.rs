//! When and how long to wait before retrying a Graph call.
//!
//! The policy is a pure value type so it can be unit-tested without a network or a clock; the
//! waiting goes through a [`Sleeper`] so tests can record delays instead of sleeping.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A boxed future, as returned by the object-safe traits in `tenant`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Capped exponential backoff with full jitter, overridden by the service's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Backoff base: the ceiling of the first retry's random wait.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Largest `Retry-After` honoured per wait (a broken header must not stall a refresh for hours).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy with tiny delays for tests.
    pub fn fast_for_tests() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            max_retry_after: Duration::from_millis(50),
        }
    }

    /// The backoff ceiling before retry number `retry` (0-based): `min(cap, base * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// How long to wait after failed attempt number `attempt` (1-based), or `None` when the
    /// attempts are used up. `jitter` is a uniform sample in `[0, 1)`.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        Some(match retry_after {
            Some(wait) => wait.min(self.max_retry_after),
            None => self
                .ceiling(attempt.saturating_sub(1))
                .mul_f64(jitter.clamp(0.0, 1.0)),
        })
    }
}

/// Parses a `Retry-After` header: integer or fractional seconds, or an HTTP-date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Waits; injectable so tests never sleep for real.
pub trait Sleeper: Send + Sync {
    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Counters a refresh summary reports ("12 retries, 40 s throttled").
#[derive(Debug, Default)]
pub struct RetryStats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    throttle_wait_micros: AtomicU64,
    token_renewals: AtomicU64,
}

/// A point-in-time copy of [`RetryStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryStatsSnapshot {
    /// HTTP requests sent (attempts).
    pub requests: u64,
    /// Retries after a failed attempt.
    pub retries: u64,
    /// 429/503/504 responses received.
    pub throttled: u64,
    /// Total time spent waiting because of throttling.
    pub throttle_wait: Duration,
    /// Forced token renewals after a 401.
    pub token_renewals: u64,
}

impl RetryStats {
    /// Counts one attempt.
    pub fn record_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts one retry.
    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("retrying the request");
    }
    /// Counts a throttling response and the wait it caused.
    pub fn record_throttle(&self, wait: Duration) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            wait_seconds = wait.as_secs_f64(),
            "throttled by the service"
        );
        let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.throttle_wait_micros
            .fetch_add(micros, Ordering::Relaxed);
    }
    /// Counts a forced token renewal.
    pub fn record_token_renewal(&self) {
        self.token_renewals.fetch_add(1, Ordering::Relaxed);
        tracing::info!("token refused (401); renewing it once");
    }
    /// Reads all counters.
    pub fn snapshot(&self) -> RetryStatsSnapshot {
        RetryStatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait: Duration::from_micros(self.throttle_wait_micros.load(Ordering::Relaxed)),
            token_renewals: self.token_renewals.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_forms() {
        let now = Utc
            .with_ymd_and_hms(2015, 10, 21, 7, 27, 58)
            .single()
            .unwrap_or_default();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(500));
        assert_eq!(p.ceiling(3), Duration::from_secs(4));
        assert_eq!(p.ceiling(10), Duration::from_secs(30));
        assert_eq!(p.ceiling(1000), Duration::from_secs(30));
        assert_eq!(p.delay(1, None, 0.5), Some(Duration::from_millis(250)));
        assert_eq!(
            p.delay(7, None, 0.999_999)
                .map(|d| d <= Duration::from_secs(30)),
            Some(true)
        );
        assert_eq!(p.delay(8, None, 0.5), None, "8 attempts in total");
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(3)), 0.0),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(9999)), 0.0),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn stats_accumulate() {
        let s = RetryStats::default();
        s.record_throttle(Duration::from_millis(1500));
        s.record_throttle(Duration::from_millis(500));
        s.record_retry();
        let snap = s.snapshot();
        assert_eq!(
            (snap.throttled, snap.retries, snap.throttle_wait),
            (2, 1, Duration::from_secs(2))
        );
    }
}
