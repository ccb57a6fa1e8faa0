//! The Graph core: one place that sends requests, retries, renews tokens and maps errors.
//!
//! Every API family (`alerts`, `hunting`, ...) goes through [`GraphClient::execute`], so paging,
//! `Retry-After`, 401 handling, read-only enforcement and error mapping behave the same
//! everywhere. Bodies are read fully and parsed inside the retry loop because the service (and the
//! simulator) can cut a 2xx body mid-JSON: that is retried like a dropped connection.

use crate::tenant::auth::AccessTokenSource;
use crate::tenant::error::{Endpoint, TenantError, from_graph_response};
use crate::tenant::retry::{
    RetryPolicy, RetryStats, RetryStatsSnapshot, Sleeper, TokioSleeper, parse_retry_after,
};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// Settings for [`GraphClient`].
#[derive(Clone)]
pub struct GraphConfig {
    /// Graph host root (`https://graph.microsoft.com`, or the simulator), no version.
    pub graph_url: String,
    /// API version path segment.
    pub api_version: String,
    /// TCP+TLS connect timeout.
    pub connect_timeout: Duration,
    /// Idle read timeout for ordinary calls.
    pub read_timeout: Duration,
    /// Idle read timeout for `runHuntingQuery`, which may think for 3 minutes before answering.
    pub hunting_read_timeout: Duration,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Refuse every mutation without sending it.
    pub read_only: bool,
    /// Waits between retries (replace in tests).
    pub sleeper: Arc<dyn Sleeper>,
}

impl GraphConfig {
    /// Defaults for a Graph host root.
    pub fn new(graph_url: &str) -> Self {
        GraphConfig {
            graph_url: graph_url.trim_end_matches('/').to_owned(),
            api_version: "v1.0".into(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            hunting_read_timeout: Duration::from_secs(200),
            retry: RetryPolicy::default(),
            read_only: false,
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

/// The user agent Graph sees (helps Microsoft support find our requests).
pub fn user_agent() -> String {
    format!("whalewatch/{}", env!("CARGO_PKG_VERSION"))
}

/// Builds the reqwest client every tenant call uses: rustls, gzip, env proxies (`HTTPS_PROXY`).
pub fn http_client(
    connect_timeout: Duration,
    read_timeout: Duration,
) -> Result<reqwest::Client, TenantError> {
    reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .gzip(true)
        .build()
        .map_err(|e| TenantError::Config {
            message: format!("cannot build the HTTP client: {e}"),
        })
}

struct Inner {
    root: String,
    origin: String,
    http: reqwest::Client,
    hunting_http: reqwest::Client,
    tokens: Arc<dyn AccessTokenSource>,
    policy: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    read_only: bool,
    stats: RetryStats,
}

/// A Microsoft Graph client; cheap to clone (shared connection pool, token and stats).
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

/// Whether a request changes the tenant (refused in read-only mode, not retried when ambiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only (GET, and POST runHuntingQuery).
    Read,
    /// Changes the tenant; the string names the action for the read-only message.
    Write(&'static str),
}

/// A fully read response handed to a parser.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

/// A request description for [`GraphClient::execute`].
#[derive(Debug, Clone)]
pub struct GraphRequest<'a> {
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path below the version root (`/security/alerts_v2`) or an absolute `@odata.nextLink`.
    pub path: &'a str,
    /// Query parameters (encoded by reqwest).
    pub query: &'a [(&'a str, String)],
    /// JSON body.
    pub body: Option<Vec<u8>>,
    /// Read or write.
    pub effect: Effect,
    /// Use the long hunting read timeout.
    pub long_running: bool,
}

/// Why a 2xx body could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// Byte offset of the failure in the body.
    pub offset: usize,
    /// What the parser said.
    pub message: String,
}

impl ParseFailure {
    /// The failure `err` of parsing `body`.
    pub fn of(body: &[u8], err: &serde_json::Error) -> ParseFailure {
        ParseFailure {
            offset: byte_offset(body, err),
            message: err.to_string(),
        }
    }
}

/// Byte offset of a serde_json error in `body` (line/column → offset), for error messages.
pub fn byte_offset(body: &[u8], err: &serde_json::Error) -> usize {
    let (line, column) = (err.line(), err.column());
    if line == 0 {
        return body.len();
    }
    let mut offset = 0;
    for (i, l) in body.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len() + 1;
    }
    body.len()
}

impl GraphClient {
    /// A client for `config`, authenticating with `tokens`.
    pub fn new(
        config: GraphConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<Self, TenantError> {
        let origin = url::Url::parse(&config.graph_url)
            .map_err(|e| TenantError::Config {
                message: format!("graph URL {:?} is not a URL: {e}", config.graph_url),
            })?
            .origin()
            .ascii_serialization();
        Ok(GraphClient {
            inner: Arc::new(Inner {
                root: format!("{}/{}", config.graph_url, config.api_version),
                origin,
                http: http_client(config.connect_timeout, config.read_timeout)?,
                hunting_http: http_client(config.connect_timeout, config.hunting_read_timeout)?,
                tokens,
                policy: config.retry,
                sleeper: config.sleeper,
                read_only: config.read_only,
                stats: RetryStats::default(),
            }),
        })
    }

    /// True when mutations are refused.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The retry policy: triage flushes wait between rounds by the same rules as reads.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.policy
    }

    /// Retry and throttling counters since the client was built.
    pub fn stats(&self) -> RetryStatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// The waits between retries (shared with the hunting pacer).
    pub fn sleeper(&self) -> &dyn Sleeper {
        self.inner.sleeper.as_ref()
    }

    /// Absolute URL for a path below the version root; absolute URLs (nextLinks) pass through
    /// only when they point at the same Graph host, so a forged nextLink cannot get our token.
    pub fn url(&self, path: &str) -> Result<String, TenantError> {
        if path.starts_with("http://") || path.starts_with("https://") {
            let same = url::Url::parse(path)
                .map(|u| u.origin().ascii_serialization() == self.inner.origin)
                .unwrap_or(false);
            if !same {
                return Err(TenantError::InvalidResponse {
                    endpoint: Endpoint::new("GET", path),
                    offset: 0,
                    message: format!(
                        "refusing to follow a link to another host than {}",
                        self.inner.origin
                    ),
                });
            }
            return Ok(path.to_owned());
        }
        Ok(format!("{}{}", self.inner.root, path))
    }

    /// Sends `req` with retries and parses a 2xx response with `parse`. A parse failure of a
    /// 2xx body (truncated JSON) is retried for reads.
    pub async fn execute<T>(
        &self,
        req: GraphRequest<'_>,
        parse: impl Fn(&RawResponse) -> Result<T, serde_json::Error>,
    ) -> Result<T, TenantError> {
        self.execute_with(req, |raw| {
            std::future::ready(parse(&raw).map_err(|e| ParseFailure::of(&raw.body, &e)))
        })
        .await
    }

    /// [`execute`](Self::execute) with a parse step that owns the body and may run
    /// elsewhere: a large hunting result is parsed on a blocking thread, so the next
    /// response keeps streaming in meanwhile instead of stalling in the socket.
    pub async fn execute_with<T, F>(
        &self,
        req: GraphRequest<'_>,
        parse: impl Fn(RawResponse) -> F,
    ) -> Result<T, TenantError>
    where
        F: std::future::Future<Output = Result<T, ParseFailure>>,
    {
        let method_name = method_name(&req.method);
        let url = self.url(req.path)?;
        let endpoint = Endpoint::new(method_name, &url);
        if let (Effect::Write(action), true) = (req.effect, self.inner.read_only) {
            return Err(TenantError::ReadOnly {
                action: action.to_owned(),
            });
        }
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let http = if req.long_running {
            &self.inner.hunting_http
        } else {
            &self.inner.http
        };
        let policy = self.inner.policy;
        let mut renewed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let token = self.inner.tokens.access_token().await?;
            let mut builder = http
                .request(req.method.clone(), &url)
                .bearer_auth(token.expose());
            if !req.query.is_empty() {
                builder = builder.query(req.query);
            }
            if let Some(body) = &req.body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            self.inner.stats.record_request();
            // Each arm either returns or yields (retry_after, error to report if we give up).
            let (retry_after, failure, throttled) = match builder.send().await {
                Err(e) => {
                    let err = TenantError::Network {
                        endpoint: endpoint.clone(),
                        host: host.clone(),
                        message: network_message(&e),
                    };
                    // A write may have reached the service when the connection broke: only
                    // retry it when it certainly did not (connect failure).
                    if matches!(req.effect, Effect::Write(_)) && !e.is_connect() {
                        return Err(err);
                    }
                    (None, err, false)
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let retry_after = headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    match resp.bytes().await {
                        Err(e) => {
                            let err = TenantError::Network {
                                endpoint: endpoint.clone(),
                                host: host.clone(),
                                message: network_message(&e),
                            };
                            if matches!(req.effect, Effect::Write(_)) {
                                return Err(err);
                            }
                            (None, err, false)
                        }
                        Ok(body) => {
                            let raw = RawResponse {
                                status,
                                headers,
                                // Takes the buffer over when it is not shared (no copy of a large body).
                                body: Vec::from(body),
                            };
                            if (200..300).contains(&status) {
                                match parse(raw).await {
                                    Ok(v) => return Ok(v),
                                    Err(e) => {
                                        let err = TenantError::InvalidResponse {
                                            endpoint: endpoint.clone(),
                                            offset: e.offset,
                                            message: e.message,
                                        };
                                        if matches!(req.effect, Effect::Write(_)) {
                                            return Err(err);
                                        }
                                        (None, err, false)
                                    }
                                }
                            } else if status == 401 && !renewed {
                                renewed = true;
                                self.inner.stats.record_token_renewal();
                                self.inner.tokens.renew().await?;
                                attempt -= 1; // the renewal retry is free
                                continue;
                            } else if matches!(status, 429 | 503 | 504)
                                || (matches!(status, 500 | 502) && req.effect == Effect::Read)
                            {
                                // 504 on a write is ambiguous (it may have been applied): only
                                // 429 and 503 are certain rejections. A read is safe to
                                // repeat after any server-side failure.
                                let err = from_graph_response(
                                    endpoint.clone(),
                                    status,
                                    retry_after,
                                    &raw.body,
                                );
                                if matches!(req.effect, Effect::Write(_)) && status == 504 {
                                    return Err(err);
                                }
                                (retry_after, err, !matches!(status, 500 | 502))
                            } else {
                                return Err(from_graph_response(
                                    endpoint.clone(),
                                    status,
                                    retry_after,
                                    &raw.body,
                                ));
                            }
                        }
                    }
                }
            };
            let Some(wait) = policy.delay(attempt, retry_after, rand::random::<f64>()) else {
                return Err(match failure {
                    TenantError::Throttled { endpoint, .. } => TenantError::Throttled {
                        endpoint,
                        retry_after,
                    },
                    other => other,
                });
            };
            self.inner.stats.record_retry();
            if throttled {
                self.inner.stats.record_throttle(wait);
            }
            self.inner.sleeper.sleep(wait).await;
        }
    }

    /// GET a JSON document.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, TenantError> {
        let req = GraphRequest {
            method: reqwest::Method::GET,
            path,
            query,
            body: None,
            effect: Effect::Read,
            long_running: false,
        };
        self.execute(req, |r| serde_json::from_slice(&r.body)).await
    }

    /// GET a collection, page by page, following `@odata.nextLink` to the end.
    pub fn get_paged<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Pager<T> {
        Pager {
            client: self.clone(),
            next: Some((path.to_owned(), query)),
            pages: 0,
            _rows: PhantomData,
        }
    }

    /// POST a JSON body that changes the tenant; refused in read-only mode.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        action: &'static str,
    ) -> Result<T, TenantError> {
        self.send_json(reqwest::Method::POST, path, body, Effect::Write(action))
            .await
    }

    /// PATCH a JSON body (changes the tenant); refused in read-only mode.
    pub async fn patch_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        action: &'static str,
    ) -> Result<T, TenantError> {
        self.send_json(reqwest::Method::PATCH, path, body, Effect::Write(action))
            .await
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
        effect: Effect,
    ) -> Result<T, TenantError> {
        let body = serde_json::to_vec(body).map_err(|e| TenantError::Config {
            message: format!("cannot encode the request: {e}"),
        })?;
        let req = GraphRequest {
            method,
            path,
            query: &[],
            body: Some(body),
            effect,
            long_running: false,
        };
        self.execute(req, |r| serde_json::from_slice(&r.body)).await
    }
}

fn method_name(m: &reqwest::Method) -> &'static str {
    match *m {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PATCH => "PATCH",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::DELETE => "DELETE",
        _ => "HTTP",
    }
}

fn network_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        format!("connection failed ({})", root_cause(e))
    } else {
        root_cause(e)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// One page of an OData collection.
#[derive(Debug, serde::Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct ODataPage<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// Streams an OData collection page by page, so callers can ingest while the next page loads.
pub struct Pager<T> {
    client: GraphClient,
    next: Option<(String, Vec<(&'static str, String)>)>,
    pages: usize,
    _rows: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    /// The next page, or `None` after the last. After an error the same page is tried again on
    /// the next call, so a caller may resume.
    pub async fn next_page(&mut self) -> Option<Result<Vec<T>, TenantError>> {
        let (path, query) = self.next.as_ref()?;
        let req = GraphRequest {
            method: reqwest::Method::GET,
            path,
            query,
            body: None,
            effect: Effect::Read,
            long_running: false,
        };
        match self
            .client
            .execute(req, |r| serde_json::from_slice::<ODataPage<T>>(&r.body))
            .await
        {
            Ok(page) => {
                self.pages += 1;
                // The nextLink carries the whole query (including $skiptoken): send it verbatim.
                self.next = page.next_link.map(|link| (link, Vec::new()));
                Some(Ok(page.value))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Reads every page into one vector (small collections: users of a group, comments).
    pub async fn collect_all(mut self) -> Result<Vec<T>, TenantError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await {
            all.extend(page?);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_follow_lines() {
        let body = b"{\n  \"a\": [1,\n";
        let err = serde_json::from_slice::<serde_json::Value>(body).err();
        let offset = err.map(|e| byte_offset(body, &e)).unwrap_or(0);
        assert_eq!(offset, body.len());
        let body = b"{\"a\": x}";
        let err = serde_json::from_slice::<serde_json::Value>(body).err();
        assert_eq!(err.map(|e| byte_offset(body, &e)), Some(6));
    }
}
