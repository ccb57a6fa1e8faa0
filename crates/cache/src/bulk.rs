//! Bulk loads: a first refresh appends into hunting tables without their key
//! indexes and builds them once at the end.
//!
//! Keeping a unique index on `(NetworkMessageId, RecipientEmailAddress)` current
//! while a million rows arrive in random key order costs more than the rows
//! themselves; sorting the keys once afterwards (what `CREATE INDEX` does) is much
//! cheaper. This only applies to a table that is empty when its pull starts: later
//! refreshes upsert into the indexed table as before.
//!
//! The indexes to restore are not remembered anywhere: they are whatever the
//! schema's migrations define, read from a throwaway in-memory database built from
//! the same migrations. So a refresh killed during a load leaves a table with its
//! rows and without indexes, and the next refresh ([`Cache::restore_indexes`])
//! builds exactly the missing ones — whatever indexes later migrations add.

use std::collections::HashSet;
use std::sync::OnceLock;

use rusqlite::Connection;

use super::{Cache, CacheError, hunting, schema};

/// An index the schema defines.
#[derive(Debug, Clone)]
struct IndexDef {
    name: String,
    table: String,
    sql: String,
    unique: bool,
    columns: Vec<String>,
}

/// Every index of the hunting tables, as the migrations leave them.
fn schema_indexes() -> &'static [IndexDef] {
    static DEFS: OnceLock<Vec<IndexDef>> = OnceLock::new();
    DEFS.get_or_init(|| read_schema_indexes().unwrap_or_default())
}

fn read_schema_indexes() -> rusqlite::Result<Vec<IndexDef>> {
    let conn = Connection::open_in_memory()?;
    for sql in schema::MIGRATIONS {
        conn.execute_batch(sql)?;
    }
    let mut stmt = conn.prepare(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (name, table, sql) in rows {
        if hunting::key_of(&table).is_none() {
            continue;
        }
        let unique: bool = conn.query_row(
            "SELECT \"unique\" FROM pragma_index_list(?1) WHERE name = ?2",
            [&table, &name],
            |r| r.get(0),
        )?;
        let mut cols = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
        let columns = cols
            .query_map([&name], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push(IndexDef {
            name,
            table,
            sql,
            unique,
            columns,
        });
    }
    Ok(out)
}

fn existing_indexes(conn: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'index'")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

fn quoted(cols: &[String]) -> String {
    cols.iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cache {
    /// Starts a bulk load of hunting table `table` if it is empty: drops its unique
    /// indexes (they come back with [`Cache::restore_indexes`]). Returns whether it did.
    pub fn begin_bulk_load(&mut self, table: &str) -> Result<bool, CacheError> {
        if hunting::key_of(table).is_none() {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        let empty: bool = tx.query_row(
            &format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"),
            [],
            |r| r.get(0),
        )?;
        if !empty {
            return Ok(false);
        }
        // Only the unique (natural key) indexes: rows arrive in time order, so the
        // time index grows at its end and costs little to keep, whereas keys are
        // random and would touch every page of their index on every window.
        let names: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND origin = 'c'",
            )?;
            stmt.query_map([table], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for name in names {
            tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        tx.commit()?;
        self.bulk.insert(table.to_string());
        Ok(true)
    }

    /// Whether `table` is being bulk-loaded through this connection: rows are then
    /// appended ([`super::Writer::insert_batch`]) rather than upserted.
    pub fn bulk_loading(&self, table: &str) -> bool {
        self.bulk.contains(table)
    }

    /// Builds every index the schema defines on the hunting tables (only `table`'s
    /// when given) that the cache lacks. When a unique index meets repeated keys
    /// (the service sent a row twice during a bulk load), the latest copy is kept,
    /// as an upsert would have. Returns how many repeated rows were removed.
    pub fn restore_indexes(&mut self, table: Option<&str>) -> Result<u64, CacheError> {
        match table {
            Some(t) => {
                self.bulk.remove(t);
            }
            None => self.bulk.clear(),
        }
        let defs = schema_indexes();
        let have = existing_indexes(&self.conn)?;
        let missing: Vec<&IndexDef> = defs
            .iter()
            .filter(|d| !have.contains(&d.name) && table.is_none_or(|t| t == d.table))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let mut removed = 0u64;
        for d in missing {
            match tx.execute_batch(&d.sql) {
                Ok(()) => {}
                // Repeated keys make a unique index fail: keep the newest copy of
                // each (checked only on failure: looking first costs a second sort).
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if d.unique && f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    removed += tx.execute(
                        &format!(
                            "DELETE FROM {t} WHERE rowid NOT IN (SELECT max(rowid) FROM {t} GROUP BY {cols})",
                            t = d.table,
                            cols = quoted(&d.columns)
                        ),
                        [],
                    )? as u64;
                    tx.execute_batch(&d.sql)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if removed > 0 {
            super::queries::bump_generation(&tx)?;
        }
        tx.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whalewatch_model::batch::RowBatch;
    use whalewatch_model::email::EmailEvent;

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ww-bulk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn batch(rows: &[(&str, &str, &str)]) -> RowBatch {
        let body = serde_json::json!({
            "schema": [],
            "results": rows.iter().map(|(n, r, s)| serde_json::json!({
                "Timestamp": "2026-10-30T08:00:00Z",
                "NetworkMessageId": n, "RecipientEmailAddress": r, "Subject": s,
            })).collect::<Vec<_>>(),
        });
        RowBatch::parse::<EmailEvent>(body.to_string().as_bytes()).unwrap()
    }

    fn index_names(c: &Cache) -> Vec<String> {
        let mut v: Vec<String> = existing_indexes(c.connection())
            .unwrap()
            .into_iter()
            .filter(|n| n.starts_with("email_events"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_bulk_load_drops_and_restores_the_schema_indexes_keeping_the_latest_repeat() {
        let dir = temp("load");
        let mut c = Cache::open(&dir.join("t.sqlite")).unwrap();
        let before = index_names(&c);
        assert_eq!(before, vec!["email_events_key", "email_events_time"]);
        assert!(c.begin_bulk_load("email_events").unwrap());
        assert_eq!(index_names(&c), vec!["email_events_time"]);
        let rows = batch(&[
            ("n1", "a@x", "old"),
            ("n2", "a@x", "b"),
            ("n1", "a@x", "new"),
        ]);
        let stats = c.write(|w| w.insert_batch::<EmailEvent>(&rows)).unwrap();
        assert_eq!(stats.new, 3);
        assert_eq!(c.restore_indexes(None).unwrap(), 1);
        assert_eq!(index_names(&c), before);
        let back: Vec<EmailEvent> = c
            .select(Some("\"NetworkMessageId\" = ?"), &[&"n1"], None)
            .unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].subject, "new");
        // A table with rows is not bulk-loaded: later refreshes upsert.
        assert!(!c.begin_bulk_load("email_events").unwrap());
        assert_eq!(index_names(&c), before);
        // Nothing missing: nothing to do.
        assert_eq!(c.restore_indexes(None).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_load_interrupted_before_its_indexes_came_back_is_repaired_by_the_next_refresh() {
        let dir = temp("crash");
        let path = dir.join("t.sqlite");
        {
            let mut c = Cache::open(&path).unwrap();
            assert!(c.begin_bulk_load("email_events").unwrap());
            let rows = batch(&[("n1", "a@x", "s")]);
            c.write(|w| w.insert_batch::<EmailEvent>(&rows)).unwrap();
            // Dropped here: the process "dies" before restoring.
        }
        let mut c = Cache::open(&path).unwrap();
        assert_eq!(index_names(&c), vec!["email_events_time"]);
        c.restore_indexes(None).unwrap();
        assert_eq!(
            index_names(&c),
            vec!["email_events_key", "email_events_time"]
        );
        // Upserts work again (they need the unique index).
        let rows = batch(&[("n1", "a@x", "changed")]);
        let stats = c.write(|w| w.upsert_batch::<EmailEvent>(&rows)).unwrap();
        assert_eq!(stats.updated, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
