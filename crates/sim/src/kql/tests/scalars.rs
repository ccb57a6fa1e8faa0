//! Scalar literals, operators and functions.

use super::*;

#[test]
fn string_literals_and_escapes() {
    assert_eq!(scalar(r#""a\"b\\c\n\t\u00e9""#), Value::str("a\"b\\c\n\té"));
    assert_eq!(scalar(r#"'it\'s'"#), Value::str("it's"));
    assert_eq!(scalar(r#"@"C:\temp\""x""""#), Value::str("C:\\temp\\\"x\""));
    assert_eq!(
        ids(r#"EmailEvents | where Subject == "Re: \"quoted\" \\ path""#),
        ["m1"]
    );
    assert_eq!(scalar(r#""con" 'cat'"#), Value::str("concat"));
}

#[test]
fn numeric_literals_and_arithmetic() {
    assert_eq!(scalar("1 + 2 * 3 - 4 / 2"), Value::Long(5));
    assert_eq!(scalar("(1 + 2) * 3 % 4"), Value::Long(1));
    assert_eq!(scalar("7 / 2.0"), Value::Real(3.5));
    assert_eq!(scalar("1.5e2"), Value::Real(150.0));
    // Integer literals are long, as in Kusto; int op int stays int.
    assert_eq!(scalar("-BulkComplaintLevel - 1"), Value::Long(-1));
    assert_eq!(
        scalar("BulkComplaintLevel + BulkComplaintLevel"),
        Value::Int(0)
    );
    assert_eq!(scalar("AttachmentCount + Confidence"), Value::Real(1.5));
}

#[test]
fn integer_overflow_and_division_by_zero_are_null() {
    assert_eq!(scalar("9223372036854775807 + 1"), Value::Null);
    assert_eq!(scalar("-9223372036854775807 - 2"), Value::Null);
    assert_eq!(scalar("AttachmentCount / 0"), Value::Null);
    assert_eq!(scalar("AttachmentCount % 0"), Value::Null);
    assert_eq!(scalar("1 / 0.0"), Value::Real(f64::INFINITY));
    assert_eq!(scalar("1d * 9223372036854775807"), Value::Null);
}

#[test]
fn timespan_literals() {
    assert_eq!(scalar("1d"), Value::TimeSpan(DAY));
    assert_eq!(scalar("12h"), Value::TimeSpan(12 * HOUR));
    assert_eq!(scalar("30m"), Value::TimeSpan(30 * 60 * TICKS_PER_SECOND));
    assert_eq!(scalar("10s"), Value::TimeSpan(10 * TICKS_PER_SECOND));
    assert_eq!(scalar("100ms"), Value::TimeSpan(TICKS_PER_SECOND / 10));
    assert_eq!(scalar("1.5h"), Value::TimeSpan(90 * 60 * TICKS_PER_SECOND));
    assert_eq!(scalar("timespan(2d)"), Value::TimeSpan(2 * DAY));
    assert_eq!(scalar("-1d"), Value::TimeSpan(-DAY));
}

#[test]
fn datetime_literals_and_arithmetic() {
    assert_eq!(scalar("datetime(2026-11-01)"), Value::DateTime(T0));
    assert_eq!(
        scalar("datetime(2026-11-01T08:00:00Z)"),
        Value::DateTime(T0 + 8 * HOUR)
    );
    assert_eq!(
        scalar("datetime(\"2026-11-01 08:00\")"),
        Value::DateTime(T0 + 8 * HOUR)
    );
    assert_eq!(
        scalar("datetime(2026-11-01T00:00:00.5Z)"),
        Value::DateTime(T0 + TICKS_PER_SECOND / 2)
    );
    assert_eq!(
        scalar("datetime(2026-11-01T02:00:00+02:00)"),
        Value::DateTime(T0)
    );
    assert_eq!(
        scalar("datetime(2026-11-02) - datetime(2026-11-01)"),
        Value::TimeSpan(DAY)
    );
    assert_eq!(
        scalar("datetime(2026-11-01) + 1h"),
        Value::DateTime(T0 + HOUR)
    );
    assert_eq!(
        scalar("1h + datetime(2026-11-01)"),
        Value::DateTime(T0 + HOUR)
    );
    assert_eq!(scalar("Timestamp - 1h"), Value::DateTime(T0));
    assert_eq!(scalar("1d / 1h"), Value::Real(24.0));
    assert_eq!(scalar("1d / 2"), Value::TimeSpan(DAY / 2));
    assert_eq!(scalar("2 * 1h"), Value::TimeSpan(2 * HOUR));
}

#[test]
fn now_and_ago_use_the_query_clock() {
    assert_eq!(scalar("now()"), Value::DateTime(T0 + 3 * DAY));
    assert_eq!(scalar("ago(1d)"), Value::DateTime(T0 + 2 * DAY));
    assert_eq!(scalar("now(-1h)"), Value::DateTime(T0 + 3 * DAY - HOUR));
    assert_eq!(
        ids("EmailEvents | where Timestamp > ago(2d)"),
        ["m3", "m4", "m5"]
    );
}

#[test]
fn equality_is_case_sensitive_and_tilde_is_not() {
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation == "inbox""#),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation =~ "inbox""#),
        ["m0", "m3", "m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation !~ "INBOX""#),
        ["m1", "m2", "m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation <> "Inbox""#),
        ["m1", "m2", "m4"]
    );
}

#[test]
fn in_and_in_tilde() {
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation in ("Inbox", "junkfolder")"#),
        ["m0", "m3", "m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation in~ ("Inbox", "junkfolder")"#),
        ["m0", "m1", "m3", "m5"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation !in ("Inbox", "Quarantine")"#),
        ["m1"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation !in~ ("inbox", "quarantine")"#),
        ["m1"]
    );
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel in (0, 9)"),
        ["m0", "m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where DeliveryLocation in (dynamic(["Quarantine"]))"#),
        ["m2", "m4"]
    );
}

#[test]
fn has_any() {
    assert_eq!(
        ids(r#"EmailEvents | where ThreatTypes has_any ("malware", "spam")"#),
        ["m0", "m1", "m4"]
    );
    assert_eq!(
        ids(r#"EmailEvents | where Subject has_any ("Phish")"#),
        Vec::<String>::new()
    );
}

#[test]
fn between_and_not_between() {
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel between (1 .. 7)"),
        ["m1", "m2", "m5"]
    );
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel !between (1 .. 7)"),
        ["m0", "m4"]
    );
    assert_eq!(
        ids("EmailEvents | where Confidence between (0.2..0.6)"),
        ["m0", "m1"]
    );
}

#[test]
fn logical_operators_and_not() {
    assert_eq!(
        ids(
            "EmailEvents | where IsExternal and AttachmentCount > 1 or DeliveryLocation == 'Inbox' and not(IsExternal)"
        ),
        ["m2", "m3", "m4", "m5"]
    );
    assert_eq!(
        ids("EmailEvents | where not(BulkComplaintLevel > 1)"),
        ["m0", "m5"]
    );
    // null or true is true; null and false is false.
    assert_eq!(
        ids("EmailEvents | where BulkComplaintLevel > 100 or IsExternal == false"),
        ["m3", "m5"]
    );
    assert_eq!(
        scalar("toint(tostring(BulkComplaintLevel)) > 0 and false"),
        Value::Bool(false)
    );
}

#[test]
fn emptiness_and_nullness() {
    assert_eq!(ids("EmailEvents | where isempty(Subject)"), ["m3"]);
    assert_eq!(ids("EmailEvents | where isnotempty(ThreatTypes)").len(), 5);
    assert_eq!(scalar(r#"isempty("")"#), Value::Bool(true));
    assert_eq!(scalar(r#"isnull("")"#), Value::Bool(false));
    assert_eq!(
        ids("EmailEvents | where isnotnull(BulkComplaintLevel)").len(),
        5
    );
    assert_eq!(
        ids("EmailEvents | where isempty(BulkComplaintLevel)"),
        ["m3"]
    );
}

#[test]
fn string_functions() {
    assert_eq!(scalar("tolower(Subject)"), Value::str("invoice due"));
    assert_eq!(scalar("toupper(DeliveryLocation)"), Value::str("INBOX"));
    assert_eq!(scalar("strlen('Straße')"), Value::Long(6));
    assert_eq!(
        scalar("strcat(NetworkMessageId, '-', AttachmentCount, '-', Timestamp)"),
        Value::str("m0-1-2026-11-01T01:00:00.0000000Z")
    );
    assert_eq!(scalar("substring('abcdef', 2, 3)"), Value::str("cde"));
    assert_eq!(scalar("substring('abc', 10)"), Value::str(""));
    assert_eq!(scalar("coalesce('', 'x')"), Value::str("x"));
}

#[test]
fn conversions() {
    assert_eq!(scalar("tostring(42)"), Value::str("42"));
    assert_eq!(scalar("tostring(1d)"), Value::str("1.00:00:00"));
    assert_eq!(scalar("toint('17')"), Value::Int(17));
    assert_eq!(scalar("toint('nope')"), Value::Null);
    assert_eq!(scalar("toint(3000000000)"), Value::Null);
    assert_eq!(scalar("tolong('9000000000')"), Value::Long(9_000_000_000));
    assert_eq!(scalar("todouble('2.5')"), Value::Real(2.5));
    assert_eq!(scalar("tolong(2.9)"), Value::Long(2));
    assert_eq!(scalar("todatetime('2026-11-01')"), Value::DateTime(T0));
}

#[test]
fn iff_and_iif() {
    assert_eq!(
        scalar("iff(AttachmentCount > 0, 'some', 'none')"),
        Value::str("some")
    );
    assert_eq!(scalar("iif(AttachmentCount > 5, 1, 2.5)"), Value::Real(2.5));
    assert_eq!(scalar("iif(AttachmentCount < 5, 1, 2.5)"), Value::Real(1.0));
    assert_eq!(
        ids("EmailEvents | where iff(IsExternal, AuthDetails.SPF == 'pass', false)"),
        ["m0", "m2"]
    );
    assert_eq!(
        ids("EmailEvents | extend D = parse_json('true') | where D"),
        ["m0", "m1", "m2", "m3", "m4", "m5"]
    );
    let r = q(
        "EmailEvents | extend Sev = iff(BulkComplaintLevel >= 7, 'high', 'low') | summarize count() by Sev",
    );
    assert_eq!(col(&r, "count_"), vec![Value::Long(4), Value::Long(2)]);
}

#[test]
fn dynamic_access() {
    assert_eq!(scalar("AuthDetails.SPF"), dynamic(r#""pass""#));
    assert_eq!(scalar("AuthDetails['DKIM']"), dynamic(r#""fail""#));
    assert_eq!(scalar("AuthDetails.List[1]"), dynamic("2"));
    assert_eq!(scalar("AuthDetails.List[-1]"), dynamic("3"));
    assert_eq!(scalar("AuthDetails.List[10]"), Value::Null);
    assert_eq!(scalar("AuthDetails.Missing.Deeper"), Value::Null);
    assert_eq!(scalar("array_length(AuthDetails.List)"), Value::Long(3));
    assert_eq!(
        ids("EmailEvents | where AuthDetails.SPF == 'pass'"),
        ["m0", "m2", "m5"]
    );
    assert_eq!(
        ids("EmailEvents | where tostring(AuthDetails.DKIM) == 'pass'"),
        ["m1", "m2"]
    );
    assert_eq!(
        ids("EmailEvents | where array_length(AuthDetails.List) > 0"),
        ["m0", "m2"]
    );
    assert_eq!(
        scalar(r#"parse_json('{"a":{"b":[10,20]}}').a.b[1]"#),
        dynamic("20")
    );
    assert_eq!(scalar(r#"todynamic('[1,2]')[0] + 1"#), Value::Long(2));
    assert_eq!(scalar("parse_json('not json')"), dynamic(r#""not json""#));
    assert_eq!(
        scalar(r#"dynamic({"k": [1, -2.5, "x", null, true]})"#),
        dynamic(r#"{"k":[1,-2.5,"x",null,true]}"#)
    );
}

#[test]
fn bin_function() {
    assert_eq!(scalar("bin(Timestamp, 1d)"), Value::DateTime(T0));
    assert_eq!(
        scalar("bin(datetime(2026-11-01T05:31:00Z), 15m)"),
        Value::DateTime(T0 + 5 * HOUR + 30 * 60 * TICKS_PER_SECOND)
    );
    assert_eq!(scalar("bin(17, 5)"), Value::Long(15));
    assert_eq!(scalar("bin(-1, 5)"), Value::Long(-5));
    assert_eq!(scalar("bin(7.5, 2)"), Value::Real(6.0));
    assert_eq!(scalar("bin(17, 0)"), Value::Null);
    assert_eq!(scalar("floor(90m, 1h)"), Value::TimeSpan(HOUR));
    assert_eq!(scalar("startofday(Timestamp)"), Value::DateTime(T0));
}

#[test]
fn bracketed_column_names() {
    assert_eq!(scalar("['Subject']"), Value::str("Invoice due"));
    let r = q("EmailEvents | take 1 | project ['Odd name'] = 1");
    assert_eq!(&*r.columns[0].name, "Odd name");
}
