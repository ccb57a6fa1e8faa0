//! The simulator's HTTP server: identity-platform and Microsoft Graph endpoints over
//! real HTTP on loopback, with the services' limits (row cap, hunting quota, token
//! lifetime) and faults on demand.

mod alerts;
mod directory;
mod emails;
pub mod errors;
pub mod faults;
mod hunting;
mod identity;
pub mod odata;
mod posture;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::sync::oneshot;

use self::errors::{GraphError, OAuthError};
use self::faults::{Fault, FaultInjector, FaultPlan};
pub use self::identity::ALL_ROLES;
use self::identity::{Identity, TokenClaims};
use super::kql::{TICKS_PER_SECOND, table::format_datetime};
use super::params::WorldParams;
use super::rng::SimRng;
use super::world::World;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub world: WorldParams,
    /// Tenant id override (default: the world's tenant GUID).
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token_lifetime: Duration,
    pub faults: FaultPlan,
    /// `Retry-After` seconds on injected 429/503 (fractions allowed).
    pub fault_retry_after: f64,
    pub slow: Duration,
    pub devicecode_interval: Duration,
    pub devicecode_approve_after: Option<Duration>,
    /// How long a device code stays valid.
    pub devicecode_lifetime: Duration,
    /// `runHuntingQuery` calls allowed per minute.
    pub hunting_calls_per_minute: u32,
    /// `runHuntingQuery`'s row cap.
    pub max_rows: usize,
    /// Application permissions the app registration lacks.
    pub denied_roles: Vec<String>,
    /// Campaign Views (Defender for Office 365 Plan 2): `CampaignInfo` has rows.
    /// `false` is a Plan 1 tenant: the table exists and is empty.
    pub campaign_views: bool,
}

impl SimConfig {
    /// The documented service defaults for a world.
    pub fn new(world: WorldParams) -> Self {
        SimConfig {
            world,
            tenant: None,
            client_id: None,
            client_secret: None,
            token_lifetime: Duration::from_secs(3599),
            faults: FaultPlan::default(),
            fault_retry_after: 1.0,
            slow: Duration::from_millis(1500),
            devicecode_interval: Duration::from_secs(5),
            devicecode_approve_after: None,
            devicecode_lifetime: Duration::from_secs(900),
            hunting_calls_per_minute: 45,
            max_rows: 100_000,
            denied_roles: Vec::new(),
            campaign_views: true,
        }
    }
}

/// The reference clock: the world's `--now`, advancing in real time from start-up,
/// so writes made during a session get later timestamps than anything generated.
#[derive(Debug, Clone)]
pub struct SimClock {
    base: i64,
    started: Instant,
}

impl SimClock {
    pub fn new(base: i64) -> Self {
        SimClock {
            base,
            started: Instant::now(),
        }
    }
    /// Now, in ticks since the Unix epoch.
    pub fn now(&self) -> i64 {
        let elapsed = self.started.elapsed();
        self.base
            + elapsed.as_secs() as i64 * TICKS_PER_SECOND
            + i64::from(elapsed.subsec_nanos() / 100)
    }
    pub fn now_rfc3339(&self) -> String {
        format_datetime(self.now())
    }
}

/// One request as the server saw it, for `GET /_sim/requests` (tests prove, for
/// example, that a read-only session sent no write).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub fault: Option<String>,
}

/// Shared server state.
pub struct AppState {
    pub world: RwLock<World>,
    pub clock: SimClock,
    pub base_url: String,
    identity: Identity,
    faults: FaultInjector,
    config: SimConfig,
    requests: Mutex<VecDeque<RequestRecord>>,
    hunting_calls: Mutex<VecDeque<Instant>>,
    request_ids: AtomicU64,
    remediation_ids: Mutex<SimRng>,
    /// Whether hunting results are kept and replayed (see [`AppState::replay_hunting`]).
    replay: std::sync::atomic::AtomicBool,
    /// Rendered hunting results by (query, timespan), while replaying.
    rendered: Mutex<HashMap<(String, Option<String>), Bytes>>,
}

const MAX_LOGGED_REQUESTS: usize = 100_000;

impl AppState {
    /// From now on, keeps every rendered hunting result and answers the same query
    /// again from it without running it (`false` forgets them). For benchmarks that
    /// measure the client: Microsoft's servers do not share its cores. Changes to
    /// the world are not seen in replayed results.
    pub fn replay_hunting(&self, on: bool) {
        self.replay.store(on, Ordering::Relaxed);
        if !on && let Ok(mut r) = self.rendered.lock() {
            r.clear();
        }
    }

    /// Reads the world under its lock (for tests and the CLI).
    pub fn read_world<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&self.read())
    }

    fn read(&self) -> RwLockReadGuard<'_, World> {
        self.world
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    fn write(&self) -> RwLockWriteGuard<'_, World> {
        self.world
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    fn request_id(&self) -> u64 {
        self.request_ids.fetch_add(1, Ordering::Relaxed)
    }
    fn graph_error(&self, e: GraphError) -> Response {
        e.render(&self.clock, self.request_id())
    }
    fn oauth_error(&self, e: OAuthError) -> Response {
        e.render(&self.clock, self.request_id())
    }

    /// Checks the bearer token and that it carries one of `roles`.
    fn authorize(&self, headers: &HeaderMap, roles: &[&str]) -> Result<TokenClaims, GraphError> {
        let claims = self.claims(headers)?;
        if !roles.iter().any(|r| claims.roles.iter().any(|c| c == r)) {
            return Err(GraphError::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!(
                    "Missing application roles. API required roles: {}. Application roles in token: {}.",
                    roles.join(", "),
                    claims.roles.join(", ")
                ),
            ));
        }
        Ok(claims)
    }

    /// Checks the bearer token; the caller checks its roles.
    fn claims(&self, headers: &HeaderMap) -> Result<TokenClaims, GraphError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(GraphError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            ));
        }
        self.identity
            .validate(token)
            .map_err(|m| GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m))
    }

    /// A `nextLink` for the same request at `offset`.
    fn next_link(&self, path: &str, query: &HashMap<String, String>, offset: usize) -> String {
        let mut q: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        q.sort();
        q.push(("$skiptoken", odata::skiptoken(offset)));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        format!("{}{path}?{qs}", self.base_url)
    }
}

/// A running simulator.
pub struct SimServer {
    pub base_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Params(#[from] super::params::ParamsError),
    #[error("world generation failed: {0}")]
    Generate(String),
}

impl SimServer {
    /// Generates the world and starts serving on `listen` (port 0 picks a free one).
    pub async fn start(listen: SocketAddr, config: SimConfig) -> Result<SimServer, ServeError> {
        let params = config.world.clone();
        let world = tokio::task::spawn_blocking(move || World::generate(&params))
            .await
            .map_err(|e| ServeError::Generate(e.to_string()))??;
        Self::start_with_world(listen, config, world).await
    }

    /// Starts serving an already generated world.
    pub async fn start_with_world(
        listen: SocketAddr,
        config: SimConfig,
        world: World,
    ) -> Result<SimServer, ServeError> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let seed = world.params.seed;
        let mut creds = SimRng::new(seed, "credentials");
        let tenant_id = config
            .tenant
            .clone()
            .unwrap_or_else(|| world.tenant.id.to_string());
        let client_id = config
            .client_id
            .clone()
            .unwrap_or_else(|| creds.guid().to_string());
        let client_secret = config
            .client_secret
            .clone()
            .unwrap_or_else(|| format!("sim~{}", creds.hex(12)));
        let roles = ALL_ROLES
            .iter()
            .filter(|r| {
                !config
                    .denied_roles
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(r))
            })
            .map(|r| r.to_string())
            .collect();
        let mut identity = Identity::new(
            seed,
            tenant_id.clone(),
            vec![
                world.tenant.initial_domain.to_string(),
                world.tenant.domain.to_string(),
            ],
            client_id.clone(),
            client_secret.clone(),
            config.token_lifetime,
            roles,
            config.devicecode_interval,
            config.devicecode_approve_after,
        );
        identity.devicecode_lifetime = config.devicecode_lifetime;
        let state = Arc::new(AppState {
            clock: SimClock::new(world.now()),
            world: RwLock::new(world),
            base_url: base_url.clone(),
            identity,
            faults: FaultInjector::new(config.faults.clone(), seed),
            config,
            requests: Mutex::new(VecDeque::new()),
            hunting_calls: Mutex::new(VecDeque::new()),
            request_ids: AtomicU64::new(1),
            remediation_ids: Mutex::new(SimRng::new(seed, "remediations")),
            replay: std::sync::atomic::AtomicBool::new(false),
            rendered: Mutex::new(HashMap::new()),
        });
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SimServer {
            base_url,
            tenant_id,
            client_id,
            client_secret,
            state,
            shutdown: Some(tx),
            task,
        })
    }

    /// The line `sim serve` prints first: where to connect and with what.
    pub fn banner(&self) -> String {
        format!(
            "whalewatch-sim url={} tenant={} client_id={} client_secret={}",
            self.base_url, self.tenant_id, self.client_id, self.client_secret
        )
    }

    /// Stops accepting connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (it runs until the process ends).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

fn router(state: Arc<AppState>) -> Router {
    let graph = Router::new()
        .route("/security/alerts_v2", get(alerts::list))
        .route(
            "/security/alerts_v2/{id}",
            get(alerts::get_one).patch(alerts::patch),
        )
        .route("/security/alerts_v2/{id}/comments", post(alerts::comment))
        .route("/security/incidents", get(alerts::list_incidents))
        .route(
            "/security/incidents/{id}",
            get(alerts::get_incident).patch(alerts::patch_incident),
        )
        .route(
            "/security/incidents/{id}/comments",
            post(alerts::comment_incident),
        )
        .route("/users", get(directory::list_users))
        .route("/users/{id}", get(directory::get_user))
        .route(
            "/users/{id}/transitiveMemberOf",
            get(posture::transitive_member_of),
        )
        .route(
            "/reports/authenticationMethods/userRegistrationDetails",
            get(posture::registrations),
        )
        .route("/auditLogs/signIns", get(posture::sign_ins))
        .route(
            "/identity/conditionalAccess/policies",
            get(posture::policies),
        )
        .route("/identityProtection/riskyUsers", get(posture::risky_users))
        .route("/security/secureScores", get(posture::secure_scores))
        .route(
            "/security/secureScoreControlProfiles",
            get(posture::control_profiles),
        )
        .route(
            "/admin/exchange/tracing/messageTraces",
            get(posture::message_traces),
        )
        .route("/groups", get(directory::list_groups))
        .route("/groups/{id}", get(directory::get_group))
        .route("/groups/{id}/members", get(directory::members))
        .route(
            "/groups/{id}/transitiveMembers",
            get(directory::transitive_members),
        )
        .route("/security/collaboration/analyzedEmails", get(emails::list))
        .route(
            "/security/collaboration/analyzedEmails/remediate",
            post(emails::remediate),
        )
        .route(
            "/security/collaboration/analyzedEmails/{id}",
            get(emails::get_one),
        )
        .route("/security/runHuntingQuery", post(hunting::run))
        .route(
            "/security/microsoft.graph.security.runHuntingQuery",
            post(hunting::run),
        );
    Router::new()
        .nest("/v1.0", graph.clone())
        .nest("/beta", graph)
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode))
        .route("/devicelogin", get(devicelogin))
        .route("/_sim/devicecode/approve", post(approve))
        .route("/_sim/devicecode/decline", post(decline))
        .route("/_sim/requests", get(requests))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults_and_log,
        ))
        .with_state(state)
}

async fn not_found(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: axum::http::Uri,
) -> Response {
    st.graph_error(GraphError::new(
        StatusCode::NOT_FOUND,
        "UnknownError",
        format!(
            "Resource not found for the segment '{}' ({method}).",
            uri.path()
        ),
    ))
}

/// Injects faults and records every request.
async fn faults_and_log(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let is_sim = path.starts_with("/_sim") || path == "/devicelogin";
    let is_graph = path.starts_with("/v1.0/") || path.starts_with("/beta/");
    let is_oauth = is_oauth_path(&path);
    // Only reads are cut mid-body: a truncated write would make a retry apply twice.
    let is_read =
        method == Method::GET || path.ends_with("runHuntingQuery") || path.ends_with("/token");
    // A fault that cannot apply to this request is not injected (nor logged).
    let fault = match if is_sim { None } else { st.faults.next() } {
        Some(Fault::ExpireToken) if !is_graph => None,
        Some(Fault::Truncate) if !is_read => None,
        f => f,
    };
    let retry_after = format!("{}", st.config.fault_retry_after);
    let response = match fault {
        // The identity platform answers in its own error shape.
        Some(f @ (Fault::Throttle | Fault::ServerError | Fault::Unavailable)) if is_oauth => {
            let (status, error, code, message) = match f {
                Fault::Throttle => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    90055,
                    "There are too many incoming requests. Retry after the interval in Retry-After.",
                ),
                Fault::ServerError => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    50000,
                    "There was an error issuing a token or an issue with our sign-in service.",
                ),
                _ => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    90033,
                    "A transient error has occurred. Please try again.",
                ),
            };
            let mut resp = st.oauth_error(OAuthError::new(status, error, code, message));
            if status != StatusCode::INTERNAL_SERVER_ERROR
                && let Ok(v) = header::HeaderValue::from_str(&retry_after)
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Some(Fault::Throttle) => st.graph_error(GraphError::throttled(
            "Please retry again later.",
            retry_after,
        )),
        Some(Fault::ServerError) => st.graph_error(GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An internal server error occurred.",
        )),
        Some(Fault::Unavailable) => st.graph_error(GraphError {
            retry_after: Some(retry_after),
            ..GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            )
        }),
        Some(Fault::ExpireToken) => st.graph_error(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        )),
        Some(Fault::Slow) => {
            tokio::time::sleep(st.config.slow).await;
            next.run(req).await
        }
        Some(Fault::Truncate) => {
            let resp = next.run(req).await;
            truncate(resp).await
        }
        _ => next.run(req).await,
    };
    let response = documented_error(&st, &path, response).await;
    let record = RequestRecord {
        method: method.to_string(),
        path,
        status: response.status().as_u16(),
        fault: fault.map(|f| format!("{f:?}")),
    };
    if let Ok(mut log) = st.requests.lock() {
        if log.len() >= MAX_LOGGED_REQUESTS {
            log.pop_front();
        }
        log.push_back(record);
    }
    response
}

/// `/{tenant}/oauth2/v2.0/token` or `/devicecode`: errors there are OAuth-shaped.
fn is_oauth_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    matches!(
        segments.as_slice(),
        ["", _, "oauth2", "v2.0", "token" | "devicecode"]
    )
}

/// Re-wraps axum's own plain-text rejections (a path segment that is not UTF-8, a
/// method the route lacks) in the documented error shapes clients parse.
async fn documented_error(st: &AppState, path: &str, resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    let mut out = if is_oauth_path(path) {
        let code = if status == StatusCode::METHOD_NOT_ALLOWED {
            900561
        } else {
            90002
        };
        st.oauth_error(OAuthError::new(status, "invalid_request", code, message))
    } else {
        let code = match status {
            StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
            StatusCode::NOT_FOUND => "ResourceNotFound",
            s if s.is_server_error() => "InternalServerError",
            _ => "BadRequest",
        };
        st.graph_error(GraphError::new(status, code, message))
    };
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Cuts a successful body in half, keeping a consistent `Content-Length`, as a
/// connection dropped mid-transfer looks to a JSON parser.
async fn truncate(resp: Response) -> Response {
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let cut = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, cut.len().into());
    Response::from_parts(parts, Body::from(cut))
}

fn parse_form(body: &Bytes) -> identity::Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn token(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", st.base_url);
    match st.identity.token(&tenant, &token_url, &form) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => st.oauth_error(e),
    }
}

async fn devicecode(
    State(st): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    match st
        .identity
        .device_code(&tenant, &st.base_url, &parse_form(&body))
    {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => st.oauth_error(e),
    }
}

async fn devicelogin() -> &'static str {
    "whalewatch simulator: approve a device code with POST /_sim/devicecode/approve {\"user_code\": \"...\"}\n"
}

fn user_code_of(body: &Bytes) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["user_code"].as_str().map(String::from))
        .or_else(|| parse_form(body).remove("user_code"))
        .unwrap_or_default()
}

async fn approve(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    decide(&st, &body, true)
}

async fn decline(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    decide(&st, &body, false)
}

fn decide(st: &AppState, body: &Bytes, approve: bool) -> Response {
    let code = user_code_of(body);
    if st.identity.decide_device_code(&code, approve) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        st.graph_error(GraphError::not_found(&format!(
            "pending device code '{code}'"
        )))
    }
}

async fn requests(State(st): State<Arc<AppState>>) -> Response {
    let log: Vec<RequestRecord> = st
        .requests
        .lock()
        .map(|l| l.iter().cloned().collect())
        .unwrap_or_default();
    axum::Json(log).into_response()
}

/// Serialises a JSON body; used by handlers that build large bodies by hand.
fn json_response(body: impl Into<Body>) -> Response {
    let body: Body = body.into();
    (
        [(
            header::CONTENT_TYPE,
            "application/json; odata.metadata=minimal; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
