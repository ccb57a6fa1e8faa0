//! A small boolean tree of KQL predicates and its rendering: literals are escaped,
//! constants fold, and long `and`/`or` chains are grouped in balanced parentheses so
//! expression depth grows with the logarithm of the number of terms.

use chrono::{DateTime, SecondsFormat, Utc};

/// A KQL predicate under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum K {
    /// Always true.
    True,
    /// Always false.
    False,
    /// A predicate that binds tighter than `and` (a comparison, a call, or text
    /// already in parentheses).
    Atom(String),
    /// All of.
    And(Vec<K>),
    /// Any of.
    Or(Vec<K>),
    /// Not.
    Not(Box<K>),
}

impl K {
    /// An atom.
    pub fn atom(s: impl Into<String>) -> K {
        K::Atom(s.into())
    }

    /// `and` of `items`, folding constants.
    pub fn and(items: Vec<K>) -> K {
        let mut out = Vec::new();
        for k in items {
            match k {
                K::True => {}
                K::False => return K::False,
                K::And(kids) => out.extend(kids),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => K::True,
            1 => out.pop().unwrap_or(K::True),
            _ => K::And(out),
        }
    }

    /// `or` of `items`, folding constants.
    pub fn or(items: Vec<K>) -> K {
        let mut out = Vec::new();
        for k in items {
            match k {
                K::False => {}
                K::True => return K::True,
                K::Or(kids) => out.extend(kids),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => K::False,
            1 => out.pop().unwrap_or(K::False),
            _ => K::Or(out),
        }
    }

    /// `not(k)`, folding constants.
    #[allow(clippy::should_implement_trait)]
    pub fn not(k: K) -> K {
        match k {
            K::True => K::False,
            K::False => K::True,
            K::Not(inner) => *inner,
            other => K::Not(Box::new(other)),
        }
    }

    /// The predicate as KQL text.
    pub fn render(&self) -> String {
        match self {
            K::True => "true".into(),
            K::False => "false".into(),
            K::Atom(s) => s.clone(),
            K::And(kids) => chain(kids, " and "),
            K::Or(kids) => chain(kids, " or "),
            K::Not(inner) => format!("not({})", inner.render()),
        }
    }

    /// The predicate as an operand of `and`/`or`: parenthesised when compound.
    fn operand(&self) -> String {
        match self {
            K::And(_) | K::Or(_) => format!("({})", self.render()),
            _ => self.render(),
        }
    }
}

/// Longest run joined without extra grouping.
const CHAIN: usize = 8;

fn chain(kids: &[K], sep: &str) -> String {
    if kids.len() <= CHAIN {
        return kids.iter().map(K::operand).collect::<Vec<_>>().join(sep);
    }
    let mid = kids.len() / 2;
    format!(
        "({}){sep}({})",
        chain(&kids[..mid], sep),
        chain(&kids[mid..], sep)
    )
}

/// A KQL string literal.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A parenthesised list of string literals: `("a", "b")`.
pub fn lit_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| lit(s.as_ref())).collect();
    format!("({})", parts.join(", "))
}

/// `col =~ "a"` for one value, `col in~ ("a", "b")` for several.
pub fn in_ci<S: AsRef<str>>(col: &str, values: &[S]) -> K {
    match values {
        [] => K::False,
        [one] => K::atom(format!("{col} =~ {}", lit(one.as_ref()))),
        many => K::atom(format!("{col} in~ {}", lit_list(many))),
    }
}

/// A KQL datetime literal.
pub fn datetime(t: DateTime<Utc>) -> String {
    format!(
        "datetime({})",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

/// How a text value compares: the wildcard rules of the filter language.
pub fn exact(col: &str, value: &str) -> K {
    let lead = value.starts_with('*');
    let rest = if lead { &value[1..] } else { value };
    let trail = rest.ends_with('*');
    let inner = if trail { &rest[..rest.len() - 1] } else { rest };
    match (lead, trail) {
        (false, false) => K::atom(format!("{col} =~ {}", lit(value))),
        (true, false) if inner.is_empty() => K::True,
        (true, false) => K::atom(format!("{col} endswith {}", lit(inner))),
        (false, true) => K::atom(format!("{col} startswith {}", lit(inner))),
        (true, true) if inner.is_empty() => K::True,
        (true, true) => K::atom(format!("{col} contains {}", lit(inner))),
    }
}

/// Any of `values` compared to `col` with the wildcard rules; plain values become one
/// `in~` list.
pub fn exact_any(col: &str, values: &[String]) -> K {
    let (plain, wild): (Vec<&String>, Vec<&String>) = values
        .iter()
        .partition(|v| !v.starts_with('*') && !v.ends_with('*'));
    let mut items = Vec::new();
    match plain.len() {
        0 => {}
        1 => items.push(exact(col, plain[0])),
        _ => items.push(K::atom(format!("{col} in~ {}", lit_list(&plain)))),
    }
    items.extend(wild.iter().map(|v| exact(col, v)));
    K::or(items)
}

/// Any of `values` contained in `col` (case-insensitive).
pub fn contains_any(col: &str, values: &[String]) -> K {
    K::or(
        values
            .iter()
            .map(|v| K::atom(format!("{col} contains {}", lit(v))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert_eq!(exact("C", "a").render(), r#"C =~ "a""#);
        assert_eq!(exact("C", "a*").render(), r#"C startswith "a""#);
        assert_eq!(exact("C", "*a").render(), r#"C endswith "a""#);
        assert_eq!(exact("C", "*a*").render(), r#"C contains "a""#);
        assert_eq!(exact("C", "*"), K::True);
        assert_eq!(exact("C", "**"), K::True);
    }

    #[test]
    fn literals_escape() {
        assert_eq!(lit("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn long_chains_are_balanced() {
        let kids: Vec<K> = (0..20).map(|i| K::atom(format!("A{i}"))).collect();
        let s = K::or(kids).render();
        assert!(s.starts_with("((A0 or"), "{s}");
        assert_eq!(s.matches(" or ").count(), 19);
    }

    #[test]
    fn constants_fold() {
        assert_eq!(K::and(vec![K::True, K::atom("x")]), K::atom("x"));
        assert_eq!(K::or(vec![K::False, K::True]), K::True);
        assert_eq!(K::not(K::not(K::atom("x"))), K::atom("x"));
        assert_eq!(K::and(vec![K::atom("x"), K::False]), K::False);
    }
}
