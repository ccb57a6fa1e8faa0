//! Identity: getting and keeping a Graph access token.
//!
//! Three ways to sign in — client secret, certificate assertion, device code (then refresh
//! tokens) — all end in the same v2.0 token endpoint response. [`TokenProvider`] caches the access
//! token in memory, renews it a few minutes before it expires, and renews on demand after a 401.
//! Secrets live in [`Secret`], whose `Debug` never prints them and which has no `Display`.

pub mod certificate;
pub mod client_secret;
pub mod device_code;
pub mod store;

pub use certificate::Certificate;
pub use client_secret::ClientSecret;
pub use device_code::{DeviceCodeChallenge, DeviceCodeFlow};
pub use store::{StoredToken, TokenStore};

use crate::cloud::CloudEndpoints;
use crate::error::{Endpoint, IdentityError, TenantError};
use crate::retry::BoxFuture;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A secret string (client secret, token, assertion): never printed by `Debug`, no `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which app registration in which tenant, and where its identity platform is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Login and Graph hosts.
    pub endpoints: CloudEndpoints,
    /// Tenant id or verified domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
}

impl Identity {
    /// The v2.0 token endpoint of this tenant.
    pub fn token_url(&self) -> String {
        self.endpoints.token_url(&self.tenant)
    }
}

/// A successful token endpoint response.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// Always `Bearer`.
    #[serde(default)]
    pub token_type: String,
    /// Lifetime in seconds (sent as a number, sometimes as text).
    #[serde(deserialize_with = "seconds")]
    pub expires_in: u64,
    /// The access token.
    pub access_token: Secret,
    /// Present for delegated sign-ins with `offline_access`.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Present for delegated sign-ins with `openid`.
    #[serde(default)]
    pub id_token: Option<Secret>,
    /// Granted scopes.
    #[serde(default)]
    pub scope: Option<String>,
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| serde::de::Error::custom("negative lifetime")),
        serde_json::Value::String(s) => s.trim().parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expires_in is not a number")),
    }
}

/// An access token and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub token: Secret,
    /// Expiry instant.
    pub expires_at: DateTime<Utc>,
}

impl AccessToken {
    /// Builds from a token response received at `now`.
    pub fn from_response(resp: &TokenResponse, now: DateTime<Utc>) -> Self {
        let secs = i64::try_from(resp.expires_in).unwrap_or(i64::MAX / 2_000);
        AccessToken {
            token: resp.access_token.clone(),
            expires_at: now + chrono::Duration::seconds(secs),
        }
    }

    /// True when the token should be renewed: it expires within `margin` of `now`.
    pub fn needs_renewal(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::zero());
        now + margin >= self.expires_at
    }
}

/// Where the Graph client gets bearer tokens; a trait so tests and the simulator can use a
/// fixed token.
pub trait AccessTokenSource: Send + Sync {
    /// A valid token, renewed if it is about to expire.
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TenantError>>;
    /// Renews unconditionally (after a 401).
    fn renew(&self) -> BoxFuture<'_, Result<Secret, TenantError>>;
}

/// A fixed bearer token (simulator, tests).
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

impl AccessTokenSource for StaticToken {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
    fn renew(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        self.access_token()
    }
}

/// How the app proves who it is when renewing.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Application sign-in with a client secret.
    ClientSecret(ClientSecret),
    /// Application sign-in with a certificate.
    Certificate(Arc<Certificate>),
    /// Delegated sign-in (after device code): renew with the refresh token (which rotates).
    RefreshToken(Secret),
}

/// Posts a form to a token endpoint and maps failures to [`IdentityError`].
pub async fn request_token(
    http: &reqwest::Client,
    identity: &Identity,
    url: &str,
    form: &[(&'static str, String)],
) -> Result<TokenResponse, TenantError> {
    let endpoint = Endpoint::new("POST", url);
    let (status, body) = post_form(http, &endpoint, url, form).await?;
    if (200..300).contains(&status) {
        serde_json::from_slice(&body).map_err(|e| TenantError::InvalidResponse {
            endpoint,
            offset: crate::http::byte_offset(&body, &e),
            message: e.to_string(),
        })
    } else {
        Err(IdentityError::from_body(&identity.tenant, &identity.client_id, status, &body).into())
    }
}

/// Posts a form to the identity platform and reads the answer under the identity body
/// cap. A 3xx is [`TenantError::Redirected`]: the form holds the client secret or an
/// assertion, so it goes nowhere but the configured login host (the client follows no
/// redirect; see [`crate::http::http_client`]).
pub(crate) async fn post_form(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    url: &str,
    form: &[(&'static str, String)],
) -> Result<(u16, Vec<u8>), TenantError> {
    use crate::http::{BodyCaps, BodyError, host_of, read_capped, redirect_error};
    // The error from reqwest carries the URL only (never the form body), which holds no secret.
    let network = |e: reqwest::Error| TenantError::Network {
        endpoint: endpoint.clone(),
        host: host_of(url),
        message: e.without_url().to_string(),
    };
    let resp = http.post(url).form(form).send().await.map_err(network)?;
    let status = resp.status().as_u16();
    if (300..400).contains(&status) {
        return Err(redirect_error(endpoint, url, resp.headers()));
    }
    let limit = BodyCaps::default().identity;
    let body = read_capped(resp, limit).await.map_err(|e| match e {
        BodyError::Network(e) => network(e),
        BodyError::TooLarge => TenantError::TooLarge {
            endpoint: endpoint.clone(),
            limit,
        },
    })?;
    Ok((status, body))
}

/// [`request_token`], retried with backoff while the failure is transient (throttling,
/// a server error, a cut connection or body): a token request changes nothing, and
/// failing a long refresh over one 429 from the identity platform helps nobody.
async fn request_token_retrying(
    http: &reqwest::Client,
    identity: &Identity,
    url: &str,
    form: &[(&'static str, String)],
) -> Result<TokenResponse, TenantError> {
    let policy = crate::retry::RetryPolicy {
        max_attempts: 5,
        ..Default::default()
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let err = match request_token(http, identity, url, form).await {
            Ok(resp) => return Ok(resp),
            Err(e) => e,
        };
        // A complete answer that does not parse will not parse the next time either.
        let transient = match &err {
            TenantError::Network { .. } => true,
            TenantError::Identity(i) => {
                matches!(i.error.as_str(), "temporarily_unavailable" | "server_error")
            }
            _ => false,
        };
        match policy.delay(attempt, None, rand::random::<f64>()) {
            Some(wait) if transient => tokio::time::sleep(wait).await,
            _ => return Err(err),
        }
    }
}

/// The current time, injectable for renewal-timing tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

struct ProviderState {
    token: Option<AccessToken>,
    credential: Credential,
}

/// Caches an access token and renews it before expiry; optionally persists it per profile.
pub struct TokenProvider {
    identity: Identity,
    http: reqwest::Client,
    state: tokio::sync::Mutex<ProviderState>,
    renew_margin: Duration,
    clock: Clock,
    store: Option<(TokenStore, String)>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// Renew this long before expiry, so a long hunting call never starts with a dying token.
    pub const DEFAULT_RENEW_MARGIN: Duration = Duration::from_secs(300);

    /// A provider for `identity` using `credential`.
    pub fn new(identity: Identity, credential: Credential, http: reqwest::Client) -> Self {
        TokenProvider {
            identity,
            http,
            state: tokio::sync::Mutex::new(ProviderState {
                token: None,
                credential,
            }),
            renew_margin: Self::DEFAULT_RENEW_MARGIN,
            clock: Arc::new(Utc::now),
            store: None,
        }
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Changes how early tokens are renewed.
    pub fn with_renew_margin(mut self, margin: Duration) -> Self {
        self.renew_margin = margin;
        self
    }

    /// Persists tokens (and rotating refresh tokens) in `store` under `profile`, and starts from
    /// what is stored there when it belongs to the same tenant and client.
    pub fn with_store(mut self, store: TokenStore, profile: &str) -> Result<Self, TenantError> {
        if let Some(saved) = store.load(profile)?
            && saved.tenant == self.identity.tenant
            && saved.client_id == self.identity.client_id
        {
            let state = self.state.get_mut();
            state.token = Some(AccessToken {
                token: saved.access_token,
                expires_at: saved.expires_at,
            });
            if let (Credential::RefreshToken(_), Some(rt)) =
                (&state.credential, saved.refresh_token)
            {
                state.credential = Credential::RefreshToken(rt);
            }
        }
        self.store = Some((store, profile.to_owned()));
        Ok(self)
    }

    /// The identity this provider signs in as.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Adopts a token obtained elsewhere (the device-code flow's first token), so it is not
    /// wasted and its refresh token is kept and persisted.
    pub async fn accept(&self, resp: &TokenResponse) -> Result<(), TenantError> {
        let mut state = self.state.lock().await;
        let token = AccessToken::from_response(resp, (self.clock)());
        if let Some(rt) = &resp.refresh_token {
            state.credential = Credential::RefreshToken(rt.clone());
        }
        self.persist(&state, &token)?;
        state.token = Some(token);
        Ok(())
    }

    fn persist(&self, state: &ProviderState, token: &AccessToken) -> Result<(), TenantError> {
        let Some((store, profile)) = &self.store else {
            return Ok(());
        };
        let refresh_token = match &state.credential {
            Credential::RefreshToken(rt) => Some(rt.clone()),
            _ => None,
        };
        store.save(
            profile,
            &StoredToken {
                tenant: self.identity.tenant.clone(),
                client_id: self.identity.client_id.clone(),
                access_token: token.token.clone(),
                expires_at: token.expires_at,
                refresh_token,
            },
        )
    }

    async fn fetch(&self, state: &mut ProviderState) -> Result<Secret, TenantError> {
        let now = (self.clock)();
        let scope = self.identity.endpoints.graph_scope();
        let url = self.identity.token_url();
        let form = match &state.credential {
            Credential::ClientSecret(c) => c.form(&self.identity.client_id, &scope),
            Credential::Certificate(c) => {
                let assertion = c.assertion(
                    &self.identity.client_id,
                    &url,
                    now,
                    &certificate::random_jti(),
                )?;
                certificate::form(&self.identity.client_id, &assertion, &scope)
            }
            Credential::RefreshToken(rt) => device_code::refresh_form(
                &self.identity.client_id,
                rt,
                &device_code::delegated_scope(&self.identity.endpoints),
            ),
        };
        let resp = request_token_retrying(&self.http, &self.identity, &url, &form).await?;
        let token = AccessToken::from_response(&resp, now);
        if let (Credential::RefreshToken(_), Some(rt)) = (&state.credential, &resp.refresh_token) {
            state.credential = Credential::RefreshToken(rt.clone());
        }
        self.persist(state, &token)?;
        let secret = token.token.clone();
        state.token = Some(token);
        Ok(secret)
    }
}

impl AccessTokenSource for TokenProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        Box::pin(async move {
            // One lock for check-and-renew: concurrent callers wait for a single renewal.
            let mut state = self.state.lock().await;
            if let Some(t) = &state.token
                && !t.needs_renewal((self.clock)(), self.renew_margin)
            {
                return Ok(t.token.clone());
            }
            self.fetch(&mut state).await
        })
    }

    fn renew(&self) -> BoxFuture<'_, Result<Secret, TenantError>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            state.token = None;
            self.fetch(&mut state).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn renewal_happens_within_the_margin() {
        let t0 = Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let resp: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3599","access_token":"a"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let tok = AccessToken::from_response(&resp, t0);
        let margin = TokenProvider::DEFAULT_RENEW_MARGIN;
        assert!(!tok.needs_renewal(t0, margin));
        assert!(!tok.needs_renewal(t0 + chrono::Duration::seconds(3599 - 301), margin));
        assert!(tok.needs_renewal(t0 + chrono::Duration::seconds(3599 - 300), margin));
        assert!(tok.needs_renewal(t0 + chrono::Duration::seconds(4000), margin));
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let c = Credential::ClientSecret(ClientSecret::new(Secret::new("hunter2")));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
