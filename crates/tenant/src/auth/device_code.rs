//! Device authorization grant: an analyst on a jump host signs in on another device.
//!
//! whalewatch asks for a code, shows the service's message (URL + code), then polls the token
//! endpoint at the interval the service gave, slowing down when told to. The resulting refresh
//! token keeps the session alive (see [`super::Credential::RefreshToken`]).

use super::{Identity, Secret, TokenResponse, post_form, request_token};
use crate::cloud::CloudEndpoints;
use crate::error::{Endpoint, IdentityError, IdentityErrorKind, TenantError};
use crate::retry::Sleeper;
use serde::Deserialize;
use std::time::Duration;

/// The grant type of the polling request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Extra wait the spec requires after `slow_down`.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// What to show the analyst, and the code to poll with.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceCodeChallenge {
    /// Polling secret.
    pub device_code: Secret,
    /// Code the user types at the verification page.
    pub user_code: String,
    /// The page (`https://microsoft.com/devicelogin`).
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
    /// Seconds between polls.
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// Ready-made instructions to print.
    #[serde(default)]
    pub message: String,
}

fn default_interval() -> u64 {
    5
}

/// Delegated scope: every Graph permission consented, plus a refresh token.
pub fn delegated_scope(endpoints: &CloudEndpoints) -> String {
    format!("{} offline_access", endpoints.graph_scope())
}

/// The device authorization request form (`fixtures/devicecode.request.http`).
pub fn device_code_form(client_id: &str, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", client_id.to_owned()),
        ("scope", scope.to_owned()),
    ]
}

/// The polling form (`fixtures/token-device-code-poll.request.http`).
pub fn poll_form(client_id: &str, device_code: &Secret) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", DEVICE_CODE_GRANT.to_owned()),
        ("client_id", client_id.to_owned()),
        ("device_code", device_code.expose().to_owned()),
    ]
}

/// The refresh-token form.
pub fn refresh_form(
    client_id: &str,
    refresh_token: &Secret,
    scope: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "refresh_token".to_owned()),
        ("client_id", client_id.to_owned()),
        ("refresh_token", refresh_token.expose().to_owned()),
        ("scope", scope.to_owned()),
    ]
}

/// One device-code sign-in.
pub struct DeviceCodeFlow<'a> {
    /// Who signs in where.
    pub identity: &'a Identity,
    /// HTTP client for the identity platform.
    pub http: &'a reqwest::Client,
    /// Waits between polls.
    pub sleeper: &'a dyn Sleeper,
}

impl DeviceCodeFlow<'_> {
    /// Asks for a device code; show `message` to the analyst, then call [`Self::poll`].
    pub async fn start(&self) -> Result<DeviceCodeChallenge, TenantError> {
        let url = self
            .identity
            .endpoints
            .device_code_url(&self.identity.tenant);
        let scope = delegated_scope(&self.identity.endpoints);
        let endpoint = Endpoint::new("POST", &url);
        let form = device_code_form(&self.identity.client_id, &scope);
        let (status, body) = post_form(self.http, &endpoint, &url, &form).await?;
        if !(200..300).contains(&status) {
            return Err(IdentityError::from_body(
                &self.identity.tenant,
                &self.identity.client_id,
                status,
                &body,
            )
            .into());
        }
        let challenge: DeviceCodeChallenge =
            serde_json::from_slice(&body).map_err(|e| TenantError::InvalidResponse {
                endpoint,
                offset: crate::http::byte_offset(&body, &e),
                message: e.to_string(),
            })?;
        // The analyst types a code (and then a password) at this address: a rewritten
        // answer must not send them to someone else's page.
        if !self
            .identity
            .endpoints
            .is_trusted_display_link(&challenge.verification_uri)
        {
            return Err(TenantError::UntrustedLink {
                link_host: crate::http::host_of(&challenge.verification_uri),
                trusted: format!(
                    "{} or a Microsoft sign-in page",
                    self.identity.endpoints.login_url
                ),
            });
        }
        Ok(challenge)
    }

    /// Polls until the analyst finishes (or declines, or the code expires).
    pub async fn poll(
        &self,
        challenge: &DeviceCodeChallenge,
    ) -> Result<TokenResponse, TenantError> {
        let url = self.identity.token_url();
        let form = poll_form(&self.identity.client_id, &challenge.device_code);
        let mut interval = Duration::from_secs(challenge.interval.max(1));
        let deadline = Duration::from_secs(challenge.expires_in);
        let mut waited = Duration::ZERO;
        loop {
            if waited >= deadline {
                return Err(self.expired());
            }
            self.sleeper.sleep(interval).await;
            waited += interval;
            match request_token(self.http, self.identity, &url, &form).await {
                Ok(token) => return Ok(token),
                Err(TenantError::Identity(e)) => match e.kind {
                    IdentityErrorKind::AuthorizationPending => {}
                    IdentityErrorKind::SlowDown => interval += SLOW_DOWN_STEP,
                    _ => return Err(e.into()),
                },
                Err(other) => return Err(other),
            }
        }
    }

    fn expired(&self) -> TenantError {
        IdentityError::from_body(
            &self.identity.tenant,
            &self.identity.client_id,
            400,
            br#"{"error":"expired_token"}"#,
        )
        .into()
    }
}
