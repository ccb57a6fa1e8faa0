//! Per-source refresh state. A watermark only moves forward after the rows it covers
//! are committed, in the same transaction, so a killed refresh resumes where the
//! cache really is.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Cache, CacheError};

/// What the cache knows about one refresh source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceState {
    pub source: String,
    /// Ticks: everything before it has been fetched (hunting tables) or the newest
    /// `lastUpdateDateTime` seen (alerts, incidents).
    pub watermark: Option<i64>,
    /// Ticks of the last successful refresh of this source.
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    /// The permission or licence the tenant said this source needs (it refused the
    /// last refresh); cleared by the next successful one.
    pub grant: Option<String>,
}

/// Sets a source's watermark and success time inside `tx`.
pub fn advance(
    tx: &Transaction<'_>,
    source: &str,
    watermark: Option<i64>,
    now: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "INSERT INTO sync_state (source, watermark, last_success, last_error, grant_needed) VALUES (?1, ?2, ?3, NULL, NULL)
         ON CONFLICT (source) DO UPDATE SET watermark = coalesce(excluded.watermark, watermark),
           last_success = excluded.last_success, last_error = NULL, grant_needed = NULL",
        params![source, watermark, now],
    )?;
    Ok(())
}

/// Records inside `tx` that `source` could not be refreshed: `grant` names the
/// permission or licence the tenant asked for (a refusal), else it failed for another
/// reason. The watermark and the last success stay, so older data is still used.
pub fn fail(
    tx: &Transaction<'_>,
    source: &str,
    error: &str,
    grant: Option<&str>,
) -> Result<(), CacheError> {
    tx.execute(
        "INSERT INTO sync_state (source, last_error, grant_needed) VALUES (?1, ?2, ?3)
         ON CONFLICT (source) DO UPDATE SET last_error = excluded.last_error, grant_needed = excluded.grant_needed",
        params![source, error, grant],
    )?;
    Ok(())
}

const SELECT: &str =
    "SELECT source, watermark, last_success, last_error, grant_needed FROM sync_state";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceState> {
    Ok(SourceState {
        source: r.get(0)?,
        watermark: r.get(1)?,
        last_success: r.get(2)?,
        last_error: r.get(3)?,
        grant: r.get(4)?,
    })
}

impl Cache {
    /// The state of `source`, if it was ever refreshed.
    pub fn source_state(&self, source: &str) -> Result<Option<SourceState>, CacheError> {
        Ok(self
            .conn
            .query_row(&format!("{SELECT} WHERE source = ?1"), params![source], row)
            .optional()?)
    }

    /// Every source's state, by name.
    pub fn source_states(&self) -> Result<Vec<SourceState>, CacheError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY source"))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a failed refresh of `source` without touching its watermark.
    pub fn record_error(&mut self, source: &str, error: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO sync_state (source, last_error) VALUES (?1, ?2) ON CONFLICT (source) DO UPDATE SET last_error = excluded.last_error",
            params![source, error],
        )?;
        super::queries::bump_generation(&self.conn)?;
        Ok(())
    }
}
