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
    /// Narrow every timed pane to this range: `all`, `1h`, `24h`, `7d`, `30d`, a date,
    /// or `2026-12-01..2026-12-03` (as `:range` takes it).
    #[arg(long)]
    pub range: Option<String>,
    /// Open a view saved with `:save NAME` (its tag, range, filter, sort, columns).
    #[arg(long, value_name = "NAME")]
    pub open: Option<String>,
    /// Step through a session log (`<cache dir>/<profile>.session.jsonl`, or a copy):
    /// each key press runs the next view or command; q quits.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<std::path::PathBuf>,
    /// Do not refresh from the tenant when the console opens.
    #[arg(long)]
    pub no_refresh: bool,
}

/// The command lines `--range` and `--open` stand for, checked before the console
/// starts so a typo fails here with the names that exist.
pub fn startup_commands(args: &TuiArgs, settings_path: &std::path::Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(r) = &args.range {
        crate::ui::range::TimeRange::parse(r).map_err(anyhow::Error::msg)?;
        out.push(format!("range {r}"));
    }
    if let Some(name) = &args.open {
        let views = crate::ui::settings::saved_views(settings_path).map_err(anyhow::Error::msg)?;
        if !views.contains_key(name) {
            let known: Vec<&str> = views.keys().map(String::as_str).collect();
            bail!(
                "no saved view `{name}` in {}; saved: {} (`:save NAME` in the console saves one)",
                settings_path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        out.push(format!("open {name}"));
    }
    Ok(out)
}

pub fn run_tui(p: &ProfileArgs, args: &TuiArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let mut p = p.clone();
    let mut args = TuiArgs {
        view: args.view.clone(),
        tag: args.tag.clone(),
        range: args.range.clone(),
        open: args.open.clone(),
        replay: args.replay.clone(),
        no_refresh: args.no_refresh,
    };
    // `:profile NAME` ends one profile's console and opens the next, built exactly as
    // `tui --profile NAME` would build it (cache, settings, session log, tenant).
    while let Some(next) = runtime.block_on(run(open_console(&p, &args)?))? {
        p.profile = Some(next);
        args = TuiArgs {
            range: args.range.clone(),
            ..TuiArgs::default()
        };
    }
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

/// The console options of the profile `p` names.
fn open_console(p: &ProfileArgs, args: &TuiArgs) -> Result<Options> {
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
    options(
        p,
        &ctx.name,
        &ctx.profile,
        cache_path,
        &ctx.cache_dir,
        read_only,
        Some(connect),
        args,
    )
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
    let settings_path = crate::ui::settings::path(cache_dir, name);
    let startup = startup_commands(args, &settings_path)?;
    let replay = match &args.replay {
        Some(file) => {
            let entries = crate::ui::session_log::read(file)?;
            if entries.is_empty() {
                bail!("{} holds no session log entries", file.display());
            }
            Some(entries)
        }
        None => None,
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the console needs a terminal; for scripts use `whalewatch query`");
    }
    let config = Config::load(&p.config_path())?;
    // Only profiles with a cache can be switched to (the console reads the cache).
    let profiles: Vec<String> = config
        .profiles
        .keys()
        .filter(|n| crate::cache::cache_file(cache_dir, n).exists())
        .cloned()
        .collect();
    let keymap =
        Keymap::new(&config.keys).with_context(|| format!("in {}", p.config_path().display()))?;
    Ok(Options {
        session: Session {
            profile: name.to_string(),
            tenant: profile.tenant.clone(),
            read_only,
            can_refresh: false,
            analyst: crate::sync::triage::analyst_name(profile),
            assignee: profile.analyst.clone().filter(|a| !a.trim().is_empty()),
            config_path: Some(p.config_path()),
        },
        cache_path,
        settings_path,
        history_path: crate::ui::prompt::History::path(cache_dir, name),
        keymap,
        view: args.view.clone(),
        tag: args.tag.clone(),
        startup,
        replay,
        profiles,
        // A replay shows the recorded session over the cache as it is.
        refresh_on_start: !args.no_refresh && args.replay.is_none(),
        connect,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        tui: TuiArgs,
    }

    fn parse(args: &[&str]) -> TuiArgs {
        Args::try_parse_from(std::iter::once("tui").chain(args.iter().copied()))
            .expect("args")
            .tui
    }

    #[test]
    fn open_and_range_become_the_console_s_first_command_lines() {
        let dir = std::env::temp_dir().join(format!("whalewatch-tui-open-{}", std::process::id()));
        let path = crate::ui::settings::path(&dir, "p");
        let view = crate::ui::settings::SavedView {
            pane: "emails".into(),
            filter: "threat:phish".into(),
            range: "7d".into(),
            ..Default::default()
        };
        crate::ui::settings::save_view(&path, "phish-week", &view).expect("save");
        let args = parse(&["--range", "24h", "--open", "phish-week"]);
        assert_eq!(
            startup_commands(&args, &path).expect("known view"),
            ["range 24h", "open phish-week"]
        );
        let e = startup_commands(&parse(&["--open", "nope"]), &path).expect_err("unknown");
        assert!(e.to_string().contains("saved: phish-week"), "{e}");
        let e = startup_commands(&parse(&["--range", "someday"]), &path).expect_err("bad range");
        assert!(e.to_string().contains("not a time range"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
