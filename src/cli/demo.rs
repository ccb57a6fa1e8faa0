//! `whalewatch demo`: the whole product on a fresh machine, with no tenant.
//!
//! Starts the simulator in-process on loopback, writes a `demo` profile (one tag per
//! simulator group, plus Priority account from the simulator's VIP list), refreshes
//! the demo cache with progress shown, and opens the console on it (`r` refreshes
//! from the simulator, which serves until the console closes). Without a terminal it
//! prints what to try and keeps the simulated tenant serving until Ctrl-C.
//!
//! Run again, it reopens the demo cache at once: the world the cache was built from
//! is recorded beside it (`sim::demo::save_world`), and the simulator — deterministic —
//! regenerates exactly that tenant, so `r` and `query --remote` work on it again.
//! Different world flags, or `--fresh`, build a new cache.

use std::process::ExitCode;

use std::io::IsTerminal;

use anyhow::{Context, Result};

use super::context::ProfileArgs;
use super::sim::{WorldArgs, shutdown_signal};
use super::tui::TuiArgs;
use crate::cache::{Cache, cache_file};
use crate::config::Config;
use crate::sim::WorldParams;
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
    /// Build a new demo cache even when one for the same world exists.
    #[arg(long)]
    pub fresh: bool,
    /// Simulate a Defender for Office 365 Plan 1 tenant: no Campaign Views
    /// (`CampaignInfo` empty); the console derives campaigns from the mail. Always
    /// builds a new demo cache, and the next `whalewatch demo` builds one again.
    #[arg(long)]
    pub plan1: bool,
}

/// Whether `saved` (the world the demo cache holds) is the world `args` asks for;
/// without `--now` any reference time matches (the cache keeps its own).
fn same_world(saved: &WorldParams, args: &WorldArgs) -> bool {
    let asked = args.params();
    saved.seed == asked.seed
        && saved.users == asked.users
        && saved.days == asked.days
        && saved.emails_per_day == asked.emails_per_day
        && (args.now.is_none() || saved.now == asked.now)
}

pub fn run(p: &ProfileArgs, args: &DemoArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(demo(p, args));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

async fn demo(p: &ProfileArgs, args: &DemoArgs) -> Result<ExitCode> {
    let cache_dir = p.cache_dir();
    crate::config::paths::create_private_dir(&cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let cache_path = cache_file(&cache_dir, DEMO_PROFILE);
    let saved = crate::demo::saved_world(&cache_dir).filter(|_| cache_path.exists());
    let reopen = saved
        .clone()
        .filter(|s| !args.fresh && !args.plan1 && same_world(s, &args.world));
    let params = match &reopen {
        Some(saved) => {
            eprintln!(
                "whalewatch demo: reopening the demo cache ({}); restarting its simulated tenant (seed {}, {} users, {} days, --now {})…",
                cache_path.display(),
                saved.seed,
                saved.users,
                saved.days,
                saved.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            saved.clone()
        }
        None => {
            if saved.is_some() && !args.fresh && !args.plan1 {
                eprintln!(
                    "whalewatch demo: the world flags differ from the demo cache's; building a new demo cache"
                );
            }
            eprintln!("whalewatch demo: generating a synthetic tenant…");
            args.world.params()
        }
    };
    let server = SimServer::start(
        "127.0.0.1:0".parse().context("loopback address")?,
        SimConfig {
            campaign_views: !args.plan1,
            ..SimConfig::new(params.clone())
        },
    )
    .await
    .context("cannot start the simulator")?;
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

    let credential = crate::demo::credential(&server);
    let client = connect::client_with(&profile, credential, None, p.read_only)?;
    if reopen.is_none() {
        // A Plan 1 cache is not recorded: the next plain `demo` must not reopen it.
        let remember = (!args.plan1).then_some(&params);
        build_cache(&server, &client, &profile, &cache_dir, remember).await?;
    }
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
    // The simulator's secret is no credential of any real tenant (`sim serve`
    // prints it too); with it exported, refresh and `--remote` work from another
    // terminal while this one serves.
    println!(
        "\nThe demo cache is ready; it works offline. Try, in another terminal:\n  \
         whalewatch --profile demo tui\n  \
         whalewatch --profile demo query emails --priority --limit 20\n  \
         whalewatch --profile demo query alerts --limit 20\n\n\
         While this runs, the simulated tenant serves at {}; to refresh or query it\n\
         (`r`, `query --remote`) from another terminal, first:\n  \
         export {}={}\n\
         It serves until Ctrl-C; `whalewatch demo` reopens this cache with it later.",
        server.base_url,
        crate::config::DEMO_SECRET_ENV,
        server.client_secret
    );
    shutdown_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Builds a new demo cache from `server`: refreshed with progress shown, the
/// simulated Exchange snapshot imported, and the world (`remember`) recorded so the
/// next `whalewatch demo` reopens it.
async fn build_cache(
    server: &SimServer,
    client: &crate::tenant::GraphClient,
    profile: &crate::config::Profile,
    cache_dir: &std::path::Path,
    remember: Option<&WorldParams>,
) -> Result<()> {
    let cache_path = cache_file(cache_dir, DEMO_PROFILE);
    // Forgotten first: a build cut short leaves no record, so the next run builds
    // again rather than reopening half a cache.
    crate::demo::forget_world(cache_dir)
        .with_context(|| format!("cannot update the demo's world in {}", cache_dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", cache_path.display()));
    }
    let cache = Cache::open(&cache_path)?;
    let reporter = Reporter::stderr();
    let report = |e: &crate::sync::Progress| reporter.report(e);
    let summary = refresh(client, cache, profile, &RefreshOptions::default(), &report).await?;
    print!("{}", summary_table(&summary));
    // The simulated tenant's Exchange settings, as an admin would import the
    // snapshot `assets/Get-WhalewatchExchangeSnapshot.ps1` writes: the Posture pane
    // then judges preset policies, protocols and audit too.
    let snapshot = server
        .state
        .read_world(|w| serde_json::to_vec(&w.posture.exchange))
        .context("cannot render the simulated Exchange snapshot")?;
    let mut cache = Cache::open(&cache_path)?;
    let imported = import_exchange_snapshot(&mut cache, profile, &snapshot)
        .context("cannot import the simulated Exchange snapshot")?;
    drop(cache);
    eprintln!(
        "whalewatch demo: Exchange snapshot imported ({} VIPs, {} mailboxes, {} preset rules)",
        imported.vips, imported.mailboxes, imported.rules
    );
    if let Some(params) = remember {
        crate::demo::save_world(cache_dir, params).with_context(|| {
            format!("cannot record the demo's world in {}", cache_dir.display())
        })?;
    }
    Ok(())
}
