//! Advanced hunting: `POST /security/runHuntingQuery`, generic and typed, and windowed pulls.

use crate::error::TenantError;
use crate::http::{Effect, GraphClient, GraphRequest, ParseFailure};
use crate::window::{CallPacer, TimeWindow, WindowFetch, WindowPlan, WindowStats, fetch_windows};
use serde::Serialize;
use std::sync::Mutex;
use std::time::Instant;
use whalewatch_model::batch::{BatchRow, RowBatch};
use whalewatch_model::time::format_datetime;
use whalewatch_model::{HuntingResult, HuntingRow, HuntingRows};

/// The endpoint.
pub const HUNTING_PATH: &str = "/security/runHuntingQuery";
/// Rows the service returns at most per call.
pub const HUNTING_ROW_CAP: usize = 100_000;
/// Calls the service allows per minute.
pub const HUNTING_CALLS_PER_MINUTE: usize = 45;

/// The request body; the service documents PascalCase keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HuntingQuery<'a> {
    /// KQL text.
    #[serde(rename = "Query")]
    pub query: &'a str,
    /// ISO 8601 duration (`P30D`) or interval; the service defaults to 30 days.
    #[serde(rename = "Timespan", skip_serializing_if = "Option::is_none")]
    pub timespan: Option<&'a str>,
}

/// The query for one window of a table pull: `template` with `{from}` and `{to}` replaced by
/// KQL datetime literals' contents.
pub fn window_query(template: &str, window: &TimeWindow) -> String {
    template
        .replace("{from}", &format_datetime(&window.from))
        .replace("{to}", &format_datetime(&window.to))
}

/// The default template for pulling a whole table by `Timestamp`.
pub fn table_window_template(table: &str) -> String {
    format!("{table} | where Timestamp >= datetime({{from}}) and Timestamp < datetime({{to}})")
}

fn hunting_post(body: Vec<u8>) -> GraphRequest<'static> {
    GraphRequest {
        method: reqwest::Method::POST,
        path: HUNTING_PATH,
        query: &[],
        body: Some(body),
        effect: Effect::Read,
        long_running: true,
    }
}

impl GraphClient {
    /// The request for `query` (a read, though sent with POST: allowed in read-only
    /// mode and retried when cut).
    fn hunting_request(query: &str, timespan: Option<&str>) -> Result<Vec<u8>, TenantError> {
        serde_json::to_vec(&HuntingQuery { query, timespan }).map_err(|e| TenantError::Config {
            message: format!("cannot encode the query: {e}"),
        })
    }

    async fn hunting<T>(
        &self,
        query: &str,
        timespan: Option<&str>,
        parse: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<T, TenantError> {
        let body = Self::hunting_request(query, timespan)?;
        self.execute(hunting_post(body), |r| parse(&r.body)).await
    }

    /// Runs any KQL query and returns the generic result.
    pub async fn run_hunting_query(
        &self,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<HuntingResult, TenantError> {
        self.hunting(query, timespan, |b| serde_json::from_slice(b))
            .await
    }

    /// Runs a query over a known table and parses rows straight into `R` (the fast path).
    pub async fn run_hunting_rows<R: HuntingRow>(
        &self,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<HuntingRows<R>, TenantError> {
        self.hunting(query, timespan, HuntingRows::<R>::from_slice)
            .await
    }

    /// Runs a query over a known table and parses rows straight into storage cells
    /// (the refresh's path: no struct, no allocation per value).
    pub async fn run_hunting_batch<R: BatchRow>(
        &self,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<RowBatch, TenantError> {
        let body = Self::hunting_request(query, timespan)?;
        self.execute_with(hunting_post(body), |raw| async move {
            tokio::task::spawn_blocking(move || {
                let mut body = raw.body;
                // Repaired only after a failure: the fast path scans nothing extra.
                RowBatch::parse::<R>(&body).or_else(|e| {
                    if whalewatch_model::json::replace_lone_surrogates(&mut body) > 0 {
                        RowBatch::parse::<R>(&body).map_err(|_| ParseFailure::of(&body, &e))
                    } else {
                        Err(ParseFailure::of(&body, &e))
                    }
                })
            })
            .await
            .unwrap_or_else(|e| {
                Err(ParseFailure {
                    offset: 0,
                    message: format!("the parser stopped: {e}"),
                    truncated: false,
                })
            })
        })
        .await
    }

    /// Pulls `plan`'s range window by window with `template` (see [`window_query`]), splitting
    /// windows that hit the row cap and pacing calls with `pacer`; complete windows go to `sink`.
    pub async fn hunt_windows<R: HuntingRow>(
        &self,
        template: &str,
        plan: &WindowPlan,
        pacer: &Mutex<CallPacer>,
        sink: impl FnMut(TimeWindow, Vec<R>) -> Result<(), TenantError>,
    ) -> Result<WindowStats, TenantError> {
        let fetch = |window: TimeWindow| {
            let query = window_query(template, &window);
            async move {
                let now = Instant::now();
                let wait = pacer.lock().map(|mut p| p.delay(now)).unwrap_or_default();
                if !wait.is_zero() {
                    self.sleeper().sleep(wait).await;
                }
                if let Ok(mut p) = pacer.lock() {
                    p.record(now + wait);
                }
                match self.run_hunting_rows::<R>(&query, None).await {
                    Ok(rows) => Ok(WindowFetch::Rows(rows.rows)),
                    Err(e) if e.is_row_cap() => Ok(WindowFetch::Truncated),
                    Err(e) => Err(e),
                }
            }
        };
        fetch_windows(plan, R::TABLE, fetch, sink).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn request_body_and_window_query() {
        let body = serde_json::to_string(&HuntingQuery {
            query: "EmailEvents",
            timespan: Some("P90D"),
        })
        .unwrap_or_default();
        assert_eq!(body, r#"{"Query":"EmailEvents","Timespan":"P90D"}"#);
        let from = Utc_ymd(2024, 1, 1);
        let w = TimeWindow {
            from,
            to: from + chrono::Duration::hours(1),
        };
        assert_eq!(
            window_query(&table_window_template("EmailEvents"), &w),
            "EmailEvents | where Timestamp >= datetime(2024-01-01T00:00:00.0000000Z) and Timestamp < datetime(2024-01-01T01:00:00.0000000Z)"
        );
    }

    #[allow(non_snake_case)]
    fn Utc_ymd(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }
}
