//! The data model the KQL engine evaluates over: typed columns, values, and the
//! `Table` / `Catalog` traits the simulator's world implements.
//!
//! Tables are read through `Table::value` row by row so the world can keep its
//! compact in-memory layout (no second copy of a million rows for querying).

use std::fmt;
use std::sync::Arc;

/// 100-nanosecond ticks per second: KQL datetimes and timespans have tick precision,
/// and advanced hunting prints seven fractional digits.
pub const TICKS_PER_SECOND: i64 = whalewatch_model::time::TICKS_PER_SECOND;

/// A column's KQL type. `wire_name` is what `runHuntingQuery` puts in `schema[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    String,
    Int,
    Long,
    Real,
    Bool,
    DateTime,
    TimeSpan,
    Dynamic,
}

impl ColumnType {
    /// The type name advanced hunting reports in a result's schema.
    pub fn wire_name(self) -> &'static str {
        match self {
            ColumnType::String => "String",
            ColumnType::Int => "Int32",
            ColumnType::Long => "Int64",
            ColumnType::Real => "Double",
            ColumnType::Bool => "Boolean",
            ColumnType::DateTime => "DateTime",
            ColumnType::TimeSpan => "TimeSpan",
            ColumnType::Dynamic => "Object",
        }
    }
}

/// One column of a table or result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: Arc<str>,
    pub ty: ColumnType,
}

impl Column {
    pub fn new(name: impl Into<Arc<str>>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// A KQL scalar. Strings are `Arc<str>` so reading a world column is a reference-count
/// bump, not a copy.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    String(Arc<str>),
    /// Ticks (100 ns) since 1970-01-01T00:00:00Z.
    DateTime(i64),
    /// Ticks (100 ns).
    TimeSpan(i64),
    Dynamic(Arc<serde_json::Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// The value as advanced hunting writes it into a result row.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Long(i) => J::from(*i),
            Value::Real(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.to_string()),
            Value::DateTime(t) => J::String(format_datetime(*t)),
            Value::TimeSpan(t) => J::String(format_timespan(*t)),
            Value::Dynamic(d) => (**d).clone(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Long(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::String(s) => f.write_str(s),
            Value::DateTime(t) => f.write_str(&format_datetime(*t)),
            Value::TimeSpan(t) => f.write_str(&format_timespan(*t)),
            Value::Dynamic(d) => write!(f, "{d}"),
        }
    }
}

/// `2024-03-26T09:39:50.7688641Z`: the seven-digit form advanced hunting returns.
pub fn format_datetime(ticks: i64) -> String {
    let mut out = String::with_capacity(28);
    write_datetime(&mut out, ticks);
    out
}

/// Appends the `format_datetime` form to `out`. Hand-rolled (days → civil date,
/// after Howard Hinnant's algorithm) because result serialisation formats a
/// datetime per row and a general formatter dominated that cost.
pub fn write_datetime(out: &mut String, ticks: i64) {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return;
    }
    let digits = |out: &mut String, v: i64, width: usize| {
        let mut buf = [b'0'; 8];
        let mut v = v;
        for i in (0..width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or(""));
    };
    digits(out, year, 4);
    out.push('-');
    digits(out, month, 2);
    out.push('-');
    digits(out, day, 2);
    out.push('T');
    digits(out, sod / 3600, 2);
    out.push(':');
    digits(out, sod / 60 % 60, 2);
    out.push(':');
    digits(out, sod % 60, 2);
    out.push('.');
    digits(out, frac, 7);
    out.push('Z');
}

/// `d.hh:mm:ss.fffffff` (days omitted when zero), as Kusto prints timespans.
pub fn format_timespan(ticks: i64) -> String {
    let sign = if ticks < 0 { "-" } else { "" };
    let t = ticks.unsigned_abs();
    let tps = TICKS_PER_SECOND as u64;
    let frac = t % tps;
    let secs = t / tps;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let days = if d > 0 {
        format!("{d}.")
    } else {
        String::new()
    };
    if frac > 0 {
        format!("{sign}{days}{h:02}:{m:02}:{s:02}.{frac:07}")
    } else {
        format!("{sign}{days}{h:02}:{m:02}:{s:02}")
    }
}

/// A table the engine can scan.
pub trait Table: Send + Sync {
    /// The table's name as written in queries (`EmailEvents`).
    fn name(&self) -> &str;
    fn columns(&self) -> &[Column];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value at `row`, `col`; both are in range when the engine calls it.
    fn value(&self, row: usize, col: usize) -> Value;
    /// Appends the value at `row`, `col` in advanced hunting's JSON result form;
    /// tables override it to skip building a [`Value`] for each cell.
    fn write_json(&self, row: usize, col: usize, out: &mut String) {
        super::json::write_value(out, &self.value(row, col));
    }
    /// The index of the `Timestamp` column when rows are stored in ascending
    /// `Timestamp` order, so time windows can be found by binary search.
    fn sorted_time_column(&self) -> Option<usize> {
        None
    }
}

/// The set of tables a query can name.
pub trait Catalog: Send + Sync {
    fn table(&self, name: &str) -> Option<&dyn Table>;
    fn table_names(&self) -> Vec<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_formatting_agrees_with_chrono_across_eras() {
        let mut t: i64 = -62_000_000_000 * TICKS_PER_SECOND;
        let step = 7_777_777 * TICKS_PER_SECOND + 1_234_567;
        while t < 250_000_000_000 * TICKS_PER_SECOND {
            let secs = t.div_euclid(TICKS_PER_SECOND);
            let frac = t.rem_euclid(TICKS_PER_SECOND);
            let expected = chrono::DateTime::from_timestamp(secs, 0)
                .map(|d| format!("{}.{frac:07}Z", d.format("%Y-%m-%dT%H:%M:%S")))
                .filter(|s| s.len() == 28)
                .unwrap_or_default();
            assert_eq!(format_datetime(t), expected, "ticks {t}");
            t += step;
        }
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00.0000000Z");
    }
}
