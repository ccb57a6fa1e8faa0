//! The identity platform's v2.0 endpoints: `token` (client credentials with a secret
//! or a certificate assertion, the device-code grant, refresh tokens) and
//! `devicecode`. Access tokens are JWTs signed with HS256 (HMAC-SHA256, verified in
//! constant time) under a key derived from the world, and expire after `--token-lifetime`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::errors::OAuthError;
use crate::rng::SimRng;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Every application permission the simulated app registration can hold.
pub const ALL_ROLES: &[&str] = &[
    "SecurityAlert.Read.All",
    "SecurityAlert.ReadWrite.All",
    "SecurityIncident.Read.All",
    "SecurityIncident.ReadWrite.All",
    "ThreatHunting.Read.All",
    "User.Read.All",
    "GroupMember.Read.All",
    "SecurityAnalyzedMessage.Read.All",
    "SecurityAnalyzedMessage.ReadWrite.All",
    // Posture sources.
    "AuditLog.Read.All",
    "Directory.Read.All",
    "Policy.Read.All",
    "IdentityRiskyUser.Read.All",
    "SecurityEvents.Read.All",
    "ExchangeMessageTrace.Read.All",
];

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Who a valid token was issued to.
#[derive(Debug, Clone)]
pub struct TokenClaims {
    pub roles: Vec<String>,
    /// The signed-in analyst, for delegated (device-code) tokens.
    pub upn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Declined,
    Redeemed,
}

#[derive(Debug)]
struct DeviceCode {
    user_code: String,
    expires: Instant,
    interval: Duration,
    approve_at: Option<Instant>,
    last_poll: Option<Instant>,
    status: DeviceStatus,
}

/// Identity settings and state.
#[derive(Debug)]
pub struct Identity {
    pub tenant_id: String,
    pub tenant_domains: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub token_lifetime: Duration,
    pub roles: Vec<String>,
    pub devicecode_interval: Duration,
    pub devicecode_approve_after: Option<Duration>,
    pub devicecode_lifetime: Duration,
    /// The HS256 key: derived from the seed and the client secret, so a restarted server with
    /// the same flags accepts the tokens it issued before.
    key: hmac::Key,
    device_codes: Mutex<HashMap<String, DeviceCode>>,
    refresh_tokens: Mutex<HashMap<String, String>>,
    rng: Mutex<SimRng>,
}

/// The form of a token or devicecode request.
pub type Form = HashMap<String, String>;

impl Identity {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        seed: u64,
        tenant_id: String,
        tenant_domains: Vec<String>,
        client_id: String,
        client_secret: String,
        token_lifetime: Duration,
        roles: Vec<String>,
        devicecode_interval: Duration,
        devicecode_approve_after: Option<Duration>,
    ) -> Self {
        let derived = Sha256::digest(format!("whalewatch-sim-signing:{seed}:{client_secret}"));
        let key = hmac::Key::new(hmac::HMAC_SHA256, &derived);
        Identity {
            tenant_id,
            tenant_domains,
            client_id,
            client_secret,
            token_lifetime,
            roles,
            devicecode_interval,
            devicecode_approve_after,
            devicecode_lifetime: Duration::from_secs(900),
            key,
            device_codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            rng: Mutex::new(SimRng::new(seed, "identity")),
        }
    }

    fn random_hex(&self, n: usize) -> String {
        self.rng.lock().map(|mut r| r.hex(n)).unwrap_or_default()
    }

    /// Whether `tenant` (GUID or domain, as in the URL) is this tenant.
    pub fn knows_tenant(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.tenant_id)
            || self
                .tenant_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(tenant))
    }

    /// The JWS signature of `header.payload` (RFC 7518 HS256), base64url.
    fn sign(&self, signing_input: &str) -> String {
        B64.encode(hmac::sign(&self.key, signing_input.as_bytes()))
    }

    /// Whether `signature` (base64url) is the HS256 signature of `signing_input`; the
    /// comparison is constant-time, so response timing leaks nothing about the key.
    fn verify(&self, signing_input: &str, signature: &str) -> bool {
        B64.decode(signature)
            .is_ok_and(|sig| hmac::verify(&self.key, signing_input.as_bytes(), &sig).is_ok())
    }

    fn mint(&self, upn: Option<&str>, scope_roles: &[String]) -> String {
        let now = unix_now();
        let header = B64.encode(br#"{"typ":"JWT","alg":"HS256","kid":"whalewatch-sim"}"#);
        let payload = json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{}/", self.tenant_id),
            "tid": self.tenant_id,
            "appid": self.client_id,
            "roles": scope_roles,
            "upn": upn,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime.as_secs(),
            "jti": self.random_hex(8),
        });
        let payload = B64.encode(payload.to_string());
        let input = format!("{header}.{payload}");
        let sig = self.sign(&input);
        format!("{input}.{sig}")
    }

    /// Validates a bearer token; `Err` carries Graph's message for the 401.
    pub fn validate(&self, token: &str) -> Result<TokenClaims, &'static str> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("IDX14100: JWT is not well formed, there are no dots (.).");
        };
        if !self.verify(&format!("{h}.{p}"), s) {
            return Err("Invalid signature.");
        }
        let claims: Value = B64
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("IDX12729: Unable to decode the payload.")?;
        if claims["exp"].as_u64().unwrap_or(0) <= unix_now() {
            return Err("Lifetime validation failed, the token is expired.");
        }
        let roles = claims["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok(TokenClaims {
            roles,
            upn: claims["upn"].as_str().map(String::from),
        })
    }

    fn token_response(&self, upn: Option<&str>, with_refresh: bool) -> Value {
        let access = self.mint(upn, &self.roles);
        let mut body = json!({
            "token_type": "Bearer",
            "expires_in": self.token_lifetime.as_secs(),
            "ext_expires_in": self.token_lifetime.as_secs(),
            "access_token": access,
        });
        if with_refresh {
            let refresh = format!("rt.{}", self.random_hex(24));
            if let Ok(mut m) = self.refresh_tokens.lock() {
                m.insert(refresh.clone(), upn.unwrap_or_default().to_string());
            }
            body["refresh_token"] = Value::String(refresh);
            body["scope"] =
                Value::String("https://graph.microsoft.com/.default offline_access".into());
            body["id_token"] = Value::String(format!(
                "{}.{}.",
                B64.encode(br#"{"typ":"JWT","alg":"none"}"#),
                B64.encode(json!({"tid": self.tenant_id, "preferred_username": upn}).to_string())
            ));
        }
        body
    }

    fn check_client(&self, form: &Form, tenant: &str) -> Result<(), OAuthError> {
        let client_id = form
            .get("client_id")
            .map(String::as_str)
            .unwrap_or_default();
        if client_id.is_empty() {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            ));
        }
        if client_id != self.client_id {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
                ),
            ));
        }
        Ok(())
    }

    /// `POST /{tenant}/oauth2/v2.0/token`.
    pub fn token(&self, tenant: &str, token_url: &str, form: &Form) -> Result<Value, OAuthError> {
        if !self.knows_tenant(tenant) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                ),
            ));
        }
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {
                self.check_client(form, tenant)?;
                let scope = form.get("scope").map(String::as_str).unwrap_or_default();
                if !scope
                    .split(' ')
                    .any(|s| s.to_ascii_lowercase().ends_with("/.default"))
                {
                    return Err(OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        1002012,
                        format!(
                            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                        ),
                    ));
                }
                match (form.get("client_secret"), form.get("client_assertion")) {
                    (Some(secret), _) => {
                        if secret != &self.client_secret {
                            return Err(OAuthError::new(
                                StatusCode::UNAUTHORIZED,
                                "invalid_client",
                                7000215,
                                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
                            ));
                        }
                    }
                    (None, Some(assertion)) => self.check_assertion(form, assertion, token_url)?,
                    (None, None) => {
                        return Err(OAuthError::new(
                            StatusCode::UNAUTHORIZED,
                            "invalid_client",
                            7000218,
                            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                        ));
                    }
                }
                Ok(self.token_response(None, false))
            }
            Some("urn:ietf:params:oauth:grant-type:device_code") => {
                self.check_client(form, tenant)?;
                self.poll_device_code(
                    form.get("device_code")
                        .map(String::as_str)
                        .unwrap_or_default(),
                )
            }
            Some("refresh_token") => {
                self.check_client(form, tenant)?;
                let rt = form
                    .get("refresh_token")
                    .map(String::as_str)
                    .unwrap_or_default();
                let upn = self
                    .refresh_tokens
                    .lock()
                    .ok()
                    .and_then(|m| m.get(rt).cloned());
                match upn {
                    Some(upn) => Ok(self.token_response(Some(&upn), true)),
                    None => Err(OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        70008,
                        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                    )),
                }
            }
            Some(other) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
            None => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )),
        }
    }

    /// Checks a certificate `client_assertion`: its type, JWT shape, audience,
    /// issuer/subject and lifetime. (The simulator has no registered certificate, so
    /// the signature itself is not verified; its presence is.)
    fn check_assertion(
        &self,
        form: &Form,
        assertion: &str,
        token_url: &str,
    ) -> Result<(), OAuthError> {
        let bad = |code: u32, msg: String| {
            OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, msg)
        };
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Err(bad(700025, "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.".into()));
        }
        let parts: Vec<&str> = assertion.split('.').collect();
        if parts.len() != 3 || parts[2].is_empty() {
            return Err(bad(
                700024,
                "Client assertion is not a signed JWT (expected header.payload.signature).".into(),
            ));
        }
        let decode = |s: &str| -> Option<Value> {
            B64.decode(s)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
        };
        let (Some(header), Some(claims)) = (decode(parts[0]), decode(parts[1])) else {
            return Err(bad(
                700024,
                "Client assertion header or payload is not base64url-encoded JSON.".into(),
            ));
        };
        if !matches!(header["alg"].as_str(), Some("RS256" | "PS256")) {
            return Err(bad(
                700027,
                "Client assertion must be signed with RS256 or PS256.".into(),
            ));
        }
        if header.get("x5t").is_none() && header.get("x5t#S256").is_none() {
            return Err(bad(
                700027,
                "Client assertion header has no x5t or x5t#S256 certificate thumbprint.".into(),
            ));
        }
        let aud = claims["aud"].as_str().unwrap_or_default();
        if !aud.eq_ignore_ascii_case(token_url) {
            return Err(bad(
                700021,
                format!(
                    "Client assertion audience claim does not match Realm issuer. Expected '{token_url}', got '{aud}'."
                ),
            ));
        }
        if claims["iss"].as_str() != Some(&self.client_id)
            || claims["sub"].as_str() != Some(&self.client_id)
        {
            return Err(bad(
                700021,
                "Client assertion iss and sub must both be the application's client id.".into(),
            ));
        }
        let now = unix_now();
        let exp = claims["exp"].as_u64().unwrap_or(0);
        if exp <= now {
            return Err(bad(
                700024,
                "Client assertion is not within its valid time range (expired).".into(),
            ));
        }
        if claims["nbf"].as_u64().unwrap_or(0) > now + 300 {
            return Err(bad(
                700024,
                "Client assertion is not within its valid time range (not yet valid).".into(),
            ));
        }
        if claims["jti"].as_str().unwrap_or_default().is_empty() {
            return Err(bad(700024, "Client assertion has no jti claim.".into()));
        }
        Ok(())
    }

    /// `POST /{tenant}/oauth2/v2.0/devicecode`.
    pub fn device_code(
        &self,
        tenant: &str,
        base_url: &str,
        form: &Form,
    ) -> Result<Value, OAuthError> {
        if !self.knows_tenant(tenant) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                format!("Tenant '{tenant}' not found."),
            ));
        }
        self.check_client(form, tenant)?;
        if form.get("scope").is_none_or(|s| s.trim().is_empty()) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            ));
        }
        let device_code = format!("DC{}", self.random_hex(24));
        let raw = self.random_hex(5).to_uppercase();
        let user_code: String = raw
            .chars()
            .map(|c| if c == '0' { 'Q' } else { c })
            .take(9)
            .collect();
        let now = Instant::now();
        let state = DeviceCode {
            user_code: user_code.clone(),
            expires: now + self.devicecode_lifetime,
            interval: self.devicecode_interval,
            approve_at: self.devicecode_approve_after.map(|d| now + d),
            last_poll: None,
            status: DeviceStatus::Pending,
        };
        if let Ok(mut m) = self.device_codes.lock() {
            m.insert(device_code.clone(), state);
        }
        let uri = format!("{base_url}/devicelogin");
        Ok(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": self.devicecode_lifetime.as_secs(),
            "interval": self.devicecode_interval.as_secs().max(1),
            "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
        }))
    }

    fn poll_device_code(&self, code: &str) -> Result<Value, OAuthError> {
        let now = Instant::now();
        let mut codes = self.device_codes.lock().map_err(|_| {
            OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50000,
                "state unavailable",
            )
        })?;
        let Some(dc) = codes.get_mut(code) else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "bad_verification_code",
                70000,
                "The device code was not recognised.",
            ));
        };
        if now >= dc.expires {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        if dc.approve_at.is_some_and(|t| now >= t) && dc.status == DeviceStatus::Pending {
            dc.status = DeviceStatus::Approved;
        }
        let too_fast = dc
            .last_poll
            .is_some_and(|t| now.duration_since(t) + Duration::from_millis(200) < dc.interval);
        dc.last_poll = Some(now);
        match dc.status {
            DeviceStatus::Declined => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "authorization_declined",
                70000,
                "The end user denied the authorization request.",
            )),
            DeviceStatus::Redeemed => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                54005,
                "The device code was already redeemed.",
            )),
            DeviceStatus::Pending if too_fast => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "slow_down",
                70016,
                "Polling too fast: wait the interval between requests.",
            )),
            DeviceStatus::Pending => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )),
            DeviceStatus::Approved => {
                dc.status = DeviceStatus::Redeemed;
                drop(codes);
                Ok(self.token_response(
                    Some(&format!(
                        "analyst@{}",
                        self.tenant_domains
                            .first()
                            .map_or("contoso.com", |d| d.as_str())
                    )),
                    true,
                ))
            }
        }
    }

    /// Approves (or declines) the pending device code with `user_code`, as the
    /// analyst would in a browser. False when no such code is pending.
    pub fn decide_device_code(&self, user_code: &str, approve: bool) -> bool {
        let Ok(mut codes) = self.device_codes.lock() else {
            return false;
        };
        for dc in codes.values_mut() {
            if dc.user_code.eq_ignore_ascii_case(user_code.trim())
                && dc.status == DeviceStatus::Pending
            {
                dc.status = if approve {
                    DeviceStatus::Approved
                } else {
                    DeviceStatus::Declined
                };
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity::new(
            7,
            "tenant".into(),
            vec!["contoso.onmicrosoft.com".into()],
            "client".into(),
            "sim~secret".into(),
            Duration::from_secs(3600),
            vec!["User.Read.All".into()],
            Duration::from_secs(5),
            None,
        )
    }

    #[test]
    fn genuine_token_is_accepted_and_signed_with_hmac_sha256() {
        let id = identity();
        let token = id.mint(None, &["User.Read.All".to_owned()]);
        let claims = id.validate(&token).unwrap();
        assert_eq!(claims.roles, vec!["User.Read.All".to_owned()]);

        // The signature is HMAC-SHA256 of `header.payload` under the derived key (RFC 7518 §3.2),
        // not SHA-256 of key ‖ input.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let derived = Sha256::digest("whalewatch-sim-signing:7:sim~secret");
        let expected = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &derived),
            input.as_bytes(),
        );
        assert_eq!(B64.decode(sig).unwrap(), expected.as_ref());
        let mut naive = Sha256::new();
        naive.update(derived);
        naive.update(input.as_bytes());
        assert_ne!(B64.decode(sig).unwrap(), naive.finalize().to_vec());
    }

    #[test]
    fn flipped_signature_byte_is_refused() {
        let id = identity();
        let token = id.mint(None, &[]);
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = B64.decode(sig).unwrap();
        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            let forged = format!("{input}.{}", B64.encode(&bad));
            assert_eq!(id.validate(&forged).err(), Some("Invalid signature."));
        }
        // A truncated signature and one that is not base64url are refused too.
        let short = format!("{input}.{}", B64.encode(&sig[..16]));
        assert_eq!(id.validate(&short).err(), Some("Invalid signature."));
        assert_eq!(
            id.validate(&format!("{input}.!!")).err(),
            Some("Invalid signature.")
        );
    }

    #[test]
    fn token_from_another_world_is_refused() {
        let other = Identity::new(
            8,
            "tenant".into(),
            vec![],
            "client".into(),
            "sim~secret".into(),
            Duration::from_secs(3600),
            vec![],
            Duration::from_secs(5),
            None,
        );
        let token = other.mint(None, &[]);
        assert_eq!(
            identity().validate(&token).err(),
            Some("Invalid signature.")
        );
    }
}
