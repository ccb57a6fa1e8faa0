//! Grouping operators: `summarize` (aggregates by keys) and `distinct`. One pass over
//! the selection; groups are found by hashing the key tuple, and output keeps groups in
//! first-seen order so results are deterministic.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Frame;
use super::compile::{self, FrameCol, Scope, Typed};
use super::expr::CExpr;
use super::funcs::type_name;
use super::ops::{derived_name, fresh_name};
use super::value::{self, HKey};
use crate::kql::ast::{Expr, ExprKind, NamedExpr};
use crate::kql::{Column, ColumnType, KqlError, QueryOptions, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggKind {
    Count,
    CountIf,
    DCount,
    Min,
    Max,
    Sum,
    Avg,
    MakeSet,
    MakeList,
}

/// One compiled aggregate: kind, argument, optional size cap, output column.
struct Agg {
    kind: AggKind,
    arg: Option<CExpr>,
    cap: usize,
    col: Column,
}

/// Running state of one aggregate for one group.
enum State {
    Count(i64),
    DCount(HashSet<HKey>),
    Extreme(Option<Value>),
    SumLong(Option<i64>),
    SumReal(Option<f64>),
    SumSpan(Option<i64>),
    Avg(f64, i64),
    Set(HashSet<HKey>, Vec<serde_json::Value>),
    List(Vec<serde_json::Value>),
}

fn invalid(pos: usize, message: String) -> KqlError {
    KqlError::InvalidArgument { pos, message }
}

fn numeric(t: ColumnType) -> bool {
    matches!(t, ColumnType::Int | ColumnType::Long | ColumnType::Real)
}

fn compile_agg(item: &NamedExpr, sc: &Scope) -> Result<(Agg, Option<String>), KqlError> {
    let e = &item.expr;
    let ExprKind::Call(fname, args) = &e.kind else {
        return Err(KqlError::Unsupported {
            pos: e.pos,
            what:
                "`summarize` here needs a direct aggregate call such as count() or dcount(Column); \
                   expressions over aggregates are not supported by this simulator"
                    .into(),
        });
    };
    let (kind, min, max, prefix) = match fname.as_str() {
        "count" => (AggKind::Count, 0, 0, "count"),
        "countif" => (AggKind::CountIf, 1, 1, "countif"),
        "dcount" => (AggKind::DCount, 1, 2, "dcount"),
        "min" => (AggKind::Min, 1, 1, "min"),
        "max" => (AggKind::Max, 1, 1, "max"),
        "sum" => (AggKind::Sum, 1, 1, "sum"),
        "avg" => (AggKind::Avg, 1, 1, "avg"),
        "make_set" => (AggKind::MakeSet, 1, 2, "set"),
        "make_list" => (AggKind::MakeList, 1, 2, "list"),
        other if compile::is_aggregate(other) => {
            return Err(KqlError::Unsupported {
                pos: e.pos,
                what: format!("aggregate function `{other}` is not supported by this simulator"),
            });
        }
        other => {
            return Err(invalid(
                e.pos,
                format!(
                    "`summarize` expects an aggregate function such as count(), dcount(x) or sum(x), found `{other}`"
                ),
            ));
        }
    };
    if args.len() < min || args.len() > max {
        return Err(invalid(
            e.pos,
            format!(
                "`{fname}` takes {min} to {max} argument(s), but {} were given",
                args.len()
            ),
        ));
    }
    let arg: Option<Typed> = args.first().map(|a| compile::compile(a, sc)).transpose()?;
    let arg_ty = arg.as_ref().map_or(ColumnType::Long, |t| t.ty);
    let apos = args.first().map_or(e.pos, |a| a.pos);
    let ty = match kind {
        AggKind::Count | AggKind::CountIf | AggKind::DCount => ColumnType::Long,
        AggKind::Min | AggKind::Max => arg_ty,
        AggKind::Sum => match arg_ty {
            ColumnType::Int | ColumnType::Long => ColumnType::Long,
            ColumnType::Real | ColumnType::TimeSpan | ColumnType::Dynamic => arg_ty,
            other => {
                return Err(KqlError::Type {
                    pos: apos,
                    message: format!("`sum` needs numbers, found {}", type_name(other)),
                });
            }
        },
        AggKind::Avg => {
            if !(numeric(arg_ty) || arg_ty == ColumnType::Dynamic) {
                return Err(KqlError::Type {
                    pos: apos,
                    message: format!("`avg` needs numbers, found {}", type_name(arg_ty)),
                });
            }
            ColumnType::Real
        }
        AggKind::MakeSet | AggKind::MakeList => ColumnType::Dynamic,
    };
    if kind == AggKind::CountIf && !matches!(arg_ty, ColumnType::Bool | ColumnType::Dynamic) {
        return Err(KqlError::Type {
            pos: apos,
            message: format!(
                "`countif` needs a bool predicate, found {}",
                type_name(arg_ty)
            ),
        });
    }
    let mut cap = 1_048_576;
    if matches!(kind, AggKind::MakeSet | AggKind::MakeList)
        && let Some(c) = args.get(1)
    {
        cap = super::ops::row_count(
            c,
            &QueryOptions {
                now: sc.now,
                start: None,
                end: None,
                max_rows: 0,
            },
            fname,
        )?;
    }
    let default_name = match kind {
        AggKind::Count | AggKind::CountIf => format!("{prefix}_"),
        _ => match args.first().and_then(derived_name) {
            Some(n) => format!("{prefix}_{n}"),
            None => format!("{prefix}_"),
        },
    };
    let name = item.name.clone().unwrap_or(default_name);
    let agg = Agg {
        kind,
        arg: arg.map(|t| t.e),
        cap,
        col: Column::new(name.as_str(), ty),
    };
    Ok((agg, item.name.clone()))
}

impl Agg {
    fn init(&self) -> State {
        match self.kind {
            AggKind::Count | AggKind::CountIf => State::Count(0),
            AggKind::DCount => State::DCount(HashSet::new()),
            AggKind::Min | AggKind::Max => State::Extreme(None),
            AggKind::Sum => match self.col.ty {
                ColumnType::Real | ColumnType::Dynamic => State::SumReal(None),
                ColumnType::TimeSpan => State::SumSpan(None),
                _ => State::SumLong(None),
            },
            AggKind::Avg => State::Avg(0.0, 0),
            AggKind::MakeSet => State::Set(HashSet::new(), Vec::new()),
            AggKind::MakeList => State::List(Vec::new()),
        }
    }

    fn update(&self, st: &mut State, v: Value) {
        let is_null = matches!(v, Value::Null);
        match st {
            State::Count(n) => {
                if self.kind == AggKind::Count || matches!(v, Value::Bool(true)) {
                    *n = n.saturating_add(1);
                }
            }
            State::DCount(set) => {
                if !is_null {
                    set.insert(HKey::of(&v));
                }
            }
            State::Extreme(cur) => {
                if is_null {
                    return;
                }
                let better = match cur {
                    None => true,
                    Some(c) => match value::compare(&v, c) {
                        Some(o) => {
                            (self.kind == AggKind::Min && o.is_lt())
                                || (self.kind == AggKind::Max && o.is_gt())
                        }
                        None => false,
                    },
                };
                if better {
                    *cur = Some(v);
                }
            }
            State::SumLong(acc) => match &*value::scalar(&v) {
                Value::Int(i) => *acc = Some(acc.unwrap_or(0).wrapping_add(i64::from(*i))),
                Value::Long(i) => *acc = Some(acc.unwrap_or(0).wrapping_add(*i)),
                _ => {}
            },
            State::SumSpan(acc) => {
                if let Value::TimeSpan(t) = v {
                    *acc = Some(acc.unwrap_or(0).wrapping_add(t));
                }
            }
            State::SumReal(acc) => {
                if let Some(r) = as_real(&v) {
                    *acc = Some(acc.unwrap_or(0.0) + r);
                }
            }
            State::Avg(sum, n) => {
                if let Some(r) = as_real(&v) {
                    *sum += r;
                    *n += 1;
                }
            }
            State::Set(seen, items) => {
                if !is_null && items.len() < self.cap && seen.insert(HKey::of(&v)) {
                    items.push(v.to_json());
                }
            }
            State::List(items) => {
                if !is_null && items.len() < self.cap {
                    items.push(v.to_json());
                }
            }
        }
    }

    fn finish(st: State) -> Value {
        match st {
            State::Count(n) => Value::Long(n),
            State::DCount(set) => Value::Long(i64::try_from(set.len()).unwrap_or(i64::MAX)),
            State::Extreme(v) => v.unwrap_or(Value::Null),
            State::SumLong(v) => v.map_or(Value::Null, Value::Long),
            State::SumSpan(v) => v.map_or(Value::Null, Value::TimeSpan),
            State::SumReal(v) => v.map_or(Value::Null, Value::Real),
            State::Avg(sum, n) => {
                if n == 0 {
                    Value::Null
                } else {
                    Value::Real(sum / n as f64)
                }
            }
            State::Set(_, items) | State::List(items) => {
                Value::Dynamic(Arc::new(serde_json::Value::Array(items)))
            }
        }
    }
}

fn as_real(v: &Value) -> Option<f64> {
    match &*value::scalar(v) {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Real(r) => Some(*r),
        _ => None,
    }
}

/// Compiles `by` keys, naming them as Kusto does.
fn compile_keys(
    items: &[NamedExpr],
    sc: &Scope,
    taken: &mut Vec<FrameCol>,
) -> Result<Vec<(String, Typed)>, KqlError> {
    let mut out = Vec::new();
    let mut counter = 0;
    for item in items {
        let t = compile::compile(&item.expr, sc)?;
        let name = match item.name.clone().or_else(|| derived_name(&item.expr)) {
            Some(n) => n,
            None => fresh_name(taken, &mut counter),
        };
        taken.push(FrameCol {
            col: Column::new(name.as_str(), t.ty),
            expr: Arc::new(CExpr::Const(Value::Null)),
            depth: 1,
            cost: 1,
        });
        out.push((name, t));
    }
    Ok(out)
}

/// Makes output column names unique by suffixing later duplicates (`count_1`);
/// a duplicate the user named explicitly is an error instead.
fn dedupe(columns: &mut [Column], pos: usize, explicit: &[bool]) -> Result<(), KqlError> {
    for i in 0..columns.len() {
        if !columns[..i].iter().any(|c| c.name == columns[i].name) {
            continue;
        }
        if explicit.get(i).copied().unwrap_or(false) {
            return Err(invalid(
                pos,
                format!(
                    "`summarize` produces column `{}` more than once",
                    columns[i].name
                ),
            ));
        }
        let base = columns[i].name.to_string();
        let mut k = 1usize;
        loop {
            let cand = format!("{base}{k}");
            if !columns.iter().any(|c| *c.name == cand) {
                columns[i].name = Arc::from(cand);
                break;
            }
            k += 1;
        }
    }
    Ok(())
}

/// `summarize aggs by keys`.
pub fn summarize<'a>(
    frame: Frame<'a>,
    aggs: &[NamedExpr],
    by: &[NamedExpr],
    opts: &QueryOptions,
    pos: usize,
) -> Result<Frame<'a>, KqlError> {
    let sc = Scope {
        cols: &frame.cols,
        now: opts.now,
    };
    let mut taken = Vec::new();
    let keys = compile_keys(by, &sc, &mut taken)?;
    let mut compiled = Vec::new();
    let mut explicit: Vec<bool> = by.iter().map(|b| b.name.is_some()).collect();
    for a in aggs {
        let (agg, named) = compile_agg(a, &sc)?;
        explicit.push(named.is_some());
        compiled.push(agg);
    }
    let mut columns: Vec<Column> = keys
        .iter()
        .map(|(n, t)| Column::new(n.as_str(), t.ty))
        .collect();
    columns.extend(compiled.iter().map(|a| a.col.clone()));
    dedupe(&mut columns, pos, &explicit)?;

    let mut index: HashMap<Vec<HKey>, usize> = HashMap::new();
    let mut group_keys: Vec<Vec<Value>> = Vec::new();
    let mut states: Vec<Vec<State>> = Vec::new();
    if keys.is_empty() {
        // Without `by`, summarize yields exactly one row even over no input.
        index.insert(Vec::new(), 0);
        group_keys.push(Vec::new());
        states.push(compiled.iter().map(Agg::init).collect());
    }
    let mut scratch: Vec<HKey> = Vec::with_capacity(keys.len());
    let mut key_vals: Vec<Value> = Vec::with_capacity(keys.len());
    for r in frame.sel.iter() {
        scratch.clear();
        key_vals.clear();
        for (_, k) in &keys {
            let v = k.e.eval(&frame.base, r);
            scratch.push(HKey::of(&v));
            key_vals.push(v);
        }
        let g = match index.get(scratch.as_slice()) {
            Some(&g) => g,
            None => {
                let g = group_keys.len();
                index.insert(scratch.clone(), g);
                group_keys.push(key_vals.clone());
                states.push(compiled.iter().map(Agg::init).collect());
                g
            }
        };
        for (agg, st) in compiled.iter().zip(states[g].iter_mut()) {
            let v = agg
                .arg
                .as_ref()
                .map_or(Value::Null, |e| e.eval(&frame.base, r));
            agg.update(st, v);
        }
    }
    let rows: Vec<Vec<Value>> = group_keys
        .into_iter()
        .zip(states)
        .map(|(mut k, st)| {
            k.extend(st.into_iter().map(Agg::finish));
            k
        })
        .collect();
    Ok(Frame::materialized(columns, rows))
}

/// `distinct a, b` (or `distinct *`).
pub fn distinct<'a>(
    frame: Frame<'a>,
    items: &[NamedExpr],
    opts: &QueryOptions,
) -> Result<Frame<'a>, KqlError> {
    let sc = Scope {
        cols: &frame.cols,
        now: opts.now,
    };
    let keys: Vec<(String, Typed)> = if items.is_empty() {
        frame
            .cols
            .iter()
            .map(|c| {
                let e = Expr::new(ExprKind::Column(c.col.name.to_string()), 0);
                compile::compile(&e, &sc).map(|t| (c.col.name.to_string(), t))
            })
            .collect::<Result<_, _>>()?
    } else {
        compile_keys(items, &sc, &mut Vec::new())?
    };
    let mut columns: Vec<Column> = keys
        .iter()
        .map(|(n, t)| Column::new(n.as_str(), t.ty))
        .collect();
    dedupe(&mut columns, 0, &[])?;
    let mut seen: HashSet<Vec<HKey>> = HashSet::new();
    let mut rows = Vec::new();
    for r in frame.sel.iter() {
        let vals: Vec<Value> = keys.iter().map(|(_, k)| k.e.eval(&frame.base, r)).collect();
        if seen.insert(vals.iter().map(HKey::of).collect()) {
            rows.push(vals);
        }
    }
    Ok(Frame::materialized(columns, rows))
}
