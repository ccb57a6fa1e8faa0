//! The panes as data: which columns each has, which rows a filter selects, the
//! raw text of a cell, a stable key per row, sorting, and the filter term a cell's
//! value becomes when the analyst pivots on it. Views draw whatever these return
//! through the one generic table; `update` never needs to know which pane it is in.

pub mod accounts;
pub mod alerts;
pub mod campaigns;
pub mod clicks;
pub mod emails;
pub mod incidents;
pub mod posture;
pub mod sign_ins;
pub mod urls;

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
    Url(urls::UrlCol),
    Click(clicks::ClickCol),
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

/// How much a column matters on a narrow terminal: lower numbers stay longest. The
/// columns that identify a row and its verdict come first (date, subject, recipient,
/// threat for mail, as Threat Explorer's narrow layout keeps them); a column not
/// listed ranks after these, in its order on screen.
pub fn priority(id: ColumnId) -> Option<u8> {
    use emails::EmailCol as E;
    use whalewatch_query::index::schema as s;
    Some(match id {
        ColumnId::Email(E::Time) => 0,
        ColumnId::Email(E::Str(s::SUBJECT)) => 1,
        ColumnId::Email(E::Str(s::RECIPIENT)) => 2,
        ColumnId::Email(E::Str(s::THREATS)) => 3,
        ColumnId::Email(E::Str(s::FROM)) => 4,
        ColumnId::Email(E::Str(s::LOCATION)) => 5,
        ColumnId::Email(E::Tags) => 6,
        ColumnId::Email(E::Str(s::SENDER_DOMAIN)) => 7,
        ColumnId::Email(E::AdditionalActions) => 8,
        ColumnId::Email(E::Str(s::DELIVERY)) => 9,
        ColumnId::Alert(alerts::AlertCol::Severity) => 0,
        ColumnId::Alert(alerts::AlertCol::Title) => 1,
        ColumnId::Alert(alerts::AlertCol::Status) => 2,
        ColumnId::Alert(alerts::AlertCol::Users) => 3,
        ColumnId::Alert(alerts::AlertCol::LastActivity) => 4,
        ColumnId::Alert(alerts::AlertCol::Tags) => 5,
        ColumnId::Alert(alerts::AlertCol::Assigned) => 6,
        ColumnId::Campaign(campaigns::CampaignCol::Name) => 0,
        ColumnId::Campaign(campaigns::CampaignCol::Recipients) => 1,
        ColumnId::Campaign(campaigns::CampaignCol::Clicked) => 2,
        ColumnId::Campaign(campaigns::CampaignCol::Priority) => 3,
        ColumnId::Campaign(campaigns::CampaignCol::ClickRate) => 4,
        ColumnId::Campaign(campaigns::CampaignCol::LastSeen) => 5,
        _ => return None,
    })
}

/// A figure whose data is still loading (never a blank or a zero that reads as
/// "none").
pub const PENDING: &str = "…";

/// What `pane` still waits for, in words for the breadcrumb and the empty grid
/// (`None`: everything it shows is loaded). The first frame has the newest alerts
/// and mail only; the index and the rest (alerts, campaigns, users, incidents,
/// posture) follow in either order.
pub fn loading(pane: Pane, data: &Snapshot) -> Option<String> {
    let quick = !data.complete;
    let index = data.emails.is_none();
    Some(match pane {
        Pane::Alerts if quick => format!(
            "loading alerts… (showing the newest {})",
            data.alerts.items.len()
        ),
        Pane::Emails if index => format!(
            "indexing the mail… (showing the newest {})",
            data.preview.len()
        ),
        Pane::Urls | Pane::Clicks if index => "indexing the mail…".into(),
        Pane::Campaigns if quick => "loading campaigns…".into(),
        Pane::Accounts if quick => "loading users…".into(),
        Pane::Posture if quick => "loading posture…".into(),
        Pane::SignIns if quick => "loading sign-ins…".into(),
        Pane::Incidents if quick => "loading incidents…".into(),
        Pane::Campaigns
            if index
                || (data.campaign_stats.is_empty() && !data.campaigns.campaigns.is_empty()) =>
        {
            "indexing the mail… (figures follow)".into()
        }
        Pane::Accounts | Pane::Posture if data.recipients.is_none() => {
            "indexing the mail… (mail figures follow)".into()
        }
        _ => return None,
    })
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
        // Top URLs and clicks are views of the mail: email filters.
        Pane::Urls | Pane::Clicks => Entity::Emails,
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
        Pane::Urls => urls::COLUMNS.to_vec(),
        Pane::Clicks => clicks::COLUMNS.to_vec(),
        Pane::Incidents => incidents::COLUMNS.to_vec(),
    }
}

/// The order a pane's rows come in before the analyst sorts them (`o`/`O`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaturalOrder {
    /// The column the order follows, when it is one (its header shows the arrow).
    pub column: Option<ColumnId>,
    pub descending: bool,
    /// The order in words, for the breadcrumb.
    pub words: &'static str,
}

/// How [`evaluate`] orders `pane`'s rows.
pub fn natural_order(pane: Pane) -> NaturalOrder {
    let by = |column, words| NaturalOrder {
        column: Some(column),
        descending: true,
        words,
    };
    match pane {
        Pane::Alerts => by(
            ColumnId::Alert(alerts::AlertCol::LastActivity),
            "newest activity first",
        ),
        Pane::Emails => by(ColumnId::Email(emails::EmailCol::Time), "newest first"),
        Pane::Campaigns => by(
            ColumnId::Campaign(campaigns::CampaignCol::LastSeen),
            "last seen first",
        ),
        Pane::Accounts => NaturalOrder {
            column: None,
            descending: false,
            words: "priority accounts first, then by user",
        },
        Pane::Posture => NaturalOrder {
            column: None,
            descending: true,
            words: "worst first",
        },
        Pane::SignIns => by(ColumnId::SignIn(sign_ins::SignInCol::Time), "newest first"),
        Pane::Urls => by(ColumnId::Url(urls::UrlCol::Messages), "most messages first"),
        Pane::Clicks => by(ColumnId::Click(clicks::ClickCol::Time), "newest first"),
        Pane::Incidents => by(
            ColumnId::Incident(incidents::IncidentCol::LastUpdate),
            "newest update first",
        ),
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
        Pane::Urls => return urls::evaluate(data, filter, now),
        Pane::Clicks => return clicks::evaluate(data, filter, now),
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
        ColumnId::Url(c) => urls::cell(data, row, c),
        ColumnId::Click(c) => clicks::cell(data, row, c),
        ColumnId::Incident(c) => incidents::cell(data, row, c),
    }
}

/// A cell as an export writes it: [`cell`], except times, which keep their full
/// precision as `query` writes them (`2026-10-31T23:21:07.0000000Z`) where the grid
/// shows minutes.
pub fn export_cell(data: &Snapshot, row: u32, col: ColumnId) -> String {
    use whalewatch_model::time::format_datetime;
    let full = |t: Option<&DateTime<Utc>>| t.map_or(String::new(), format_datetime);
    let r = row as usize;
    match col {
        ColumnId::Alert(c @ (alerts::AlertCol::FirstActivity | alerts::AlertCol::LastActivity)) => {
            data.alerts.items.get(r).map_or(String::new(), |a| {
                full(if c == alerts::AlertCol::FirstActivity {
                    a.alert.first_activity_date_time.as_ref()
                } else {
                    a.alert.last_activity_date_time.as_ref()
                })
            })
        }
        ColumnId::Campaign(
            c @ (campaigns::CampaignCol::FirstSeen | campaigns::CampaignCol::LastSeen),
        ) => data.campaigns.campaigns.get(r).map_or(String::new(), |k| {
            let t = if c == campaigns::CampaignCol::FirstSeen {
                k.first
            } else {
                k.last
            };
            format_datetime(&whalewatch_model::hunting::from_ticks(t))
        }),
        ColumnId::SignIn(sign_ins::SignInCol::Time) => data
            .posture
            .sources
            .sign_ins
            .get(r)
            .map_or(String::new(), |s| full(s.created_date_time.as_ref())),
        _ => cell(data, row, col),
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
        Pane::Urls => urls::key(data, row),
        Pane::Clicks => clicks::key(data, row),
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

/// How many of `marks` (row keys) are rows of `rows` — the rest are marked rows
/// the view no longer shows.
pub fn marks_shown(
    pane: Pane,
    data: &Snapshot,
    rows: &[u32],
    marks: &std::collections::BTreeSet<String>,
) -> usize {
    if marks.is_empty() {
        return 0;
    }
    if let (Pane::Emails, Some(ix)) = (pane, &data.emails) {
        let wanted: std::collections::HashSet<u32> = marks
            .iter()
            .filter_map(|k| {
                let (nmid, recipient) = k.split_once('|')?;
                ix.row_of(&index::RowKey {
                    network_message_id: nmid.to_string(),
                    recipient: recipient.to_string(),
                })
                .map(|r| r as u32)
            })
            .collect();
        return rows.iter().filter(|r| wanted.contains(r)).count();
    }
    rows.iter()
        .filter(|&&r| marks.contains(&key(pane, data, r)))
        .count()
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
        ColumnId::Url(c) => urls::term(c, value),
        ColumnId::Click(c) => clicks::term(c, value),
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
