//! The profile a simulated tenant is used with: what `whalewatch demo` writes, and
//! what tests and benchmarks refresh through, so all three see the same tags — one
//! per simulator group, plus Priority account from the simulator's VIP list. It joins
//! the simulator, a profile and a tenant credential, so it sits above all three (the
//! demo side, not the simulator).

use std::path::Path;

use crate::server::SimServer;
use whalewatch_config::{AuthKind, PRIORITY_ACCOUNT, Profile, TagDef};
use whalewatch_tenant::auth::client_secret::ClientSecret;
use whalewatch_tenant::{Credential, Secret};

/// The profile for `server`, writing its VIP list (owner-only) into `dir`.
pub fn profile(server: &SimServer, dir: &Path) -> std::io::Result<Profile> {
    let vips = dir.join("demo-vips.txt");
    let (vip_list, groups) = server.state.read_world(|w| {
        (
            w.vip_list(),
            w.directory
                .groups
                .iter()
                .map(|g| g.name.to_string())
                .collect::<Vec<_>>(),
        )
    });
    whalewatch_config::paths::create_private_dir(dir)?;
    whalewatch_config::paths::write_private(&vips, vip_list.as_bytes())
        .map_err(std::io::Error::other)?;
    let mut tags = vec![TagDef {
        name: PRIORITY_ACCOUNT.into(),
        files: vec![vips],
        ..TagDef::default()
    }];
    tags.extend(groups.into_iter().map(|g| TagDef {
        name: g.clone(),
        groups: vec![g],
        ..TagDef::default()
    }));
    Ok(Profile {
        read_only: false,
        tags,
        // The demo hands the simulator's secret to the client directly; this names
        // where a real profile would read it from.
        ..signed_in(server, "WHALEWATCH_DEMO_SECRET")
    })
}

/// A read-only profile without tags that signs in to `server` with its client
/// secret (read from `secret_env` when the client is built from the profile alone).
pub fn signed_in(server: &SimServer, secret_env: &str) -> Profile {
    Profile {
        tenant: server.tenant_id.clone(),
        client_id: server.client_id.clone(),
        auth: AuthKind::ClientSecret,
        client_secret_env: Some(secret_env.into()),
        certificate: None,
        cloud: "global".into(),
        login_url: Some(server.base_url.clone()),
        graph_url: Some(server.base_url.clone()),
        read_only: true,
        analyst: None,
        tags: Vec::new(),
        request_timeout_secs: None,
        refresh_budget_secs: None,
    }
}

/// The credential the simulator accepts.
pub fn credential(server: &SimServer) -> Credential {
    Credential::ClientSecret(ClientSecret::new(Secret::new(server.client_secret.clone())))
}
