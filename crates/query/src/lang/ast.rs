//! The parsed filter. The tree is kept canonical so `parse(print(f)) == f`: `And` and
//! `Or` have at least two children and never a child of their own kind, enumerated
//! values are stored as their documented spelling, and numbers with an operator other
//! than `=` carry exactly one value.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::fields::Field;

/// A whole filter; `root == None` matches everything (the empty filter).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Filter {
    /// The expression, or `None` for "everything".
    pub root: Option<Expr>,
}

impl Filter {
    /// The filter that matches everything.
    pub fn all() -> Filter {
        Filter { root: None }
    }

    /// Whether this is the empty filter.
    pub fn is_all(&self) -> bool {
        self.root.is_none()
    }
}

/// A boolean combination of terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expr {
    /// All children match (terms separated by spaces, or `AND`).
    And(Vec<Expr>),
    /// Any child matches (`OR`).
    Or(Vec<Expr>),
    /// The child does not match (`-term`, `NOT term`).
    Not(Box<Expr>),
    /// One term.
    Term(Term),
}

impl Expr {
    /// Whether the expression holds, given whether each term does: `AND`, `OR` and
    /// `NOT` short-circuit here, so a view over rows other than the email index only
    /// decides its terms.
    pub fn holds<E>(&self, term: &mut impl FnMut(&Term) -> Result<bool, E>) -> Result<bool, E> {
        Ok(match self {
            Expr::And(kids) => {
                for k in kids {
                    if !k.holds(term)? {
                        return Ok(false);
                    }
                }
                true
            }
            Expr::Or(kids) => {
                for k in kids {
                    if k.holds(term)? {
                        return Ok(true);
                    }
                }
                false
            }
            Expr::Not(k) => !k.holds(term)?,
            Expr::Term(t) => term(t)?,
        })
    }
}

/// A comparison operator of a numeric term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// `=` (the default: `bcl:7`).
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl CmpOp {
    /// The operator as the filter language writes it (`=` is written as nothing).
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether `a op b` holds.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// One term of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Term {
    /// A bare word or quoted phrase: the subject, sender address or sender display
    /// name contains it (case-insensitive). For other entities, see the field docs.
    Text(String),
    /// `field:a,b` for text, enumerated and tag fields: any of the values matches.
    /// Enumerated values are stored as their documented spelling (`Inbox/folder`);
    /// text values as typed (with their `*` wildcards).
    Match {
        /// The field.
        field: Field,
        /// At least one value.
        values: Vec<String>,
    },
    /// `field:>7`, `field:7,8`: a numeric comparison; several values only with `=`.
    Number {
        /// The field.
        field: Field,
        /// The comparison.
        op: CmpOp,
        /// At least one value; exactly one unless `op` is `Eq`.
        values: Vec<i64>,
    },
    /// `since:`, `until:`, `between:` on the entity's time.
    Time(TimeFilter),
}

/// A time restriction; bounds are resolved against the caller's `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeFilter {
    /// At or after the point.
    Since(TimePoint),
    /// Before the point (a date: before the end of that day).
    Until(TimePoint),
    /// At or after the first, before the second (a date: the end of that day).
    Between(TimePoint, TimePoint),
}

/// Unit of a relative time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpanUnit {
    /// `m`.
    Minutes,
    /// `h`.
    Hours,
    /// `d`.
    Days,
    /// `w`.
    Weeks,
}

impl SpanUnit {
    /// The suffix the language writes.
    pub fn suffix(self) -> char {
        match self {
            SpanUnit::Minutes => 'm',
            SpanUnit::Hours => 'h',
            SpanUnit::Days => 'd',
            SpanUnit::Weeks => 'w',
        }
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> i64 {
        match self {
            SpanUnit::Minutes => 60,
            SpanUnit::Hours => 3600,
            SpanUnit::Days => 86_400,
            SpanUnit::Weeks => 7 * 86_400,
        }
    }
}

/// A point in time as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimePoint {
    /// `7d`: that long before `now`.
    Ago {
        /// How many units.
        amount: u32,
        /// Which unit.
        unit: SpanUnit,
    },
    /// `2026-11-01`: a UTC day. As a lower bound its start, as an upper bound its end.
    Date(NaiveDate),
    /// `2026-11-01T10:00:00Z` (any RFC 3339 offset, kept in UTC).
    At(DateTime<Utc>),
}

impl TimePoint {
    /// The instant this point starts at, given `now`.
    pub fn start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimePoint::Ago { amount, unit } => {
                let secs = i64::from(*amount).saturating_mul(unit.seconds());
                now.checked_sub_signed(chrono::TimeDelta::seconds(secs))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC)
            }
            TimePoint::Date(d) => d.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc()),
            TimePoint::At(t) => *t,
        }
    }

    /// The exclusive upper bound this point stands for: a date's next midnight,
    /// otherwise the instant itself.
    pub fn end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimePoint::Date(d) => d
                .succ_opt()
                .and_then(|n| n.and_hms_opt(0, 0, 0))
                .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc()),
            other => other.start(now),
        }
    }
}

impl TimeFilter {
    /// The half-open interval `[from, to)` of times that match, given `now`.
    pub fn bounds(&self, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self {
            TimeFilter::Since(p) => (Some(p.start(now)), None),
            TimeFilter::Until(p) => (None, Some(p.end(now))),
            TimeFilter::Between(a, b) => (Some(a.start(now)), Some(b.end(now))),
        }
    }
}
