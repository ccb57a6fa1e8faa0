//! Compiled scalar expressions and their per-row evaluation. Column references are
//! resolved to base-column indices (or to shared sub-expressions for computed
//! columns) at compile time, so evaluating a row is a tree walk with no name lookups.

use std::sync::Arc;

use super::funcs::{self, Func};
use super::value::{self, Needle};
use crate::kql::ast::{BinOp, KeySet, StrOp};
use crate::kql::{Table, Value};

/// The rows operators read: a catalog table (read in place) or rows an earlier
/// operator produced.
pub enum Base<'a> {
    Table(&'a dyn Table),
    Rows(Vec<Vec<Value>>),
}

impl Base<'_> {
    #[inline]
    pub fn value(&self, row: usize, col: usize) -> Value {
        match self {
            Base::Table(t) => t.value(row, col),
            Base::Rows(rows) => rows
                .get(row)
                .and_then(|r| r.get(col))
                .cloned()
                .unwrap_or(Value::Null),
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    EqCi,
    NeCi,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A type-checked, name-resolved scalar expression.
#[derive(Debug, Clone)]
pub enum CExpr {
    Const(Value),
    /// A column of the base rows.
    Col(usize),
    /// A computed column defined by an earlier operator, shared rather than copied.
    Shared(Arc<CExpr>),
    Neg(Box<CExpr>),
    Arith(BinOp, Box<CExpr>, Box<CExpr>),
    Cmp(CmpOp, Box<CExpr>, Box<CExpr>),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Str {
        op: StrOp,
        negated: bool,
        lhs: Box<CExpr>,
        rhs: Box<CExpr>,
    },
    /// A string operator with a constant right side, prepared once.
    StrConst {
        op: StrOp,
        negated: bool,
        lhs: Box<CExpr>,
        needle: Needle,
    },
    In {
        ci: bool,
        negated: bool,
        lhs: Box<CExpr>,
        items: Vec<CExpr>,
    },
    HasAny {
        lhs: Box<CExpr>,
        items: Vec<CExpr>,
    },
    /// Membership in a subquery's key set.
    InSet {
        negated: bool,
        lhs: Box<CExpr>,
        set: Arc<KeySet>,
    },
    Between {
        negated: bool,
        lhs: Box<CExpr>,
        lo: Box<CExpr>,
        hi: Box<CExpr>,
    },
    Call(Func, Vec<CExpr>),
    Member(Box<CExpr>, Arc<str>),
    Index(Box<CExpr>, Box<CExpr>),
}

fn bool_or_null(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

fn as_bool(v: &Value) -> Option<bool> {
    match &*value::scalar(v) {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

impl CExpr {
    /// Whether this expression is a literal constant.
    pub fn as_const(&self) -> Option<&Value> {
        match self {
            CExpr::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Evaluates a predicate: only `true` keeps a row.
    #[inline]
    pub fn test(&self, base: &Base, row: usize) -> bool {
        match self.eval(base, row) {
            Value::Bool(b) => b,
            v @ Value::Dynamic(_) => matches!(*value::scalar(&v), Value::Bool(true)),
            _ => false,
        }
    }

    /// Evaluates the expression for one row of `base`.
    pub fn eval(&self, base: &Base, row: usize) -> Value {
        match self {
            CExpr::Const(v) => v.clone(),
            CExpr::Col(c) => base.value(row, *c),
            CExpr::Shared(e) => e.eval(base, row),
            CExpr::Neg(e) => match value::scalar(&e.eval(base, row)).into_owned() {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Long(i) => i.checked_neg().map_or(Value::Null, Value::Long),
                Value::Real(r) => Value::Real(-r),
                Value::TimeSpan(t) => t.checked_neg().map_or(Value::Null, Value::TimeSpan),
                _ => Value::Null,
            },
            CExpr::Arith(op, a, b) => value::arith(*op, &a.eval(base, row), &b.eval(base, row)),
            CExpr::Cmp(op, a, b) => {
                let (x, y) = (a.eval(base, row), b.eval(base, row));
                let r = match op {
                    CmpOp::Eq => value::equals(&x, &y),
                    CmpOp::Ne => value::equals(&x, &y).map(|b| !b),
                    CmpOp::EqCi => value::equals_ci(&x, &y),
                    CmpOp::NeCi => value::equals_ci(&x, &y).map(|b| !b),
                    CmpOp::Lt => value::compare(&x, &y).map(|o| o.is_lt()),
                    CmpOp::Le => value::compare(&x, &y).map(|o| o.is_le()),
                    CmpOp::Gt => value::compare(&x, &y).map(|o| o.is_gt()),
                    CmpOp::Ge => value::compare(&x, &y).map(|o| o.is_ge()),
                };
                bool_or_null(r)
            }
            CExpr::And(a, b) => match as_bool(&a.eval(base, row)) {
                Some(false) => Value::Bool(false),
                l => match (l, as_bool(&b.eval(base, row))) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                },
            },
            CExpr::Or(a, b) => match as_bool(&a.eval(base, row)) {
                Some(true) => Value::Bool(true),
                l => match (l, as_bool(&b.eval(base, row))) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                },
            },
            CExpr::StrConst {
                op,
                negated,
                lhs,
                needle,
            } => {
                let v = lhs.eval(base, row);
                Value::Bool(value::str_match(*op, &value::text(&v), needle) != *negated)
            }
            CExpr::Str {
                op,
                negated,
                lhs,
                rhs,
            } => {
                let (h, n) = (lhs.eval(base, row), rhs.eval(base, row));
                let needle = Needle::new(*op, &value::text(&n));
                Value::Bool(value::str_match(*op, &value::text(&h), &needle) != *negated)
            }
            CExpr::In {
                ci,
                negated,
                lhs,
                items,
            } => {
                let x = lhs.eval(base, row);
                if matches!(x, Value::Null) {
                    return Value::Null;
                }
                let found = items.iter().any(|item| {
                    let v = item.eval(base, row);
                    each_item(&v, |c| {
                        if *ci {
                            value::equals_ci(&x, c) == Some(true)
                        } else {
                            value::equals(&x, c) == Some(true)
                        }
                    })
                });
                Value::Bool(found != *negated)
            }
            CExpr::InSet { negated, lhs, set } => {
                match super::subquery::set_key(&lhs.eval(base, row), set.ci) {
                    None => Value::Null,
                    Some(k) => Value::Bool(set.keys.contains(&k) != *negated),
                }
            }
            CExpr::HasAny { lhs, items } => {
                let h = lhs.eval(base, row);
                let hay = value::text(&h);
                let found = items.iter().any(|item| {
                    let v = item.eval(base, row);
                    each_item(&v, |c| {
                        value::str_match(
                            StrOp::Has,
                            &hay,
                            &Needle::new(StrOp::Has, &value::text(c)),
                        )
                    })
                });
                Value::Bool(found)
            }
            CExpr::Between {
                negated,
                lhs,
                lo,
                hi,
            } => {
                let x = lhs.eval(base, row);
                let lo = lo.eval(base, row);
                let hi = hi.eval(base, row);
                let hi = match (&lo, &hi) {
                    // `between (datetime .. timespan)` means "from lo for that long".
                    (Value::DateTime(l), Value::TimeSpan(s)) => {
                        l.checked_add(*s).map_or(Value::Null, Value::DateTime)
                    }
                    _ => hi,
                };
                match (value::compare(&x, &lo), value::compare(&x, &hi)) {
                    (Some(a), Some(b)) => Value::Bool((a.is_ge() && b.is_le()) != *negated),
                    _ => Value::Null,
                }
            }
            CExpr::Call(f, args) => funcs::call(*f, args, base, row),
            CExpr::Member(e, name) => match e.eval(base, row) {
                Value::Dynamic(j) => j
                    .get(&**name)
                    .map_or(Value::Null, |v| Value::Dynamic(Arc::new(v.clone()))),
                _ => Value::Null,
            },
            CExpr::Index(e, i) => {
                let (v, i) = (e.eval(base, row), i.eval(base, row));
                let Value::Dynamic(j) = v else {
                    return Value::Null;
                };
                let got = match (&*j, &*value::scalar(&i)) {
                    (serde_json::Value::Array(a), Value::Long(n)) => {
                        // Negative indexes count from the end, as in Kusto.
                        let idx = if *n < 0 {
                            i64::try_from(a.len()).ok().and_then(|l| l.checked_add(*n))
                        } else {
                            Some(*n)
                        };
                        idx.and_then(|k| usize::try_from(k).ok())
                            .and_then(|k| a.get(k))
                    }
                    (serde_json::Value::Array(a), Value::Int(n)) => {
                        usize::try_from(*n).ok().and_then(|k| a.get(k))
                    }
                    (serde_json::Value::Object(o), Value::String(s)) => o.get(&**s),
                    _ => None,
                };
                got.map_or(Value::Null, |v| Value::Dynamic(Arc::new(v.clone())))
            }
        }
    }
}

/// Calls `f` on `v`, or on each element when `v` is a dynamic array (as `in` expands
/// `dynamic([...])` lists); returns whether any call returned true.
fn each_item(v: &Value, mut f: impl FnMut(&Value) -> bool) -> bool {
    if let Value::Dynamic(j) = v
        && let serde_json::Value::Array(items) = &**j
    {
        return items
            .iter()
            .any(|item| f(&value::from_json(&Arc::new(item.clone()))));
    }
    f(v)
}
