//! Error reporting: positions, named unsupported constructs, suggestions.

use super::*;

fn syntax_pos(query: &str) -> usize {
    match err(query) {
        KqlError::Syntax { pos, .. } => pos,
        other => panic!("expected a syntax error for {query}, got {other:?}"),
    }
}

#[test]
fn syntax_errors_carry_positions() {
    assert_eq!(syntax_pos("EmailEvents | where"), 19);
    assert_eq!(syntax_pos("EmailEvents | where (1 + 2"), 26);
    assert_eq!(syntax_pos("EmailEvents | where Subject == \"open"), 31);
    assert_eq!(syntax_pos("EmailEvents | take 1 2"), 21);
    assert_eq!(syntax_pos("EmailEvents | where x == 1q"), 25);
    assert_eq!(syntax_pos("EmailEvents | where x == 'a\\qb'"), 27);
    assert_eq!(syntax_pos("EmailEvents | where Subject # 1"), 28);
    assert_eq!(syntax_pos(""), 0);
    // Positions count characters, not bytes.
    assert_eq!(syntax_pos("EmailEvents | where Subject == 'é' and"), 38);
}

#[test]
fn syntax_error_messages_name_the_problem() {
    let m = err("EmailEvents | frobnicate").to_string();
    assert!(
        m.contains("unknown query operator `frobnicate`") && m.contains("summarize"),
        "{m}"
    );
    let m = err("EmailEvents | where Subject == ").to_string();
    assert!(
        m.contains("expected an expression but found the end of the query"),
        "{m}"
    );
    let m = err("EmailEvents | sort Timestamp").to_string();
    assert!(m.contains("expected `by`"), "{m}");
    let m = err("EmailEvents | where Timestamp > datetime(yesterday)").to_string();
    assert!(m.contains("invalid datetime literal `yesterday`"), "{m}");
}

#[test]
fn unsupported_operators_are_named() {
    let e = err("EmailEvents | join (EmailEvents) on NetworkMessageId");
    assert_eq!(
        e,
        KqlError::Unsupported {
            pos: 14,
            what: "the `join` operator is not supported by this simulator".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "Unsupported at position 14: the `join` operator is not supported by this simulator"
    );
    assert!(
        err("EmailEvents | mv-expand AuthDetails")
            .to_string()
            .contains("`mv-expand` operator")
    );
    assert!(
        err("EmailEvents | project-rename A = Subject")
            .to_string()
            .contains("`project-rename` operator")
    );
    assert!(
        err("union EmailEvents")
            .to_string()
            .contains("`union` operator")
    );
    assert!(
        err("let x = 1; EmailEvents")
            .to_string()
            .contains("`let` statements")
    );
    assert!(
        err("EmailEvents | where Subject matches regex 'a'")
            .to_string()
            .contains("`matches regex`")
    );
    assert!(
        err("EmailEvents | take 1; EmailEvents")
            .to_string()
            .contains("multiple statements")
    );
}

#[test]
fn unsupported_functions_are_named() {
    let e = err("EmailEvents | extend x = extract_all('a', Subject)");
    assert_eq!(
        e,
        KqlError::Unsupported {
            pos: 25,
            what: "function `extract_all` is not supported by this simulator".into()
        }
    );
    let m = err("EmailEvents | summarize arg_max(Timestamp, Subject)").to_string();
    assert!(m.contains("aggregate function `arg_max`"), "{m}");
    let m = err("EmailEvents | summarize tolower(Subject)").to_string();
    assert!(
        m.contains("expects an aggregate function") && m.contains("`tolower`"),
        "{m}"
    );
    let m = err("EmailEvents | where count() > 1").to_string();
    assert!(m.contains("only be used in `summarize`"), "{m}");
}

#[test]
fn unknown_table_and_column_suggest_fixes() {
    let e = err("EmailEvent | take 1");
    assert_eq!(
        e,
        KqlError::UnknownTable {
            pos: 0,
            name: "EmailEvent".into(),
            suggestion: Some("EmailEvents".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "Unknown table `EmailEvent`. Did you mean `EmailEvents`?"
    );
    // Table names are case-sensitive, but the hint finds the right case.
    assert!(
        matches!(err("emailevents"), KqlError::UnknownTable { suggestion: Some(s), .. } if s == "EmailEvents")
    );
    let e = err("EmailEvents | where Subjct has 'x'");
    assert_eq!(
        e,
        KqlError::UnknownColumn {
            pos: 20,
            name: "Subjct".into(),
            suggestion: Some("Subject".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "Failed to resolve column `Subjct` at position 20. Did you mean `Subject`?"
    );
    assert!(matches!(
        err("EmailEvents | project Zzzzzzzz"),
        KqlError::UnknownColumn {
            suggestion: None,
            ..
        }
    ));
    // Columns projected away are gone.
    assert!(matches!(
        err("EmailEvents | project Subject | where ThreatTypes has 'x'"),
        KqlError::UnknownColumn { .. }
    ));
    assert!(matches!(
        err("EmailEvents | summarize count() by DeliveryLocation | project Subject"),
        KqlError::UnknownColumn { .. }
    ));
}

#[test]
fn type_errors_are_static_and_positioned() {
    let e = err("EmailEvents | where Subject > 5");
    assert!(
        matches!(&e, KqlError::Type { pos: 28, message } if message.contains("string and long")),
        "{e:?}"
    );
    assert!(matches!(
        err("EmailEvents | where Subject"),
        KqlError::Type { pos: 20, .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = Subject + 1"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = Timestamp + Timestamp"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | where Subject.Name == 'x'"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | where AttachmentCount =~ 1"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = iff(IsExternal, 1, 'a')"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = bin(Timestamp, 5)"),
        KqlError::Type { pos: 40, .. }
    ));
    assert!(matches!(
        err("EmailEvents | summarize sum(Subject)"),
        KqlError::Type { .. }
    ));
    assert!(matches!(
        err("EmailEvents | where ago(1)"),
        KqlError::Type { .. }
    ));
}

#[test]
fn invalid_arguments() {
    assert!(matches!(
        err("EmailEvents | take -1"),
        KqlError::InvalidArgument { pos: 19, .. }
    ));
    assert!(matches!(
        err("EmailEvents | take Subject"),
        KqlError::InvalidArgument { .. }
    ));
    assert!(matches!(
        err("EmailEvents | take 1.5"),
        KqlError::InvalidArgument { .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = strlen()"),
        KqlError::InvalidArgument { .. }
    ));
    assert!(matches!(
        err("EmailEvents | extend x = iff(true, 1)"),
        KqlError::InvalidArgument { .. }
    ));
}

#[test]
fn literal_range_errors() {
    assert!(matches!(
        err("EmailEvents | take 99999999999999999999"),
        KqlError::Syntax { .. }
    ));
    assert!(matches!(
        err("EmailEvents | where Latency > 99999999999999999d"),
        KqlError::Syntax { .. }
    ));
    assert!(matches!(
        err("EmailEvents | where Timestamp > datetime(99999-01-01)"),
        KqlError::Syntax { .. }
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "EmailEvents | where {}1{} == 1",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(err(&deep).to_string().contains("nested too deeply"));
    let long_chain = format!("EmailEvents | extend x = 1{}", " + 1".repeat(5000));
    assert!(err(&long_chain).to_string().contains("nested too deeply"));
    let negs = format!("EmailEvents | extend x = {}1", "- ".repeat(5000));
    assert!(err(&negs).to_string().contains("nested too deeply"));
    let calls = format!(
        "EmailEvents | extend x = {}1{}",
        "abs(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(err(&calls).to_string().contains("nested too deeply"));
    let json = format!(
        "EmailEvents | extend x = dynamic({}1{})",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(err(&json).to_string().contains("nested too deeply"));
    // Within the limit, nesting works.
    let ok = format!(
        "EmailEvents | take 1 | project x = {}1{}",
        "(".repeat(150),
        ")".repeat(150)
    );
    assert_eq!(q(&ok).rows[0][0], Value::Long(1));
}

#[test]
fn exponential_computed_columns_are_rejected() {
    let mut query = String::from("EmailEvents | extend c0 = AttachmentCount");
    for i in 1..40 {
        query.push_str(&format!(" | extend c{i} = c{p} + c{p}", p = i - 1));
    }
    assert!(err(&query).to_string().contains("too complex"));
    // A long linear chain is fine.
    let mut query = String::from("EmailEvents | take 1 | extend c0 = AttachmentCount");
    for i in 1..100 {
        query.push_str(&format!(" | extend c{i} = c{p} + 1", p = i - 1));
    }
    assert_eq!(col(&q(&query), "c99"), vec![Value::Long(100)]);
}
