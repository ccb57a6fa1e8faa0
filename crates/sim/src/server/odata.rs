//! The OData query options Graph list endpoints accept: `$filter` (a real little
//! parser over `eq ne gt ge lt le in`, `and or not`, `startswith/endswith/contains`),
//! `$top`, `$skiptoken` and `$select`. Filters are evaluated against the rendered
//! JSON entity, so every endpoint filters on exactly the properties it returns.

use std::collections::HashMap;

use base64::Engine;
use serde_json::Value;
use whalewatch_model::time::parse_ticks;

/// A parse error with the offending position, reported as Graph's `BadRequest`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter clause: {message} at position {pos}.")]
pub struct FilterError {
    pub pos: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    /// An unquoted token such as a datetime (`2026-11-01T00:00:00Z`).
    Bare(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Cmp(String, Op, Lit),
    In(String, Vec<Lit>),
    Func(String, String, Lit),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
    Comma,
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((i, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((i, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((i, Tok::Comma));
                i += 1;
            }
            '\'' => {
                let start = i;
                i += 1;
                let mut v = String::new();
                loop {
                    match b.get(i) {
                        None => {
                            return Err(FilterError {
                                pos: start,
                                message: "unterminated string".into(),
                            });
                        }
                        Some('\'') if b.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(v)));
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !b[i].is_whitespace()
                    && !matches!(b[i], '(' | ')' | ',' | '\'')
                {
                    i += 1;
                }
                out.push((start, Tok::Word(b[start..i].iter().collect())));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.1)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |t| t.0)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            pos: self.pos(),
            message: message.into(),
        })
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn eat(&mut self, t: Tok, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&t) {
            self.i += 1;
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > 64 {
            return self.err("filter nested too deeply");
        }
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            self.i += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            self.i += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        // `not not not ...` recurses here without passing through `or`.
        if depth > 64 {
            return self.err("filter nested too deeply");
        }
        if self.keyword("not") {
            self.i += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.i += 1;
            let f = self.or(depth + 1)?;
            self.eat(Tok::RParen, "`)`")?;
            return Ok(f);
        }
        let Some(Tok::Word(word)) = self.peek().cloned() else {
            return self.err("expected a property name");
        };
        self.i += 1;
        let lower = word.to_ascii_lowercase();
        if matches!(lower.as_str(), "startswith" | "endswith" | "contains")
            && self.peek() == Some(&Tok::LParen)
        {
            self.i += 1;
            let Some(Tok::Word(prop)) = self.peek().cloned() else {
                return self.err("expected a property name");
            };
            self.i += 1;
            self.eat(Tok::Comma, "`,`")?;
            let lit = self.literal()?;
            self.eat(Tok::RParen, "`)`")?;
            return Ok(Filter::Func(lower, prop, lit));
        }
        if self.keyword("in") {
            self.i += 1;
            self.eat(Tok::LParen, "`(`")?;
            let mut items = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.i += 1;
                items.push(self.literal()?);
            }
            self.eat(Tok::RParen, "`)`")?;
            return Ok(Filter::In(word, items));
        }
        let op = match self.peek() {
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return self.err(format!("unsupported operator `{other}`")),
            },
            _ => return self.err("expected an operator (eq, ne, gt, ge, lt, le, in)"),
        };
        self.i += 1;
        Ok(Filter::Cmp(word, op, self.literal()?))
    }

    fn literal(&mut self) -> Result<Lit, FilterError> {
        let lit = match self.peek().cloned() {
            Some(Tok::Str(s)) => Lit::Str(s),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Lit::Bool(true),
                "false" => Lit::Bool(false),
                "null" => Lit::Null,
                _ => w.parse::<f64>().map(Lit::Num).unwrap_or(Lit::Bare(w)),
            },
            _ => return self.err("expected a value"),
        };
        self.i += 1;
        Ok(lit)
    }
}

/// Parses a `$filter` expression.
pub fn parse_filter(s: &str) -> Result<Filter, FilterError> {
    let toks = lex(s)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: s.chars().count(),
    };
    let f = p.or(0)?;
    if p.i < p.toks.len() {
        return p.err("unexpected text after the filter");
    }
    Ok(f)
}

fn lookup<'a>(entity: &'a Value, path: &str) -> &'a Value {
    let mut cur = entity;
    for part in path.split('/') {
        cur = cur.get(part).unwrap_or(&Value::Null);
    }
    cur
}

fn compare(v: &Value, lit: &Lit) -> Option<std::cmp::Ordering> {
    match (v, lit) {
        (Value::Null, Lit::Null) => Some(std::cmp::Ordering::Equal),
        (Value::Null, _) | (_, Lit::Null) => None,
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(n), Lit::Num(b)) => n.as_f64().and_then(|a| a.partial_cmp(b)),
        (Value::String(s), Lit::Str(b) | Lit::Bare(b)) => match (parse_ticks(s), parse_ticks(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            // Graph compares enum and string values case-insensitively.
            _ => Some(s.to_lowercase().cmp(&b.to_lowercase())),
        },
        (Value::String(s), Lit::Num(b)) => s.parse::<f64>().ok().and_then(|a| a.partial_cmp(b)),
        _ => None,
    }
}

impl Filter {
    /// Whether `entity` satisfies the filter.
    pub fn matches(&self, entity: &Value) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Filter::And(a, b) => a.matches(entity) && b.matches(entity),
            Filter::Or(a, b) => a.matches(entity) || b.matches(entity),
            Filter::Not(a) => !a.matches(entity),
            Filter::In(prop, items) => {
                let v = lookup(entity, prop);
                items.iter().any(|l| compare(v, l) == Some(Equal))
            }
            Filter::Func(f, prop, lit) => {
                let (Value::String(s), Lit::Str(needle)) = (lookup(entity, prop), lit) else {
                    return false;
                };
                let (s, needle) = (s.to_lowercase(), needle.to_lowercase());
                match f.as_str() {
                    "startswith" => s.starts_with(&needle),
                    "endswith" => s.ends_with(&needle),
                    _ => s.contains(&needle),
                }
            }
            Filter::Cmp(prop, op, lit) => {
                let ord = compare(lookup(entity, prop), lit);
                match (*op, ord) {
                    (Op::Eq, Some(o)) => o == Equal,
                    (Op::Ne, Some(o)) => o != Equal,
                    (Op::Ne, None) => true,
                    (Op::Gt, Some(o)) => o == Greater,
                    (Op::Ge, Some(o)) => o != Less,
                    (Op::Lt, Some(o)) => o == Less,
                    (Op::Le, Some(o)) => o != Greater,
                    _ => false,
                }
            }
        }
    }
}

/// The paging and shaping options of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub filter: Option<Filter>,
    pub top: usize,
    pub skip: usize,
    pub select: Option<Vec<String>>,
    pub expand: Vec<String>,
}

/// Encodes a paging offset as an opaque `$skiptoken`.
pub fn skiptoken(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_skiptoken(t: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

impl ListOptions {
    /// Reads the options from a query string map; `default_top` and `max_top` are the
    /// endpoint's page sizes.
    pub fn from_query(
        q: &HashMap<String, String>,
        default_top: usize,
        max_top: usize,
    ) -> Result<ListOptions, String> {
        let filter = match q.get("$filter") {
            Some(f) if !f.trim().is_empty() => Some(parse_filter(f).map_err(|e| e.to_string())?),
            _ => None,
        };
        let top = match q.get("$top") {
            Some(t) => t
                .parse::<usize>()
                .ok()
                .filter(|t| *t > 0)
                .ok_or_else(|| {
                    format!("Invalid value '{t}' for $top: expected a positive integer.")
                })?
                .min(max_top),
            None => default_top,
        };
        let skip = match q.get("$skiptoken") {
            Some(t) => decode_skiptoken(t)
                .ok_or_else(|| "The $skiptoken is invalid or expired.".to_string())?,
            None => 0,
        };
        let select = q.get("$select").map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        });
        let expand = q
            .get("$expand")
            .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
            .unwrap_or_default();
        Ok(ListOptions {
            filter,
            top,
            skip,
            select,
            expand,
        })
    }

    /// Keeps only the `$select`ed properties (plus `id`, `@odata.type` and the
    /// `$expand`ed navigation properties).
    pub fn shape(&self, mut entity: Value) -> Value {
        if let (Some(select), Value::Object(map)) = (&self.select, &mut entity) {
            map.retain(|k, _| {
                k == "id"
                    || k.starts_with('@')
                    || select.iter().any(|s| s.eq_ignore_ascii_case(k))
                    || self.expand.iter().any(|e| e.eq_ignore_ascii_case(k))
            });
        }
        entity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_compare_datetimes_enums_and_nested_properties() {
        let e = json!({"status":"new","severity":"high","lastUpdateDateTime":"2026-10-05T10:00:00.1234567Z","sender":{"domain":"x.com"},"n":3});
        let yes = [
            "lastUpdateDateTime ge 2026-10-01T00:00:00Z",
            "status eq 'New' and severity in ('high','medium')",
            "not (status eq 'resolved') or n gt 10",
            "startswith(sender/domain,'X.')",
            "n le 3 and n ne 4",
        ];
        for f in yes {
            assert!(parse_filter(f).unwrap().matches(&e), "{f}");
        }
        let no = [
            "lastUpdateDateTime gt 2026-10-06T00:00:00Z",
            "status eq 'resolved'",
            "missing eq 'x'",
        ];
        for f in no {
            assert!(!parse_filter(f).unwrap().matches(&e), "{f}");
        }
    }

    #[test]
    fn bad_filters_point_at_the_problem() {
        let e = parse_filter("status eq 'new' and severity like 'x'").unwrap_err();
        assert_eq!(e.pos, 29);
        assert!(e.message.contains("like"));
        assert!(parse_filter("status eq 'open").is_err());
        assert!(parse_filter("(status eq 'new'").is_err());
        assert!(parse_filter(&"(".repeat(500)).is_err());
        assert!(parse_filter(&format!("{}a eq 1", "not ".repeat(100_000))).is_err());
    }

    #[test]
    fn skiptokens_round_trip_and_reject_garbage() {
        let q = HashMap::from([("$skiptoken".to_string(), skiptoken(250))]);
        assert_eq!(ListOptions::from_query(&q, 100, 1000).unwrap().skip, 250);
        let bad = HashMap::from([("$skiptoken".to_string(), "zzz".to_string())]);
        assert!(ListOptions::from_query(&bad, 100, 1000).is_err());
    }
}
