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
}

/// Sets a source's watermark and success time inside `tx`.
pub fn advance(
    tx: &Transaction<'_>,
    source: &str,
    watermark: Option<i64>,
    now: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "INSERT INTO sync_state (source, watermark, last_success, last_error) VALUES (?1, ?2, ?3, NULL)
         ON CONFLICT (source) DO UPDATE SET watermark = coalesce(excluded.watermark, watermark),
           last_success = excluded.last_success, last_error = NULL",
        params![source, watermark, now],
    )?;
    Ok(())
}

impl Cache {
    /// The state of `source`, if it was ever refreshed.
    pub fn source_state(&self, source: &str) -> Result<Option<SourceState>, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT source, watermark, last_success, last_error FROM sync_state WHERE source = ?1", params![source], |r| {
                Ok(SourceState { source: r.get(0)?, watermark: r.get(1)?, last_success: r.get(2)?, last_error: r.get(3)? })
            })
            .optional()?)
    }

    /// Every source's state, by name.
    pub fn source_states(&self) -> Result<Vec<SourceState>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT source, watermark, last_success, last_error FROM sync_state ORDER BY source",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceState {
                source: r.get(0)?,
                watermark: r.get(1)?,
                last_success: r.get(2)?,
                last_error: r.get(3)?,
            })
        })?;
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
