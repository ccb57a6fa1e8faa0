//! The session log: every view the analyst looked at and every command they ran,
//! appended per profile as timestamped JSON lines beside the cache (owner-only), next
//! to the cache's write journal. `whalewatch journal --session` prints it and
//! `whalewatch tui --replay FILE` steps through it, so the incident report's "what
//! was looked at" writes itself.
//!
//! Each entry carries the `:` command lines that bring the console back to that
//! point (`run`), so a replay is the same code path as typing them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// The view on screen changed (pane, filter, tag, range, mail view, sort).
    View,
    /// A `:` command line was run.
    Command,
}

/// One line of the session log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When (UTC, RFC 3339).
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// What the analyst saw or typed (a view's breadcrumb, a command line).
    pub line: String,
    /// `:` command lines that reproduce this point (a replay runs them).
    pub run: Vec<String>,
}

/// What `update` asks to log (the app stamps the time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: EntryKind,
    pub line: String,
    pub run: Vec<String>,
}

/// Where a profile's session log lives.
pub fn path(cache_dir: &Path, profile: &str) -> PathBuf {
    cache_dir.join(format!("{profile}.session.jsonl"))
}

/// Appends `entries` (one JSON object per line) to `path`, creating it owner-only.
pub fn append(path: &Path, entries: &[Entry]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        whalewatch_config::paths::create_private_dir(dir)?;
    }
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut f = whalewatch_config::paths::private_options()
        .append(true)
        .open(path)?;
    // One write per batch: lines of two consoles on one profile never interleave
    // inside a line (O_APPEND).
    f.write_all(text.as_bytes())
}

/// Why a session log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the session log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: not a session log entry ({source}); is this a file `journal --session` wrote?"
    )]
    Parse {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
}

/// Reads every entry of `path`, oldest first (a missing file is an empty log).
pub fn read(path: &Path) -> Result<Vec<Entry>, ReadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReadError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| ReadError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// A replay in progress (`tui --replay FILE`): each key press runs the next entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub entries: Vec<Entry>,
    /// Entries run so far.
    pub pos: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_append_owner_only_and_read_back_in_order() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("whalewatch-session-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = path(&dir.join("cache"), "demo");
        let e = |i: i64, line: &str| Entry {
            at: DateTime::from_timestamp(1_790_000_000 + i, 0).expect("time"),
            kind: EntryKind::Command,
            line: line.into(),
            run: vec![line.into()],
        };
        append(&p, &[e(0, "emails threat:phish")]).expect("append");
        append(&p, &[e(1, "range 7d"), e(2, "tag \"Finance\"\n")]).expect("append");
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = read(&p).expect("read");
        assert_eq!(
            back,
            [
                e(0, "emails threat:phish"),
                e(1, "range 7d"),
                e(2, "tag \"Finance\"\n")
            ]
        );
        std::fs::write(&p, "{\"at\":1}\n").expect("write");
        let err = read(&p).expect_err("garbage");
        assert!(
            err.to_string().contains(":1: not a session log entry"),
            "{err}"
        );
        assert!(read(&dir.join("missing.jsonl")).expect("empty").is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
