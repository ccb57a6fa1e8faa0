//! Text comparisons with Kusto's case rules, so the local evaluator and advanced
//! hunting agree byte for byte: an ASCII needle is compared with ASCII case folding
//! against the raw haystack; a non-ASCII needle is compared after full Unicode
//! lowercasing of both sides. Each predicate runs once per distinct value of a
//! column (see [`super::column::Dict::matching`]), never once per row.

use std::borrow::Cow;

/// The lowercase form used for case-insensitive equality (`=~`, `in~`).
pub fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `a =~ b`.
pub fn eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A prepared right-hand side of `contains` / `startswith` / `endswith` / `has`.
#[derive(Debug, Clone)]
pub struct Needle {
    text: String,
    ascii: bool,
}

/// The string operators the filter language compiles to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `contains`.
    Contains,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
    /// `has`: a whole term.
    Has,
}

impl Needle {
    /// Prepares `s` (lowercased).
    pub fn new(s: &str) -> Needle {
        let text = s.to_lowercase();
        Needle {
            ascii: text.is_ascii(),
            text,
        }
    }

    /// `hay <op> needle`, case-insensitive.
    pub fn test(&self, op: Op, hay: &str) -> bool {
        let folded;
        let (h, ci) = if self.ascii {
            (hay.as_bytes(), true)
        } else {
            folded = hay.to_lowercase();
            (folded.as_bytes(), false)
        };
        let n = self.text.as_bytes();
        match op {
            Op::Contains => find(h, n, ci, false, false),
            Op::Has => find(h, n, ci, true, true),
            Op::StartsWith => h.len() >= n.len() && bytes_eq(&h[..n.len()], n, ci),
            Op::EndsWith => h.len() >= n.len() && bytes_eq(&h[h.len() - n.len()..], n, ci),
        }
    }
}

fn bytes_eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Term characters for `has`: ASCII alphanumerics and any non-ASCII byte.
fn is_term_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

fn find(hay: &[u8], needle: &[u8], ci: bool, start_bound: bool, end_bound: bool) -> bool {
    let n = needle.len();
    if n == 0 {
        return true;
    }
    if hay.len() < n {
        return false;
    }
    let check_start = start_bound && is_term_byte(needle[0]);
    let check_end = end_bound && is_term_byte(needle[n - 1]);
    for i in 0..=hay.len() - n {
        if !bytes_eq(&hay[i..i + n], needle, ci) {
            continue;
        }
        if check_start && i > 0 && is_term_byte(hay[i - 1]) {
            continue;
        }
        if check_end && i + n < hay.len() && is_term_byte(hay[i + n]) {
            continue;
        }
        return true;
    }
    false
}

/// A text value of the filter language compiled for repeated tests.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Matches everything (`*`).
    Any,
    /// `=~ v`.
    Equals(String),
    /// A substring-family operator.
    Op(Op, Needle),
}

impl Pattern {
    /// The **exact** rule: `*` at either end is a wildcard.
    pub fn exact(value: &str) -> Pattern {
        let lead = value.starts_with('*');
        let rest = if lead { &value[1..] } else { value };
        let trail = rest.ends_with('*');
        let inner = if trail { &rest[..rest.len() - 1] } else { rest };
        match (lead, trail) {
            (false, false) => Pattern::Equals(value.to_string()),
            (_, _) if inner.is_empty() => Pattern::Any,
            (true, false) => Pattern::Op(Op::EndsWith, Needle::new(inner)),
            (false, true) => Pattern::Op(Op::StartsWith, Needle::new(inner)),
            (true, true) => Pattern::Op(Op::Contains, Needle::new(inner)),
        }
    }

    /// The **contains** rule.
    pub fn contains(value: &str) -> Pattern {
        Pattern::Op(Op::Contains, Needle::new(value))
    }

    /// Whether `hay` matches.
    pub fn test(&self, hay: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Equals(v) => eq_ci(hay, v),
            Pattern::Op(op, n) => n.test(*op, hay),
        }
    }
}

/// Any of `patterns` matches `hay`.
pub fn any(patterns: &[Pattern], hay: &str) -> bool {
    patterns.iter().any(|p| p.test(hay))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kusto_case_rules() {
        assert!(eq_ci("Phish", "PHISH"));
        assert!(eq_ci("Ärger", "äRGER"));
        let n = Needle::new("Phish");
        assert!(n.test(Op::Has, "Spam, Phish"));
        assert!(!n.test(Op::Has, "Phishing"));
        assert!(n.test(Op::Contains, "Phishing"));
        assert!(Needle::new("ÄR").test(Op::Contains, "xärx"));
        assert!(Pattern::exact("*.top").test("evil.TOP"));
        assert!(Pattern::exact("a*").test("Abc"));
        assert!(Pattern::exact("*b*").test("abc"));
        assert!(matches!(Pattern::exact("**"), Pattern::Any));
        assert!(!Pattern::exact("abc").test("abcd"));
        assert!(Needle::new("\"ZAP\"").test(Op::Contains, r#"{"Phish":["ZAP"]}"#));
    }
}
