//! Name resolution, static type checking and constant folding: AST expression →
//! [`CExpr`]. KQL is statically typed, so mismatches (`Subject > 5`) are reported here
//! with a position, before any row is read. `now()`/`ago()` fold to constants because
//! the clock is fixed for the whole query.

use std::sync::Arc;

use super::expr::{Base, CExpr, CmpOp};
use super::funcs::{self, Func, type_name, widen};
use super::value::Needle;
use crate::kql::ast::{BinOp, Expr, ExprKind, ListOp, UnaryOp};
use crate::kql::error::suggest;
use crate::kql::{Column, ColumnType, KqlError, Value};

/// Bounds on an expression after computed columns are inlined: evaluation recurses,
/// and chains like `extend b = a + a | extend c = b + b ...` grow exponentially.
const MAX_EVAL_DEPTH: usize = 256;
const MAX_COST: u64 = 1_000_000;

/// A column of the current pipeline stage: its schema and how to compute it.
#[derive(Debug, Clone)]
pub struct FrameCol {
    pub col: Column,
    pub expr: Arc<CExpr>,
    pub depth: usize,
    pub cost: u64,
}

impl FrameCol {
    /// A column read straight from base column `idx`.
    pub fn base(col: Column, idx: usize) -> FrameCol {
        FrameCol {
            col,
            expr: Arc::new(CExpr::Col(idx)),
            depth: 1,
            cost: 1,
        }
    }

    pub fn from_typed(name: Arc<str>, t: Typed) -> FrameCol {
        FrameCol {
            col: Column { name, ty: t.ty },
            expr: Arc::new(t.e),
            depth: t.depth,
            cost: t.cost,
        }
    }
}

/// A compiled expression with its static type and size metrics.
#[derive(Debug, Clone)]
pub struct Typed {
    pub e: CExpr,
    pub ty: ColumnType,
    pub depth: usize,
    pub cost: u64,
}

/// What names resolve against.
pub struct Scope<'s> {
    pub cols: &'s [FrameCol],
    pub now: i64,
}

fn type_err(pos: usize, message: String) -> KqlError {
    KqlError::Type { pos, message }
}

fn numeric(t: ColumnType) -> bool {
    matches!(t, ColumnType::Int | ColumnType::Long | ColumnType::Real)
}

/// Compiles `e` and checks the size bounds.
pub fn compile(e: &Expr, scope: &Scope) -> Result<Typed, KqlError> {
    let t = compile_inner(e, scope)?;
    if t.depth > MAX_EVAL_DEPTH || t.cost > MAX_COST {
        return Err(KqlError::Unsupported {
            pos: e.pos,
            what: "the expression is too complex once earlier computed columns are expanded; simplify the query"
                .into(),
        });
    }
    Ok(t)
}

/// Compiles a predicate and checks it is boolean.
pub fn compile_predicate(e: &Expr, scope: &Scope, context: &str) -> Result<Typed, KqlError> {
    let t = compile(e, scope)?;
    if !matches!(t.ty, ColumnType::Bool | ColumnType::Dynamic) {
        return Err(type_err(
            e.pos,
            format!(
                "{context} must be a bool expression, found {}",
                type_name(t.ty)
            ),
        ));
    }
    Ok(t)
}

/// Builds a node from compiled children: sums metrics and folds constants.
fn node(e: CExpr, ty: ColumnType, kids: &[&Typed]) -> Typed {
    let depth = 1 + kids.iter().map(|k| k.depth).max().unwrap_or(0);
    let cost = kids.iter().fold(1u64, |c, k| c.saturating_add(k.cost));
    let all_const = kids.iter().all(|k| matches!(k.e, CExpr::Const(_)));
    let e = if all_const && !kids.is_empty() {
        CExpr::Const(e.eval(&Base::Rows(Vec::new()), 0))
    } else {
        e
    };
    Typed { e, ty, depth, cost }
}

fn constant(v: Value, ty: ColumnType) -> Typed {
    Typed {
        e: CExpr::Const(v),
        ty,
        depth: 1,
        cost: 1,
    }
}

fn resolve_column(name: &str, pos: usize, scope: &Scope) -> Result<Typed, KqlError> {
    let Some(fc) = scope.cols.iter().find(|c| &*c.col.name == name) else {
        return Err(KqlError::UnknownColumn {
            pos,
            name: name.to_string(),
            suggestion: suggest(name, scope.cols.iter().map(|c| &*c.col.name)),
        });
    };
    let e = match &*fc.expr {
        e @ (CExpr::Col(_) | CExpr::Const(_)) => e.clone(),
        _ => CExpr::Shared(fc.expr.clone()),
    };
    Ok(Typed {
        e,
        ty: fc.col.ty,
        depth: fc.depth,
        cost: fc.cost,
    })
}

fn compile_inner(e: &Expr, scope: &Scope) -> Result<Typed, KqlError> {
    let pos = e.pos;
    match &e.kind {
        ExprKind::Literal(v) => {
            let ty = match v {
                Value::Null | Value::Dynamic(_) => ColumnType::Dynamic,
                Value::Bool(_) => ColumnType::Bool,
                Value::Int(_) => ColumnType::Int,
                Value::Long(_) => ColumnType::Long,
                Value::Real(_) => ColumnType::Real,
                Value::String(_) => ColumnType::String,
                Value::DateTime(_) => ColumnType::DateTime,
                Value::TimeSpan(_) => ColumnType::TimeSpan,
            };
            Ok(constant(v.clone(), ty))
        }
        ExprKind::Column(name) => resolve_column(name, pos, scope),
        ExprKind::Unary(op, inner) => {
            let t = compile_inner(inner, scope)?;
            if !(numeric(t.ty) || matches!(t.ty, ColumnType::TimeSpan | ColumnType::Dynamic)) {
                return Err(type_err(
                    pos,
                    format!(
                        "unary minus needs a number or timespan, found {}",
                        type_name(t.ty)
                    ),
                ));
            }
            let ty = t.ty;
            Ok(match op {
                UnaryOp::Plus => t,
                UnaryOp::Neg => node(CExpr::Neg(Box::new(t.e.clone())), ty, &[&t]),
            })
        }
        ExprKind::Binary(op, a, b) => {
            let (ta, tb) = (compile_inner(a, scope)?, compile_inner(b, scope)?);
            binary(*op, ta, tb, pos)
        }
        ExprKind::List {
            op,
            negated,
            lhs,
            items,
        } => {
            let tl = compile_inner(lhs, scope)?;
            let mut titems = Vec::with_capacity(items.len());
            for it in items {
                let t = compile_inner(it, scope)?;
                if *op == ListOp::In && !comparable(tl.ty, t.ty) {
                    return Err(type_err(
                        it.pos,
                        format!(
                            "cannot compare {} with {} in `in`",
                            type_name(tl.ty),
                            type_name(t.ty)
                        ),
                    ));
                }
                titems.push(t);
            }
            let mut kids: Vec<&Typed> = titems.iter().collect();
            kids.push(&tl);
            let items_e: Vec<CExpr> = titems.iter().map(|t| t.e.clone()).collect();
            let lhs_e = Box::new(tl.e.clone());
            let ce = match op {
                ListOp::In => CExpr::In {
                    ci: false,
                    negated: *negated,
                    lhs: lhs_e,
                    items: items_e,
                },
                ListOp::InCi => CExpr::In {
                    ci: true,
                    negated: *negated,
                    lhs: lhs_e,
                    items: items_e,
                },
                ListOp::HasAny => CExpr::HasAny {
                    lhs: lhs_e,
                    items: items_e,
                },
            };
            Ok(node(ce, ColumnType::Bool, &kids))
        }
        ExprKind::Between {
            negated,
            lhs,
            lo,
            hi,
        } => {
            let (tl, tlo, thi) = (
                compile_inner(lhs, scope)?,
                compile_inner(lo, scope)?,
                compile_inner(hi, scope)?,
            );
            let hi_ok = comparable(tl.ty, thi.ty)
                || (tl.ty == ColumnType::DateTime && thi.ty == ColumnType::TimeSpan);
            if !comparable(tl.ty, tlo.ty) || !hi_ok {
                return Err(type_err(
                    pos,
                    format!(
                        "`between` bounds must match the value's type: {} between ({} .. {})",
                        type_name(tl.ty),
                        type_name(tlo.ty),
                        type_name(thi.ty)
                    ),
                ));
            }
            let ce = CExpr::Between {
                negated: *negated,
                lhs: Box::new(tl.e.clone()),
                lo: Box::new(tlo.e.clone()),
                hi: Box::new(thi.e.clone()),
            };
            Ok(node(ce, ColumnType::Bool, &[&tl, &tlo, &thi]))
        }
        ExprKind::InSet { negated, lhs, set } => {
            let tl = compile_inner(lhs, scope)?;
            if !comparable(tl.ty, set.ty) {
                return Err(type_err(
                    pos,
                    format!(
                        "cannot compare {} with the subquery's {} column in `in`",
                        type_name(tl.ty),
                        type_name(set.ty)
                    ),
                ));
            }
            let ce = CExpr::InSet {
                negated: *negated,
                lhs: Box::new(tl.e.clone()),
                set: set.clone(),
            };
            Ok(node(ce, ColumnType::Bool, &[&tl]))
        }
        ExprKind::InQuery { .. } => Err(KqlError::Unsupported {
            pos,
            what: "a subquery that was not run before compilation".into(),
        }),
        ExprKind::Member(inner, name) => {
            let t = compile_inner(inner, scope)?;
            if t.ty != ColumnType::Dynamic {
                return Err(type_err(
                    pos,
                    format!(
                        "`.{name}` needs a dynamic value, found {}; use parse_json() first",
                        type_name(t.ty)
                    ),
                ));
            }
            Ok(node(
                CExpr::Member(Box::new(t.e.clone()), Arc::from(name.as_str())),
                ColumnType::Dynamic,
                &[&t],
            ))
        }
        ExprKind::Index(inner, idx) => {
            let (t, ti) = (compile_inner(inner, scope)?, compile_inner(idx, scope)?);
            if t.ty != ColumnType::Dynamic {
                return Err(type_err(
                    pos,
                    format!(
                        "indexing with `[...]` needs a dynamic value, found {}",
                        type_name(t.ty)
                    ),
                ));
            }
            if !(numeric(ti.ty) || matches!(ti.ty, ColumnType::String | ColumnType::Dynamic)) {
                return Err(type_err(
                    idx.pos,
                    format!(
                        "an index must be a number or string, found {}",
                        type_name(ti.ty)
                    ),
                ));
            }
            Ok(node(
                CExpr::Index(Box::new(t.e.clone()), Box::new(ti.e.clone())),
                ColumnType::Dynamic,
                &[&t, &ti],
            ))
        }
        ExprKind::Call(name, args) => call(name, args, pos, scope),
    }
}

/// Whether two types can be compared with `==`/`<`.
pub fn comparable(a: ColumnType, b: ColumnType) -> bool {
    a == b || (numeric(a) && numeric(b)) || a == ColumnType::Dynamic || b == ColumnType::Dynamic
}

fn arith_type(op: BinOp, a: ColumnType, b: ColumnType) -> Option<ColumnType> {
    use ColumnType::*;
    Some(match (op, a, b) {
        (_, Dynamic, _) | (_, _, Dynamic) => Dynamic,
        (BinOp::Sub, DateTime, DateTime) => TimeSpan,
        (BinOp::Add, DateTime, TimeSpan)
        | (BinOp::Add, TimeSpan, DateTime)
        | (BinOp::Sub, DateTime, TimeSpan) => DateTime,
        (BinOp::Div, TimeSpan, TimeSpan) => Real,
        (BinOp::Add | BinOp::Sub | BinOp::Mod, TimeSpan, TimeSpan) => TimeSpan,
        (BinOp::Mul, TimeSpan, n) | (BinOp::Mul, n, TimeSpan) if numeric(n) => TimeSpan,
        (BinOp::Div, TimeSpan, n) if numeric(n) => TimeSpan,
        (_, x, y) if numeric(x) && numeric(y) => widen(x, y),
        _ => return None,
    })
}

fn binary(op: BinOp, ta: Typed, tb: Typed, pos: usize) -> Result<Typed, KqlError> {
    let mismatch = |what: &str| {
        type_err(
            pos,
            format!(
                "{what} `{}` cannot be applied to {} and {}",
                op.symbol(),
                type_name(ta.ty),
                type_name(tb.ty)
            ),
        )
    };
    let (ea, eb) = (Box::new(ta.e.clone()), Box::new(tb.e.clone()));
    let (ce, ty) = match op {
        BinOp::And | BinOp::Or => {
            let ok = |t: ColumnType| matches!(t, ColumnType::Bool | ColumnType::Dynamic);
            if !ok(ta.ty) || !ok(tb.ty) {
                return Err(mismatch("logical operator"));
            }
            let ce = if op == BinOp::And {
                CExpr::And(ea, eb)
            } else {
                CExpr::Or(ea, eb)
            };
            (ce, ColumnType::Bool)
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let ty = arith_type(op, ta.ty, tb.ty).ok_or_else(|| mismatch("operator"))?;
            (CExpr::Arith(op, ea, eb), ty)
        }
        BinOp::EqCi | BinOp::NeCi => {
            let ok = |t: ColumnType| matches!(t, ColumnType::String | ColumnType::Dynamic);
            if !ok(ta.ty) || !ok(tb.ty) {
                return Err(mismatch("string operator"));
            }
            let cop = if op == BinOp::EqCi {
                CmpOp::EqCi
            } else {
                CmpOp::NeCi
            };
            (CExpr::Cmp(cop, ea, eb), ColumnType::Bool)
        }
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            if !comparable(ta.ty, tb.ty) {
                return Err(mismatch("comparison"));
            }
            let cop = match op {
                BinOp::Eq => CmpOp::Eq,
                BinOp::Ne => CmpOp::Ne,
                BinOp::Lt => CmpOp::Lt,
                BinOp::Le => CmpOp::Le,
                BinOp::Gt => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            (CExpr::Cmp(cop, ea, eb), ColumnType::Bool)
        }
        BinOp::Str(sop, negated) => {
            let ce = match &tb.e {
                CExpr::Const(v) => CExpr::StrConst {
                    op: sop,
                    negated,
                    lhs: ea,
                    needle: Needle::new(sop, &super::value::text(v)),
                },
                _ => CExpr::Str {
                    op: sop,
                    negated,
                    lhs: ea,
                    rhs: eb,
                },
            };
            (ce, ColumnType::Bool)
        }
    };
    Ok(node(ce, ty, &[&ta, &tb]))
}

fn call(name: &str, args: &[Expr], pos: usize, scope: &Scope) -> Result<Typed, KqlError> {
    let arity = |min: usize, max: usize| {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            Err(KqlError::InvalidArgument {
                pos,
                message: format!(
                    "`{name}` takes {want} argument(s), but {} were given",
                    args.len()
                ),
            })
        } else {
            Ok(())
        }
    };
    match name {
        "now" => {
            arity(0, 1)?;
            let mut t = constant(Value::DateTime(scope.now), ColumnType::DateTime);
            if let Some(a) = args.first() {
                let off = compile_inner(a, scope)?;
                if off.ty != ColumnType::TimeSpan {
                    return Err(type_err(
                        a.pos,
                        format!("`now` takes a timespan offset, found {}", type_name(off.ty)),
                    ));
                }
                t = node(
                    CExpr::Arith(BinOp::Add, Box::new(t.e.clone()), Box::new(off.e.clone())),
                    ColumnType::DateTime,
                    &[&t, &off],
                );
            }
            return Ok(t);
        }
        "ago" => {
            arity(1, 1)?;
            let span = compile_inner(&args[0], scope)?;
            if !matches!(span.ty, ColumnType::TimeSpan | ColumnType::Dynamic) {
                return Err(type_err(
                    args[0].pos,
                    format!(
                        "`ago` takes a timespan such as 1d, found {}",
                        type_name(span.ty)
                    ),
                ));
            }
            let now = constant(Value::DateTime(scope.now), ColumnType::DateTime);
            let ce = CExpr::Arith(
                BinOp::Sub,
                Box::new(now.e.clone()),
                Box::new(span.e.clone()),
            );
            return Ok(node(ce, ColumnType::DateTime, &[&now, &span]));
        }
        _ => {}
    }
    if is_aggregate(name) {
        return Err(KqlError::InvalidArgument {
            pos,
            message: format!("the aggregate function `{name}` can only be used in `summarize`"),
        });
    }
    let Some((f, min, max)) = funcs::lookup(name) else {
        return Err(KqlError::Unsupported {
            pos,
            what: format!("function `{name}` is not supported by this simulator"),
        });
    };
    arity(min, max)?;
    let targs = args
        .iter()
        .map(|a| compile_inner(a, scope))
        .collect::<Result<Vec<_>, _>>()?;
    let types: Vec<ColumnType> = targs.iter().map(|t| t.ty).collect();
    let ty = funcs::result_type(f, name, &types)
        .map_err(|(i, message)| type_err(args.get(i).map_or(pos, |a| a.pos), message))?;
    let mut cargs: Vec<CExpr> = targs.iter().map(|t| t.e.clone()).collect();
    if f == Func::Iff {
        // Numeric branches of different widths: convert to the result type so values
        // match the column's declared type.
        for (i, t) in targs.iter().enumerate().skip(1) {
            let conv = match (ty, t.ty) {
                (ColumnType::Real, ColumnType::Int | ColumnType::Long) => Some(Func::ToReal),
                (ColumnType::Long, ColumnType::Int) => Some(Func::ToLong),
                _ => None,
            };
            if let (Some(conv), Some(slot)) = (conv, cargs.get_mut(i)) {
                *slot = CExpr::Call(conv, vec![slot.clone()]);
            }
        }
    }
    let ce = CExpr::Call(f, cargs);
    let kids: Vec<&Typed> = targs.iter().collect();
    Ok(node(ce, ty, &kids))
}

/// Names of the aggregate functions `summarize` understands or knows to reject.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "countif"
            | "dcount"
            | "dcountif"
            | "min"
            | "max"
            | "sum"
            | "sumif"
            | "avg"
            | "avgif"
            | "make_set"
            | "make_list"
            | "make_bag"
            | "arg_max"
            | "arg_min"
            | "take_any"
            | "any"
            | "percentile"
            | "percentiles"
            | "stdev"
            | "variance"
            | "minif"
            | "maxif"
            | "make_set_if"
            | "make_list_if"
    )
}
