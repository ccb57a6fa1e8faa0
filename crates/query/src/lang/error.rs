//! Why a filter did not parse, where, and what the analyst probably meant.

use std::fmt;

/// A parse error at a position of the filter text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, naming the offending text.
    pub message: String,
    /// Byte offset of the offending character in the text.
    pub byte: usize,
    /// Character (Unicode scalar) offset of the same character, for a caret under it.
    pub char: usize,
    /// A replacement for the offending word, when one is close (`from` for `frm`).
    pub suggestion: Option<String>,
}

impl ParseError {
    /// An error at byte `byte` of `text`.
    pub fn at(text: &str, byte: usize, message: impl Into<String>) -> ParseError {
        let byte = byte.min(text.len());
        let byte = (0..=byte)
            .rev()
            .find(|&b| text.is_char_boundary(b))
            .unwrap_or(0);
        ParseError {
            message: message.into(),
            byte,
            char: text[..byte].chars().count(),
            suggestion: None,
        }
    }

    /// Adds a suggestion, and a "did you mean" to the message.
    pub fn suggest(mut self, suggestion: Option<String>) -> ParseError {
        if let Some(s) = &suggestion {
            self.message = format!("{}, did you mean `{s}`?", self.message);
        }
        self.suggestion = suggestion;
        self
    }

    /// The text with a caret line under the offending character, for terminals.
    pub fn caret(&self, text: &str) -> String {
        format!("{text}\n{}^", " ".repeat(self.char))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.char + 1)
    }
}

impl std::error::Error for ParseError {}

/// The candidate closest to `word` (case-insensitive), within an edit distance of a
/// third of its length (at least 1, at most 3), for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_lowercase();
    let limit = (lower.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(&lower, &c.to_lowercase());
        // Also accept a candidate the word is a prefix of (`quar` → `quarantine`).
        let d = if c.to_lowercase().starts_with(&lower) && lower.chars().count() >= 3 {
            d.min(limit)
        } else {
            d
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_bytes_and_chars() {
        let e = ParseError::at("é frm:x", 3, "unknown field `frm`");
        assert_eq!((e.byte, e.char), (3, 2));
        assert_eq!(e.caret("é frm:x"), "é frm:x\n  ^");
        // Inside a multi-byte character: snapped back to its start.
        let e = ParseError::at("é", 1, "x");
        assert_eq!((e.byte, e.char), (0, 0));
    }

    #[test]
    fn closest_finds_typos_not_strangers() {
        let c = ["from", "to", "subject", "sender-domain"];
        assert_eq!(closest("frm", c), Some("from".into()));
        assert_eq!(closest("subjet", c), Some("subject".into()));
        assert_eq!(closest("zzzzzz", c), None);
    }
}
