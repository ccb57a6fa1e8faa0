//! What a flyout shows: titled sections of label/value lines, plus the related
//! views the analyst can jump to from it. Values are raw remote text; the flyout
//! view sanitises every one of them when it draws.

use super::action::Pane;

/// One line of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: String,
    pub value: String,
    /// Drawn as a warning (a failed authentication check, a lookalike domain).
    pub warn: bool,
}

/// A titled group of lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub title: String,
    pub lines: Vec<Line>,
}

impl Section {
    pub fn new(title: &str) -> Section {
        Section {
            title: title.to_string(),
            lines: Vec::new(),
        }
    }

    /// Adds a line (skipped when `value` is empty).
    pub fn line(&mut self, label: &str, value: impl Into<String>) -> &mut Section {
        let value = value.into();
        if !value.is_empty() {
            self.lines.push(Line {
                label: label.to_string(),
                value,
                warn: false,
            });
        }
        self
    }

    /// Adds a line drawn as a warning when `warn`.
    pub fn flagged(&mut self, label: &str, value: impl Into<String>, warn: bool) -> &mut Section {
        self.lines.push(Line {
            label: label.to_string(),
            value: value.into(),
            warn,
        });
        self
    }
}

/// A view related to the item: a pane and the filter (or ids) that select it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    /// What the analyst reads in the jump menu ("alerts naming this message").
    pub label: String,
    pub pane: Pane,
    pub filter: String,
    /// When set, only these keys (alert ids) — evidence links are not filters.
    pub only: Option<Vec<String>>,
}

/// A flyout's content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    /// The headline (a subject, an alert title), raw.
    pub title: String,
    pub sections: Vec<Section>,
    pub jumps: Vec<Jump>,
    /// The raw value `y` copies in the flyout (the item's id).
    pub copy: String,
}
