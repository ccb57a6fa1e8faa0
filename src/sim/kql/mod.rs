//! An honest subset of the Kusto Query Language, as advanced hunting's
//! `runHuntingQuery` accepts it: a real lexer, parser and evaluator.
//! (Stub: the engine lands with the KQL work.)

pub mod table;

pub use table::{Catalog, Column, ColumnType, TICKS_PER_SECOND, Table, Value};

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

/// Why a query failed; `Display` is the message the service returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KqlError {
    #[error("Syntax error at position {pos}: {message}")]
    Syntax { pos: usize, message: String },
    #[error("Unsupported: {0}")]
    Unsupported(String),
}

/// Runs `query` against `catalog`.
pub fn run(
    _query: &str,
    _catalog: &dyn Catalog,
    _opts: &QueryOptions,
) -> Result<QueryResult, KqlError> {
    Err(KqlError::Unsupported("KQL engine not built yet".into()))
}
