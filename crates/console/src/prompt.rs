//! The one-line text input used by the filter bar (`/`), the command line (`:`) and
//! the tag picker (`t`): editing, bracketed paste, and per-prompt history.

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
}

/// An open prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// Cursor as a char index into `text`.
    pub cursor: usize,
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
            history_pos: None,
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
    }

    /// Deletes the character before the cursor.
    pub fn erase(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let at = self.byte_at(self.cursor - 1);
        self.text.remove(at);
        self.cursor -= 1;
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
    }
}

/// Remembers submitted lines per prompt kind, newest last, without repeats in a row.
#[derive(Debug, Clone, Default)]
pub struct History {
    lines: std::collections::HashMap<PromptKind, Vec<String>>,
}

impl History {
    pub const LIMIT: usize = 200;

    pub fn push(&mut self, kind: PromptKind, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let list = self.lines.entry(kind).or_default();
        if list.last().map(String::as_str) != Some(line) {
            list.push(line.to_string());
        }
        if list.len() > Self::LIMIT {
            list.remove(0);
        }
    }

    pub fn lines(&self, kind: PromptKind) -> &[String] {
        self.lines.get(&kind).map_or(&[], Vec::as_slice)
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
        for l in ["a", "b", "b", " ", "c"] {
            h.push(PromptKind::Command, l);
        }
        assert_eq!(h.lines(PromptKind::Command), ["a", "b", "c"]);
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
}
