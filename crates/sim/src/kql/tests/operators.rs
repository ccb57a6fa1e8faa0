//! Tabular operators, one behaviour per test.

use super::*;

#[test]
fn bare_table_returns_all_rows_and_schema() {
    let r = q("EmailEvents");
    assert_eq!(r.rows.len(), 6);
    assert_eq!(r.columns.len(), 12);
    assert_eq!(
        r.columns[6],
        Column::new("BulkComplaintLevel", ColumnType::Int)
    );
}

#[test]
fn where_has_is_whole_term_and_case_insensitive() {
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes has "Phish""#),
        ["m0", "m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes has "phish""#),
        ["m0", "m5"]
    );
    assert!(ids(r#"EmailEvents | where ThreatTypes has "Phi""#).is_empty());
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes !has "Phish""#),
        ["m1", "m2", "m3", "m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes has_cs "phish""#),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(r#"EmailEvents | where SenderFromAddress has "contoso.com""#),
        ["m0", "m3", "m5"]
    );
}

#[test]
fn where_contains_startswith_endswith() {
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes contains "PHI""#),
        ["m0", "m2", "m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes !contains "phi""#),
        ["m1", "m3", "m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject startswith "re:""#),
        ["m1"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject !startswith "re:" and Subject endswith "LETTER""#),
        ["m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject contains "straSSe""#),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject contains "STRAßE""#),
        ["m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject !endswith "E" | where Subject != """#),
        ["m1", "m2", "m4"]
    );
}

#[test]
fn where_drops_null_comparisons() {
    // m3's BulkComplaintLevel is null: neither side of the comparison keeps it.
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel >= 4"),
        ["m1", "m2", "m4"]
    );
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel < 4"),
        ["m0", "m5"]
    );
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel != 4"),
        ["m0", "m1", "m4", "m5"]
    );
    assert_eq!(
        ids("EmailEvents | where isnull(BulkComplaintLevel)"),
        ["m3"]
    );
}

#[test]
fn project_renames_and_computes() {
    let r = q(
        "EmailEvents | take 2 | project Id = NetworkMessageId, Subject, Double = AttachmentCount * 2, strlen(Subject)",
    );
    let names: Vec<&str> = r.columns.iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["Id", "Subject", "Double", "Column1"]);
    assert_eq!(r.columns[2].ty, ColumnType::Long);
    assert_eq!(
        r.rows[0],
        vec![
            Value::str("m0"),
            Value::str("Invoice due"),
            Value::Long(2),
            Value::Long(11)
        ]
    );
}

#[test]
fn project_rejects_duplicate_names() {
    assert!(matches!(
        err("EmailEvents | project Subject, Subject"),
        KqlError::InvalidArgument { .. }
    ));
}

#[test]
fn project_away_names_and_wildcards() {
    let r = q("EmailEvents | project-away Subject, Sender*, *Count, Auth*, Latency");
    let names: Vec<&str> = r.columns.iter().map(|c| &*c.name).collect();
    assert_eq!(
        names,
        [
            "Timestamp",
            "NetworkMessageId",
            "ThreatTypes",
            "DeliveryLocation",
            "BulkComplaintLevel",
            "Confidence",
            "IsExternal"
        ]
    );
    match err("EmailEvents | project-away Subjekt") {
        KqlError::UnknownColumn {
            name, suggestion, ..
        } => {
            assert_eq!(name, "Subjekt");
            assert_eq!(suggestion.as_deref(), Some("Subject"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn extend_appends_replaces_and_chains() {
    let r = q(
        "EmailEvents | take 1 | extend A = AttachmentCount + 1, B = A * 10 | extend A = -1 | project A, B",
    );
    assert_eq!(r.rows, vec![vec![Value::Long(-1), Value::Long(20)]]);
    let r = q("EmailEvents | take 1 | extend strcat(Subject, \"!\") | project Column1");
    assert_eq!(r.rows[0][0], Value::str("Invoice due!"));
}

#[test]
fn extend_then_where_uses_computed_column() {
    assert_eq!(
        ids("EmailEvents | extend Heavy = AttachmentCount >= 2 | where Heavy"),
        ["m2", "m4"]
    );
}

#[test]
fn sort_defaults_to_descending_with_nulls_last() {
    assert_eq!(
        ids("EmailEvents | sort by BulkComplaintLevel"),
        ["m4", "m1", "m2", "m5", "m0", "m3"]
    );
    assert_eq!(
        ids("EmailEvents | order by BulkComplaintLevel asc"),
        ["m3", "m0", "m5", "m2", "m1", "m4"]
    );
    assert_eq!(
        ids("EmailEvents | order by BulkComplaintLevel asc nulls last"),
        ["m0", "m5", "m2", "m1", "m4", "m3"]
    );
}

#[test]
fn sort_by_multiple_keys_is_stable() {
    assert_eq!(
        ids("EmailEvents | sort by DeliveryLocation asc, AttachmentCount desc"),
        ["m0", "m5", "m3", "m1", "m4", "m2"]
    );
    // Equal keys keep input order.
    assert_eq!(
        ids("EmailEvents | sort by IsExternal"),
        ["m0", "m1", "m2", "m4", "m3", "m5"]
    );
}

#[test]
fn take_and_limit() {
    assert_eq!(ids("EmailEvents | take 2"), ["m0", "m1"]);
    assert_eq!(ids("EmailEvents | limit 0"), Vec::<String>::new());
    assert_eq!(ids("EmailEvents | take 9223372036854775807").len(), 6);
    assert_eq!(ids("EmailEvents | sort by Timestamp desc | take 1"), ["m5"]);
}

#[test]
fn top_by_expression() {
    assert_eq!(ids("EmailEvents | top 2 by AttachmentCount"), ["m4", "m2"]);
    assert_eq!(
        ids("EmailEvents | top 3 by Confidence asc"),
        ["m3", "m5", "m1"]
    );
    assert_eq!(ids("EmailEvents | top 100 by strlen(Subject) asc").len(), 6);
    assert!(ids("EmailEvents | top 0 by Subject").is_empty());
}

#[test]
fn summarize_count_by_column() {
    let r = q("EmailEvents | summarize count() by DeliveryLocation");
    assert_eq!(
        r.columns,
        vec![
            Column::new("DeliveryLocation", ColumnType::String),
            Column::new("count_", ColumnType::Long)
        ]
    );
    assert_eq!(
        r.rows,
        vec![
            vec![Value::str("Inbox"), Value::Long(3)],
            vec![Value::str("JunkFolder"), Value::Long(1)],
            vec![Value::str("Quarantine"), Value::Long(2)],
        ]
    );
}

#[test]
fn summarize_default_aggregate_names_and_types() {
    let r = q(
        "EmailEvents | summarize count(), dcount(SenderFromAddress), min(BulkComplaintLevel), max(Timestamp), \
               sum(AttachmentCount), countif(IsExternal), make_set(DeliveryLocation), avg(Confidence), sum(Confidence), sum(Latency)",
    );
    let names: Vec<(&str, ColumnType)> = r.columns.iter().map(|c| (&*c.name, c.ty)).collect();
    use ColumnType::*;
    assert_eq!(
        names,
        [
            ("count_", Long),
            ("dcount_SenderFromAddress", Long),
            ("min_BulkComplaintLevel", Int),
            ("max_Timestamp", DateTime),
            ("sum_AttachmentCount", Long),
            ("countif_", Long),
            ("set_DeliveryLocation", Dynamic),
            ("avg_Confidence", Real),
            ("sum_Confidence", Real),
            ("sum_Latency", TimeSpan),
        ]
    );
    assert_eq!(
        r.rows[0],
        vec![
            Value::Long(6),
            Value::Long(5),
            Value::Int(0),
            Value::DateTime(T0 + 2 * DAY),
            Value::Long(7),
            Value::Long(4),
            dynamic(r#"["Inbox","JunkFolder","Quarantine"]"#),
            Value::Real(2.625 / 6.0),
            Value::Real(2.625),
            Value::TimeSpan(7 * TICKS_PER_SECOND),
        ]
    );
}

#[test]
fn summarize_named_aggregates_and_multiple_keys() {
    let r = q(
        "EmailEvents | summarize Total = count(), Senders = make_set(SenderFromAddress) by DeliveryLocation, IsExternal | where Total > 1",
    );
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.to_string())
            .collect::<Vec<_>>(),
        ["DeliveryLocation", "IsExternal", "Total", "Senders"]
    );
    assert_eq!(
        r.rows,
        vec![
            vec![
                Value::str("Quarantine"),
                Value::Bool(true),
                Value::Long(2),
                dynamic(r#"["x@evil.example","news@fabrikam.com"]"#)
            ],
            vec![
                Value::str("Inbox"),
                Value::Bool(false),
                Value::Long(2),
                dynamic(r#"["ceo@contoso.com","hr@contoso.com"]"#)
            ],
        ]
    );
}

#[test]
fn summarize_duplicate_default_names_get_suffixes() {
    let r = q("EmailEvents | summarize count(), count()");
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.to_string())
            .collect::<Vec<_>>(),
        ["count_", "count_1"]
    );
    assert!(matches!(
        err("EmailEvents | summarize A = count(), A = max(Subject)"),
        KqlError::InvalidArgument { .. }
    ));
}

#[test]
fn summarize_by_bin_of_timestamp() {
    let r = q("EmailEvents | summarize n = count() by bin(Timestamp, 1d) | sort by Timestamp asc");
    assert_eq!(r.columns[0], Column::new("Timestamp", ColumnType::DateTime));
    assert_eq!(
        r.rows,
        vec![
            vec![Value::DateTime(T0), Value::Long(3)],
            vec![Value::DateTime(T0 + DAY), Value::Long(2)],
            vec![Value::DateTime(T0 + 2 * DAY), Value::Long(1)],
        ]
    );
    let r = q(
        "EmailEvents | where Timestamp < datetime(2026-11-02) | summarize count() by bin(Timestamp, 1h)",
    );
    assert_eq!(
        col(&r, "Timestamp"),
        vec![
            Value::DateTime(T0 + HOUR),
            Value::DateTime(T0 + 2 * HOUR),
            Value::DateTime(T0 + 3 * HOUR)
        ]
    );
}

#[test]
fn summarize_by_numeric_bin_and_expression_key() {
    let r = q(
        "EmailEvents | summarize count() by bin(BulkComplaintLevel, 5) | sort by BulkComplaintLevel asc",
    );
    assert_eq!(r.columns[0].ty, ColumnType::Long);
    assert_eq!(
        col(&r, "BulkComplaintLevel"),
        vec![Value::Null, Value::Long(0), Value::Long(5)]
    );
    assert_eq!(
        col(&r, "count_"),
        vec![Value::Long(1), Value::Long(3), Value::Long(2)]
    );
    let r = q("EmailEvents | summarize by Long = strlen(Subject) > 10");
    assert_eq!(r.rows.len(), 2);
}

#[test]
fn summarize_without_by_over_no_rows_yields_one_row() {
    let r = q("EmailEvents | where false | summarize count(), max(Subject)");
    assert_eq!(r.rows, vec![vec![Value::Long(0), Value::Null]]);
    let r = q("EmailEvents | where false | summarize count() by Subject");
    assert!(r.rows.is_empty());
}

#[test]
fn count_operator() {
    let r = q(r#"EmailEvents | where DeliveryLocation == "Inbox" | count"#);
    assert_eq!(r.columns, vec![Column::new("Count", ColumnType::Long)]);
    assert_eq!(r.rows, vec![vec![Value::Long(3)]]);
}

#[test]
fn distinct_columns_and_star() {
    let r = q("EmailEvents | distinct DeliveryLocation, IsExternal");
    assert_eq!(r.rows.len(), 4);
    let r = q("EmailEvents | project SenderFromAddress | distinct *");
    assert_eq!(col(&r, "SenderFromAddress").len(), 5);
}

#[test]
fn operators_chain_after_summarize() {
    let r = q(
        "EmailEvents | summarize c = count() by DeliveryLocation | where c >= 2 | extend Twice = c * 2 | sort by c desc | project DeliveryLocation, Twice",
    );
    assert_eq!(
        r.rows,
        vec![
            vec![Value::str("Inbox"), Value::Long(6)],
            vec![Value::str("Quarantine"), Value::Long(4)]
        ]
    );
}

#[test]
fn time_window_option_hides_rows() {
    let mut o = opts();
    o.start = Some(T0 + DAY);
    o.end = Some(T0 + 2 * DAY);
    for table in ["EmailEvents", "UnsortedEmailEvents"] {
        let r = run(&format!("{table} | summarize count()"), &catalog(), &o).unwrap();
        assert_eq!(r.rows[0][0], Value::Long(2), "{table}");
    }
}

#[test]
fn time_pushdown_matches_scan_on_unsorted_table() {
    let preds = [
        "Timestamp >= datetime(2026-11-01T02:00:00Z) and Timestamp < datetime(2026-11-02T05:00:00Z)",
        "Timestamp > datetime(2026-11-01T02:00:00Z) and Timestamp <= datetime(2026-11-02T05:00:00Z)",
        "Timestamp between (datetime(2026-11-01T02:00:00Z) .. datetime(2026-11-02T05:00:00Z))",
        "Timestamp between (datetime(2026-11-01T02:00:00Z) .. 1d)",
        "datetime(2026-11-02) <= Timestamp",
        "Timestamp == datetime(2026-11-03)",
        "Timestamp > ago(1d) or Subject has \"invoice\"",
        "Timestamp >= ago(2d) and ThreatTypes has \"phish\"",
        "Timestamp !between (datetime(2026-11-01T02:00:00Z) .. datetime(2026-11-02T05:00:00Z))",
    ];
    for p in preds {
        let mut a = ids(&format!("EmailEvents | where {p}"));
        let mut b = ids(&format!("UnsortedEmailEvents | where {p}"));
        a.sort();
        b.sort();
        assert_eq!(a, b, "{p}");
    }
    assert_eq!(
        ids(
            "EmailEvents | where Timestamp >= datetime(2026-11-01T02:00:00Z) | where Timestamp < datetime(2026-11-02T05:00:00Z)"
        ),
        ["m1", "m2", "m3"]
    );
}

#[test]
fn row_cap_is_an_error_not_a_truncation() {
    let mut o = opts();
    o.max_rows = 5;
    let e = run("EmailEvents", &catalog(), &o).unwrap_err();
    assert_eq!(e, KqlError::TooManyRows { limit: 5 });
    let msg = e.to_string();
    assert!(
        msg.contains("row limit") && msg.contains("summarize") && msg.contains("time range"),
        "{msg}"
    );
    assert_eq!(
        run("EmailEvents | take 5", &catalog(), &o)
            .unwrap()
            .rows
            .len(),
        5
    );
    assert_eq!(
        run("EmailEvents | summarize count() by Subject", &catalog(), &o).map(|r| r.rows.len()),
        Err(KqlError::TooManyRows { limit: 5 })
    );
    assert_eq!(
        run(
            "EmailEvents | summarize count() by DeliveryLocation",
            &catalog(),
            &o
        )
        .unwrap()
        .rows
        .len(),
        3
    );
}

#[test]
fn comments_and_whitespace_are_ignored() {
    assert_eq!(
        ids("EmailEvents // all mail\n| where AttachmentCount > 2 // big ones\n"),
        ["m4"]
    );
    assert_eq!(ids("EmailEvents | take 1;"), ["m0"]);
}

#[test]
fn top_matches_sort_then_take_on_larger_input() {
    // Enough rows to exercise top's bounded-buffer path, with duplicate and null keys.
    let rows: Vec<Vec<Value>> = (0..5000i64)
        .map(|i| {
            let v = if i % 17 == 0 {
                Value::Null
            } else {
                Value::Long((i * 7919) % 613)
            };
            vec![Value::DateTime(T0 + i), Value::Long(i), v]
        })
        .collect();
    let table = VecTable {
        name: "Big".into(),
        columns: vec![
            Column::new("Timestamp", ColumnType::DateTime),
            Column::new("Id", ColumnType::Long),
            Column::new("V", ColumnType::Long),
        ],
        rows,
        sorted: Some(0),
    };
    let cat = TestCatalog {
        tables: vec![Box::new(table)],
    };
    let o = QueryOptions {
        max_rows: 10_000,
        ..opts()
    };
    for (n, dir) in [
        (1, "desc"),
        (3, "asc"),
        (700, "desc"),
        (1500, "asc"),
        (4999, "desc"),
        (6000, "asc"),
    ] {
        let top = run(&format!("Big | top {n} by V {dir} | project Id"), &cat, &o).unwrap();
        let sorted = run(
            &format!("Big | sort by V {dir} | take {n} | project Id"),
            &cat,
            &o,
        )
        .unwrap();
        assert_eq!(top.rows.len(), n.min(5000));
        assert_eq!(top, sorted, "top {n} by V {dir}");
    }
    let r = run("Big | where Timestamp >= datetime(2026-11-01) + 100tick and Timestamp < datetime(2026-11-01) + 110tick", &cat, &o).unwrap();
    assert_eq!(r.rows.len(), 10);
}
