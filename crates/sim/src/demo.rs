//! The profile a simulated tenant is used with: what `whalewatch demo` writes, and
//! what tests and benchmarks refresh through, so all three see the same tags — one
//! per simulator group, plus Priority account from the simulator's VIP list. It joins
//! the simulator, a profile and a tenant credential, so it sits above all three (the
//! demo side, not the simulator).

use std::path::Path;

use crate::params::WorldParams;
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
        ..signed_in(server, whalewatch_config::DEMO_SECRET_ENV)
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

/// The file in the demo's cache directory that records which world its cache holds.
const WORLD_FILE: &str = "demo-world.json";

/// Records `params` (owner-only) beside the demo cache in `dir`, so a later
/// `whalewatch demo` can regenerate the same world — the simulator is
/// deterministic — and reopen the cache instead of rebuilding it.
pub fn save_world(dir: &Path, params: &WorldParams) -> std::io::Result<()> {
    let json = serde_json::json!({
        "seed": params.seed,
        "now": params.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "users": params.users,
        "days": params.days,
        "emails_per_day": params.emails_per_day,
    });
    whalewatch_config::paths::write_private(&dir.join(WORLD_FILE), json.to_string().as_bytes())
}

/// The world [`save_world`] recorded in `dir`; `None` when there is none or it
/// cannot be read (the demo then builds a new cache).
pub fn saved_world(dir: &Path) -> Option<WorldParams> {
    let text = std::fs::read_to_string(dir.join(WORLD_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let number = |k: &str| v.get(k).and_then(serde_json::Value::as_u64);
    let now = chrono::DateTime::parse_from_rfc3339(v.get("now")?.as_str()?).ok()?;
    Some(WorldParams {
        seed: number("seed")?,
        now: now.with_timezone(&chrono::Utc),
        users: u32::try_from(number("users")?).ok()?,
        days: u32::try_from(number("days")?).ok()?,
        emails_per_day: u32::try_from(number("emails_per_day")?).ok()?,
    })
}

/// Forgets the recorded world (before the demo cache is rebuilt).
pub fn forget_world(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(WORLD_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The credential the simulator accepts.
pub fn credential(server: &SimServer) -> Credential {
    Credential::ClientSecret(ClientSecret::new(Secret::new(server.client_secret.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_world_reads_back_and_a_damaged_one_is_none() {
        let dir = std::env::temp_dir().join(format!("ww-demo-world-{}", std::process::id()));
        let params = WorldParams {
            users: 300,
            days: 7,
            emails_per_day: 600,
            ..WorldParams::new(
                5,
                chrono::DateTime::from_timestamp(1_793_491_200, 0).unwrap(),
            )
        };
        assert_eq!(saved_world(&dir), None);
        save_world(&dir, &params).unwrap();
        assert_eq!(saved_world(&dir), Some(params));
        std::fs::write(dir.join(WORLD_FILE), b"{\"seed\": 5}").unwrap();
        assert_eq!(saved_world(&dir), None);
        forget_world(&dir).unwrap();
        forget_world(&dir).unwrap();
        assert_eq!(saved_world(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
