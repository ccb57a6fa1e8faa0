//! Errors an analyst can act on.
//!
//! Every variant's message says what happened in the analyst's terms and what to do next (grant a
//! permission, renew a secret, wait). No message ever contains a secret, token, assertion or the
//! `Authorization` header: errors are built from status codes, service messages and endpoint
//! paths only.

use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Which Graph call failed: method and path (without the query string, which may be long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: &'static str,
    /// Path below the Graph version root, e.g. `/security/alerts_v2`.
    pub path: String,
}

impl Endpoint {
    /// Builds an endpoint from a method and a path or full URL (query and host are dropped).
    pub fn new(method: &'static str, path_or_url: &str) -> Self {
        let path = match url::Url::parse(path_or_url) {
            Ok(u) => u.path().to_owned(),
            Err(_) => path_or_url.split('?').next().unwrap_or("").to_owned(),
        };
        let path = path
            .strip_prefix("/v1.0")
            .or_else(|| path.strip_prefix("/beta"))
            .map(str::to_owned)
            .unwrap_or(path);
        Endpoint { method, path }
    }

    /// The application permission this endpoint needs, named in `Forbidden` errors.
    pub fn required_permission(&self) -> Option<&'static str> {
        let p = self.path.to_ascii_lowercase();
        let write = self.method != "GET";
        if p.contains("/security/alerts_v2") {
            Some(if write {
                "SecurityAlert.ReadWrite.All"
            } else {
                "SecurityAlert.Read.All"
            })
        } else if p.contains("/security/incidents") {
            Some(if write {
                "SecurityIncident.ReadWrite.All"
            } else {
                "SecurityIncident.Read.All"
            })
        } else if p.contains("/security/runhuntingquery") {
            Some("ThreatHunting.Read.All")
        } else if p.contains("analyzedemails/remediate") {
            Some("SecurityAnalyzedMessage.ReadWrite.All")
        } else if p.contains("analyzedemails") {
            Some("SecurityAnalyzedMessage.Read.All")
        } else if p.contains("/securescore") {
            Some("SecurityEvents.Read.All")
        } else if p.contains("userregistrationdetails") || p.contains("/auditlogs/signins") {
            Some("AuditLog.Read.All")
        } else if p.contains("/conditionalaccess/") {
            Some("Policy.Read.All")
        } else if p.contains("/identityprotection/riskyusers") {
            Some("IdentityRiskyUser.Read.All")
        } else if p.contains("/exchange/tracing/messagetraces") {
            Some("ExchangeMessageTrace.Read.All")
        } else if p.contains("/transitivememberof") {
            Some("Directory.Read.All")
        } else if p.contains("members") || p.starts_with("/groups") {
            Some("GroupMember.Read.All")
        } else if p.starts_with("/users") {
            Some("User.Read.All")
        } else {
            None
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Everything that can go wrong talking to the tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// 401 that survived one token renewal.
    #[error(
        "Microsoft Graph refused the access token for {endpoint} even after renewing it ({message}); check the tenant and client id, and that the token is for the right cloud"
    )]
    Unauthorized {
        /// The call.
        endpoint: Endpoint,
        /// The service's message.
        message: String,
    },
    /// 403: a permission is missing.
    #[error("{}", forbidden_message(endpoint, message))]
    Forbidden {
        /// The call.
        endpoint: Endpoint,
        /// The service's message.
        message: String,
    },
    /// 429/503 still failing after every retry.
    #[error("{}", throttled_message(endpoint, retry_after))]
    Throttled {
        /// The call.
        endpoint: Endpoint,
        /// What the service last asked us to wait.
        retry_after: Option<Duration>,
    },
    /// 404.
    #[error(
        "{endpoint} was not found ({message}); the object may have been deleted, or the API is not available in this tenant or cloud"
    )]
    NotFound {
        /// The call.
        endpoint: Endpoint,
        /// The service's message.
        message: String,
    },
    /// 400 and other 4xx: the service's message says why (KQL errors arrive this way).
    #[error("Microsoft Graph rejected {endpoint}: {message} ({code})")]
    BadRequest {
        /// The call.
        endpoint: Endpoint,
        /// HTTP status.
        status: u16,
        /// The service's error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// 5xx that is not retried, or still failing after retries.
    #[error("Microsoft Graph failed on {endpoint} with HTTP {status}: {message}; try again later")]
    Service {
        /// The call.
        endpoint: Endpoint,
        /// HTTP status.
        status: u16,
        /// The service's message.
        message: String,
    },
    /// The request never got an HTTP answer (DNS, TLS, proxy, timeout, reset).
    #[error(
        "could not reach {host} for {endpoint}: {message}; check the network, proxy (HTTPS_PROXY) and cloud setting"
    )]
    Network {
        /// The call.
        endpoint: Endpoint,
        /// The host tried.
        host: String,
        /// What failed.
        message: String,
    },
    /// A 2xx body that is not the JSON we expect (truncated, or a different shape).
    #[error("unreadable response from {endpoint} at byte {offset}: {message}")]
    InvalidResponse {
        /// The call.
        endpoint: Endpoint,
        /// Byte offset of the error in the body (best effort).
        offset: usize,
        /// The parser's message.
        message: String,
    },
    /// The endpoint answered with a redirect. None is followed: every request carries a
    /// credential, and a redirect to another host would hand it over.
    #[error(
        "{from} answered {endpoint} with a redirect to {to}; whalewatch follows no redirect (the request carries a credential): check the profile's login_url and graph_url, and any proxy between here and {from}"
    )]
    Redirected {
        /// The call.
        endpoint: Endpoint,
        /// The host that redirected.
        from: String,
        /// Where it pointed.
        to: String,
    },
    /// A link taken from a response points outside the profile's hosts; not followed.
    #[error(
        "a response pointed whalewatch at {link_host}, which is not this profile's host ({trusted}); the link was not followed: check the profile's graph_url and any proxy rewriting answers"
    )]
    UntrustedLink {
        /// The link's host.
        link_host: String,
        /// The origin whalewatch trusts for it.
        trusted: String,
    },
    /// A response body larger than whalewatch accepts from that endpoint.
    #[error(
        "the answer to {endpoint} was larger than {} MiB, more than that endpoint ever sends; it was refused: check any proxy in between, or report it", limit >> 20
    )]
    TooLarge {
        /// The call.
        endpoint: Endpoint,
        /// The cap in bytes.
        limit: usize,
    },
    /// Sign-in failed.
    #[error(transparent)]
    Identity(#[from] Box<IdentityError>),
    /// A mutation was attempted in read-only mode; nothing was sent.
    #[error(
        "whalewatch is in read-only mode, so {action} was not sent; restart without read-only to change the tenant"
    )]
    ReadOnly {
        /// What was refused.
        action: String,
    },
    /// A hunting window of the minimum width still hit the row cap: rows would be lost.
    #[error(
        "{table} has more than {row_cap} rows between {from} and {to} (the smallest window); narrow the query with a filter"
    )]
    WindowTooDense {
        /// Table or query label.
        table: String,
        /// Window start.
        from: String,
        /// Window end.
        to: String,
        /// The service's row cap.
        row_cap: usize,
    },
    /// The certificate file cannot be used.
    #[error("cannot use the certificate {path}: {message}")]
    Certificate {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The token cache file cannot be read or written.
    #[error("token cache {path}: {source}")]
    TokenStore {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is wrong.
    #[error("{message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn forbidden_message(endpoint: &Endpoint, message: &str) -> String {
    match endpoint.required_permission() {
        Some(p) => format!(
            "the app registration lacks {p} (needed for {endpoint}); grant this Microsoft Graph application permission and give admin consent ({message})"
        ),
        None => format!(
            "access to {endpoint} was denied ({message}); check the app registration's permissions"
        ),
    }
}

fn throttled_message(endpoint: &Endpoint, retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(
            "throttled by Microsoft Graph for {} seconds on {endpoint}; the refresh will resume later",
            d.as_secs_f64().ceil() as u64
        ),
        None => format!("throttled by Microsoft Graph on {endpoint}; try again in a few minutes"),
    }
}

impl TenantError {
    /// True when a hunting call failed because the result exceeded the row cap; the window
    /// planner then splits the window.
    pub fn is_row_cap(&self) -> bool {
        let TenantError::BadRequest { message, .. } = self else {
            return false;
        };
        let m = message.to_ascii_lowercase();
        m.contains("100,000")
            || m.contains("100000")
            || m.contains("row limit")
            || m.contains("too many rows")
            || m.contains("result size limit exceeded")
    }
}

/// The Graph error body `{"error": {"code", "message", "innerError"}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphErrorBody {
    /// The error.
    #[serde(default)]
    pub error: GraphErrorDetail,
}

/// One Graph error.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphErrorDetail {
    /// Machine-readable code (`TooManyRequests`, `Forbidden`, `BadRequest`, ...).
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Diagnostics (request id, date); both `innerError` and `innererror` occur.
    #[serde(
        default,
        rename = "innerError",
        alias = "innererror",
        alias = "InnerError"
    )]
    pub inner_error: Option<serde_json::Value>,
}

impl GraphErrorDetail {
    /// The request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.inner_error.as_ref()?.get("request-id")?.as_str()
    }
}

/// Maps a non-2xx Graph response to an error. `retry_after` is the parsed header, if any.
pub fn from_graph_response(
    endpoint: Endpoint,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> TenantError {
    let detail = serde_json::from_slice::<GraphErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_default();
    let message = if detail.message.is_empty() {
        // Not a Graph error body (a proxy page, say): show a short, printable prefix.
        let text = String::from_utf8_lossy(&body[..body.len().min(200)])
            .trim()
            .to_owned();
        if text.is_empty() {
            format!("HTTP {status}")
        } else {
            text
        }
    } else {
        detail.message.clone()
    };
    match status {
        401 => TenantError::Unauthorized { endpoint, message },
        403 => TenantError::Forbidden { endpoint, message },
        404 => TenantError::NotFound { endpoint, message },
        429 => TenantError::Throttled {
            endpoint,
            retry_after,
        },
        503 | 504 if retry_after.is_some() => TenantError::Throttled {
            endpoint,
            retry_after,
        },
        400..=499 => TenantError::BadRequest {
            endpoint,
            status,
            code: detail.code,
            message,
        },
        _ => TenantError::Service {
            endpoint,
            status,
            message,
        },
    }
}

/// The identity platform's error body (`fixtures/token-error.response.json`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenErrorBody {
    /// OAuth error code (`invalid_client`, `authorization_pending`, ...).
    #[serde(default)]
    pub error: String,
    /// Description starting with `AADSTSnnnn:`; continues with trace lines.
    #[serde(default)]
    pub error_description: String,
    /// Numeric AADSTS codes.
    #[serde(default)]
    pub error_codes: Vec<u64>,
    /// Trace id for support.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Correlation id for support.
    #[serde(default)]
    pub correlation_id: Option<String>,
}

/// What kind of sign-in failure this is; decides the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityErrorKind {
    /// AADSTS7000215/7000222: wrong or expired client secret.
    InvalidSecret,
    /// AADSTS700016: the application id is not in the tenant.
    ApplicationNotFound,
    /// Other `invalid_client`.
    InvalidClient,
    /// The app may not use this grant.
    UnauthorizedClient,
    /// The scope is wrong (often a cloud mismatch).
    InvalidScope,
    /// AADSTS90002: no such tenant.
    TenantNotFound,
    /// Refresh token or code no longer valid.
    InvalidGrant,
    /// AADSTS65001: admin consent missing.
    ConsentRequired,
    /// Device code: the user has not finished yet (poll again).
    AuthorizationPending,
    /// Device code: poll less often.
    SlowDown,
    /// Device code expired.
    ExpiredToken,
    /// The user declined.
    Declined,
    /// Device code not recognised.
    BadVerificationCode,
    /// Anything else.
    Other,
}

/// A failed token request, with advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityError {
    /// Classification.
    pub kind: IdentityErrorKind,
    /// The tenant asked for.
    pub tenant: String,
    /// The app registration.
    pub client_id: String,
    /// OAuth error code.
    pub error: String,
    /// First line of the description (without trace lines).
    pub description: String,
    /// AADSTS codes.
    pub codes: Vec<u64>,
    /// Trace id for support tickets.
    pub trace_id: Option<String>,
}

impl IdentityError {
    /// Classifies an identity platform error body.
    pub fn from_body(tenant: &str, client_id: &str, status: u16, body: &[u8]) -> Self {
        let b: TokenErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let has = |code: u64| {
            b.error_codes.contains(&code) || b.error_description.contains(&format!("AADSTS{code}:"))
        };
        let kind = if has(7000215) || has(7000222) {
            IdentityErrorKind::InvalidSecret
        } else if has(90002) {
            IdentityErrorKind::TenantNotFound
        } else if has(65001) {
            IdentityErrorKind::ConsentRequired
        } else if has(700016) {
            IdentityErrorKind::ApplicationNotFound
        } else {
            match b.error.as_str() {
                "invalid_client" => IdentityErrorKind::InvalidClient,
                "unauthorized_client" => IdentityErrorKind::UnauthorizedClient,
                "invalid_scope" => IdentityErrorKind::InvalidScope,
                "invalid_grant" => IdentityErrorKind::InvalidGrant,
                "authorization_pending" => IdentityErrorKind::AuthorizationPending,
                "slow_down" => IdentityErrorKind::SlowDown,
                "expired_token" => IdentityErrorKind::ExpiredToken,
                "authorization_declined" | "access_denied" => IdentityErrorKind::Declined,
                "bad_verification_code" => IdentityErrorKind::BadVerificationCode,
                _ => IdentityErrorKind::Other,
            }
        };
        let description = b
            .error_description
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let description = if description.is_empty() && b.error.is_empty() {
            format!("HTTP {status} without an error body")
        } else {
            description
        };
        IdentityError {
            kind,
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            error: b.error,
            description,
            codes: b.error_codes,
            trace_id: b.trace_id,
        }
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (t, c, d) = (&self.tenant, &self.client_id, &self.description);
        match self.kind {
            IdentityErrorKind::InvalidSecret => write!(
                f,
                "the client secret is wrong or expired; create a new one in the app registration {c} (Certificates & secrets) and update the profile"
            ),
            IdentityErrorKind::ApplicationNotFound => write!(
                f,
                "application {c} was not found in tenant {t}; check the client id, or have an admin consent to it in this tenant"
            ),
            IdentityErrorKind::InvalidClient => write!(
                f,
                "the identity platform rejected client {c}: {d}; check the client id and its secret or certificate"
            ),
            IdentityErrorKind::UnauthorizedClient => write!(
                f,
                "client {c} may not use this sign-in method: {d}; for device code sign-in enable 'Allow public client flows' in the app registration"
            ),
            IdentityErrorKind::InvalidScope => write!(
                f,
                "the requested scope is not valid: {d}; check the cloud setting (the login and Graph hosts must be the same cloud)"
            ),
            IdentityErrorKind::TenantNotFound => write!(
                f,
                "tenant {t} not found; check the tenant id or domain and the cloud setting"
            ),
            IdentityErrorKind::InvalidGrant => {
                write!(f, "the sign-in is no longer valid: {d}; sign in again")
            }
            IdentityErrorKind::ConsentRequired => write!(
                f,
                "admin consent is missing for client {c} in tenant {t}; an administrator must grant consent for its Microsoft Graph permissions"
            ),
            IdentityErrorKind::AuthorizationPending => {
                write!(f, "sign-in is still waiting for the user to enter the code")
            }
            IdentityErrorKind::SlowDown => {
                write!(f, "the identity platform asked to poll more slowly")
            }
            IdentityErrorKind::ExpiredToken => write!(
                f,
                "the device code expired before sign-in finished; start the sign-in again"
            ),
            IdentityErrorKind::Declined => {
                write!(f, "the sign-in was declined; start it again and approve it")
            }
            IdentityErrorKind::BadVerificationCode => write!(
                f,
                "the device code was not recognised; start the sign-in again"
            ),
            IdentityErrorKind::Other => {
                write!(f, "sign-in to tenant {t} failed ({}): {d}", self.error)
            }
        }?;
        if let Some(trace) = &self.trace_id {
            write!(f, " [trace {trace}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for IdentityError {}

impl From<IdentityError> for TenantError {
    fn from(e: IdentityError) -> Self {
        TenantError::Identity(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_permission() {
        let e = from_graph_response(
            Endpoint::new(
                "POST",
                "https://graph.microsoft.com/v1.0/security/runHuntingQuery",
            ),
            403,
            None,
            br#"{"error":{"code":"Forbidden","message":"Missing role"}}"#,
        );
        assert!(e.to_string().contains("ThreatHunting.Read.All"), "{e}");
        let e = from_graph_response(
            Endpoint::new("PATCH", "/security/alerts_v2/x"),
            403,
            None,
            b"",
        );
        assert!(e.to_string().contains("SecurityAlert.ReadWrite.All"), "{e}");
        let e = from_graph_response(
            Endpoint::new("GET", "/groups/g/transitiveMembers?$top=5"),
            403,
            None,
            b"",
        );
        assert!(e.to_string().contains("GroupMember.Read.All"), "{e}");
        let e = from_graph_response(Endpoint::new("GET", "/users"), 403, None, b"");
        assert!(e.to_string().contains("User.Read.All"), "{e}");
        let e = from_graph_response(
            Endpoint::new("POST", "/security/collaboration/analyzedEmails/remediate"),
            403,
            None,
            b"",
        );
        assert!(
            e.to_string()
                .contains("SecurityAnalyzedMessage.ReadWrite.All"),
            "{e}"
        );
        let e = from_graph_response(Endpoint::new("GET", "/security/incidents"), 403, None, b"");
        assert!(e.to_string().contains("SecurityIncident.Read.All"), "{e}");
    }

    #[test]
    fn status_codes_map_to_actionable_variants() {
        let ep = || Endpoint::new("POST", "/security/runHuntingQuery");
        let e = from_graph_response(ep(), 429, Some(Duration::from_secs(7)), b"{}");
        assert_eq!(
            e.to_string(),
            "throttled by Microsoft Graph for 7 seconds on POST /security/runHuntingQuery; the refresh will resume later"
        );
        let kql = br#"{"error":{"code":"BadRequest","message":"Query could not be parsed at 'wher' on line [1,15]","innererror":{"x":1}}}"#;
        let e = from_graph_response(ep(), 400, None, kql);
        assert!(
            matches!(&e, TenantError::BadRequest { message, .. } if message.contains("could not be parsed"))
        );
        assert!(!e.is_row_cap());
        let cap =
            br#"{"error":{"code":"BadRequest","message":"Result exceeds the 100,000 row limit"}}"#;
        assert!(from_graph_response(ep(), 400, None, cap).is_row_cap());
        assert!(matches!(
            from_graph_response(ep(), 404, None, b""),
            TenantError::NotFound { .. }
        ));
        assert!(matches!(
            from_graph_response(ep(), 500, None, b"oops"),
            TenantError::Service { status: 500, .. }
        ));
    }

    #[test]
    fn identity_errors_give_advice() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215]}"#;
        let e = IdentityError::from_body("contoso.onmicrosoft.com", "app", 401, body);
        assert_eq!(e.kind, IdentityErrorKind::InvalidSecret);
        assert!(e.to_string().contains("client secret is wrong or expired"));
        let body = br#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'nope' not found.","error_codes":[90002]}"#;
        let e = IdentityError::from_body("nope", "app", 400, body);
        assert_eq!(
            e.to_string(),
            "tenant nope not found; check the tenant id or domain and the cloud setting"
        );
        let body = br#"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented"}"#;
        assert_eq!(
            IdentityError::from_body("t", "c", 400, body).kind,
            IdentityErrorKind::ConsentRequired
        );
    }
}
