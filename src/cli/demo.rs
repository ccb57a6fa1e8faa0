//! `whalewatch demo`: the whole product on a fresh machine, with no tenant.
//!
//! Starts the simulator in-process on loopback, writes a `demo` profile (one tag per
//! simulator group, plus Priority account from the simulator's VIP list), refreshes
//! the demo cache with progress shown, and opens the console on it (`r` refreshes
//! from the simulator, which serves until the console closes). Without a terminal it
//! prints what to try and keeps the simulated tenant serving until Ctrl-C.

use std::process::ExitCode;

use std::io::IsTerminal;

use anyhow::{Context, Result};

use super::context::ProfileArgs;
use super::sim::{WorldArgs, shutdown_signal};
use super::tui::TuiArgs;
use crate::cache::{Cache, cache_file};
use crate::config::Config;
use crate::sim::server::{SimConfig, SimServer};
use crate::sync::posture::import_exchange_snapshot;
use crate::sync::progress::{Reporter, summary_table};
use crate::sync::{RefreshOptions, connect, refresh};
use crate::ui::effects::RefreshTarget;

/// The profile the demo writes.
pub const DEMO_PROFILE: &str = "demo";

/// `whalewatch demo` options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// Open the console on this view (`--view 'emails threat:phish'`).
    #[arg(long)]
    pub view: Option<String>,
    /// Do not open the console; serve the simulated tenant until Ctrl-C.
    #[arg(long)]
    pub no_console: bool,
    /// Simulate a Defender for Office 365 Plan 1 tenant: no Campaign Views
    /// (`CampaignInfo` empty); the console derives campaigns from the mail.
    #[arg(long)]
    pub plan1: bool,
}

pub fn run(p: &ProfileArgs, args: &DemoArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(demo(p, args));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

async fn demo(p: &ProfileArgs, args: &DemoArgs) -> Result<ExitCode> {
    let world = &args.world;
    eprintln!("whalewatch demo: generating a synthetic tenant…");
    let server = SimServer::start(
        "127.0.0.1:0".parse().context("loopback address")?,
        SimConfig {
            campaign_views: !args.plan1,
            ..SimConfig::new(world.params())
        },
    )
    .await
    .context("cannot start the simulator")?;
    let cache_dir = p.cache_dir();
    crate::config::paths::create_private_dir(&cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let profile = crate::demo::profile(&server, &cache_dir)
        .with_context(|| format!("cannot write the demo tags into {}", cache_dir.display()))?;
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
    let credential = crate::demo::credential(&server);
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
    // The simulated tenant's Exchange settings, as an admin would import the
    // snapshot `assets/Get-WhalewatchExchangeSnapshot.ps1` writes: the Posture pane
    // then judges preset policies, protocols and audit too.
    let snapshot = server
        .state
        .read_world(|w| serde_json::to_vec(&w.posture.exchange))
        .context("cannot render the simulated Exchange snapshot")?;
    let mut cache = Cache::open(&cache_path)?;
    let imported = import_exchange_snapshot(&mut cache, &profile, &snapshot)
        .context("cannot import the simulated Exchange snapshot")?;
    drop(cache);
    eprintln!(
        "whalewatch demo: Exchange snapshot imported ({} VIPs, {} mailboxes, {} preset rules)",
        imported.vips, imported.mailboxes, imported.rules
    );
    // With a terminal, the console opens on the demo cache (refreshable from the
    // simulator it runs beside); without one, the tenant keeps serving for scripts.
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() && !args.no_console {
        let target = RefreshTarget {
            client,
            profile: profile.clone(),
            options: RefreshOptions::default(),
        };
        let args = super::tui::TuiArgs {
            view: args.view.clone(),
            ..Default::default()
        };
        let mut opts = super::tui::options(
            p,
            DEMO_PROFILE,
            &profile,
            cache_path,
            &cache_dir,
            p.read_only,
            Some(Box::new(move || Ok(target))),
            &TuiArgs {
                no_refresh: true,
                ..args
            },
        )?;
        // The demo's console stays on the demo (its simulator lives in this process).
        opts.profiles.clear();
        crate::ui::app::run(opts).await?;
        server.shutdown().await;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "\nThe demo cache is ready; it works offline. Try, in another terminal:\n  \
         whalewatch --profile demo tui\n  \
         whalewatch --profile demo query emails --priority --limit 20\n  \
         whalewatch --profile demo query alerts --limit 20\n\n\
         The simulated tenant keeps serving at {} until Ctrl-C.",
        server.base_url
    );
    shutdown_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
