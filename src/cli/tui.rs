//! `whalewatch tui` (and `whalewatch` alone): the console over the profile's cache,
//! opened at once from the cache and refreshed in the background.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use super::context::ProfileArgs;
use crate::config::Config;
use crate::sync::{RefreshOptions, connect};
use crate::ui::app::{Options, run};
use crate::ui::commands::Keymap;
use crate::ui::effects::RefreshTarget;
use crate::ui::state::Session;

/// Console options.
#[derive(Debug, Default, clap::Args)]
pub struct TuiArgs {
    /// Open this view: a pane and a filter, as the `:` command line takes it
    /// (`--view 'emails tag:Finance threat:phish since:7d'`).
    #[arg(long)]
    pub view: Option<String>,
    /// Narrow every pane to this tag (`--tag 'Priority account'`).
    #[arg(long)]
    pub tag: Option<String>,
    /// Do not refresh from the tenant when the console opens.
    #[arg(long)]
    pub no_refresh: bool,
}

pub fn run_tui(p: &ProfileArgs, args: &TuiArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let cache_path = ctx.cache_path();
    if !cache_path.exists() {
        bail!(
            "no cache for profile `{}` yet; run `whalewatch refresh --profile {}` first (or `whalewatch demo`)",
            ctx.name,
            ctx.name
        );
    }
    // Opening it writable once brings a cache made by an older whalewatch up to this
    // version's schema; the console itself reads through read-only connections.
    drop(ctx.open_cache()?);
    let read_only = p.read_only || ctx.profile.read_only;
    // The client is built after the first frame (TLS set-up costs tens of
    // milliseconds); a profile that cannot log in still opens: the cache works offline.
    let (name, profile, dir) = (ctx.name.clone(), ctx.profile.clone(), ctx.cache_dir.clone());
    let connect: crate::ui::app::Connect = Box::new(move || {
        connect::graph_client(&name, &profile, &dir, read_only)
            .map(|client| RefreshTarget {
                client,
                profile,
                options: RefreshOptions::default(),
            })
            .map_err(|e| e.to_string())
    });
    let opts = options(
        p,
        &ctx.name,
        &ctx.profile,
        cache_path,
        &ctx.cache_dir,
        read_only,
        Some(connect),
        args,
    )?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(run(opts));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Console options for a profile.
#[allow(clippy::too_many_arguments)]
pub fn options(
    p: &ProfileArgs,
    name: &str,
    profile: &crate::config::Profile,
    cache_path: std::path::PathBuf,
    cache_dir: &std::path::Path,
    read_only: bool,
    connect: Option<crate::ui::app::Connect>,
    args: &TuiArgs,
) -> Result<Options> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the console needs a terminal; for scripts use `whalewatch query`");
    }
    let config = Config::load(&p.config_path())?;
    let keymap =
        Keymap::new(&config.keys).with_context(|| format!("in {}", p.config_path().display()))?;
    Ok(Options {
        session: Session {
            profile: name.to_string(),
            tenant: profile.tenant.clone(),
            read_only,
            can_refresh: false,
            analyst: crate::sync::triage::analyst_name(profile),
        },
        cache_path,
        settings_path: crate::ui::settings::path(cache_dir, name),
        keymap,
        view: args.view.clone(),
        tag: args.tag.clone(),
        refresh_on_start: !args.no_refresh,
        connect,
    })
}
