//! Helpers for the triage tests: the simulator's request log and alerts, read the way
//! a test proves what the tenant received.

use serde_json::Value;

use super::{Api, http};

/// Builds an [`Api`] for a simulator started as a process.
pub fn api_of(url: &str, tenant: &str, client_id: &str, client_secret: &str) -> Api {
    Api {
        base: url.to_string(),
        tenant: tenant.to_string(),
        client_id: client_id.to_string(),
        client_secret: client_secret.to_string(),
        http: http(),
    }
}

/// The simulator's request log: (method, path, status).
pub async fn requests(api: &Api) -> Vec<(String, String, u16)> {
    let v: Value = api
        .http
        .get(api.url("/_sim/requests"))
        .send()
        .await
        .expect("request log")
        .json()
        .await
        .expect("request log JSON");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default().to_string(),
                r["path"].as_str().unwrap_or_default().to_string(),
                r["status"].as_u64().unwrap_or_default() as u16,
            )
        })
        .collect()
}

/// Requests that change the tenant: anything but GET, the token endpoint and hunting.
pub fn writes(log: &[(String, String, u16)]) -> Vec<(String, String, u16)> {
    log.iter()
        .filter(|(m, p, _)| {
            m != "GET" && !p.ends_with("/oauth2/v2.0/token") && !p.ends_with("/runHuntingQuery")
        })
        .cloned()
        .collect()
}

/// Successful (2xx) requests with `method` whose path ends with `suffix`.
pub fn succeeded(log: &[(String, String, u16)], method: &str, suffix: &str) -> usize {
    log.iter()
        .filter(|(m, p, s)| m == method && p.ends_with(suffix) && (200..300).contains(s))
        .count()
}

/// One alert as the tenant has it now (injected faults are retried: the test reads
/// through the same faulty simulator as the client under test).
pub async fn tenant_alert(api: &Api, token: &str, id: &str) -> Value {
    let mut last = String::new();
    for _ in 0..50 {
        let r = api
            .get(token, &format!("/v1.0/security/alerts_v2/{id}"))
            .await;
        if r.status == 200 {
            return r.json;
        }
        last = r.text;
    }
    panic!("GET alert {id} kept failing: {last}");
}

/// A token, retrying injected faults.
pub async fn token(api: &Api) -> String {
    for _ in 0..50 {
        let r = api
            .token_form(
                &api.tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &api.client_id),
                    ("client_secret", &api.client_secret),
                    ("scope", "https://graph.microsoft.com/.default"),
                ],
            )
            .await;
        if r.status == 200 {
            return r.json["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        }
    }
    panic!("no token from the simulator");
}

/// How many comments on the tenant's alert have exactly `text`.
pub fn comments_with(alert: &Value, text: &str) -> usize {
    alert["comments"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["comment"] == text).count())
}

/// The analyst the triage tests write as.
pub const ANALYST: &str = "analyst@contoso.example";

/// The simulator's profile, signed in with its secret, writes allowed.
pub fn profile(server: &whalewatch::sim::server::SimServer) -> whalewatch::config::Profile {
    whalewatch::config::Profile {
        read_only: false,
        analyst: Some(ANALYST.into()),
        ..whalewatch::demo::signed_in(server, "WHALEWATCH_TEST_SECRET")
    }
}

/// A Graph client for `server` (read-only or not).
pub fn client(
    server: &whalewatch::sim::server::SimServer,
    read_only: bool,
) -> whalewatch::tenant::GraphClient {
    let credential = whalewatch::demo::credential(server);
    whalewatch::sync::connect::client_with(&profile(server), credential, None, read_only)
        .expect("a client")
}

/// A cache in its own directory, removed when dropped.
pub struct TempCache {
    pub dir: std::path::PathBuf,
    pub cache: whalewatch::cache::Cache,
}

impl Drop for TempCache {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A workspace with the simulator's profile (analyst set), refreshed.
pub fn workspace(tag: &str, sim: &super::refresh::SimProcess) -> super::refresh::Workspace {
    let mut ws = super::refresh::Workspace::new(tag);
    ws.add_sim_profile("sim", sim);
    ws.append_config(&format!("analyst = \"{ANALYST}\""));
    ws.refresh(&[]).expect_ok("refresh");
    ws
}
