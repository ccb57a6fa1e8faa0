//! The outbox: tenant writes the analyst asked for and the tenant has not confirmed.
//!
//! The outbox is what makes a triage keystroke safe on a bad network: the change is
//! committed here first (and shown at once, marked pending), then `sync::triage`
//! sends it. A row leaves the table only in the transaction that stores the tenant's
//! confirmation, so a crash, `kill -9` or a dropped connection loses nothing. A row
//! is marked `sending` (committed) before its request goes out: after a crash such a
//! row may or may not have reached the tenant, and the flush checks the tenant before
//! sending it again (see ARCHITECTURE.md, "Triage writes").

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

use super::{Cache, CacheError};

/// What a queued write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    /// `PATCH /security/alerts_v2/{id}` (status, classification, determination, owner).
    AlertUpdate,
    /// `POST /security/alerts_v2/{id}/comments`.
    AlertComment,
    /// `POST /security/collaboration/analyzedEmails/remediate`.
    Remediate,
    /// `PATCH /security/incidents/{id}` (status, classification, determination, owner).
    IncidentUpdate,
    /// `POST /security/incidents/{id}/comments`.
    IncidentComment,
}

impl OutboxKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::AlertUpdate => "alert_update",
            OutboxKind::AlertComment => "alert_comment",
            OutboxKind::Remediate => "remediate",
            OutboxKind::IncidentUpdate => "incident_update",
            OutboxKind::IncidentComment => "incident_comment",
        }
    }

    /// A write on an incident (not an alert, not a remediation).
    pub fn is_incident(self) -> bool {
        matches!(
            self,
            OutboxKind::IncidentUpdate | OutboxKind::IncidentComment
        )
    }

    /// A PATCH (alert or incident), as opposed to a comment or a remediation.
    pub fn is_update(self) -> bool {
        matches!(self, OutboxKind::AlertUpdate | OutboxKind::IncidentUpdate)
    }

    fn parse(s: &str) -> Result<Self, CacheError> {
        Ok(match s {
            "alert_update" => OutboxKind::AlertUpdate,
            "alert_comment" => OutboxKind::AlertComment,
            "remediate" => OutboxKind::Remediate,
            "incident_update" => OutboxKind::IncidentUpdate,
            "incident_comment" => OutboxKind::IncidentComment,
            other => return Err(CacheError::Row(format!("unknown outbox kind `{other}`"))),
        })
    }
}

/// Where a queued write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// Its request may be on the wire (or was, before a crash): check before resending.
    Sending,
    /// The alert changed on the tenant since the analyst saw it; not sent until the
    /// analyst decides (overwrite or discard).
    Conflict,
    /// The tenant refused it for good (400, 404); kept so the analyst sees why.
    Failed,
}

impl OutboxState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Conflict => "conflict",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, CacheError> {
        Ok(match s {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "conflict" => OutboxState::Conflict,
            "failed" => OutboxState::Failed,
            other => return Err(CacheError::Row(format!("unknown outbox state `{other}`"))),
        })
    }

    /// Still on its way to the tenant (shown as pending, applied to the cached alert).
    pub fn is_pending(self) -> bool {
        matches!(self, OutboxState::Queued | OutboxState::Sending)
    }
}

/// A write to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxEntry {
    /// What it does.
    pub kind: OutboxKind,
    /// The alert id (alert writes) or a label (remediation).
    pub target: String,
    /// The request body to send, as JSON.
    pub payload: Value,
    /// The alert's `lastUpdateDateTime` as the analyst saw it (conflict detection).
    pub base_last_update: Option<String>,
    /// Who asked.
    pub analyst: String,
}

/// A queued write as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Row id (order of enqueueing).
    pub id: i64,
    /// What it does.
    pub kind: OutboxKind,
    /// The alert id, or the remediation label.
    pub target: String,
    /// The request body.
    pub payload: Value,
    /// The alert's `lastUpdateDateTime` the write was made against.
    pub base_last_update: Option<String>,
    /// Where it is.
    pub state: OutboxState,
    /// Send attempts so far.
    pub attempts: u32,
    /// Before sending a non-idempotent POST: how many copies of its effect the tenant
    /// already showed (comments with the same text, remediation events), so a flush
    /// after a crash can tell whether the POST landed.
    pub seen_count: Option<i64>,
    /// The last error (transient or final), for the analyst.
    pub last_error: Option<String>,
    /// Who asked.
    pub analyst: String,
    /// When it was queued (Unix milliseconds, local clock).
    pub created: i64,
}

/// What the console shows next to an alert with unconfirmed writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingWrite {
    /// The most urgent state among its writes: conflict > failed > sending > queued.
    pub state: OutboxState,
    /// How many writes are waiting.
    pub writes: usize,
    /// The last error of any of them.
    pub message: Option<String>,
}

const COLUMNS: &str = "id, kind, target, payload, base_last_update, state, attempts, seen_count, last_error, analyst, created";

fn entry_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxEntry, String, String, String)> {
    Ok((
        OutboxEntry {
            id: r.get(0)?,
            kind: OutboxKind::AlertUpdate,
            target: r.get(2)?,
            payload: Value::Null,
            base_last_update: r.get(4)?,
            state: OutboxState::Queued,
            attempts: r.get::<_, i64>(6)?.max(0) as u32,
            seen_count: r.get(7)?,
            last_error: r.get(8)?,
            analyst: r.get(9)?,
            created: r.get(10)?,
        },
        r.get(1)?,
        r.get(3)?,
        r.get(5)?,
    ))
}

fn finish(
    (mut e, kind, payload, state): (OutboxEntry, String, String, String),
) -> Result<OutboxEntry, CacheError> {
    e.kind = OutboxKind::parse(&kind)?;
    e.state = OutboxState::parse(&state)?;
    e.payload = serde_json::from_str(&payload).map_err(|err| CacheError::Row(err.to_string()))?;
    Ok(e)
}

pub(super) fn has_table(conn: &rusqlite::Connection, name: &str) -> Result<bool, CacheError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub(super) fn enqueue(
    tx: &Transaction<'_>,
    e: &NewOutboxEntry,
    now_ms: i64,
) -> Result<i64, CacheError> {
    let payload = serde_json::to_string(&e.payload).map_err(|e| CacheError::Row(e.to_string()))?;
    tx.execute(
        "INSERT INTO outbox (kind, target, payload, base_last_update, state, attempts, analyst, created, updated)
         VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?6, ?6)",
        params![
            e.kind.as_str(),
            e.target,
            payload,
            e.base_last_update,
            e.analyst,
            now_ms
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(super) fn mark_sending(
    tx: &Transaction<'_>,
    id: i64,
    seen_count: Option<i64>,
    now_ms: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, seen_count = ?2, updated = ?3 WHERE id = ?1",
        params![id, seen_count, now_ms],
    )?;
    Ok(())
}

pub(super) fn set_state(
    tx: &Transaction<'_>,
    id: i64,
    state: OutboxState,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "UPDATE outbox SET state = ?2, last_error = ?3, updated = ?4 WHERE id = ?1",
        params![id, state.as_str(), error, now_ms],
    )?;
    Ok(())
}

pub(super) fn set_base(
    tx: &Transaction<'_>,
    id: i64,
    base: Option<&str>,
    now_ms: i64,
) -> Result<(), CacheError> {
    tx.execute(
        "UPDATE outbox SET base_last_update = ?2, updated = ?3 WHERE id = ?1",
        params![id, base, now_ms],
    )?;
    Ok(())
}

pub(super) fn rebase(
    tx: &Transaction<'_>,
    target: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<usize, CacheError> {
    Ok(tx.execute(
        "UPDATE outbox SET base_last_update = ?3
         WHERE target = ?1 AND state IN ('queued', 'sending') AND base_last_update IS ?2",
        params![target, old, new],
    )?)
}

pub(super) fn remove(tx: &Transaction<'_>, id: i64) -> Result<(), CacheError> {
    tx.execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
    Ok(())
}

impl Cache {
    /// Every queued write, oldest first (the order they are sent in).
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, CacheError> {
        if !has_table(&self.conn, "outbox")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id"))?;
        let rows = stmt
            .query_map([], entry_of)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish).collect()
    }

    /// One queued write.
    pub fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, CacheError> {
        if !has_table(&self.conn, "outbox")? {
            return Ok(None);
        }
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                params![id],
                entry_of,
            )
            .optional()?;
        row.map(finish).transpose()
    }

    /// Alerts with unconfirmed writes, by alert id: the console's "pending" marker.
    /// One indexed scan of a small table; cheap enough to call after every flush.
    pub fn pending_alerts(&self) -> Result<HashMap<String, PendingWrite>, CacheError> {
        self.pending_of(|k| matches!(k, OutboxKind::AlertUpdate | OutboxKind::AlertComment))
    }

    /// Incidents with unconfirmed writes, by incident id (as [`Cache::pending_alerts`]).
    pub fn pending_incidents(&self) -> Result<HashMap<String, PendingWrite>, CacheError> {
        self.pending_of(OutboxKind::is_incident)
    }

    fn pending_of(
        &self,
        wanted: impl Fn(OutboxKind) -> bool,
    ) -> Result<HashMap<String, PendingWrite>, CacheError> {
        let mut out: HashMap<String, PendingWrite> = HashMap::new();
        for e in self.outbox()? {
            if !wanted(e.kind) {
                continue;
            }
            let p = out.entry(e.target.clone()).or_insert(PendingWrite {
                state: e.state,
                writes: 0,
                message: None,
            });
            p.writes += 1;
            p.state = urgent(p.state, e.state);
            if e.last_error.is_some() {
                p.message = e.last_error.clone();
            }
        }
        Ok(out)
    }
}

/// The state to show when an alert has writes in two states.
fn urgent(a: OutboxState, b: OutboxState) -> OutboxState {
    let rank = |s: OutboxState| match s {
        OutboxState::Conflict => 3,
        OutboxState::Failed => 2,
        OutboxState::Sending => 1,
        OutboxState::Queued => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Applies a pending write to an alert's or incident's JSON (the optimistic view).
pub(super) fn overlay(alert: &mut Value, e: &OutboxEntry) {
    let Some(obj) = alert.as_object_mut() else {
        return;
    };
    match e.kind {
        OutboxKind::AlertUpdate | OutboxKind::IncidentUpdate => {
            if let Some(fields) = e.payload.as_object() {
                for (k, v) in fields {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        OutboxKind::AlertComment | OutboxKind::IncidentComment => {
            let comment = serde_json::json!({
                "comment": e.payload["comment"],
                "createdByDisplayName": e.analyst,
                "createdDateTime": null,
            });
            match obj.get_mut("comments").and_then(Value::as_array_mut) {
                Some(list) => list.push(comment),
                None => {
                    obj.insert("comments".into(), Value::Array(vec![comment]));
                }
            }
        }
        OutboxKind::Remediate => {}
    }
}
