//! `whalewatch sim ...`

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::sim::server::faults::FaultPlan;
use crate::sim::server::{SimConfig, SimServer};
use crate::sim::stats::WorldStats;
use crate::sim::{World, WorldParams};

/// Examples shown by `whalewatch sim --help`.
pub const EXAMPLES: &str = "\
Examples:
  whalewatch sim serve --listen 127.0.0.1:0 --seed 7 --now 2026-11-01T00:00:00Z
  whalewatch sim serve --faults \"429:0.05,500:0.02,503:0.01,slow:0.02,truncate:0.01,expire-token:0.01\"
  whalewatch sim serve --emails-per-day 33334          # a 1,000,000-row world
  whalewatch sim stats --seed 7 --users 500 --days 7
  whalewatch sim vips --seed 7 > vips.txt
  whalewatch sim exchange-snapshot --seed 7 > exchange.json   # then: whalewatch posture import exchange.json
  whalewatch sim bench --emails-per-day 33334
  whalewatch sim bench --refresh --emails-per-day 33334   # refresh rows/s end to end
";

/// The flags that define a synthetic world. Same flags → byte-identical world.
#[derive(Debug, Clone, Args)]
pub struct WorldArgs {
    /// Seed of the synthetic world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Reference time (RFC 3339); mail spans the days before it. Default: now.
    #[arg(long, value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Number of users in the directory.
    #[arg(long, default_value_t = 2_000)]
    pub users: u32,
    /// Days of mail before --now.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// EmailEvents rows (message × recipient) per day.
    #[arg(long, default_value_t = 3_000)]
    pub emails_per_day: u32,
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-01T00:00:00Z ({e})"))
}

impl WorldArgs {
    pub fn params(&self) -> WorldParams {
        let now = self.now.unwrap_or_else(Utc::now);
        WorldParams {
            seed: self.seed,
            // Whole seconds: a defaulted --now must not leak sub-second noise.
            now: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            users: self.users,
            days: self.days,
            emails_per_day: self.emails_per_day,
        }
    }

    pub fn world(&self) -> Result<World> {
        World::generate(&self.params()).context("cannot build the synthetic world")
    }
}

/// How the simulated services behave.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Tenant id the identity endpoints accept (default: the world's tenant GUID).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Client id of the simulated app registration (default: derived from the seed).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Client secret of the simulated app registration (default: derived from the seed).
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3599)]
    pub token_lifetime: u64,
    /// Faults to inject, e.g. "429:0.05,500:0.02,503:0.01,slow:0.02,truncate:0.01,expire-token:0.01".
    #[arg(long, default_value = "")]
    pub faults: FaultPlan,
    /// Retry-After seconds on injected 429/503 (fractions allowed).
    #[arg(long, default_value_t = 1.0)]
    pub fault_retry_after: f64,
    /// Delay of a `slow` fault, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    pub slow_ms: u64,
    /// Polling interval the device-code flow asks for, in seconds.
    #[arg(long, default_value_t = 5)]
    pub devicecode_interval: u64,
    /// Approve device codes automatically after this many seconds.
    #[arg(long)]
    pub devicecode_approve_after: Option<f64>,
    /// runHuntingQuery calls allowed per minute (the service allows about 45).
    #[arg(long, default_value_t = 45)]
    pub hunting_quota: u32,
    /// runHuntingQuery's row cap.
    #[arg(long, default_value_t = 100_000)]
    pub max_rows: usize,
    /// An application permission the app registration lacks (repeatable), e.g. User.Read.All.
    #[arg(long = "deny-role")]
    pub deny_roles: Vec<String>,
    /// A Defender for Office 365 Plan 1 tenant: no Campaign Views (`CampaignInfo` is
    /// empty), so whalewatch derives campaigns from the mail.
    #[arg(long)]
    pub plan1: bool,
}

impl ServeArgs {
    pub fn config(&self, world: WorldParams) -> SimConfig {
        SimConfig {
            world,
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            token_lifetime: Duration::from_secs(self.token_lifetime),
            faults: self.faults.clone(),
            fault_retry_after: self.fault_retry_after,
            slow: Duration::from_millis(self.slow_ms),
            devicecode_interval: Duration::from_secs(self.devicecode_interval),
            devicecode_approve_after: self.devicecode_approve_after.map(Duration::from_secs_f64),
            devicecode_lifetime: Duration::from_secs(900),
            hunting_calls_per_minute: self.hunting_quota.max(1),
            max_rows: self.max_rows,
            denied_roles: self.deny_roles.clone(),
            campaign_views: !self.plan1,
        }
    }
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum SimCommand {
    /// Serve the synthetic tenant over HTTP (Graph and identity-platform endpoints).
    ///
    /// The first line on stdout names the base URL and the demo credentials.
    Serve {
        #[command(flatten)]
        world: WorldArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Print the world's ground truth as JSON (row counts per table, threat type, location...).
    Stats {
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Measure generation time, peak memory and EmailEvents rows/s served over loopback.
    ///
    /// With --refresh: run a full `whalewatch refresh` of the world into a fresh
    /// temporary cache instead, and print hunting rows written per second end to end.
    Bench {
        #[command(flatten)]
        world: WorldArgs,
        /// Measure a full refresh (simulator → parse → cache) instead of serving alone.
        #[arg(long)]
        refresh: bool,
    },
    /// Print the priority accounts, one address per line (the portal's import format).
    Vips {
        #[command(flatten)]
        world: WorldArgs,
    },
    /// Print the world's Exchange snapshot as JSON (what
    /// assets/Get-WhalewatchExchangeSnapshot.ps1 writes for a real tenant): preset
    /// rules, priority account protection, the VIP list, POP/IMAP/SMTP AUTH and audit.
    ///
    /// Use the same world flags as `sim serve`; store it with `whalewatch posture import FILE`.
    ExchangeSnapshot {
        #[command(flatten)]
        world: WorldArgs,
    },
}

pub fn run(cmd: SimCommand) -> Result<ExitCode> {
    match cmd {
        SimCommand::Serve { world, serve } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(serve_until_stopped(
                serve.config(world.params()),
                serve.listen,
                false,
            ))?;
        }
        SimCommand::Stats { world } => {
            let w = world.world()?;
            let json = serde_json::to_string_pretty(&WorldStats::of(&w))?;
            println!("{json}");
        }
        SimCommand::Bench { world, refresh } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let json = if refresh {
                let report = runtime.block_on(super::refresh_bench::run(world.params()))?;
                serde_json::to_string_pretty(&report)?
            } else {
                let report = runtime.block_on(crate::sim::bench::run(world.params()))?;
                serde_json::to_string_pretty(&report)?
            };
            println!("{json}");
        }
        SimCommand::Vips { world } => {
            let w = world.world()?;
            std::io::stdout().write_all(w.vip_list().as_bytes())?;
        }
        SimCommand::ExchangeSnapshot { world } => {
            let w = world.world()?;
            println!("{}", serde_json::to_string_pretty(&w.posture.exchange)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Serves until Ctrl-C or SIGTERM; `guide` prints how to try the API by hand.
pub async fn serve_until_stopped(config: SimConfig, listen: SocketAddr, guide: bool) -> Result<()> {
    let started = Instant::now();
    let server = SimServer::start(listen, config)
        .await
        .context("cannot start the simulator")?;
    let rows = server.state.read_world(|w| w.rows.len());
    println!("{}", server.banner());
    std::io::stdout().flush()?;
    eprintln!(
        "whalewatch sim: {rows} EmailEvents rows ready in {:.1}s; Ctrl-C stops",
        started.elapsed().as_secs_f64()
    );
    if guide {
        eprintln!("{}", try_it(&server));
    }
    shutdown_signal().await;
    server.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Copy-paste commands that exercise the simulator with curl.
fn try_it(s: &SimServer) -> String {
    format!(
        "\nTry it:\n  TOKEN=$(curl -s {url}/{tenant}/oauth2/v2.0/token -d grant_type=client_credentials \\\n    -d client_id={cid} -d client_secret={secret} \\\n    -d scope=https://graph.microsoft.com/.default | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n  curl -s -H \"Authorization: Bearer $TOKEN\" '{url}/v1.0/security/alerts_v2?$top=5'\n  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' {url}/v1.0/security/runHuntingQuery \\\n    -d '{{\"Query\":\"EmailEvents | where ThreatTypes has \\\"Phish\\\" | summarize count() by DeliveryLocation\"}}'\n",
        url = s.base_url,
        tenant = s.tenant_id,
        cid = s.client_id,
        secret = s.client_secret
    )
}
