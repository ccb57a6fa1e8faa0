//! Fault injection on demand: `--faults "429:0.05,500:0.02,503:0.01,slow:0.02,
//! truncate:0.01,expire-token:0.01"`. Which request faults is decided by hashing the
//! world seed with the request's sequence number, so a run is reproducible. Faults
//! never change the world: a client that retries correctly ends with exactly the
//! data it would have had without them.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::rng::SimRng;

/// The kinds of fault the server can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After`.
    Throttle,
    /// 500 Internal Server Error.
    ServerError,
    /// 503 with `Retry-After`.
    Unavailable,
    /// The response is delayed.
    Slow,
    /// A 200 whose body is cut mid-JSON.
    Truncate,
    /// A valid token is rejected as expired.
    ExpireToken,
}

impl Fault {
    fn parse(name: &str) -> Option<Fault> {
        Some(match name {
            "429" => Fault::Throttle,
            "500" => Fault::ServerError,
            "503" => Fault::Unavailable,
            "slow" => Fault::Slow,
            "truncate" => Fault::Truncate,
            "expire-token" => Fault::ExpireToken,
            _ => return None,
        })
    }
}

/// Probabilities per fault kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    pub rates: Vec<(Fault, f64)>,
}

impl std::str::FromStr for FaultPlan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rates = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part
                .split_once(':')
                .ok_or_else(|| format!("`{part}`: expected KIND:RATE, e.g. 429:0.05"))?;
            let fault = Fault::parse(name.trim()).ok_or_else(|| {
                format!("`{name}` is not a fault kind; use 429, 500, 503, slow, truncate or expire-token")
            })?;
            let rate: f64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("`{rate}`: a rate is a number from 0 to 1"))?;
            rates.push((fault, rate));
        }
        let total: f64 = rates.iter().map(|r| r.1).sum();
        if total > 1.0 {
            return Err(format!("fault rates add up to {total}, more than 1"));
        }
        Ok(FaultPlan { rates })
    }
}

/// Decides, per request, whether and how to fault.
#[derive(Debug)]
pub struct FaultInjector {
    plan: FaultPlan,
    seed: u64,
    counter: AtomicU64,
}

impl FaultInjector {
    pub fn new(plan: FaultPlan, seed: u64) -> Self {
        FaultInjector {
            plan,
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// The fault for the next request, if any.
    pub fn next(&self) -> Option<Fault> {
        if self.plan.rates.is_empty() {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut x = SimRng::new(self.seed, "faults").fork(n).unit();
        for (fault, rate) in &self.plan.rates {
            if x < *rate {
                return Some(*fault);
            }
            x -= rate;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_and_reject_nonsense() {
        let p: FaultPlan = "429:0.05, 500:0.02,truncate:0.01,expire-token:0.01"
            .parse()
            .unwrap();
        assert_eq!(p.rates.len(), 4);
        assert!("429".parse::<FaultPlan>().is_err());
        assert!("418:0.1".parse::<FaultPlan>().is_err());
        assert!("429:1.5".parse::<FaultPlan>().is_err());
        assert!("429:0.6,500:0.6".parse::<FaultPlan>().is_err());
    }

    #[test]
    fn injection_is_deterministic_and_near_its_rate() {
        let plan: FaultPlan = "429:0.1,slow:0.05".parse().unwrap();
        let a = FaultInjector::new(plan.clone(), 7);
        let b = FaultInjector::new(plan, 7);
        let xs: Vec<_> = (0..10_000).map(|_| a.next()).collect();
        let ys: Vec<_> = (0..10_000).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        let throttles = xs.iter().filter(|f| **f == Some(Fault::Throttle)).count();
        assert!((800..1200).contains(&throttles), "{throttles}");
    }
}
