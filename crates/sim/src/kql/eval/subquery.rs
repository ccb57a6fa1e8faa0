//! Tabular subqueries of `in` (`x in ((T | where ... | project Key))`): before the
//! outer query is compiled, each subquery runs once under the same clock and time
//! window, and its single column becomes a hash set of keys, so membership is one
//! lookup per row — a semi-join without a join.

use std::collections::HashSet;
use std::sync::Arc;

use super::value;
use crate::kql::ast::{Expr, ExprKind, KeySet, OpKind, Query};
use crate::kql::{Catalog, KqlError, QueryOptions, Value};

/// Runs every subquery of `q` and replaces it with its key set.
pub fn resolve(q: &mut Query, catalog: &dyn Catalog, opts: &QueryOptions) -> Result<(), KqlError> {
    for op in &mut q.ops {
        match &mut op.kind {
            OpKind::Where(e) | OpKind::Take(e) => resolve_expr(e, catalog, opts)?,
            OpKind::Project(items) | OpKind::Extend(items) | OpKind::Distinct(items) => {
                for it in items {
                    resolve_expr(&mut it.expr, catalog, opts)?;
                }
            }
            OpKind::Summarize { aggs, by } => {
                for it in aggs.iter_mut().chain(by.iter_mut()) {
                    resolve_expr(&mut it.expr, catalog, opts)?;
                }
            }
            OpKind::Sort(keys) => {
                for k in keys {
                    resolve_expr(&mut k.expr, catalog, opts)?;
                }
            }
            OpKind::Top { count, key } => {
                resolve_expr(count, catalog, opts)?;
                resolve_expr(&mut key.expr, catalog, opts)?;
            }
            OpKind::ProjectAway(_) | OpKind::Count => {}
        }
    }
    Ok(())
}

fn resolve_expr(e: &mut Expr, catalog: &dyn Catalog, opts: &QueryOptions) -> Result<(), KqlError> {
    match &mut e.kind {
        ExprKind::Literal(_) | ExprKind::Column(_) | ExprKind::InSet { .. } => {}
        ExprKind::Unary(_, a) | ExprKind::Member(a, _) => resolve_expr(a, catalog, opts)?,
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            resolve_expr(a, catalog, opts)?;
            resolve_expr(b, catalog, opts)?;
        }
        ExprKind::Call(_, args) => {
            for a in args {
                resolve_expr(a, catalog, opts)?;
            }
        }
        ExprKind::List { lhs, items, .. } => {
            resolve_expr(lhs, catalog, opts)?;
            for a in items {
                resolve_expr(a, catalog, opts)?;
            }
        }
        ExprKind::Between { lhs, lo, hi, .. } => {
            resolve_expr(lhs, catalog, opts)?;
            resolve_expr(lo, catalog, opts)?;
            resolve_expr(hi, catalog, opts)?;
        }
        ExprKind::InQuery {
            negated,
            ci,
            lhs,
            query,
        } => {
            resolve_expr(lhs, catalog, opts)?;
            let set = run(query, *ci, catalog, opts, e.pos)?;
            let lhs = std::mem::replace(
                lhs,
                Box::new(Expr::new(ExprKind::Literal(Value::Null), e.pos)),
            );
            e.kind = ExprKind::InSet {
                negated: *negated,
                lhs,
                set: Arc::new(set),
            };
        }
    }
    Ok(())
}

/// Runs one subquery (no row cap: only the outer result is capped) into a key set.
fn run(
    query: &Query,
    ci: bool,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
    pos: usize,
) -> Result<KeySet, KqlError> {
    let sub_opts = QueryOptions {
        max_rows: usize::MAX,
        ..opts.clone()
    };
    let result = super::execute(query, catalog, &sub_opts)?;
    let [column] = result.columns.as_slice() else {
        return Err(KqlError::InvalidArgument {
            pos,
            message: format!(
                "the subquery of `in` must return exactly one column, but it returns {}; end it with `| project Column`",
                result.columns.len()
            ),
        });
    };
    let keys: HashSet<String> = result
        .rows
        .iter()
        .filter_map(|r| r.first().and_then(|v| set_key(v, ci)))
        .collect();
    Ok(KeySet {
        ci,
        ty: column.ty,
        keys,
    })
}

/// A hashable key with `in`'s equality: numbers compare by value across widths,
/// strings exactly (or lowercased for `in~`), dynamic scalars as their scalar; null
/// has no key (it is in no set).
pub fn set_key(v: &Value, ci: bool) -> Option<String> {
    Some(match &*value::scalar(v) {
        Value::Null => return None,
        Value::String(s) if ci => {
            let mut k = String::from("s");
            if s.is_ascii() {
                k.push_str(&s.to_ascii_lowercase());
            } else {
                k.push_str(&s.to_lowercase());
            }
            k
        }
        Value::String(s) => format!("s{s}"),
        Value::Bool(b) => format!("b{b}"),
        Value::Int(i) => format!("n{i}"),
        Value::Long(i) => format!("n{i}"),
        Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e18 => format!("n{}", *r as i64),
        Value::Real(r) => format!("r{}", r.to_bits()),
        Value::DateTime(t) => format!("t{t}"),
        Value::TimeSpan(t) => format!("p{t}"),
        Value::Dynamic(j) => format!("j{j}"),
    })
}
