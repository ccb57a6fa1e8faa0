//! The one-line text input used by the filter bar (`/`), the command line (`:`) and
//! the tag picker (`t`): readline editing, bracketed paste, and per-prompt history
//! (kept per profile across sessions).

use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    Filter,
    Command,
    Tag,
    /// A comment for the targeted alerts.
    Comment,
    /// Assign the targeted alerts to a named analyst.
    Assign,
    /// A local note on the item.
    Note,
    /// The typed number of messages that confirms a remediation.
    Confirm,
    /// The fuzzy search (`ctrl-p`).
    Search,
    /// The analyst's own sign-in name, asked once when `a` finds none in the profile.
    Analyst,
}

/// A readline edit of the open prompt (the keys are readline's and Emacs's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Edit {
    /// `←`, Ctrl-B.
    Left,
    /// `→`, Ctrl-F.
    Right,
    /// Home, Ctrl-A.
    Home,
    /// End, Ctrl-E.
    End,
    /// Alt-B: to the start of the word before the cursor.
    WordLeft,
    /// Alt-F: past the end of the word after the cursor.
    WordRight,
    /// Delete, Ctrl-D: the character under the cursor.
    Delete,
    /// Ctrl-U: everything before the cursor.
    KillToStart,
    /// Ctrl-K: everything from the cursor on.
    KillToEnd,
    /// Ctrl-W: the word before the cursor (with the spaces after it).
    KillWordBack,
}

/// An open prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// Cursor as a char index into `text`.
    pub cursor: usize,
    /// Why the last submitted line was refused; shown after the line until it is edited.
    pub error: Option<String>,
    /// Position while browsing history (`None`: editing a new line).
    history_pos: Option<usize>,
}

/// Longest line a prompt accepts; a paste beyond it is cut, not an error.
pub const MAX_PROMPT: usize = 4096;

impl Prompt {
    pub fn new(kind: PromptKind, initial: &str) -> Prompt {
        let text: String = initial.chars().take(MAX_PROMPT).collect();
        let cursor = text.chars().count();
        Prompt {
            kind,
            text,
            cursor,
            error: None,
            history_pos: None,
        }
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Removes the chars in `from..to` (char indices) and puts the cursor at `from`.
    fn remove_range(&mut self, from: usize, to: usize) {
        let (a, b) = (self.byte_at(from), self.byte_at(to));
        self.text.replace_range(a..b, "");
        self.cursor = from;
    }

    /// Char index of the start of the word before `at` (readline's `backward-word`).
    fn word_start_before(&self, at: usize) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = at.min(chars.len());
        while i > 0 && !is_word(chars[i - 1]) {
            i -= 1;
        }
        while i > 0 && is_word(chars[i - 1]) {
            i -= 1;
        }
        i
    }

    /// Char index just past the end of the word after `at` (readline's `forward-word`).
    fn word_end_after(&self, at: usize) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = at.min(chars.len());
        while i < chars.len() && !is_word(chars[i]) {
            i += 1;
        }
        while i < chars.len() && is_word(chars[i]) {
            i += 1;
        }
        i
    }

    /// Applies a readline edit.
    pub fn edit(&mut self, e: Edit) {
        let len = self.len();
        match e {
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(len),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = len,
            Edit::WordLeft => self.cursor = self.word_start_before(self.cursor),
            Edit::WordRight => self.cursor = self.word_end_after(self.cursor),
            Edit::Delete if self.cursor < len => self.remove_range(self.cursor, self.cursor + 1),
            Edit::Delete => {}
            Edit::KillToStart => self.remove_range(0, self.cursor),
            Edit::KillToEnd => self.remove_range(self.cursor, len),
            // Ctrl-W is `unix-word-rubout`: back to the previous whitespace, so
            // `tag:Finance` goes in one stroke, as in a shell.
            Edit::KillWordBack => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut i = self.cursor.min(chars.len());
                while i > 0 && chars[i - 1].is_whitespace() {
                    i -= 1;
                }
                while i > 0 && !chars[i - 1].is_whitespace() {
                    i -= 1;
                }
                self.remove_range(i, self.cursor);
            }
        }
        if !matches!(
            e,
            Edit::Left | Edit::Right | Edit::Home | Edit::End | Edit::WordLeft | Edit::WordRight
        ) {
            self.error = None;
            self.history_pos = None;
        }
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(b, _)| b)
    }

    /// Inserts typed or pasted text at the cursor. Line breaks in a paste become
    /// spaces (a filter is one line); other control characters are dropped.
    pub fn insert(&mut self, s: &str) {
        for c in s.chars() {
            if self.text.chars().count() >= MAX_PROMPT {
                break;
            }
            let c = if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            };
            if c.is_control() {
                continue;
            }
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
        self.history_pos = None;
        self.error = None;
    }

    /// Deletes the character before the cursor.
    pub fn erase(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.remove_range(self.cursor - 1, self.cursor);
        self.history_pos = None;
        self.error = None;
    }

    /// Steps back (`older = true`) or forward through `history` (oldest first).
    pub fn browse(&mut self, history: &[String], older: bool) {
        if history.is_empty() {
            return;
        }
        let pos = match (self.history_pos, older) {
            (None, true) => Some(history.len() - 1),
            (None, false) => None,
            (Some(0), true) => Some(0),
            (Some(p), true) => Some(p - 1),
            (Some(p), false) if p + 1 < history.len() => Some(p + 1),
            (Some(_), false) => None,
        };
        self.history_pos = pos;
        self.text = pos.map(|p| history[p].clone()).unwrap_or_default();
        self.cursor = self.text.chars().count();
        self.error = None;
    }
}

/// Letters and digits make words for Alt-B/F; `:`, `,`, quotes and spaces separate them.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Remembers submitted lines per prompt kind, newest last, each line once (a line
/// used again moves to the end), at most [`History::LIMIT`] per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    lines: std::collections::HashMap<PromptKind, Vec<String>>,
}

/// The history file: filters and command lines. Comments, notes, assignees and
/// confirmations are not kept (they are one-off and may be sensitive).
#[derive(Debug, Default, Serialize, Deserialize)]
struct HistoryFile {
    #[serde(default)]
    filter: Vec<String>,
    #[serde(default)]
    command: Vec<String>,
}

/// Why the history file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read the prompt history {path}: {source}; move it aside to start afresh")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the prompt history {path} is not valid ({source}); move it aside to start afresh")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("cannot save the prompt history to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl History {
    pub const LIMIT: usize = 200;

    /// Adds `line` as the newest entry of `kind`.
    pub fn push(&mut self, kind: PromptKind, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let list = self.lines.entry(kind).or_default();
        list.retain(|l| l != line);
        list.push(line.to_string());
        if list.len() > Self::LIMIT {
            let extra = list.len() - Self::LIMIT;
            list.drain(..extra);
        }
    }

    /// The lines of `kind`, oldest first.
    pub fn lines(&self, kind: PromptKind) -> &[String] {
        self.lines.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Where a profile's history lives: beside its cache and console settings.
    pub fn path(cache_dir: &Path, profile: &str) -> std::path::PathBuf {
        cache_dir.join(format!("{profile}.history.toml"))
    }

    /// Reads the history saved at `path`; a missing file is an empty history.
    pub fn load(path: &Path) -> Result<History, HistoryError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
            Err(source) => {
                return Err(HistoryError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let file: HistoryFile = toml::from_str(&text).map_err(|source| HistoryError::Parse {
            path: path.display().to_string(),
            source,
        })?;
        let mut h = History::default();
        for (kind, lines) in [
            (PromptKind::Filter, file.filter),
            (PromptKind::Command, file.command),
        ] {
            for l in lines {
                h.push(kind, &l);
            }
        }
        Ok(h)
    }

    /// Writes the kept kinds to `path`, owner-only.
    pub fn save(&self, path: &Path) -> Result<(), HistoryError> {
        let file = HistoryFile {
            filter: self.lines(PromptKind::Filter).to_vec(),
            command: self.lines(PromptKind::Command).to_vec(),
        };
        let err = |source| HistoryError::Write {
            path: path.display().to_string(),
            source,
        };
        let text = toml::to_string(&file).map_err(|e| err(std::io::Error::other(e)))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            whalewatch_config::paths::create_private_dir(dir).map_err(err)?;
        }
        whalewatch_config::paths::write_private(path, text.as_bytes()).map_err(err)
    }

    /// Whether lines of `kind` are saved across sessions.
    pub fn kept(kind: PromptKind) -> bool {
        matches!(kind, PromptKind::Filter | PromptKind::Command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_is_char_based_and_pastes_stay_on_one_line() {
        let mut p = Prompt::new(PromptKind::Filter, "tag:財務");
        p.erase();
        assert_eq!(p.text, "tag:財");
        p.insert("\u{1b}[2J務\nthreat:phish");
        assert_eq!(p.text, "tag:財[2J務 threat:phish");
        let mut long = Prompt::new(PromptKind::Filter, "");
        long.insert(&"x".repeat(10_000));
        assert_eq!(long.text.len(), MAX_PROMPT);
    }

    #[test]
    fn history_browses_both_ways_and_skips_repeats() {
        let mut h = History::default();
        for l in ["a", "b", "b", " ", "c", "a"] {
            h.push(PromptKind::Command, l);
        }
        // Each line once; a line used again is the newest.
        assert_eq!(h.lines(PromptKind::Command), ["b", "c", "a"]);
        let mut h = History::default();
        for l in ["a", "b", "c"] {
            h.push(PromptKind::Command, l);
        }
        assert!(h.lines(PromptKind::Filter).is_empty());
        let mut p = Prompt::new(PromptKind::Command, "");
        let lines = h.lines(PromptKind::Command).to_vec();
        p.browse(&lines, true);
        assert_eq!(p.text, "c");
        p.browse(&lines, true);
        p.browse(&lines, true);
        p.browse(&lines, true);
        assert_eq!(p.text, "a");
        p.browse(&lines, false);
        assert_eq!(p.text, "b");
        p.browse(&lines, false);
        p.browse(&lines, false);
        assert_eq!(p.text, "");
    }

    fn typed(s: &str, cursor: usize) -> Prompt {
        let mut p = Prompt::new(PromptKind::Filter, s);
        p.cursor = cursor;
        p
    }

    #[test]
    fn cursor_moves_by_char_word_and_line() {
        let mut p = typed("tag:財務 threat:phish", 0);
        p.edit(Edit::Right);
        assert_eq!(p.cursor, 1);
        p.edit(Edit::End);
        assert_eq!(p.cursor, 19);
        p.edit(Edit::Right);
        assert_eq!(p.cursor, 19, "right stops at the end");
        p.edit(Edit::WordLeft);
        assert_eq!(p.cursor, 14, "to `phish`");
        p.edit(Edit::WordLeft);
        assert_eq!(p.cursor, 7, "to `threat`");
        p.edit(Edit::WordLeft);
        assert_eq!(p.cursor, 4, "to `財務`");
        p.edit(Edit::WordRight);
        assert_eq!(p.cursor, 6, "past `財務`");
        p.edit(Edit::Home);
        assert_eq!(p.cursor, 0);
        p.edit(Edit::Left);
        assert_eq!(p.cursor, 0, "left stops at the start");
        assert_eq!(p.text, "tag:財務 threat:phish", "moving never edits");
    }

    #[test]
    fn kills_and_deletes_at_the_cursor() {
        let mut p = typed("tag:Finance threat:phish", 11);
        p.edit(Edit::KillToEnd);
        assert_eq!((p.text.as_str(), p.cursor), ("tag:Finance", 11));
        let mut p = typed("tag:Finance threat:phish", 12);
        p.edit(Edit::KillToStart);
        assert_eq!((p.text.as_str(), p.cursor), ("threat:phish", 0));
        let mut p = typed("tag:Finance threat:phish", 24);
        p.edit(Edit::KillWordBack);
        assert_eq!((p.text.as_str(), p.cursor), ("tag:Finance ", 12));
        p.edit(Edit::KillWordBack);
        assert_eq!((p.text.as_str(), p.cursor), ("", 0));
        let mut p = typed("ab財c", 2);
        p.edit(Edit::Delete);
        assert_eq!((p.text.as_str(), p.cursor), ("abc", 2));
        p.edit(Edit::End);
        p.edit(Edit::Delete);
        assert_eq!(p.text, "abc", "delete at the end does nothing");
        let mut p = typed("abc", 1);
        p.erase();
        assert_eq!(
            (p.text.as_str(), p.cursor),
            ("bc", 0),
            "backspace at the cursor"
        );
        p.insert("x");
        assert_eq!(
            (p.text.as_str(), p.cursor),
            ("xbc", 1),
            "typing at the cursor"
        );
    }

    #[test]
    fn an_edit_clears_the_error_and_a_move_keeps_it() {
        let mut p = typed("emials", 6);
        p.error = Some("no such command".into());
        p.edit(Edit::Home);
        assert!(p.error.is_some());
        p.insert("x");
        assert!(p.error.is_none());
    }

    #[test]
    fn history_survives_a_restart_owner_only_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = History::path(&dir.path().join("cache"), "contoso");
        let mut h = History::default();
        for i in 0..(History::LIMIT + 5) {
            h.push(PromptKind::Filter, &format!("tag:T{i}"));
        }
        h.push(PromptKind::Command, "emails threat:phish");
        h.push(PromptKind::Comment, "private remark");
        h.save(&path).unwrap();
        let back = History::load(&path).unwrap();
        assert_eq!(back.lines(PromptKind::Filter).len(), History::LIMIT);
        assert_eq!(
            back.lines(PromptKind::Filter).last().map(String::as_str),
            Some("tag:T204")
        );
        assert_eq!(back.lines(PromptKind::Command), ["emails threat:phish"]);
        assert!(
            back.lines(PromptKind::Comment).is_empty(),
            "comments are not kept"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            History::load(&dir.path().join("none.toml")).unwrap(),
            History::default()
        );
        std::fs::write(&path, "filter = 3").unwrap();
        let e = History::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("contoso.history.toml") && e.contains("move it aside"),
            "{e}"
        );
    }
}
