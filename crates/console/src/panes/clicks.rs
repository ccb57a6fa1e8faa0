//! Top clicks (Threat Explorer's tab, and its "URL clicks" view): one row per URL
//! click by a recipient of the mail the filter selects, newest first, from the
//! click table the email index holds (`EmailIndex::click_entries`). The filter is an
//! email filter, as in `whalewatch query clicks`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term, short_time};
use crate::data::Snapshot;
use whalewatch_query::Filter;

/// A Top clicks column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClickCol {
    Time,
    Account,
    Tags,
    Url,
    Action,
    Verdict,
    ClickedThrough,
    Workload,
    Ip,
}

const fn col(c: ClickCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Click(c),
        title,
        min,
        max,
    }
}

/// The Top clicks columns.
pub const COLUMNS: &[GridColumn] = &[
    col(ClickCol::Time, "Time", 16, 16),
    col(ClickCol::Account, "Account", 16, 34),
    col(ClickCol::Tags, "Tags", 4, 24),
    col(ClickCol::Url, "URL", 24, 60),
    col(ClickCol::Action, "Action", 12, 26),
    col(ClickCol::Verdict, "Verdict", 7, 12),
    col(ClickCol::ClickedThrough, "Clicked through", 15, 15),
    col(ClickCol::Workload, "Workload", 8, 8),
    col(ClickCol::Ip, "IP", 7, 39),
];

/// Positions in the index's click table, newest first.
pub fn evaluate(data: &Snapshot, filter: &Filter, now: DateTime<Utc>) -> Result<Vec<u32>, String> {
    let Some(ix) = &data.emails else {
        return Err("the email index is still being built; clicks follow when it is ready".into());
    };
    let rows = ix.eval(filter, now).map_err(|e| e.to_string())?;
    Ok(ix
        .click_entries(&rows)
        .into_iter()
        .map(|c| c as u32)
        .collect())
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: ClickCol) -> String {
    let Some(k) = data.emails.as_ref().and_then(|ix| ix.click(row as usize)) else {
        return String::new();
    };
    match c {
        ClickCol::Time => short_time(Some(k.time)),
        ClickCol::Account => k.account,
        ClickCol::Tags => data.tags.tags_of(&k.account).join(", "),
        ClickCol::Url => k.url,
        ClickCol::Action => k.action,
        ClickCol::Verdict => k.verdict,
        ClickCol::ClickedThrough => if k.clicked_through { "yes" } else { "no" }.into(),
        ClickCol::Workload => k.workload,
        ClickCol::Ip => k.ip,
    }
}

/// Time, account and URL: the same click after a reload.
pub fn key(data: &Snapshot, row: u32) -> String {
    data.emails
        .as_ref()
        .and_then(|ix| ix.click(row as usize))
        .map_or(String::new(), |k| {
            format!("{}|{}|{}", k.time, k.account, k.url)
        })
}

/// The message and recipient a click came from, as an email filter.
pub fn email_filter(data: &Snapshot, row: u32) -> Option<String> {
    let ix = data.emails.as_ref()?;
    let k = ix.click(row as usize)?;
    let key = ix.key(k.row);
    Some(format!(
        "{} {}",
        match_term("nmid", &key.network_message_id),
        match_term("to", &key.recipient)
    ))
}

/// The email filter term for `value` in `c`.
pub fn term(c: ClickCol, value: &str) -> Option<String> {
    match c {
        ClickCol::Account => Some(match_term("to", value)),
        ClickCol::Url => Some(match_term("url", value)),
        ClickCol::Action => Some(match_term("click-verdict", value)),
        _ => None,
    }
}
