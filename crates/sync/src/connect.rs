//! Builds the tenant client a profile describes: endpoints from its cloud (or
//! overrides), the credential from the environment, a certificate file, or the
//! device-code login's cached tokens.

use std::path::Path;
use std::sync::Arc;

use whalewatch_config::{AuthKind, Profile};
use whalewatch_tenant::auth::certificate::Certificate;
use whalewatch_tenant::auth::client_secret::ClientSecret;
use whalewatch_tenant::auth::store::TokenStore;
use whalewatch_tenant::http::http_client;
use whalewatch_tenant::{
    Credential, GraphClient, GraphConfig, Identity, Secret, TenantError, TokenProvider,
};

use super::SyncError;

/// The identity (tenant, app, hosts) of a profile.
pub fn identity(profile: &Profile) -> Identity {
    Identity {
        endpoints: profile.endpoints(),
        tenant: profile.tenant.clone(),
        client_id: profile.client_id.clone(),
    }
}

/// A Graph client for `profile`. `read_only` adds to the profile's own setting.
pub fn graph_client(
    name: &str,
    profile: &Profile,
    cache_dir: &Path,
    read_only: bool,
) -> Result<GraphClient, SyncError> {
    let store = TokenStore::new(cache_dir);
    let credential = match profile.auth {
        AuthKind::ClientSecret => {
            let var = profile.client_secret_env.clone().unwrap_or_default();
            let secret = std::env::var(&var).ok().filter(|s| !s.is_empty()).ok_or_else(|| {
                SyncError::Setup(if var == whalewatch_config::DEMO_SECRET_ENV {
                    format!("profile `{name}`: {}", whalewatch_config::DEMO_NOT_RUNNING)
                } else {
                    format!(
                        "profile `{name}` reads its client secret from ${var}, which is not set; export it (the secret never goes in the config)"
                    )
                })
            })?;
            Credential::ClientSecret(ClientSecret::new(Secret::new(secret)))
        }
        AuthKind::Certificate => {
            let path = profile.certificate.clone().unwrap_or_default();
            Credential::Certificate(Arc::new(Certificate::from_pem_file(&path)?))
        }
        AuthKind::DeviceCode => {
            let saved = store
                .load(name)?
                .filter(|t| t.tenant == profile.tenant && t.client_id == profile.client_id);
            match saved.and_then(|t| t.refresh_token) {
                Some(rt) => Credential::RefreshToken(rt),
                None => {
                    return Err(SyncError::Setup(format!(
                        "profile `{name}` signs in with a device code: run `whalewatch login --profile {name}` first"
                    )));
                }
            }
        }
    };
    let store = (profile.auth == AuthKind::DeviceCode).then_some((store, name));
    client_with(profile, credential, store, read_only)
}

/// A Graph client for `profile` signing in with `credential` (the demo passes the
/// simulator's secret this way, without putting it in the environment or a file).
pub fn client_with(
    profile: &Profile,
    credential: Credential,
    store: Option<(TokenStore, &str)>,
    read_only: bool,
) -> Result<GraphClient, SyncError> {
    let http = http_client(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(60),
        profile.request_timeout(),
    )?;
    let mut provider = TokenProvider::new(identity(profile), credential, http);
    if let Some((store, name)) = store {
        provider = provider.with_store(store, name)?;
    }
    let mut config = GraphConfig::new(&profile.endpoints().graph_url);
    config.read_only = read_only || profile.read_only;
    config.request_timeout = profile.request_timeout();
    config.hunting_request_timeout = config
        .hunting_request_timeout
        .max(profile.request_timeout());
    Ok(GraphClient::new(config, Arc::new(provider))?)
}

impl From<TenantError> for SyncError {
    fn from(e: TenantError) -> Self {
        SyncError::Tenant(e)
    }
}
