//! The alert queue: severity, status, title, category, affected users with their
//! tags, activity times, assignee and classification.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term, short_instant};
use crate::data::Snapshot;
use whalewatch_query::Filter;
use whalewatch_query::index::IndexError;
use whalewatch_query::index::entities::AlertItem;

/// An alert column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertCol {
    Severity,
    Status,
    Title,
    Category,
    Users,
    Tags,
    FirstActivity,
    LastActivity,
    Assigned,
    Classification,
    Incident,
}

const fn col(c: AlertCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Alert(c),
        title,
        min,
        max,
    }
}

/// The alert queue's columns.
pub const COLUMNS: &[GridColumn] = &[
    col(AlertCol::Severity, "Severity", 8, 13),
    col(AlertCol::Status, "Status", 6, 12),
    col(AlertCol::Title, "Title", 28, 64),
    col(AlertCol::Category, "Category", 8, 22),
    col(AlertCol::Users, "Users", 16, 40),
    col(AlertCol::Tags, "Tags", 4, 30),
    col(AlertCol::FirstActivity, "First activity", 16, 16),
    col(AlertCol::LastActivity, "Last activity", 16, 16),
    col(AlertCol::Assigned, "Assigned to", 6, 28),
    col(AlertCol::Classification, "Classification", 8, 22),
    col(AlertCol::Incident, "Incident", 4, 10),
];

/// Positions in the index, newest activity first (then most recently updated; alerts
/// without an activity time last) — the queue's order, as the header says.
pub fn evaluate(
    data: &Snapshot,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<u32>, IndexError> {
    let mut rows: Vec<u32> = data
        .alerts
        .eval(filter, &data.tags, now)?
        .into_iter()
        .map(|i| i as u32)
        .collect();
    rows.sort_by_key(|&r| {
        item(data, r).map(|a| {
            std::cmp::Reverse((
                a.alert.last_activity_date_time,
                a.alert.last_update_date_time,
            ))
        })
    });
    Ok(rows)
}

fn item(data: &Snapshot, row: u32) -> Option<&AlertItem> {
    data.alerts.items.get(row as usize)
}

/// The tags of the accounts an alert affects, each once, in tag order.
pub fn tags_of(data: &Snapshot, a: &AlertItem) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for acc in &a.accounts {
        for t in data.tags.tags_of(acc) {
            if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    let order: Vec<&str> = data.tags.names().collect();
    out.sort_by_key(|t| order.iter().position(|o| o == t));
    out
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: AlertCol) -> String {
    let Some(a) = item(data, row) else {
        return String::new();
    };
    let al = &a.alert;
    let s = |v: Option<&str>| v.unwrap_or("").to_string();
    match c {
        AlertCol::Severity => s(al.severity.as_ref().map(|x| x.as_str())),
        AlertCol::Status => {
            let status = s(al.status.as_ref().map(|x| x.as_str()));
            // Unconfirmed writes are shown in words, not only in colour.
            match data.pending.get(&al.id) {
                Some(p) => format!("{status} ({})", p.state.as_str()),
                None => status,
            }
        }
        AlertCol::Title => al.title.clone(),
        AlertCol::Category => s(al.category.as_deref()),
        AlertCol::Users => a.accounts.join(", "),
        AlertCol::Tags => tags_of(data, a).join(", "),
        AlertCol::FirstActivity => short_instant(al.first_activity_date_time.as_ref()),
        AlertCol::LastActivity => short_instant(al.last_activity_date_time.as_ref()),
        AlertCol::Assigned => s(al.assigned_to.as_deref()),
        AlertCol::Classification => s(al.classification.as_ref().map(|x| x.as_str())),
        AlertCol::Incident => s(al.incident_id.as_deref()),
    }
}

/// The alert id.
pub fn key(data: &Snapshot, row: u32) -> String {
    item(data, row).map_or(String::new(), |a| a.alert.id.clone())
}

/// The filter term for `value` in `c`.
pub fn term(c: AlertCol, value: &str) -> Option<String> {
    let field = match c {
        AlertCol::Severity => "severity",
        AlertCol::Status => "status",
        AlertCol::Title => "title",
        AlertCol::Category => "category",
        AlertCol::Assigned => "assigned",
        AlertCol::Classification => "classification",
        AlertCol::Users if !value.contains(',') => "user",
        AlertCol::Tags if !value.contains(',') => "tag",
        AlertCol::Incident => return Some(format!("incident:{}", value.trim())),
        _ => return None,
    };
    Some(match_term(field, value))
}
