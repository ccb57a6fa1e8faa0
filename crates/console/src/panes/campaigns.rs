//! Campaigns: name, type, subtype, sample subject, messages, recipients, inboxed,
//! clicked, clicked through, click rate, targeted priority accounts, targeted %,
//! first and last seen. Every figure is `query::index::figures` (one definition for
//! the pane, the flyout and the CLI), narrowed to the session's tag and the
//! filter's `tag:` terms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, PENDING, match_term, short_time};
use crate::data::Snapshot;
use whalewatch_query::Filter;
use whalewatch_query::index::IndexError;
use whalewatch_query::index::figures::CampaignFigures;

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
    ClickedThrough,
    ClickRate,
    Priority,
    Targeted,
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
    col(CampaignCol::ClickedThrough, "Clicked through", 15, 15),
    col(CampaignCol::ClickRate, "Click rate", 10, 10),
    col(CampaignCol::Priority, "Priority accts", 14, 14),
    col(CampaignCol::Targeted, "Targeted", 8, 8),
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

/// A cell's raw text; the figures (which need the email index and the campaigns)
/// read `…` until both are loaded — never a blank or a zero that looks like one.
pub fn cell(data: &Snapshot, row: u32, c: CampaignCol) -> String {
    let Some(k) = data.campaigns.campaigns.get(row as usize) else {
        return String::new();
    };
    let st = data.campaign_stats.get(row as usize);
    let fig = |f: fn(&CampaignFigures) -> usize| st.map_or(PENDING.into(), |s| f(s).to_string());
    match c {
        CampaignCol::Name => k.name.clone(),
        CampaignCol::Type => k.kind.clone(),
        CampaignCol::Subtype => k.subtype.clone(),
        CampaignCol::SampleSubject => st.map_or(PENDING.into(), |s| s.sample_subject.clone()),
        CampaignCol::Messages => fig(|s| s.messages),
        CampaignCol::Recipients => fig(|s| s.recipients),
        CampaignCol::Inboxed => fig(|s| s.inboxed),
        CampaignCol::Clicked => fig(|s| s.clicked),
        CampaignCol::ClickedThrough => fig(|s| s.clicked_through),
        CampaignCol::ClickRate => st.map_or(PENDING.into(), |s| {
            CampaignFigures::percent_text(s.click_rate())
        }),
        CampaignCol::Priority => fig(|s| s.priority),
        CampaignCol::Targeted => st.map_or(PENDING.into(), |s| {
            CampaignFigures::percent_text(s.targeted_percent())
        }),
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
