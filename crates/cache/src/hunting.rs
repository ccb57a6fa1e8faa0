//! Advanced-hunting rows in the cache: one table per hunting table, with the same
//! column names, upserted by natural key so a re-fetched window never duplicates.

use std::borrow::Cow;

use rusqlite::types::ValueRef;
use rusqlite::{Transaction, params_from_iter};

use super::{Cache, CacheError};
use whalewatch_model::batch::{CellRef, RowBatch};
use whalewatch_model::email::{
    CampaignMessage, EmailAttachment, EmailEvent, EmailUrl, PostDeliveryEvent, UrlClick,
};
use whalewatch_model::hunting::Cell;

/// A hunting row type and where the cache keeps it.
pub trait CachedRow: whalewatch_model::batch::BatchRow {
    /// The cache table.
    const SQL_TABLE: &'static str;
    /// The natural key: the columns that identify a row across fetches.
    const KEY: &'static [&'static str];
    /// The key columns a row cannot be without (null or empty: the row is rejected,
    /// not merged under an empty key). The other key columns may be empty in the
    /// service's data (a URL's location, an attachment's hash, a Teams click's
    /// message id).
    const REQUIRED: &'static [&'static str];
    /// The row's `Timestamp` in ticks (watermarks are kept in ticks).
    fn timestamp_ticks(&self) -> i64;
}

macro_rules! cached {
    ($t:ty, $table:literal, [$($k:literal),*], required [$($r:literal),*]) => {
        impl CachedRow for $t {
            const SQL_TABLE: &'static str = $table;
            const KEY: &'static [&'static str] = &[$($k),*];
            const REQUIRED: &'static [&'static str] = &[$($r),*];
            fn timestamp_ticks(&self) -> i64 {
                whalewatch_model::hunting::to_ticks(&self.timestamp)
            }
        }
    };
}

cached!(
    EmailEvent,
    "email_events",
    ["NetworkMessageId", "RecipientEmailAddress"],
    required["NetworkMessageId", "RecipientEmailAddress"]
);
cached!(
    EmailUrl,
    "email_urls",
    ["NetworkMessageId", "Url", "UrlLocation"],
    required["NetworkMessageId", "Url"]
);
cached!(
    EmailAttachment,
    "email_attachments",
    [
        "NetworkMessageId",
        "RecipientEmailAddress",
        "SHA256",
        "FileName"
    ],
    required["NetworkMessageId", "RecipientEmailAddress"]
);
cached!(
    PostDeliveryEvent,
    "post_delivery_events",
    [
        "NetworkMessageId",
        "RecipientEmailAddress",
        "Timestamp",
        "ActionType",
        "Action"
    ],
    required["NetworkMessageId", "RecipientEmailAddress"]
);
cached!(
    UrlClick,
    "url_clicks",
    ["NetworkMessageId", "AccountUpn", "Url", "Timestamp"],
    required["AccountUpn", "Url"]
);
cached!(
    CampaignMessage,
    "campaign_messages",
    ["CampaignId", "NetworkMessageId", "RecipientEmailAddress"],
    required["CampaignId", "NetworkMessageId", "RecipientEmailAddress"]
);

/// The key columns of a hunting cache table.
pub fn key_of(table: &str) -> Option<&'static [&'static str]> {
    Some(match table {
        "email_events" => EmailEvent::KEY,
        "email_urls" => EmailUrl::KEY,
        "email_attachments" => EmailAttachment::KEY,
        "post_delivery_events" => PostDeliveryEvent::KEY,
        "url_clicks" => UrlClick::KEY,
        "campaign_messages" => CampaignMessage::KEY,
        _ => return None,
    })
}

/// What an upsert changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertStats {
    /// Rows that were not cached before.
    pub new: u64,
    /// Cached rows whose values changed.
    pub updated: u64,
    /// Rows that were already cached exactly as fetched.
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertStats {
    fn add_assign(&mut self, o: Self) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

pub(super) fn quoted(cols: &[&str]) -> String {
    cols.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The upsert statement: insert, or update only when some value differs (so that
/// `changes()` counts real changes and an identical re-fetch writes nothing).
fn upsert_sql<R: CachedRow>() -> String {
    let cols = R::COLUMNS;
    let placeholders = vec!["?"; cols.len()].join(", ");
    let non_key: Vec<&&str> = cols.iter().filter(|c| !R::KEY.contains(c)).collect();
    let set = non_key
        .iter()
        .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let differs = non_key
        .iter()
        .map(|c| format!("\"{c}\" IS NOT excluded.\"{c}\""))
        .collect::<Vec<_>>()
        .join(" OR ");
    format!(
        "INSERT INTO {} ({}) VALUES ({placeholders}) ON CONFLICT ({}) DO UPDATE SET {set} WHERE {differs}",
        R::SQL_TABLE,
        quoted(cols),
        quoted(R::KEY),
    )
}

/// Binds a cell without copying its text.
struct Bind<'a>(Cell<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match &self.0 {
            Cell::Null => ValueRef::Null,
            Cell::Int(i) => ValueRef::Integer(*i),
            Cell::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

/// Upserts `rows` inside `tx`.
pub fn upsert<R: CachedRow>(tx: &Transaction<'_>, rows: &[R]) -> Result<UpsertStats, CacheError> {
    let before: i64 = tx.query_row(&format!("SELECT count(*) FROM {}", R::SQL_TABLE), [], |r| {
        r.get(0)
    })?;
    let mut stmt = tx.prepare_cached(&upsert_sql::<R>())?;
    let mut changed = 0u64;
    for row in rows {
        changed += stmt.execute(params_from_iter(row.to_cells().into_iter().map(Bind)))? as u64;
    }
    let after: i64 = tx.query_row(&format!("SELECT count(*) FROM {}", R::SQL_TABLE), [], |r| {
        r.get(0)
    })?;
    let new = (after - before).max(0) as u64;
    let updated = changed.saturating_sub(new);
    Ok(UpsertStats {
        new,
        updated,
        unchanged: rows.len() as u64 - new - updated,
    })
}

/// `INSERT OR REPLACE` of every column: a bulk load into a table without its
/// indexes appends; should the unique index exist after all (a reader restored
/// it), a repeated key replaces the older row, as an upsert would.
fn insert_sql<R: CachedRow>() -> String {
    let cols = R::COLUMNS;
    format!(
        "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
        R::SQL_TABLE,
        quoted(cols),
        vec!["?"; cols.len()].join(", ")
    )
}

/// Binds row `i` of `batch` to `stmt` and runs it; returns the rows changed.
fn run_batch_row(
    stmt: &mut rusqlite::CachedStatement<'_>,
    batch: &RowBatch,
    i: usize,
) -> rusqlite::Result<usize> {
    for (c, slot) in batch.row(i).iter().enumerate() {
        match batch.get(*slot) {
            CellRef::Null => stmt.raw_bind_parameter(c + 1, rusqlite::types::Null)?,
            CellRef::Int(v) => stmt.raw_bind_parameter(c + 1, v)?,
            CellRef::Text(t) => stmt.raw_bind_parameter(c + 1, t)?,
        }
    }
    stmt.raw_execute()
}

fn count(tx: &Transaction<'_>, table: &str) -> Result<i64, CacheError> {
    Ok(tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
}

/// Upserts the rows of `batch` (parsed for `R`) inside `tx`, as [`upsert`] does.
pub fn upsert_batch<R: CachedRow>(
    tx: &Transaction<'_>,
    batch: &RowBatch,
) -> Result<UpsertStats, CacheError> {
    check_width::<R>(batch)?;
    let before = count(tx, R::SQL_TABLE)?;
    let mut stmt = tx.prepare_cached(&upsert_sql::<R>())?;
    let mut changed = 0u64;
    for i in 0..batch.len() {
        changed += run_batch_row(&mut stmt, batch, i)? as u64;
    }
    let after = count(tx, R::SQL_TABLE)?;
    let new = (after - before).max(0) as u64;
    let updated = changed.saturating_sub(new);
    Ok(UpsertStats {
        new,
        updated,
        unchanged: (batch.len() as u64).saturating_sub(new + updated),
    })
}

/// Appends the rows of `batch` during a bulk load (see [`Cache::begin_bulk_load`]):
/// every row counts as new; repeated keys are settled when the indexes return.
pub fn insert_batch<R: CachedRow>(
    tx: &Transaction<'_>,
    batch: &RowBatch,
) -> Result<UpsertStats, CacheError> {
    check_width::<R>(batch)?;
    let mut stmt = tx.prepare_cached(&insert_sql::<R>())?;
    for i in 0..batch.len() {
        run_batch_row(&mut stmt, batch, i)?;
    }
    Ok(UpsertStats {
        new: batch.len() as u64,
        ..UpsertStats::default()
    })
}

fn check_width<R: CachedRow>(batch: &RowBatch) -> Result<(), CacheError> {
    if batch.columns() != R::COLUMNS.len() {
        return Err(CacheError::Row(format!(
            "a batch of {} columns cannot be stored in {}",
            batch.columns(),
            R::SQL_TABLE
        )));
    }
    Ok(())
}

fn cell_of(v: ValueRef<'_>) -> Cell<'static> {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Text(Cow::Owned(f.to_string())),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Cell::Text(Cow::Owned(String::from_utf8_lossy(t).into_owned()))
        }
    }
}

/// Parses one selected row (every column of `R`, in order) into `R`.
pub(super) fn from_row<R: CachedRow>(row: &rusqlite::Row<'_>) -> Result<R, CacheError> {
    let cells: Vec<Cell<'static>> = (0..R::COLUMNS.len())
        .map(|i| row.get_ref(i).map(cell_of))
        .collect::<Result<_, _>>()?;
    R::from_cells(cells).map_err(|e| CacheError::Row(e.to_string()))
}

impl Cache {
    /// Reads rows of `R`, newest first, optionally only those matching `where_sql`
    /// (one of this module's fixed fragments over the hunting column names, with
    /// `params`): the typed queries in `queries.rs` are built on it.
    pub(super) fn select<R: CachedRow>(
        &self,
        where_sql: Option<&str>,
        params: &[&dyn rusqlite::ToSql],
        limit: Option<usize>,
    ) -> Result<Vec<R>, CacheError> {
        let mut sql = format!("SELECT {} FROM {}", quoted(R::COLUMNS), R::SQL_TABLE);
        if let Some(w) = where_sql {
            sql.push_str(" WHERE ");
            sql.push_str(w);
        }
        sql.push_str(" ORDER BY \"Timestamp\" DESC, rowid DESC");
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            out.push(from_row(row)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(n: &str, r: &str, subject: &str) -> EmailEvent {
        EmailEvent {
            timestamp: Utc.with_ymd_and_hms(2026, 10, 30, 8, 0, 0).unwrap(),
            network_message_id: n.into(),
            recipient_email_address: r.into(),
            subject: subject.into(),
            bulk_complaint_level: 5,
            ..EmailEvent::default()
        }
    }

    #[test]
    fn upserts_count_new_updated_and_unchanged_and_round_trip() {
        let dir = std::env::temp_dir().join(format!("ww-cache-up-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("t.sqlite")).unwrap();
        let rows = vec![
            event("n1", "a@x", "hi"),
            event("n1", "b@x", "hi"),
            event("n2", "a@x", "\u{1b}]2;x\u{7}"),
        ];
        assert_eq!(
            c.write(|w| w.upsert_rows(&rows)).unwrap(),
            UpsertStats {
                new: 3,
                updated: 0,
                unchanged: 0
            }
        );
        assert_eq!(
            c.write(|w| w.upsert_rows(&rows)).unwrap(),
            UpsertStats {
                new: 0,
                updated: 0,
                unchanged: 3
            }
        );
        let changed = vec![event("n1", "a@x", "changed"), event("n3", "a@x", "new")];
        assert_eq!(
            c.write(|w| w.upsert_rows(&changed)).unwrap(),
            UpsertStats {
                new: 1,
                updated: 1,
                unchanged: 0
            }
        );
        let back: Vec<EmailEvent> = c
            .select(Some("\"NetworkMessageId\" = ?"), &[&"n2"], None)
            .unwrap();
        assert_eq!(back, vec![rows[2].clone()]);
        assert_eq!(c.count("email_events").unwrap(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
