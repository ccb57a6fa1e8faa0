//! The local cache: one SQLite file per profile, the durable truth the console opens
//! instantly and offline. `sync` is its only writer; readers (the query engine, the
//! CLI) open it alongside, which WAL mode allows while a refresh writes.
//!
//! Files are owner-only (directory 0700, database 0600): the cache holds tenant
//! mail metadata. Secrets never enter it.

mod bulk;
mod entities;
mod hunting;
mod journal;
mod notes;
mod outbox;
mod posture;
mod quarantine;
mod queries;
mod schema;
mod state;
mod tags;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use entities::{AlertRow, EvidenceRef};
pub use hunting::{CachedRow, UpsertStats};
pub use journal::{JournalEntry, JournalResult};
pub use notes::{Note, NoteTarget};
pub use outbox::{NewOutboxEntry, OutboxEntry, OutboxKind, OutboxState, PendingWrite};
pub use posture::PostureRecord;
pub use quarantine::QuarantinedRecord;
pub use queries::{MailLog, ScanRow, SideScan};
pub use state::SourceState;
pub use tags::{TagMember, TagSource};

/// Whether `e` (anywhere in an error chain) is SQLite finding the cache damaged
/// (a bad page met by a query, not only at open): callers name the file and advise.
/// Errors already classified as [`CacheError::Corrupt`] or [`CacheError::Empty`]
/// say so themselves and are not counted.
pub fn reports_damage(e: &(dyn std::error::Error + 'static)) -> bool {
    let sql = e
        .downcast_ref::<rusqlite::Error>()
        .or(match e.downcast_ref::<CacheError>() {
            Some(CacheError::Sql(s)) => Some(s),
            _ => None,
        });
    matches!(
        sql.and_then(|s| s.sqlite_error_code()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Why the cache cannot be used; messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the cache directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the cache {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the cache {path} was written by a newer whalewatch (schema {found}, this build knows {known}); upgrade whalewatch or use another --cache-dir"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the cache {path} is damaged ({detail}); move it aside and run `whalewatch refresh` to rebuild it"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the cache {path} has no tables: it is empty or its creation never finished; move it aside and run `whalewatch refresh` to rebuild it"
    )]
    Empty { path: PathBuf },
    #[error(
        "the cache file {path} is not writable ({source}); `whalewatch query` and the console can still read it; to refresh, make it writable (chmod u+w) or use another --cache-dir"
    )]
    FileNotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the cache directory {path} is not writable (SQLite keeps its journal files beside the cache); make it writable (chmod u+w) or use another --cache-dir; `whalewatch query` can still read the cache"
    )]
    DirNotWritable { path: PathBuf },
    #[error("cache query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("a cached row cannot be read: {0}")]
    Row(String),
}

/// An open cache.
pub struct Cache {
    conn: Connection,
    path: PathBuf,
    /// Hunting tables being bulk-loaded through this connection (indexes dropped).
    bulk: std::collections::HashSet<String>,
}

/// The cache file of `profile` inside `dir`.
pub fn cache_file(dir: &Path, profile: &str) -> PathBuf {
    let safe: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.sqlite"))
}

impl Cache {
    /// Opens (creating if needed) the cache at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        whalewatch_config::paths::create_private_dir(dir).map_err(|source| CacheError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        create_owner_only(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::PermissionDenied if path.exists() => CacheError::FileNotWritable {
                path: path.to_path_buf(),
                source,
            },
            std::io::ErrorKind::PermissionDenied => CacheError::DirNotWritable {
                path: dir.to_path_buf(),
            },
            _ => CacheError::Open {
                path: path.to_path_buf(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(source.to_string()),
                ),
            },
        })?;
        let conn = Connection::open_with_flags(
            path,
            // NO_MUTEX: a `Connection` is used from one thread at a time (Rust makes
            // sure), so SQLite's per-call locking is pure cost (~7% of a bulk load).
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| CacheError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cache = Cache {
            conn,
            path: path.to_path_buf(),
            bulk: Default::default(),
        };
        cache.configure().map_err(|e| cache.classify(e))?;
        // Take (and give back) the write lock now: in a read-only directory SQLite
        // opens the file but cannot create its WAL, and would fail only at the first
        // write, halfway through a refresh, as "attempt to write a readonly database".
        cache
            .conn
            .execute_batch("BEGIN IMMEDIATE; ROLLBACK")
            .map_err(|e| cache.classify(e))?;
        cache.migrate().map_err(|e| match e {
            CacheError::Sql(e) => cache.classify(e),
            e => e,
        })?;
        Ok(cache)
    }

    /// Runs SQLite's `quick_check` over the whole file: a damaged page anywhere is
    /// [`CacheError::Corrupt`]. A refresh runs it before writing (a damaged cache must
    /// not be written on and reported as refreshed); readers run it after a refresh
    /// ended uncleanly.
    pub fn quick_check(&self) -> Result<(), CacheError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA quick_check(1)")
            .map_err(|e| self.classify(e))?;
        let first: String = stmt
            .query_row([], |r| r.get(0))
            .map_err(|e| self.classify(e))?;
        if first == "ok" {
            Ok(())
        } else {
            Err(CacheError::Corrupt {
                path: self.path.clone(),
                detail: first,
            })
        }
    }

    /// `e` with its file named and advice given, when SQLite reports the file damaged.
    pub fn explain(&self, e: CacheError) -> CacheError {
        match e {
            CacheError::Sql(e) => self.classify(e),
            e => e,
        }
    }

    /// Opens an existing cache read-only (the console and `query` while a refresh runs).
    pub fn open_read_only(path: &Path) -> Result<Cache, CacheError> {
        match Self::open_read_only_with(path, false) {
            // A read-only directory (or file) keeps SQLite from making the shared
            // memory file WAL readers use. Nobody can write there either, so the file
            // cannot change under us: read it as immutable.
            Err(CacheError::Open { source, .. } | CacheError::Sql(source))
                if matches!(
                    source.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
                ) && path.exists() =>
            {
                Self::open_read_only_with(path, true)
            }
            Err(CacheError::DirNotWritable { .. } | CacheError::FileNotWritable { .. })
                if path.exists() =>
            {
                Self::open_read_only_with(path, true)
            }
            other => other,
        }
    }

    fn open_read_only_with(path: &Path, immutable: bool) -> Result<Cache, CacheError> {
        let conn = if immutable {
            let mut url = url::Url::from_file_path(std::path::absolute(path).map_err(|e| {
                CacheError::Open {
                    path: path.to_path_buf(),
                    source: rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(e.to_string()),
                    ),
                }
            })?)
            .map_err(|()| CacheError::Row(format!("{} is not a file path", path.display())))?;
            url.set_query(Some("immutable=1"));
            Connection::open_with_flags(
                url.as_str(),
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
        } else {
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
        .map_err(|source| CacheError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let cache = Cache {
            conn,
            path: path.to_path_buf(),
            bulk: Default::default(),
        };
        cache
            .conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| cache.classify(e))?;
        let version: i64 = cache
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| cache.classify(e))?;
        if version > schema::MIGRATIONS.len() as i64 {
            return Err(CacheError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: schema::MIGRATIONS.len() as i64,
            });
        }
        if version == 0 {
            return Err(CacheError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(cache)
    }

    /// Where the cache lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Email rows are wide (~1 KB): 16 KiB pages hold a dozen of them and made bulk
        // loads ~25% faster than the 4 KiB default. Takes effect only on a new file.
        self.conn.pragma_update(None, "page_size", 16_384)?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: a crash may lose the last transactions, never corrupt.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn.pragma_update(None, "cache_size", -65_536)?;
        // A `REPLACE` that deletes a row fires delete triggers only with this on: the
        // email rows' rewrite counter (schema 8) must see it.
        self.conn.pragma_update(None, "recursive_triggers", true)?;
        Ok(())
    }

    /// Turns "not a database" and friends into an actionable message.
    fn classify(&self, e: rusqlite::Error) -> CacheError {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                ) =>
            {
                CacheError::Corrupt {
                    path: self.path.clone(),
                    detail: e.to_string(),
                }
            }
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
                ) =>
            {
                let dir = self
                    .path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                match whalewatch_config::paths::private_options()
                    .truncate(false)
                    .open(&self.path)
                {
                    Err(source) => CacheError::FileNotWritable {
                        path: self.path.clone(),
                        source,
                    },
                    Ok(_) => CacheError::DirNotWritable {
                        path: dir.to_path_buf(),
                    },
                }
            }
            _ => CacheError::Sql(e),
        }
    }

    fn migrate(&mut self) -> Result<(), CacheError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.classify(e))?;
        let known = schema::MIGRATIONS.len() as i64;
        if version > known {
            return Err(CacheError::TooNew {
                path: self.path.clone(),
                found: version,
                known,
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Runs `f` in one transaction: everything it writes commits together or not at
    /// all, which is what keeps a killed refresh from leaving half a batch.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&Writer<'_>) -> Result<T, CacheError>,
    ) -> Result<T, CacheError> {
        let tx = self.conn.transaction()?;
        let out = f(&Writer { tx: &tx })?;
        queries::bump_generation(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// For a long refresh: stop checkpointing the WAL after every few pages (which
    /// would copy each page twice while loading); [`Cache::checkpoint`] does it once
    /// at the end. A crash in between loses nothing: SQLite replays the WAL on open.
    pub fn defer_checkpoints(&self) -> Result<(), CacheError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Makes every later commit on this connection durable against power loss too,
    /// not only against a crash (the default, `synchronous = NORMAL`, may lose the last
    /// commits on power loss). Triage uses it: a queued write the analyst saw accepted
    /// must not vanish.
    pub fn sync_fully(&self) -> Result<(), CacheError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    }

    /// A second connection to this cache that only checkpoints, so a refresh can copy
    /// committed pages into the database file on another thread while its writer
    /// goes on writing (SQLite lets one checkpointer run beside one writer).
    pub fn checkpointer(&self) -> Result<Checkpointer, CacheError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| CacheError::Open {
            path: self.path.clone(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Checkpointer { conn })
    }

    /// Folds the WAL back into the database file and truncates it.
    pub fn checkpoint(&self) -> Result<(), CacheError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        Ok(())
    }

    /// The connection, for tests that inspect the file itself (pragmas, raw rows).
    /// The layers above read through the typed queries (`queries.rs`) only.
    #[cfg(any(test, feature = "test-support"))]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Rows in a cache table (`email_events`, `alerts`, ...).
    pub fn count(&self, table: &str) -> Result<i64, CacheError> {
        if !TABLES.contains(&table) {
            return Err(CacheError::Row(format!("no cache table `{table}`")));
        }
        Ok(self
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    }

    /// Every row of every table in key order, one line per row: two caches with the
    /// same contents dump to the same bytes (tests compare refreshes this way).
    pub fn dump(&self, out: &mut dyn std::io::Write) -> Result<(), CacheError> {
        self.dump_except(&[], out)
    }

    /// [`Cache::dump`] without the tables in `skip`: `sync_state` holds the times of
    /// the refresh itself, which differ between two refreshes of the same data.
    pub fn dump_except(
        &self,
        skip: &[&str],
        out: &mut dyn std::io::Write,
    ) -> Result<(), CacheError> {
        for table in TABLES.iter().filter(|t| !skip.contains(t)) {
            let sql = format!("SELECT * FROM {table} ORDER BY {}", order_of(table));
            let mut stmt = self.conn.prepare(&sql)?;
            let n = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let mut line = table.to_string();
                for i in 0..n {
                    let v: rusqlite::types::Value = row.get(i)?;
                    line.push('\t');
                    line.push_str(&format!("{v:?}"));
                }
                line.push('\n');
                out.write_all(line.as_bytes())
                    .map_err(|e| CacheError::Row(e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// A connection that copies committed WAL pages into the database file (see
/// [`Cache::checkpointer`]).
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    /// Copies what it can without waiting for readers or the writer.
    pub fn passive(&self) -> Result<(), CacheError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// The write side of one transaction (see [`Cache::write`]).
pub struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

impl Writer<'_> {
    /// Upserts hunting rows by natural key.
    pub fn upsert_rows<R: CachedRow>(&self, rows: &[R]) -> Result<UpsertStats, CacheError> {
        hunting::upsert(self.tx, rows)
    }
    /// Upserts a parsed batch of `R` rows by natural key (the refresh's fast path).
    pub fn upsert_batch<R: CachedRow>(
        &self,
        batch: &whalewatch_model::batch::RowBatch,
    ) -> Result<UpsertStats, CacheError> {
        hunting::upsert_batch::<R>(self.tx, batch)
    }
    /// Appends a parsed batch during a bulk load ([`Cache::begin_bulk_load`]).
    pub fn insert_batch<R: CachedRow>(
        &self,
        batch: &whalewatch_model::batch::RowBatch,
    ) -> Result<UpsertStats, CacheError> {
        hunting::insert_batch::<R>(self.tx, batch)
    }
    /// Records the priority-account recipients of a parsed `EmailEvents` batch.
    pub fn note_protected_recipients(
        &self,
        batch: &whalewatch_model::batch::RowBatch,
    ) -> Result<(), CacheError> {
        tags::note_protected(self.tx, batch)
    }
    /// Upserts alerts and their flattened evidence.
    pub fn upsert_alerts(
        &self,
        alerts: &[whalewatch_model::alert::Alert],
    ) -> Result<UpsertStats, CacheError> {
        entities::upsert_alerts(self.tx, alerts)
    }
    /// Upserts incidents (and their alerts, when expanded).
    pub fn upsert_incidents(
        &self,
        incidents: &[whalewatch_model::alert::Incident],
    ) -> Result<UpsertStats, CacheError> {
        entities::upsert_incidents(self.tx, incidents)
    }
    /// Replaces users and groups with this refresh's view of the directory.
    pub fn replace_directory(
        &self,
        users: &[whalewatch_model::directory::User],
        groups: &[whalewatch_model::directory::Group],
    ) -> Result<UpsertStats, CacheError> {
        entities::replace_directory(self.tx, users, groups)
    }
    /// Replaces a group's transitive members: (object id, "user" | "group").
    pub fn replace_members(
        &self,
        group_id: &str,
        members: &[(String, &'static str)],
    ) -> Result<(), CacheError> {
        entities::replace_members(self.tx, group_id, members)
    }
    /// Replaces every tag and membership; says what changed.
    pub fn replace_tags(
        &self,
        tags: &[(String, bool)],
        members: &[TagMember],
    ) -> Result<UpsertStats, CacheError> {
        tags::replace_tags(self.tx, tags, members)
    }
    /// Moves a source's watermark (with the rows it covers, in this transaction).
    pub fn advance(
        &self,
        source: &str,
        watermark: Option<i64>,
        now: i64,
    ) -> Result<(), CacheError> {
        state::advance(self.tx, source, watermark, now)
    }
    /// Records that `source` could not be refreshed: refused (`grant` names the
    /// permission or licence), or failed; its older data stays.
    pub fn fail_source(
        &self,
        source: &str,
        error: &str,
        grant: Option<&str>,
    ) -> Result<(), CacheError> {
        state::fail(self.tx, source, error, grant)
    }
    /// Replaces a posture listing (MFA registration, policies, ...).
    pub fn replace_posture<T: PostureRecord>(
        &self,
        records: &[T],
    ) -> Result<UpsertStats, CacheError> {
        posture::replace(self.tx, records)
    }
    /// Records in posture listing `T` (an empty answer must not wipe them silently).
    pub fn posture_len<T: PostureRecord>(&self) -> Result<i64, CacheError> {
        posture::len::<T>(self.tx)
    }
    /// Upserts sign-ins and forgets those before `keep_since` (ticks).
    pub fn upsert_sign_ins(
        &self,
        records: &[whalewatch_model::posture::SignIn],
        keep_since: i64,
    ) -> Result<UpsertStats, CacheError> {
        posture::upsert_sign_ins(self.tx, records, keep_since)
    }
    /// Stores the Exchange snapshot (replacing the previous one).
    pub fn store_exchange_snapshot(
        &self,
        snapshot: &whalewatch_model::posture::ExchangeSnapshot,
        imported: i64,
    ) -> Result<(), CacheError> {
        posture::store_exchange(self.tx, snapshot, imported)
    }
    /// Queues a tenant write (see [`outbox`](self::outbox)); returns its id.
    pub fn enqueue(&self, e: &NewOutboxEntry, now_ms: i64) -> Result<i64, CacheError> {
        outbox::enqueue(self.tx, e, now_ms)
    }
    /// Marks a write as possibly on the wire, with what the tenant showed before it.
    pub fn mark_sending(
        &self,
        id: i64,
        seen_count: Option<i64>,
        now_ms: i64,
    ) -> Result<(), CacheError> {
        outbox::mark_sending(self.tx, id, seen_count, now_ms)
    }
    /// Moves a write to `state`, recording the error the analyst should see.
    pub fn set_outbox_state(
        &self,
        id: i64,
        state: OutboxState,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), CacheError> {
        outbox::set_state(self.tx, id, state, error, now_ms)
    }
    /// Replaces the `lastUpdateDateTime` a write was made against (overwrite a conflict).
    pub fn set_outbox_base(
        &self,
        id: i64,
        base: Option<&str>,
        now_ms: i64,
    ) -> Result<(), CacheError> {
        outbox::set_base(self.tx, id, base, now_ms)
    }
    /// After one of our own writes moved an alert's `lastUpdateDateTime` from `old`
    /// to `new`, the alert's other pending writes (made against `old`) follow it, so
    /// our own change is not mistaken for a conflict.
    pub fn rebase_outbox(
        &self,
        target: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<usize, CacheError> {
        outbox::rebase(self.tx, target, old, new)
    }
    /// Removes a write (confirmed by the tenant, or discarded by the analyst).
    pub fn remove_outbox(&self, id: i64) -> Result<(), CacheError> {
        outbox::remove(self.tx, id)
    }
    /// Appends a journal line.
    pub fn journal(&self, e: &JournalEntry) -> Result<i64, CacheError> {
        journal::append(self.tx, e)
    }
    /// Stores a note on an email, alert, campaign or user.
    pub fn add_note(
        &self,
        kind: NoteTarget,
        target: &str,
        text: &str,
        analyst: &str,
        now_ms: i64,
    ) -> Result<i64, CacheError> {
        notes::add(self.tx, kind, target, text, analyst, now_ms)
    }
    /// Applies a post-delivery event to its message's latest location, so the cache
    /// shows where a message is now even before `EmailEvents` is re-read.
    pub fn apply_post_delivery(
        &self,
        e: &whalewatch_model::email::PostDeliveryEvent,
    ) -> Result<usize, CacheError> {
        let (Some(loc), true) = (
            e.delivery_location.as_ref(),
            e.action_result.eq_ignore_ascii_case("success"),
        ) else {
            return Ok(0);
        };
        Ok(self.tx.execute(
            "UPDATE email_events SET \"LatestDeliveryLocation\" = ?1, \"LatestDeliveryAction\" = ?2
             WHERE \"NetworkMessageId\" = ?3 AND \"RecipientEmailAddress\" = ?4 COLLATE NOCASE
               AND (\"LatestDeliveryLocation\" IS NOT ?1 OR \"LatestDeliveryAction\" IS NOT ?2)",
            rusqlite::params![
                loc.as_str(),
                e.action,
                e.network_message_id,
                e.recipient_email_address
            ],
        )?)
    }
}

/// Every table, in dump order.
pub const TABLES: &[&str] = &[
    "email_events",
    "email_urls",
    "email_attachments",
    "post_delivery_events",
    "url_clicks",
    "campaign_messages",
    "alerts",
    "alert_evidence",
    "incidents",
    "users",
    "groups",
    "group_members",
    "tags",
    "tag_members",
    "sync_state",
    "outbox",
    "journal",
    "notes",
    "posture_mfa",
    "posture_sign_ins",
    "posture_ca_policies",
    "posture_memberships",
    "posture_risky_users",
    "posture_secure_scores",
    "posture_secure_controls",
    "posture_message_traces",
    "posture_exchange",
];

fn order_of(table: &str) -> String {
    match hunting::key_of(table) {
        Some(key) => key
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", "),
        None => match table {
            "alert_evidence" => "alert_id, ordinal".into(),
            "group_members" => "group_id, member_id".into(),
            "tag_members" => "tag, address, source, detail".into(),
            "tags" => "name".into(),
            "sync_state" => "source".into(),
            "posture_mfa" | "posture_memberships" | "posture_risky_users" => "user_id".into(),
            "posture_message_traces" => "id, recipient".into(),
            _ => "id".into(),
        },
    }
}

/// Creates `path` empty with mode 0600 if it does not exist, so SQLite (which keeps
/// an existing file's mode, and gives its WAL the same) never makes it world-readable.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    whalewatch_config::paths::private_options()
        .truncate(false)
        .open(path)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ww-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn opens_with_owner_only_files_and_reopens_at_the_same_schema() {
        let dir = temp("open");
        let path = cache_file(&dir, "demo/profile");
        assert!(path.ends_with("demo_profile.sqlite"));
        let c = Cache::open(&path).unwrap();
        assert_eq!(c.count("email_events").unwrap(), 0);
        drop(c);
        let c = Cache::open(&path).unwrap();
        let v: i64 = c
            .connection()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::MIGRATIONS.len() as i64);
        let page: i64 = c
            .connection()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(page, 16_384);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_or_newer_cache_is_refused_with_advice() {
        let dir = temp("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.sqlite");
        std::fs::write(
            &path,
            b"this is not a database, it is a text file of some length....",
        )
        .unwrap();
        let e = Cache::open(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("damaged") && e.contains("whalewatch refresh"),
            "{e}"
        );
        let path = dir.join("new.sqlite");
        drop(Cache::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let e = Cache::open(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("newer whalewatch"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
