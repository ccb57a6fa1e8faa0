//! Analyst notes on an email, alert, campaign or user. Local only: they never go to
//! the tenant, so they work offline and in read-only mode, and show in flyouts and
//! exports.

use rusqlite::{Transaction, params};
use serde::Serialize;

use super::outbox::has_table;
use super::{Cache, CacheError};

/// What a note is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteTarget {
    /// A message × recipient; the id is `NetworkMessageId/recipient` (or just the
    /// `NetworkMessageId` for the whole message).
    Email,
    /// An alert id.
    Alert,
    /// A campaign id.
    Campaign,
    /// A user's address (UPN or mail).
    User,
}

impl NoteTarget {
    /// The stored name (also the CLI spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            NoteTarget::Email => "email",
            NoteTarget::Alert => "alert",
            NoteTarget::Campaign => "campaign",
            NoteTarget::User => "user",
        }
    }

    /// Parses the CLI/stored spelling.
    pub fn parse(s: &str) -> Option<NoteTarget> {
        Some(match s.to_ascii_lowercase().as_str() {
            "email" | "emails" | "message" => NoteTarget::Email,
            "alert" | "alerts" => NoteTarget::Alert,
            "campaign" | "campaigns" => NoteTarget::Campaign,
            "user" | "users" => NoteTarget::User,
            _ => return None,
        })
    }

    /// Ids compare case-insensitively for users and emails (addresses), exactly otherwise.
    pub fn normalise(self, id: &str) -> String {
        match self {
            NoteTarget::User | NoteTarget::Email => id.trim().to_lowercase(),
            _ => id.trim().to_string(),
        }
    }
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Row id.
    pub id: i64,
    /// What kind of thing it is attached to.
    pub target_kind: NoteTarget,
    /// The thing's id (normalised, see [`NoteTarget::normalise`]).
    pub target: String,
    /// The note (analyst text; still sanitise before drawing).
    pub text: String,
    /// Who wrote it.
    pub analyst: String,
    /// When (Unix milliseconds).
    pub created: i64,
}

pub(super) fn add(
    tx: &Transaction<'_>,
    kind: NoteTarget,
    target: &str,
    text: &str,
    analyst: &str,
    now_ms: i64,
) -> Result<i64, CacheError> {
    tx.execute(
        "INSERT INTO notes (target_kind, target, text, analyst, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind.as_str(), kind.normalise(target), text, analyst, now_ms],
    )?;
    Ok(tx.last_insert_rowid())
}

fn note_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    let kind: String = r.get(1)?;
    Ok(Note {
        id: r.get(0)?,
        target_kind: NoteTarget::parse(&kind).unwrap_or(NoteTarget::Alert),
        target: r.get(2)?,
        text: r.get(3)?,
        analyst: r.get(4)?,
        created: r.get(5)?,
    })
}

impl Cache {
    /// Notes on one thing, oldest first (the flyout).
    pub fn notes_for(&self, kind: NoteTarget, id: &str) -> Result<Vec<Note>, CacheError> {
        if !has_table(&self.conn, "notes")? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, target_kind, target, text, analyst, created FROM notes
             WHERE target_kind = ?1 AND target = ?2 ORDER BY created, id",
        )?;
        let rows = stmt.query_map(params![kind.as_str(), kind.normalise(id)], note_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every note, grouped by kind and target (exports join on these).
    pub fn notes(&self) -> Result<Vec<Note>, CacheError> {
        if !has_table(&self.conn, "notes")? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, target_kind, target, text, analyst, created FROM notes
             ORDER BY target_kind, target, created, id",
        )?;
        let rows = stmt.query_map([], note_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
