//! The posture readers and a real refresh of the posture sources into a cache, against
//! a small Graph test server on loopback serving Microsoft's documented payloads
//! (tests/fixtures/posture) with planted refusals, throttling and paging; then an
//! Exchange snapshot import whose VIPs join the Priority account tag.

use std::sync::{Arc, Mutex};

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use whalewatch::cache::{Cache, TagSource};
use whalewatch::config::{PRIORITY_ACCOUNT, Profile};
use whalewatch::model::posture::{SourceAvailability, source};
use whalewatch::sync::{RefreshOptions, refresh};
use whalewatch::tenant::posture::PostureLimits;
use whalewatch::tenant::{GraphClient, GraphConfig, RetryPolicy, Secret, StaticToken};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/posture")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| {
        // The documented examples with a trailing comma (see posture_fixtures.rs),
        // served as the service would send them: valid JSON.
        serde_json::from_str(
            &text
                .replace("},\n              ]", "}\n              ]")
                .replace("\"url\": \"\",\n", "\"url\": \"\"\n"),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
    })
}

/// What the server refuses or throttles, and what it saw.
#[derive(Default)]
struct World {
    deny_ca: bool,
    empty_risky: bool,
    risky_429_left: usize,
    base: String,
    seen: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

fn ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

fn seen(state: &Shared, uri: &OriginalUri) {
    let target = uri.0.to_string();
    let decoded =
        url::form_urlencoded::parse(target.split_once('?').map_or("", |q| q.1).as_bytes())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
    state
        .lock()
        .unwrap()
        .seen
        .push(format!("{}?{decoded}", uri.0.path()));
}

async fn users(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    let user = |id: &str, name: &str| {
        json!({"id": id, "userPrincipalName": format!("{}@Contoso.com", name.to_uppercase()),
               "mail": format!("{name}@contoso.com"), "displayName": name})
    };
    ok(
        json!({"value": [user("u-ceo", "ceo"), user("u-cfo", "cfo"), user("u-chair", "chair"), user("u-staff", "staff")]}),
    )
}

async fn groups(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    ok(json!({"value": []}))
}

async fn registrations(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    ok(fixture(
        "graph-v1-userregistrationdetails-list.response.json",
    ))
}

/// `days` before now (the refresh keeps 30 days of sign-ins by the wall clock).
fn ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// Two pages: the first links to the second.
async fn sign_ins(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    let mut page = fixture("graph-v1-signins-list.response.json");
    let second = uri.0.query().is_some_and(|q| q.contains("skiptoken"));
    page["value"][0]["userId"] = json!("u-ceo");
    if second {
        page["value"][0]["id"] = json!("older-sign-in");
        page["value"][0]["createdDateTime"] = json!(ago(10));
        page["value"][0]["clientAppUsed"] = json!("IMAP4");
        page.as_object_mut().unwrap().remove("@odata.nextLink");
    } else {
        page["value"][0]["createdDateTime"] = json!(ago(1));
        let base = s.lock().unwrap().base.clone();
        page["@odata.nextLink"] = json!(format!("{base}/v1.0/auditLogs/signIns?$skiptoken=page2"));
    }
    ok(page)
}

async fn policies(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    if s.lock().unwrap().deny_ca {
        // Graph's own wording: it names no permission; the endpoint does.
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": {"code": "AccessDenied",
                "message": "You cannot perform the requested operation, required scopes are missing in the token."}})),
        )
            .into_response();
    }
    ok(fixture(
        "graph-v1-conditionalaccess-policies-list.response.json",
    ))
}

async fn member_of(State(s): State<Shared>, Path(id): Path<String>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    ok(json!({"value": [
        {"@odata.type": "#microsoft.graph.group", "id": format!("g-{id}")},
        {"@odata.type": "#microsoft.graph.directoryRole", "id": "r1",
         "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10"}
    ]}))
}

async fn risky(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    let mut w = s.lock().unwrap();
    if w.risky_429_left > 0 {
        w.risky_429_left -= 1;
        // Identity protection throttles without Retry-After.
        return (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(
                json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}}),
            ),
        )
            .into_response();
    }
    if w.empty_risky {
        return ok(json!({"value": []}));
    }
    let mut page = fixture("graph-v1-riskyusers-list.response.json");
    let placeholder = page["value"][0].clone();
    page["value"] = json!([
        {"id": "u-cfo", "userPrincipalName": "CFO@Contoso.com", "riskLevel": "high",
         "riskState": "atRisk", "riskDetail": "none", "riskLastUpdatedDateTime": "2026-10-29T00:00:00Z"},
        placeholder
    ]);
    ok(page)
}

async fn scores(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    ok(fixture("graph-v1-securescores-list.response.json"))
}

async fn controls(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    ok(fixture(
        "graph-v1-securescorecontrolprofiles-list.response.json",
    ))
}

async fn traces(State(s): State<Shared>, uri: OriginalUri) -> Response {
    seen(&s, &uri);
    let mut base = fixture("graph-v1-messagetraces-list.response.json")["value"][0].clone();
    let mut trace = |id: &str, from: &str, to: &str, status: &str| {
        base["id"] = json!(id);
        base["senderAddress"] = json!(from);
        base["recipientAddress"] = json!(to);
        base["status"] = json!(status);
        base.clone()
    };
    ok(json!({"value": [
        trace("t1", "x@fabrikam.com", "CEO@contoso.com", "failed"),
        trace("t2", "x@fabrikam.com", "staff@contoso.com", "delivered"),
        trace("t3", "cfo@contoso.com", "y@fabrikam.com", "pending"),
    ]}))
}

async fn start(world: Shared) -> String {
    let app = axum::Router::new()
        .route("/v1.0/users", get(users))
        .route("/v1.0/groups", get(groups))
        .route(
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            get(registrations),
        )
        .route("/v1.0/auditLogs/signIns", get(sign_ins))
        .route("/v1.0/identity/conditionalAccess/policies", get(policies))
        .route("/v1.0/users/{id}/transitiveMemberOf", get(member_of))
        .route("/v1.0/identityProtection/riskyUsers", get(risky))
        .route("/v1.0/security/secureScores", get(scores))
        .route("/v1.0/security/secureScoreControlProfiles", get(controls))
        .route("/v1.0/admin/exchange/tracing/messageTraces", get(traces))
        .with_state(world.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    world.lock().unwrap().base = format!("http://{addr}");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client(base: &str) -> GraphClient {
    let mut config = GraphConfig::new(base);
    config.retry = RetryPolicy::fast_for_tests();
    GraphClient::new(config, Arc::new(StaticToken(Secret::new("test-token")))).unwrap()
}

fn profile() -> Profile {
    toml::from_str(&format!(
        r#"
        tenant = "contoso.onmicrosoft.com"
        client_id = "00000000-0000-0000-0000-000000000001"
        auth = "client_secret"
        [[tags]]
        name = "{PRIORITY_ACCOUNT}"
        members = ["ceo@contoso.com", "cfo@contoso.com"]
        "#
    ))
    .unwrap()
}

fn temp_cache(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ww-posture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("cache.sqlite")
}

/// The directory (for the tags) and every Graph posture source: the test server
/// serves no mail or alerts.
fn options() -> RefreshOptions {
    let mut only = vec!["directory".to_string()];
    only.extend(
        source::ALL
            .iter()
            .filter(|s| **s != source::EXCHANGE)
            .map(|s| s.to_string()),
    );
    RefreshOptions {
        only,
        ..RefreshOptions::default()
    }
}

fn fresh(a: Option<&SourceAvailability>) -> bool {
    matches!(a, Some(SourceAvailability::Fresh { .. }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_source_is_unavailable_and_every_other_source_is_fresh() {
    let world: Shared = Arc::new(Mutex::new(World {
        deny_ca: true,
        risky_429_left: 2,
        ..World::default()
    }));
    let base = start(world.clone()).await;
    let client = client(&base);
    let path = temp_cache("refused");
    let profile = profile();
    let summary = refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options(),
        &|_| {},
    )
    .await
    .unwrap();

    let cache = Cache::open(&path).unwrap();
    let p = cache.posture_sources().unwrap();
    match p.availability.get(source::CONDITIONAL_ACCESS) {
        Some(SourceAvailability::Unavailable { grant, message }) => {
            assert_eq!(grant, "Policy.Read.All");
            assert_eq!(
                message,
                "You cannot perform the requested operation, required scopes are missing in the token."
            );
            let state = cache
                .source_state(source::CONDITIONAL_ACCESS)
                .unwrap()
                .unwrap();
            assert_eq!(state.grant.as_deref(), Some("Policy.Read.All"));
            assert!(
                state
                    .last_error
                    .unwrap_or_default()
                    .starts_with("unavailable: grant Policy.Read.All ("),
                "what :sources shows"
            );
        }
        other => panic!("conditional access: {other:?}"),
    }
    for s in [
        source::MFA,
        source::SIGN_INS,
        source::MEMBERSHIPS,
        source::RISKY_USERS,
        source::SECURE_SCORE,
        source::MESSAGE_TRACES,
    ] {
        assert!(
            fresh(p.availability.get(s)),
            "{s}: {:?}",
            p.availability.get(s)
        );
    }
    assert_eq!(
        p.availability.get(source::EXCHANGE),
        Some(&SourceAvailability::Missing)
    );
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.contains("conditional-access unavailable: grant Policy.Read.All")),
        "{:?}",
        summary.warnings
    );
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.starts_with("risky-users: skipped 1 record")),
        "{:?}",
        summary.warnings
    );

    // What was stored: the documented records, the priority accounts' data only.
    assert_eq!(p.registrations.len(), 3);
    assert!(p.policies.is_empty());
    let ids: Vec<&str> = p.sign_ins.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["66ea54eb-6301-4ee5-be62-ff5a759b0100", "older-sign-in"],
        "newest first, both pages"
    );
    assert_eq!(p.memberships.len(), 2);
    assert_eq!(p.memberships[0].user_id, "u-ceo");
    assert_eq!(p.memberships[0].group_ids, ["g-u-ceo"]);
    assert_eq!(
        p.memberships[0].role_template_ids,
        ["62e90394-69f5-4237-9190-012177145e10"]
    );
    assert_eq!(p.risky_users.len(), 1);
    assert_eq!(p.risky_users[0].risk_level.as_deref(), Some("high"));
    assert_eq!((p.scores.len(), p.controls.len()), (1, 1));
    let mut traced: Vec<&str> = p.traces.iter().map(|t| t.id.as_str()).collect();
    traced.sort();
    assert_eq!(
        traced,
        ["t1", "t3"],
        "only mail to or from priority accounts"
    );

    // The requests: batched filters, the documented page sizes, the 429 retried.
    let seen = world.lock().unwrap().seen.clone();
    let find = |p: &str| {
        seen.iter()
            .filter(|s| s.starts_with(p))
            .cloned()
            .collect::<Vec<_>>()
    };
    let sign_in_calls = find("/v1.0/auditLogs/signIns");
    assert_eq!(sign_in_calls.len(), 2, "{sign_in_calls:?}");
    assert!(
        sign_in_calls[0].contains("$filter=createdDateTime ge 20")
            && sign_in_calls[0].contains("Z and (userId eq 'u-ceo' or userId eq 'u-cfo')")
            && sign_in_calls[0].contains("$top=1000"),
        "{}",
        sign_in_calls[0]
    );
    let mfa = find("/v1.0/reports/authenticationMethods/userRegistrationDetails");
    assert!(
        mfa[0].contains(
            "userPrincipalName eq 'ceo@contoso.com' or userPrincipalName eq 'cfo@contoso.com'"
        ),
        "{mfa:?}"
    );
    assert_eq!(
        find("/v1.0/identityProtection/riskyUsers").len(),
        3,
        "two 429s, then the answer"
    );
    let trace_calls = find("/v1.0/admin/exchange/tracing/messageTraces");
    assert_eq!(trace_calls.len(), 1);
    assert!(
        trace_calls[0].contains("receivedDateTime ge ")
            && trace_calls[0].contains(" and receivedDateTime le ")
            && trace_calls[0].contains("$top=5000"),
        "{}",
        trace_calls[0]
    );
    assert_eq!(
        find("/v1.0/users/u-ceo/transitiveMemberOf?$select=id,roleTemplateId").len(),
        1
    );

    // Granted later, with risky users listing nothing: CA is fresh, the cached risky
    // users are kept with a warning.
    {
        let mut w = world.lock().unwrap();
        w.deny_ca = false;
        w.empty_risky = true;
    }
    drop(cache);
    let summary = refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options(),
        &|_| {},
    )
    .await
    .unwrap();
    let cache = Cache::open(&path).unwrap();
    let p = cache.posture_sources().unwrap();
    assert!(fresh(p.availability.get(source::CONDITIONAL_ACCESS)));
    assert_eq!(p.policies.len(), 2);
    assert_eq!(
        p.risky_users.len(),
        1,
        "an empty listing does not wipe the set"
    );
    assert!(
        summary
            .warnings
            .iter()
            .any(|w| w.starts_with("risky-users: the tenant listed nothing, but the cache holds 1")),
        "{:?}",
        summary.warnings
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

/// Pacing claims a quota slot per request and nothing more: with each service's
/// quota set to exactly the requests its sources make (MFA 1 and sign-ins 2 pages on
/// the reports quota; Conditional Access 1 and risky users 1 on the protection quota;
/// message traces 1) in an hour, the refresh never waits. It used to claim a slot for
/// the empty "next page" of every pager too, and wait out the hour. Lifting the
/// limits keeps the tenant's own throttling: the 429s are still retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_claims_a_slot_per_request_and_429s_are_honoured_when_lifted() {
    let hour = std::time::Duration::from_secs(3600);
    let exact = PostureLimits {
        reports: (3, hour),
        protection: (2, hour),
        traces: (1, hour),
    };
    for (name, limits) in [("exact", exact), ("lifted", PostureLimits::lifted())] {
        let world: Shared = Arc::new(Mutex::new(World {
            risky_429_left: 2,
            ..World::default()
        }));
        let base = start(world.clone()).await;
        let client = client(&base);
        let path = temp_cache(&format!("pacing-{name}"));
        let options = RefreshOptions {
            posture_limits: limits,
            ..options()
        };
        let profile = profile();
        let run = refresh(
            &client,
            Cache::open(&path).unwrap(),
            &profile,
            &options,
            &|_| {},
        );
        let summary = tokio::time::timeout(std::time::Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("{name}: a posture call waited for a slot"))
            .unwrap();
        let seen = world.lock().unwrap().seen.clone();
        let count = |p: &str| seen.iter().filter(|s| s.starts_with(p)).count();
        assert_eq!(
            count("/v1.0/reports/authenticationMethods/userRegistrationDetails")
                + count("/v1.0/auditLogs/signIns"),
            3,
            "{name}: {seen:?}"
        );
        assert_eq!(
            count("/v1.0/identityProtection/riskyUsers"),
            3,
            "{name}: two 429s, then the answer"
        );
        assert_eq!(summary.http.throttled, 2, "{name}: {:?}", summary.http);
        let p = Cache::open(&path).unwrap().posture_sources().unwrap();
        for s in source::ALL.iter().filter(|s| **s != source::EXCHANGE) {
            assert!(
                fresh(p.availability.get(*s)),
                "{name} {s}: {:?}",
                p.availability.get(*s)
            );
        }
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_snapshot_is_a_fresh_source_and_its_vips_join_the_priority_tag() {
    let world: Shared = Arc::new(Mutex::new(World::default()));
    let base = start(world).await;
    let client = client(&base);
    let path = temp_cache("import");
    let profile = profile();
    let mut options = options();
    options.only = vec!["directory".into()];
    refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    let mut cache = Cache::open(&path).unwrap();
    assert!(
        !cache
            .tag_addresses(PRIORITY_ACCOUNT)
            .unwrap()
            .contains(&"chair@contoso.com".to_string())
    );
    let sample = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/posture/exchange-snapshot.sample.json"),
    )
    .unwrap();
    let report =
        whalewatch::sync::posture::import_exchange_snapshot(&mut cache, &profile, &sample).unwrap();
    assert_eq!((report.vips, report.mailboxes, report.rules), (3, 3, 3));
    assert_eq!(
        report.priority_accounts, 3,
        "ceo and cfo from the config, chair from the VIP list"
    );
    let members = cache.tag_members().unwrap();
    let chair: Vec<_> = members
        .iter()
        .filter(|m| m.tag == PRIORITY_ACCOUNT && m.address == "chair@contoso.com")
        .collect();
    assert_eq!(chair.len(), 1);
    assert_eq!(chair[0].source, TagSource::Exchange);
    assert_eq!(chair[0].detail, "exchange VIP list");
    let p = cache.posture_sources().unwrap();
    let generated = chrono::DateTime::parse_from_rfc3339("2026-10-31T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(
        p.availability.get(source::EXCHANGE),
        Some(&SourceAvailability::Fresh { as_of: generated })
    );
    let snapshot = p.exchange.unwrap();
    assert_eq!(snapshot.vips.len(), 3);
    assert_eq!(snapshot.mailboxes[1].imap_enabled, Some(true));
    // A refresh keeps the VIP list's members (the tags are resolved from the cache).
    drop(cache);
    refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    let cache = Cache::open(&path).unwrap();
    assert!(
        cache
            .tag_addresses(PRIORITY_ACCOUNT)
            .unwrap()
            .contains(&"chair@contoso.com".to_string())
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
