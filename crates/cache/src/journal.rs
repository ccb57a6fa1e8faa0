//! The triage journal: every write the analyst made (alert change, comment,
//! remediation, note) with time, analyst, target and result, for the incident report.
//!
//! Entries are appended in the same transaction as the state change they describe,
//! so the journal never claims a write that the outbox does not reflect.

use rusqlite::{Transaction, params};
use serde::Serialize;

use super::outbox::has_table;
use super::{Cache, CacheError};

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalResult {
    /// Stored in the outbox, not sent yet.
    Queued,
    /// The tenant confirmed it.
    Sent,
    /// Not sent: the target changed on the tenant since the analyst saw it.
    Conflict,
    /// The tenant refused it for good.
    Failed,
    /// The analyst withdrew it (discarded a conflict, typed a wrong count).
    Cancelled,
    /// A local-only record (notes).
    Recorded,
}

impl JournalResult {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalResult::Queued => "queued",
            JournalResult::Sent => "sent",
            JournalResult::Conflict => "conflict",
            JournalResult::Failed => "failed",
            JournalResult::Cancelled => "cancelled",
            JournalResult::Recorded => "recorded",
        }
    }

    fn parse(s: &str) -> JournalResult {
        match s {
            "queued" => JournalResult::Queued,
            "sent" => JournalResult::Sent,
            "conflict" => JournalResult::Conflict,
            "failed" => JournalResult::Failed,
            "cancelled" => JournalResult::Cancelled,
            _ => JournalResult::Recorded,
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Row id (0 before it is stored).
    pub id: i64,
    /// When (Unix milliseconds, local clock).
    pub time: i64,
    /// Who.
    pub analyst: String,
    /// `alert update`, `alert comment`, `remediate`, `note`.
    pub action: String,
    /// `alert`, `email`, `campaign`, `user`, `messages`.
    pub target_kind: String,
    /// The alert id, message key, campaign id, address or remediation label.
    pub target: String,
    /// What was asked (`status=resolved classification=truePositive`, the comment...).
    pub detail: String,
    /// What became of it.
    pub result: JournalResult,
    /// The tenant's answer or the reason (an Action-center link, a conflict, an error).
    pub message: Option<String>,
    /// The outbox row it concerns, if any.
    pub outbox_id: Option<i64>,
}

pub(super) fn append(tx: &Transaction<'_>, e: &JournalEntry) -> Result<i64, CacheError> {
    tx.execute(
        "INSERT INTO journal (time, analyst, action, target_kind, target, detail, result, message, outbox_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            e.time,
            e.analyst,
            e.action,
            e.target_kind,
            e.target,
            e.detail,
            e.result.as_str(),
            e.message,
            e.outbox_id
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

impl Cache {
    /// Journal entries at or after `since_ms` (Unix milliseconds), oldest first.
    pub fn journal(&self, since_ms: i64) -> Result<Vec<JournalEntry>, CacheError> {
        if !has_table(&self.conn, "journal")? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, time, analyst, action, target_kind, target, detail, result, message, outbox_id
             FROM journal WHERE time >= ?1 ORDER BY time, id",
        )?;
        let rows = stmt.query_map(params![since_ms], |r| {
            Ok(JournalEntry {
                id: r.get(0)?,
                time: r.get(1)?,
                analyst: r.get(2)?,
                action: r.get(3)?,
                target_kind: r.get(4)?,
                target: r.get(5)?,
                detail: r.get(6)?,
                result: JournalResult::parse(&r.get::<_, String>(7)?),
                message: r.get(8)?,
                outbox_id: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
