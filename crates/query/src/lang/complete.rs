//! Completion for the console's `/` prompt: given the text and the cursor, the word
//! being typed is either a field name (→ field names) or a value after `field:` (→ the
//! field's documented values plus values the caller knows, e.g. sender domains in the
//! cache or tag names), with the byte range the chosen candidate replaces.

use std::ops::Range;

use super::fields::{self, Entity, Field, ValueKind};
use super::print;

/// Values the caller knows for a field (tag names, sender domains seen in the cache...).
pub trait ValueSource {
    /// Candidate values of `field` for `entity`, most relevant first.
    fn values(&self, entity: Entity, field: Field) -> Vec<String>;
}

/// A source that knows nothing beyond the registry's enumerated values.
pub struct NoValues;

impl ValueSource for NoValues {
    fn values(&self, _: Entity, _: Field) -> Vec<String> {
        Vec::new()
    }
}

/// One candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The text that replaces the range (quoted when the value needs it; a field name
    /// ends with `:`).
    pub insert: String,
    /// A short description (the field's, or the value's documented spelling).
    pub detail: String,
}

/// The candidates for the word at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The byte range of the text that a candidate replaces.
    pub replace: Range<usize>,
    /// Candidates, best first.
    pub candidates: Vec<Candidate>,
}

/// Completes the word ending at byte `cursor` of `text`.
pub fn complete(entity: Entity, text: &str, cursor: usize, source: &dyn ValueSource) -> Completion {
    let mut cursor = cursor.min(text.len());
    while !text.is_char_boundary(cursor) {
        cursor -= 1;
    }
    // Start of the term under the cursor: after the last whitespace or parenthesis
    // outside quotes.
    let mut start = 0;
    let mut in_quote = false;
    let mut escaped = false;
    for (b, c) in text[..cursor].char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
        } else if c == '"' {
            in_quote = true;
        } else if c.is_whitespace() || c == '(' || c == ')' {
            start = b + c.len_utf8();
        }
    }
    while text[start..cursor].starts_with('-') {
        start += 1;
    }
    let word = &text[start..cursor];
    match word.split_once(':') {
        Some((name, rest)) if !name.starts_with('"') => {
            let Some(spec) = fields::lookup(entity, name) else {
                return Completion {
                    replace: cursor..cursor,
                    candidates: Vec::new(),
                };
            };
            // The value being typed: after the last comma outside quotes.
            let value_start = start + name.len() + 1 + last_comma(rest);
            let typed = text[value_start..cursor].trim_start_matches('"');
            let mut pool: Vec<(String, String)> = Vec::new();
            if let ValueKind::Enum(known) = spec.kind {
                for v in known {
                    pool.push((v.canonical(), v.doc.to_string()));
                }
            }
            for v in source.values(entity, spec.field) {
                if !pool.iter().any(|(p, _)| p.eq_ignore_ascii_case(&v)) {
                    pool.push((v, String::new()));
                }
            }
            let candidates = rank(pool, typed, |(value, doc)| {
                let mut insert = String::new();
                print::value(&mut insert, value);
                Candidate {
                    insert,
                    detail: doc.clone(),
                }
            });
            Completion {
                replace: value_start..cursor,
                candidates,
            }
        }
        _ => {
            let pool: Vec<(String, String)> = fields::fields_for(entity)
                .map(|s| (s.name.to_string(), s.description.to_string()))
                .collect();
            let mut candidates = rank(pool, word, |(name, desc)| Candidate {
                insert: format!("{name}:"),
                detail: desc.clone(),
            });
            // Aliases complete to their field.
            let lower = word.to_ascii_lowercase();
            if !lower.is_empty() {
                for s in fields::fields_for(entity) {
                    let hit = s.aliases.iter().any(|a| a.starts_with(&lower));
                    let insert = format!("{}:", s.name);
                    if hit && !candidates.iter().any(|c| c.insert == insert) {
                        candidates.push(Candidate {
                            insert,
                            detail: s.description.to_string(),
                        });
                    }
                }
            }
            Completion {
                replace: start..cursor,
                candidates,
            }
        }
    }
}

/// Byte offset just past the last comma outside quotes in `s` (0 when none).
fn last_comma(s: &str) -> usize {
    let mut in_quote = false;
    let mut escaped = false;
    let mut at = 0;
    for (b, c) in s.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
        } else if c == '"' {
            in_quote = true;
        } else if c == ',' {
            at = b + 1;
        }
    }
    at
}

/// Keeps the items whose key starts with `typed` (case-insensitive), then those that
/// contain it, in their original order within each group.
fn rank<T>(
    pool: Vec<(String, String)>,
    typed: &str,
    make: impl Fn(&(String, String)) -> T,
) -> Vec<T> {
    let t = typed.to_lowercase();
    let mut prefix = Vec::new();
    let mut inner = Vec::new();
    for item in &pool {
        let k = item.0.to_lowercase();
        let d = item.1.to_lowercase();
        if k.starts_with(&t) || (!d.is_empty() && d.starts_with(&t)) {
            prefix.push(make(item));
        } else if k.contains(&t) {
            inner.push(make(item));
        }
    }
    prefix.extend(inner);
    prefix
}
