//! HTTP-level behaviour of the Graph core and identity flows against a tiny loopback server
//! with canned responses (the simulator will replace most of this later).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use whalewatch::model::{EmailEvent, RemediateRequest};
use whalewatch::tenant::auth::{
    ClientSecret, Credential, DeviceCodeFlow, Identity, Secret, TokenProvider,
};
use whalewatch::tenant::retry::BoxFuture;
use whalewatch::tenant::window::{CallPacer, WindowPlan};
use whalewatch::tenant::{
    AccessTokenSource, Cloud, CloudEndpoints, GraphClient, GraphConfig, RetryPolicy, Sleeper,
    StaticToken, TenantError,
};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    authorization: Option<String>,
    body: String,
}

/// An answer ending with this is sent without it, then the connection stalls.
const STALL: &str = "\u{0}stall";

type Handler = Arc<dyn Fn(usize, &Seen) -> String + Send + Sync>;

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn json_ok(body: &str) -> String {
    response("200 OK", &[("Content-Type", "application/json")], body)
}

/// Serves `handler`'s answer to each request (numbered from 0), one request per connection.
async fn serve(handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let base = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (handler, seen, counter) = (handler.clone(), seen2.clone(), counter.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let header = |name: &str| {
                    head.lines().find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.trim().to_owned())
                    })
                };
                let len: usize = header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let mut start = head.lines().next().unwrap_or("").split_whitespace();
                let req = Seen {
                    method: start.next().unwrap_or("").to_owned(),
                    target: start.next().unwrap_or("").to_owned(),
                    authorization: header("authorization"),
                    body: String::from_utf8_lossy(&buf[head_end..]).into_owned(),
                };
                let index = counter.fetch_add(1, Ordering::SeqCst);
                let answer = handler(index, &req);
                if let Ok(mut s) = seen.lock() {
                    s.push(req);
                }
                if let Some(head) = answer.strip_suffix(STALL) {
                    // Headers and part of the body, then nothing until the client gives up.
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.read(&mut chunk).await;
                    return;
                }
                let _ = sock.write_all(answer.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Server { base, seen }
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Records waits instead of sleeping.
#[derive(Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

impl Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        if let Ok(mut v) = self.0.lock() {
            v.push(d);
        }
        Box::pin(async {})
    }
}

impl RecordingSleeper {
    fn waits(&self) -> Vec<Duration> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A token source that hands out `token-N` and counts renewals.
#[derive(Default)]
struct CountingTokens(AtomicUsize);

impl AccessTokenSource for CountingTokens {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        let n = self.0.load(Ordering::SeqCst);
        Box::pin(async move { Ok(Secret::new(format!("token-{n}"))) })
    }
    fn renew(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move { Ok(Secret::new(format!("token-{n}"))) })
    }
}

fn client(
    base: &str,
    tokens: Arc<dyn AccessTokenSource>,
    sleeper: Arc<RecordingSleeper>,
    read_only: bool,
) -> GraphClient {
    let mut config = GraphConfig::new(base);
    config.retry = RetryPolicy::fast_for_tests();
    config.sleeper = sleeper;
    config.read_only = read_only;
    config.connect_timeout = Duration::from_secs(2);
    config.read_timeout = Duration::from_secs(5);
    GraphClient::new(config, tokens).unwrap_or_else(|e| panic!("{e}"))
}

fn static_token() -> Arc<dyn AccessTokenSource> {
    Arc::new(StaticToken(Secret::new("t0k3n")))
}

#[tokio::test]
async fn throttling_honours_retry_after_and_is_counted() {
    let server = serve(Arc::new(|i, _| match i {
        0 => response(
            "429 Too Many Requests",
            &[("Retry-After", "0.02")],
            r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
        ),
        1 => response("503 Service Unavailable", &[], ""),
        _ => json_ok(r#"{"value":[{"id":"a1","title":"t"}]}"#),
    }))
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = client(&server.base, static_token(), sleeper.clone(), false);
    let alerts = graph
        .list_alerts(None, Some(10))
        .collect_all()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .records;
    assert_eq!(alerts.len(), 1);
    let waits = sleeper.waits();
    assert_eq!(waits.len(), 2);
    assert_eq!(
        waits[0],
        Duration::from_millis(20),
        "Retry-After 0.02 honoured"
    );
    assert!(
        waits[1] <= RetryPolicy::fast_for_tests().ceiling(1),
        "backoff within its ceiling"
    );
    let stats = graph.stats();
    assert_eq!((stats.requests, stats.retries, stats.throttled), (3, 2, 2));
    assert!(stats.throttle_wait >= Duration::from_millis(20));
    let seen = server.seen();
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer t0k3n"));
    assert!(
        seen[0].target.starts_with("/v1.0/security/alerts_v2?"),
        "{}",
        seen[0].target
    );
    assert!(seen[0].target.contains("%24top=10"), "{}", seen[0].target);
}

#[tokio::test]
async fn persistent_throttling_gives_up_with_an_actionable_error() {
    let server = serve(Arc::new(|_, _| {
        response("429 Too Many Requests", &[("Retry-After", "0")], "")
    }))
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = client(&server.base, static_token(), sleeper.clone(), false);
    let err = graph
        .run_hunting_query("EmailEvents | take 1", None)
        .await
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert!(matches!(err, TenantError::Throttled { .. }), "{err}");
    assert!(
        err.to_string().contains("throttled by Microsoft Graph"),
        "{err}"
    );
    assert_eq!(
        server.seen().len(),
        RetryPolicy::fast_for_tests().max_attempts as usize
    );
}

#[tokio::test]
async fn truncated_json_is_retried() {
    let full = r#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[{"Timestamp":"2024-03-26T09:39:50.7688641Z","Subject":"hi"}]}"#;
    let cut = &full[..full.len() / 2];
    let cut = cut.to_owned();
    let full = full.to_owned();
    let server = serve(Arc::new(move |i, _| {
        if i == 0 {
            json_ok(&cut)
        } else {
            json_ok(&full)
        }
    }))
    .await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = client(&server.base, static_token(), sleeper, true);
    let rows = graph
        .run_hunting_rows::<EmailEvent>("EmailEvents", None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.rows[0].subject, "hi");
    assert_eq!(graph.stats().retries, 1);
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].body, r#"{"Query":"EmailEvents"}"#,
        "runHuntingQuery is allowed in read-only mode"
    );
}

#[tokio::test]
async fn always_truncated_json_reports_the_offset() {
    let server = serve(Arc::new(|_, _| json_ok(r#"{"value":[{"id":"#))).await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let err = graph
        .get_alert("x")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("unreadable response from GET /security/alerts_v2/x at byte"),
        "{err}"
    );
}

#[tokio::test]
async fn unauthorized_renews_the_token_once() {
    let server = serve(Arc::new(|_, req: &Seen| {
        if req.authorization.as_deref() == Some("Bearer token-0") {
            response(
                "401 Unauthorized",
                &[],
                r#"{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}"#,
            )
        } else {
            json_ok(r#"{"id":"a1","title":"ok"}"#)
        }
    }))
    .await;
    let tokens = Arc::new(CountingTokens::default());
    let graph = client(
        &server.base,
        tokens.clone(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let alert = graph
        .get_alert("a1")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alert.title, "ok");
    assert_eq!(tokens.0.load(Ordering::SeqCst), 1);
    assert_eq!(graph.stats().token_renewals, 1);

    // A 401 that survives renewal is reported, not looped on.
    let server = serve(Arc::new(|_, _| {
        response(
            "401 Unauthorized",
            &[],
            r#"{"error":{"code":"x","message":"nope"}}"#,
        )
    }))
    .await;
    let graph = client(
        &server.base,
        Arc::new(CountingTokens::default()),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let err = graph
        .get_alert("a1")
        .await
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert!(matches!(err, TenantError::Unauthorized { .. }), "{err}");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn next_links_to_another_host_are_refused() {
    // Following it would hand our bearer token to whoever forged the link.
    let server = serve(Arc::new(|_, _| {
        json_ok(r#"{"value":[{"id":"u1"}],"@odata.nextLink":"https://attacker.example/v1.0/users?$skiptoken=abc"}"#)
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let mut pager = graph.list_users();
    let first = pager.next_page().await;
    assert!(first.is_some_and(|p| p.is_ok_and(|users| users.len() == 1)));
    let second = pager.next_page().await;
    let err = second
        .and_then(|p| p.err())
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("is not this profile's host"), "{err}");
    assert_eq!(server.seen().len(), 1);
    assert!(
        server.seen()[0]
            .target
            .contains("%24select=id%2CuserPrincipalName"),
        "{}",
        server.seen()[0].target
    );
}

#[tokio::test]
async fn paging_collects_every_page() {
    // The handler learns its own address through a shared cell filled after bind.
    let own = Arc::new(Mutex::new(String::new()));
    let own2 = own.clone();
    let server = serve(Arc::new(move |_, req: &Seen| {
        if req.target.contains("skiptoken") {
            json_ok(r##"{"value":[{"@odata.type":"#microsoft.graph.group","id":"g2"}]}"##)
        } else {
            let base = own2.lock().map(|b| b.clone()).unwrap_or_default();
            json_ok(&format!(
                r##"{{"value":[{{"@odata.type":"#microsoft.graph.user","id":"u1","mail":"a@x.test"}}],"@odata.nextLink":"{base}/v1.0/groups/g1/transitiveMembers?$top=999&$skiptoken=abc"}}"##
            ))
        }
    }))
    .await;
    if let Ok(mut b) = own.lock() {
        *b = server.base.clone();
    }
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let mut pager = graph.group_transitive_members("g1");
    let mut all = Vec::new();
    while let Some(page) = pager.next_page().await {
        all.extend(page.unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(pager.pages(), 2);
    assert_eq!(all.len(), 2);
    assert!(
        matches!(&all[0], whalewatch::model::DirectoryObject::User(u) if u.mail.as_deref() == Some("a@x.test"))
    );
    assert!(matches!(&all[1], whalewatch::model::DirectoryObject::Group(g) if g.id == "g2"));
    let seen = server.seen();
    assert_eq!(
        seen[1].target,
        "/v1.0/groups/g1/transitiveMembers?$top=999&$skiptoken=abc"
    );
}

#[tokio::test]
async fn read_only_mode_sends_nothing() {
    let server = serve(Arc::new(|_, _| json_ok("{}"))).await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        true,
    );
    let update = whalewatch::tenant::alerts::AlertUpdate {
        status: Some(whalewatch::model::AlertStatus::Resolved),
        ..Default::default()
    };
    let err = graph
        .update_alert("a1", &update)
        .await
        .err()
        .unwrap_or_else(|| panic!("must refuse"));
    assert!(matches!(err, TenantError::ReadOnly { .. }), "{err}");
    assert!(err.to_string().contains("read-only"));
    assert!(graph.add_alert_comment("a1", "hi").await.is_err());
    let req: RemediateRequest = serde_json::from_str(
        r#"{"displayName":"x","description":"y","severity":"low","action":"softDelete","remediateSendersCopy":false,"analyzedEmails":[]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        graph.remediate_emails(&req).await,
        Err(TenantError::ReadOnly { .. })
    ));
    assert!(server.seen().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn mutations_send_the_documented_bodies() {
    let server = serve(Arc::new(|_, req: &Seen| {
        if req.target.ends_with("/remediate") {
            response("202 Accepted", &[("Location", "https://security.microsoft.com/action-center/history?filters=x")], "")
        } else if req.target.ends_with("/comments") {
            json_ok(r#"{"value":[{"comment":"first"},{"comment":"hi","createdByDisplayName":"me","createdDateTime":"2022-10-13T07:08:40.3825324Z"}]}"#)
        } else {
            json_ok(r#"{"id":"a1","title":"t","status":"resolved"}"#)
        }
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let update = whalewatch::tenant::alerts::AlertUpdate {
        status: Some(whalewatch::model::AlertStatus::Resolved),
        ..Default::default()
    };
    let alert = graph
        .update_alert("a1", &update)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alert.status, Some(whalewatch::model::AlertStatus::Resolved));
    let comments = graph
        .add_alert_comment("a1", "hi")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(comments.len(), 2);
    let req: RemediateRequest = serde_json::from_str(
        r#"{"displayName":"x","description":"y","severity":"low","action":"softDelete","remediateSendersCopy":"false","analyzedEmails":[{"networkMessageId":"n","recipientEmailAddress":"r@x.test"}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let location = graph
        .remediate_emails(&req)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        location.as_deref(),
        Some("https://security.microsoft.com/action-center/history?filters=x")
    );
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].body.as_str()),
        ("PATCH", r#"{"status":"resolved"}"#)
    );
    assert!(seen[1].body.contains(r#""comment":"hi""#));
    assert_eq!(
        seen[2].target,
        "/v1.0/security/collaboration/analyzedEmails/remediate"
    );
    assert!(seen[2].body.contains(r#""remediateSendersCopy":false"#));
}

#[tokio::test]
async fn forbidden_names_the_missing_permission() {
    let server = serve(Arc::new(|_, _| {
        response(
            "403 Forbidden",
            &[],
            r#"{"error":{"code":"Forbidden","message":"Missing application roles"}}"#,
        )
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let err = graph
        .run_hunting_query("EmailEvents", None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("ThreatHunting.Read.All") && err.contains("admin consent"),
        "{err}"
    );
    assert_eq!(server.seen().len(), 1, "4xx is not retried");
}

#[tokio::test]
async fn hunting_windows_split_on_the_row_cap_error() {
    // More than 2 rows in a window → the service refuses with the row-limit message.
    let server = serve(Arc::new(|_, req: &Seen| {
        let body: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
        let q = body["Query"].as_str().unwrap_or("").to_owned();
        let from = q.split("datetime(").nth(1).and_then(|s| s.split(')').next()).unwrap_or("");
        let to = q.split("datetime(").nth(2).and_then(|s| s.split(')').next()).unwrap_or("");
        let times = ["2024-01-01T00:00:10.0000000Z", "2024-01-01T00:00:20.0000000Z", "2024-01-01T00:00:30.0000000Z", "2024-01-01T00:00:40.0000000Z", "2024-01-01T00:00:50.0000000Z"];
        let inside: Vec<&str> = times.iter().copied().filter(|t| *t >= from && *t < to).collect();
        if inside.len() > 2 {
            return response("400 Bad Request", &[], r#"{"error":{"code":"BadRequest","message":"Query result exceeds the 100,000 row limit"}}"#);
        }
        let rows: Vec<String> = inside.iter().map(|t| format!(r#"{{"Timestamp":"{t}","NetworkMessageId":"m{t}"}}"#)).collect();
        json_ok(&format!(r#"{{"schema":[],"results":[{}]}}"#, rows.join(",")))
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        true,
    );
    let from = whalewatch::model::time::parse_datetime("2024-01-01T00:00:00Z").unwrap_or_default();
    let plan = WindowPlan {
        from,
        to: from + chrono::Duration::minutes(1),
        initial_window: chrono::Duration::minutes(1),
        min_window: chrono::Duration::seconds(1),
        row_cap: 100_000,
    };
    let pacer = Mutex::new(CallPacer::per_minute(45));
    let mut got = Vec::new();
    let template = whalewatch::tenant::hunting::table_window_template("EmailEvents");
    let stats = graph
        .hunt_windows::<EmailEvent>(&template, &plan, &pacer, |_, rows| {
            got.extend(rows.into_iter().map(|r| r.timestamp));
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), 5, "no row lost");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "time order");
    assert!(stats.splits >= 1);
    assert_eq!(stats.calls as usize, server.seen().len());
}

fn identity(base: &str) -> Identity {
    Identity {
        endpoints: CloudEndpoints::new(Cloud::Global, Some(base), Some(base)),
        tenant: "contoso".into(),
        client_id: "app-1".into(),
    }
}

#[tokio::test]
async fn client_secret_tokens_are_cached_and_errors_hide_the_secret() {
    let server = serve(Arc::new(|_, req: &Seen| {
        if req.body.contains("client_secret=good") {
            json_ok(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"AT-1"}"#)
        } else {
            response(
                "401 Unauthorized",
                &[],
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: t","error_codes":[7000215],"trace_id":"t"}"#,
            )
        }
    }))
    .await;
    let http = reqwest::Client::new();
    let good = TokenProvider::new(
        identity(&server.base),
        Credential::ClientSecret(ClientSecret::new(Secret::new("good"))),
        http.clone(),
    );
    assert_eq!(
        good.access_token()
            .await
            .map(|t| t.expose().to_owned())
            .ok()
            .as_deref(),
        Some("AT-1")
    );
    assert_eq!(
        good.access_token()
            .await
            .map(|t| t.expose().to_owned())
            .ok()
            .as_deref(),
        Some("AT-1")
    );
    assert_eq!(server.seen().len(), 1, "second call served from memory");
    let seen = server.seen();
    assert_eq!(seen[0].target, "/contoso/oauth2/v2.0/token");
    assert!(
        seen[0]
            .body
            .contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    );
    assert!(seen[0].body.contains("grant_type=client_credentials"));

    let very_secret = "S3cr3t~Value-that-must-not-leak";
    let bad = TokenProvider::new(
        identity(&server.base),
        Credential::ClientSecret(ClientSecret::new(Secret::new(very_secret))),
        http,
    );
    let err = bad
        .access_token()
        .await
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    let shown = format!("{err} / {err:?} / {bad:?}");
    assert!(
        shown.contains("client secret is wrong or expired"),
        "{shown}"
    );
    assert!(!shown.contains(very_secret), "secret leaked: {shown}");
    // Graph calls through a failing provider surface the same identity error.
    let graph = client(
        &server.base,
        Arc::new(bad),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let err = graph
        .get_alert("x")
        .await
        .err()
        .map(|e| format!("{e} {e:?}"))
        .unwrap_or_default();
    assert!(
        !err.contains(very_secret) && err.contains("client secret"),
        "{err}"
    );
}

#[tokio::test]
async fn device_code_flow_polls_slows_down_and_finishes() {
    let server = serve(Arc::new(|i, req: &Seen| {
        if req.target.ends_with("/devicecode") {
            return json_ok(r#"{"device_code":"DC","user_code":"ABCD-EFGH","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":1,"message":"To sign in, use a web browser..."}"#);
        }
        match i {
            1 => response("400 Bad Request", &[], r#"{"error":"authorization_pending"}"#),
            2 => response("400 Bad Request", &[], r#"{"error":"slow_down"}"#),
            _ => json_ok(r#"{"token_type":"Bearer","expires_in":"3599","access_token":"AT","refresh_token":"RT-1","scope":"x"}"#),
        }
    }))
    .await;
    let http = reqwest::Client::new();
    let id = identity(&server.base);
    let sleeper = RecordingSleeper::default();
    let flow = DeviceCodeFlow {
        identity: &id,
        http: &http,
        sleeper: &sleeper,
    };
    let challenge = flow.start().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(challenge.user_code, "ABCD-EFGH");
    let token = flow
        .poll(&challenge)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        token.refresh_token.as_ref().map(Secret::expose),
        Some("RT-1")
    );
    assert_eq!(
        sleeper.waits(),
        vec![
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(6)
        ]
    );
    let seen = server.seen();
    assert!(
        seen[0]
            .body
            .contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+offline_access"),
        "{}",
        seen[0].body
    );
    assert!(
        seen[1]
            .body
            .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
    );
    assert!(seen[1].body.contains("device_code=DC"));

    // Declined and expired codes end the flow with advice.
    let server = serve(Arc::new(|_, _| {
        response(
            "400 Bad Request",
            &[],
            r#"{"error":"authorization_declined"}"#,
        )
    }))
    .await;
    let id = identity(&server.base);
    let flow = DeviceCodeFlow {
        identity: &id,
        http: &http,
        sleeper: &sleeper,
    };
    let err = flow
        .poll(&challenge)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("declined"), "{err}");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_persist() {
    let server = serve(Arc::new(|i, req: &Seen| {
        assert!(req.body.contains("grant_type=refresh_token"));
        json_ok(&format!(r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"AT-{i}","refresh_token":"RT-{}"}}"#, i + 2))
    }))
    .await;
    let dir = std::env::temp_dir().join(format!("ww-tenant-http-{}", std::process::id()));
    let store = whalewatch::tenant::auth::TokenStore::new(&dir);
    let provider = TokenProvider::new(
        identity(&server.base),
        Credential::RefreshToken(Secret::new("RT-1")),
        reqwest::Client::new(),
    )
    .with_store(store.clone(), "analyst")
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        provider
            .access_token()
            .await
            .map(|t| t.expose().to_owned())
            .ok()
            .as_deref(),
        Some("AT-0")
    );
    assert_eq!(
        provider
            .renew()
            .await
            .map(|t| t.expose().to_owned())
            .ok()
            .as_deref(),
        Some("AT-1")
    );
    let seen = server.seen();
    assert!(seen[0].body.contains("refresh_token=RT-1"));
    assert!(
        seen[1].body.contains("refresh_token=RT-2"),
        "rotated refresh token used"
    );
    let saved = store
        .load("analyst")
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("saved"));
    assert_eq!(
        saved.refresh_token.as_ref().map(Secret::expose),
        Some("RT-3")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- Hostile or broken endpoints (issue #11) ----

fn product_http() -> reqwest::Client {
    whalewatch::tenant::http::http_client(
        Duration::from_secs(2),
        Duration::from_secs(5),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn authority(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// A server that records whatever reaches it and answers 200 with a token.
async fn bystander() -> Server {
    serve(Arc::new(|_, _| {
        json_ok(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"stolen"}"#)
    }))
    .await
}

#[tokio::test]
async fn sign_in_redirects_are_not_followed_so_no_credential_leaves_the_login_host() {
    let other = bystander().await;
    let target = format!("{}/steal", other.base);
    let login = serve(Arc::new(move |_, _| {
        response("307 Temporary Redirect", &[("Location", &target)], "")
    }))
    .await;
    let secret = "client-secret-that-stays-home";
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/refresh-test-certificate.pem"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let certificate = whalewatch::tenant::auth::certificate::Certificate::from_pem(&pem)
        .unwrap_or_else(|e| panic!("{e}"));
    for credential in [
        Credential::ClientSecret(ClientSecret::new(Secret::new(secret))),
        Credential::Certificate(Arc::new(certificate)),
        Credential::RefreshToken(Secret::new("refresh-token-that-stays-home")),
    ] {
        let provider = TokenProvider::new(identity(&login.base), credential, product_http());
        let err = provider
            .access_token()
            .await
            .err()
            .unwrap_or_else(|| panic!("a redirect must fail the sign-in"));
        assert!(matches!(err, TenantError::Redirected { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains(authority(&login.base)) && shown.contains(authority(&other.base)),
            "the message names both hosts: {shown}"
        );
        assert!(!shown.contains(secret), "{shown}");
    }
    // The device-code request is a form to the identity platform too.
    let id = identity(&login.base);
    let http = product_http();
    let flow = DeviceCodeFlow {
        identity: &id,
        http: &http,
        sleeper: &RecordingSleeper::default(),
    };
    let err = flow.start().await.err().map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("redirect")));
    assert!(
        other.seen().is_empty(),
        "the other host got {:?}",
        other.seen()
    );
    assert_eq!(login.seen().len(), 4, "a redirect is not retried");
}

#[tokio::test]
async fn graph_redirects_are_not_followed_for_reads_or_writes() {
    let other = bystander().await;
    let target = format!("{}/v1.0/security/alerts_v2/x", other.base);
    let graph_host = serve(Arc::new(move |_, _| {
        response("302 Found", &[("Location", &target)], "")
    }))
    .await;
    let mut config = GraphConfig::new(&graph_host.base);
    config.retry = RetryPolicy::fast_for_tests();
    config.sleeper = Arc::new(RecordingSleeper::default());
    let graph = GraphClient::new(config, static_token()).unwrap_or_else(|e| panic!("{e}"));
    let read = graph.get_alert("x").await.err();
    assert!(
        matches!(&read, Some(TenantError::Redirected { from, to, .. })
            if from == authority(&graph_host.base) && to == authority(&other.base)),
        "{read:?}"
    );
    let update = whalewatch::tenant::alerts::AlertUpdate::default();
    let write = graph.update_alert("x", &update).await.err();
    assert!(
        matches!(write, Some(TenantError::Redirected { .. })),
        "{write:?}"
    );
    assert!(other.seen().is_empty());
    assert_eq!(graph_host.seen().len(), 2, "neither is retried");
}

#[tokio::test]
async fn a_body_that_never_finishes_ends_at_the_request_deadline_and_is_tried_once_more() {
    let stall = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"id\":\"a\",{STALL}"
    );
    let server = serve(Arc::new(move |_, _| stall.clone())).await;
    let mut config = GraphConfig::new(&server.base);
    config.retry = RetryPolicy::fast_for_tests();
    config.sleeper = Arc::new(RecordingSleeper::default());
    config.request_timeout = Duration::from_millis(300);
    let graph = GraphClient::new(config, static_token()).unwrap_or_else(|e| panic!("{e}"));
    let err = graph.get_alert("a").await.err();
    assert!(
        matches!(&err, Some(TenantError::Network { message, .. }) if message == "timed out"),
        "{err:?}"
    );
    assert_eq!(
        server.seen().len(),
        2,
        "a deadline that ran out twice is not tried 8 times"
    );
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused_whether_announced_or_not() {
    let big = format!(r#"{{"id":"a","title":"{}"}}"#, "x".repeat(5000));
    let announced = json_ok(&big);
    // No Content-Length: the body ends when the connection closes.
    let unannounced = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{big}");
    let server = serve(Arc::new(move |i, _| {
        if i == 0 {
            announced.clone()
        } else {
            unannounced.clone()
        }
    }))
    .await;
    let mut config = GraphConfig::new(&server.base);
    config.retry = RetryPolicy::fast_for_tests();
    config.sleeper = Arc::new(RecordingSleeper::default());
    config.caps.graph = 1024;
    let graph = GraphClient::new(config, static_token()).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..2 {
        let err = graph.get_alert("a").await.err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.contains("GET /security/alerts_v2/a") && e.contains("larger than")
            ),
            "{err:?}"
        );
    }
    assert_eq!(server.seen().len(), 2, "an oversized body is not retried");
}

#[tokio::test]
async fn a_complete_but_wrong_body_is_not_retried() {
    let server = serve(Arc::new(|_, _| json_ok(r#"{"id":5}"#))).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let graph = client(&server.base, static_token(), sleeper.clone(), true);
    let err = graph.get_alert("a").await.err();
    assert!(
        matches!(err, Some(TenantError::InvalidResponse { .. })),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 1);
    assert!(sleeper.waits().is_empty());
}

#[tokio::test]
async fn a_lone_surrogate_becomes_a_replacement_character_not_a_failed_window() {
    let hunting = r#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[{"Timestamp":"2024-03-26T09:39:50.7688641Z","NetworkMessageId":"m1","RecipientEmailAddress":"a@contoso.com","Subject":"pay \ud800 now"}]}"#;
    let server = serve(Arc::new(move |_, req: &Seen| {
        if req.target.contains("runHuntingQuery") {
            json_ok(hunting)
        } else {
            json_ok(r#"{"id":"a","title":"x\udc00y"}"#)
        }
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        true,
    );
    let alert = graph.get_alert("a").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alert.title, "x\u{fffd}y");
    let rows = graph
        .run_hunting_rows::<EmailEvent>("EmailEvents", None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.rows[0].subject, "pay \u{fffd} now");
    let batch = graph
        .run_hunting_batch::<EmailEvent>("EmailEvents", None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(batch.len(), 1);
    assert_eq!(server.seen().len(), 3, "nothing retried");
}

#[tokio::test]
async fn records_without_their_key_or_with_invalid_times_are_rejected_not_merged() {
    let server = serve(Arc::new(|_, req: &Seen| {
        if req.target.contains("skip=1") {
            json_ok(r#"{"value":null}"#)
        } else {
            json_ok(concat!(
                r#"{"value":[{"id":"a","mitreTechniques":null,"systemTags":null},"#,
                r#"{"Id":"b","Title":"PascalCase"},"#,
                r#"{"title":"no id"},"#,
                r#"{"id":"c","lastUpdateDateTime":"2026-13-45T99:99:99Z"},"#,
                r#"{"id":"d","title":"x\ud800"}],"@odata.nextLink":"/security/alerts_v2?skip=1"}"#
            ))
        }
    }))
    .await;
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        true,
    );
    let mut pager = graph.list_alerts(None, None);
    let first = pager.next_page().await;
    let taken: Vec<String> = first
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .map(|a| format!("{}:{}", a.id, a.title))
        .collect();
    assert_eq!(taken, ["a:", "b:PascalCase", "d:x\u{fffd}"]);
    let rejected = pager.take_rejected();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].raw, r#"{"title":"no id"}"#);
    assert_eq!(rejected[0].reason, "the record has no id");
    assert!(
        rejected[1].reason.contains("2026-13-45T99:99:99Z"),
        "{rejected:?}"
    );
    // A null collection is an empty page.
    let second = pager.next_page().await;
    assert!(
        matches!(second, Some(Ok(ref v)) if v.is_empty()),
        "{second:?}"
    );
}

#[tokio::test]
async fn links_from_answers_are_checked_against_the_profile_hosts() {
    let server = serve(Arc::new(|_, req: &Seen| {
        if req.target.ends_with("/devicecode") {
            json_ok(r#"{"device_code":"DC","user_code":"ABCD","verification_uri":"https://evil.example/devicelogin","expires_in":900,"interval":1,"message":"go"}"#)
        } else {
            response(
                "202 Accepted",
                &[("Location", "https://evil.example/action-center")],
                "",
            )
        }
    }))
    .await;
    let id = identity(&server.base);
    let http = product_http();
    let flow = DeviceCodeFlow {
        identity: &id,
        http: &http,
        sleeper: &RecordingSleeper::default(),
    };
    let err = flow.start().await.err();
    assert!(
        matches!(&err, Some(TenantError::UntrustedLink { link_host, .. }) if link_host == "evil.example"),
        "{err:?}"
    );
    let graph = client(
        &server.base,
        static_token(),
        Arc::new(RecordingSleeper::default()),
        false,
    );
    let link = graph
        .remediate_emails(
            &serde_json::from_str::<RemediateRequest>(
                r#"{"displayName":"x","description":"y","severity":"low","action":"softDelete","remediateSendersCopy":false,"analyzedEmails":[]}"#,
            )
            .unwrap_or_else(|e| panic!("{e}")),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let link = link.unwrap_or_default();
    assert!(
        link.contains("untrusted") && link.contains("evil.example"),
        "{link}"
    );
    let forged = graph.url("http://evil.example/v1.0/users");
    assert!(matches!(forged, Err(TenantError::UntrustedLink { .. })));
}
