//! Every documented posture payload (copies in tests/fixtures/posture, sources in
//! tests/fixtures/INDEX.md) parsed into the contract types the way the readers parse a
//! page: the envelope as JSON, then record by record.
//!
//! Microsoft's examples have two kinds of errors, and the client's answer to each is
//! asserted here:
//! - invalid JSON (a trailing comma in the sign-ins and control-profiles examples):
//!   no record can be trusted from a body that is not JSON, so the page is refused
//!   with the position of the error (the refresh then retries it and, if the service
//!   keeps sending it, marks the source failed with that message); the same example
//!   without the comma parses whole;
//! - placeholders of the wrong type (`"riskLastUpdatedDateTime": "String (timestamp)"`
//!   in riskyUsers): that record is skipped and counted, the others are kept.

use whalewatch::model::posture::{
    ConditionalAccessPolicy, MessageTrace, MfaRegistration, RiskyUser, SecureScore,
    SecureScoreControl, SignIn,
};
use whalewatch::tenant::posture::Records;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/posture")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `name` as a page of `T`; panics unless the envelope is JSON.
fn page<T: serde::de::DeserializeOwned>(name: &str) -> Records<T> {
    Records::<T>::from_body(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The documented fix of a doc error: a trailing comma before `]` or `}` removed.
fn without_trailing_commas(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some(']') | Some('}')) {
                continue;
            }
        }
        out.push(*c);
    }
    out.into_bytes()
}

#[test]
fn message_traces_parse_in_both_versions_with_their_casing() {
    for name in [
        "graph-v1-messagetraces-list.response.json",
        "graph-v1-messagetraces-list-by-id.response.json",
        "graph-v1-messagetraces-list-bytimerange.response.json",
        "graph-v1-messagetraces-list-by-subject-and-recipient.response.json",
        "graph-beta-messagetraces-list.response.json",
    ] {
        let r = page::<MessageTrace>(name);
        assert_eq!((r.records.len(), r.skipped), (1, 0), "{name}");
        let t = &r.records[0];
        assert!(!t.id.is_empty(), "{name}");
        assert!(t.received_date_time.is_some(), "{name}");
        assert!(
            t.recipient_address
                .as_deref()
                .is_some_and(|a| a.contains('@'))
        );
        assert!(
            t.status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("delivered")),
            "{name}"
        );
    }
    // The beta example capitalises the status (not the enum's casing).
    let beta = page::<MessageTrace>("graph-beta-messagetraces-list.response.json");
    assert_eq!(beta.records[0].status.as_deref(), Some("Delivered"));
    let v1 = page::<MessageTrace>("graph-v1-messagetraces-list.response.json");
    assert_eq!(v1.records[0].from_ip.as_deref(), Some("192.168.1.100"));
    assert_eq!(v1.records[0].to_ip.as_deref(), Some(""));
}

#[test]
fn conditional_access_policies_parse_with_their_conditions_and_grants() {
    let current =
        page::<ConditionalAccessPolicy>("graph-v1-conditionalaccess-policies-list.response.json");
    assert_eq!((current.records.len(), current.skipped), (2, 0));
    for p in &current.records {
        assert_eq!(p.state.as_deref(), Some("enabled"));
        let users = p.conditions.as_ref().and_then(|c| c.users.as_ref());
        assert!(users.is_some(), "{:?}", p.display_name);
        assert!(p.grant_controls.is_some() || p.display_name.is_some());
    }
    let legacy = page::<ConditionalAccessPolicy>(
        "graph-v1-conditionalaccess-policies-list.legacy-repo-example.response.json",
    );
    assert_eq!((legacy.records.len(), legacy.skipped), (2, 0));
    assert!(
        legacy
            .records
            .iter()
            .all(|p| p.state.as_deref() == Some("disabled"))
    );
    let agents = page::<ConditionalAccessPolicy>(
        "graph-beta-conditionalaccess-policies-list-agents.response.json",
    );
    assert_eq!((agents.records.len(), agents.skipped), (2, 0));
    assert_eq!(
        agents.records[0].state.as_deref(),
        Some("enabledForReportingButNotEnforced")
    );
}

#[test]
fn registration_details_parse_every_user_and_the_empty_preferred_method() {
    let r = page::<MfaRegistration>("graph-v1-userregistrationdetails-list.response.json");
    assert_eq!((r.records.len(), r.skipped), (3, 0));
    assert_eq!(r.records[0].user_principal_name, "AlexW@Contoso.com");
    assert_eq!(
        r.records[0].methods_registered,
        ["microsoftAuthenticatorPush", "softwareOneTimePasscode"]
    );
    assert_eq!(r.records[1].is_mfa_registered, Some(false));
    assert!(r.records[1].methods_registered.is_empty());
    assert_eq!(
        r.records[1]
            .user_preferred_method_for_secondary_authentication
            .as_deref(),
        Some("")
    );
    assert_eq!(r.records[1].user_type.as_deref(), Some("guest"));
    assert!(
        r.records[2]
            .methods_registered
            .iter()
            .any(|m| m == "mobilePhone")
    );
}

#[test]
fn the_risky_users_placeholder_record_is_skipped_and_counted() {
    let r = page::<RiskyUser>("graph-v1-riskyusers-list.response.json");
    assert_eq!(r.records.len(), 0);
    assert_eq!(r.skipped, 1);
    let why = r.first_skip.unwrap_or_default();
    println!("{why}");
    assert!(why.contains("invalid"), "{why}");
}

#[test]
fn secure_scores_parse_with_their_control_scores() {
    let r = page::<SecureScore>("graph-v1-securescores-list.response.json");
    assert_eq!((r.records.len(), r.skipped), (1, 0));
    let s = &r.records[0];
    assert!(s.current_score.is_some() && s.max_score.is_some());
    assert!(s.created_date_time.is_some());
    assert!(
        s.control_scores
            .iter()
            .any(|c| c.control_name == "AdminMFA")
    );
}

/// Sign-ins and control profiles as documented are not JSON (a trailing comma): the
/// page is refused at the comma; without it every record parses.
#[test]
fn trailing_comma_examples_are_refused_at_the_comma_and_parse_once_fixed() {
    for (name, line) in [
        ("graph-v1-signins-list.response.json", 64),
        ("graph-v1-signins-list-filter-startswith.response.json", 64),
        ("graph-v1-securescorecontrolprofiles-list.response.json", 31),
    ] {
        let body = fixture(name);
        let err = Records::<serde_json::Value>::from_body(&body)
            .err()
            .unwrap_or_else(|| panic!("{name} parsed, but the documented example is not JSON"));
        assert_eq!(err.line(), line, "{name}: {err}");
        let fixed = without_trailing_commas(&body);
        assert!(
            Records::<serde_json::Value>::from_body(&fixed).is_ok(),
            "{name}"
        );
    }
    let sign_ins = Records::<SignIn>::from_body(&without_trailing_commas(&fixture(
        "graph-v1-signins-list.response.json",
    )))
    .unwrap();
    assert_eq!((sign_ins.records.len(), sign_ins.skipped), (1, 0));
    let s = &sign_ins.records[0];
    assert_eq!(s.client_app_used.as_deref(), Some("Browser"));
    assert_eq!(s.status.as_ref().and_then(|st| st.error_code), Some(0));
    assert_eq!(
        s.location.as_ref().and_then(|l| l.city.as_deref()),
        Some("Redmond")
    );
    let controls = Records::<SecureScoreControl>::from_body(&without_trailing_commas(&fixture(
        "graph-v1-securescorecontrolprofiles-list.response.json",
    )))
    .unwrap();
    assert_eq!((controls.records.len(), controls.skipped), (1, 0));
    assert_eq!(controls.records[0].id, "DLPEnabled");
    assert_eq!(controls.records[0].max_score, Some(20.0));
    assert!(controls.records[0].remediation.is_some());
}

/// Payloads whalewatch does not read (per-recipient trace details, a user's own
/// authentication methods) are still valid JSON collections.
#[test]
fn unread_payloads_are_valid_collections() {
    for name in [
        "graph-v1-messagetrace-getdetailsbyrecipient.response.json",
        "graph-beta-messagetrace-getdetailsbyrecipient.response.json",
        "graph-v1-authentication-methods-list.response.json",
    ] {
        let r = page::<serde_json::Value>(name);
        assert_eq!((r.records.len(), r.skipped), (2, 0), "{name}");
    }
}

#[test]
fn the_sample_exchange_snapshot_validates_cleanly() {
    let v = whalewatch::sync::posture::validate_snapshot(&fixture("exchange-snapshot.sample.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert_eq!(v.snapshot.vips.len(), 3);
    assert_eq!(v.snapshot.mailboxes.len(), 3);
    assert_eq!(v.snapshot.preset_rules.len(), 3);
    assert_eq!(
        v.snapshot.mailboxes[0].smtp_client_authentication_disabled,
        None
    );
    assert_eq!(v.snapshot.group_members["Executives"].len(), 2);
}

#[test]
fn snapshot_problems_name_their_json_path() {
    let bad =
        br#"{"schema":"whalewatch.exchange-snapshot/1","generatedDateTime":"2026-10-31T08:00:00Z",
        "vips":"ceo@contoso.com","colour":"blue",
        "mailboxes":[{"primarySmtpAddress":"a@b.c","imapEnabled":"yes"}],
        "presetRules":[{"name":"Strict Preset Security Policy","sentTo":"x"}]}"#;
    let e = whalewatch::sync::posture::validate_snapshot(bad).unwrap_err();
    let text = e.problems.join("\n");
    assert!(text.contains("$.vips:"), "{text}");
    assert!(text.contains("$.mailboxes[0].imapEnabled:"), "{text}");
    assert!(text.contains("$.presetRules[0].sentTo:"), "{text}");
    assert_eq!(e.problems.len(), 3, "{text}");
    let wrong = br#"{"schema":"something/2"}"#;
    let e = whalewatch::sync::posture::validate_snapshot(wrong).unwrap_err();
    assert!(
        e.problems[0].starts_with("$.schema: expected"),
        "{:?}",
        e.problems
    );
    let no_time = br#"{"schema":"whalewatch.exchange-snapshot/1","extra":1}"#;
    let e = whalewatch::sync::posture::validate_snapshot(no_time).unwrap_err();
    assert!(
        e.problems[0].starts_with("$.generatedDateTime: missing"),
        "{:?}",
        e.problems
    );
    let ok = b"\xEF\xBB\xBF{\"schema\":\"whalewatch.exchange-snapshot/1\",\"generatedDateTime\":\"2026-10-31T08:00:00Z\",\"colour\":1}";
    let v = whalewatch::sync::posture::validate_snapshot(ok).unwrap();
    assert_eq!(v.warnings, ["$.colour: unknown field, ignored"]);
}
