//! [`Filter`] → canonical text: fields by their canonical names, enumerated values by
//! their canonical short forms, `-` for negation, `OR` between alternatives, and
//! parentheses only where precedence needs them. `parse(print(f)) == f`.

use chrono::SecondsFormat;

use super::ast::{CmpOp, Expr, Filter, Term, TimeFilter, TimePoint};
use super::fields::{self, ValueKind};
use super::lexer::{ends_value, ends_word};

/// The canonical text of `filter` (empty for the filter that matches everything).
pub fn print(filter: &Filter) -> String {
    let mut out = String::new();
    if let Some(e) = &filter.root {
        expr(&mut out, e);
    }
    out
}

/// The canonical text of one expression.
pub fn print_expr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn expr(out: &mut String, e: &Expr) {
    match e {
        Expr::And(kids) => {
            for (k, kid) in kids.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                if matches!(kid, Expr::Or(_)) {
                    out.push('(');
                    expr(out, kid);
                    out.push(')');
                } else {
                    expr(out, kid);
                }
            }
        }
        Expr::Or(kids) => {
            for (k, kid) in kids.iter().enumerate() {
                if k > 0 {
                    out.push_str(" OR ");
                }
                expr(out, kid);
            }
        }
        Expr::Not(inner) => {
            out.push('-');
            match &**inner {
                Expr::And(_) | Expr::Or(_) => {
                    out.push('(');
                    expr(out, inner);
                    out.push(')');
                }
                other => expr(out, other),
            }
        }
        Expr::Term(t) => term(out, t),
    }
}

fn term(out: &mut String, t: &Term) {
    match t {
        Term::Text(w) => word(out, w),
        Term::Match { field, values } => {
            let spec = fields::spec(*field);
            out.push_str(spec.name);
            out.push(':');
            for (k, v) in values.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                match spec.kind {
                    ValueKind::Enum(known) => match fields::enum_by_doc(known, v) {
                        Some(e) => value(out, &e.canonical()),
                        None => value(out, v),
                    },
                    _ => value(out, v),
                }
            }
        }
        Term::Number { field, op, values } => {
            out.push_str(fields::spec(*field).name);
            out.push(':');
            if *op != CmpOp::Eq {
                out.push_str(op.symbol());
            }
            let nums: Vec<String> = values.iter().map(i64::to_string).collect();
            out.push_str(&nums.join(","));
        }
        Term::Time(f) => match f {
            TimeFilter::Since(p) => {
                out.push_str("since:");
                out.push_str(&point(p));
            }
            TimeFilter::Until(p) => {
                out.push_str("until:");
                out.push_str(&point(p));
            }
            TimeFilter::Between(a, b) => {
                out.push_str("between:");
                out.push_str(&point(a));
                out.push_str("..");
                out.push_str(&point(b));
            }
        },
    }
}

/// A time as the language writes it.
pub fn point(p: &TimePoint) -> String {
    match p {
        TimePoint::Ago { amount, unit } => format!("{amount}{}", unit.suffix()),
        TimePoint::Date(d) => d.format("%Y-%m-%d").to_string(),
        TimePoint::At(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// Writes a bare word, quoted when it would otherwise read differently.
fn word(out: &mut String, w: &str) {
    let keyword = ["or", "and", "not"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k));
    let looks_like_field = w.contains(':');
    let needs = w.is_empty()
        || keyword
        || looks_like_field
        || w.starts_with('-')
        || w.chars()
            .any(|c| ends_word(c) || c == '\\' || c.is_control());
    if needs {
        quoted(out, w)
    } else {
        out.push_str(w)
    }
}

/// Writes a field value, quoted when needed.
pub fn value(out: &mut String, v: &str) {
    let needs = v.is_empty() || v.chars().any(|c| ends_value(c) || c.is_control());
    if needs {
        quoted(out, v)
    } else {
        out.push_str(v)
    }
}

fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}
