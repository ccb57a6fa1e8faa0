//! `in` with a tabular subquery: semi-joins as the query compiler emits them.

use super::*;

#[test]
fn in_subquery_keeps_rows_whose_key_the_subquery_returns() {
    assert_eq!(
        ids(
            r#"EmailEvents | where NetworkMessageId in ((UnsortedEmailEvents | where ThreatTypes has "Phish" | project NetworkMessageId))"#
        ),
        ["m0", "m5"]
    );
    // The single-parenthesis form is the same query.
    assert_eq!(
        ids(
            r#"EmailEvents | where NetworkMessageId in (UnsortedEmailEvents | where ThreatTypes has "Phish" | project NetworkMessageId)"#
        ),
        ["m0", "m5"]
    );
}

#[test]
fn negated_and_case_insensitive_forms() {
    assert_eq!(
        ids(
            r#"EmailEvents | where NetworkMessageId !in ((UnsortedEmailEvents | where ThreatTypes has "Phish" | project NetworkMessageId))"#
        ),
        ["m1", "m2", "m3", "m4"]
    );
    assert_eq!(
        ids(
            r#"EmailEvents | where not(NetworkMessageId in ((UnsortedEmailEvents | where ThreatTypes has "Phish" | project NetworkMessageId)))"#
        ),
        ["m1", "m2", "m3", "m4"]
    );
    // Case matters for `in`, not for `in~`.
    let upper = r#"(UnsortedEmailEvents | where Subject has "invoice" | project K = toupper(NetworkMessageId))"#;
    assert!(
        ids(&format!(
            "EmailEvents | where NetworkMessageId in ({upper})"
        ))
        .is_empty()
    );
    assert_eq!(
        ids(&format!(
            "EmailEvents | where NetworkMessageId in~ ({upper})"
        )),
        ["m0"]
    );
    assert_eq!(
        ids(&format!(
            "EmailEvents | where NetworkMessageId !in~ ({upper})"
        )),
        ["m1", "m2", "m3", "m4", "m5"]
    );
}

#[test]
fn composite_keys_match_two_columns() {
    let q = r#"EmailEvents | where strcat(NetworkMessageId, "|", tolower(SenderFromAddress)) in ((UnsortedEmailEvents | where DeliveryLocation == "Inbox" | project Key = strcat(NetworkMessageId, "|", tolower(SenderFromAddress))))"#;
    assert_eq!(ids(q), ["m0", "m3", "m5"]);
}

#[test]
fn subqueries_compose_with_or_and_nest() {
    assert_eq!(
        ids(
            r#"EmailEvents | where Subject has "newsletter" or NetworkMessageId in ((UnsortedEmailEvents | where BulkComplaintLevel == 7 | project NetworkMessageId))"#
        ),
        ["m1", "m4"]
    );
    assert_eq!(
        ids(
            r#"EmailEvents | where NetworkMessageId in ((UnsortedEmailEvents | where NetworkMessageId in ((EmailEvents | where ThreatTypes has "Spam" | project NetworkMessageId)) | project NetworkMessageId))"#
        ),
        ["m0", "m1"]
    );
}

#[test]
fn numbers_match_across_widths_and_nulls_match_nothing() {
    // BulkComplaintLevel is int; the subquery yields longs.
    assert_eq!(
        ids(
            "EmailEvents | where BulkComplaintLevel in ((UnsortedEmailEvents | where AttachmentCount >= 2 | project tolong(BulkComplaintLevel)))"
        ),
        ["m2", "m4"]
    );
    // m3's null level is in no set, and not in its complement either.
    assert_eq!(
        ids(
            "EmailEvents | where BulkComplaintLevel !in ((UnsortedEmailEvents | where AttachmentCount >= 2 | project BulkComplaintLevel))"
        ),
        ["m0", "m1", "m5"]
    );
}

#[test]
fn subqueries_see_the_request_time_window() {
    let o = QueryOptions {
        start: Some(T0 + DAY),
        ..opts()
    };
    let r = run(
        "UnsortedEmailEvents | where NetworkMessageId in ((EmailEvents | project NetworkMessageId)) | count",
        &catalog(),
        &o,
    )
    .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Long(3)]]);
}

#[test]
fn bad_subqueries_are_errors_naming_the_problem() {
    let e = err(
        "EmailEvents | where NetworkMessageId in ((UnsortedEmailEvents | project NetworkMessageId, Subject))",
    );
    assert!(e.to_string().contains("exactly one column"), "{e}");
    let e =
        err("EmailEvents | where NetworkMessageId in ((NoSuchTable | project NetworkMessageId))");
    assert!(matches!(e, KqlError::UnknownTable { .. }), "{e}");
    let e = err(
        "EmailEvents | where NetworkMessageId in ((UnsortedEmailEvents | project NoSuchColumn))",
    );
    assert!(matches!(e, KqlError::UnknownColumn { .. }), "{e}");
    let e = err("EmailEvents | where Timestamp in ((UnsortedEmailEvents | project Subject))");
    assert!(matches!(e, KqlError::Type { .. }), "{e}");
    let e = err(
        "EmailEvents | where NetworkMessageId in ((UnsortedEmailEvents | project NetworkMessageId)",
    );
    assert!(matches!(e, KqlError::Syntax { .. }), "{e}");
    // Scalar lists still work, including parenthesised scalars.
    assert_eq!(
        ids(r#"EmailEvents | where NetworkMessageId in (("m1"), "m2")"#),
        ["m1", "m2"]
    );
}
