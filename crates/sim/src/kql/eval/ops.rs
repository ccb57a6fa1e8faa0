//! The row-preserving tabular operators: `where`, `project`/`extend`, `project-away`,
//! `sort`/`top`, `take`, plus the time-window restriction. They rewrite the frame's
//! selection or column expressions and never copy base rows.
//!
//! `where` on a time-sorted table first narrows the selection by binary search using
//! the predicate's `Timestamp` bounds (the hot path of paging a large table one window
//! at a time), then evaluates the full predicate over what is left.

use std::cmp::Ordering;
use std::sync::Arc;

use super::compile::{self, FrameCol, Scope, Typed};
use super::expr::{Base, CExpr, CmpOp};
use super::value;
use super::{Frame, Sel};
use crate::kql::ast::{Expr, ExprKind, NamedExpr, SortKey};
use crate::kql::error::suggest;
use crate::kql::{ColumnType, KqlError, QueryOptions, Table, Value};

fn scope<'s>(frame: &'s Frame, opts: &QueryOptions) -> Scope<'s> {
    Scope {
        cols: &frame.cols,
        now: opts.now,
    }
}

/// The timestamp used for binary search; nulls and non-datetimes sort first.
fn time_key(t: &dyn Table, row: usize, col: usize) -> i64 {
    match t.value(row, col) {
        Value::DateTime(x) => x,
        _ => i64::MIN,
    }
}

/// Narrows a storage-order range of a sorted table to timestamps in `[lo, hi)`.
fn narrow(frame: &mut Frame, lo: i64, hi: i64) {
    let (Base::Table(t), Sel::Range(a, b), Some(tc)) = (&frame.base, &frame.sel, frame.time_col)
    else {
        return;
    };
    let (a, b) = (*a, *b);
    let slice_start = |bound: i64| {
        // partition_point over a..b without materialising the indices.
        let (mut l, mut r) = (a, b);
        while l < r {
            let mid = l + (r - l) / 2;
            if time_key(*t, mid, tc) < bound {
                l = mid + 1;
            } else {
                r = mid;
            }
        }
        l
    };
    let new_a = slice_start(lo);
    let new_b = slice_start(hi).max(new_a);
    frame.sel = Sel::Range(new_a, new_b);
}

/// Hides rows of time-keyed tables outside `[start, end)` (the 30-day window or the
/// request's `Timespan`).
pub fn apply_time_window(frame: &mut Frame, start: Option<i64>, end: Option<i64>) {
    if start.is_none() && end.is_none() {
        return;
    }
    let Some(ts) = frame
        .cols
        .iter()
        .position(|c| &*c.col.name == "Timestamp" && c.col.ty == ColumnType::DateTime)
    else {
        return;
    };
    let (lo, hi) = (start.unwrap_or(i64::MIN), end.unwrap_or(i64::MAX));
    if frame.time_col == Some(ts) {
        narrow(frame, lo, hi);
        return;
    }
    let Base::Table(t) = &frame.base else { return };
    let keep: Vec<usize> = frame
        .sel
        .iter()
        .filter(|&r| matches!(t.value(r, ts), Value::DateTime(x) if x >= lo && x < hi))
        .collect();
    frame.sel = Sel::List(keep);
    frame.time_col = None;
}

/// Collects `[lo, hi)` bounds on base column `tc` implied by the predicate's top-level
/// conjuncts (`Timestamp >= X`, `between (A .. B)`, ...), where the bounds are constants.
fn time_bounds(e: &CExpr, tc: usize, lo: &mut i64, hi: &mut i64) {
    let is_tc = |x: &CExpr| matches!(x, CExpr::Col(c) if *c == tc);
    let dt = |x: &CExpr| match x.as_const() {
        Some(Value::DateTime(t)) => Some(*t),
        _ => None,
    };
    match e {
        CExpr::And(a, b) => {
            time_bounds(a, tc, lo, hi);
            time_bounds(b, tc, lo, hi);
        }
        CExpr::Cmp(op, a, b) => {
            let (op, t) = if is_tc(a) {
                match dt(b) {
                    Some(t) => (*op, t),
                    None => return,
                }
            } else if is_tc(b) {
                let flipped = match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    other => *other,
                };
                match dt(a) {
                    Some(t) => (flipped, t),
                    None => return,
                }
            } else {
                return;
            };
            match op {
                CmpOp::Ge => *lo = (*lo).max(t),
                CmpOp::Gt => *lo = (*lo).max(t.saturating_add(1)),
                CmpOp::Lt => *hi = (*hi).min(t),
                CmpOp::Le => *hi = (*hi).min(t.saturating_add(1)),
                CmpOp::Eq => {
                    *lo = (*lo).max(t);
                    *hi = (*hi).min(t.saturating_add(1));
                }
                _ => {}
            }
        }
        CExpr::Between {
            negated: false,
            lhs,
            lo: l,
            hi: h,
        } if is_tc(lhs) => {
            let Some(a) = dt(l) else { return };
            let b = match h.as_const() {
                Some(Value::DateTime(b)) => *b,
                Some(Value::TimeSpan(s)) => a.saturating_add(*s),
                _ => return,
            };
            *lo = (*lo).max(a);
            *hi = (*hi).min(b.saturating_add(1));
        }
        _ => {}
    }
}

/// `where predicate`.
pub fn filter<'a>(
    mut frame: Frame<'a>,
    e: &Expr,
    opts: &QueryOptions,
) -> Result<Frame<'a>, KqlError> {
    let pred = compile::compile_predicate(e, &scope(&frame, opts), "the `where` predicate")?;
    if let Some(tc) = frame.time_col
        && matches!(frame.sel, Sel::Range(..))
    {
        let (mut lo, mut hi) = (i64::MIN, i64::MAX);
        time_bounds(&pred.e, tc, &mut lo, &mut hi);
        if lo > i64::MIN || hi < i64::MAX {
            narrow(&mut frame, lo, hi);
        }
    }
    if let CExpr::Const(_) = &pred.e {
        // A constant predicate never reads the row.
        if !pred.e.test(&frame.base, 0) {
            frame.sel = Sel::List(Vec::new());
            frame.time_col = None;
        }
        return Ok(frame);
    }
    let before = frame.sel.len();
    let keep: Vec<usize> = frame
        .sel
        .iter()
        .filter(|&r| pred.e.test(&frame.base, r))
        .collect();
    // If every row passed, a storage-order range stays a range (and stays searchable).
    if keep.len() != before || !matches!(frame.sel, Sel::Range(..)) {
        frame.sel = Sel::List(keep);
        frame.time_col = None;
    }
    Ok(frame)
}

/// The output name of an unnamed expression, as Kusto derives it: a column keeps its
/// name, `bin(Col, ...)` takes the column's, `x.Name` becomes `x_Name`.
pub fn derived_name(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Column(n) => Some(n.clone()),
        ExprKind::Call(f, args) if matches!(f.as_str(), "bin" | "floor") => {
            match args.first().map(|a| &a.kind) {
                Some(ExprKind::Column(n)) => Some(n.clone()),
                _ => None,
            }
        }
        ExprKind::Member(inner, name) => derived_name(inner).map(|b| format!("{b}_{name}")),
        _ => None,
    }
}

/// `Column1`, `Column2`, ...: the first not already taken.
pub fn fresh_name(taken: &[FrameCol], counter: &mut usize) -> String {
    loop {
        *counter += 1;
        let n = format!("Column{counter}");
        if !taken.iter().any(|c| *c.col.name == n) {
            return n;
        }
    }
}

/// `project` (when `extend` is false) or `extend`.
pub fn project<'a>(
    mut frame: Frame<'a>,
    items: &[NamedExpr],
    opts: &QueryOptions,
    extend: bool,
) -> Result<Frame<'a>, KqlError> {
    let mut out: Vec<FrameCol> = if extend {
        frame.cols.clone()
    } else {
        Vec::new()
    };
    let mut counter = 0;
    for item in items {
        // `extend` items see earlier items of the same operator; `project` items see the input.
        let t: Typed = {
            let cols = if extend { &out } else { &frame.cols };
            compile::compile(
                &item.expr,
                &Scope {
                    cols,
                    now: opts.now,
                },
            )?
        };
        let name = match item.name.clone().or_else(|| derived_name(&item.expr)) {
            Some(n) => n,
            None => fresh_name(&out, &mut counter),
        };
        let fc = FrameCol::from_typed(Arc::from(name.as_str()), t);
        match out.iter().position(|c| *c.col.name == name) {
            Some(i) if extend => out[i] = fc,
            Some(_) => {
                return Err(KqlError::InvalidArgument {
                    pos: item.expr.pos,
                    message: format!(
                        "column `{name}` appears more than once in `project`; rename one with `Name = ...`"
                    ),
                });
            }
            None => out.push(fc),
        }
    }
    frame.cols = out;
    Ok(frame)
}

fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    for m in middle {
        match rest.find(m) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// `project-away Name, Prefix*`.
pub fn project_away<'a>(
    mut frame: Frame<'a>,
    names: &[(String, usize)],
) -> Result<Frame<'a>, KqlError> {
    for (pat, pos) in names {
        if !pat.contains('*') && !frame.cols.iter().any(|c| *c.col.name == **pat) {
            return Err(KqlError::UnknownColumn {
                pos: *pos,
                name: pat.clone(),
                suggestion: suggest(pat, frame.cols.iter().map(|c| &*c.col.name)),
            });
        }
    }
    frame
        .cols
        .retain(|c| !names.iter().any(|(p, _)| glob(p, &c.col.name)));
    Ok(frame)
}

/// Evaluates a row count for `take`/`top`: a non-negative constant.
pub fn row_count(e: &Expr, opts: &QueryOptions, what: &str) -> Result<usize, KqlError> {
    let t = compile::compile(
        e,
        &Scope {
            cols: &[],
            now: opts.now,
        },
    )
    .map_err(|err| match err {
        KqlError::UnknownColumn { pos, .. } => KqlError::InvalidArgument {
            pos,
            message: format!("the row count of `{what}` must be a constant"),
        },
        other => other,
    })?;
    let n = match t.e.as_const() {
        Some(Value::Long(n)) => *n,
        Some(Value::Int(n)) => i64::from(*n),
        _ => {
            return Err(KqlError::InvalidArgument {
                pos: e.pos,
                message: format!("the row count of `{what}` must be an integer constant"),
            });
        }
    };
    usize::try_from(n).map_err(|_| KqlError::InvalidArgument {
        pos: e.pos,
        message: format!("the row count of `{what}` must not be negative, got {n}"),
    })
}

/// `take N` / `limit N`.
pub fn take<'a>(
    mut frame: Frame<'a>,
    e: &Expr,
    opts: &QueryOptions,
) -> Result<Frame<'a>, KqlError> {
    let n = row_count(e, opts, "take")?;
    frame.sel.truncate(n);
    Ok(frame)
}

/// Compares two sort-key tuples under the given directions and null placements.
fn cmp_keys(a: &[Value], b: &[Value], dirs: &[(bool, bool)]) -> Ordering {
    for ((x, y), &(desc, nulls_first)) in a.iter().zip(b).zip(dirs) {
        let o = match (matches!(x, Value::Null), matches!(y, Value::Null)) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, false) => {
                let o = value::sort_cmp(x, y);
                if desc { o.reverse() } else { o }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// `sort by` / `order by` (and `top` with `limit`). Default direction is descending;
/// nulls go last when descending and first when ascending, as in Kusto. Ties keep
/// their input order.
pub fn sort<'a>(
    mut frame: Frame<'a>,
    keys: &[SortKey],
    limit: Option<usize>,
    opts: &QueryOptions,
) -> Result<Frame<'a>, KqlError> {
    let sc = scope(&frame, opts);
    let mut exprs = Vec::with_capacity(keys.len());
    let mut dirs = Vec::with_capacity(keys.len());
    for k in keys {
        exprs.push(compile::compile(&k.expr, &sc)?.e);
        dirs.push((k.desc, k.nulls_first.unwrap_or(!k.desc)));
    }
    let order = |a: &(usize, Vec<Value>), b: &(usize, Vec<Value>)| {
        cmp_keys(&a.1, &b.1, &dirs).then(a.0.cmp(&b.0))
    };
    // With a limit (`top N`), keep at most ~2N candidates: every time the buffer fills,
    // cut it back to the best N. Memory stays O(N) and time O(rows).
    let limit = limit.filter(|&n| n < frame.sel.len());
    let flush_at = limit.map(|n| n.saturating_mul(2).max(1024));
    let mut rows: Vec<(usize, Vec<Value>)> = Vec::new();
    if limit != Some(0) {
        for (i, r) in frame.sel.iter().enumerate() {
            rows.push((i, exprs.iter().map(|e| e.eval(&frame.base, r)).collect()));
            if let (Some(n), Some(at)) = (limit, flush_at)
                && rows.len() >= at
            {
                rows.select_nth_unstable_by(n - 1, order);
                rows.truncate(n);
            }
        }
    }
    if let Some(n) = limit
        && n > 0
        && n < rows.len()
    {
        rows.select_nth_unstable_by(n - 1, order);
        rows.truncate(n);
    }
    rows.sort_unstable_by(order);
    let sel: Vec<usize> = rows.iter().map(|(i, _)| frame.sel.get(*i)).collect();
    frame.sel = Sel::List(sel);
    frame.time_col = None;
    Ok(frame)
}
