//! Arbitrary requests to every endpoint of one shared server: each gets an answer,
//! never a 5xx (no faults are configured), and every error is a 4xx in the
//! documented shape (Graph's `error.code`/`error.message`; the identity platform's
//! `error`/`error_description`).

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{Api, config, start};
use proptest::prelude::*;
use proptest::test_runner::Config;
use reqwest::Method;
use serde_json::{Value, json};
use whalewatch::sim::server::SimServer;

struct Shared {
    rt: tokio::runtime::Runtime,
    api: Api,
    token: String,
    alert: String,
    incident: String,
    group: String,
    email: String,
    _server: SimServer,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut cfg = config(61);
        cfg.hunting_calls_per_minute = u32::MAX;
        cfg.devicecode_interval = Duration::ZERO;
        let server = rt.block_on(start(cfg));
        let mut api = Api::of(&server);
        api.http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let token = rt.block_on(api.token());
        let (alert, incident, group, email) = server.state.read_world(|w| {
            (
                w.alerts[0].id.clone(),
                w.incidents[0].id.to_string(),
                w.directory.groups[0].id.to_string(),
                format!("{}_0", w.messages[w.rows[0].message as usize].id),
            )
        });
        Shared {
            rt,
            api,
            token,
            alert,
            incident,
            group,
            email,
            _server: server,
        }
    })
}

/// `/{tenant}/oauth2/v2.0/token` or `/{tenant}/oauth2/v2.0/devicecode`.
fn is_token_endpoint(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", tenant, "oauth2", "v2.0", "token" | "devicecode"] if !tenant.is_empty()
    )
}

/// Sends one request and checks the answer's status and shape; `Err` describes
/// what is wrong.
fn check(
    method: Method,
    path: &str,
    query: &[(String, String)],
    body: Option<(&'static str, Vec<u8>)>,
    auth: bool,
) -> Result<(), String> {
    let s = shared();
    let url = format!("{}{path}", s.api.base);
    let what = format!("{method} {url} {query:?}");
    s.rt.block_on(async {
        let mut req = s.api.http.request(method.clone(), &url).query(query);
        if auth {
            req = req.bearer_auth(&s.token);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let resp = req.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = resp.status();
        // The client normalises the path (`..`), so judge the path it sent.
        let sent_path = resp.url().path().to_string();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("{what}: body: {e}"))?;
        if status.is_server_error() {
            return Err(format!("{what}: {status}: {text}"));
        }
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            if status == reqwest::StatusCode::OK && json.is_none() {
                return Err(format!("{what}: 200 with a body that is not JSON: {text}"));
            }
            return Ok(());
        }
        if !status.is_client_error() {
            return Err(format!("{what}: unexpected {status}"));
        }
        let Some(json) = json else {
            return Err(format!(
                "{what}: {status} with a body that is not JSON: {text:?}"
            ));
        };
        let ok = if is_token_endpoint(&sent_path) {
            json["error"].is_string() && json["error_description"].is_string()
        } else {
            json["error"]["code"].is_string() && json["error"]["message"].is_string()
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{what}: {status} in the wrong shape: {text}"))
        }
    })
}

fn assert_ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

// Requests that once broke the server.

#[test]
fn deeply_negated_filters_are_rejected_not_overflowed() {
    for n in [100, 5_000, 15_000] {
        let filter = format!("{}status eq 'new'", "not ".repeat(n));
        assert_ok(check(
            Method::GET,
            "/v1.0/security/alerts_v2",
            &[("$filter".into(), filter)],
            None,
            true,
        ));
    }
    let filter = format!("{}status eq 'new'", "(not ".repeat(5_000));
    assert_ok(check(
        Method::GET,
        "/v1.0/users",
        &[("$filter".into(), filter)],
        None,
        true,
    ));
}

#[test]
fn skiptokens_past_the_end_give_an_empty_last_page() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    for offset in [
        "100000",
        &usize::MAX.to_string(),
        &(usize::MAX - 5).to_string(),
    ] {
        for path in [
            "/v1.0/security/alerts_v2",
            "/v1.0/security/incidents",
            "/v1.0/users",
            "/v1.0/groups",
            "/v1.0/security/collaboration/analyzedEmails",
        ] {
            let q = [("$skiptoken".to_string(), b64(&format!("offset:{offset}")))];
            assert_ok(check(Method::GET, path, &q, None, true));
            let s = shared();
            let r = s.rt.block_on(s.api.get_query(
                &s.token,
                path,
                &[("$skiptoken", q[0].1.as_str())],
            ));
            assert_eq!(r.json["value"], json!([]), "{path}: {}", r.text);
            assert!(r.json.get("@odata.nextLink").is_none(), "{}", r.text);
        }
    }
}

#[test]
fn malformed_paths_and_wrong_methods_get_documented_errors() {
    let s = shared();
    let tenant = s.api.tenant.clone();
    for (method, path) in [
        (Method::GET, "/v1.0/security/alerts_v2/%FF".to_string()),
        (Method::PATCH, "/v1.0/security/alerts_v2/%C3%28".to_string()),
        (Method::GET, "/v1.0/users/%FF%FE".to_string()),
        (Method::GET, "/v1.0/groups/%80/members".to_string()),
        (Method::POST, "/%FF/oauth2/v2.0/token".to_string()),
        (Method::DELETE, "/v1.0/security/alerts_v2".to_string()),
        (Method::GET, "/v1.0/security/runHuntingQuery".to_string()),
        (Method::PUT, "/v1.0/users/x".to_string()),
        (Method::GET, format!("/{tenant}/oauth2/v2.0/token")),
        (Method::GET, "/nowhere".to_string()),
    ] {
        assert_ok(check(method, &path, &[], None, true));
    }
}

// Strategies.

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-zA-Z0-9 '()=,./:_-]{0,60}",
        Just(String::new()),
        Just("%FF".to_string()),
        Just("null".to_string()),
        Just("2026-10-31T00:00:00Z".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999999".to_string()),
    ]
}

fn odata_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$filter".to_string()),
        Just("$top".to_string()),
        Just("$select".to_string()),
        Just("$expand".to_string()),
        Just("$skiptoken".to_string()),
        Just("$orderby".to_string()),
        Just("startTime".to_string()),
        Just("endTime".to_string()),
        "[a-z$]{1,8}",
    ]
}

fn filter() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("status"),
        Just("severity"),
        Just("lastUpdateDateTime"),
        Just("displayName"),
        Just("eq"),
        Just("ne"),
        Just("ge"),
        Just("lt"),
        Just("in"),
        Just("and"),
        Just("or"),
        Just("not"),
        Just("("),
        Just(")"),
        Just(","),
        Just("'new'"),
        Just("'"),
        Just("2026-10-30T00:00:00Z"),
        Just("startswith(displayName,'A')"),
        Just("contains("),
        Just("null"),
        Just("3.5"),
        Just("evidence/verdict"),
    ];
    prop::collection::vec(word, 0..12).prop_map(|w| w.join(" "))
}

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        prop_oneof![
            (odata_key(), text()),
            filter().prop_map(|f| ("$filter".to_string(), f)),
            (0usize..3000).prop_map(|n| ("$top".to_string(), n.to_string())),
        ],
        0..4,
    )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// JSON bodies near what an endpoint expects, so validation goes deep.
fn shaped_body() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("status".to_string()),
        Just("classification".to_string()),
        Just("determination".to_string()),
        Just("assignedTo".to_string()),
        Just("comment".to_string()),
        Just("action".to_string()),
        Just("analyzedEmails".to_string()),
        Just("Query".to_string()),
        Just("Timespan".to_string()),
        Just("@odata.type".to_string()),
        text(),
    ];
    let value = prop_oneof![
        json_value(),
        Just(json!("resolved")),
        Just(json!("truePositive")),
        Just(json!("softDelete")),
        Just(json!("P1D")),
        Just(
            json!([{"networkMessageId": "73ca4154-58d8-43d0-a890-08dc18c52e6d", "recipientEmailAddress": "a@contoso.com"}])
        ),
    ];
    prop::collection::vec((key, value), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn body() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| ("application/json", b)),
        json_value().prop_map(|v| ("application/json", v.to_string().into_bytes())),
        shaped_body().prop_map(|v| ("application/json", v.to_string().into_bytes())),
        text().prop_map(|t| ("text/plain", t.into_bytes())),
    ]
}

fn form() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let key = prop_oneof![
        Just("grant_type"),
        Just("client_id"),
        Just("client_secret"),
        Just("scope"),
        Just("client_assertion"),
        Just("client_assertion_type"),
        Just("device_code"),
        Just("refresh_token"),
    ];
    let value = prop_oneof![
        text(),
        Just("client_credentials".to_string()),
        Just("urn:ietf:params:oauth:grant-type:device_code".to_string()),
        Just("refresh_token".to_string()),
        Just("urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string()),
        Just("https://graph.microsoft.com/.default".to_string()),
        Just("eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln".to_string()),
        Just("CLIENT_ID".to_string()),
    ];
    prop_oneof![
        prop::collection::vec((key, value), 0..7).prop_map(|kv| {
            let s = shared();
            let pairs: Vec<(&str, String)> = kv
                .into_iter()
                .map(|(k, v)| (k, v.replace("CLIENT_ID", &s.api.client_id)))
                .collect();
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            ("application/x-www-form-urlencoded", body.into_bytes())
        }),
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| ("application/x-www-form-urlencoded", b)),
    ]
}

/// Path segments: real ids, arbitrary text (percent-encoded) and broken encodings.
fn segment(real: fn(&Shared) -> String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(()).prop_map(move |_| real(shared())),
        text().prop_map(|t| url::form_urlencoded::byte_serialize(t.as_bytes()).collect()),
        Just("%FF".to_string()),
        Just("%".to_string()),
        Just("..".to_string()),
        Just("%2F".to_string()),
    ]
    .prop_filter("a segment", |s| !s.is_empty())
}

fn kql() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("EmailEvents"),
        Just("EmailUrlInfo"),
        Just("AlertInfo"),
        Just("IdentityInfo"),
        Just("|"),
        Just("where"),
        Just("summarize"),
        Just("count()"),
        Just("dcount(RecipientEmailAddress)"),
        Just("by"),
        Just("take"),
        Just("top"),
        Just("10"),
        Just("-1"),
        Just("project"),
        Just("extend"),
        Just("x"),
        Just("="),
        Just("=="),
        Just("!="),
        Just("has"),
        Just("contains"),
        Just("\"Phish\""),
        Just("'"),
        Just("\""),
        Just("and"),
        Just("or"),
        Just("not("),
        Just("("),
        Just(")"),
        Just(","),
        Just("Timestamp"),
        Just("ThreatTypes"),
        Just("DeliveryLocation"),
        Just("ago(1d)"),
        Just("datetime(2026-10-31)"),
        Just("bin(Timestamp, 1h)"),
        Just("order"),
        Just("asc"),
        Just("desc"),
        Just("distinct"),
        Just("let"),
        Just(";"),
        Just("join"),
        Just("mv-expand"),
        Just("tolower(Subject)"),
        Just("1e308"),
        Just("9223372036854775807"),
        Just("/"),
        Just("*"),
    ];
    prop_oneof![
        prop::collection::vec(token, 0..14).prop_map(|t| t.join(" ")),
        text(),
    ]
}

/// 64 cases a run keeps the suite fast; `PROPTEST_CASES=5000` digs deeper.
fn cfg() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn token_and_devicecode_endpoints(
        tenant in prop_oneof![Just(String::new()), segment(|s| s.api.tenant.clone()), Just("contoso.onmicrosoft.com".to_string())],
        devicecode in any::<bool>(),
        body in form(),
    ) {
        let tenant = if tenant.is_empty() { shared().api.tenant.clone() } else { tenant };
        let path = if devicecode {
            format!("/{tenant}/oauth2/v2.0/devicecode")
        } else {
            format!("/{tenant}/oauth2/v2.0/token")
        };
        check(Method::POST, &path, &[], Some(body), false).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn list_endpoints(
        which in 0usize..7,
        q in query(),
        auth in prop::bool::weighted(0.9),
        group in segment(|s| s.group.clone()),
    ) {
        let path = match which {
            0 => "/v1.0/security/alerts_v2".to_string(),
            1 => "/v1.0/security/incidents".to_string(),
            2 => "/v1.0/users".to_string(),
            3 => "/v1.0/groups".to_string(),
            4 => format!("/v1.0/groups/{group}/members"),
            5 => format!("/beta/groups/{group}/transitiveMembers"),
            _ => "/v1.0/security/collaboration/analyzedEmails".to_string(),
        };
        check(Method::GET, &path, &q, None, auth).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn entity_endpoints(
        which in 0usize..5,
        alert in segment(|s| s.alert.clone()),
        incident in segment(|s| s.incident.clone()),
        email in segment(|s| s.email.clone()),
        user in segment(|s| s.api.client_id.clone()),
        q in query(),
    ) {
        let path = match which {
            0 => format!("/v1.0/security/alerts_v2/{alert}"),
            1 => format!("/v1.0/security/incidents/{incident}"),
            2 => format!("/v1.0/security/collaboration/analyzedEmails/{email}"),
            3 => format!("/v1.0/users/{user}"),
            _ => format!("/v1.0/groups/{user}"),
        };
        check(Method::GET, &path, &q, None, true).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn write_endpoints(
        which in 0usize..5,
        alert in segment(|s| s.alert.clone()),
        incident in segment(|s| s.incident.clone()),
        body in body(),
    ) {
        let (method, path) = match which {
            0 => (Method::PATCH, format!("/v1.0/security/alerts_v2/{alert}")),
            1 => (Method::POST, format!("/v1.0/security/alerts_v2/{alert}/comments")),
            2 => (Method::PATCH, format!("/v1.0/security/incidents/{incident}")),
            3 => (Method::POST, format!("/v1.0/security/incidents/{incident}/comments")),
            _ => (Method::POST, "/v1.0/security/collaboration/analyzedEmails/remediate".to_string()),
        };
        check(method, &path, &[], Some(body), true).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn hunting_queries(
        query in kql(),
        timespan in prop::option::of(prop_oneof![
            text(),
            Just("P1D".to_string()),
            Just("PT1H".to_string()),
            Just("P99999999D".to_string()),
            Just("2026-10-30T00:00:00Z/P1D".to_string()),
        ]),
        key in prop_oneof![Just("Query"), Just("query"), Just("QUERY")],
    ) {
        let mut body = json!({ key: query });
        if let Some(t) = timespan {
            body["Timespan"] = Value::String(t);
        }
        check(
            Method::POST,
            "/v1.0/security/runHuntingQuery",
            &[],
            Some(("application/json", body.to_string().into_bytes())),
            true,
        )
        .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn arbitrary_paths(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PATCH), Just(Method::DELETE)],
        segments in prop::collection::vec(prop_oneof![
            Just("v1.0".to_string()), Just("beta".to_string()), Just("security".to_string()),
            Just("alerts_v2".to_string()), Just("oauth2".to_string()), Just("v2.0".to_string()),
            Just("token".to_string()), Just("_sim".to_string()), Just("devicecode".to_string()),
            Just("approve".to_string()), Just("requests".to_string()), Just("users".to_string()),
            segment(|s| s.alert.clone()),
        ], 0..6),
        body in prop::option::of(body()),
    ) {
        let path = format!("/{}", segments.join("/"));
        check(method, &path, &[], body, true).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn oversized_bodies_are_refused_in_the_documented_shapes() {
    let big = vec![b'a'; 3 << 20];
    let s = shared();
    let body = json!({ "Query": String::from_utf8(big.clone()).unwrap() });
    for (path, content_type, bytes) in [
        (
            "/v1.0/security/runHuntingQuery".to_string(),
            "application/json",
            body.to_string().into_bytes(),
        ),
        (
            format!("/{}/oauth2/v2.0/token", s.api.tenant),
            "application/x-www-form-urlencoded",
            big,
        ),
    ] {
        assert_ok(check(
            Method::POST,
            &path,
            &[],
            Some((content_type, bytes)),
            true,
        ));
    }
}
