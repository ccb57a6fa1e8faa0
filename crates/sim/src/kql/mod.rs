//! An honest subset of the Kusto Query Language, as advanced hunting's
//! `runHuntingQuery` accepts it: a real lexer ([`lexer`]), parser ([`parser`] → [`ast`])
//! and evaluator ([`eval`]) rather than pattern matching, so queries behave like Kusto
//! and anything unsupported fails with a message naming what is missing.

mod ast;
mod error;
mod eval;
pub mod json;
mod lexer;
mod parser;
pub mod table;
mod time;

#[cfg(test)]
mod tests;

pub use error::KqlError;
pub use eval::ResultRows;
pub use table::{Catalog, Column, ColumnType, TICKS_PER_SECOND, Table, Value};
pub use time::parse_timespan_param;

/// Limits and clock for one query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `now()` in ticks since the Unix epoch.
    pub now: i64,
    /// Rows of time-keyed tables before this tick are invisible (the 30-day window,
    /// or the request's `Timespan`).
    pub start: Option<i64>,
    /// Rows at or after this tick are invisible.
    pub end: Option<i64>,
    /// The service's row cap; a result with more rows is an error, not a truncation.
    pub max_rows: usize,
}

/// A tabular result: columns and rows of values.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// Stack for the thread a query runs on. Parsing, compiling and evaluating recurse
/// over expressions up to [`parser::MAX_DEPTH`] levels deep; unoptimised builds use
/// kilobytes of stack per level, more than a default 2 MiB thread (a test thread, a
/// tokio worker) can spare. The reservation is virtual memory, touched only as used.
const QUERY_STACK_BYTES: usize = 64 << 20;

/// Runs `query` against `catalog`: parse, then evaluate under `opts`' clock, time
/// window and row cap. Runs on a scoped thread with a large stack (see
/// [`QUERY_STACK_BYTES`]); a panic there is re-raised here, not turned into an error.
pub fn run(
    query: &str,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
) -> Result<QueryResult, KqlError> {
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("kql-query".into())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(s, || run_here(query, catalog, opts));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // Could not create a thread (resource exhaustion): run on this one.
            Err(_) => run_here(query, catalog, opts),
        }
    })
}

/// Runs `query` like [`run`] but hands the result to `f` as a [`ResultRows`] view
/// instead of materialising every value: the hunting endpoint writes rows straight
/// into its response this way.
pub fn run_with<T: Send>(
    query: &str,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
    f: impl FnOnce(&ResultRows<'_>) -> T + Send,
) -> Result<T, KqlError> {
    let here = |f| {
        let q = parser::parse(query)?;
        eval::execute_with(&q, catalog, opts, f)
    };
    let mut slot = Some(f);
    let ran = std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("kql-query".into())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(s, || slot.take().map(here));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        }
    });
    match (ran, slot.take()) {
        (Some(result), _) => result,
        // Could not create a thread (resource exhaustion): run on this one.
        (None, Some(f)) => here(f),
        (None, None) => Err(KqlError::Unsupported {
            pos: 0,
            what: "a query whose thread stopped without an answer".into(),
        }),
    }
}

/// Parses and evaluates on the current thread.
fn run_here(
    query: &str,
    catalog: &dyn Catalog,
    opts: &QueryOptions,
) -> Result<QueryResult, KqlError> {
    let q = parser::parse(query)?;
    eval::execute(&q, catalog, opts)
}
