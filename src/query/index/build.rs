//! Loading the email index from the cache: one `SELECT` per table reading only the
//! needed columns in rowid order. The `EmailEvents` columns are split in two groups
//! read on two threads over two read-only connections (the machine has two cores);
//! a checksum of the rowids both threads saw proves they read the same rows, and the
//! load is retried when a refresh committed in between. Each phase's time is a debug
//! event in the `index build` span (`--log-file`, `WHALEWATCH_LOG=debug`).

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::bitset::Bitset;
use super::column::{IntColumn, StrBuilder, StrColumn};
use super::schema::{self, INT_COLUMNS, STR_COLUMNS};
use super::side::{ByMessage, ByRow, MessageRows, Side};
use super::tags::TagTable;
use super::{EmailIndex, IndexError};
use crate::cache::Cache;

/// What one column of a load group becomes.
#[derive(Debug, Clone, Copy)]
enum Load {
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

/// The string columns the filter language reads: loaded by the build. The others
/// wait for their first use.
pub const CORE: &[usize] = &[
    schema::NMID,
    schema::IMID,
    schema::MAIL_FROM,
    schema::FROM,
    schema::DISPLAY_NAME,
    schema::SENDER_DOMAIN,
    schema::IPV4,
    schema::IPV6,
    schema::RECIPIENT,
    schema::SUBJECT,
    schema::DIRECTION,
    schema::DELIVERY,
    schema::ORIGINAL_LOCATION,
    schema::THREATS,
    schema::DETECTION,
    schema::POLICY,
    schema::AUTH,
    schema::LANGUAGE,
    schema::RULE,
    schema::LOCATION,
    schema::CONTEXT,
];

/// The two groups, balanced by measured cost (SQLite's per-cell cost dominates;
/// unique-per-message strings cost more to intern).
fn groups() -> [Vec<Load>; 2] {
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
    ];
    let mut b = vec![Load::Size, Load::Int(schema::BCL)];
    for &i in CORE {
        if !a.iter().any(|l| matches!(l, Load::Str(x) if *x == i)) {
            b.push(Load::Str(i));
        }
    }
    [a, b]
}

/// Where an index came from: enough to load a column later and to notice that the
/// cache changed in between.
#[derive(Debug, Clone, Default)]
pub struct Source {
    path: std::path::PathBuf,
    rowid_sum: u64,
}

/// Loads string column `i` on first use.
pub fn load_str(src: &Source, i: usize, rows: usize) -> Result<StrColumn, IndexError> {
    let c = Cache::open_read_only(&src.path)?;
    let l = load_group(c.connection(), &[Load::Str(i)])?;
    if l.rows != rows || l.rowid_sum != src.rowid_sum {
        return Err(IndexError::Load(
            "the cache changed since the index was built; rebuild it".into(),
        ));
    }
    Ok(l.strs
        .into_iter()
        .next()
        .map(|(_, b)| b.finish())
        .unwrap_or_else(|| empty_str(rows)))
}

/// Loads number column `i` on first use.
pub fn load_int(src: &Source, i: usize, rows: usize) -> Result<IntColumn, IndexError> {
    let c = Cache::open_read_only(&src.path)?;
    let load = if i == schema::SIZE {
        Load::Size
    } else {
        Load::Int(i)
    };
    let l = load_group(c.connection(), &[load])?;
    if l.rows != rows || l.rowid_sum != src.rowid_sum {
        return Err(IndexError::Load(
            "the cache changed since the index was built; rebuild it".into(),
        ));
    }
    Ok(IntColumn::from_values(
        l.ints
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default(),
    ))
}

/// A column of empty strings.
pub fn empty_str(rows: usize) -> StrColumn {
    let mut b = StrBuilder::default();
    b.push(None);
    let mut c = b.finish();
    c.codes = super::column::Codes::U8(vec![0; rows]);
    c
}

/// The columns one group loaded.
#[derive(Default)]
struct Loaded {
    rows: usize,
    rowid_sum: u64,
    time: Vec<i64>,
    strs: Vec<(usize, StrBuilder)>,
    ints: Vec<(usize, Vec<Option<i64>>)>,
}

fn text(v: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
        ValueRef::Integer(i) => Some(Cow::Owned(i.to_string())),
        ValueRef::Real(f) => Some(Cow::Owned(f.to_string())),
    }
}

fn int(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Real(f) => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
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

fn load_group(conn: &Connection, group: &[Load]) -> Result<Loaded, rusqlite::Error> {
    let cols: Vec<String> = group.iter().map(|l| format!("\"{}\"", l.sql())).collect();
    let sql = format!(
        "SELECT rowid, {} FROM email_events ORDER BY rowid",
        cols.join(", ")
    );
    let mut out = Loaded::default();
    let mut strs: Vec<StrBuilder> = Vec::new();
    let mut ints: Vec<Vec<Option<i64>>> = Vec::new();
    let mut slot = Vec::with_capacity(group.len());
    for l in group {
        match l {
            Load::Str(_) => {
                slot.push(strs.len());
                strs.push(StrBuilder::default());
            }
            Load::Int(_) | Load::Size => {
                slot.push(ints.len());
                ints.push(Vec::new());
            }
            Load::Time => slot.push(0),
        }
    }
    let mut last_extra = String::new();
    let mut last_size = None;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        out.rowid_sum = out.rowid_sum.wrapping_mul(31).wrapping_add(rowid as u64);
        out.rows += 1;
        for (k, l) in group.iter().enumerate() {
            let v = r.get_ref(k + 1)?;
            match l {
                Load::Time => out.time.push(int(v).unwrap_or(0)),
                Load::Str(_) => strs[slot[k]].push(text(v).as_deref()),
                Load::Int(_) => ints[slot[k]].push(int(v)),
                Load::Size => {
                    // Recipients of one message are adjacent and share the value.
                    let t = text(v);
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

/// Loads both groups in parallel; `None` when they saw different rows.
fn load_columns(cache: &Cache) -> Result<Option<(Loaded, Loaded)>, IndexError> {
    let [ga, gb] = groups();
    let path = cache.path().to_path_buf();
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(move || -> Result<Loaded, IndexError> {
            let c = Cache::open_read_only(&path)?;
            Ok(load_group(c.connection(), &gb)?)
        });
        let a = load_group(cache.connection(), &ga).map_err(IndexError::from);
        let b = other
            .join()
            .unwrap_or_else(|_| Err(IndexError::Load("a loader thread panicked".into())));
        (a, b)
    });
    let (a, b) = (a?, b?);
    if a.rows != b.rows || a.rowid_sum != b.rowid_sum {
        return Ok(None);
    }
    Ok(Some((a, b)))
}

/// Builds the index of every cached email.
pub fn build(cache: &Cache) -> Result<EmailIndex, IndexError> {
    let _span = tracing::info_span!("index build").entered();
    let started = Instant::now();
    let mut loaded = None;
    for _ in 0..5 {
        loaded = load_columns(cache)?;
        if loaded.is_some() {
            break;
        }
    }
    let Some((a, b)) = loaded else {
        return Err(IndexError::Load(
            "the cache kept changing while it was read; try again when the refresh ends".into(),
        ));
    };
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
    let conn = cache.connection();
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "message rows");
    let side = load_side(conn, rows, messages, &nmid_of, &msg_rows, &recipients)?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "side tables");
    let nmid = nmid_builder.finish();
    let mut nmid = Some(nmid);
    let mut recipients = Some(recipients);
    let str_cols: Vec<OnceLock<StrColumn>> = strs
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let col = match i {
                schema::NMID => nmid.take(),
                schema::RECIPIENT => recipients.take(),
                _ => s.map(StrBuilder::finish),
            };
            let cell = OnceLock::new();
            if let Some(c) = col {
                let _ = cell.set(c);
            }
            cell
        })
        .collect();
    let tags = TagTable::load(cache)?;
    let index = EmailIndex {
        rows,
        time: a.time,
        strs: str_cols,
        ints: ints
            .into_iter()
            .map(|c| {
                let cell = OnceLock::new();
                if let Some(c) = c {
                    let _ = cell.set(c);
                }
                cell
            })
            .collect(),
        source: Source {
            path: cache.path().to_path_buf(),
            rowid_sum: a.rowid_sum,
        },
        msg_rows,
        side,
        tags,
        tag_rows: std::sync::Mutex::new(Vec::new()),
        build_seconds: 0.0,
    };
    let mut index = index;
    index.build_seconds = started.elapsed().as_secs_f64();
    Ok(index)
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

fn load_side(
    conn: &Connection,
    rows: usize,
    _messages: usize,
    nmid_of: &dyn Fn(&str) -> Option<u32>,
    msg_rows: &MessageRows,
    recipients: &StrColumn,
) -> Result<Side, IndexError> {
    let by_message = |sql: &str, ncols: usize| -> Result<ByMessage, IndexError> {
        let mut stmt = conn.prepare(sql)?;
        let mut q = stmt.query([])?;
        let mut message = Vec::new();
        let mut cols: Vec<StrBuilder> = (0..ncols).map(|_| StrBuilder::default()).collect();
        while let Some(r) = q.next()? {
            let Some(id) = text(r.get_ref(0)?) else {
                continue;
            };
            let Some(m) = nmid_of(&id) else { continue };
            message.push(m);
            for (k, c) in cols.iter_mut().enumerate() {
                c.push(text(r.get_ref(k + 1)?).as_deref());
            }
        }
        message.shrink_to_fit();
        Ok(ByMessage {
            message,
            columns: cols.into_iter().map(StrBuilder::finish).collect(),
        })
    };
    let urls = by_message(
        "SELECT \"NetworkMessageId\", \"Url\", \"UrlDomain\" FROM email_urls",
        2,
    )?;
    let campaigns = by_message(
        "SELECT \"NetworkMessageId\", \"CampaignId\", \"CampaignName\", \"CampaignType\" FROM campaign_messages",
        3,
    )?;
    let alerts = by_message(
        "SELECT network_message_id, alert_id FROM alert_evidence WHERE network_message_id IS NOT NULL",
        1,
    )?;
    let mut att_rows = Vec::new();
    let mut att_cols = [StrBuilder::default(), StrBuilder::default()];
    {
        let mut stmt = conn.prepare(
            "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\", \"FileName\", \"SHA256\" FROM email_attachments",
        )?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let (Some(id), Some(rcpt)) = (text(r.get_ref(0)?), text(r.get_ref(1)?)) else {
                continue;
            };
            let Some(m) = nmid_of(&id) else { continue };
            for row in rows_of(msg_rows, recipients, m, &rcpt) {
                att_rows.push(row);
                att_cols[0].push(text(r.get_ref(2)?).as_deref());
                att_cols[1].push(text(r.get_ref(3)?).as_deref());
            }
        }
    }
    let [c0, c1] = att_cols;
    let attachments = ByRow {
        row: att_rows,
        columns: vec![c0.finish(), c1.finish()],
    };
    let per_row = |sql: &str| -> Result<Bitset, IndexError> {
        let mut out = Bitset::new(rows);
        let mut stmt = conn.prepare(sql)?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let (Some(id), Some(rcpt)) = (text(r.get_ref(0)?), text(r.get_ref(1)?)) else {
                continue;
            };
            let Some(m) = nmid_of(&id) else { continue };
            for row in rows_of(msg_rows, recipients, m, &rcpt) {
                out.insert(row as usize);
            }
        }
        Ok(out)
    };
    // The same conditions as the KQL: `IsClickedThrough == true or ActionType =~
    // "ClickAllowed"`; `ActionType in~ ("Phish ZAP", "Malware ZAP")`.
    let clicked = per_row(
        "SELECT \"NetworkMessageId\", \"AccountUpn\" FROM url_clicks
         WHERE \"IsClickedThrough\" = 1 OR lower(\"ActionType\") = 'clickallowed'",
    )?;
    let zapped = per_row(
        "SELECT \"NetworkMessageId\", \"RecipientEmailAddress\" FROM post_delivery_events
         WHERE lower(\"ActionType\") IN ('phish zap', 'malware zap')",
    )?;
    Ok(Side {
        urls,
        campaigns,
        alerts,
        attachments,
        clicked,
        zapped,
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
