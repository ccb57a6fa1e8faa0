//! `whalewatch demo`: the whole product on a fresh machine, with no tenant.
//!
//! Starts the simulator in-process on loopback, writes a `demo` profile (one tag per
//! simulator group, plus Priority account from the simulator's VIP list), refreshes
//! the demo cache with progress shown, and keeps the simulated tenant serving until
//! Ctrl-C. The console joins this command when it lands; until then the demo prints
//! what to try against the filled cache.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::context::ProfileArgs;
use super::sim::{WorldArgs, shutdown_signal};
use crate::cache::{Cache, cache_file};
use crate::config::{AuthKind, Config, PRIORITY_ACCOUNT, Profile, TagDef};
use crate::sim::server::{SimConfig, SimServer};
use crate::sync::progress::{Reporter, summary_table};
use crate::sync::{RefreshOptions, connect, refresh};
use crate::tenant::auth::client_secret::ClientSecret;
use crate::tenant::{Credential, Secret};

/// The profile the demo writes.
pub const DEMO_PROFILE: &str = "demo";

pub fn run(p: &ProfileArgs, world: &WorldArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(demo(p, world))
}

async fn demo(p: &ProfileArgs, world: &WorldArgs) -> Result<ExitCode> {
    eprintln!("whalewatch demo: generating a synthetic tenant…");
    let server = SimServer::start(
        "127.0.0.1:0".parse().context("loopback address")?,
        SimConfig::new(world.params()),
    )
    .await
    .context("cannot start the simulator")?;
    let cache_dir = p.cache_dir();
    crate::config::paths::create_private_dir(&cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let vips = cache_dir.join("demo-vips.txt");
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
    crate::config::paths::write_private(&vips, vip_list.as_bytes())?;

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
    let profile = Profile {
        tenant: server.tenant_id.clone(),
        client_id: server.client_id.clone(),
        auth: AuthKind::ClientSecret,
        // The demo hands the simulator's secret to the client directly; this names
        // where a real profile would read it from.
        client_secret_env: Some("WHALEWATCH_DEMO_SECRET".into()),
        certificate: None,
        cloud: "global".into(),
        login_url: Some(server.base_url.clone()),
        graph_url: Some(server.base_url.clone()),
        read_only: false,
        analyst: None,
        tags,
    };
    let config_path = p.config_path();
    let mut config = Config::load(&config_path)?;
    config.profiles.insert(DEMO_PROFILE.into(), profile.clone());
    if config.default_profile.is_none() {
        config.default_profile = Some(DEMO_PROFILE.into());
    }
    config.save(&config_path)?;
    eprintln!(
        "whalewatch demo: profile `{DEMO_PROFILE}` written to {}",
        config_path.display()
    );

    // A fresh demo cache each time: the simulated tenant is new each run.
    let cache_path = cache_file(&cache_dir, DEMO_PROFILE);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", cache_path.display()));
    }
    let cache = Cache::open(&cache_path)?;
    let credential =
        Credential::ClientSecret(ClientSecret::new(Secret::new(server.client_secret.clone())));
    let client = connect::client_with(&profile, credential, None, p.read_only)?;
    let reporter = Reporter::stderr();
    let report = |e: &crate::sync::Progress| reporter.report(e);
    let summary = refresh(
        &client,
        cache,
        &profile,
        &RefreshOptions::default(),
        &report,
    )
    .await?;
    print!("{}", summary_table(&summary));
    println!(
        "\nThe demo cache is ready; it works offline. Try, in another terminal:\n  \
         whalewatch --profile demo query emails --priority --limit 20\n  \
         whalewatch --profile demo query alerts --limit 20\n  \
         whalewatch --profile demo query campaigns\n  \
         whalewatch --profile demo query tags\n\n\
         The simulated tenant keeps serving at {} until Ctrl-C.",
        server.base_url
    );
    shutdown_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
