//! Loading the email index from the cache: one scan per table (the cache's typed
//! column scans) in rowid order. Every column is loaded here, on the thread that
//! builds, so no accessor reads the cache later. The `EmailEvents` columns are split
//! in two groups read on two threads over two connections (the machine has two
//! cores); each group reads inside one snapshot together with the cache's
//! generation, and equal generations prove both saw the same rows (the load is
//! retried when a refresh committed in between). Each phase's time is a debug event
//! in the `index build` span (`--log-file`, `WHALEWATCH_LOG=debug`).

use std::time::Instant;

use super::bitset::Bitset;
use super::column::{IntColumn, StrBuilder, StrColumn};
use super::schema::{self, INT_COLUMNS, STR_COLUMNS};
use super::side::{ByMessage, ByRow, Clicks, MessageRows, Side};
use super::tags::TagTable;
use super::{EmailIndex, IndexError};
use whalewatch_cache::{Cache, CacheError, ScanRow, SideScan};

/// What one column of a load group becomes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Load {
    Time,
    Str(usize),
    Int(usize),
    /// `AdditionalFields` → `EmailSize`.
    Size,
}

impl Load {
    fn sql(self) -> &'static str {
        match self {
            Load::Time => "Timestamp",
            Load::Str(i) => STR_COLUMNS[i],
            Load::Int(i) => INT_COLUMNS[i],
            Load::Size => "AdditionalFields",
        }
    }
}

/// Which email rows a load reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scan<'a> {
    /// Every row.
    All,
    /// The rows whose rowid is above this one (added since).
    After(i64),
    /// These rows (ascending rowids).
    Rows(&'a [i64]),
}

/// The two groups, balanced by measured cost (SQLite's per-cell cost dominates;
/// unique-per-message strings cost more to intern). Together they hold every column.
pub(super) fn groups() -> [Vec<Load>; 2] {
    let a = vec![
        Load::Time,
        Load::Str(schema::NMID),
        Load::Str(schema::IMID),
        Load::Str(schema::MAIL_FROM),
        Load::Str(schema::FROM),
        Load::Str(schema::DISPLAY_NAME),
        Load::Str(schema::SENDER_DOMAIN),
        Load::Str(schema::IPV4),
        Load::Str(schema::IPV6),
        Load::Str(schema::RECIPIENT),
        Load::Str(schema::SUBJECT),
        Load::Int(schema::CLUSTER),
        // Columns no filter reads, here to even out the two halves' cell counts.
        Load::Str(5),  // SenderObjectId
        Load::Str(6),  // SenderMailFromDomain
        Load::Str(11), // RecipientObjectId
        Load::Str(17), // ThreatNames
        Load::Str(19), // ConfidenceLevel
        Load::Str(20), // EmailAction
        Load::Str(22), // EmailActionPolicyGuid
    ];
    let mut b = vec![Load::Size];
    for i in 0..INT_COLUMNS.len() {
        if i != schema::SIZE && !a.iter().any(|l| matches!(l, Load::Int(x) if *x == i)) {
            b.push(Load::Int(i));
        }
    }
    for i in 0..STR_COLUMNS.len() {
        if !a.iter().any(|l| matches!(l, Load::Str(x) if *x == i)) {
            b.push(Load::Str(i));
        }
    }
    [a, b]
}

/// The columns one group loaded.
#[derive(Default)]
pub(super) struct Loaded {
    pub rows: usize,
    /// The cache's generation in the snapshot the group read.
    pub generation: u64,
    pub time: Vec<i64>,
    /// The rowid of every row (the group that loads `Timestamp` keeps them).
    pub rowid: Vec<i64>,
    pub strs: Vec<(usize, StrBuilder)>,
    pub ints: Vec<(usize, Vec<Option<i64>>)>,
}

/// `tolong(parse_json(AdditionalFields).EmailSize)`, fast for the flat objects the
/// service writes, with `serde_json` for anything else.
pub fn email_size(json: &str) -> Option<i64> {
    const KEY: &str = "\"EmailSize\"";
    let flat = json.starts_with('{') && !json[1..].contains(['{', '\\']);
    if flat && json.matches(KEY).count() == 1 {
        let at = json.find(KEY)? + KEY.len();
        let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        let tail = rest[end..].trim_start();
        if end > 0 && (tail.starts_with(',') || tail.starts_with('}')) {
            return rest[..end].parse().ok();
        }
    }
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    match v.get("EmailSize")? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        serde_json::Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Loads the columns of `group` for the rows `scans` name, in order.
pub(super) fn load_group(
    cache: &Cache,
    group: &[Load],
    scans: &[Scan<'_>],
) -> Result<Loaded, CacheError> {
    let cols: Vec<&str> = group.iter().map(|l| l.sql()).collect();
    let mut out = Loaded {
        generation: cache.generation()?,
        ..Loaded::default()
    };
    let keeps_rowid = group.iter().any(|l| matches!(l, Load::Time));
    // Sized up front: growing a million-row vector or a 300,000-value map while
    // rows stream in copies and rehashes it again and again.
    // (A hint: capped, so a cache with a far-off rowid cannot make it allocate wildly.)
    let rows = match scans {
        [Scan::All] => cache.email_rows_hint()?.min(1 << 26),
        _ => 0,
    };
    out.time.reserve(rows);
    if keeps_rowid {
        out.rowid.reserve(rows);
    }
    let mut strs: Vec<StrBuilder> = Vec::new();
    let mut ints: Vec<Vec<Option<i64>>> = Vec::new();
    let mut slot = Vec::with_capacity(group.len());
    for l in group {
        match l {
            Load::Str(i) => {
                slot.push(strs.len());
                // Message ids are distinct per message (a few recipients each).
                let distinct = if matches!(*i, schema::NMID | schema::IMID) {
                    rows / 2
                } else {
                    64
                };
                strs.push(StrBuilder::with_capacity(rows, distinct));
            }
            Load::Int(_) | Load::Size => {
                slot.push(ints.len());
                ints.push(Vec::with_capacity(rows));
            }
            Load::Time => slot.push(0),
        }
    }
    let mut last_extra = String::new();
    let mut last_size = None;
    let mut on_row = |rowid: i64, r: &ScanRow<'_>| -> Result<(), CacheError> {
        out.rows += 1;
        if keeps_rowid {
            out.rowid.push(rowid);
        }
        for (k, l) in group.iter().enumerate() {
            match l {
                Load::Time => out.time.push(r.int(k)?.unwrap_or(0)),
                Load::Str(_) => strs[slot[k]].push_bytes(r.bytes(k)?.as_deref()),
                Load::Int(_) => ints[slot[k]].push(r.int(k)?),
                Load::Size => {
                    // Recipients of one message are adjacent and share the value.
                    let t = r.text(k)?;
                    let t = t.as_deref().unwrap_or("");
                    if t != last_extra {
                        last_extra.clear();
                        last_extra.push_str(t);
                        last_size = email_size(t);
                    }
                    ints[slot[k]].push(last_size);
                }
            }
        }
        Ok(())
    };
    for scan in scans {
        match *scan {
            Scan::All => cache.scan_email_columns(&cols, &mut on_row)?,
            Scan::After(after) => cache.scan_email_columns_after(after, &cols, &mut on_row)?,
            Scan::Rows(ids) => cache.scan_email_rows(ids, &cols, &mut on_row)?,
        }
    }
    let mut strs = strs.into_iter();
    let mut ints = ints.into_iter();
    for l in group {
        match l {
            Load::Str(i) => out.strs.push((*i, strs.next().unwrap_or_default())),
            Load::Int(i) => out.ints.push((*i, ints.next().unwrap_or_default())),
            Load::Size => out
                .ints
                .push((schema::SIZE, ints.next().unwrap_or_default())),
            Load::Time => {}
        }
    }
    Ok(out)
}

/// Loads both groups in parallel, the second on its own connection; `None` when the
/// two snapshots differ (a write committed between their starts).
fn load_columns(cache: &Cache) -> Result<Option<(Loaded, Loaded)>, IndexError> {
    let [ga, gb] = groups();
    let path = cache.path().to_path_buf();
    let (a, b) = super::on_two_cores(
        || load_group(cache, &ga, &[Scan::All]),
        move || -> Result<Loaded, IndexError> {
            let c = Cache::open_read_only(&path)?;
            Ok(c.snapshot(|c| load_group(c, &gb, &[Scan::All]))?)
        },
    )?;
    let (a, b) = (a?, b?);
    if a.generation != b.generation || a.rows != b.rows {
        return Ok(None);
    }
    Ok(Some((a, b)))
}

/// Builds the index of every cached email: every column, the side tables and the
/// tags, all from one snapshot of the cache.
pub fn build(cache: &Cache) -> Result<EmailIndex, IndexError> {
    let _span = tracing::info_span!("index build").entered();
    let started = Instant::now();
    for _ in 0..5 {
        if let Some(index) = cache.snapshot(|c| match load_columns(c)? {
            Some((a, b)) => assemble(c, a, b, started).map(Some),
            None => Ok(None),
        })? {
            return Ok(index);
        }
    }
    Err(IndexError::Changing)
}

fn assemble(
    cache: &Cache,
    a: Loaded,
    b: Loaded,
    started: Instant,
) -> Result<EmailIndex, IndexError> {
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "columns loaded");
    let rows = a.rows;
    let mut strs: Vec<Option<StrBuilder>> = (0..STR_COLUMNS.len()).map(|_| None).collect();
    let mut ints: Vec<Option<IntColumn>> = (0..INT_COLUMNS.len()).map(|_| None).collect();
    for (i, s) in a.strs.into_iter().chain(b.strs) {
        strs[i] = Some(s);
    }
    for (i, v) in a.ints.into_iter().chain(b.ints) {
        ints[i] = Some(IntColumn::from_values(v));
    }
    let nmid_builder = strs[schema::NMID].take().unwrap_or_default();
    // Side tables resolve message ids through the interner before it is dropped.
    let nmid_of = |s: &str| nmid_builder.lookup(s);
    let nmid_codes = nmid_builder.codes();
    let messages = nmid_builder.distinct();
    let msg_rows = MessageRows::build(messages, |r| nmid_codes[r], rows);
    let recipients = strs[schema::RECIPIENT].take().unwrap_or_default().finish();
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "message rows");
    let side = load_side(cache, rows, &nmid_of, &msg_rows, &recipients)?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "side tables");
    let mut nmid = Some(nmid_builder.finish());
    let mut recipients = Some(recipients);
    // Every column was in a group (see `groups`); a missing one is a bug there, and an
    // empty column would blank cells silently, so it is an error.
    let strs: Vec<StrColumn> = strs
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            match i {
                schema::NMID => nmid.take(),
                schema::RECIPIENT => recipients.take(),
                _ => s.map(StrBuilder::finish),
            }
            .ok_or(IndexError::MissingColumn(STR_COLUMNS[i]))
        })
        .collect::<Result<_, _>>()?;
    let ints: Vec<IntColumn> = ints
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.ok_or(IndexError::MissingColumn(INT_COLUMNS[i])))
        .collect::<Result<_, _>>()?;
    let tags = TagTable::load(cache)?;
    Ok(EmailIndex {
        rows,
        time: a.time.into(),
        rowid: a.rowid.into(),
        log: cache.mail_log()?,
        strs,
        ints,
        generation: a.generation,
        msg_rows,
        side,
        tags,
        tag_rows: std::sync::Mutex::new(Vec::new()),
        build_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The email rows of message `m` whose recipient is `recipient` (compared as
/// `tolower` on both sides, like the KQL key).
fn rows_of(
    msg_rows: &MessageRows,
    recipients: &StrColumn,
    m: u32,
    recipient: &str,
) -> impl Iterator<Item = u32> {
    let lower = recipient.to_lowercase();
    msg_rows
        .of(m)
        .iter()
        .copied()
        .filter(move |&r| {
            let v = recipients.value(r as usize);
            if v.is_ascii() && lower.is_ascii() {
                v.eq_ignore_ascii_case(&lower)
            } else {
                v.to_lowercase() == lower
            }
        })
        .collect::<Vec<_>>()
        .into_iter()
}

pub(super) fn load_side(
    cache: &Cache,
    rows: usize,
    nmid_of: &dyn Fn(&str) -> Option<u32>,
    msg_rows: &MessageRows,
    recipients: &StrColumn,
) -> Result<Side, IndexError> {
    let by_message = |which: SideScan, ncols: usize| -> Result<ByMessage, CacheError> {
        let mut message = Vec::new();
        let mut cols: Vec<StrBuilder> = (0..ncols).map(|_| StrBuilder::default()).collect();
        cache.scan_side::<CacheError>(which, |r| {
            let Some(id) = r.text(0)? else {
                return Ok(());
            };
            let Some(m) = nmid_of(&id) else {
                return Ok(());
            };
            message.push(m);
            for (k, c) in cols.iter_mut().enumerate() {
                c.push_bytes(r.bytes(k + 1)?.as_deref());
            }
            Ok(())
        })?;
        message.shrink_to_fit();
        Ok(ByMessage {
            message: message.into(),
            columns: cols.into_iter().map(StrBuilder::finish).collect(),
        })
    };
    let urls = by_message(SideScan::Urls, 3)?;
    let mut campaigns = by_message(SideScan::Campaigns, 3)?;
    if campaigns.message.is_empty() {
        // No Campaign Views: the campaigns `CampaignIndex` derives, by the same rule.
        let mut message = Vec::new();
        let mut cols: Vec<StrBuilder> = (0..3).map(|_| StrBuilder::default()).collect();
        for r in super::derived::derive(cache)? {
            if let Some(m) = nmid_of(&r.network_message_id) {
                message.push(m);
                cols[0].push(Some(&r.campaign_id));
                cols[1].push(Some(&r.campaign_name));
                cols[2].push(Some(&r.campaign_type));
            }
        }
        campaigns = ByMessage {
            message: message.into(),
            columns: cols.into_iter().map(StrBuilder::finish).collect(),
        };
    }
    let alerts = by_message(SideScan::AlertEvidence, 1)?;
    // The index rows a (message id, recipient) pair of a side row names.
    let rows_named = |r: &ScanRow<'_>| -> Result<Vec<u32>, CacheError> {
        let (Some(id), Some(rcpt)) = (r.text(0)?, r.text(1)?) else {
            return Ok(Vec::new());
        };
        Ok(match nmid_of(&id) {
            Some(m) => rows_of(msg_rows, recipients, m, &rcpt).collect(),
            None => Vec::new(),
        })
    };
    // Entries per email row: the scan's columns from 2 on.
    let by_row = |which: SideScan, ncols: usize| -> Result<ByRow, CacheError> {
        let mut row = Vec::new();
        let mut cols: Vec<StrBuilder> = (0..ncols).map(|_| StrBuilder::default()).collect();
        cache.scan_side::<CacheError>(which, |r| {
            for named in rows_named(r)? {
                row.push(named);
                for (k, c) in cols.iter_mut().enumerate() {
                    c.push_bytes(r.bytes(k + 2)?.as_deref());
                }
            }
            Ok(())
        })?;
        Ok(ByRow {
            row: row.into(),
            columns: cols.into_iter().map(StrBuilder::finish).collect(),
        })
    };
    let attachments = by_row(SideScan::Attachments, 3)?;
    let post_delivery = by_row(SideScan::PostDelivery, 1)?;
    let clicks = {
        let (mut row, mut time, mut through) = (Vec::new(), Vec::new(), Vec::new());
        let mut cols: Vec<StrBuilder> = (0..5).map(|_| StrBuilder::default()).collect();
        cache.scan_side::<CacheError>(SideScan::Clicks, |r| {
            for named in rows_named(r)? {
                row.push(named);
                for (k, c) in cols.iter_mut().enumerate() {
                    c.push_bytes(r.bytes(k + 2)?.as_deref());
                }
                through.push(r.int(7)? == Some(1));
                time.push(r.int(8)?.unwrap_or(0));
            }
            Ok(())
        })?;
        Clicks {
            by_row: ByRow {
                row: row.into(),
                columns: cols.into_iter().map(StrBuilder::finish).collect(),
            },
            time,
            through,
        }
    };
    let per_row = |which: SideScan| -> Result<Bitset, CacheError> {
        let mut out = Bitset::new(rows);
        cache.scan_side::<CacheError>(which, |r| {
            for row in rows_named(r)? {
                out.insert(row as usize);
            }
            Ok(())
        })?;
        Ok(out)
    };
    Ok(Side {
        urls,
        campaigns,
        alerts,
        attachments,
        clicks,
        post_delivery,
        clicked_any: per_row(SideScan::Clicked)?,
        clicked: per_row(SideScan::ClickedThrough)?,
        zapped: per_row(SideScan::Zapped)?,
        released: per_row(SideScan::QuarantineReleased)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_size_reads_the_key_like_parse_json() {
        assert_eq!(email_size(r#"{"EmailSize":12345}"#), Some(12345));
        assert_eq!(email_size(r#"{"A":"x", "EmailSize" : 7 }"#), Some(7));
        assert_eq!(email_size(r#"{"EmailSize":"42"}"#), Some(42));
        assert_eq!(email_size(r#"{"a":{"EmailSize":5}}"#), None);
        assert_eq!(email_size(r#"{"EmailSize":1.5}"#), Some(1));
        assert_eq!(email_size("not json"), None);
        assert_eq!(email_size(""), None);
    }
}

#[cfg(test)]
mod generation_tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use whalewatch_model::email::EmailEvent;

    fn event(n: &str, r: &str, loc: &str, threats: &str) -> EmailEvent {
        EmailEvent {
            timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 8, 0, 0).unwrap(),
            network_message_id: n.into(),
            recipient_email_address: r.into(),
            latest_delivery_location: Some(loc.into()),
            threat_names: threats.into(),
            connectors: "inbound".into(),
            ..EmailEvent::default()
        }
    }

    #[test]
    fn the_two_load_groups_hold_every_column_once() {
        let [a, b] = groups();
        let all: Vec<Load> = a.into_iter().chain(b).collect();
        for (i, name) in STR_COLUMNS.iter().enumerate() {
            let n = all
                .iter()
                .filter(|l| matches!(l, Load::Str(x) if *x == i))
                .count();
            assert_eq!(n, 1, "{name}");
        }
        for (i, name) in INT_COLUMNS.iter().enumerate() {
            let n = all
                .iter()
                .filter(|l| match l {
                    Load::Int(x) => *x == i,
                    Load::Size => i == schema::SIZE,
                    _ => false,
                })
                .count();
            assert_eq!(n, 1, "{name}");
        }
    }

    #[test]
    fn every_column_is_loaded_and_an_in_place_update_makes_the_index_stale() {
        let dir = std::env::temp_dir().join(format!("ww-index-gen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("c.sqlite")).unwrap();
        c.write(|w| {
            w.upsert_rows(&[
                event("n1", "a@x", "Inbox/folder", "Qakbot"),
                event("n1", "b@x", "Inbox/folder", "Qakbot"),
            ])
        })
        .unwrap();
        let ix = EmailIndex::build(&c).unwrap();
        assert_eq!(ix.generation(), c.generation().unwrap());
        ix.check_current(c.generation().unwrap()).unwrap();
        // Columns no filter uses (once loaded on first use) are there already.
        let names = ix.column("ThreatNames").unwrap();
        assert_eq!(ix.value(names, 0), "Qakbot");
        assert_eq!(ix.value(ix.column("Connectors").unwrap(), 1), "inbound");
        // A remediation moves a message: same keys, same row count, new value.
        c.write(|w| w.upsert_rows(&[event("n1", "a@x", "Deleted items", "Qakbot")]))
            .unwrap();
        let now = c.generation().unwrap();
        assert!(matches!(
            ix.check_current(now),
            Err(IndexError::Stale { built, current }) if built < current
        ));
        let loc = ix.column("LatestDeliveryLocation").unwrap();
        let rebuilt = EmailIndex::build(&c).unwrap();
        rebuilt.check_current(now).unwrap();
        let row = rebuilt
            .row_of(&whalewatch_model::email::RowKey {
                network_message_id: "n1".into(),
                recipient: "A@X".into(),
            })
            .unwrap();
        assert_eq!(rebuilt.value(loc, row), "Deleted items");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
