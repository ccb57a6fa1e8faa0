//! Shared fixtures for the KQL engine's tests: a small EmailEvents-like table (sorted
//! by Timestamp) and an unsorted copy, so the binary-search paths can be checked
//! against plain scans.

mod errors;
mod fuzz;
mod operators;
mod perf;
mod scalars;
mod subquery;
mod timespan;

use std::sync::Arc;

use super::{
    Catalog, Column, ColumnType, KqlError, QueryOptions, QueryResult, TICKS_PER_SECOND, Table,
    Value, run,
};

pub const HOUR: i64 = 3600 * TICKS_PER_SECOND;
pub const DAY: i64 = 24 * HOUR;
/// 2026-11-01T00:00:00Z
pub const T0: i64 = 1_793_491_200 * TICKS_PER_SECOND;

pub struct VecTable {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub sorted: Option<usize>,
}

impl Table for VecTable {
    fn name(&self) -> &str {
        &self.name
    }
    fn columns(&self) -> &[Column] {
        &self.columns
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn value(&self, row: usize, col: usize) -> Value {
        self.rows[row][col].clone()
    }
    fn sorted_time_column(&self) -> Option<usize> {
        self.sorted
    }
}

pub struct TestCatalog {
    pub tables: Vec<Box<dyn Table>>,
}

impl Catalog for TestCatalog {
    fn table(&self, name: &str) -> Option<&dyn Table> {
        self.tables.iter().find(|t| t.name() == name).map(|t| &**t)
    }
    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|t| t.name().to_string()).collect()
    }
}

fn s(x: &str) -> Value {
    Value::str(x)
}

fn dynamic(json: &str) -> Value {
    Value::Dynamic(Arc::new(serde_json::from_str(json).unwrap()))
}

fn email_columns() -> Vec<Column> {
    use ColumnType::*;
    vec![
        Column::new("Timestamp", DateTime),
        Column::new("NetworkMessageId", String),
        Column::new("Subject", String),
        Column::new("SenderFromAddress", String),
        Column::new("ThreatTypes", String),
        Column::new("DeliveryLocation", String),
        Column::new("BulkComplaintLevel", Int),
        Column::new("AttachmentCount", Long),
        Column::new("Confidence", Real),
        Column::new("IsExternal", Bool),
        Column::new("AuthDetails", Dynamic),
        Column::new("Latency", TimeSpan),
    ]
}

/// Six messages across three days.
fn email_rows() -> Vec<Vec<Value>> {
    let row = |t: i64,
               id: &str,
               subj: &str,
               from: &str,
               threats: &str,
               loc: &str,
               bcl: Value,
               att: i64,
               conf: f64,
               ext: bool,
               auth: &str| {
        vec![
            Value::DateTime(t),
            s(id),
            s(subj),
            s(from),
            s(threats),
            s(loc),
            bcl,
            Value::Long(att),
            Value::Real(conf),
            Value::Bool(ext),
            dynamic(auth),
            Value::TimeSpan(att * 1000 * TICKS_PER_SECOND / 1000),
        ]
    };
    vec![
        row(
            T0 + HOUR,
            "m0",
            "Invoice due",
            "billing@contoso.com",
            "Phish, Spam",
            "Inbox",
            Value::Int(0),
            1,
            0.5,
            true,
            r#"{"SPF":"pass","DKIM":"fail","List":[1,2,3]}"#,
        ),
        row(
            T0 + 2 * HOUR,
            "m1",
            "Re: \"quoted\" \\ path",
            "news@fabrikam.com",
            "Spam",
            "JunkFolder",
            Value::Int(7),
            0,
            0.25,
            true,
            r#"{"SPF":"fail","DKIM":"pass","List":[]}"#,
        ),
        row(
            T0 + 3 * HOUR,
            "m2",
            "Phishing kit",
            "x@evil.example",
            "Phishing",
            "Quarantine",
            Value::Int(4),
            2,
            0.75,
            true,
            r#"{"SPF":"pass","DKIM":"pass","List":[7]}"#,
        ),
        row(
            T0 + DAY + HOUR,
            "m3",
            "",
            "ceo@contoso.com",
            "",
            "Inbox",
            Value::Null,
            0,
            0.0,
            false,
            "null",
        ),
        row(
            T0 + DAY + 5 * HOUR,
            "m4",
            "Weekly newsletter",
            "news@fabrikam.com",
            "Malware",
            "Quarantine",
            Value::Int(9),
            3,
            1.0,
            true,
            r#"{"SPF":"none"}"#,
        ),
        row(
            T0 + 2 * DAY,
            "m5",
            "Ünïcode Straße",
            "hr@contoso.com",
            "Phish",
            "Inbox",
            Value::Int(1),
            1,
            0.125,
            false,
            r#"{"SPF":"pass"}"#,
        ),
    ]
}

pub fn catalog() -> TestCatalog {
    TestCatalog {
        tables: vec![
            Box::new(VecTable {
                name: "EmailEvents".into(),
                columns: email_columns(),
                rows: email_rows(),
                sorted: Some(0),
            }),
            Box::new(VecTable {
                name: "UnsortedEmailEvents".into(),
                columns: email_columns(),
                rows: email_rows().into_iter().rev().collect(),
                sorted: None,
            }),
        ],
    }
}

pub fn opts() -> QueryOptions {
    QueryOptions {
        now: T0 + 3 * DAY,
        start: None,
        end: None,
        max_rows: 1000,
    }
}

pub fn q(query: &str) -> QueryResult {
    match run(query, &catalog(), &opts()) {
        Ok(r) => r,
        Err(e) => panic!("query failed: {query}\n{e}"),
    }
}

pub fn err(query: &str) -> KqlError {
    match run(query, &catalog(), &opts()) {
        Ok(r) => panic!("query unexpectedly succeeded: {query}\n{r:?}"),
        Err(e) => e,
    }
}

/// The values of one column, by name.
pub fn col(r: &QueryResult, name: &str) -> Vec<Value> {
    let i = r
        .columns
        .iter()
        .position(|c| &*c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", r.columns));
    r.rows.iter().map(|row| row[i].clone()).collect()
}

/// The NetworkMessageIds a query returns, as strings.
pub fn ids(query: &str) -> Vec<String> {
    col(&q(query), "NetworkMessageId")
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// A single scalar: `EmailEvents | take 1 | project x = <expr>`.
pub fn scalar(expr: &str) -> Value {
    let r = q(&format!("EmailEvents | take 1 | project x = {expr}"));
    r.rows[0][0].clone()
}
