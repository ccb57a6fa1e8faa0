//! Runtime semantics of values: KQL's comparison, equality, arithmetic, text
//! conversion and string matching. Every function is total: a combination the type
//! checker would have rejected (or a null) yields `None`/`Value::Null`, never a panic.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use crate::kql::Value;
use crate::kql::ast::{BinOp, StrOp};

/// Unwraps a dynamic scalar (`dynamic(5)`, a JSON string member) into the plain
/// value it holds so it compares and computes like one; arrays and objects stay dynamic.
pub fn scalar(v: &Value) -> Cow<'_, Value> {
    match v {
        Value::Dynamic(j) => Cow::Owned(from_json(j)),
        other => Cow::Borrowed(other),
    }
}

/// A JSON value as a KQL value (numbers become long or real, strings strings).
pub fn from_json(j: &Arc<serde_json::Value>) -> Value {
    use serde_json::Value as J;
    match &**j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map(Value::Long)
            .or_else(|| n.as_f64().map(Value::Real))
            .unwrap_or(Value::Null),
        J::String(s) => Value::String(Arc::from(s.as_str())),
        _ => Value::Dynamic(j.clone()),
    }
}

/// The text KQL string operators and `tostring` see: null is the empty string,
/// a dynamic string is its contents, anything else its printed form.
pub fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Dynamic(j) => match &**j {
            serde_json::Value::String(s) => Cow::Borrowed(s.as_str()),
            serde_json::Value::Null => Cow::Borrowed(""),
            other => Cow::Owned(other.to_string()),
        },
        other => Cow::Owned(other.to_string()),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        _ => None,
    }
}

/// Ordering of two non-null values of comparable types; `None` for null or mismatch.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (a, b) = (scalar(a), scalar(b));
    match (&*a, &*b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Some(x.cmp(y))
        }
        (x, y) => match (as_i64(x), as_i64(y)) {
            (Some(i), Some(j)) => Some(i.cmp(&j)),
            _ => as_f64(x)?.partial_cmp(&as_f64(y)?),
        },
    }
}

/// `==` semantics: `None` when either side is null (so `where` drops the row).
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    let (sa, sb) = (scalar(a), scalar(b));
    match (&*sa, &*sb) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Dynamic(x), Value::Dynamic(y)) => Some(x == y),
        (Value::Dynamic(_), _) | (_, Value::Dynamic(_)) => Some(false),
        (x, y) => Some(compare(x, y) == Some(Ordering::Equal)),
    }
}

/// `=~` semantics: case-insensitive string equality.
pub fn equals_ci(a: &Value, b: &Value) -> Option<bool> {
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return None;
    }
    Some(eq_ignore_case(&text(a), &text(b)))
}

pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A total order over all values for sorting (nulls are placed by the caller): values
/// rank by type, then by value; numbers compare by real value, then int before real,
/// then exactly. Being a true total order matters: Rust's sorts may panic otherwise.
pub fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (scalar(a), scalar(b));
    let (a, b) = (&*a, &*b);
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Long(_) | Value::Real(_) => 2,
            Value::DateTime(_) => 3,
            Value::TimeSpan(_) => 4,
            Value::String(_) => 5,
            Value::Dynamic(_) => 6,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::TimeSpan(x), Value::TimeSpan(y)) => {
            x.cmp(y)
        }
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Dynamic(x), Value::Dynamic(y)) => x.to_string().cmp(&y.to_string()),
        (x, y) => {
            let fx = as_f64(x).unwrap_or(0.0);
            let fy = as_f64(y).unwrap_or(0.0);
            let kind = |v: &Value| u8::from(matches!(v, Value::Real(_)));
            fx.total_cmp(&fy)
                .then(kind(x).cmp(&kind(y)))
                .then(as_i64(x).unwrap_or(0).cmp(&as_i64(y).unwrap_or(0)))
        }
    })
}

/// Arithmetic (`+ - * / %`) with KQL's datetime/timespan rules. Integer overflow and
/// division by zero give null; reals follow IEEE.
pub fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    let (a, b) = (scalar(a), scalar(b));
    arith_scalar(op, &a, &b).unwrap_or(Value::Null)
}

fn arith_scalar(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    use Value::*;
    Some(match (op, a, b) {
        (_, Null, _) | (_, _, Null) => return None,
        (BinOp::Sub, DateTime(x), DateTime(y)) => TimeSpan(x.checked_sub(*y)?),
        (BinOp::Add, DateTime(x), TimeSpan(y)) | (BinOp::Add, TimeSpan(y), DateTime(x)) => {
            DateTime(x.checked_add(*y)?)
        }
        (BinOp::Sub, DateTime(x), TimeSpan(y)) => DateTime(x.checked_sub(*y)?),
        (BinOp::Div, TimeSpan(x), TimeSpan(y)) => Real(*x as f64 / *y as f64),
        (_, TimeSpan(x), TimeSpan(y)) => TimeSpan(int_op(op, *x, *y)?),
        (BinOp::Mul, TimeSpan(t), n) | (BinOp::Mul, n, TimeSpan(t)) => match n {
            Real(r) => TimeSpan(real_to_ticks(*t as f64 * r)?),
            n => TimeSpan(t.checked_mul(as_i64(n)?)?),
        },
        (BinOp::Div, TimeSpan(t), n) => match n {
            Real(r) => TimeSpan(real_to_ticks(*t as f64 / r)?),
            n => TimeSpan(t.checked_div(as_i64(n)?)?),
        },
        (_, Int(x), Int(y)) => Int(i32::try_from(int_op(op, i64::from(*x), i64::from(*y))?).ok()?),
        (_, x, y) => match (as_i64(x), as_i64(y)) {
            (Some(i), Some(j)) => Long(int_op(op, i, j)?),
            _ => Real(real_op(op, as_f64(x)?, as_f64(y)?)?),
        },
    })
}

fn real_to_ticks(r: f64) -> Option<i64> {
    (r.is_finite() && r.abs() < 9.2e18).then_some(r as i64)
}

fn int_op(op: BinOp, x: i64, y: i64) -> Option<i64> {
    match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => x.checked_div(y),
        BinOp::Mod => x.checked_rem(y),
        _ => None,
    }
}

fn real_op(op: BinOp, x: f64, y: f64) -> Option<f64> {
    match op {
        BinOp::Add => Some(x + y),
        BinOp::Sub => Some(x - y),
        BinOp::Mul => Some(x * y),
        BinOp::Div => Some(x / y),
        BinOp::Mod => Some(x % y),
        _ => None,
    }
}

/// A hashable identity for grouping (`summarize by`, `distinct`, `dcount`, `make_set`).
/// Int and long share a key so `1` groups with `1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HKey {
    Null,
    Bool(bool),
    Int(i64),
    Real(u64),
    Str(Arc<str>),
    DateTime(i64),
    TimeSpan(i64),
    Dyn(String),
}

impl HKey {
    pub fn of(v: &Value) -> HKey {
        match v {
            Value::Null => HKey::Null,
            Value::Bool(b) => HKey::Bool(*b),
            Value::Int(i) => HKey::Int(i64::from(*i)),
            Value::Long(i) => HKey::Int(*i),
            Value::Real(r) => {
                let r = if *r == 0.0 { 0.0 } else { *r };
                HKey::Real(if r.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    r.to_bits()
                })
            }
            Value::String(s) => HKey::Str(s.clone()),
            Value::DateTime(t) => HKey::DateTime(*t),
            Value::TimeSpan(t) => HKey::TimeSpan(*t),
            Value::Dynamic(j) => HKey::Dyn(j.to_string()),
        }
    }
}

/// A string operator's right-hand side, prepared once per query (lower-cased for the
/// case-insensitive operators).
#[derive(Debug, Clone)]
pub struct Needle {
    pub text: Box<str>,
    pub ascii: bool,
}

impl Needle {
    pub fn new(op: StrOp, s: &str) -> Needle {
        let text: Box<str> = if op.case_sensitive() {
            s.into()
        } else {
            s.to_lowercase().into()
        };
        Needle {
            ascii: text.is_ascii(),
            text,
        }
    }
}

/// Evaluates `hay <op> needle` (not negated).
pub fn str_match(op: StrOp, hay: &str, n: &Needle) -> bool {
    let needle = &*n.text;
    if op.case_sensitive() {
        return match op {
            StrOp::HasCs => find_term(hay.as_bytes(), needle.as_bytes(), false, true, true),
            StrOp::ContainsCs => hay.contains(needle),
            StrOp::StartsWithCs => hay.starts_with(needle),
            _ => hay.ends_with(needle),
        };
    }
    // Case-insensitive: ASCII needles search the bytes directly; otherwise fold both.
    let folded;
    let (h, ci) = if n.ascii {
        (hay.as_bytes(), true)
    } else {
        folded = hay.to_lowercase();
        (folded.as_bytes(), false)
    };
    let nb = needle.as_bytes();
    match op {
        StrOp::Has => find_term(h, nb, ci, true, true),
        StrOp::HasPrefix => find_term(h, nb, ci, true, false),
        StrOp::HasSuffix => find_term(h, nb, ci, false, true),
        StrOp::Contains => find_term(h, nb, ci, false, false),
        StrOp::StartsWith => h.len() >= nb.len() && bytes_eq(&h[..nb.len()], nb, ci),
        StrOp::EndsWith => h.len() >= nb.len() && bytes_eq(&h[h.len() - nb.len()..], nb, ci),
        _ => false,
    }
}

fn bytes_eq(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Term characters for `has`: ASCII alphanumerics and any non-ASCII byte (part of a
/// letter in another script).
fn is_term_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Finds `needle` in `hay`; with `start_bound`/`end_bound`, the match must begin/end at
/// a term boundary (where the needle itself begins/ends with a term character). This is
/// KQL's `has`: `"Phish, Spam" has "Phish"` but not `has "Phi"`.
fn find_term(hay: &[u8], needle: &[u8], ci: bool, start_bound: bool, end_bound: bool) -> bool {
    let n = needle.len();
    if n == 0 {
        return true;
    }
    if hay.len() < n {
        return false;
    }
    let check_start = start_bound && is_term_byte(needle[0]);
    let check_end = end_bound && is_term_byte(needle[n - 1]);
    let first = needle[0];
    for i in 0..=hay.len() - n {
        let b = hay[i];
        let first_ok = if ci {
            b.to_ascii_lowercase() == first
        } else {
            b == first
        };
        if !first_ok || !bytes_eq(&hay[i..i + n], needle, ci) {
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
