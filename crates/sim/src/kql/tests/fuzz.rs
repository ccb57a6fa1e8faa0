//! Property tests: no input, however malformed, may panic the engine or run long.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

/// Tokens that are each valid somewhere in KQL, so random sequences reach deep into
/// the parser and evaluator instead of dying in the lexer.
const TOKENS: &[&str] = &[
    "EmailEvents",
    "UnsortedEmailEvents",
    "|",
    "|",
    "|",
    "where",
    "project",
    "project-away",
    "extend",
    "summarize",
    "by",
    "count",
    "count()",
    "dcount",
    "make_set",
    "countif",
    "sort",
    "order",
    "top",
    "take",
    "limit",
    "distinct",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "and",
    "or",
    "not",
    "has",
    "!has",
    "contains",
    "!contains",
    "startswith",
    "endswith",
    "has_any",
    "in",
    "!in",
    "in~",
    "between",
    "!between",
    "==",
    "!=",
    "=~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "(",
    ")",
    "(",
    ")",
    "[",
    "]",
    ",",
    ",",
    ".",
    "..",
    "{",
    "}",
    ":",
    ";",
    "Timestamp",
    "Subject",
    "ThreatTypes",
    "DeliveryLocation",
    "BulkComplaintLevel",
    "AttachmentCount",
    "Confidence",
    "IsExternal",
    "AuthDetails",
    "Latency",
    "Nope",
    "x",
    "0",
    "1",
    "-1",
    "5",
    "9223372036854775807",
    "1.5",
    "1e308",
    "0.0",
    "1d",
    "1h",
    "30m",
    "100ms",
    "-1d",
    "\"Phish\"",
    "'a'",
    "\"\"",
    "@\"x\"",
    "true",
    "false",
    "datetime(2026-11-01)",
    "datetime(2026-11-01T08:00:00Z)",
    "dynamic([1,2])",
    "dynamic({\"a\":1})",
    "ago",
    "now",
    "bin",
    "iff",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "strcat",
    "strlen",
    "tolower",
    "parse_json",
    "array_length",
    "isempty",
    "isnull",
    "substring",
    "coalesce",
    "abs",
    "floor",
    "avg",
    "sum",
    "min",
    "max",
    "join",
    "let",
    "//c\n",
];

fn check(query: &str) {
    let start = Instant::now();
    let _ = run(query, &catalog(), &opts());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "slow query: {query}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,200}") {
        check(&s);
    }

    #[test]
    fn arbitrary_query_suffixes_never_panic(s in "[ -~]{0,120}") {
        check(&format!("EmailEvents | {s}"));
    }

    #[test]
    fn token_soups_never_panic(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..40), glue in any::<bool>()) {
        let sep = if glue { "" } else { " " };
        check(&toks.join(sep));
        check(&format!("EmailEvents | {}", toks.join(sep)));
        check(&format!("EmailEvents | where {}", toks.join(sep)));
        check(&format!("EmailEvents | extend x = {}", toks.join(sep)));
        check(&format!("EmailEvents | summarize {}", toks.join(sep)));
    }
}
