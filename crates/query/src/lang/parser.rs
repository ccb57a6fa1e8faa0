//! Tokens → [`Filter`]. Precedence, loosest first: `OR`, then AND (juxtaposition or
//! `AND`), then `-`/`NOT`, then parentheses and terms. Values are checked against the
//! field registry here, so a typo is an error at its position, never an empty view.
//! Nesting of parentheses and negations is bounded by [`MAX_DEPTH`].

use chrono::NaiveDate;

use super::ast::{CmpOp, Expr, Filter, SpanUnit, Term, TimeFilter, TimePoint};
use super::error::{ParseError, closest};
use super::fields::{self, Entity, Field, FieldSpec, ValueKind};
use super::lexer::{RawValue, Tok, Token, lex};

/// Maximum nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 64;

/// Parses `text` as a filter over `entity`.
pub fn parse(entity: Entity, text: &str) -> Result<Filter, ParseError> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Ok(Filter::all());
    }
    let mut p = Parser {
        text,
        entity,
        toks,
        i: 0,
        depth: 0,
    };
    let root = p.or()?;
    if let Some(t) = p.toks.get(p.i) {
        return Err(p.err(t.start, "unmatched `)`: remove it or add a `(` before"));
    }
    Ok(Filter { root: Some(root) })
}

/// `And` of `items`, flattened; a single item stands alone.
pub fn and(items: Vec<Expr>) -> Expr {
    join(items, true)
}

/// `Or` of `items`, flattened; a single item stands alone.
pub fn or(items: Vec<Expr>) -> Expr {
    join(items, false)
}

fn join(items: Vec<Expr>, is_and: bool) -> Expr {
    let mut flat = Vec::with_capacity(items.len());
    for e in items {
        match e {
            Expr::And(kids) if is_and => flat.extend(kids),
            Expr::Or(kids) if !is_and => flat.extend(kids),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        return flat.pop().unwrap_or(Expr::And(Vec::new()));
    }
    if is_and {
        Expr::And(flat)
    } else {
        Expr::Or(flat)
    }
}

struct Parser<'a> {
    text: &'a str,
    entity: Entity,
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn tok(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.text.len(), |t| t.start)
    }

    fn err(&self, byte: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.text, byte, message)
    }

    /// Whether the cursor is where a term cannot start.
    fn at_boundary(&self) -> bool {
        matches!(self.tok(), None | Some(Tok::RParen | Tok::Or | Tok::And))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and()?];
        while self.tok() == Some(&Tok::Or) {
            let at = self.pos();
            self.i += 1;
            if self.at_boundary() {
                return Err(self.err(at, "`OR` needs a term on each side"));
            }
            items.push(self.and()?);
        }
        Ok(or(items))
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut items = Vec::new();
        loop {
            match self.tok() {
                None | Some(Tok::RParen | Tok::Or) => break,
                Some(Tok::And) => {
                    let at = self.pos();
                    self.i += 1;
                    if items.is_empty() || self.at_boundary() {
                        return Err(self.err(at, "`AND` needs a term on each side"));
                    }
                }
                Some(_) => items.push(self.unary()?),
            }
        }
        if items.is_empty() {
            let at = self.pos();
            return Err(match self.tok() {
                Some(Tok::Or) => self.err(at, "`OR` needs a term on each side"),
                Some(Tok::RParen) => self.err(at, "empty parentheses or unmatched `)`"),
                _ => self.err(at, "expected a term"),
            });
        }
        Ok(and(items))
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(
                self.pos(),
                format!("the filter nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Expr, ParseError> {
        let Some(t) = self.toks.get(self.i).cloned() else {
            return Err(self.err(self.text.len(), "expected a term"));
        };
        self.i += 1;
        match t.tok {
            Tok::Minus | Tok::Not => {
                if self.at_boundary() {
                    return Err(self.err(t.start, "a negation needs a term after it"));
                }
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::LParen => {
                if self.tok() == Some(&Tok::RParen) {
                    return Err(self.err(t.start, "empty parentheses"));
                }
                let e = self.or()?;
                if self.tok() != Some(&Tok::RParen) {
                    return Err(self.err(t.start, "this `(` is never closed: add a `)`"));
                }
                self.i += 1;
                Ok(e)
            }
            Tok::Word(w) | Tok::Quoted(w) => Ok(Expr::Term(Term::Text(w))),
            Tok::Field { name, values } => Ok(Expr::Term(self.field(&name, t.start, &values)?)),
            Tok::RParen => Err(self.err(t.start, "unmatched `)`")),
            Tok::Or | Tok::And => Err(self.err(t.start, "expected a term")),
        }
    }

    fn field(&self, name: &str, at: usize, values: &[RawValue]) -> Result<Term, ParseError> {
        let Some(spec) = fields::lookup(self.entity, name) else {
            return Err(self.unknown_field(name, at));
        };
        match spec.kind {
            ValueKind::Exact | ValueKind::Domain | ValueKind::Contains | ValueKind::Tag => {
                for v in values {
                    self.check_wildcards(spec, v)?;
                }
                Ok(Term::Match {
                    field: spec.field,
                    values: values.iter().map(|v| v.text.clone()).collect(),
                })
            }
            ValueKind::Enum(known) => {
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    match fields::enum_value(known, &v.text) {
                        Some(e) => out.push(e.doc.to_string()),
                        None => return Err(self.unknown_value(spec, known, v)),
                    }
                }
                Ok(Term::Match {
                    field: spec.field,
                    values: out,
                })
            }
            ValueKind::Number => self.number(spec, values),
            ValueKind::Time => self.time(spec, values),
        }
    }

    fn unknown_field(&self, name: &str, at: usize) -> ParseError {
        let elsewhere = fields::entities_with(name);
        if !elsewhere.is_empty() {
            let list: Vec<&str> = elsewhere.iter().map(|e| e.as_str()).collect();
            return self.err(
                at,
                format!(
                    "`{name}` is not a field of {} (it is one of {})",
                    self.entity,
                    list.join(", ")
                ),
            );
        }
        let names = fields::fields_for(self.entity).flat_map(|s| std::iter::once(s.name));
        let aliases = fields::fields_for(self.entity).flat_map(|s| s.aliases.iter().copied());
        let suggestion = closest(name, names.chain(aliases))
            .map(|s| fields::lookup(self.entity, &s).map_or(s, |f| f.name.to_string()));
        let e = self.err(at, format!("unknown field `{name}`"));
        if suggestion.is_some() {
            e.suggest(suggestion)
        } else {
            let mut e = e;
            e.message.push_str(
                "; quote the text to search for it (`\"...\"`), or see the field reference",
            );
            e
        }
    }

    fn unknown_value(
        &self,
        spec: &FieldSpec,
        known: &'static [fields::EnumValue],
        v: &RawValue,
    ) -> ParseError {
        let canon: Vec<String> = known.iter().map(|k| k.canonical()).collect();
        let mut words: Vec<String> = canon.clone();
        words.extend(known.iter().map(|k| k.doc.to_string()));
        words.extend(
            known
                .iter()
                .flat_map(|k| k.short.iter().map(|s| s.to_string())),
        );
        let suggestion = closest(&v.text, words.iter().map(String::as_str))
            .map(|w| fields::enum_value(known, &w).map_or(w, |k| k.canonical()));
        let e = self.err(
            v.start,
            format!("unknown value `{}` for `{}`", v.text, spec.name),
        );
        if suggestion.is_some() {
            e.suggest(suggestion)
        } else {
            let mut e = e;
            e.message
                .push_str(&format!("; expected one of: {}", canon.join(", ")));
            e
        }
    }

    fn check_wildcards(&self, spec: &FieldSpec, v: &RawValue) -> Result<(), ParseError> {
        if !matches!(spec.kind, ValueKind::Exact | ValueKind::Domain) {
            return Ok(());
        }
        let n = v.text.chars().count();
        let offset = usize::from(v.quoted);
        for (k, (b, c)) in v.text.char_indices().enumerate() {
            if c == '*' && k != 0 && k + 1 != n {
                return Err(self.err(
                    v.start + offset + b,
                    format!(
                        "`*` is a wildcard only at the start or end of a `{}` value",
                        spec.name
                    ),
                ));
            }
        }
        if spec.kind == ValueKind::Domain {
            let inner = v.text.trim_matches('*');
            if v.text.starts_with('*') && v.text.ends_with('*') && !inner.is_empty() {
                return Err(self.err(
                    v.start,
                    format!(
                        "`{}` takes a domain with a `*` at one end only (`*.contoso.com`, `contoso*`)",
                        spec.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn number(&self, spec: &FieldSpec, values: &[RawValue]) -> Result<Term, ParseError> {
        let mut op = CmpOp::Eq;
        let mut out = Vec::with_capacity(values.len());
        for (k, v) in values.iter().enumerate() {
            let (this_op, digits, skip) = split_op(&v.text);
            if k == 0 {
                op = this_op;
            } else if this_op != CmpOp::Eq || op != CmpOp::Eq {
                return Err(self.err(
                    v.start,
                    format!(
                        "a comparison takes one value; write `{0}:{1}a OR {0}:{1}b` for several",
                        spec.name,
                        op.symbol()
                    ),
                ));
            }
            let n = digits.parse::<i64>().map_err(|_| {
                self.err(
                    v.start + skip + usize::from(v.quoted),
                    format!(
                        "`{digits}` is not a whole number (`{}` compares numbers, e.g. `{}`)",
                        spec.name, spec.example
                    ),
                )
            })?;
            out.push(n);
        }
        Ok(Term::Number {
            field: spec.field,
            op,
            values: out,
        })
    }

    fn time(&self, spec: &FieldSpec, values: &[RawValue]) -> Result<Term, ParseError> {
        if let Some(extra) = values.get(1) {
            return Err(self.err(
                extra.start,
                format!(
                    "`{}` takes one time; use `between:A..B` for a range",
                    spec.name
                ),
            ));
        }
        let v = &values[0];
        let base = v.start + usize::from(v.quoted);
        let f = match spec.field {
            Field::Since => TimeFilter::Since(self.point(&v.text, base)?),
            Field::Until => TimeFilter::Until(self.point(&v.text, base)?),
            _ => {
                let Some((a, b)) = v.text.split_once("..") else {
                    return Err(self.err(
                        v.start,
                        "`between` takes two times separated by `..` (`between:2026-11-01..2026-11-03`)",
                    ));
                };
                TimeFilter::Between(self.point(a, base)?, self.point(b, base + a.len() + 2)?)
            }
        };
        Ok(Term::Time(f))
    }

    fn point(&self, s: &str, at: usize) -> Result<TimePoint, ParseError> {
        parse_point(s).ok_or_else(|| {
            self.err(
                at,
                format!(
                    "`{s}` is not a time: write 30m, 12h, 7d, 2w (ago), a date (2026-11-01) or an RFC 3339 time (2026-11-01T10:00:00Z)"
                ),
            )
        })
    }
}

/// `>=7` → (Ge, "7", 2).
fn split_op(s: &str) -> (CmpOp, &str, usize) {
    for (p, op) in [
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
        ("=", CmpOp::Eq),
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            return (op, rest, p.len());
        }
    }
    (CmpOp::Eq, s, 0)
}

/// A time as the language writes it.
pub fn parse_point(s: &str) -> Option<TimePoint> {
    if let Some(unit) = s.chars().last().and_then(|c| match c.to_ascii_lowercase() {
        'm' => Some(SpanUnit::Minutes),
        'h' => Some(SpanUnit::Hours),
        'd' => Some(SpanUnit::Days),
        'w' => Some(SpanUnit::Weeks),
        _ => None,
    }) {
        let digits = &s[..s.len() - 1];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits
                .parse::<u32>()
                .ok()
                .map(|amount| TimePoint::Ago { amount, unit });
        }
    }
    if s.len() == 10
        && let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
    {
        return Some(TimePoint::Date(d));
    }
    whalewatch_model::time::parse_datetime(s).map(TimePoint::At)
}
