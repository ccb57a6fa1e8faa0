//! Campaigns: name, type, subtype, sample subject, recipients, inboxed, clicked,
//! click rate, targeted priority accounts, first and last seen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term, short_time};
use crate::data::Snapshot;
use whalewatch_query::Filter;
use whalewatch_query::index::IndexError;

/// A campaign column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CampaignCol {
    Name,
    Type,
    Subtype,
    SampleSubject,
    Messages,
    Recipients,
    Inboxed,
    Clicked,
    ClickRate,
    Priority,
    FirstSeen,
    LastSeen,
}

const fn col(c: CampaignCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Campaign(c),
        title,
        min,
        max,
    }
}

/// The campaign list's columns.
pub const COLUMNS: &[GridColumn] = &[
    col(CampaignCol::Name, "Name", 20, 36),
    col(CampaignCol::Type, "Type", 4, 8),
    col(CampaignCol::Subtype, "Subtype", 6, 20),
    col(CampaignCol::SampleSubject, "Sample subject", 14, 48),
    col(CampaignCol::Messages, "Messages", 8, 8),
    col(CampaignCol::Recipients, "Recipients", 10, 10),
    col(CampaignCol::Inboxed, "Inboxed", 7, 7),
    col(CampaignCol::Clicked, "Clicked", 7, 7),
    col(CampaignCol::ClickRate, "Click rate", 10, 10),
    col(CampaignCol::Priority, "Priority accts", 14, 14),
    col(CampaignCol::FirstSeen, "First seen", 16, 16),
    col(CampaignCol::LastSeen, "Last seen", 16, 16),
];

/// Positions in the index (most recently seen first).
pub fn evaluate(
    data: &Snapshot,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<Vec<u32>, IndexError> {
    Ok(data
        .campaigns
        .eval(filter, &data.tags, now)?
        .into_iter()
        .map(|i| i as u32)
        .collect())
}

/// A cell's raw text; the figures that need the email index are empty until it is
/// ready.
pub fn cell(data: &Snapshot, row: u32, c: CampaignCol) -> String {
    let Some(k) = data.campaigns.campaigns.get(row as usize) else {
        return String::new();
    };
    let st = data.campaign_stats.get(row as usize);
    let fig = |f: fn(&crate::data::CampaignStats) -> usize| {
        st.map_or(String::new(), |s| f(s).to_string())
    };
    match c {
        CampaignCol::Name => k.name.clone(),
        CampaignCol::Type => k.kind.clone(),
        CampaignCol::Subtype => k.subtype.clone(),
        CampaignCol::SampleSubject => st.map_or(String::new(), |s| s.sample_subject.clone()),
        CampaignCol::Messages => k.messages.to_string(),
        CampaignCol::Recipients => k.recipients.to_string(),
        CampaignCol::Inboxed => fig(|s| s.inboxed),
        CampaignCol::Clicked => fig(|s| s.clicked),
        CampaignCol::ClickRate => st.map_or(String::new(), |s| {
            let total = (s.inboxed).max(1);
            format!("{:.1}%", s.clicked as f64 * 100.0 / total as f64)
        }),
        CampaignCol::Priority => fig(|s| s.priority),
        CampaignCol::FirstSeen => short_time(Some(k.first)),
        CampaignCol::LastSeen => short_time(Some(k.last)),
    }
}

/// The campaign id.
pub fn key(data: &Snapshot, row: u32) -> String {
    data.campaigns
        .campaigns
        .get(row as usize)
        .map_or(String::new(), |c| c.id.clone())
}

/// The filter term for `value` in `c`.
pub fn term(c: CampaignCol, value: &str) -> Option<String> {
    let field = match c {
        CampaignCol::Name => "name",
        CampaignCol::Type => "type",
        CampaignCol::Subtype => "subtype",
        _ => return None,
    };
    Some(match_term(field, value))
}
