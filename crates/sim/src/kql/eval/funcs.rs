//! The scalar function library: name lookup, static signature checks (arity and
//! argument types, reported with positions) and per-row implementations.

use std::sync::Arc;

use super::expr::{Base, CExpr};
use super::value;
use crate::kql::time::TICKS_PER_DAY;
use crate::kql::{ColumnType, Value};

/// `DateTime.MinValue` (0001-01-01) in Unix-epoch ticks: Kusto aligns `bin` on
/// datetimes to it, which matters for bin sizes that do not divide a day.
const KUSTO_EPOCH_OFFSET: i64 = 621_355_968_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Not,
    IsEmpty,
    IsNotEmpty,
    IsNull,
    IsNotNull,
    ToLower,
    ToUpper,
    StrLen,
    StrCat,
    ToString,
    ToInt,
    ToLong,
    ToReal,
    ToBool,
    ToDateTime,
    Iff,
    ParseJson,
    ArrayLength,
    Bin,
    Substring,
    Coalesce,
    StartOfDay,
    Abs,
}

/// Looks a function up by name, with its arity range. `ago`/`now` are handled by the
/// compiler (they fold to constants).
pub fn lookup(name: &str) -> Option<(Func, usize, usize)> {
    Some(match name {
        "not" => (Func::Not, 1, 1),
        "isempty" => (Func::IsEmpty, 1, 1),
        "isnotempty" => (Func::IsNotEmpty, 1, 1),
        "isnull" => (Func::IsNull, 1, 1),
        "isnotnull" => (Func::IsNotNull, 1, 1),
        "tolower" => (Func::ToLower, 1, 1),
        "toupper" => (Func::ToUpper, 1, 1),
        "strlen" => (Func::StrLen, 1, 1),
        "strcat" => (Func::StrCat, 1, 64),
        "tostring" => (Func::ToString, 1, 1),
        "toint" => (Func::ToInt, 1, 1),
        "tolong" => (Func::ToLong, 1, 1),
        "todouble" | "toreal" => (Func::ToReal, 1, 1),
        "tobool" | "toboolean" => (Func::ToBool, 1, 1),
        "todatetime" => (Func::ToDateTime, 1, 1),
        "iff" | "iif" => (Func::Iff, 3, 3),
        "parse_json" | "todynamic" => (Func::ParseJson, 1, 1),
        "array_length" => (Func::ArrayLength, 1, 1),
        "bin" | "floor" => (Func::Bin, 2, 2),
        "substring" => (Func::Substring, 2, 3),
        "coalesce" => (Func::Coalesce, 1, 64),
        "startofday" => (Func::StartOfDay, 1, 1),
        "abs" => (Func::Abs, 1, 1),
        _ => return None,
    })
}

fn numeric(t: ColumnType) -> bool {
    matches!(t, ColumnType::Int | ColumnType::Long | ColumnType::Real)
}

/// The wider of two numeric types.
pub fn widen(a: ColumnType, b: ColumnType) -> ColumnType {
    use ColumnType::*;
    match (a, b) {
        (Real, _) | (_, Real) => Real,
        (Long, _) | (_, Long) => Long,
        _ => Int,
    }
}

/// The result type of `f` applied to arguments of types `args`, or a message naming
/// the argument (by index) that is wrong.
pub fn result_type(
    f: Func,
    name: &str,
    args: &[ColumnType],
) -> Result<ColumnType, (usize, String)> {
    use ColumnType::*;
    let arg = |i: usize| args.get(i).copied().unwrap_or(Dynamic);
    let need = |i: usize, ok: bool, what: &str| {
        if ok || arg(i) == Dynamic {
            Ok(())
        } else {
            Err((
                i,
                format!(
                    "argument {} of `{name}` must be {what}, found {}",
                    i + 1,
                    type_name(arg(i))
                ),
            ))
        }
    };
    Ok(match f {
        Func::Not => {
            need(0, arg(0) == Bool, "bool")?;
            Bool
        }
        Func::IsEmpty | Func::IsNotEmpty | Func::IsNull | Func::IsNotNull => Bool,
        Func::ToLower | Func::ToUpper | Func::StrCat | Func::ToString => String,
        Func::StrLen => Long,
        Func::ToInt => Int,
        Func::ToLong => Long,
        Func::ToReal => Real,
        Func::ToBool => Bool,
        Func::ToDateTime => DateTime,
        Func::ParseJson => Dynamic,
        Func::ArrayLength => {
            need(0, arg(0) == Dynamic, "dynamic")?;
            Long
        }
        Func::Iff => {
            need(0, arg(0) == Bool, "bool")?;
            match (arg(1), arg(2)) {
                (a, b) if a == b => a,
                (a, b) if numeric(a) && numeric(b) => widen(a, b),
                (Dynamic, _) | (_, Dynamic) => Dynamic,
                (a, b) => {
                    return Err((
                        2,
                        format!(
                            "`{name}` branches have different types: {} and {}",
                            type_name(a),
                            type_name(b)
                        ),
                    ));
                }
            }
        }
        Func::Bin => match (arg(0), arg(1)) {
            (DateTime, s) => {
                need(1, s == TimeSpan, "a timespan when binning a datetime")?;
                DateTime
            }
            (TimeSpan, s) => {
                need(1, s == TimeSpan, "a timespan when binning a timespan")?;
                TimeSpan
            }
            (a, s) if numeric(a) => {
                need(1, numeric(s), "a number when binning a number")?;
                widen(a, s)
            }
            (Dynamic, _) => Dynamic,
            (a, _) => return Err((0, format!("`{name}` cannot round a {}", type_name(a)))),
        },
        Func::Substring => {
            need(1, numeric(arg(1)), "a number")?;
            need(2, args.len() < 3 || numeric(arg(2)), "a number")?;
            String
        }
        Func::Coalesce => arg(0),
        Func::StartOfDay => {
            need(0, arg(0) == DateTime, "a datetime")?;
            DateTime
        }
        Func::Abs => {
            need(
                0,
                numeric(arg(0)) || arg(0) == TimeSpan,
                "a number or timespan",
            )?;
            arg(0)
        }
    })
}

/// The KQL name of a type, for messages.
pub fn type_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::String => "string",
        ColumnType::Int => "int",
        ColumnType::Long => "long",
        ColumnType::Real => "real",
        ColumnType::Bool => "bool",
        ColumnType::DateTime => "datetime",
        ColumnType::TimeSpan => "timespan",
        ColumnType::Dynamic => "dynamic",
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Dynamic(j) => {
            matches!(&**j, serde_json::Value::Null)
                || matches!(&**j, serde_json::Value::String(s) if s.is_empty())
        }
        _ => false,
    }
}

fn is_null(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::Dynamic(j) if j.is_null())
}

fn str_val(s: String) -> Value {
    Value::String(Arc::from(s))
}

fn to_long(v: &Value) -> Option<i64> {
    match &*value::scalar(v) {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        Value::Real(r) => (r.is_finite() && r.abs() < 9.2e18).then_some(*r as i64),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && r.abs() < 9.2e18)
                    .map(|r| r as i64)
            })
        }
        Value::DateTime(t) | Value::TimeSpan(t) => Some(*t),
        _ => None,
    }
}

fn to_real(v: &Value) -> Option<f64> {
    match &*value::scalar(v) {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// Rounds `x` down to a multiple of `size` (KQL `bin`); null for non-positive sizes.
fn bin(x: &Value, size: &Value) -> Value {
    let (x, size) = (value::scalar(x), value::scalar(size));
    match (&*x, &*size) {
        (Value::DateTime(t), Value::TimeSpan(s)) if *s > 0 => t
            .checked_add(KUSTO_EPOCH_OFFSET)
            .and_then(|u| u.div_euclid(*s).checked_mul(*s))
            .and_then(|u| u.checked_sub(KUSTO_EPOCH_OFFSET))
            .map_or(Value::Null, Value::DateTime),
        (Value::TimeSpan(t), Value::TimeSpan(s)) if *s > 0 => t
            .div_euclid(*s)
            .checked_mul(*s)
            .map_or(Value::Null, Value::TimeSpan),
        (Value::Int(i), Value::Int(s)) if *s > 0 => i
            .div_euclid(*s)
            .checked_mul(*s)
            .map_or(Value::Null, Value::Int),
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            match (to_long(&x), to_long(&size)) {
                (Some(i), Some(s)) if s > 0 => i
                    .div_euclid(s)
                    .checked_mul(s)
                    .map_or(Value::Null, Value::Long),
                _ => Value::Null,
            }
        }
        (a, b) => match (to_real(a), to_real(b)) {
            (Some(r), Some(s)) if s > 0.0 && !matches!(a, Value::String(_)) => {
                Value::Real((r / s).floor() * s)
            }
            _ => Value::Null,
        },
    }
}

/// Evaluates a call for one row. Arguments are evaluated lazily where KQL short-circuits
/// (`iff`, `coalesce`).
pub fn call(f: Func, args: &[CExpr], base: &Base, row: usize) -> Value {
    let arg = |i: usize| args.get(i).map_or(Value::Null, |a| a.eval(base, row));
    match f {
        Func::Not => match &*value::scalar(&arg(0)) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Func::IsEmpty => Value::Bool(is_empty(&arg(0))),
        Func::IsNotEmpty => Value::Bool(!is_empty(&arg(0))),
        Func::IsNull => Value::Bool(is_null(&arg(0))),
        Func::IsNotNull => Value::Bool(!is_null(&arg(0))),
        Func::ToLower => str_val(value::text(&arg(0)).to_lowercase()),
        Func::ToUpper => str_val(value::text(&arg(0)).to_uppercase()),
        Func::StrLen => {
            let v = arg(0);
            let n = value::text(&v).chars().count();
            Value::Long(i64::try_from(n).unwrap_or(i64::MAX))
        }
        Func::StrCat => {
            let mut s = String::new();
            for a in args {
                s.push_str(&value::text(&a.eval(base, row)));
            }
            str_val(s)
        }
        Func::ToString => match arg(0) {
            s @ Value::String(_) => s,
            v => str_val(value::text(&v).into_owned()),
        },
        Func::ToInt => to_long(&arg(0))
            .and_then(|i| i32::try_from(i).ok())
            .map_or(Value::Null, Value::Int),
        Func::ToLong => to_long(&arg(0)).map_or(Value::Null, Value::Long),
        Func::ToReal => to_real(&arg(0)).map_or(Value::Null, Value::Real),
        Func::ToBool => match &*value::scalar(&arg(0)) {
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Bool(*i != 0),
            Value::Long(i) => Value::Bool(*i != 0),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => Value::Null,
        },
        Func::ToDateTime => match &*value::scalar(&arg(0)) {
            Value::DateTime(t) => Value::DateTime(*t),
            Value::String(s) => {
                crate::kql::time::parse_datetime(s).map_or(Value::Null, Value::DateTime)
            }
            _ => Value::Null,
        },
        Func::Iff => match &*value::scalar(&arg(0)) {
            Value::Bool(true) => arg(1),
            _ => arg(2),
        },
        Func::ParseJson => match arg(0) {
            d @ Value::Dynamic(_) => d,
            Value::Null => Value::Null,
            Value::String(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(j) => Value::Dynamic(Arc::new(j)),
                // Kusto returns the input string as a dynamic string when it is not JSON.
                Err(_) => Value::Dynamic(Arc::new(serde_json::Value::String(s.to_string()))),
            },
            other => Value::Dynamic(Arc::new(other.to_json())),
        },
        Func::ArrayLength => match arg(0) {
            Value::Dynamic(j) => match &*j {
                serde_json::Value::Array(a) => {
                    Value::Long(i64::try_from(a.len()).unwrap_or(i64::MAX))
                }
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        Func::Bin => bin(&arg(0), &arg(1)),
        Func::Substring => {
            let v = arg(0);
            let s = value::text(&v);
            let len_chars = s.chars().count();
            let start = to_long(&arg(1)).unwrap_or(0).clamp(0, i64::MAX);
            let start = usize::try_from(start).unwrap_or(usize::MAX).min(len_chars);
            let take = if args.len() > 2 {
                match to_long(&arg(2)) {
                    Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                    _ => return Value::Null,
                }
            } else {
                usize::MAX
            };
            str_val(s.chars().skip(start).take(take).collect())
        }
        Func::Coalesce => {
            for a in args {
                let v = a.eval(base, row);
                if !is_null(&v) && !matches!(&v, Value::String(s) if s.is_empty()) {
                    return v;
                }
            }
            Value::Null
        }
        Func::StartOfDay => match &*value::scalar(&arg(0)) {
            Value::DateTime(t) => t
                .div_euclid(TICKS_PER_DAY)
                .checked_mul(TICKS_PER_DAY)
                .map_or(Value::Null, Value::DateTime),
            _ => Value::Null,
        },
        Func::Abs => match &*value::scalar(&arg(0)) {
            Value::Int(i) => i.checked_abs().map_or(Value::Null, Value::Int),
            Value::Long(i) => i.checked_abs().map_or(Value::Null, Value::Long),
            Value::Real(r) => Value::Real(r.abs()),
            Value::TimeSpan(t) => t.checked_abs().map_or(Value::Null, Value::TimeSpan),
            _ => Value::Null,
        },
    }
}
