//! Incidents: severity, status, title, alerts, affected users with their tags
//! (priority accounts marked), owner, classification and last update. The cells are
//! the query layer's ([`IncidentItem::cell`]), so `whalewatch query incidents` prints
//! the same rows; the pane opens sorted by last update, newest first.

use chrono::{DateTime, Utc};

use super::{ColumnId, GridColumn, match_term};
use crate::data::Snapshot;
use whalewatch_query::Filter;
use whalewatch_query::index::IndexError;
use whalewatch_query::index::entities::{IncidentColumn, IncidentItem, PRIORITY_MARK};

/// An incident column (the query layer's).
pub type IncidentCol = IncidentColumn;

const fn col(c: IncidentCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Incident(c),
        title,
        min,
        max,
    }
}

/// The Incidents pane's columns (the id is in the flyout and `y` copies it).
pub const COLUMNS: &[GridColumn] = &[
    col(IncidentCol::Severity, "Severity", 8, 13),
    col(IncidentCol::Status, "Status", 6, 20),
    col(IncidentCol::Title, "Title", 24, 60),
    col(IncidentCol::Alerts, "Alerts", 6, 6),
    col(IncidentCol::Users, "Users", 16, 44),
    col(IncidentCol::Tags, "Tags", 4, 30),
    col(IncidentCol::Assigned, "Assigned to", 6, 28),
    col(IncidentCol::Classification, "Classification", 8, 34),
    col(IncidentCol::LastUpdate, "Last update", 19, 19),
];

/// Positions in the index (most recently updated first).
pub fn evaluate(
    data: &Snapshot,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<u32>, IndexError> {
    Ok(data
        .incidents
        .eval(filter, &data.tags, now)?
        .into_iter()
        .map(|i| i as u32)
        .collect())
}

/// The incident at `row`.
pub fn item(data: &Snapshot, row: u32) -> Option<&IncidentItem> {
    data.incidents.items.get(row as usize)
}

/// A cell's raw text; unconfirmed triage writes are shown in words in Status.
pub fn cell(data: &Snapshot, row: u32, c: IncidentCol) -> String {
    let Some(i) = item(data, row) else {
        return String::new();
    };
    let text = i.cell(c, &data.tags);
    match (c, data.pending_incidents.get(&i.incident.id)) {
        (IncidentCol::Status, Some(p)) => format!("{text} ({})", p.state.as_str()),
        _ => text,
    }
}

/// The incident id.
pub fn key(data: &Snapshot, row: u32) -> String {
    item(data, row).map_or(String::new(), |i| i.incident.id.clone())
}

/// The filter term for `value` in `c`.
pub fn term(c: IncidentCol, value: &str) -> Option<String> {
    let field = match c {
        IncidentCol::Severity => "severity",
        IncidentCol::Status => "status",
        IncidentCol::Title => "title",
        IncidentCol::Assigned => "assigned",
        IncidentCol::Classification if !value.contains('·') => "classification",
        IncidentCol::Users if !value.contains(',') => {
            let user = value.trim_start_matches(PRIORITY_MARK).trim();
            return Some(match_term("user", user));
        }
        IncidentCol::Tags if !value.contains(',') => "tag",
        _ => return None,
    };
    Some(match_term(field, value))
}
