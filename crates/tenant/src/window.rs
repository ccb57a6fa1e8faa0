//! Time-window planning for hunting pulls: no row may be lost to the 100,000-row cap.
//!
//! A range is fetched in windows; a window whose answer hits the cap (the service refuses with a
//! row-limit error, or returns exactly the cap) is split in halves, recursively, down to a
//! minimum width. Calls are paced to the service's per-minute quota. The planner is generic over
//! the fetcher so it is tested without a network.

use crate::error::TenantError;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};
use whalewatch_model::time::format_datetime;

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl TimeWindow {
    /// Width of the window.
    pub fn width(&self) -> chrono::Duration {
        self.to - self.from
    }

    /// The two halves; the split point keeps whole 100 ns ticks (Kusto's resolution).
    pub fn halves(&self) -> (TimeWindow, TimeWindow) {
        let half_ticks = (self.width().num_microseconds().unwrap_or(i64::MAX) * 10) / 2;
        let mid = self.from + chrono::Duration::nanoseconds(half_ticks * 100);
        (
            TimeWindow {
                from: self.from,
                to: mid,
            },
            TimeWindow {
                from: mid,
                to: self.to,
            },
        )
    }
}

/// What to fetch and how finely it may be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPlan {
    /// Range start (inclusive).
    pub from: DateTime<Utc>,
    /// Range end (exclusive).
    pub to: DateTime<Utc>,
    /// First cut: the range is fetched in windows of this width.
    pub initial_window: chrono::Duration,
    /// Narrowest window; a truncated window this narrow is an error rather than silent loss.
    pub min_window: chrono::Duration,
    /// Rows per call at which an answer counts as truncated.
    pub row_cap: usize,
}

impl WindowPlan {
    /// The initial windows, in time order.
    pub fn initial_windows(&self) -> Vec<TimeWindow> {
        let step = self
            .initial_window
            .max(self.min_window)
            .max(chrono::Duration::nanoseconds(100));
        let mut out = Vec::new();
        let mut from = self.from;
        while from < self.to {
            let to = (from + step).min(self.to);
            out.push(TimeWindow { from, to });
            from = to;
        }
        out
    }
}

/// One window's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowFetch<T> {
    /// Every row of the window.
    Rows(Vec<T>),
    /// The service refused or cut the answer at the cap.
    Truncated,
}

/// What a pull did, for the refresh summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowStats {
    /// Calls made.
    pub calls: u64,
    /// Windows split because they were truncated.
    pub splits: u64,
    /// Windows delivered.
    pub windows: u64,
    /// Rows delivered.
    pub rows: u64,
}

/// Fetches every window of `plan`, splitting truncated ones, and hands complete windows to
/// `sink` in time order. `label` names the table in errors.
pub async fn fetch_windows<T, F, Fut, S>(
    plan: &WindowPlan,
    label: &str,
    mut fetch: F,
    mut sink: S,
) -> Result<WindowStats, TenantError>
where
    F: FnMut(TimeWindow) -> Fut,
    Fut: Future<Output = Result<WindowFetch<T>, TenantError>>,
    S: FnMut(TimeWindow, Vec<T>) -> Result<(), TenantError>,
{
    let mut stats = WindowStats::default();
    // A stack with the earliest window on top keeps delivery chronological.
    let mut stack: Vec<TimeWindow> = plan.initial_windows();
    stack.reverse();
    while let Some(window) = stack.pop() {
        stats.calls += 1;
        let rows = match fetch(window).await? {
            WindowFetch::Rows(rows) if rows.len() < plan.row_cap => Some(rows),
            _ => None,
        };
        match rows {
            Some(rows) => {
                stats.windows += 1;
                stats.rows += rows.len() as u64;
                sink(window, rows)?;
            }
            None if window.width() <= plan.min_window => {
                return Err(TenantError::WindowTooDense {
                    table: label.to_owned(),
                    from: format_datetime(&window.from),
                    to: format_datetime(&window.to),
                    row_cap: plan.row_cap,
                });
            }
            None => {
                stats.splits += 1;
                let (early, late) = window.halves();
                stack.push(late);
                stack.push(early);
            }
        }
    }
    Ok(stats)
}

/// Keeps calls under a per-period quota (runHuntingQuery allows ~45 calls a minute).
#[derive(Debug, Clone)]
pub struct CallPacer {
    limit: usize,
    period: Duration,
    recent: VecDeque<Instant>,
}

impl CallPacer {
    /// At most `limit` calls in any rolling minute.
    pub fn per_minute(limit: usize) -> Self {
        CallPacer::new(limit, Duration::from_secs(60))
    }

    /// At most `limit` calls in any rolling `period` (the identity reports allow 5 per
    /// 10 s, Conditional Access and risky users 1 per second, message trace 100 per
    /// 5 minutes).
    pub fn new(limit: usize, period: Duration) -> Self {
        CallPacer {
            limit: limit.max(1),
            period,
            recent: VecDeque::new(),
        }
    }

    /// How long to wait at `now` before the next call may start.
    pub fn delay(&mut self, now: Instant) -> Duration {
        while let Some(&first) = self.recent.front() {
            if now.saturating_duration_since(first) >= self.period {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        match self.recent.front() {
            Some(&first) if self.recent.len() >= self.limit => {
                (first + self.period).saturating_duration_since(now)
            }
            _ => Duration::ZERO,
        }
    }

    /// Records a call started at `at`.
    pub fn record(&mut self, at: Instant) {
        self.recent.push_back(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::cell::RefCell;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0)
            .single()
            .unwrap_or_default()
    }

    /// A fake service: rows at given second offsets; answers Truncated above `cap` rows.
    fn run(
        rows_at: &[i64],
        plan: WindowPlan,
    ) -> (Result<WindowStats, TenantError>, Vec<i64>, Vec<TimeWindow>) {
        let calls = RefCell::new(Vec::new());
        let mut got = Vec::new();
        let result = futures_lite_block_on(fetch_windows(
            &plan,
            "EmailEvents",
            |w: TimeWindow| {
                calls.borrow_mut().push(w);
                let mut rows: Vec<i64> = rows_at
                    .iter()
                    .copied()
                    .filter(|s| t(*s) >= w.from && t(*s) < w.to)
                    .collect();
                rows.sort();
                async move {
                    Ok(if rows.len() > plan.row_cap {
                        WindowFetch::Truncated
                    } else {
                        WindowFetch::Rows(rows)
                    })
                }
            },
            |_, rows| {
                got.extend(rows);
                Ok(())
            },
        ));
        (result, got, calls.into_inner())
    }

    fn futures_lite_block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(|rt| rt.block_on(f))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn plan(cap: usize) -> WindowPlan {
        WindowPlan {
            from: t(0),
            to: t(100),
            initial_window: chrono::Duration::seconds(50),
            min_window: chrono::Duration::seconds(1),
            row_cap: cap,
        }
    }

    #[test]
    fn dense_windows_split_until_nothing_is_lost() {
        let mut rows: Vec<i64> = (0..100).collect();
        rows.extend([10, 10, 11, 11, 12, 60, 61, 99]);
        let (stats, got, calls) = run(&rows, plan(5));
        let stats = stats.unwrap_or_else(|e| panic!("{e}"));
        let mut expected = rows.clone();
        expected.sort();
        assert_eq!(got, expected, "every row delivered once, in time order");
        assert!(stats.splits > 0);
        assert_eq!(stats.calls as usize, calls.len());
        assert_eq!(stats.rows as usize, rows.len());
        // Windows delivered tile the range exactly.
        assert_eq!(
            calls[0],
            TimeWindow {
                from: t(0),
                to: t(50)
            }
        );
    }

    #[test]
    fn exactly_cap_rows_counts_as_truncated() {
        // 4 rows in one second with cap 4: the answer is "4 rows" which equals the cap.
        let rows = [5, 5, 5, 5];
        let p = WindowPlan {
            row_cap: 4,
            ..plan(4)
        };
        let calls = RefCell::new(0);
        let result = futures_lite_block_on(fetch_windows(
            &p,
            "EmailEvents",
            |w: TimeWindow| {
                *calls.borrow_mut() += 1;
                let n = rows
                    .iter()
                    .filter(|s| t(**s) >= w.from && t(**s) < w.to)
                    .count();
                async move { Ok(WindowFetch::Rows(vec![0u8; n.min(4)])) }
            },
            |_, _| Ok(()),
        ));
        let err = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("more than 4 rows"), "{err}");
    }

    #[test]
    fn sparse_range_needs_no_split() {
        let (stats, got, _) = run(&[1, 70], plan(5));
        assert_eq!(stats.map(|s| (s.calls, s.splits)).ok(), Some((2, 0)));
        assert_eq!(got, vec![1, 70]);
    }

    #[test]
    fn halves_are_exact() {
        let w = TimeWindow {
            from: t(0),
            to: t(1),
        };
        let (a, b) = w.halves();
        assert_eq!(
            (a.to, b.from),
            (
                t(0) + chrono::Duration::milliseconds(500),
                t(0) + chrono::Duration::milliseconds(500)
            )
        );
    }

    #[test]
    fn pacer_spreads_calls_over_the_minute() {
        let start = Instant::now();
        let mut p = CallPacer::per_minute(3);
        for i in 0..3 {
            assert_eq!(p.delay(start + Duration::from_secs(i)), Duration::ZERO);
            p.record(start + Duration::from_secs(i));
        }
        assert_eq!(
            p.delay(start + Duration::from_secs(10)),
            Duration::from_secs(50)
        );
        assert_eq!(p.delay(start + Duration::from_secs(60)), Duration::ZERO);
    }
}
