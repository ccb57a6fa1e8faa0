//! `POST /security/runHuntingQuery`: KQL over the world's advanced-hunting tables,
//! with the service's contract: 30 days of data, the optional `Timespan`, the row
//! cap (an error, never a silent truncation) and a per-minute call quota (429).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::errors::GraphError;
use super::{AppState, json_response};
use crate::kql::{self, KqlError, QueryOptions, ResultRows, TICKS_PER_SECOND};
use crate::world::HuntingCatalog;

const PERMISSIONS: &[&str] = &["ThreatHunting.Read.All"];
const RETENTION: i64 = 30 * 86_400 * TICKS_PER_SECOND;

/// Takes a slot of the per-minute quota, or says how long until one frees up.
fn take_quota(st: &AppState) -> Result<(), Duration> {
    let limit = st.config.hunting_calls_per_minute as usize;
    let now = Instant::now();
    let Ok(mut calls) = st.hunting_calls.lock() else {
        return Ok(());
    };
    while calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
    {
        calls.pop_front();
    }
    if calls.len() >= limit {
        let oldest = calls.front().copied().unwrap_or(now);
        return Err(Duration::from_secs(60).saturating_sub(now.duration_since(oldest)));
    }
    calls.push_back(now);
    Ok(())
}

/// A field of the request body, whatever its key's casing (`Query` / `query`).
fn field<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

pub async fn run(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = st.authorize(&headers, PERMISSIONS) {
        return st.graph_error(e);
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return st.graph_error(GraphError::bad_request(format!(
                "The request body is not valid JSON: {e}"
            )));
        }
    };
    let Some(query) = field(&body, "Query")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return st.graph_error(GraphError::bad_request(
            "The request body must contain a 'Query' string.",
        ));
    };
    let timespan = field(&body, "Timespan")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Err(wait) = take_quota(&st) {
        let secs = wait.as_secs().max(1);
        return st.graph_error(GraphError::throttled(
            format!("You have exceeded processing resources allocated to this tenant. You can run queries again in {secs} seconds."),
            secs.to_string(),
        ));
    }
    let now = st.clock.now();
    // Retention counts from the world's reference time, not the advancing clock, so
    // a world of `--days 30` stays whole however long the server runs.
    let retention_start = st.read_world(|w| w.now()) - RETENTION;
    let (start, end) = match timespan
        .as_deref()
        .map(|t| kql::parse_timespan_param(t, now))
    {
        None => (retention_start, None),
        Some(Ok((s, e))) => (s.max(retention_start), Some(e)),
        Some(Err(e)) => return st.graph_error(GraphError::bad_request(e.to_string())),
    };
    let opts = QueryOptions {
        now,
        start: Some(start),
        end,
        max_rows: st.config.max_rows,
    };
    let replay = st.replay.load(std::sync::atomic::Ordering::Relaxed);
    let key = (query.clone(), timespan.clone());
    if replay && let Some(body) = st.rendered.lock().ok().and_then(|r| r.get(&key).cloned()) {
        return json_response(body);
    }
    let state = st.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let w = state.read();
        let catalog = if state.config.campaign_views {
            HuntingCatalog::new(&w)
        } else {
            HuntingCatalog::new(&w).without_campaign_views()
        };
        kql::run_with(&query, &catalog, &opts, |r| render(&state.base_url, r))
    })
    .await;
    match outcome {
        Ok(Ok(body)) if replay => {
            let body = Bytes::from(body);
            if let Ok(mut r) = st.rendered.lock() {
                r.insert(key, body.clone());
            }
            json_response(body)
        }
        Ok(Ok(body)) => json_response(body),
        Ok(Err(e)) => st.graph_error(kql_error(&e)),
        Err(_) => st.graph_error(GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An unexpected error occurred during query execution. Please try again in a few minutes.",
        )),
    }
}

/// Maps an engine error onto the service's documented messages.
fn kql_error(e: &KqlError) -> GraphError {
    match e {
        KqlError::TooManyRows { limit } => GraphError::bad_request(format!(
            "Result size limit exceeded. Use \"summarize\" to aggregate results, \"project\" to drop uninteresting columns, or \"take\" to truncate results. (The result has more than {limit} rows.)"
        )),
        other => GraphError::bad_request(format!("A recognition error occurred. {other}")),
    }
}

/// Writes `{"@odata.context", "schema", "results"}` by hand, straight from the
/// query's result view: a hundred thousand rows go out per call, and building
/// values (or a `serde_json::Value` tree) first would double the work and the memory.
fn render(base_url: &str, r: &ResultRows<'_>) -> String {
    let columns = r.columns();
    let mut out = String::with_capacity(256 + r.len() * 48 * columns.len().max(1));
    let _ = write!(
        out,
        r#"{{"@odata.context":"{base_url}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults","schema":["#
    );
    let names: Vec<String> = columns.iter().map(|c| json_string(&c.name)).collect();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"name":{},"type":"{}"}}"#,
            names[i],
            c.ty.wire_name()
        );
    }
    out.push_str(r#"],"results":["#);
    for ri in 0..r.len() {
        if ri > 0 {
            out.push(',');
        }
        out.push('{');
        for (ci, name) in names.iter().enumerate() {
            if ci > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push(':');
            r.write_json(ri, ci, &mut out);
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}
