//! Top URLs (Threat Explorer's tab): one row per URL of the mail the filter selects,
//! with the figures `EmailIndex::top_urls` computes for that mail. The filter is an
//! email filter (`:urls threat:phish since:7d`), as in `whalewatch query urls`.
//!
//! The figures depend on the filter, so each evaluation's table is kept in
//! [`UrlTables`] (part of the snapshot, dropped with it) and a row names its table
//! and position: cells are read back without recomputing, and two URL views with
//! different filters never share figures. A table keeps codes and counts
//! (`UrlCounts`); the URL and domain are read from the index when a cell is drawn.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, match_term, short_time};
use crate::data::Snapshot;
use whalewatch_query::Filter;
use whalewatch_query::index::urls::UrlCounts;

/// A Top URLs column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UrlCol {
    Url,
    Domain,
    Messages,
    Recipients,
    Clicks,
    Blocked,
    ClickedThrough,
    FirstSeen,
    LastSeen,
}

const fn col(c: UrlCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Url(c),
        title,
        min,
        max,
    }
}

/// The Top URLs columns, in Threat Explorer's order.
pub const COLUMNS: &[GridColumn] = &[
    col(UrlCol::Url, "URL", 24, 70),
    col(UrlCol::Domain, "Domain", 10, 30),
    col(UrlCol::Messages, "Messages", 8, 8),
    col(UrlCol::Recipients, "Recipients", 10, 10),
    col(UrlCol::Clicks, "Clicks", 6, 6),
    col(UrlCol::Blocked, "Blocked", 7, 7),
    col(UrlCol::ClickedThrough, "Clicked through", 15, 15),
    col(UrlCol::FirstSeen, "First seen", 16, 16),
    col(UrlCol::LastSeen, "Last seen", 16, 16),
];

/// Positions below this many rows per table; a row is `table << 24 | position`.
const SHIFT: u32 = 24;
/// Tables kept per snapshot (each is one row per URL: memory stays bounded).
const KEEP: usize = 16;

/// The Top URLs tables computed for this snapshot's views, by filter.
#[derive(Debug, Default)]
pub struct UrlTables {
    tables: Mutex<Vec<(String, Arc<Vec<UrlCounts>>)>>,
}

impl UrlTables {
    /// The table for `filter` (its printed form names it): an earlier one, or
    /// `compute`'s, stored. `None` when the table cannot be numbered in a row.
    fn table_for(
        &self,
        filter: &str,
        compute: impl FnOnce() -> Vec<UrlCounts>,
    ) -> Option<(u32, Arc<Vec<UrlCounts>>)> {
        let mut g = self.tables.lock().ok()?;
        if let Some(i) = g.iter().position(|(f, _)| f == filter) {
            return Some((i as u32, g[i].1.clone()));
        }
        let t = Arc::new(compute());
        if t.len() >= 1 << SHIFT {
            return None;
        }
        if g.len() >= KEEP {
            // Start over. Only the view being evaluated is shown; every other view
            // is evaluated again before it is (`back` and pane switches re-run the
            // filter), so no row of a dropped table is ever drawn.
            g.clear();
        }
        g.push((filter.to_string(), t.clone()));
        Some(((g.len() - 1) as u32, t))
    }

    /// The URL at `row`.
    fn get(&self, row: u32) -> Option<UrlCounts> {
        let g = self.tables.lock().ok()?;
        let (_, t) = g.get((row >> SHIFT) as usize)?;
        t.get((row & ((1 << SHIFT) - 1)) as usize).cloned()
    }
}

/// The rows of the Top URLs table over the mail `filter` selects, most messages first.
pub fn evaluate(data: &Snapshot, filter: &Filter, now: DateTime<Utc>) -> Result<Vec<u32>, String> {
    let Some(ix) = &data.emails else {
        return Err(
            "the email index is still being built; Top URLs follow when it is ready".into(),
        );
    };
    let rows = ix.eval(filter, now).map_err(|e| e.to_string())?;
    let key = whalewatch_query::lang::print(filter);
    let (t, table) = data
        .url_tables
        .table_for(&key, || ix.top_url_counts(&rows))
        .ok_or("too many URLs to list; narrow the filter")?;
    Ok((0..table.len() as u32).map(|i| t << SHIFT | i).collect())
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: UrlCol) -> String {
    // The tables are dropped with the index they name (`Snapshot::with_emails`).
    let (Some(ix), Some(counts)) = (&data.emails, data.url_tables.get(row)) else {
        return String::new();
    };
    let u = ix.url_stats(&counts);
    match c {
        UrlCol::Url => u.url,
        UrlCol::Domain => u.domain,
        UrlCol::Messages => u.messages.to_string(),
        UrlCol::Recipients => u.recipients.to_string(),
        UrlCol::Clicks => u.clicks.to_string(),
        UrlCol::Blocked => u.blocked.to_string(),
        UrlCol::ClickedThrough => u.clicked_through.to_string(),
        UrlCol::FirstSeen => short_time(Some(u.first_seen)),
        UrlCol::LastSeen => short_time(Some(u.last_seen)),
    }
}

/// The URL itself.
pub fn key(data: &Snapshot, row: u32) -> String {
    cell(data, row, UrlCol::Url)
}

/// The email filter term for `value` in `c` (pivots stay email filters).
pub fn term(c: UrlCol, value: &str) -> Option<String> {
    match c {
        UrlCol::Url => Some(match_term("url", value)),
        UrlCol::Domain => Some(match_term("url-domain", value)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: u32) -> UrlCounts {
        UrlCounts {
            url: u,
            domain: 0,
            messages: 1,
            recipients: 1,
            clicks: 0,
            blocked: 0,
            clicked_through: 0,
            first_seen: 0,
            last_seen: 0,
        }
    }

    #[test]
    fn each_filter_keeps_its_table_and_a_row_names_table_and_position() {
        let t = UrlTables::default();
        let (a, _) = t.table_for("threat:phish", || vec![url(1)]).unwrap();
        let (b, _) = t.table_for("", || vec![url(2), url(3)]).unwrap();
        let (again, _) = t
            .table_for("threat:phish", || panic!("computed twice"))
            .unwrap();
        assert_eq!(a, again);
        assert_ne!(a, b);
        assert_eq!(t.get(b << SHIFT | 1).map(|u| u.url), Some(3));
        assert_eq!(t.get(a << SHIFT).map(|u| u.url), Some(1));
        assert_eq!(t.get(a << SHIFT | 1), None);
    }
}
