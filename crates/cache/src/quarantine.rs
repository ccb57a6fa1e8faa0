//! Records the tenant sent that whalewatch could not take (no key, unreadable, an
//! invalid time), kept verbatim per source so the analyst can see what was left out
//! (`whalewatch quarantine`). The same record sent again updates its row, not a new one.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::outbox::has_table;
use super::{Cache, CacheError, Writer};
use whalewatch_model::json::RejectedRecord;

/// One quarantined record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedRecord {
    /// The source it came from (`alerts`, `users`, `EmailEvents`, ...).
    pub source: String,
    /// Why it was rejected.
    pub reason: String,
    /// The record as received (untrusted: sanitise before showing).
    pub raw: String,
    /// When it was last received (100-ns ticks since 0001-01-01, like every cached time).
    pub received: i64,
}

impl Writer<'_> {
    /// Keeps `rejected` records of `source`, received at `now` (ticks).
    pub fn quarantine(
        &self,
        source: &str,
        rejected: &[RejectedRecord],
        now: i64,
    ) -> Result<(), CacheError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO quarantine (source, reason, raw, received) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source, raw) DO UPDATE SET reason = excluded.reason,
                                                    received = excluded.received",
        )?;
        for r in rejected {
            stmt.execute(params![source, r.reason, r.raw, now])?;
        }
        Ok(())
    }
}

impl Cache {
    /// Quarantined records, newest first, of one source (case-insensitive) or all.
    pub fn quarantined(&self, source: Option<&str>) -> Result<Vec<QuarantinedRecord>, CacheError> {
        if !has_table(&self.conn, "quarantine")? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT source, reason, raw, received FROM quarantine
             WHERE ?1 IS NULL OR source = ?1 COLLATE NOCASE
             ORDER BY received DESC, id DESC",
        )?;
        let rows = stmt.query_map(params![source], |r| {
            Ok(QuarantinedRecord {
                source: r.get(0)?,
                reason: r.get(1)?,
                raw: r.get(2)?,
                received: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many records `source` has in quarantine.
    pub fn quarantined_count(&self, source: &str) -> Result<u64, CacheError> {
        if !has_table(&self.conn, "quarantine")? {
            return Ok(0);
        }
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT count(*) FROM quarantine WHERE source = ?1",
                params![source],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_records_are_kept_once_per_source_and_listed() {
        let dir = std::env::temp_dir().join(format!("ww-quarantine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cache = Cache::open(&dir.join("c.sqlite")).unwrap();
        let bad = |raw: &str| RejectedRecord {
            reason: "the record has no id".into(),
            raw: raw.into(),
        };
        cache
            .write(|tx| tx.quarantine("users", &[bad("{\"a\":1}"), bad("{\"b\":2}")], 10))
            .unwrap();
        cache
            .write(|tx| tx.quarantine("users", &[bad("{\"a\":1}")], 20))
            .unwrap();
        cache
            .write(|tx| tx.quarantine("alerts", &[bad("{\"a\":1}")], 15))
            .unwrap();
        let users = cache.quarantined(Some("USERS")).unwrap();
        assert_eq!(
            users
                .iter()
                .map(|r| (r.raw.as_str(), r.received))
                .collect::<Vec<_>>(),
            [("{\"a\":1}", 20), ("{\"b\":2}", 10)]
        );
        assert_eq!(cache.quarantined(None).unwrap().len(), 3);
        assert_eq!(cache.quarantined_count("alerts").unwrap(), 1);
        drop(cache);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
