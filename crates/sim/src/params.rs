//! The knobs that define a synthetic world. Same parameters → byte-identical world.

use chrono::{DateTime, Utc};

use super::kql::TICKS_PER_SECOND;

/// Parameters of a synthetic tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldParams {
    pub seed: u64,
    /// The reference time: mail spans the `days` before it.
    pub now: DateTime<Utc>,
    pub users: u32,
    pub days: u32,
    /// `EmailEvents` rows (message × recipient) per day.
    pub emails_per_day: u32,
}

/// Why a set of parameters cannot make a world.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamsError {
    #[error(
        "--users must be at least {min} (executives, board, admins and assistants need room); got {got}"
    )]
    TooFewUsers { min: u32, got: u32 },
    #[error("--users must be at most {max}; got {got}")]
    TooManyUsers { max: u32, got: u32 },
    #[error("--days must be between 1 and 365; got {0}")]
    Days(u32),
    #[error("--emails-per-day must be between 1 and 10,000,000; got {0}")]
    EmailsPerDay(u32),
}

impl WorldParams {
    pub const MIN_USERS: u32 = 30;
    pub const MAX_USERS: u32 = 1_000_000;

    /// The defaults of `whalewatch sim`: 2,000 users, 30 days, 3,000 rows a day.
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        WorldParams {
            seed,
            now,
            users: 2_000,
            days: 30,
            emails_per_day: 3_000,
        }
    }

    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.users < Self::MIN_USERS {
            return Err(ParamsError::TooFewUsers {
                min: Self::MIN_USERS,
                got: self.users,
            });
        }
        if self.users > Self::MAX_USERS {
            return Err(ParamsError::TooManyUsers {
                max: Self::MAX_USERS,
                got: self.users,
            });
        }
        if !(1..=365).contains(&self.days) {
            return Err(ParamsError::Days(self.days));
        }
        if !(1..=10_000_000).contains(&self.emails_per_day) {
            return Err(ParamsError::EmailsPerDay(self.emails_per_day));
        }
        Ok(())
    }

    /// `now` in ticks since the Unix epoch, truncated to whole seconds so that
    /// the world does not depend on sub-second noise in a defaulted `--now`.
    pub fn now_ticks(&self) -> i64 {
        self.now.timestamp() * TICKS_PER_SECOND
    }

    /// Total `EmailEvents` rows the world will hold.
    pub fn total_rows(&self) -> u64 {
        u64::from(self.days) * u64::from(self.emails_per_day)
    }
}
