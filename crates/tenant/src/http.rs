//! The Graph core: one place that sends requests, retries, renews tokens and maps errors.
//!
//! Every API family (`alerts`, `hunting`, ...) goes through [`GraphClient::execute`], so paging,
//! `Retry-After`, 401 handling, read-only enforcement and error mapping behave the same
//! everywhere. Bodies are read fully and parsed inside the retry loop because the service (and the
//! simulator) can cut a 2xx body mid-JSON: that is retried like a dropped connection.

use crate::auth::AccessTokenSource;
use crate::error::{Endpoint, TenantError, from_graph_response};
use crate::retry::{
    RetryPolicy, RetryStats, RetryStatsSnapshot, Sleeper, TokioSleeper, parse_retry_after,
};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use whalewatch_model::json::{Keyed, RejectedRecord, parse_record};

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
    /// Total deadline of one ordinary request, connection to last body byte: a body that
    /// trickles in (or never ends) cannot hold a refresh longer than this per attempt.
    pub request_timeout: Duration,
    /// Total deadline of one `runHuntingQuery` request (thinking time plus transfer).
    pub hunting_request_timeout: Duration,
    /// Largest bodies accepted.
    pub caps: BodyCaps,
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
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            hunting_request_timeout: DEFAULT_HUNTING_REQUEST_TIMEOUT,
            caps: BodyCaps::default(),
            retry: RetryPolicy::default(),
            read_only: false,
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

pub use whalewatch_config::DEFAULT_REQUEST_TIMEOUT;

/// Default total deadline of one `runHuntingQuery` request: the service may think for
/// 3 minutes, then send up to [`BodyCaps::hunting`] bytes.
pub const DEFAULT_HUNTING_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The largest response body accepted, per kind of endpoint; a larger one is an error
/// naming the endpoint, and is never buffered past the cap (decompressed size: a gzip
/// bomb stops at the cap too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyCaps {
    /// Graph pages and single entities. The largest documented page is 999 directory
    /// objects or 2,000 alerts (~5 KiB each with evidence, ~10 MiB): × 6 for margin.
    pub graph: usize,
    /// `runHuntingQuery`: up to 100,000 rows; a full `EmailEvents` window from the
    /// simulator is ~130 MiB (~1.3 KiB a row), so × ~2.
    pub hunting: usize,
    /// Token and device-code answers (a few KiB).
    pub identity: usize,
}

impl Default for BodyCaps {
    fn default() -> Self {
        BodyCaps {
            graph: 64 << 20,
            hunting: 256 << 20,
            identity: 1 << 20,
        }
    }
}

/// The user agent Graph sees (helps Microsoft support find our requests).
pub fn user_agent() -> String {
    format!("whalewatch/{}", env!("CARGO_PKG_VERSION"))
}

/// Builds the reqwest client every tenant call uses: rustls, gzip, env proxies
/// (`HTTPS_PROXY`), a total deadline per request, and no redirects: every request carries
/// a credential (a bearer, a client secret or an assertion), and reqwest would re-send a
/// POST body to wherever a 307 points. A 3xx comes back as a response and becomes
/// [`TenantError::Redirected`].
pub fn http_client(
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
) -> Result<reqwest::Client, TenantError> {
    reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .timeout(total_timeout)
        .redirect(reqwest::redirect::Policy::none())
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
    caps: BodyCaps,
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
    /// The JSON ended early (a cut body, worth another attempt) rather than being wrong.
    pub truncated: bool,
}

impl ParseFailure {
    /// The failure `err` of parsing `body`.
    pub fn of(body: &[u8], err: &serde_json::Error) -> ParseFailure {
        let message = err.to_string();
        ParseFailure {
            offset: byte_offset(body, err),
            // A row parser that names the column (`EmailEvents.Timestamp: EOF while
            // parsing …`) turns serde_json's EOF into a custom error with its message.
            truncated: err.is_eof() || message.contains("EOF while parsing"),
            message,
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
                http: http_client(
                    config.connect_timeout,
                    config.read_timeout,
                    config.request_timeout,
                )?,
                hunting_http: http_client(
                    config.connect_timeout,
                    config.hunting_read_timeout,
                    config.hunting_request_timeout,
                )?,
                tokens,
                policy: config.retry,
                sleeper: config.sleeper,
                read_only: config.read_only,
                stats: RetryStats::default(),
                caps: config.caps,
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
    /// only when they point at the same Graph origin, so a forged nextLink cannot get our token.
    pub fn url(&self, path: &str) -> Result<String, TenantError> {
        if path.starts_with("http://") || path.starts_with("https://") {
            self.check_link(path)?;
            return Ok(path.to_owned());
        }
        Ok(format!("{}{}", self.inner.root, path))
    }

    /// A link the service handed us only to show (the Action-center `Location` of a
    /// remediation), as shown: verbatim when it points at this Graph origin or a Microsoft
    /// portal, else marked untrusted. Such links are never fetched.
    pub fn display_link(&self, link: &str) -> String {
        let trusted = url::Url::parse(link).is_ok_and(|u| {
            u.origin().ascii_serialization() == self.inner.origin
                || crate::cloud::is_microsoft_portal(&u)
        });
        if trusted {
            link.to_owned()
        } else {
            format!(
                "{link} (untrusted: {} is not a Microsoft host; not opened)",
                host_of(link)
            )
        }
    }

    /// Checks that a URL taken from a response (`@odata.nextLink`, a `Location`) points at
    /// the profile's Graph origin; any other origin is [`TenantError::UntrustedLink`].
    pub fn check_link(&self, link: &str) -> Result<(), TenantError> {
        let same = url::Url::parse(link)
            .map(|u| u.origin().ascii_serialization() == self.inner.origin)
            .unwrap_or(false);
        if same {
            Ok(())
        } else {
            Err(TenantError::UntrustedLink {
                link_host: host_of(link),
                trusted: self.inner.origin.clone(),
            })
        }
    }

    /// Sends `req` with retries and parses a 2xx response with `parse`. A body that ends
    /// early (cut mid-JSON) is retried for reads; a body that is complete but wrong is not:
    /// it will be just as wrong the next time. A lone UTF-16 surrogate escape (which
    /// serde_json rejects) is replaced by U+FFFD and the body parsed again.
    pub async fn execute<T>(
        &self,
        req: GraphRequest<'_>,
        parse: impl Fn(&RawResponse) -> Result<T, serde_json::Error>,
    ) -> Result<T, TenantError> {
        self.execute_with(req, |mut raw| {
            let parsed = match parse(&raw) {
                Err(e) if whalewatch_model::json::replace_lone_surrogates(&mut raw.body) > 0 => {
                    parse(&raw).map_err(|_| e)
                }
                other => other,
            };
            std::future::ready(parsed.map_err(|e| ParseFailure::of(&raw.body, &e)))
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
        let url = self.url(req.path)?;
        let endpoint = Endpoint::new(method_name(&req.method), &url);
        if let (Effect::Write(action), true) = (req.effect, self.inner.read_only) {
            return Err(TenantError::ReadOnly {
                action: action.to_owned(),
            });
        }
        let mut renewed = false;
        let mut timed_out = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let failed = match self.attempt(&req, &url, &endpoint, &parse).await? {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            let step = classify(&Outcome {
                kind: failed.kind,
                effect: req.effect,
                renewed,
                timed_out_before: timed_out,
            });
            timed_out |= failed.kind.timed_out();
            match step {
                Step::Fail => return Err(failed.error),
                Step::RenewToken => {
                    renewed = true;
                    self.inner.stats.record_token_renewal();
                    self.inner.tokens.renew().await?;
                    attempt -= 1; // the renewal retry is free
                }
                Step::Retry { throttled } => {
                    let retry_after = failed.retry_after;
                    let Some(wait) =
                        self.inner
                            .policy
                            .delay(attempt, retry_after, rand::random::<f64>())
                    else {
                        return Err(match failed.error {
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
        }
    }

    /// One request and its answer: the parsed value, or what went wrong (for [`classify`]).
    /// The outer error is one no retry can change (the token source failed).
    async fn attempt<T, F>(
        &self,
        req: &GraphRequest<'_>,
        url: &str,
        endpoint: &Endpoint,
        parse: &impl Fn(RawResponse) -> F,
    ) -> Result<Result<T, Failed>, TenantError>
    where
        F: std::future::Future<Output = Result<T, ParseFailure>>,
    {
        let (http, cap) = if req.long_running {
            (&self.inner.hunting_http, self.inner.caps.hunting)
        } else {
            (&self.inner.http, self.inner.caps.graph)
        };
        let token = self.inner.tokens.access_token().await?;
        let mut builder = http
            .request(req.method.clone(), url)
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
        let network = |e: &reqwest::Error| TenantError::Network {
            endpoint: endpoint.clone(),
            host: host_of(url),
            message: network_message(e),
        };
        let resp = match builder.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let kind = FailureKind::NoAnswer {
                    connect: e.is_connect(),
                    timeout: e.is_timeout(),
                };
                return Ok(Err(Failed::new(kind, network(&e))));
            }
        };
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let error = redirect_error(endpoint, url, resp.headers());
            return Ok(Err(Failed::new(FailureKind::Status(status), error)));
        }
        let headers = resp.headers().clone();
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let body = match read_capped(resp, cap).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                let error = TenantError::TooLarge {
                    endpoint: endpoint.clone(),
                    limit: cap,
                };
                return Ok(Err(Failed::new(FailureKind::TooLarge, error)));
            }
            Err(BodyError::Network(e)) => {
                let kind = FailureKind::BodyCut {
                    timeout: e.is_timeout(),
                };
                return Ok(Err(Failed::new(kind, network(&e))));
            }
        };
        if !(200..300).contains(&status) {
            let error = from_graph_response(endpoint.clone(), status, retry_after, &body);
            let mut failed = Failed::new(FailureKind::Status(status), error);
            failed.retry_after = retry_after;
            return Ok(Err(failed));
        }
        let raw = RawResponse {
            status,
            headers,
            body,
        };
        Ok(parse(raw).await.map_err(|e| {
            let kind = FailureKind::Unparsable {
                truncated: e.truncated,
            };
            let error = TenantError::InvalidResponse {
                endpoint: endpoint.clone(),
                offset: e.offset,
                message: e.message,
            };
            Failed::new(kind, error)
        }))
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
    pub fn get_paged<T: DeserializeOwned + Keyed>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Pager<T> {
        Pager {
            client: self.clone(),
            next: Some((path.to_owned(), query)),
            pages: 0,
            rejected: Vec::new(),
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

/// What one failed attempt amounts to, for [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No HTTP answer: `connect` when the connection was never made (so nothing was
    /// sent), `timeout` when the deadline ran out.
    NoAnswer {
        /// The connection was never established.
        connect: bool,
        /// The request deadline ran out.
        timeout: bool,
    },
    /// Headers arrived, the body did not finish (cut, or the deadline ran out).
    BodyCut {
        /// The request deadline ran out.
        timeout: bool,
    },
    /// The body exceeded its cap.
    TooLarge,
    /// A 2xx body that did not parse; `truncated` when the JSON ended early.
    Unparsable {
        /// The JSON ended early.
        truncated: bool,
    },
    /// A non-2xx status (3xx included: redirects are never followed).
    Status(u16),
}

impl FailureKind {
    fn timed_out(self) -> bool {
        matches!(
            self,
            FailureKind::NoAnswer { timeout: true, .. } | FailureKind::BodyCut { timeout: true }
        )
    }
}

/// Everything the retry decision looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// What went wrong.
    pub kind: FailureKind,
    /// Whether the request changes the tenant.
    pub effect: Effect,
    /// The token was already renewed once for this request.
    pub renewed: bool,
    /// An earlier attempt of this request already ran out its deadline.
    pub timed_out_before: bool,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Wait by the retry policy and send again; `throttled` counts the wait as throttling.
    Retry {
        /// The service asked us to slow down (429/503/504).
        throttled: bool,
    },
    /// Renew the access token and send again (once).
    RenewToken,
    /// Give up with the attempt's error.
    Fail,
}

/// The retry decision, pure. Reads are repeated after any transient fault; a write only
/// when it certainly did not reach the service (no connection, 429, 503), because a
/// repeated write may apply twice. A complete but wrong body, a redirect, a body over
/// its cap and 4xx other than 401/429 are never transient. A request that ran out its
/// deadline twice is not tried again: a stalled endpoint must not hold a refresh for
/// the deadline × every attempt.
pub fn classify(o: &Outcome) -> Step {
    let read = o.effect == Effect::Read;
    let retry = |throttled| Step::Retry { throttled };
    match o.kind {
        FailureKind::NoAnswer { timeout: true, .. } | FailureKind::BodyCut { timeout: true }
            if o.timed_out_before =>
        {
            Step::Fail
        }
        FailureKind::NoAnswer { connect: true, .. } => retry(false),
        FailureKind::NoAnswer { .. } | FailureKind::BodyCut { .. } if read => retry(false),
        FailureKind::Unparsable { truncated: true } if read => retry(false),
        FailureKind::Status(401) if !o.renewed => Step::RenewToken,
        FailureKind::Status(429 | 503) => retry(true),
        FailureKind::Status(504) if read => retry(true),
        FailureKind::Status(500 | 502) if read => retry(false),
        _ => Step::Fail,
    }
}

/// A failed attempt: its kind, the error to report if we give up, the service's wait.
struct Failed {
    kind: FailureKind,
    error: TenantError,
    retry_after: Option<Duration>,
}

impl Failed {
    fn new(kind: FailureKind, error: TenantError) -> Self {
        Failed {
            kind,
            error,
            retry_after: None,
        }
    }
}

/// Why a body could not be read.
pub enum BodyError {
    /// The connection failed or the deadline ran out.
    Network(reqwest::Error),
    /// More than the cap arrived (or was announced).
    TooLarge,
}

/// Reads a body chunk by chunk, refusing it as soon as it (or its announced length)
/// passes `cap`, so a huge or endless body never sits in memory.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let announced = resp.content_length().unwrap_or(0);
    if announced > cap as u64 {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Network)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The host of a URL, or a placeholder when it has none (for messages).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .as_ref()
        .and_then(authority)
        .unwrap_or_else(|| "an unparseable address".to_owned())
}

/// `host[:port]` of a URL (the port matters when two hosts differ only by it).
fn authority(u: &url::Url) -> Option<String> {
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// The error for a 3xx answer to `url`: names both hosts (the Location's, resolved
/// against the request, or that it had none).
pub fn redirect_error(endpoint: &Endpoint, url: &str, headers: &HeaderMap) -> TenantError {
    let to = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url::Url::parse(url).ok()?.join(l).ok())
        .as_ref()
        .and_then(authority)
        .unwrap_or_else(|| "no usable Location".to_owned());
    TenantError::Redirected {
        endpoint: endpoint.clone(),
        from: host_of(url),
        to,
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

/// One page of an OData collection, its records still raw: each is parsed alone, so one
/// bad record is rejected without losing the page. A `null` value is an empty page.
#[derive(Debug, serde::Deserialize)]
struct ODataPage<'a> {
    #[serde(borrow, default)]
    value: Option<Vec<&'a serde_json::value::RawValue>>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// A parsed page: the records taken, those rejected, the next link.
pub type ParsedPage<T> = (Vec<T>, Vec<RejectedRecord>, Option<String>);

/// Parses one page of an OData collection, record by record (also the fuzz target).
pub fn parse_page<T: DeserializeOwned + Keyed>(
    body: &[u8],
) -> Result<ParsedPage<T>, serde_json::Error> {
    let page: ODataPage<'_> = serde_json::from_slice(body)?;
    let (mut taken, mut rejected) = (Vec::new(), Vec::new());
    for raw in page.value.unwrap_or_default() {
        match parse_record::<T>(raw.get()) {
            Ok(t) => taken.push(t),
            Err(r) => rejected.push(r),
        }
    }
    Ok((taken, rejected, page.next_link))
}

/// Streams an OData collection page by page, so callers can ingest while the next page loads.
pub struct Pager<T> {
    client: GraphClient,
    next: Option<(String, Vec<(&'static str, String)>)>,
    pages: usize,
    rejected: Vec<RejectedRecord>,
    _rows: PhantomData<fn() -> T>,
}

/// A whole collection: the records taken and those rejected (to quarantine).
#[derive(Debug)]
pub struct Collection<T> {
    /// Records with their key that parsed.
    pub records: Vec<T>,
    /// Records without their key or that did not parse, verbatim.
    pub rejected: Vec<RejectedRecord>,
}

impl<T: DeserializeOwned + Keyed> Pager<T> {
    /// The next page, or `None` after the last. After an error the same page is tried again on
    /// the next call, so a caller may resume. Rejected records of the page are kept for
    /// [`take_rejected`](Self::take_rejected).
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
        match self.client.execute(req, |r| parse_page::<T>(&r.body)).await {
            Ok((records, rejected, next_link)) => {
                self.pages += 1;
                self.rejected.extend(rejected);
                // The nextLink carries the whole query (including $skiptoken): send it
                // verbatim; `url()` refuses one to another origin.
                self.next = next_link.map(|link| (link, Vec::new()));
                Some(Ok(records))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Whether a page is still to be requested: `next_page` makes a request only then
    /// (a caller pacing its requests claims a slot only for a real one).
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The records rejected so far (handed over once).
    pub fn take_rejected(&mut self) -> Vec<RejectedRecord> {
        std::mem::take(&mut self.rejected)
    }

    /// Reads every page (small collections: users of a group, comments).
    pub async fn collect_all(mut self) -> Result<Collection<T>, TenantError> {
        let mut records = Vec::new();
        while let Some(page) = self.next_page().await {
            records.extend(page?);
        }
        Ok(Collection {
            records,
            rejected: self.rejected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_decision_as_a_table() {
        use FailureKind::*;
        const W: Effect = Effect::Write("x");
        const R: Effect = Effect::Read;
        let retry = Step::Retry { throttled: false };
        let throttled = Step::Retry { throttled: true };
        let no_answer = NoAnswer {
            connect: false,
            timeout: false,
        };
        let refused = NoAnswer {
            connect: true,
            timeout: false,
        };
        let timeout = NoAnswer {
            connect: false,
            timeout: true,
        };
        // (kind, effect, renewed, timed out before) → step
        let table = [
            (refused, W, false, false, retry),
            (no_answer, R, false, false, retry),
            (no_answer, W, false, false, Step::Fail),
            (timeout, R, false, false, retry),
            (timeout, R, false, true, Step::Fail),
            (BodyCut { timeout: false }, R, false, false, retry),
            (BodyCut { timeout: true }, R, false, true, Step::Fail),
            (BodyCut { timeout: false }, W, false, false, Step::Fail),
            (TooLarge, R, false, false, Step::Fail),
            (Unparsable { truncated: true }, R, false, false, retry),
            (Unparsable { truncated: true }, W, false, false, Step::Fail),
            (Unparsable { truncated: false }, R, false, false, Step::Fail),
            (Status(307), R, false, false, Step::Fail),
            (Status(302), W, false, false, Step::Fail),
            (Status(401), R, false, false, Step::RenewToken),
            (Status(401), R, true, false, Step::Fail),
            (Status(403), R, false, false, Step::Fail),
            (Status(404), R, false, false, Step::Fail),
            (Status(400), R, false, false, Step::Fail),
            (Status(429), W, false, false, throttled),
            (Status(503), R, false, false, throttled),
            (Status(504), R, false, false, throttled),
            (Status(504), W, false, false, Step::Fail),
            (Status(500), R, false, false, retry),
            (Status(502), R, false, false, retry),
            (Status(500), W, false, false, Step::Fail),
        ];
        for (kind, effect, renewed, timed_out_before, want) in table {
            let o = Outcome {
                kind,
                effect,
                renewed,
                timed_out_before,
            };
            assert_eq!(classify(&o), want, "{o:?}");
        }
    }

    #[test]
    fn parse_failures_say_whether_the_body_was_cut() {
        let cut = br#"{"value":[{"id":"#;
        let e = serde_json::from_slice::<serde_json::Value>(cut).err();
        assert!(e.is_some_and(|e| ParseFailure::of(cut, &e).truncated));
        let wrong = br#"{"value":[}"#;
        let e = serde_json::from_slice::<serde_json::Value>(wrong).err();
        assert!(e.is_some_and(|e| !ParseFailure::of(wrong, &e).truncated));
        // A hunting window cut inside a value: the row parser names the column, which
        // hides the EOF from `is_eof`; it is still a cut body, retried.
        type Email = whalewatch_model::email::EmailEvent;
        let cut = br#"{"schema":[],"results":[{"Timestamp":"2026-10-01T00:00"#;
        let e = whalewatch_model::batch::RowBatch::parse::<Email>(cut).err();
        let f = e.map(|e| ParseFailure::of(cut, &e));
        assert!(
            f.as_ref()
                .is_some_and(|f| f.truncated && f.message.contains("Timestamp")),
            "{f:?} of {} bytes",
            cut.len()
        );
        let wrong = br#"{"schema":[],"results":[{"Timestamp":"yesterday"}]}"#;
        let e = whalewatch_model::batch::RowBatch::parse::<Email>(wrong).err();
        assert!(e.is_some_and(|e| !ParseFailure::of(wrong, &e).truncated));
    }

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
