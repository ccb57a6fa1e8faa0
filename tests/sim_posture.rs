//! The simulator's posture sources over loopback HTTP: documented shapes that parse
//! into the contract types, the client's exact requests (filters, batches, paging),
//! the message-trace window rules, permission denial, determinism, and `sim stats`'
//! expected verdicts agreeing with what is served.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::{Api, has_keys_of, now, small_world};
use reqwest::StatusCode;
use serde_json::Value;
use whalewatch::model::posture::{
    AccountMemberships, CHECK_IDS, ConditionalAccessPolicy, EXCHANGE_SNAPSHOT_SCHEMA,
    ExchangeSnapshot, MessageTrace, MfaRegistration, RiskyUser, SecureScore, SecureScoreControl,
    SignIn,
};
use whalewatch::sim::server::SimConfig;
use whalewatch::sim::stats::WorldStats;
use whalewatch::sim::world::posture::{GROUP_MFA_EXCLUSIONS, GROUP_TRAVEL_EXEMPTION, Gap};
use whalewatch::sim::{World, WorldParams};

/// A documentation fixture copied into `tests/fixtures/posture` (see INDEX.md), with
/// the trailing commas some documented examples carry removed.
fn fixture_item(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/posture/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut clean = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some(']' | '}')) {
                continue;
            }
        }
        clean.push(*c);
    }
    let v: Value = serde_json::from_str(&clean).unwrap_or_else(|e| panic!("{path}: {e}"));
    v["value"][0].clone()
}

/// A world with the default 2,000 users (46 priority accounts: every gap planted) and
/// little mail.
fn full_world(seed: u64) -> WorldParams {
    WorldParams {
        seed,
        now: now(),
        users: 2_000,
        days: 1,
        emails_per_day: 200,
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse<T: serde::de::DeserializeOwned>(items: &[Value]) -> Vec<T> {
    items
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v}")))
        .collect()
}

#[tokio::test]
async fn every_source_answers_in_its_documented_shape_and_parses() {
    let server = common::start(common::config(61)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let cases = [
        (
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "graph-v1-userregistrationdetails-list.response.json",
        ),
        (
            "/v1.0/auditLogs/signIns",
            "graph-v1-signins-list.response.json",
        ),
        (
            "/v1.0/identity/conditionalAccess/policies",
            "graph-v1-conditionalaccess-policies-list.response.json",
        ),
        (
            "/v1.0/identityProtection/riskyUsers",
            "graph-v1-riskyusers-list.response.json",
        ),
        (
            "/v1.0/security/secureScores",
            "graph-v1-securescores-list.response.json",
        ),
        (
            "/v1.0/security/secureScoreControlProfiles",
            "graph-v1-securescorecontrolprofiles-list.response.json",
        ),
        (
            "/v1.0/admin/exchange/tracing/messageTraces",
            "graph-v1-messagetraces-list-bytimerange.response.json",
        ),
    ];
    for (path, fixture) in cases {
        let first = api.get(&token, path).await;
        assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.text);
        assert!(
            first.json["@odata.context"]
                .as_str()
                .is_some_and(|c| c.contains("$metadata#")),
            "{path}: no @odata.context"
        );
        let items = api.page_all(&token, path, &[]).await;
        assert!(!items.is_empty(), "{path}: empty");
        has_keys_of(&items[0], &fixture_item(fixture), path);
        match path {
            p if p.contains("userRegistrationDetails") => {
                parse::<MfaRegistration>(&items);
            }
            p if p.contains("signIns") => {
                parse::<SignIn>(&items);
            }
            p if p.contains("conditionalAccess") => {
                parse::<ConditionalAccessPolicy>(&items);
            }
            p if p.contains("riskyUsers") => {
                parse::<RiskyUser>(&items);
            }
            p if p.contains("secureScores") => {
                let scores = parse::<SecureScore>(&items);
                assert_eq!(scores.len(), 90, "90 days of Secure Score");
                assert!(scores[0].created_date_time > scores[89].created_date_time);
                assert!(
                    scores[0].current_score > scores[89].current_score,
                    "a trend"
                );
            }
            p if p.contains("ControlProfiles") => {
                let controls = parse::<SecureScoreControl>(&items);
                let scores = parse::<SecureScore>(
                    &api.page_all(&token, "/v1.0/security/secureScores", &[("$top", "1")])
                        .await[..1],
                );
                let unearned = scores[0]
                    .control_scores
                    .iter()
                    .filter(|c| c.score == Some(0.0))
                    .count();
                assert!(unearned >= 3, "some controls are not implemented");
                assert!(controls.iter().any(|c| c.id == "AdminMFAV2"));
            }
            _ => {
                parse::<MessageTrace>(&items);
            }
        }
    }
    // A user's memberships: groups and directory roles with their template ids.
    let world_vips: Vec<String> = server.state.read_world(|w| {
        w.posture
            .roles
            .iter()
            .map(|(u, _)| w.directory.users[*u as usize].id.to_string())
            .collect()
    });
    let path = format!("/v1.0/users/{}/transitiveMemberOf", world_vips[0]);
    let items = api
        .page_all(&token, &path, &[("$select", "id,roleTemplateId")])
        .await;
    let role = items
        .iter()
        .find(|v| v["@odata.type"] == "#microsoft.graph.directoryRole")
        .expect("a directory role");
    assert_eq!(
        role["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    assert!(role.get("displayName").is_none(), "$select applies");
    server.shutdown().await;
}

#[tokio::test]
async fn the_clients_requests_filter_batch_and_page() {
    let server = common::start(SimConfig::new(full_world(62))).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let (ids, upns, expected) = server.state.read_world(|w| {
        let batch: Vec<u32> = w.directory.priority.iter().copied().take(15).collect();
        let ids: Vec<String> = batch
            .iter()
            .map(|u| w.directory.users[*u as usize].id.to_string())
            .collect();
        let upns: Vec<String> = batch
            .iter()
            .map(|u| w.directory.users[*u as usize].upn.to_string())
            .collect();
        let since = w.params.now - Duration::days(30);
        let expected = w
            .posture
            .sign_ins
            .iter()
            .filter(|s| s.user_id.as_ref().is_some_and(|i| ids.contains(i)))
            .filter(|s| s.created_date_time.is_some_and(|t| t >= since))
            .count();
        (ids, upns, expected)
    });
    // Sign-ins: 15 accounts per call, the last 30 days, paged.
    let users = ids
        .iter()
        .map(|i| format!("userId eq '{i}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    let filter = format!(
        "createdDateTime ge {} and ({users})",
        iso(now() - Duration::days(30))
    );
    let first = api
        .get_query(
            &token,
            "/v1.0/auditLogs/signIns",
            &[("$filter", &filter), ("$top", "200")],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(expected > 200, "enough sign-ins to page ({expected})");
    assert!(first.json["@odata.nextLink"].is_string(), "paged");
    let all: Vec<SignIn> = parse(
        &api.page_all(
            &token,
            "/v1.0/auditLogs/signIns",
            &[("$filter", &filter), ("$top", "200")],
        )
        .await,
    );
    assert_eq!(all.len(), expected);
    assert!(
        all.windows(2)
            .all(|p| p[0].created_date_time >= p[1].created_date_time),
        "newest first"
    );
    assert!(
        all.iter()
            .all(|s| ids.contains(s.user_id.as_ref().unwrap()))
    );
    let over = api
        .get_query(&token, "/v1.0/auditLogs/signIns", &[("$top", "5000")])
        .await;
    assert_eq!(
        over.json["value"].as_array().unwrap().len(),
        1000,
        "max 1,000"
    );

    // Registration details by UPN.
    let filter = format!(
        "userPrincipalName eq '{}' or userPrincipalName eq '{}'",
        upns[0].to_uppercase(),
        upns[1]
    );
    let regs: Vec<MfaRegistration> = parse(
        &api.page_all(
            &token,
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            &[("$filter", &filter)],
        )
        .await,
    );
    let got: BTreeSet<&str> = regs
        .iter()
        .map(|r| r.user_principal_name.as_str())
        .collect();
    assert_eq!(got, BTreeSet::from([upns[0].as_str(), upns[1].as_str()]));
    let everyone = api
        .page_all(
            &token,
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            &[],
        )
        .await;
    assert_eq!(
        everyone.len(),
        2_000,
        "every user has a registration record"
    );

    // Message traces: one 7-day window, both bounds.
    let end = now();
    let start = end - Duration::days(7);
    let filter = format!(
        "receivedDateTime ge {} and receivedDateTime le {}",
        iso(start),
        iso(end)
    );
    let traces: Vec<MessageTrace> = parse(
        &api.page_all(
            &token,
            "/v1.0/admin/exchange/tracing/messageTraces",
            &[("$filter", &filter), ("$top", "5000")],
        )
        .await,
    );
    let want = server.state.read_world(|w| {
        w.posture
            .traces
            .iter()
            .filter(|t| t.received_date_time.is_some_and(|r| r >= start && r <= end))
            .count()
    });
    assert_eq!(traces.len(), want);
    assert!(traces.len() > 5000, "paged at 5,000 ({})", traces.len());
    server.shutdown().await;
}

#[tokio::test]
async fn message_traces_enforce_the_documented_window() {
    let server = common::start(common::config(63)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let path = "/v1.0/admin/exchange/tracing/messageTraces";
    let bad = [
        (now() - Duration::days(11), now()),
        (now() - Duration::days(95), now() - Duration::days(88)),
        (now() + Duration::days(2), now() + Duration::days(3)),
    ];
    for (start, end) in bad {
        let f = format!(
            "receivedDateTime ge {} and receivedDateTime le {}",
            iso(start),
            iso(end)
        );
        let r = api.get_query(&token, path, &[("$filter", &f)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{f}: {}", r.text);
        let (code, message) = r.graph_error();
        assert_eq!(code, "BadRequest");
        assert!(message.contains("10 days"), "{message}");
    }
    let one_bound = format!("receivedDateTime ge {}", iso(now() - Duration::days(2)));
    let r = api
        .get_query(&token, path, &[("$filter", &one_bound)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // No filter: the last 48 hours.
    let recent: Vec<MessageTrace> = parse(&api.page_all(&token, path, &[]).await);
    assert!(!recent.is_empty());
    assert!(
        recent
            .iter()
            .all(|t| t.received_date_time.unwrap() >= now() - Duration::hours(48))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_denied_permission_refuses_only_its_endpoints() {
    let mut cfg = common::config(64);
    cfg.denied_roles = vec!["Policy.Read.All".into(), "Directory.Read.All".into()];
    let server = common::start(cfg).await;
    let api = Api::of(&server);
    let token = api.token().await;
    for (path, grant) in [
        (
            "/v1.0/identity/conditionalAccess/policies",
            "Policy.Read.All",
        ),
        ("/v1.0/auditLogs/signIns", "Directory.Read.All"),
    ] {
        let r = api.get(&token, path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        let (code, message) = r.graph_error();
        assert_eq!(code, "Authorization_RequestDenied");
        assert!(message.contains(grant), "{message}");
        assert!(
            !message.contains("AuditLog.Read.All"),
            "names only what is missing"
        );
    }
    let vip = server.state.read_world(|w| {
        w.directory.users[w.directory.priority[0] as usize]
            .id
            .to_string()
    });
    for path in [
        "/v1.0/reports/authenticationMethods/userRegistrationDetails".to_string(),
        "/v1.0/identityProtection/riskyUsers".to_string(),
        "/v1.0/security/secureScores".to_string(),
        // User.Read.All is enough for memberships.
        format!("/v1.0/users/{vip}/transitiveMemberOf"),
    ] {
        let r = api.get(&token, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    server.shutdown().await;
}

#[test]
fn the_same_seed_gives_the_same_posture() {
    let a = World::generate(&small_world(65)).unwrap();
    let b = World::generate(&small_world(65)).unwrap();
    let c = World::generate(&small_world(66)).unwrap();
    let json = |w: &World| {
        serde_json::json!({
            "stats": serde_json::to_value(WorldStats::of(w)).unwrap(),
            "exchange": &w.posture.exchange,
            "signIns": &w.posture.sign_ins,
            "policies": &w.posture.policies,
            "traces": &w.posture.traces,
            "risky": &w.posture.risky,
        })
        .to_string()
    };
    assert_eq!(json(&a), json(&b));
    assert_ne!(json(&a), json(&c));
}

#[test]
fn posture_leaves_the_mail_world_unchanged() {
    // The posture streams are separate: mail, alerts and the directory do not move.
    let w = World::generate(&small_world(67)).unwrap();
    let mut without = World::generate(&small_world(67)).unwrap();
    without.posture = Default::default();
    let mut s1 = serde_json::to_value(WorldStats::of(&w)).unwrap();
    let mut s2 = serde_json::to_value(WorldStats::of(&without)).unwrap();
    for s in [&mut s1, &mut s2] {
        s.as_object_mut().unwrap().remove("posture");
        s.as_object_mut().unwrap().remove("posture_planted");
    }
    assert_eq!(s1, s2);
}

#[tokio::test]
async fn stats_cover_every_priority_account_and_agree_with_what_is_served() {
    let server = common::start(SimConfig::new(full_world(68))).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let (stats, vips, planted) = server.state.read_world(|w| {
        let planted: Vec<(Gap, String, String)> = w
            .posture
            .planted
            .iter()
            .map(|(u, g)| {
                let user = &w.directory.users[*u as usize];
                (*g, user.id.to_string(), user.upn.to_lowercase())
            })
            .collect();
        (WorldStats::of(w), w.vip_list(), planted)
    });
    let keys: BTreeSet<String> = stats.posture.keys().cloned().collect();
    let want: BTreeSet<String> = vips.lines().map(str::to_lowercase).collect();
    assert_eq!(keys, want, "one verdict per priority account");
    for truth in stats.posture.values() {
        let order: Vec<usize> = truth
            .failing
            .iter()
            .map(|c| CHECK_IDS.iter().position(|x| x == c).unwrap())
            .collect();
        assert!(order.windows(2).all(|p| p[0] < p[1]), "CHECK_IDS order");
    }
    let passing = stats
        .posture
        .values()
        .filter(|t| t.verdict == "pass")
        .count();
    assert!(
        passing * 3 >= keys.len(),
        "most accounts are protected: {passing}"
    );
    let kinds: BTreeSet<String> = planted.iter().map(|(g, _, _)| format!("{g:?}")).collect();
    assert_eq!(kinds.len(), 17, "every gap planted: {kinds:?}");
    let expect = |gap: Gap, verdict: &str, failing: &[&str]| {
        for (_, _, upn) in planted.iter().filter(|(g, _, _)| *g == gap) {
            let t = &stats.posture[upn];
            assert_eq!(
                (t.verdict, t.failing.as_slice()),
                (verdict, failing),
                "{gap:?} {upn}"
            );
        }
    };
    expect(Gap::NoMfa, "fail", &["mfa"]);
    expect(Gap::PhoneOnly, "warn", &["mfa"]);
    expect(Gap::MfaExcludedNested, "fail", &["ca-mfa"]);
    expect(Gap::MfaExcludedAdminCovered, "pass", &[]);
    expect(
        Gap::LegacyImap,
        "fail",
        &["ca-legacy", "legacy-auth", "protocols"],
    );
    expect(
        Gap::LegacySmtp,
        "fail",
        &["ca-legacy", "legacy-auth", "protocols"],
    );
    expect(Gap::LegacyFailedOnly, "warn", &["legacy-auth"]);
    expect(Gap::StrictExcluded, "fail", &["strict-preset"]);
    expect(Gap::StandardOnly, "warn", &["strict-preset"]);
    expect(Gap::RiskHigh, "fail", &["risk"]);
    expect(Gap::RiskMedium, "warn", &["risk"]);
    expect(Gap::RiskRemediated, "pass", &[]);
    expect(Gap::PopEnabled, "fail", &["protocols"]);
    expect(Gap::AuditOff, "warn", &["audit"]);
    expect(Gap::MailFailed, "warn", &["email-issues"]);
    expect(Gap::MailPending, "warn", &["email-issues"]);
    expect(Gap::MailDecoy, "pass", &[]);

    // The nested exclusion, as served: the account is in both groups transitively,
    // and the enabled all-users MFA policy excludes the outer group.
    let (group_ids, (_, excluded_id, _)) = server.state.read_world(|w| {
        (
            (
                w.posture.groups[GROUP_MFA_EXCLUSIONS].id.to_string(),
                w.posture.groups[GROUP_TRAVEL_EXEMPTION].id.to_string(),
            ),
            planted
                .iter()
                .find(|(g, _, _)| *g == Gap::MfaExcludedNested)
                .unwrap()
                .clone(),
        )
    });
    let memberships = api
        .page_all(
            &token,
            &format!("/v1.0/users/{excluded_id}/transitiveMemberOf"),
            &[("$select", "id,roleTemplateId")],
        )
        .await;
    let m = AccountMemberships {
        user_id: excluded_id.clone(),
        group_ids: memberships
            .iter()
            .filter(|v| v["@odata.type"] == "#microsoft.graph.group")
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect(),
        role_template_ids: Vec::new(),
    };
    assert!(m.group_ids.contains(&group_ids.0) && m.group_ids.contains(&group_ids.1));
    let policies: Vec<ConditionalAccessPolicy> = parse(
        &api.page_all(&token, "/v1.0/identity/conditionalAccess/policies", &[])
            .await,
    );
    let mfa_for_all = policies
        .iter()
        .find(|p| {
            p.state.as_deref() == Some("enabled")
                && p.grant_controls
                    .as_ref()
                    .is_some_and(|g| g.built_in_controls == ["mfa"])
                && p.conditions
                    .as_ref()
                    .and_then(|c| c.users.as_ref())
                    .is_some_and(|u| u.include_users == ["All"])
        })
        .expect("an enabled MFA policy for all users");
    let users = mfa_for_all
        .conditions
        .as_ref()
        .unwrap()
        .users
        .as_ref()
        .unwrap();
    assert!(users.exclude_groups.contains(&group_ids.0));
    assert!(
        policies
            .iter()
            .any(|p| p.state.as_deref() == Some("enabledForReportingButNotEnforced"))
            && policies
                .iter()
                .any(|p| p.state.as_deref() == Some("disabled"))
    );

    // The IMAP user's successful IMAP4 sign-ins are served.
    let (_, imap_id, _) = planted
        .iter()
        .find(|(g, _, _)| *g == Gap::LegacyImap)
        .unwrap()
        .clone();
    let f = format!("userId eq '{imap_id}'");
    let signins: Vec<SignIn> = parse(
        &api.page_all(&token, "/v1.0/auditLogs/signIns", &[("$filter", &f)])
            .await,
    );
    assert!(signins.iter().any(|s| {
        s.client_app_used.as_deref() == Some("IMAP4")
            && s.status.as_ref().and_then(|st| st.error_code) == Some(0)
    }));
    server.shutdown().await;
}

#[test]
fn sim_exchange_snapshot_prints_the_worlds_snapshot() {
    let out = Command::new(env!("CARGO_BIN_EXE_whalewatch"))
        .args([
            "sim",
            "exchange-snapshot",
            "--seed",
            "69",
            "--now",
            "2026-11-01T00:00:00Z",
            "--users",
            "60",
            "--days",
            "3",
            "--emails-per-day",
            "300",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: ExchangeSnapshot = serde_json::from_slice(&out.stdout).unwrap();
    let world = World::generate(&small_world(69)).unwrap();
    assert_eq!(got, world.posture.exchange);
    assert_eq!(got.schema, EXCHANGE_SNAPSHOT_SCHEMA);
    let vips: Vec<String> = world.vip_list().lines().map(String::from).collect();
    assert_eq!(got.vips, vips);
    assert_eq!(got.mailboxes.len(), vips.len());
}
