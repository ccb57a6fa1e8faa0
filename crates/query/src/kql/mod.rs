//! Filter → KQL for advanced hunting (`runHuntingQuery`), with exactly the semantics of
//! [`crate::lang::fields`], so the local count and the remote count agree.
//!
//! Emails compile against `EmailEvents`; fields held in other tables become semi-joins
//! written as KQL's tabular `in`: `NetworkMessageId in ((EmailUrlInfo | where ... |
//! project NetworkMessageId))`, or, per recipient, a `strcat(NetworkMessageId, "|",
//! tolower(RecipientEmailAddress))` key against the same key built in the subquery.
//! The `in` form composes under `or` and `not`, which `join` cannot. Tags become the
//! tag's resolved addresses (`RecipientEmailAddress in~ (...)`). Relative times are
//! resolved against the caller's `now`, so the text is reproducible. Each top-level
//! conjunct is its own `| where`, which keeps expressions shallow.

mod expr;
pub mod schema;
mod terms;

use chrono::{DateTime, Utc};

use super::lang::{Entity, Expr, Filter};
use expr::{K, datetime};

/// Resolves user tags to member addresses; tags are owned by whalewatch, not the API.
pub trait TagResolver {
    /// The addresses of `tag`'s members (the exact name as listed by `tag_names`), or
    /// `None` if there is no such tag.
    fn members(&self, tag: &str) -> Option<Vec<String>>;
    /// Every tag's name, the built-in Priority account tag included.
    fn tag_names(&self) -> Vec<String>;
}

/// Why a filter cannot run as KQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The field has no documented advanced-hunting column.
    #[error(
        "field `{field}` cannot run remotely: {reason}; run this filter on the local cache instead"
    )]
    NotRemote {
        /// The field's name.
        field: String,
        /// Why.
        reason: String,
    },
    /// The entity has no advanced-hunting table.
    #[error(
        "{entity} cannot be queried remotely: advanced hunting has no {entity} table; use the local cache"
    )]
    EntityNotRemote {
        /// The entity.
        entity: Entity,
    },
    /// A `tag:` value names no tag.
    #[error("unknown tag `{name}`{}; tags: {}", hint(.suggestion), .known.join(", "))]
    UnknownTag {
        /// The name as written.
        name: String,
        /// The closest tag name.
        suggestion: Option<String>,
        /// Every tag there is, so the analyst can pick one.
        known: Vec<String>,
    },
    /// A frequency or split column is not a documented column of the table.
    #[error("`{column}` is not a documented column of {table}{}", hint(.suggestion))]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column as given.
        column: String,
        /// The closest column.
        suggestion: Option<String>,
    },
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map_or(String::new(), |s| format!(", did you mean `{s}`?"))
}

/// Time buckets of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBin {
    /// `1h`.
    Hour,
    /// `1d`.
    Day,
}

impl TimeBin {
    fn span(self) -> &'static str {
        match self {
            TimeBin::Hour => "1h",
            TimeBin::Day => "1d",
        }
    }
}

/// A compiled filter: the table and its `where` conjuncts, rendered on demand as a row
/// query, a count, a frequency table, a histogram, or any of these in a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KqlQuery {
    /// The entity.
    pub entity: Entity,
    /// The advanced-hunting table the query reads.
    pub table: &'static str,
    /// Predicates AND-ed, one `| where` each.
    conjuncts: Vec<String>,
}

/// Compiles `filter` over `entity` into KQL, resolving tags with `tags` and relative
/// times against `now`.
pub fn compile(
    entity: Entity,
    filter: &Filter,
    tags: &dyn TagResolver,
    now: DateTime<Utc>,
) -> Result<KqlQuery, CompileError> {
    let table = match entity {
        Entity::Emails => "EmailEvents",
        Entity::Alerts => "AlertInfo",
        Entity::Campaigns => "CampaignInfo",
        Entity::Users => "IdentityInfo",
        Entity::Incidents | Entity::Posture | Entity::SignIns => {
            return Err(CompileError::EntityNotRemote { entity });
        }
    };
    let cx = terms::Cx { entity, tags, now };
    let k = match &filter.root {
        None => K::True,
        Some(e) => compile_expr(&cx, e)?,
    };
    let conjuncts = match k {
        K::True => Vec::new(),
        K::And(kids) => kids.iter().map(K::render).collect(),
        other => vec![other.render()],
    };
    Ok(KqlQuery {
        entity,
        table,
        conjuncts,
    })
}

fn compile_expr(cx: &terms::Cx, e: &Expr) -> Result<K, CompileError> {
    Ok(match e {
        Expr::And(kids) => K::and(
            kids.iter()
                .map(|k| compile_expr(cx, k))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(kids) => K::or(
            kids.iter()
                .map(|k| compile_expr(cx, k))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => K::not(compile_expr(cx, inner)?),
        Expr::Term(t) => terms::term(cx, t)?,
    })
}

impl KqlQuery {
    /// The `where` predicates, AND-ed (empty: every row).
    pub fn conjuncts(&self) -> &[String] {
        &self.conjuncts
    }

    /// `Table | where ...` — the filtered rows (campaigns: filtered `CampaignInfo` rows).
    pub fn filtered(&self) -> String {
        let mut out = self.table.to_string();
        for c in &self.conjuncts {
            out.push_str("\n| where ");
            out.push_str(c);
        }
        out
    }

    /// The rows of the entity. Campaigns are summarised to one row per campaign, with
    /// distinct messages and recipients (as `query::index::figures` counts them).
    pub fn rows(&self) -> String {
        match self.entity {
            Entity::Campaigns => format!(
                "{}\n| summarize Messages = dcount(NetworkMessageId), Recipients = dcount(RecipientEmailAddress), FirstSeen = min(Timestamp), LastSeen = max(Timestamp) by CampaignId, CampaignName, CampaignType, CampaignSubtype",
                self.filtered()
            ),
            _ => self.filtered(),
        }
    }

    /// One row, one column `Count`: how many entities match (campaigns and users are
    /// counted distinct by id).
    pub fn count(&self) -> String {
        match self.entity {
            Entity::Campaigns => format!("{}\n| distinct CampaignId\n| count", self.filtered()),
            Entity::Users => format!("{}\n| distinct AccountUpn\n| count", self.filtered()),
            _ => format!("{}\n| count", self.filtered()),
        }
    }

    /// `Count` of matching rows per value of `column`, most frequent first
    /// (campaigns: distinct campaigns per value).
    pub fn frequency(&self, column: &str) -> Result<String, CompileError> {
        let col = self.column(column)?;
        Ok(match self.entity {
            Entity::Campaigns => format!(
                "{}\n| distinct CampaignId, {col}\n| summarize Count = count() by {col}\n| order by Count desc",
                self.filtered()
            ),
            _ => format!(
                "{}\n| summarize Count = count() by {col}\n| order by Count desc",
                self.filtered()
            ),
        })
    }

    /// `Count` of matching rows per time bucket, optionally split by `split`.
    pub fn histogram(&self, bin: TimeBin, split: Option<&str>) -> Result<String, CompileError> {
        let by = match split {
            Some(c) => format!(", {}", self.column(c)?),
            None => String::new(),
        };
        Ok(format!(
            "{}\n| summarize Count = count() by bin(Timestamp, {}){by}\n| order by Timestamp asc",
            self.filtered(),
            bin.span()
        ))
    }

    /// The same query restricted to `from <= Timestamp < to`, so a caller can split a
    /// result that would exceed the service's row cap.
    pub fn window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> KqlQuery {
        let mut conjuncts = vec![format!(
            "Timestamp >= {} and Timestamp < {}",
            datetime(from),
            datetime(to)
        )];
        conjuncts.extend(self.conjuncts.iter().cloned());
        KqlQuery {
            entity: self.entity,
            table: self.table,
            conjuncts,
        }
    }

    fn column(&self, column: &str) -> Result<String, CompileError> {
        let cols = schema::columns(self.table).unwrap_or(&[]);
        match cols.iter().find(|c| c.eq_ignore_ascii_case(column)) {
            Some(c) => Ok((*c).to_string()),
            None => Err(CompileError::UnknownColumn {
                table: self.table.to_string(),
                column: column.to_string(),
                suggestion: crate::lang::error::closest(column, cols.iter().copied()),
            }),
        }
    }
}
