//! The panes as data: which columns each has, which rows a filter selects, the
//! raw text of a cell, a stable key per row, sorting, and the filter term a cell's
//! value becomes when the analyst pivots on it. Views draw whatever these return
//! through the one generic table; `update` never needs to know which pane it is in.

pub mod accounts;
pub mod alerts;
pub mod campaigns;
pub mod emails;
pub mod incidents;
pub mod posture;
pub mod sign_ins;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::action::Pane;
use super::data::Snapshot;
use whalewatch_query::lang::Entity;
use whalewatch_query::{Filter, index};

/// A column of a pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColumnId {
    /// An email column: one of the index's, or one the console derives.
    Email(emails::EmailCol),
    Alert(alerts::AlertCol),
    Campaign(campaigns::CampaignCol),
    Account(accounts::AccountCol),
    Posture(posture::PostureCol),
    SignIn(sign_ins::SignInCol),
    Incident(incidents::IncidentCol),
}

/// A column with its title and width bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridColumn {
    pub id: ColumnId,
    pub title: &'static str,
    pub min: u16,
    pub max: u16,
}

impl GridColumn {
    /// For the generic table.
    pub fn table_column(&self) -> super::table::Column {
        super::table::Column {
            title: self.title,
            min: self.min,
            max: self.max,
        }
    }
}

/// The filter language's entity for a pane.
pub fn entity(pane: Pane) -> Entity {
    match pane {
        Pane::Alerts => Entity::Alerts,
        Pane::Emails => Entity::Emails,
        Pane::Campaigns => Entity::Campaigns,
        Pane::Accounts => Entity::Users,
        Pane::Posture => Entity::Posture,
        Pane::SignIns => Entity::SignIns,
        Pane::Incidents => Entity::Incidents,
    }
}

/// The columns a pane shows by default.
pub fn default_columns(pane: Pane) -> Vec<GridColumn> {
    match pane {
        Pane::Alerts => alerts::COLUMNS.to_vec(),
        Pane::Emails => emails::default_columns(),
        Pane::Campaigns => campaigns::COLUMNS.to_vec(),
        Pane::Accounts => accounts::COLUMNS.to_vec(),
        Pane::Posture => posture::COLUMNS.to_vec(),
        Pane::SignIns => sign_ins::COLUMNS.to_vec(),
        Pane::Incidents => incidents::COLUMNS.to_vec(),
    }
}

/// The sort a pane opens with (column index, descending), shown in the breadcrumb;
/// `None`: the pane's natural order.
pub fn default_sort(pane: Pane) -> Option<(usize, bool)> {
    match pane {
        Pane::Incidents => Some(incidents::DEFAULT_SORT),
        _ => None,
    }
}

/// The rows of `pane` that `filter` selects, in the pane's natural order (newest or
/// most important first). `Err` is a message for the status bar.
pub fn evaluate(
    pane: Pane,
    data: &Snapshot,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<u32>, String> {
    match pane {
        Pane::Alerts => alerts::evaluate(data, filter, now),
        Pane::Emails => emails::evaluate(data, filter, now),
        Pane::Campaigns => campaigns::evaluate(data, filter, now),
        Pane::Accounts => accounts::evaluate(data, filter),
        Pane::Posture => return posture::evaluate(data, filter),
        Pane::SignIns => return sign_ins::evaluate(data, filter),
        Pane::Incidents => incidents::evaluate(data, filter, now),
    }
    .map_err(|e| e.to_string())
}

/// The raw (unsanitised) text of a cell.
pub fn cell(data: &Snapshot, row: u32, col: ColumnId) -> String {
    match col {
        ColumnId::Email(c) => emails::cell(data, row, c),
        ColumnId::Alert(c) => alerts::cell(data, row, c),
        ColumnId::Campaign(c) => campaigns::cell(data, row, c),
        ColumnId::Account(c) => accounts::cell(data, row, c),
        ColumnId::Posture(c) => posture::cell(data, row, c),
        ColumnId::SignIn(c) => sign_ins::cell(data, row, c),
        ColumnId::Incident(c) => incidents::cell(data, row, c),
    }
}

/// A cell as it reads on screen (sanitised later by the table): JSON columns are
/// summarised; everything else is the raw text.
pub fn display(data: &Snapshot, row: u32, col: ColumnId) -> String {
    let raw = cell(data, row, col);
    match col {
        ColumnId::Email(c) => emails::display(c, &raw).unwrap_or(raw),
        _ => raw,
    }
}

/// A key that names the row across reloads (row positions change, keys do not).
pub fn key(pane: Pane, data: &Snapshot, row: u32) -> String {
    match pane {
        Pane::Alerts => alerts::key(data, row),
        Pane::Emails => emails::key(data, row),
        Pane::Campaigns => campaigns::key(data, row),
        Pane::Accounts => accounts::key(data, row),
        Pane::Posture => posture::key(data, row),
        Pane::SignIns => sign_ins::key(data, row),
        Pane::Incidents => incidents::key(data, row),
    }
}

/// The position in `rows` of the row named `key`.
pub fn find(pane: Pane, data: &Snapshot, rows: &[u32], key: &str) -> Option<usize> {
    if let (Pane::Emails, Some(ix)) = (pane, &data.emails) {
        let (nmid, recipient) = key.split_once('|')?;
        let row = ix.row_of(&index::RowKey {
            network_message_id: nmid.to_string(),
            recipient: recipient.to_string(),
        })? as u32;
        return rows.iter().position(|&r| r == row);
    }
    rows.iter().position(|&r| self::key(pane, data, r) == key)
}

/// Sorts `rows` by `col`.
pub fn sort(data: &Snapshot, rows: &mut Vec<u32>, col: ColumnId, descending: bool) {
    if let (ColumnId::Email(e), Some(ix)) = (col, &data.emails)
        && let Some(c) = e.index_column()
    {
        let set = index::Bitset::from_rows(ix.len(), rows.iter().copied());
        *rows = ix.sorted(
            &set,
            index::SortKey {
                column: c,
                descending,
            },
        );
        return;
    }
    // Small collections (and derived email columns): sort on the cell text, numbers
    // numerically.
    let cells: Vec<String> = rows.iter().map(|&r| cell(data, r, col)).collect();
    let order = whalewatch_query::records::sorted_order(cells.len(), |i| &cells[i], descending);
    *rows = order.into_iter().map(|i| rows[i]).collect();
}

/// The filter term that selects rows whose `col` is `value` (for `p` and
/// frequency-table bins); `None` when the column has no filter field.
pub fn term(col: ColumnId, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    match col {
        ColumnId::Email(c) => emails::term(c, value),
        ColumnId::Alert(c) => alerts::term(c, value),
        ColumnId::Campaign(c) => campaigns::term(c, value),
        ColumnId::Account(c) => accounts::term(c, value),
        ColumnId::Posture(c) => posture::term(c, value),
        ColumnId::SignIn(c) => sign_ins::term(c, value),
        ColumnId::Incident(c) => incidents::term(c, value),
    }
}

/// `field:value` in the filter language's own quoting.
pub fn match_term(field: &str, value: &str) -> String {
    let mut out = format!("{field}:");
    whalewatch_query::lang::print::value(&mut out, value);
    out
}

/// Formats ticks as a short UTC time for tables.
pub(crate) fn short_time(ticks: Option<i64>) -> String {
    ticks.map_or(String::new(), |t| {
        whalewatch_model::hunting::from_ticks(t)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    })
}

/// A short UTC time of an optional instant.
pub(crate) fn short_instant(t: Option<&DateTime<Utc>>) -> String {
    t.map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}
