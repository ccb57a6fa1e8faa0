//! Accounts: directory users with their tags and what reached them — priority
//! accounts first.

use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, PENDING, match_term};
use crate::data::Snapshot;
use whalewatch_config::PRIORITY_ACCOUNT;
use whalewatch_query::Filter;
use whalewatch_query::index::IndexError;
use whalewatch_query::index::entities::UserItem;
use whalewatch_query::index::text::fold;

/// An account column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountCol {
    Upn,
    Name,
    Department,
    JobTitle,
    Tags,
    Mail,
    Threats,
    Clicks,
    Alerts,
}

const fn col(c: AccountCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Account(c),
        title,
        min,
        max,
    }
}

/// The account list's columns.
pub const COLUMNS: &[GridColumn] = &[
    col(AccountCol::Upn, "User", 12, 40),
    col(AccountCol::Name, "Name", 8, 28),
    col(AccountCol::Department, "Department", 6, 20),
    col(AccountCol::JobTitle, "Job title", 6, 28),
    col(AccountCol::Tags, "Tags", 4, 40),
    col(AccountCol::Mail, "Mail", 5, 8),
    col(AccountCol::Threats, "Threats", 7, 8),
    col(AccountCol::Clicks, "Clicks", 6, 7),
    col(AccountCol::Alerts, "Alerts", 6, 7),
];

fn is_priority(u: &UserItem) -> bool {
    u.tags
        .iter()
        .any(|t| t.eq_ignore_ascii_case(PRIORITY_ACCOUNT))
}

/// Positions in the index, priority accounts first, then by sign-in name.
pub fn evaluate(data: &Snapshot, filter: &Filter) -> Result<Vec<u32>, IndexError> {
    let mut rows: Vec<u32> = data
        .users
        .eval(filter, &data.tags)?
        .into_iter()
        .map(|i| i as u32)
        .collect();
    rows.sort_by_cached_key(|&r| {
        let u = &data.users.items[r as usize];
        (!is_priority(u), key_of(u))
    });
    Ok(rows)
}

fn key_of(u: &UserItem) -> String {
    u.user
        .user_principal_name
        .clone()
        .unwrap_or_else(|| u.user.id.clone())
}

/// The folded address mail reaches the user at.
pub fn address(u: &UserItem) -> String {
    fold(
        u.user
            .mail
            .as_deref()
            .or(u.user.user_principal_name.as_deref())
            .unwrap_or(""),
    )
    .into_owned()
}

/// Alerts whose affected accounts include the user.
pub fn alert_count(data: &Snapshot, u: &UserItem) -> usize {
    let upn = fold(u.user.user_principal_name.as_deref().unwrap_or("")).into_owned();
    let addr = address(u);
    let mut alerts: Vec<u32> = [upn, addr]
        .iter()
        .flat_map(|a| data.account_alerts.get(a).into_iter().flatten().copied())
        .collect();
    alerts.sort_unstable();
    alerts.dedup();
    alerts.len()
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: AccountCol) -> String {
    let Some(u) = data.users.items.get(row as usize) else {
        return String::new();
    };
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let fig = |f: fn(&crate::data::RecipientStats) -> usize| match &data.recipients {
        Some(r) => r.get(&address(u)).map_or(0, f).to_string(),
        None => PENDING.into(),
    };
    match c {
        AccountCol::Upn => s(&u.user.user_principal_name),
        AccountCol::Name => s(&u.user.display_name),
        AccountCol::Department => s(&u.user.department),
        AccountCol::JobTitle => s(&u.user.job_title),
        AccountCol::Tags => u.tags.join(", "),
        AccountCol::Mail => fig(|s| s.mail),
        AccountCol::Threats => fig(|s| s.threats),
        AccountCol::Clicks => fig(|s| s.clicks),
        // The first frame's newest alerts would undercount.
        AccountCol::Alerts if !data.complete => PENDING.into(),
        AccountCol::Alerts => alert_count(data, u).to_string(),
    }
}

/// The user principal name.
pub fn key(data: &Snapshot, row: u32) -> String {
    data.users
        .items
        .get(row as usize)
        .map_or(String::new(), key_of)
}

/// The filter term for `value` in `c`.
pub fn term(c: AccountCol, value: &str) -> Option<String> {
    let field = match c {
        AccountCol::Upn => "upn",
        AccountCol::Department => "department",
        AccountCol::JobTitle => "job-title",
        AccountCol::Tags if !value.contains(',') => "tag",
        _ => return None,
    };
    Some(match_term(field, value))
}
