//! Alerts (with their evidence flattened for pivots), incidents, users, groups and
//! group memberships. Alerts and incidents keep the service's JSON verbatim: exports
//! carry raw values, and fields this build does not model are not lost.

use rusqlite::{OptionalExtension, Transaction, params};

use super::hunting::UpsertStats;
use super::{Cache, CacheError};
use whalewatch_model::alert::{Alert, Evidence, Incident};
use whalewatch_model::directory::{Group, User};
use whalewatch_model::hunting::to_ticks;

/// One flattened evidence item, for message → alert and user → alert pivots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvidenceRef {
    pub kind: String,
    pub network_message_id: Option<String>,
    pub recipient: Option<String>,
    pub account_upn: Option<String>,
    pub url: Option<String>,
}

impl EvidenceRef {
    /// Flattens one evidence item.
    pub fn of(e: &Evidence) -> EvidenceRef {
        let mut r = EvidenceRef {
            kind: e.kind().to_string(),
            ..EvidenceRef::default()
        };
        match e {
            Evidence::AnalyzedMessage(m) => {
                r.network_message_id = m.network_message_id.clone();
                r.recipient = m.recipient_email_address.clone();
            }
            Evidence::User(u) => {
                r.account_upn = u
                    .user_account
                    .as_ref()
                    .and_then(|a| a.user_principal_name.clone())
            }
            Evidence::Mailbox(m) => {
                r.account_upn = m.primary_address.clone().or_else(|| {
                    m.user_account
                        .as_ref()
                        .and_then(|a| a.user_principal_name.clone())
                })
            }
            Evidence::Url(u) => r.url = u.url.clone(),
            Evidence::Other(_) => {}
        }
        r
    }
}

/// A cached alert: the parsed alert plus what the cache knows about it.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// The alert, with the analyst's unconfirmed writes applied (see `pending`).
    pub alert: Alert,
    /// Unconfirmed writes on this alert, if any: show it as pending (or in conflict).
    pub pending: Option<super::outbox::PendingWrite>,
}

fn upsert_alert(tx: &Transaction<'_>, a: &Alert) -> Result<bool, CacheError> {
    let raw = serde_json::to_string(&a.raw).map_err(|e| CacheError::Row(e.to_string()))?;
    let changed = tx.prepare_cached(
        "INSERT INTO alerts (id, incident_id, last_update, created, status, severity, title, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, last_update = excluded.last_update,
           created = excluded.created, status = excluded.status, severity = excluded.severity,
           title = excluded.title, raw = excluded.raw
         WHERE raw IS NOT excluded.raw",
    )?.execute(params![
            a.id,
            a.incident_id,
            a.last_update_date_time.as_ref().map(to_ticks),
            a.created_date_time.as_ref().map(to_ticks),
            a.status.as_ref().map(|s| s.as_str().to_string()),
            a.severity.as_ref().map(|s| s.as_str().to_string()),
            a.title,
            raw
        ],
    )?;
    if changed > 0 {
        tx.prepare_cached("DELETE FROM alert_evidence WHERE alert_id = ?1")?
            .execute(params![a.id])?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO alert_evidence (alert_id, ordinal, kind, network_message_id, recipient, account_upn, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (i, e) in a.evidence.iter().enumerate() {
            let r = EvidenceRef::of(e);
            stmt.execute(params![
                a.id,
                i as i64,
                r.kind,
                r.network_message_id,
                r.recipient,
                r.account_upn,
                r.url
            ])?;
        }
    }
    Ok(changed > 0)
}

fn exists(tx: &Transaction<'_>, table: &str, id: &str) -> Result<bool, CacheError> {
    Ok(tx
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Tallies one upsert into `stats`.
fn tally(stats: &mut UpsertStats, existed: bool, changed: bool) {
    match (existed, changed) {
        (false, _) => stats.new += 1,
        (true, true) => stats.updated += 1,
        (true, false) => stats.unchanged += 1,
    }
}

/// Upserts alerts inside `tx`.
pub fn upsert_alerts(tx: &Transaction<'_>, alerts: &[Alert]) -> Result<UpsertStats, CacheError> {
    let mut stats = UpsertStats::default();
    for a in alerts {
        let existed = exists(tx, "alerts", &a.id)?;
        let changed = upsert_alert(tx, a)?;
        tally(&mut stats, existed, changed);
    }
    Ok(stats)
}

/// A JSON object serialised without one key.
struct WithoutKey<'a>(&'a serde_json::Map<String, serde_json::Value>, &'a str);

impl serde::Serialize for WithoutKey<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.0.iter().filter(|(k, _)| *k != self.1) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Upserts incidents (their alerts too, when expanded) inside `tx`.
pub fn upsert_incidents(
    tx: &Transaction<'_>,
    incidents: &[Incident],
) -> Result<UpsertStats, CacheError> {
    let mut stats = UpsertStats::default();
    for i in incidents {
        // Alerts are cached on their own; keeping them inside the incident too would
        // store every alert twice. Written without them (no copy of the incident).
        let raw = match i.raw.as_object() {
            Some(o) => serde_json::to_string(&WithoutKey(o, "alerts")),
            None => serde_json::to_string(&i.raw),
        }
        .map_err(|e| CacheError::Row(e.to_string()))?;
        let existed = exists(tx, "incidents", &i.id)?;
        let changed = tx.prepare_cached(
            "INSERT INTO incidents (id, last_update, created, status, severity, display_name, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET last_update = excluded.last_update, created = excluded.created,
               status = excluded.status, severity = excluded.severity, display_name = excluded.display_name, raw = excluded.raw
             WHERE raw IS NOT excluded.raw",
        )?.execute(params![
                i.id,
                i.last_update_date_time.as_ref().map(to_ticks),
                i.created_date_time.as_ref().map(to_ticks),
                i.status.as_ref().map(|s| s.as_str().to_string()),
                i.severity.as_ref().map(|s| s.as_str().to_string()),
                i.display_name,
                raw
            ],
        )? > 0;
        tally(&mut stats, existed, changed);
        upsert_alerts(tx, &i.alerts)?;
    }
    Ok(stats)
}

/// Replaces the directory: users and groups not seen in this refresh are removed.
pub fn replace_directory(
    tx: &Transaction<'_>,
    users: &[User],
    groups: &[Group],
) -> Result<UpsertStats, CacheError> {
    let mut stats = UpsertStats::default();
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY)",
        [],
    )?;
    tx.execute("DELETE FROM seen", [])?;
    {
        let mut seen = tx.prepare_cached("INSERT OR IGNORE INTO temp.seen (id) VALUES (?1)")?;
        let mut up = tx.prepare_cached(
            "INSERT INTO users (id, upn, mail, display_name, given_name, surname, department, job_title, country, enabled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET upn = excluded.upn, mail = excluded.mail, display_name = excluded.display_name,
               given_name = excluded.given_name, surname = excluded.surname, department = excluded.department,
               job_title = excluded.job_title, country = excluded.country, enabled = excluded.enabled
             WHERE (upn, mail, display_name, given_name, surname, department, job_title, country, enabled)
               IS NOT (excluded.upn, excluded.mail, excluded.display_name, excluded.given_name, excluded.surname,
                       excluded.department, excluded.job_title, excluded.country, excluded.enabled)",
        )?;
        for u in users {
            let existed = exists(tx, "users", &u.id)?;
            let changed = up.execute(params![
                u.id,
                u.user_principal_name,
                u.mail,
                u.display_name,
                u.given_name,
                u.surname,
                u.department,
                u.job_title,
                u.country,
                u.account_enabled
            ])? > 0;
            tally(&mut stats, existed, changed);
            seen.execute(params![u.id])?;
        }
        let mut upg = tx.prepare_cached(
            "INSERT INTO groups (id, display_name, description, mail) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, description = excluded.description, mail = excluded.mail",
        )?;
        for g in groups {
            upg.execute(params![g.id, g.display_name, g.description, g.mail])?;
            seen.execute(params![g.id])?;
        }
    }
    tx.execute(
        "DELETE FROM users WHERE id NOT IN (SELECT id FROM temp.seen)",
        [],
    )?;
    tx.execute(
        "DELETE FROM groups WHERE id NOT IN (SELECT id FROM temp.seen)",
        [],
    )?;
    Ok(stats)
}

/// Replaces the transitive members of `group_id`.
pub fn replace_members(
    tx: &Transaction<'_>,
    group_id: &str,
    members: &[(String, &'static str)],
) -> Result<(), CacheError> {
    tx.execute(
        "DELETE FROM group_members WHERE group_id = ?1",
        params![group_id],
    )?;
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO group_members (group_id, member_id, member_type) VALUES (?1, ?2, ?3)")?;
    for (id, kind) in members {
        stmt.execute(params![group_id, id, kind])?;
    }
    Ok(())
}

fn parse_raw<T>(
    raw: String,
    from: impl FnOnce(serde_json::Value) -> Result<T, serde_json::Error>,
) -> Result<T, CacheError> {
    let v: serde_json::Value =
        serde_json::from_str(&raw).map_err(|e| CacheError::Row(e.to_string()))?;
    from(v).map_err(|e| CacheError::Row(e.to_string()))
}

impl Cache {
    /// Cached alerts, most recently updated first. Queued and sending writes are
    /// applied on top of the tenant's last answer, so the analyst sees the new value at
    /// once; `pending` says it is not confirmed yet. A refresh never hides them: the
    /// stored `raw` stays the tenant's truth and the overlay is applied on read.
    pub fn alerts(&self) -> Result<Vec<AlertRow>, CacheError> {
        self.alerts_newest(None)
    }

    /// The `limit` most recently updated alerts (all when `None`), as [`Cache::alerts`]
    /// reads them. Parsing an alert costs ~90 µs, so the console's first frame reads
    /// one screenful this way and the rest on a worker thread.
    pub fn alerts_newest(&self, limit: Option<usize>) -> Result<Vec<AlertRow>, CacheError> {
        self.read_alerts(limit, true)
    }

    /// [`Cache::alerts_newest`] without each alert's JSON (`Alert::raw` is null), for
    /// a long-lived reader (the console): an alert without pending writes is parsed
    /// straight from its text, never as a tree of values — kept, that tree was the
    /// console's largest heap; built and dropped, it left the allocator's pages
    /// fragmented around the parsed alerts.
    pub fn alerts_newest_parsed(&self, limit: Option<usize>) -> Result<Vec<AlertRow>, CacheError> {
        self.read_alerts(limit, false)
    }

    fn read_alerts(&self, limit: Option<usize>, raw: bool) -> Result<Vec<AlertRow>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT raw FROM alerts ORDER BY last_update DESC, id LIMIT ?1")?;
        let limit = limit.map_or(-1, |n| n as i64);
        let raws: Vec<String> = stmt
            .query_map([limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let outbox = self.outbox()?;
        let pending = self.pending_alerts()?;
        let overlays = |e: &&super::outbox::OutboxEntry, id: &str| {
            e.target == id && e.state.is_pending() && !e.kind.is_incident()
        };
        raws.into_iter()
            .map(|text| {
                if !raw {
                    let alert = Alert::deserialize(&mut serde_json::Deserializer::from_str(&text))
                        .map_err(|e| CacheError::Row(e.to_string()))?;
                    if !outbox.iter().any(|e| overlays(&e, &alert.id)) {
                        return Ok(AlertRow {
                            pending: pending.get(&alert.id).cloned(),
                            alert,
                        });
                    }
                }
                let mut v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| CacheError::Row(e.to_string()))?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                for e in outbox.iter().filter(|e| overlays(e, &id)) {
                    super::outbox::overlay(&mut v, e);
                }
                let mut alert = Alert::from_value(v).map_err(|e| CacheError::Row(e.to_string()))?;
                if !raw {
                    alert.raw = serde_json::Value::Null;
                }
                Ok(AlertRow {
                    pending: pending.get(&alert.id).cloned(),
                    alert,
                })
            })
            .collect()
    }

    /// The alert as the tenant last sent it (no pending writes applied), if cached.
    pub fn tenant_alert(&self, id: &str) -> Result<Option<Alert>, CacheError> {
        let raw: Option<String> = self
            .conn
            .query_row("SELECT raw FROM alerts WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        raw.map(|raw| parse_raw(raw, Alert::from_value)).transpose()
    }

    /// Cached incidents, most recently updated first (without their alerts). Queued
    /// and sending triage writes are applied on top of the tenant's last answer, as
    /// [`Cache::alerts`] does; [`Cache::pending_incidents`] says which are unconfirmed.
    pub fn incidents(&self) -> Result<Vec<Incident>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT raw FROM incidents ORDER BY last_update DESC, id")?;
        let raws: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let outbox: Vec<_> = self
            .outbox()?
            .into_iter()
            .filter(|e| e.kind.is_incident() && e.state.is_pending())
            .collect();
        raws.into_iter()
            .map(|raw| {
                let mut v: serde_json::Value =
                    serde_json::from_str(&raw).map_err(|e| CacheError::Row(e.to_string()))?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                for e in outbox.iter().filter(|e| e.target == id) {
                    super::outbox::overlay(&mut v, e);
                }
                Incident::from_value(v).map_err(|e| CacheError::Row(e.to_string()))
            })
            .collect()
    }

    /// The incident as the tenant last sent it (no pending writes applied), if cached.
    pub fn tenant_incident(&self, id: &str) -> Result<Option<Incident>, CacheError> {
        let raw: Option<String> = self
            .conn
            .query_row(
                "SELECT raw FROM incidents WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        raw.map(|raw| parse_raw(raw, Incident::from_value))
            .transpose()
    }

    /// Cached directory users, by sign-in name.
    pub fn users(&self) -> Result<Vec<User>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, upn, mail, display_name, given_name, surname, department, job_title, country, enabled FROM users ORDER BY upn, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(User {
                id: r.get(0)?,
                user_principal_name: r.get(1)?,
                mail: r.get(2)?,
                display_name: r.get(3)?,
                given_name: r.get(4)?,
                surname: r.get(5)?,
                department: r.get(6)?,
                job_title: r.get(7)?,
                country: r.get(8)?,
                account_enabled: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many transitive members of `group_id` the cache holds.
    pub fn group_member_count(&self, group_id: &str) -> Result<u64, CacheError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM group_members WHERE group_id = ?1",
            params![group_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Cached groups, by display name.
    pub fn groups(&self) -> Result<Vec<Group>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, display_name, description, mail FROM groups ORDER BY display_name, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Group {
                id: r.get(0)?,
                display_name: r.get(1)?,
                description: r.get(2)?,
                mail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Alert ids whose evidence names the message (optionally one recipient of it).
    pub fn alerts_for_message(&self, network_message_id: &str) -> Result<Vec<String>, CacheError> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT alert_id FROM alert_evidence WHERE network_message_id = ?1 ORDER BY alert_id")?;
        let ids = stmt.query_map(params![network_message_id], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod lean_read_tests {
    use super::*;
    use crate::{NewOutboxEntry, OutboxKind};

    /// The console's read (no JSON kept, parsed straight from the text) gives the
    /// same alerts as the full read, with the analyst's pending writes applied.
    #[test]
    fn alerts_without_their_json_equal_the_full_read_pending_writes_included() {
        let dir = std::env::temp_dir().join(format!("ww-cache-lean-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&dir.join("c.sqlite")).unwrap();
        let alert = |id: &str, updated: &str| {
            Alert::from_value(serde_json::json!({
                "id": id,
                "title": format!("Phish delivered to {id}"),
                "status": "new",
                "severity": "high",
                "lastUpdateDateTime": updated,
                "createdDateTime": "2026-10-30T08:00:00Z",
                "comments": [],
                "evidence": [{
                    "@odata.type": "#microsoft.graph.security.userEvidence",
                    "userAccount": {"userPrincipalName": "ceo@contoso.com"}
                }],
                "unknownField": {"kept": true}
            }))
            .unwrap()
        };
        let alerts = [
            alert("a1", "2026-10-31T08:00:00Z"),
            alert("a2", "2026-10-31T09:00:00Z"),
        ];
        c.write(|w| {
            w.upsert_alerts(&alerts)?;
            w.enqueue(
                &NewOutboxEntry {
                    kind: OutboxKind::AlertUpdate,
                    target: "a1".into(),
                    payload: serde_json::json!({"status": "resolved"}),
                    base_last_update: None,
                    analyst: "analyst@contoso.com".into(),
                },
                0,
            )
        })
        .unwrap();
        let full = c.alerts_newest(None).unwrap();
        let lean = c.alerts_newest_parsed(None).unwrap();
        assert_eq!(full.len(), 2);
        assert!(full.iter().all(|r| r.alert.raw.is_object()));
        assert!(lean.iter().all(|r| r.alert.raw.is_null()), "no JSON kept");
        for (f, l) in full.iter().zip(&lean) {
            let mut f = f.alert.clone();
            f.raw = serde_json::Value::Null;
            assert_eq!(f, l.alert);
        }
        let a1 = lean.iter().find(|r| r.alert.id == "a1").unwrap();
        assert_eq!(
            a1.alert.status.as_ref().map(|s| s.as_str()),
            Some("resolved"),
            "the pending write is applied"
        );
        assert!(a1.pending.is_some());
        assert_eq!(c.alerts_newest_parsed(Some(1)).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
