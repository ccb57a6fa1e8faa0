//! Threat Explorer's **Top URLs** and **Top clicks** tabs over an email result: every
//! figure of both tables is computed here, once, for the CLI (`whalewatch query
//! urls|clicks`) and the console (`:urls`, `:clicks`) alike.
//!
//! - A URL row counts, over the result's rows: the messages carrying the URL
//!   (`EmailUrlInfo`, by `NetworkMessageId`; a URL found twice in one message counts
//!   once), their recipients (result rows of those messages), the clicks on it by
//!   those recipients (`UrlClickEvents` joined by message and account), the blocked
//!   ones (`ActionType` `ClickBlocked…`), the clicked-through ones
//!   (`IsClickedThrough`), and when the first and last of those messages arrived.
//! - A click row is one `UrlClickEvents` row whose message and account are a row of
//!   the result, newest first. Clicks on mail that is not cached have no row to join
//!   to and are not listed.

use super::EmailIndex;
use super::RowSet;
use super::schema as s;
use super::side::click_col;

/// One row of the Top URLs table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UrlStats {
    /// The URL (untrusted text).
    pub url: String,
    /// Its domain (`UrlDomain`).
    pub domain: String,
    /// Messages of the result carrying it.
    pub messages: usize,
    /// Result rows (message × recipient) of those messages.
    pub recipients: usize,
    /// Clicks on it by those recipients.
    pub clicks: usize,
    /// Clicks Safe Links blocked (`ActionType` starts with `ClickBlocked`).
    pub blocked: usize,
    /// Clicks that went past the warning page (`IsClickedThrough`).
    pub clicked_through: usize,
    /// Arrival of the first message carrying it, in ticks.
    pub first_seen: i64,
    /// Arrival of the last one, in ticks.
    pub last_seen: i64,
}

/// One row of the Top URLs table as codes and counts: [`UrlStats`] without its
/// strings, which the index's dictionaries hold ([`EmailIndex::url_stats`] reads
/// them). What a view keeps: a fraction of the strings' size per URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlCounts {
    /// The URL's code in the index's URL dictionary.
    pub url: u32,
    /// Its domain's code in the index's URL-domain dictionary.
    pub domain: u32,
    /// See [`UrlStats::messages`].
    pub messages: u32,
    /// See [`UrlStats::recipients`].
    pub recipients: u32,
    /// See [`UrlStats::clicks`].
    pub clicks: u32,
    /// See [`UrlStats::blocked`].
    pub blocked: u32,
    /// See [`UrlStats::clicked_through`].
    pub clicked_through: u32,
    /// See [`UrlStats::first_seen`].
    pub first_seen: i64,
    /// See [`UrlStats::last_seen`].
    pub last_seen: i64,
}

/// One row of the Top clicks table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClickStats {
    /// When the click happened, in ticks.
    pub time: i64,
    /// The email row (message × recipient) the click came from.
    pub row: usize,
    /// The account that clicked (the row's recipient).
    pub account: String,
    /// The clicked URL.
    pub url: String,
    /// `ActionType`: `ClickAllowed`, `ClickBlocked`, ...
    pub action: String,
    /// The verdict on the clicked URL (`ThreatTypes` of the click), empty when clean.
    pub verdict: String,
    /// `IsClickedThrough`.
    pub clicked_through: bool,
    /// `Workload`: Email, Office, Teams.
    pub workload: String,
    /// The client's `IPAddress`.
    pub ip: String,
}

/// Whether a click's `ActionType` is a block by Safe Links or by the tenant's policy.
pub fn is_blocked(action: &str) -> bool {
    action
        .get(..12)
        .is_some_and(|p| p.eq_ignore_ascii_case("ClickBlocked"))
}

impl EmailIndex {
    /// The Top URLs table over `rows`: one entry per distinct URL of the result's
    /// messages, most messages first (ties: most recipients, then the URL).
    pub fn top_urls(&self, rows: &RowSet) -> Vec<UrlStats> {
        self.top_url_counts(rows)
            .iter()
            .map(|c| self.url_stats(c))
            .collect()
    }

    /// The row of [`EmailIndex::top_url_counts`] with its URL and domain read from
    /// this index's dictionaries (`c` must come from this index).
    pub fn url_stats(&self, c: &UrlCounts) -> UrlStats {
        let side = &self.side.urls;
        UrlStats {
            url: side.columns[0].dict.get(c.url).to_string(),
            domain: side.columns[1].dict.get(c.domain).to_string(),
            messages: c.messages as usize,
            recipients: c.recipients as usize,
            clicks: c.clicks as usize,
            blocked: c.blocked as usize,
            clicked_through: c.clicked_through as usize,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
        }
    }

    /// [`EmailIndex::top_urls`] as codes and counts, in the same order: every
    /// figure of the table is computed here.
    pub fn top_url_counts(&self, rows: &RowSet) -> Vec<UrlCounts> {
        let nmid = self.s(s::NMID);
        let mut selected = vec![0u32; nmid.dict.len()];
        rows.for_each(|r| selected[nmid.codes.get(r) as usize] += 1);
        let side = &self.side.urls;
        let (url_col, domain_col) = (&side.columns[0], &side.columns[1]);
        // (url code, message code, domain code) of every entry on a selected message;
        // sorted so a URL's messages are adjacent and a repeat is dropped. Counted
        // first: a million entries collected by doubling would leave as much again
        // in freed buffers the console keeps until its next pause.
        let on_selected = |m: u32| selected[m as usize] > 0;
        let mut pairs: Vec<(u32, u32, u32)> =
            Vec::with_capacity(side.message.iter().filter(|&&m| on_selected(m)).count());
        pairs.extend(
            side.message
                .iter()
                .enumerate()
                .filter(|&(_, &m)| on_selected(m))
                .map(|(e, &m)| (url_col.codes.get(e), m, domain_col.codes.get(e))),
        );
        pairs.sort_unstable();
        pairs.dedup_by_key(|p| (p.0, p.1));
        let mut by_url: Vec<Option<UrlCounts>> = vec![None; url_col.dict.len()];
        for (u, m, d) in pairs {
            let arrived = self
                .msg_rows
                .of(m)
                .first()
                .map_or(0, |&r| self.time[r as usize]);
            let e = by_url[u as usize].get_or_insert(UrlCounts {
                url: u,
                domain: d,
                messages: 0,
                recipients: 0,
                clicks: 0,
                blocked: 0,
                clicked_through: 0,
                first_seen: arrived,
                last_seen: arrived,
            });
            e.messages += 1;
            e.recipients += selected[m as usize];
            e.first_seen = e.first_seen.min(arrived);
            e.last_seen = e.last_seen.max(arrived);
        }
        let clicks = &self.side.clicks;
        let click_url = &clicks.by_row.columns[click_col::URL];
        let action = &clicks.by_row.columns[click_col::ACTION];
        for (c, &row) in clicks.by_row.row.iter().enumerate() {
            if !rows.contains(row as usize) {
                continue;
            }
            let Some(u) = url_col.dict.find(click_url.value(c)) else {
                continue;
            };
            if let Some(e) = by_url[u as usize].as_mut() {
                e.clicks += 1;
                e.blocked += u32::from(is_blocked(action.value(c)));
                e.clicked_through += u32::from(clicks.through[c]);
            }
        }
        let mut out: Vec<UrlCounts> = by_url.into_iter().flatten().collect();
        out.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then(b.recipients.cmp(&a.recipients))
                .then_with(|| url_col.dict.get(a.url).cmp(url_col.dict.get(b.url)))
        });
        out
    }

    /// The clicks by recipients of `rows`, newest first, as positions in the index's
    /// click table ([`EmailIndex::click`] reads one): stable for one index, so a
    /// view can hold them as rows.
    pub fn click_entries(&self, rows: &RowSet) -> Vec<usize> {
        let clicks = &self.side.clicks;
        // Stored oldest first (equal times in stored order): reversed, newest first.
        let mut out: Vec<usize> = (0..clicks.len())
            .rev()
            .filter(|&c| rows.contains(clicks.by_row.row[c] as usize))
            .collect();
        out.sort_by_key(|&c| std::cmp::Reverse(clicks.time[c]));
        out
    }

    /// Click `c` of the index's click table (see [`EmailIndex::click_entries`]);
    /// `None` past its end.
    pub fn click(&self, c: usize) -> Option<ClickStats> {
        let clicks = &self.side.clicks;
        let row = *clicks.by_row.row.get(c)? as usize;
        let cols = &clicks.by_row.columns;
        Some(ClickStats {
            time: clicks.time[c],
            row,
            account: self.s(s::RECIPIENT).value(row).to_string(),
            url: cols[click_col::URL].value(c).to_string(),
            action: cols[click_col::ACTION].value(c).to_string(),
            verdict: cols[click_col::THREATS].value(c).to_string(),
            clicked_through: clicks.through[c],
            workload: cols[click_col::WORKLOAD].value(c).to_string(),
            ip: cols[click_col::IP].value(c).to_string(),
        })
    }

    /// The Top clicks table over `rows`: every click by a recipient of the result,
    /// newest first.
    pub fn clicks(&self, rows: &RowSet) -> Vec<ClickStats> {
        self.click_entries(rows)
            .into_iter()
            .filter_map(|c| self.click(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_means_any_click_blocked_action() {
        assert!(is_blocked("ClickBlocked"));
        assert!(is_blocked("ClickBlockedByTenantPolicy"));
        assert!(is_blocked("clickblocked"));
        assert!(!is_blocked("ClickAllowed"));
        assert!(!is_blocked("Click"));
        assert!(!is_blocked(""));
    }
}
