//! Shared helpers for the simulator's integration tests: small worlds, a server on
//! loopback, tokens, JSON requests, paging and the documentation fixtures.
#![allow(dead_code)]

pub mod proxy;
pub mod refresh;
pub mod triage;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use whalewatch::sim::WorldParams;
use whalewatch::sim::server::{SimConfig, SimServer};

/// The reference time every test world uses.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A small world: quick to generate, big enough to page through.
pub fn small_world(seed: u64) -> WorldParams {
    WorldParams {
        seed,
        now: now(),
        users: 60,
        days: 3,
        emails_per_day: 300,
    }
}

/// The default service configuration over a small world.
pub fn config(seed: u64) -> SimConfig {
    SimConfig::new(small_world(seed))
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Starts a server on a free loopback port.
pub async fn start(config: SimConfig) -> SimServer {
    SimServer::start(loopback(), config)
        .await
        .expect("simulator starts")
}

/// An HTTP client that never hangs a test forever.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A test's view of a running server: where it is and a client for it.
pub struct Api {
    pub base: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub http: reqwest::Client,
}

/// A response: status, headers and the body parsed as JSON (Null when it is not).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub async fn of(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// Asserts Graph's error shape and returns (code, message).
    pub fn graph_error(&self) -> (String, String) {
        let e = &self.json["error"];
        let code = e["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code in {}", self.text));
        let message = e["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.message in {}", self.text));
        assert!(
            e["innerError"].is_object(),
            "no error.innerError in {}",
            self.text
        );
        (code.to_string(), message.to_string())
    }

    /// Asserts the identity platform's error shape and returns (error, description).
    pub fn oauth_error(&self) -> (String, String) {
        let error = self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.text));
        let desc = self.json["error_description"]
            .as_str()
            .unwrap_or_else(|| panic!("no error_description in {}", self.text));
        (error.to_string(), desc.to_string())
    }
}

impl Api {
    pub fn of(server: &SimServer) -> Api {
        Api {
            base: server.base_url.clone(),
            tenant: server.tenant_id.clone(),
            client_id: server.client_id.clone(),
            client_secret: server.client_secret.clone(),
            http: http(),
        }
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base)
    }

    /// POSTs a form to the tenant's token endpoint.
    pub async fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> Reply {
        Reply::of(
            self.http
                .post(self.token_url(tenant))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A client-credentials access token.
    pub async fn token(&self) -> String {
        let r = self
            .token_form(
                &self.tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.client_id),
                    ("client_secret", &self.client_secret),
                    ("scope", "https://graph.microsoft.com/.default"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "token: {}", r.text);
        r.json["access_token"].as_str().unwrap().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path` (relative to the base, or an absolute nextLink).
    pub async fn get(&self, token: &str, path: &str) -> Reply {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.url(path)
        };
        Reply::of(self.http.get(url).bearer_auth(token).send().await.unwrap()).await
    }

    pub async fn get_query(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Reply {
        Reply::of(
            self.http
                .get(self.url(path))
                .query(query)
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Reply {
        Reply::of(
            self.http
                .request(method, self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send_json(reqwest::Method::PATCH, token, path, body)
            .await
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send_json(reqwest::Method::POST, token, path, body)
            .await
    }

    /// Follows `@odata.nextLink` from `path` with `query` to the end; returns every
    /// item and the number of pages.
    pub async fn page_all(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut r = self.get_query(token, path, query).await;
        let mut pages = 0;
        loop {
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            pages += 1;
            assert!(pages < 10_000, "paging never ends");
            out.extend(r.json["value"].as_array().expect("value array").clone());
            match r.json["@odata.nextLink"].as_str() {
                Some(next) => {
                    assert!(next.starts_with(&self.base), "nextLink {next}");
                    r = self.get(token, next).await;
                }
                None => break,
            }
        }
        out
    }

    /// Runs a hunting query; `timespan` is the optional `Timespan`.
    pub async fn hunt(&self, token: &str, query: &str, timespan: Option<&str>) -> Reply {
        let mut body = serde_json::json!({ "Query": query });
        if let Some(t) = timespan {
            body["Timespan"] = Value::String(t.to_string());
        }
        self.post(token, "/v1.0/security/runHuntingQuery", &body)
            .await
    }
}

/// A documentation fixture from `tests/fixtures/`, parsed.
pub fn fixture(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/").to_string() + name;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Asserts every key of `reference` is present in `ours`.
pub fn has_keys_of(ours: &Value, reference: &Value, what: &str) {
    let ours = ours
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object"));
    let missing: BTreeSet<&String> = reference
        .as_object()
        .unwrap_or_else(|| panic!("{what}: fixture is not an object"))
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "{what}: missing keys {missing:?}");
}

/// Rows of `sql` (a test's own query of the cache) as (text, number) pairs; a null
/// text is the empty string.
pub fn sql_pairs(cache: &whalewatch::cache::Cache, sql: &str) -> Vec<(String, i64)> {
    let mut stmt = cache.connection().prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            r.get(1)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
