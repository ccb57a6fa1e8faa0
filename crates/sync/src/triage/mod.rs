//! Triage writes: alert and incident changes and comments, queued in the cache's durable outbox,
//! then sent to the tenant by [`flush`]; notes; the journal.
//!
//! This is the API the console calls (from a tokio task that owns a writable
//! [`Cache`]) and the CLI calls (`whalewatch alert set`):
//!
//! 1. [`enqueue_alert_change`] (and [`enqueue_incident_change`]) — validates, queues,
//!    journals; the alert shows the new values at once ([`Cache::alerts`] and
//!    [`Cache::incidents`] apply pending writes; [`Cache::pending_alerts`] and
//!    [`Cache::pending_incidents`] say which are pending or in conflict).
//! 2. [`flush`] — sends what is queued, exactly once even after a crash, and reports
//!    per write ([`FlushReport`]).
//! 3. [`resolve_conflict`] — the analyst's answer to a conflict: overwrite or discard.
//! 4. [`add_note`] — a local note, journaled.
//!
//! Email remediation lives in [`crate::remediate`] and uses the same outbox.

mod change;
mod flush;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use whalewatch_cache::{
    Cache, CacheError, JournalEntry, JournalResult, NewOutboxEntry, NoteTarget, OutboxKind,
    OutboxState,
};
use whalewatch_config::Profile;
use whalewatch_model::time::format_datetime;
use whalewatch_tenant::TenantError;

pub use change::{
    AlertChange, IncidentChange, determinations_for, parse_classification, parse_determination,
    parse_incident_status, parse_status,
};
pub use flush::{FlushReport, Outcome, WriteOutcome, flush};

/// Why a triage action could not be taken. Nothing queued is lost by any of these.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// The analyst asked for something the service does not accept.
    #[error("{0}")]
    Invalid(String),
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The tenant failed in a way that stops the whole flush.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// Another whalewatch is flushing this cache's outbox.
    #[error(
        "another whalewatch is sending this profile's queued writes ({0}); they will be sent by it, or run `whalewatch alert flush` when it ends"
    )]
    Busy(String),
    /// The outbox lock file cannot be used.
    #[error("cannot use the outbox lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The name the journal and comments record for the analyst: the profile's `analyst`
/// setting, else the app's client id (an app-only token has no user).
pub fn analyst_name(profile: &Profile) -> String {
    profile
        .analyst
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| format!("app:{}", profile.client_id))
}

/// Milliseconds since the Unix epoch on this machine (journal and outbox times).
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The form a `lastUpdateDateTime` is stored in for comparison.
pub(crate) fn stamp(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(format_datetime)
}

/// One alert or incident write that was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The outbox row.
    pub entry: i64,
    /// The alert (or incident) id.
    pub alert_id: String,
    /// Update or comment.
    pub kind: OutboxKind,
}

/// What a triage write targets: its outbox kinds and the journal's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    Alert,
    Incident,
}

impl Family {
    pub(crate) fn of(kind: OutboxKind) -> Family {
        if kind.is_incident() {
            Family::Incident
        } else {
            Family::Alert
        }
    }

    fn kinds(self) -> (OutboxKind, OutboxKind) {
        match self {
            Family::Alert => (OutboxKind::AlertUpdate, OutboxKind::AlertComment),
            Family::Incident => (OutboxKind::IncidentUpdate, OutboxKind::IncidentComment),
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Family::Alert => "alert",
            Family::Incident => "incident",
        }
    }
}

/// Queues `change` on every alert in `ids` (one transaction: all or none), records
/// each alert's `lastUpdateDateTime` as cached (conflict detection) and journals it.
/// Works offline and in read-only mode (nothing is sent here); [`flush`] sends.
pub fn enqueue_alert_change(
    cache: &mut Cache,
    ids: &[String],
    change: &AlertChange,
    analyst: &str,
) -> Result<Vec<Queued>, TriageError> {
    change.validate()?;
    let mut bases = Vec::new();
    for id in ids {
        let base = cache.tenant_alert(id)?.map(|a| a.last_update_date_time);
        bases.push(base.and_then(|t| stamp(&t)));
    }
    let update = change
        .update()
        .map(|u| serde_json::to_value(u).map_err(|e| CacheError::Row(e.to_string())))
        .transpose()?;
    let detail = AlertChange {
        comment: None,
        ..change.clone()
    }
    .describe();
    enqueue_writes(
        cache,
        Family::Alert,
        ids,
        &bases,
        update.map(|u| (u, detail)),
        change.comment.as_deref(),
        analyst,
    )
}

/// Queues `change` on every incident in `ids`, exactly as [`enqueue_alert_change`]
/// does for alerts: one transaction, the incident's `lastUpdateDateTime` as cached
/// recorded for conflict detection, a journal line per write. [`flush`] sends them
/// (`PATCH /security/incidents/{id}`, `POST …/comments`).
pub fn enqueue_incident_change(
    cache: &mut Cache,
    ids: &[String],
    change: &IncidentChange,
    analyst: &str,
) -> Result<Vec<Queued>, TriageError> {
    change.validate()?;
    let mut bases = Vec::new();
    for id in ids {
        let base = cache.tenant_incident(id)?.map(|i| i.last_update_date_time);
        bases.push(base.and_then(|t| stamp(&t)));
    }
    let update = change
        .update()
        .map(|u| serde_json::to_value(u).map_err(|e| CacheError::Row(e.to_string())))
        .transpose()?;
    let detail = IncidentChange {
        comment: None,
        ..change.clone()
    }
    .describe();
    enqueue_writes(
        cache,
        Family::Incident,
        ids,
        &bases,
        update.map(|u| (u, detail)),
        change.comment.as_deref(),
        analyst,
    )
}

/// The one place alert and incident writes are queued: per target, the PATCH (body
/// and its description) then the comment, each with a `queued` journal line.
fn enqueue_writes(
    cache: &mut Cache,
    family: Family,
    ids: &[String],
    bases: &[Option<String>],
    update: Option<(serde_json::Value, String)>,
    comment: Option<&str>,
    analyst: &str,
) -> Result<Vec<Queued>, TriageError> {
    if ids.is_empty() {
        return Err(TriageError::Invalid(format!(
            "no {} to change",
            family.noun()
        )));
    }
    let (update_kind, comment_kind) = family.kinds();
    cache.sync_fully()?;
    let now = now_ms();
    cache
        .write(|w| {
            let mut queued = Vec::new();
            for (id, base) in ids.iter().zip(bases) {
                let mut add = |kind: OutboxKind,
                               payload: serde_json::Value,
                               detail: &str|
                 -> Result<(), CacheError> {
                    let entry = w.enqueue(
                        &NewOutboxEntry {
                            kind,
                            target: id.clone(),
                            payload,
                            base_last_update: base.clone(),
                            analyst: analyst.to_string(),
                        },
                        now,
                    )?;
                    w.journal(&journal_line(
                        now,
                        analyst,
                        action_name(kind),
                        family.noun(),
                        id,
                        detail,
                        JournalResult::Queued,
                        None,
                        Some(entry),
                    ))?;
                    queued.push(Queued {
                        entry,
                        alert_id: id.clone(),
                        kind,
                    });
                    Ok(())
                };
                if let Some((payload, detail)) = &update {
                    add(update_kind, payload.clone(), detail)?;
                }
                if let Some(text) = comment {
                    add(
                        comment_kind,
                        serde_json::json!({
                            "@odata.type": "microsoft.graph.security.alertComment",
                            "comment": text,
                        }),
                        text,
                    )?;
                }
            }
            Ok(queued)
        })
        .map_err(TriageError::from)
}

/// The analyst's answer to a write in conflict (or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Send it anyway: its base becomes the tenant's current `lastUpdateDateTime`
    /// as cached after the last refresh or flush.
    Overwrite,
    /// Drop it; the journal records the cancellation.
    Discard,
}

/// Resolves a conflicted or failed outbox entry. Overwrite re-queues it against the
/// tenant state the conflict reported; [`flush`] then sends it.
pub fn resolve_conflict(
    cache: &mut Cache,
    entry: i64,
    resolution: Resolution,
    analyst: &str,
) -> Result<(), TriageError> {
    let Some(e) = cache.outbox_entry(entry)? else {
        return Err(TriageError::Invalid(format!(
            "no queued write #{entry}; list them with `whalewatch alert outbox`"
        )));
    };
    if e.state.is_pending() && resolution == Resolution::Overwrite {
        return Err(TriageError::Invalid(format!(
            "write #{entry} is {}, not in conflict; `whalewatch alert flush` sends it",
            e.state.as_str()
        )));
    }
    let base = if e.kind.is_incident() {
        cache
            .tenant_incident(&e.target)?
            .and_then(|i| stamp(&i.last_update_date_time))
    } else {
        cache
            .tenant_alert(&e.target)?
            .and_then(|a| stamp(&a.last_update_date_time))
    };
    let now = now_ms();
    cache.write(|w| {
        match resolution {
            Resolution::Overwrite => {
                w.set_outbox_base(entry, base.as_deref(), now)?;
                w.set_outbox_state(entry, OutboxState::Queued, None, now)?;
            }
            Resolution::Discard => w.remove_outbox(entry)?,
        }
        w.journal(&journal_line(
            now,
            analyst,
            action_name(e.kind),
            target_kind(e.kind),
            &e.target,
            &describe_payload(e.kind, &e.payload),
            match resolution {
                Resolution::Overwrite => JournalResult::Queued,
                Resolution::Discard => JournalResult::Cancelled,
            },
            Some(match resolution {
                Resolution::Overwrite => "the analyst chose to overwrite the tenant's change",
                Resolution::Discard => "the analyst discarded the write",
            }),
            Some(entry),
        ))?;
        Ok(())
    })?;
    Ok(())
}

/// Adds a note (local only, allowed in read-only mode) and journals it.
pub fn add_note(
    cache: &mut Cache,
    kind: NoteTarget,
    target: &str,
    text: &str,
    analyst: &str,
) -> Result<i64, TriageError> {
    if text.trim().is_empty() {
        return Err(TriageError::Invalid("the note is empty".into()));
    }
    if target.trim().is_empty() {
        return Err(TriageError::Invalid(format!(
            "which {}? give its id",
            kind.as_str()
        )));
    }
    let now = now_ms();
    Ok(cache.write(|w| {
        let id = w.add_note(kind, target, text, analyst, now)?;
        w.journal(&journal_line(
            now,
            analyst,
            "note",
            kind.as_str(),
            &kind.normalise(target),
            text,
            JournalResult::Recorded,
            None,
            None,
        ))?;
        Ok(id)
    })?)
}

/// The journal's action name for an outbox kind.
pub(crate) fn action_name(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::AlertUpdate => "alert update",
        OutboxKind::AlertComment => "alert comment",
        OutboxKind::Remediate => "remediate",
        OutboxKind::IncidentUpdate => "incident update",
        OutboxKind::IncidentComment => "incident comment",
    }
}

/// The journal's target kind for an outbox kind.
pub(crate) fn target_kind(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Remediate => "messages",
        k => Family::of(k).noun(),
    }
}

/// A readable form of a queued body, for the journal and `alert outbox`.
pub fn describe_payload(kind: OutboxKind, payload: &serde_json::Value) -> String {
    match kind {
        OutboxKind::AlertComment | OutboxKind::IncidentComment => {
            payload["comment"].as_str().unwrap_or_default().to_string()
        }
        OutboxKind::AlertUpdate | OutboxKind::IncidentUpdate => payload
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("null")))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
        OutboxKind::Remediate => format!(
            "{} on {} messages",
            payload["action"].as_str().unwrap_or_default(),
            payload["analyzedEmails"].as_array().map_or(0, Vec::len)
        ),
    }
}

/// Builds a journal line.
#[allow(clippy::too_many_arguments)]
pub(crate) fn journal_line(
    time: i64,
    analyst: &str,
    action: &str,
    target_kind: &str,
    target: &str,
    detail: &str,
    result: JournalResult,
    message: Option<&str>,
    outbox_id: Option<i64>,
) -> JournalEntry {
    JournalEntry {
        id: 0,
        time,
        analyst: analyst.to_string(),
        action: action.to_string(),
        target_kind: target_kind.to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
        result,
        message: message.map(str::to_string),
        outbox_id,
    }
}

/// The lock that keeps two processes from flushing one outbox at once (two senders
/// could both see a write as queued and send it twice). The kernel releases it when
/// the process dies, `kill -9` included, so a crash never leaves it stuck.
pub struct FlushLock {
    _lock: crate::lock::CacheLock,
}

impl FlushLock {
    /// Takes the lock next to the cache file, or says who holds it.
    pub fn acquire(cache_path: &Path) -> Result<FlushLock, TriageError> {
        use crate::lock::{CacheLock, LockError, lock_path};
        let lock = CacheLock::acquire(
            lock_path(cache_path, ".outbox.lock"),
            "the outbox lock",
            "it is sending the queued writes",
            None,
        );
        match lock {
            Ok(mut lock) => {
                // Only for the message another sender shows.
                let _ = lock.mark();
                Ok(FlushLock { _lock: lock })
            }
            Err(LockError::Busy { path, .. }) => Err(TriageError::Busy(path.display().to_string())),
            Err(LockError::Io { path, source }) => Err(TriageError::Lock { path, source }),
        }
    }
}
