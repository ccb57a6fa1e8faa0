//! Timing on a million-row table. Ignored by default (it measures, it does not
//! assert speed); run with
//! `cargo test --release --lib sim::kql::tests::perf -- --ignored --nocapture`.

use std::time::Instant;

use super::*;

/// A synthetic EmailEvents with one message per second, computed on the fly so the
/// fixture itself costs nothing.
struct BigTable {
    columns: Vec<Column>,
    threats: Vec<Value>,
    locations: Vec<Value>,
    subjects: Vec<Value>,
    len: usize,
}

impl BigTable {
    fn new(len: usize) -> BigTable {
        BigTable {
            columns: vec![
                Column::new("Timestamp", ColumnType::DateTime),
                Column::new("ThreatTypes", ColumnType::String),
                Column::new("DeliveryLocation", ColumnType::String),
                Column::new("Subject", ColumnType::String),
                Column::new("BulkComplaintLevel", ColumnType::Int),
            ],
            threats: ["", "Phish", "Spam", "Phish, Spam", "Malware", "Phishing"]
                .into_iter()
                .map(Value::str)
                .collect(),
            locations: ["Inbox", "JunkFolder", "Quarantine", "Deleted"]
                .into_iter()
                .map(Value::str)
                .collect(),
            subjects: (0..100)
                .map(|i| Value::str(&format!("Quarterly invoice {i} for your account")))
                .collect(),
            len,
        }
    }
}

impl Table for BigTable {
    fn name(&self) -> &str {
        "EmailEvents"
    }
    fn columns(&self) -> &[Column] {
        &self.columns
    }
    fn len(&self) -> usize {
        self.len
    }
    fn value(&self, row: usize, col: usize) -> Value {
        match col {
            0 => Value::DateTime(T0 + row as i64 * TICKS_PER_SECOND),
            1 => self.threats[row * 7 % self.threats.len()].clone(),
            2 => self.locations[row * 13 % self.locations.len()].clone(),
            3 => self.subjects[row % self.subjects.len()].clone(),
            _ => Value::Int((row % 10) as i32),
        }
    }
    fn sorted_time_column(&self) -> Option<usize> {
        Some(0)
    }
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn million_rows_timing() {
    let cat = TestCatalog {
        tables: vec![Box::new(BigTable::new(1_000_000))],
    };
    let o = QueryOptions {
        now: T0 + 30 * DAY,
        start: Some(T0),
        end: Some(T0 + 30 * DAY),
        max_rows: 100_000,
    };
    let queries = [
        r#"EmailEvents | where ThreatTypes has "Phish" | summarize count() by DeliveryLocation"#,
        "EmailEvents | where Timestamp >= datetime(2026-11-03T00:00:00Z) and Timestamp < datetime(2026-11-03T13:53:20Z)",
        "EmailEvents | where Timestamp between (datetime(2026-11-03) .. datetime(2026-11-03T13:53:19Z)) | project Timestamp, Subject",
        "EmailEvents | summarize count(), dcount(Subject) by bin(Timestamp, 1d)",
        "EmailEvents | top 10 by BulkComplaintLevel",
        "EmailEvents | count",
    ];
    for query in queries {
        // Warm once, then take the best of three.
        let rows = run(query, &cat, &o).map(|r| r.rows.len());
        let best = (0..3)
            .map(|_| {
                let t = Instant::now();
                let _ = run(query, &cat, &o);
                t.elapsed()
            })
            .min()
            .unwrap_or_default();
        println!("{best:>12.2?}  rows={rows:?}  {query}");
    }
}
