//! Posture sources in the cache: each record's JSON (as `model::posture` serialises
//! it) beside the keys it is looked up by, the imported Exchange snapshot, and each
//! source's availability from `sync_state`.
//!
//! Full listings (MFA registration, policies, memberships, risky users, Secure Score)
//! are replaced per refresh; sign-ins are upserted and trimmed to the retention the
//! refresh asks for; message traces are the refresh's window, replaced.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Cache, CacheError, UpsertStats};
use whalewatch_model::hunting::{from_ticks, to_ticks};
use whalewatch_model::posture::{
    AccountMemberships, ConditionalAccessPolicy, ExchangeSnapshot, MessageTrace, MfaRegistration,
    PostureSources, RiskyUser, SecureScore, SecureScoreControl, SignIn, SourceAvailability, source,
};

/// One replaceable posture listing: its table and how a record maps to its keys.
pub trait PostureRecord: Serialize + DeserializeOwned {
    /// The cache table.
    const TABLE: &'static str;
    /// Key columns after `json`, in the table's column order.
    const KEYS: &'static [&'static str];
    /// The key values, as SQL values.
    fn keys(&self) -> Vec<rusqlite::types::Value>;
    /// The order records are read back in.
    const ORDER: &'static str;
}

fn text(s: &str) -> rusqlite::types::Value {
    rusqlite::types::Value::Text(s.to_owned())
}

fn opt(s: Option<&str>) -> rusqlite::types::Value {
    s.map_or(rusqlite::types::Value::Null, text)
}

fn time(t: Option<&chrono::DateTime<chrono::Utc>>) -> rusqlite::types::Value {
    rusqlite::types::Value::Integer(t.map_or(0, to_ticks))
}

impl PostureRecord for MfaRegistration {
    const TABLE: &'static str = "posture_mfa";
    const KEYS: &'static [&'static str] = &["user_id", "upn"];
    const ORDER: &'static str = "upn, user_id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![
            text(&self.id),
            text(&self.user_principal_name.to_lowercase()),
        ]
    }
}

impl PostureRecord for ConditionalAccessPolicy {
    const TABLE: &'static str = "posture_ca_policies";
    const KEYS: &'static [&'static str] = &["id"];
    const ORDER: &'static str = "id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![text(&self.id)]
    }
}

impl PostureRecord for AccountMemberships {
    const TABLE: &'static str = "posture_memberships";
    const KEYS: &'static [&'static str] = &["user_id"];
    const ORDER: &'static str = "user_id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![text(&self.user_id)]
    }
}

impl PostureRecord for RiskyUser {
    const TABLE: &'static str = "posture_risky_users";
    const KEYS: &'static [&'static str] = &["user_id", "upn"];
    const ORDER: &'static str = "user_id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![
            text(&self.id),
            opt(self
                .user_principal_name
                .as_deref()
                .map(str::to_lowercase)
                .as_deref()),
        ]
    }
}

impl PostureRecord for SecureScore {
    const TABLE: &'static str = "posture_secure_scores";
    const KEYS: &'static [&'static str] = &["id", "time"];
    // Oldest first, as `PostureSources::scores` promises.
    const ORDER: &'static str = "time, id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![text(&self.id), time(self.created_date_time.as_ref())]
    }
}

impl PostureRecord for SecureScoreControl {
    const TABLE: &'static str = "posture_secure_controls";
    const KEYS: &'static [&'static str] = &["id"];
    const ORDER: &'static str = "id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![text(&self.id)]
    }
}

impl PostureRecord for MessageTrace {
    const TABLE: &'static str = "posture_message_traces";
    const KEYS: &'static [&'static str] = &["id", "recipient", "sender", "time"];
    const ORDER: &'static str = "time DESC, id, recipient";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![
            text(&self.id),
            text(
                &self
                    .recipient_address
                    .as_deref()
                    .unwrap_or_default()
                    .to_lowercase(),
            ),
            opt(self
                .sender_address
                .as_deref()
                .map(str::to_lowercase)
                .as_deref()),
            time(self.received_date_time.as_ref()),
        ]
    }
}

impl PostureRecord for SignIn {
    const TABLE: &'static str = "posture_sign_ins";
    const KEYS: &'static [&'static str] = &["id", "user_id", "upn", "time"];
    // Newest first, as `PostureSources::sign_ins` promises.
    const ORDER: &'static str = "time DESC, id";
    fn keys(&self) -> Vec<rusqlite::types::Value> {
        vec![
            text(&self.id),
            opt(self.user_id.as_deref()),
            opt(self
                .user_principal_name
                .as_deref()
                .map(str::to_lowercase)
                .as_deref()),
            time(self.created_date_time.as_ref()),
        ]
    }
}

fn to_json<T: Serialize>(r: &T) -> Result<String, CacheError> {
    serde_json::to_string(r).map_err(|e| CacheError::Row(e.to_string()))
}

fn insert_sql<T: PostureRecord>(verb: &str) -> String {
    let cols = T::KEYS.join(", ");
    let marks = (1..=T::KEYS.len() + 1)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{verb} INTO {} ({cols}, json) VALUES ({marks})", T::TABLE)
}

/// What writing `records` will change, measured before the write: a record cached
/// exactly so is unchanged, one whose first key column is cached is updated, the rest
/// are new (so a second refresh of the same tenant reports nothing new).
fn classify<T: PostureRecord>(
    tx: &Transaction<'_>,
    records: &[T],
) -> Result<UpsertStats, CacheError> {
    let key = T::KEYS[0];
    let mut same = tx.prepare_cached(&format!(
        "SELECT count(*) FROM {} WHERE {key} = ?1 AND json = ?2",
        T::TABLE
    ))?;
    let mut known = tx.prepare_cached(&format!(
        "SELECT count(*) FROM {} WHERE {key} = ?1",
        T::TABLE
    ))?;
    let mut stats = UpsertStats::default();
    for r in records {
        let first = r.keys().into_iter().next();
        let json = to_json(r)?;
        let count = |stmt: &mut rusqlite::CachedStatement<'_>, with_json: bool| {
            let n: i64 = if with_json {
                stmt.query_row(params![first, json], |row| row.get(0))?
            } else {
                stmt.query_row(params![first], |row| row.get(0))?
            };
            Ok::<_, CacheError>(n > 0)
        };
        if count(&mut same, true)? {
            stats.unchanged += 1;
        } else if count(&mut known, false)? {
            stats.updated += 1;
        } else {
            stats.new += 1;
        }
    }
    Ok(stats)
}

fn insert_all<T: PostureRecord>(
    tx: &Transaction<'_>,
    records: &[T],
    verb: &str,
) -> Result<(), CacheError> {
    let mut stmt = tx.prepare_cached(&insert_sql::<T>(verb))?;
    for r in records {
        let mut values = r.keys();
        values.push(rusqlite::types::Value::Text(to_json(r)?));
        stmt.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}

/// Replaces every record of `T`'s table with `records`.
pub fn replace<T: PostureRecord>(
    tx: &Transaction<'_>,
    records: &[T],
) -> Result<UpsertStats, CacheError> {
    let stats = classify(tx, records)?;
    tx.execute(&format!("DELETE FROM {}", T::TABLE), [])?;
    // OR REPLACE: the service may list a record twice across pages.
    insert_all(tx, records, "INSERT OR REPLACE")?;
    Ok(stats)
}

/// Records in `T`'s table.
pub fn len<T: PostureRecord>(tx: &Transaction<'_>) -> Result<i64, CacheError> {
    Ok(
        tx.query_row(&format!("SELECT count(*) FROM {}", T::TABLE), [], |r| {
            r.get(0)
        })?,
    )
}

/// Upserts sign-ins by id and forgets those older than `keep_since` (ticks).
pub fn upsert_sign_ins(
    tx: &Transaction<'_>,
    records: &[SignIn],
    keep_since: i64,
) -> Result<UpsertStats, CacheError> {
    let stats = classify(tx, records)?;
    insert_all(tx, records, "INSERT OR REPLACE")?;
    tx.execute(
        "DELETE FROM posture_sign_ins WHERE time < ?1",
        params![keep_since],
    )?;
    Ok(stats)
}

/// Stores `snapshot` as the Exchange snapshot (one at a time), stamped with its own
/// `generatedDateTime`.
pub fn store_exchange(
    tx: &Transaction<'_>,
    snapshot: &ExchangeSnapshot,
    imported: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "INSERT OR REPLACE INTO posture_exchange (id, generated, imported, json) VALUES (1, ?1, ?2, ?3)",
        params![
            snapshot.generated_date_time.as_ref().map(to_ticks),
            imported,
            to_json(snapshot)?
        ],
    )?;
    Ok(())
}

impl Cache {
    fn posture_records<T: PostureRecord>(&self) -> Result<Vec<T>, CacheError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT json FROM {} ORDER BY {}",
            T::TABLE,
            T::ORDER
        ))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            let json = json?;
            out.push(
                serde_json::from_str(&json)
                    .map_err(|e| CacheError::Row(format!("{}: {e}", T::TABLE)))?,
            );
        }
        Ok(out)
    }

    /// The imported Exchange snapshot, if any.
    pub fn exchange_snapshot(&self) -> Result<Option<ExchangeSnapshot>, CacheError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM posture_exchange WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| CacheError::Row(format!("posture_exchange: {e}")))
        })
        .transpose()
    }

    /// Object ids of the accounts with at least one cached sign-in (the refresh reads
    /// the others from the start of the sign-in window).
    pub fn signed_in_users(&self) -> Result<std::collections::HashSet<String>, CacheError> {
        let mut q = self.conn.prepare_cached(
            "SELECT DISTINCT user_id FROM posture_sign_ins WHERE user_id IS NOT NULL",
        )?;
        let ids = q.query_map([], |r| r.get::<_, String>(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// Every posture source as last refreshed or imported, with each source's
    /// availability.
    pub fn posture_sources(&self) -> Result<PostureSources, CacheError> {
        let mut sources = PostureSources {
            registrations: self.posture_records()?,
            sign_ins: self.posture_records()?,
            policies: self.posture_records()?,
            memberships: self.posture_records()?,
            risky_users: self.posture_records()?,
            scores: self.posture_records()?,
            controls: self.posture_records()?,
            traces: self.posture_records()?,
            exchange: self.exchange_snapshot()?,
            ..PostureSources::default()
        };
        for name in source::ALL {
            let availability = match self.source_state(name)? {
                None => SourceAvailability::Missing,
                Some(s) => match (s.grant, s.last_error, s.last_success) {
                    (Some(grant), message, _) => {
                        // Stored as `Refusal` displays it; the contract wants the
                        // tenant's own words.
                        let message = message.unwrap_or_default();
                        let tenant = message
                            .strip_prefix(&format!("unavailable: grant {grant} ("))
                            .and_then(|m| m.strip_suffix(')'))
                            .map(str::to_owned);
                        SourceAvailability::Unavailable {
                            grant,
                            message: tenant.unwrap_or(message),
                        }
                    }
                    (None, Some(message), as_of) => SourceAvailability::Failed {
                        message,
                        as_of: as_of.map(from_ticks),
                    },
                    (None, None, Some(t)) => SourceAvailability::Fresh {
                        as_of: from_ticks(t),
                    },
                    (None, None, None) => SourceAvailability::Missing,
                },
            };
            sources.availability.insert(name.to_string(), availability);
        }
        Ok(sources)
    }
}
