//! Fault injection: each fault kind on every request, then a mixed plan that a small
//! retrying client must see through to exactly the data of a fault-free server.

mod common;

use std::time::Duration;

use common::{Api, Reply, config, start};
use reqwest::StatusCode;
use serde_json::Value;
use whalewatch::sim::server::{SimConfig, SimServer};

fn faulty(seed: u64, plan: &str) -> SimConfig {
    let mut c = config(seed);
    c.faults = plan.parse().unwrap();
    c.fault_retry_after = 0.01;
    c.slow = Duration::from_millis(5);
    c
}

const ALERTS: &str = "/v1.0/security/alerts_v2?$top=5";

/// Tokens are signed with a key derived from the seed and the client secret, so a
/// fault-free server of the same seed can issue tokens the faulty one accepts, even
/// when every token request to the faulty one faults.
async fn sibling_token(seed: u64) -> (SimServer, String) {
    let clean = start(config(seed)).await;
    let token = Api::of(&clean).token().await;
    (clean, token)
}

async fn token_request(api: &Api) -> Reply {
    api.token_form(
        &api.tenant,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &api.client_id),
            ("client_secret", &api.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

/// The request log's fault per request, in order.
async fn logged_faults(base: &str) -> Vec<(String, Value)> {
    let log: Vec<Value> = common::http()
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.into_iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["fault"].clone()))
        .collect()
}

fn retry_after(r: &Reply) -> f64 {
    r.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("numeric Retry-After")
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_unavailable_carry_retry_after() {
    let (clean, token) = sibling_token(41).await;
    for (plan, status, code) in [
        ("429:1.0", StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
        (
            "503:1.0",
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
        ),
    ] {
        let server = start(faulty(41, plan)).await;
        let api = Api::of(&server);
        for path in [ALERTS, "/v1.0/users"] {
            let r = api.get(&token, path).await;
            assert_eq!(r.status, status, "{plan} {path}: {}", r.text);
            assert_eq!(r.graph_error().0, code);
            assert_eq!(retry_after(&r), 0.01);
            let doc = common::fixture("graph-error-429.json");
            common::has_keys_of(&r.json["error"], &doc["error"], "throttling error");
        }
        // The token endpoint faults too, in the identity platform's shape.
        let r = token_request(&api).await;
        assert_eq!(r.status, status);
        let (error, description) = r.oauth_error();
        assert_eq!(error, "temporarily_unavailable", "{}", r.text);
        assert!(description.starts_with("AADSTS"), "{description}");
        assert_eq!(retry_after(&r), 0.01);
        server.shutdown().await;
    }
    clean.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_in_graphs_shape() {
    let (clean, token) = sibling_token(42).await;
    let server = start(faulty(42, "500:1.0")).await;
    let api = Api::of(&server);
    let r = api.get(&token, ALERTS).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.graph_error().0, "InternalServerError");
    let r = api.hunt(&token, "EmailEvents | count", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    r.graph_error();
    let r = token_request(&api).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.oauth_error().0, "server_error");
    server.shutdown().await;
    clean.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncate_cuts_a_200_body_mid_json() {
    let (clean, token) = sibling_token(43).await;
    let good = Api::of(&clean).get(&token, ALERTS).await;
    assert_eq!(good.status, StatusCode::OK);
    let server = start(faulty(43, "truncate:1.0")).await;
    let api = Api::of(&server);
    for path in [ALERTS, "/v1.0/users"] {
        let r = api.get(&token, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.text.is_empty());
        assert!(
            serde_json::from_str::<Value>(&r.text).is_err(),
            "{path}: a truncated body parsed"
        );
    }
    let r = api.get(&token, ALERTS).await;
    let base_good = good.text.replace(&clean.base_url, &server.base_url);
    assert!(
        base_good.starts_with(&r.text),
        "not a prefix of the real body"
    );
    // Errors are not cut.
    let r = api.get("bogus", ALERTS).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    r.graph_error();
    server.shutdown().await;
    clean.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expire_token_rejects_a_valid_token() {
    let (clean, token) = sibling_token(44).await;
    let server = start(faulty(44, "expire-token:1.0")).await;
    let api = Api::of(&server);
    // The token endpoint itself is unaffected, and its tokens are valid...
    let own = api.token().await;
    assert_eq!(
        Api::of(&clean).get(&own, ALERTS).await.status,
        StatusCode::OK
    );
    // The log does not claim a fault the token endpoint never saw.
    let log = logged_faults(&server.base_url).await;
    assert!(log[0].0.ends_with("/oauth2/v2.0/token"), "{log:?}");
    assert!(log[0].1.is_null(), "{log:?}");
    // ...but Graph calls say they expired.
    for t in [&own, &token] {
        let r = api.get(t, ALERTS).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        let (code, message) = r.graph_error();
        assert_eq!(code, "InvalidAuthenticationToken");
        assert!(message.contains("expired"), "{message}");
    }
    server.shutdown().await;
    clean.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_responses_still_carry_the_right_data() {
    let (clean, token) = sibling_token(45).await;
    let server = start(faulty(45, "slow:1.0")).await;
    let api = Api::of(&server);
    let token2 = api.token().await;
    let clean_api = Api::of(&clean);
    for path in [ALERTS, "/v1.0/users?$top=10"] {
        let slow = api.get(&token2, path).await;
        let fast = clean_api.get(&token, path).await;
        assert_eq!(slow.status, StatusCode::OK);
        assert_eq!(slow.json["value"], fast.json["value"]);
    }
    let slow = api.hunt(&token2, "EmailEvents | count", None).await;
    let fast = clean_api.hunt(&token, "EmailEvents | count", None).await;
    assert_eq!(slow.status, StatusCode::OK);
    assert_eq!(slow.json["results"], fast.json["results"]);
    server.shutdown().await;
    clean.shutdown().await;
}

/// A client that sees through transient faults: retries 429/500/503 after
/// `Retry-After`, fetches a new token on 401, and retries unparseable bodies.
struct RetryingClient {
    api: Api,
    token: Option<String>,
    attempts: usize,
    retries: usize,
}

const MAX_ATTEMPTS: usize = 40;

impl RetryingClient {
    fn new(api: Api) -> Self {
        RetryingClient {
            api,
            token: None,
            attempts: 0,
            retries: 0,
        }
    }

    fn transient(status: StatusCode) -> bool {
        matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::SERVICE_UNAVAILABLE
        )
    }

    async fn backoff(r: &Reply) {
        let secs = r
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.01);
        assert!(secs < 5.0, "unexpected Retry-After {secs}");
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }

    async fn token(&mut self) -> String {
        if let Some(t) = &self.token {
            return t.clone();
        }
        for _ in 0..MAX_ATTEMPTS {
            self.attempts += 1;
            let r = self
                .api
                .token_form(
                    &self.api.tenant,
                    &[
                        ("grant_type", "client_credentials"),
                        ("client_id", &self.api.client_id),
                        ("client_secret", &self.api.client_secret),
                        ("scope", "https://graph.microsoft.com/.default"),
                    ],
                )
                .await;
            if Self::transient(r.status) {
                self.retries += 1;
                Self::backoff(&r).await;
                continue;
            }
            assert_eq!(r.status, StatusCode::OK, "token: {}", r.text);
            match r.json["access_token"].as_str() {
                Some(t) => {
                    self.token = Some(t.to_string());
                    return t.to_string();
                }
                None => self.retries += 1,
            }
        }
        panic!("no token after {MAX_ATTEMPTS} attempts");
    }

    /// GET (or POST `body`) until a parseable 200.
    async fn fetch(&mut self, url: &str, body: Option<&Value>) -> Value {
        for _ in 0..MAX_ATTEMPTS {
            let token = self.token().await;
            self.attempts += 1;
            let req = match body {
                Some(b) => self.api.http.post(url).json(b),
                None => self.api.http.get(url),
            };
            let r = Reply::of(req.bearer_auth(&token).send().await.unwrap()).await;
            if Self::transient(r.status) {
                self.retries += 1;
                Self::backoff(&r).await;
                continue;
            }
            if r.status == StatusCode::UNAUTHORIZED {
                self.retries += 1;
                self.token = None;
                continue;
            }
            assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
            if r.json.is_null() {
                self.retries += 1;
                continue;
            }
            return r.json;
        }
        panic!("{url}: no answer after {MAX_ATTEMPTS} attempts");
    }

    async fn all_pages(&mut self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut url = self.api.url(path);
        loop {
            let page = self.fetch(&url, None).await;
            out.extend(page["value"].as_array().unwrap().clone());
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return out,
            }
        }
    }

    async fn hunt(&mut self, query: &str) -> Value {
        let url = self.api.url("/v1.0/security/runHuntingQuery");
        let page = self
            .fetch(&url, Some(&serde_json::json!({ "Query": query })))
            .await;
        page["results"].clone()
    }
}

async fn everything(client: &mut RetryingClient) -> Vec<Value> {
    vec![
        Value::Array(client.all_pages("/v1.0/security/alerts_v2?$top=4").await),
        Value::Array(client.all_pages("/v1.0/users?$top=7").await),
        Value::Array(
            client
                .all_pages("/v1.0/security/incidents?$top=5&$expand=alerts")
                .await,
        ),
        client
            .hunt("EmailEvents | summarize count() by LatestDeliveryLocation, ThreatTypes | order by LatestDeliveryLocation asc, ThreatTypes asc")
            .await,
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retrying_client_sees_exactly_the_fault_free_data() {
    let clean = start(config(46)).await;
    let server = start(faulty(
        46,
        "429:0.1,500:0.05,503:0.05,truncate:0.05,expire-token:0.05",
    ))
    .await;
    let mut want_client = RetryingClient::new(Api::of(&clean));
    let want = everything(&mut want_client).await;
    assert_eq!(want_client.retries, 0, "the fault-free server faulted");
    assert!(want.iter().all(|v| !v.as_array().unwrap().is_empty()));

    let mut client = RetryingClient::new(Api::of(&server));
    let got = everything(&mut client).await;
    assert!(
        client.retries > 0,
        "no fault was injected in {} attempts",
        client.attempts
    );
    assert_eq!(got, want);

    // Every injected fault shows in the request log, and each one cost a retry.
    let log = logged_faults(&server.base_url).await;
    let faulted = log.iter().filter(|(_, f)| !f.is_null()).count();
    assert_eq!(faulted, client.retries, "{log:?}");
    server.shutdown().await;
    clean.shutdown().await;
}
