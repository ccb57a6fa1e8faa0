//! Tests of the filter language: every field parses and prints, errors point at the
//! offending character with a suggestion, completion offers fields and values, and
//! property tests show `parse(print(f)) == f` and that arbitrary text never panics.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::ast::{CmpOp, Expr, Filter, SpanUnit, Term, TimeFilter, TimePoint};
use super::complete::{NoValues, ValueSource, complete};
use super::fields::{self, Entity, Field, ValueKind};
use super::parser::{self, MAX_DEPTH};
use super::{parse, print};

fn p(s: &str) -> Filter {
    parse(Entity::Emails, s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn term(s: &str) -> Term {
    match p(s).root {
        Some(Expr::Term(t)) => t,
        other => panic!("{s}: not a single term: {other:?}"),
    }
}

fn m(field: Field, values: &[&str]) -> Term {
    Term::Match {
        field,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn canon(s: &str) -> String {
    print(&p(s))
}

#[test]
fn every_email_field_parses_to_its_term() {
    use Field::*;
    let cases: &[(&str, Term)] = &[
        ("from:a@b.com", m(From, &["a@b.com"])),
        ("sender:a@b.com", m(From, &["a@b.com"])),
        ("sender-domain:b.com", m(SenderDomain, &["b.com"])),
        ("display-name:\"IT Desk\"", m(DisplayName, &["IT Desk"])),
        ("mail-from:*@bounce.net", m(MailFrom, &["*@bounce.net"])),
        ("to:x@contoso.com", m(To, &["x@contoso.com"])),
        (
            "recipient-domain:contoso.com",
            m(RecipientDomain, &["contoso.com"]),
        ),
        ("subject:\"wire transfer\"", m(Subject, &["wire transfer"])),
        ("tag:Finance", m(Tag, &["Finance"])),
        ("is:priority", m(Is, &["priority"])),
        ("threat:phish,SPAM", m(Threat, &["Phish", "Spam"])),
        ("threat:none", m(Threat, &[""])),
        (
            "detection:\"URL malicious reputation\"",
            m(Detection, &["URL malicious reputation"]),
        ),
        ("detection:spoof-dmarc", m(Detection, &["Spoof DMARC"])),
        ("delivery:junked", m(Delivery, &["Junked"])),
        ("location:quarantine", m(Location, &["Quarantine"])),
        ("location:inbox", m(Location, &["Inbox/folder"])),
        ("location:junk", m(Location, &["Junk folder"])),
        ("location:deleted", m(Location, &["Deleted items"])),
        ("location:external", m(Location, &["On-premises/external"])),
        ("location:\"Inbox/folder\"", m(Location, &["Inbox/folder"])),
        (
            "original-location:junk",
            m(OriginalLocation, &["Junk folder"]),
        ),
        ("direction:intraorg", m(Direction, &["Intra-org"])),
        ("direction:intra-org", m(Direction, &["Intra-org"])),
        (
            "context:priority",
            m(Context, &["Priority Account Protection"]),
        ),
        (
            "campaign:\"credential phish\"",
            m(Campaign, &["credential phish"]),
        ),
        (
            "cluster:42",
            Term::Number {
                field: Cluster,
                op: CmpOp::Eq,
                values: vec![42],
            },
        ),
        ("url:/owa/", m(Url, &["/owa/"])),
        ("url-domain:*.top", m(UrlDomain, &["*.top"])),
        ("attachment:*.html", m(Attachment, &["*.html"])),
        ("sha256:ABC", m(Sha256, &["ABC"])),
        ("ip:203.0.113.*", m(Ip, &["203.0.113.*"])),
        ("alert:fa1", m(Alert, &["fa1"])),
        ("nmid:5f3c", m(Nmid, &["5f3c"])),
        ("imid:\"<a@b>\"", m(Imid, &["<a@b>"])),
        ("spf:fail", m(Spf, &["fail"])),
        ("dkim:none", m(Dkim, &["none"])),
        ("dmarc:bestguesspass", m(Dmarc, &["bestguesspass"])),
        ("compauth:softpass", m(CompAuth, &["softpass"])),
        (
            "bcl:>=7",
            Term::Number {
                field: Bcl,
                op: CmpOp::Ge,
                values: vec![7],
            },
        ),
        (
            "size:>100000",
            Term::Number {
                field: Size,
                op: CmpOp::Gt,
                values: vec![100_000],
            },
        ),
        (
            "bcl:7,8",
            Term::Number {
                field: Bcl,
                op: CmpOp::Eq,
                values: vec![7, 8],
            },
        ),
        (
            "bcl:=7",
            Term::Number {
                field: Bcl,
                op: CmpOp::Eq,
                values: vec![7],
            },
        ),
        (
            "size:<10",
            Term::Number {
                field: Size,
                op: CmpOp::Lt,
                values: vec![10],
            },
        ),
        (
            "size:<=10",
            Term::Number {
                field: Size,
                op: CmpOp::Le,
                values: vec![10],
            },
        ),
        ("clicked:yes", m(Clicked, &["yes"])),
        ("zap:no", m(Zap, &["no"])),
        ("rule:\"transport rule\"", m(Rule, &["transport rule"])),
        ("policy:antimalware", m(Policy, &["antimalware"])),
        ("language:en", m(Language, &["en"])),
        ("malware-family:qakbot", m(ThreatName, &["qakbot"])),
        (
            "threat-name:\"Trojan:Win32\"",
            m(ThreatName, &["Trojan:Win32"]),
        ),
        ("connector:partner", m(Connector, &["partner"])),
        ("file-type:zip,html", m(FileType, &["zip", "html"])),
        (
            "override:org-allow",
            m(Override, &["Allowed by org policy"]),
        ),
        (
            "system-override:user-block,none",
            m(Override, &["Blocked by user policy", ""]),
        ),
        ("click-verdict:blocked", m(ClickVerdict, &["ClickBlocked"])),
        (
            "click-verdict:ClickBlockedByTenantPolicy,pending",
            m(
                ClickVerdict,
                &["ClickBlockedByTenantPolicy", "UrlScanInProgress"],
            ),
        ),
        ("url-source:QRCode", m(UrlSource, &["QRCode"])),
        (
            "mail-from-domain:*.example.net",
            m(MailFromDomain, &["*.example.net"]),
        ),
        ("phish-confidence:high", m(PhishConfidence, &["High"])),
        (
            "additional-action:\"Manual remediation\",*ZAP",
            m(AdditionalAction, &["Manual remediation", "*ZAP"]),
        ),
        (
            "attachment-count:>=1",
            Term::Number {
                field: AttachmentCount,
                op: CmpOp::Ge,
                values: vec![1],
            },
        ),
        (
            "url-count:2,3",
            Term::Number {
                field: UrlCount,
                op: CmpOp::Eq,
                values: vec![2, 3],
            },
        ),
        ("wire", Term::Text("wire".into())),
        ("\"wire transfer\"", Term::Text("wire transfer".into())),
    ];
    for (text, want) in cases {
        assert_eq!(&term(text), want, "{text}");
        // And the canonical text reads back the same.
        assert_eq!(term(&canon(text)), *want, "{text} → {}", canon(text));
    }
    // Every email field of the registry is covered above.
    for s in fields::fields_for(Entity::Emails) {
        let covered = cases.iter().any(|(text, _)| {
            text.split(':')
                .next()
                .and_then(|n| fields::lookup(Entity::Emails, n))
                .is_some_and(|f| f.field == s.field)
        }) || matches!(s.field, Since | Until | Between);
        assert!(covered, "no test for `{}`", s.name);
    }
}

#[test]
fn times() {
    let d = |y, mo, da| NaiveDate::from_ymd_opt(y, mo, da).unwrap();
    assert_eq!(
        term("since:7d"),
        Term::Time(TimeFilter::Since(TimePoint::Ago {
            amount: 7,
            unit: SpanUnit::Days
        }))
    );
    assert_eq!(
        term("since:12h"),
        Term::Time(TimeFilter::Since(TimePoint::Ago {
            amount: 12,
            unit: SpanUnit::Hours
        }))
    );
    assert_eq!(
        term("since:30m"),
        Term::Time(TimeFilter::Since(TimePoint::Ago {
            amount: 30,
            unit: SpanUnit::Minutes
        }))
    );
    assert_eq!(
        term("until:2026-11-01"),
        Term::Time(TimeFilter::Until(TimePoint::Date(d(2026, 11, 1))))
    );
    assert_eq!(
        term("between:2026-11-01..2026-11-03"),
        Term::Time(TimeFilter::Between(
            TimePoint::Date(d(2026, 11, 1)),
            TimePoint::Date(d(2026, 11, 3))
        ))
    );
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
    assert_eq!(
        term("since:2026-11-01T10:00:00+02:00"),
        Term::Time(TimeFilter::Since(TimePoint::At(at)))
    );
    assert_eq!(
        canon("since:2026-11-01T10:00:00+02:00"),
        "since:2026-11-01T08:00:00Z"
    );
    // Bounds: a date as an upper bound includes that day.
    let now = Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap();
    let Term::Time(f) = term("between:2026-11-01..2026-11-03") else {
        unreachable!()
    };
    assert_eq!(
        f.bounds(now),
        (
            Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
            Some(Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap())
        )
    );
    let Term::Time(f) = term("since:12h") else {
        unreachable!()
    };
    assert_eq!(f.bounds(now).0, Some(now - chrono::TimeDelta::hours(12)));
}

#[test]
fn grouping_precedence_and_negation() {
    let a = || Expr::Term(Term::Text("a".into()));
    let b = || Expr::Term(Term::Text("b".into()));
    let c = || Expr::Term(Term::Text("c".into()));
    assert_eq!(
        p("a b OR c").root,
        Some(Expr::Or(vec![Expr::And(vec![a(), b()]), c()]))
    );
    assert_eq!(
        p("a (b OR c)").root,
        Some(Expr::And(vec![a(), Expr::Or(vec![b(), c()])]))
    );
    assert_eq!(p("a AND b").root, p("a b").root);
    assert_eq!(p("a or b").root, p("a OR b").root);
    assert_eq!(p("NOT a").root, Some(Expr::Not(Box::new(a()))));
    assert_eq!(p("-a").root, Some(Expr::Not(Box::new(a()))));
    assert_eq!(
        p("-(a b)").root,
        Some(Expr::Not(Box::new(Expr::And(vec![a(), b()]))))
    );
    // Nested groups of the same kind flatten.
    assert_eq!(p("a (b c)").root, p("a b c").root);
    assert_eq!(p("(a OR (b OR c))").root, p("a OR b OR c").root);
    assert!(p("").is_all());
    assert!(p("   ").is_all());
    assert_eq!(canon("a  (b OR c)  -d"), "a (b OR c) -d");
    assert_eq!(canon("NOT (a b)"), "-(a b)");
    assert_eq!(
        canon("from:A@B.com location:INBOX"),
        "from:A@B.com location:inbox"
    );
    assert_eq!(canon("\"or\" \"a:b\" \"-x\""), "\"or\" \"a:b\" \"-x\"");
}

fn error(s: &str) -> super::ParseError {
    match parse(Entity::Emails, s) {
        Ok(f) => panic!("{s} parsed: {f:?}"),
        Err(e) => e,
    }
}

#[test]
fn errors_point_at_the_offending_character_with_suggestions() {
    let e = error("subject:x frm:a@b.com");
    assert_eq!(e.message, "unknown field `frm`, did you mean `from`?");
    assert_eq!((e.byte, e.char), (10, 10));
    assert_eq!(e.suggestion.as_deref(), Some("from"));

    // Character offsets differ from byte offsets after non-ASCII text.
    let e = error("Größe frm:x");
    assert_eq!((e.byte, e.char), (8, 6));

    let e = error("location:quarantin");
    assert_eq!(e.suggestion.as_deref(), Some("quarantine"));
    assert_eq!(e.byte, 9);
    assert!(
        e.message
            .starts_with("unknown value `quarantin` for `location`"),
        "{e}"
    );

    let e = error("threat:virus");
    assert!(
        e.message
            .contains("expected one of: phish, malware, spam, none"),
        "{e}"
    );

    let e = error("severity:high");
    assert!(e.message.contains("not a field of emails"), "{e}");

    let e = error("bcl:>=seven");
    assert_eq!(e.byte, 6);
    assert!(e.message.contains("not a whole number"), "{e}");
    assert!(error("bcl:>7,8").message.contains("one value"));
    let e = error("since:yesterday");
    assert_eq!(e.byte, 6);
    assert!(error("between:2026-11-01").message.contains("`..`"));
    let e = error("between:2026-11-01..2026-13-01");
    assert_eq!(e.byte, 20);
    assert_eq!(error("from:a*b").byte, 6);
    assert!(
        error("recipient-domain:*conto*")
            .message
            .contains("one end")
    );
    assert_eq!(error("a (b").byte, 2);
    assert_eq!(error("a b)").byte, 3);
    assert_eq!(error("a OR").byte, 2);
    assert_eq!(error("OR a").byte, 0);
    assert_eq!(error("()").byte, 0);
    assert_eq!(error("a -").byte, 2);
    assert!(error("http://x").message.contains("quote the text"));
    // The Display form names the position for the console's status line.
    assert_eq!(
        error("frm:x").to_string(),
        "unknown field `frm`, did you mean `from`? (at character 1)"
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        "{}a{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(error(&deep).message.contains("nests more than"));
    let ok = format!(
        "{}a{}",
        "(".repeat(MAX_DEPTH - 1),
        ")".repeat(MAX_DEPTH - 1)
    );
    assert!(parse(Entity::Emails, &ok).is_ok());
    assert!(parse(Entity::Emails, &"-".repeat(100_000)).is_err());
    assert!(parse(Entity::Emails, &"(".repeat(100_000)).is_err());
}

#[test]
fn other_entities_have_their_fields() {
    let t = |e: Entity, s: &str| match parse(e, s).unwrap().root {
        Some(Expr::Term(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        t(Entity::Alerts, "severity:HIGH"),
        m(Field::Severity, &["high"])
    );
    assert_eq!(
        t(Entity::Alerts, "status:in-progress"),
        m(Field::AlertStatus, &["inProgress"])
    );
    assert_eq!(
        t(Entity::Incidents, "status:active"),
        m(Field::IncidentStatus, &["active"])
    );
    assert!(parse(Entity::Alerts, "status:awaitingaction").is_err());
    assert_eq!(
        t(Entity::Alerts, "classification:tp"),
        m(Field::Classification, &["truePositive"])
    );
    assert_eq!(
        t(Entity::Alerts, "source:mdo"),
        m(Field::Source, &["microsoftDefenderForOffice365"])
    );
    assert_eq!(
        t(Entity::Campaigns, "type:phish"),
        m(Field::CampaignType, &["Phish"])
    );
    assert_eq!(
        t(Entity::Users, "department:Finance"),
        m(Field::Department, &["Finance"])
    );
    assert!(parse(Entity::Users, "since:1d").is_err());
    assert_eq!(
        print(&parse(Entity::Alerts, "status:inprogress").unwrap()),
        "status:inprogress"
    );
}

struct Tags;

impl ValueSource for Tags {
    fn values(&self, _: Entity, field: Field) -> Vec<String> {
        match field {
            Field::Tag => vec!["Priority account".into(), "Finance".into()],
            Field::SenderDomain => vec!["contoso-billing.com".into(), "fabrikam.com".into()],
            _ => Vec::new(),
        }
    }
}

#[test]
fn completion_offers_fields_then_values() {
    let c = complete(Entity::Emails, "threat:phish loc", 16, &NoValues);
    assert_eq!(c.replace, 13..16);
    let inserts: Vec<&str> = c.candidates.iter().map(|c| c.insert.as_str()).collect();
    assert_eq!(inserts[0], "location:");

    let c = complete(Entity::Emails, "location:qu", 11, &NoValues);
    assert_eq!(c.replace, 9..11);
    assert_eq!(c.candidates[0].insert, "quarantine");
    assert_eq!(c.candidates[0].detail, "Quarantine");

    // After a comma, only the value being typed is replaced.
    let c = complete(Entity::Emails, "-threat:phish,ma", 16, &NoValues);
    assert_eq!(c.replace, 14..16);
    assert_eq!(c.candidates[0].insert, "malware");

    // Values from the caller, quoted when needed.
    let c = complete(Entity::Emails, "tag:pri", 7, &Tags);
    assert_eq!(c.candidates[0].insert, "\"Priority account\"");
    let c = complete(Entity::Emails, "sender-domain:fab", 17, &Tags);
    assert_eq!(c.candidates[0].insert, "fabrikam.com");

    // Inside parentheses, with the cursor mid-text.
    let c = complete(Entity::Emails, "(subj wire)", 5, &NoValues);
    assert_eq!(c.replace, 1..5);
    assert_eq!(c.candidates[0].insert, "subject:");
    // An empty word offers every field of the entity.
    let c = complete(Entity::Alerts, "", 0, &NoValues);
    assert_eq!(
        c.candidates.len(),
        fields::fields_for(Entity::Alerts).count()
    );
    // Unknown fields and positions past the end never panic.
    assert!(
        complete(Entity::Emails, "nope:x", 99, &NoValues)
            .candidates
            .is_empty()
    );
    let _ = complete(Entity::Emails, "é", 1, &NoValues);
}

// ---- property tests ----

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._@/:,()\"\\\\*-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn wild_text(domain: bool) -> impl Strategy<Value = String> {
    (text(), any::<bool>(), any::<bool>()).prop_map(move |(s, lead, trail)| {
        let core: String = s.chars().filter(|&c| c != '*').collect();
        let trail = trail && !(domain && lead && !core.is_empty());
        format!(
            "{}{core}{}",
            if lead { "*" } else { "" },
            if trail { "*" } else { "" }
        )
    })
}

fn point() -> impl Strategy<Value = TimePoint> {
    prop_oneof![
        (0u32..100_000, 0..4usize).prop_map(|(amount, u)| TimePoint::Ago {
            amount,
            unit: [
                SpanUnit::Minutes,
                SpanUnit::Hours,
                SpanUnit::Days,
                SpanUnit::Weeks
            ][u],
        }),
        (0i64..50_000).prop_map(|d| TimePoint::Date(
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::TimeDelta::days(d)
        )),
        (0i64..4_000_000_000, 0u32..3, 0u32..1000).prop_map(|(s, k, ms)| {
            let nanos = [0, ms * 1_000_000, ms * 1000 + 7][k as usize];
            TimePoint::At(DateTime::from_timestamp(s, nanos).unwrap())
        }),
    ]
}

fn leaf(entity: Entity) -> impl Strategy<Value = Expr> {
    let specs: Vec<&'static fields::FieldSpec> = fields::fields_for(entity).collect();
    let field_term = proptest::sample::select(specs).prop_flat_map(|s| -> BoxedStrategy<Term> {
        let field = s.field;
        match s.kind {
            ValueKind::Exact => prop::collection::vec(wild_text(false), 1..3)
                .prop_map(move |values| Term::Match { field, values })
                .boxed(),
            ValueKind::Domain => prop::collection::vec(wild_text(true), 1..3)
                .prop_map(move |values| Term::Match { field, values })
                .boxed(),
            ValueKind::Contains | ValueKind::Tag => prop::collection::vec(text(), 1..3)
                .prop_map(move |values| Term::Match { field, values })
                .boxed(),
            ValueKind::Enum(known) => {
                prop::collection::vec(proptest::sample::select(known.to_vec()), 1..3)
                    .prop_map(move |vs| Term::Match {
                        field,
                        values: vs.iter().map(|v| v.doc.to_string()).collect(),
                    })
                    .boxed()
            }
            ValueKind::Number => prop_oneof![
                prop::collection::vec(any::<i64>(), 1..3).prop_map(move |values| {
                    Term::Number {
                        field,
                        op: CmpOp::Eq,
                        values,
                    }
                }),
                (0..4usize, any::<i64>()).prop_map(move |(o, n)| Term::Number {
                    field,
                    op: [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][o],
                    values: vec![n],
                }),
            ]
            .boxed(),
            ValueKind::Time => {
                let f = s.field;
                (point(), point())
                    .prop_map(move |(a, b)| {
                        Term::Time(match f {
                            Field::Since => TimeFilter::Since(a),
                            Field::Until => TimeFilter::Until(a),
                            _ => TimeFilter::Between(a, b),
                        })
                    })
                    .boxed()
            }
        }
    });
    prop_oneof![
        1 => text().prop_map(Term::Text),
        4 => field_term,
    ]
    .prop_map(Expr::Term)
}

fn expr(entity: Entity) -> impl Strategy<Value = Expr> {
    leaf(entity).prop_recursive(5, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(parser::and),
            prop::collection::vec(inner.clone(), 2..4).prop_map(parser::or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn entity() -> impl Strategy<Value = Entity> {
    proptest::sample::select(Entity::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity((e, x) in entity().prop_flat_map(|e| (Just(e), expr(e)))) {
        let f = Filter { root: Some(x) };
        let text = print(&f);
        let back = parse(e, &text);
        prop_assert_eq!(back.as_ref().ok(), Some(&f), "{} → {:?}", text, back);
    }

    #[test]
    fn printing_parsed_text_is_a_fixed_point(s in "[a-z:\\-() \",*<>=.0-9A-Z\\\\]{0,40}") {
        if let Ok(f) = parse(Entity::Emails, &s) {
            let text = print(&f);
            let again = parse(Entity::Emails, &text);
            prop_assert_eq!(again.as_ref().ok(), Some(&f), "{:?} → {:?}", s, text);
        }
    }

    #[test]
    fn field_like_text_is_a_fixed_point(
        words in prop::collection::vec(
            (proptest::sample::select(vec!["from", "threat", "location", "bcl", "since",
                "between", "subject", "is", "clicked", "recipient-domain", "size", "frm", ""]),
             "[a-z0-9*,.<>=\"-]{0,10}", any::<bool>()),
            0..6)
    ) {
        let s: Vec<String> = words.iter().map(|(f, v, neg)| {
            format!("{}{}{}{v}", if *neg { "-" } else { "" }, f, if f.is_empty() { "" } else { ":" })
        }).collect();
        let s = s.join(" OR ");
        if let Ok(f) = parse(Entity::Emails, &s) {
            let text = print(&f);
            prop_assert_eq!(parse(Entity::Emails, &text).ok(), Some(f), "{:?} → {:?}", s, text);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>(), cursor in 0usize..64) {
        for e in Entity::ALL {
            if let Ok(f) = parse(e, &s) {
                prop_assert_eq!(parse(e, &print(&f)).ok(), Some(f));
            } else if let Err(err) = parse(e, &s) {
                prop_assert!(err.byte <= s.len());
                prop_assert!(s.is_char_boundary(err.byte));
                prop_assert_eq!(err.char, s[..err.byte].chars().count());
            }
            let c = complete(e, &s, cursor, &NoValues);
            prop_assert!(c.replace.start <= c.replace.end && c.replace.end <= s.len());
        }
    }
}
