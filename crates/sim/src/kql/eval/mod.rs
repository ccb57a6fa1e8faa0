//! Executes a parsed query. The pipeline carries a [`Frame`]: the base rows (a catalog
//! table read in place, or rows a summarize produced), a selection of row indices
//! over them, and the current columns as compiled expressions. `where`, `project`,
//! `extend`, `sort` and `take` only rewrite the selection or the expressions, so a
//! million-row table is never copied; only `summarize`/`distinct`/`count` and the final
//! output materialise values.

mod compile;
mod expr;
mod funcs;
mod ops;
mod subquery;
mod summarize;
mod value;

use compile::FrameCol;
use expr::Base;

use super::ast::{OpKind, Query};
use super::error::suggest;
use super::{Catalog, ColumnType, KqlError, QueryOptions, QueryResult, Value};

/// Rows of the base that are currently visible, in output order.
#[derive(Debug, Clone)]
pub enum Sel {
    /// Base rows `lo..hi` in storage order (keeps sortedness for time-window search).
    Range(usize, usize),
    List(Vec<usize>),
}

impl Sel {
    pub fn len(&self) -> usize {
        match self {
            Sel::Range(lo, hi) => hi.saturating_sub(*lo),
            Sel::List(v) => v.len(),
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> usize {
        match self {
            Sel::Range(lo, _) => lo + i,
            Sel::List(v) => v[i],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    pub fn truncate(&mut self, n: usize) {
        match self {
            Sel::Range(lo, hi) => *hi = (*hi).min(lo.saturating_add(n)),
            Sel::List(v) => v.truncate(n),
        }
    }
}

/// One pipeline stage's view of the data.
pub struct Frame<'a> {
    pub base: Base<'a>,
    pub sel: Sel,
    pub cols: Vec<FrameCol>,
    /// The base column sorted ascending by time, while `sel` is still a storage-order
    /// range of a catalog table: lets `where` on it binary-search.
    pub time_col: Option<usize>,
}

impl<'a> Frame<'a> {
    /// A frame over materialised rows with one plain column per schema entry.
    pub fn materialized(columns: Vec<super::Column>, rows: Vec<Vec<Value>>) -> Frame<'a> {
        let n = rows.len();
        Frame {
            base: Base::Rows(rows),
            sel: Sel::Range(0, n),
            cols: columns
                .into_iter()
                .enumerate()
                .map(|(i, c)| FrameCol::base(c, i))
                .collect(),
            time_col: None,
        }
    }
}

/// Runs a parsed query and hands the final frame to `f`.
pub fn execute_with<T>(
    q: &Query,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
    f: impl FnOnce(&ResultRows<'_>) -> T,
) -> Result<T, KqlError> {
    let mut resolved;
    let q = if has_subquery(q) {
        resolved = q.clone();
        subquery::resolve(&mut resolved, catalog, opts)?;
        &resolved
    } else {
        q
    };
    let Some(table) = catalog.table(&q.table) else {
        let names = catalog.table_names();
        return Err(KqlError::UnknownTable {
            pos: q.table_pos,
            name: q.table.clone(),
            suggestion: suggest(&q.table, names.iter().map(String::as_str)),
        });
    };
    let mut frame = Frame {
        base: Base::Table(table),
        sel: Sel::Range(0, table.len()),
        cols: table
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| FrameCol::base(c.clone(), i))
            .collect(),
        time_col: table
            .sorted_time_column()
            .filter(|&i| i < table.columns().len()),
    };
    ops::apply_time_window(&mut frame, opts.start, opts.end);
    for op in &q.ops {
        frame = match &op.kind {
            OpKind::Where(e) => ops::filter(frame, e, opts)?,
            OpKind::Project(items) => ops::project(frame, items, opts, false)?,
            OpKind::Extend(items) => ops::project(frame, items, opts, true)?,
            OpKind::ProjectAway(names) => ops::project_away(frame, names)?,
            OpKind::Sort(keys) => ops::sort(frame, keys, None, opts)?,
            OpKind::Take(n) => ops::take(frame, n, opts)?,
            OpKind::Top { count, key } => {
                let n = ops::row_count(count, opts, "top")?;
                ops::sort(frame, std::slice::from_ref(key), Some(n), opts)?
            }
            OpKind::Summarize { aggs, by } => summarize::summarize(frame, aggs, by, opts, op.pos)?,
            OpKind::Distinct(items) => summarize::distinct(frame, items, opts)?,
            OpKind::Count => {
                let n = i64::try_from(frame.sel.len()).unwrap_or(i64::MAX);
                Frame::materialized(
                    vec![super::Column::new("Count", ColumnType::Long)],
                    vec![vec![Value::Long(n)]],
                )
            }
        };
    }
    if frame.sel.len() > opts.max_rows {
        return Err(KqlError::TooManyRows {
            limit: opts.max_rows,
        });
    }
    Ok(f(&ResultRows { frame: &frame }))
}

/// A query's result, read in place: the rows a final frame selects, each value
/// computed (or written) on demand.
pub struct ResultRows<'f> {
    frame: &'f Frame<'f>,
}

impl ResultRows<'_> {
    /// The result's columns.
    pub fn columns(&self) -> Vec<super::Column> {
        self.frame.cols.iter().map(|c| c.col.clone()).collect()
    }

    /// Rows in the result.
    pub fn len(&self) -> usize {
        self.frame.sel.len()
    }

    /// Whether the result has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of result row `row`, column `col`.
    pub fn value(&self, row: usize, col: usize) -> Value {
        self.frame.cols[col]
            .expr
            .eval(&self.frame.base, self.frame.sel.get(row))
    }

    /// Appends the value of `row`, `col` in advanced hunting's JSON form; a column
    /// read straight from a catalog table is written by the table itself.
    pub fn write_json(&self, row: usize, col: usize, out: &mut String) {
        let r = self.frame.sel.get(row);
        match (&*self.frame.cols[col].expr, &self.frame.base) {
            (expr::CExpr::Col(c), Base::Table(t)) => t.write_json(r, *c, out),
            (e, base) => super::json::write_value(out, &e.eval(base, r)),
        }
    }
}

/// Runs a parsed query and materialises the result.
pub fn execute(
    q: &Query,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
) -> Result<QueryResult, KqlError> {
    execute_with(q, catalog, opts, |r| QueryResult {
        columns: r.columns(),
        rows: (0..r.len())
            .map(|i| (0..r.frame.cols.len()).map(|c| r.value(i, c)).collect())
            .collect(),
    })
}

/// Whether any expression of `q` holds an `in` subquery (cheap textual check on the
/// debug form is avoided: walk the operators).
fn has_subquery(q: &Query) -> bool {
    fn expr(e: &super::ast::Expr) -> bool {
        use super::ast::ExprKind as K;
        match &e.kind {
            K::InQuery { .. } => true,
            K::Literal(_) | K::Column(_) | K::InSet { .. } => false,
            K::Unary(_, a) | K::Member(a, _) => expr(a),
            K::Binary(_, a, b) | K::Index(a, b) => expr(a) || expr(b),
            K::Call(_, args) => args.iter().any(expr),
            K::List { lhs, items, .. } => expr(lhs) || items.iter().any(expr),
            K::Between { lhs, lo, hi, .. } => expr(lhs) || expr(lo) || expr(hi),
        }
    }
    q.ops.iter().any(|op| match &op.kind {
        OpKind::Where(e) | OpKind::Take(e) => expr(e),
        OpKind::Project(items) | OpKind::Extend(items) | OpKind::Distinct(items) => {
            items.iter().any(|i| expr(&i.expr))
        }
        OpKind::Summarize { aggs, by } => aggs.iter().chain(by).any(|i| expr(&i.expr)),
        OpKind::Sort(keys) => keys.iter().any(|k| expr(&k.expr)),
        OpKind::Top { count, key } => expr(count) || expr(&key.expr),
        OpKind::ProjectAway(_) | OpKind::Count => false,
    })
}
