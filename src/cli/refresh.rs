//! `whalewatch refresh`: brings the profile's cache up to date.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use super::context::ProfileArgs;
use crate::sync::lock::RefreshLock;
use crate::sync::progress::{Reporter, summary_table};
use crate::sync::{RefreshOptions, connect, refresh};

/// Exit code of a refresh stopped by its budget (what it fetched is kept).
pub const BUDGET_SPENT: u8 = 3;

/// Refresh options.
#[derive(Debug, Clone, clap::Args)]
pub struct RefreshArgs {
    /// How far back a first refresh reaches, e.g. 7d or 12h [default: all the service keeps, 30 days]
    #[arg(long, value_parser = parse_age)]
    pub since: Option<chrono::Duration>,
    /// Only these sources (repeatable): directory, alerts, incidents, tags, EmailEvents, EmailUrlInfo, ..., and the posture sources mfa-registration, conditional-access, memberships, sign-ins, risky-users, secure-score, message-traces
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// Rows to ask for per hunting call (the service returns at most 100,000).
    #[arg(long, default_value_t = crate::sync::DEFAULT_WINDOW_ROWS)]
    pub window_rows: u64,
    /// Hunting calls per minute to stay under.
    #[arg(long, default_value_t = 45)]
    pub hunting_calls_per_minute: usize,
    /// Apply directory, group-member and tag listings even when they shrank sharply
    /// (lost more than half of 10 or more entries); without it such a listing is
    /// re-read, and kept as cached unless the second read agrees.
    #[arg(long)]
    pub accept_shrink: bool,
    /// When another refresh of this cache is running, stop (exit 1, naming its pid)
    /// instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
    /// Stop cleanly after this long, keeping what was fetched, e.g. 90s, 20m, 2h
    /// [default: the profile's refresh_budget_secs, else no limit]
    #[arg(long, value_parser = parse_budget)]
    pub budget: Option<std::time::Duration>,
}

/// `90s`, `20m`, `2h`.
pub fn parse_budget(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let budget = match t.strip_suffix('s') {
        Some(secs) => secs
            .parse::<u64>()
            .map(std::time::Duration::from_secs)
            .map_err(|_| format!("`{t}`: expected a number and a unit, e.g. 90s, 20m, 2h"))?,
        None => parse_age(t)?
            .to_std()
            .map_err(|_| format!("`{t}`: the budget must be positive"))?,
    };
    if budget.is_zero() {
        return Err(format!("`{t}`: the budget must be positive"));
    }
    Ok(budget)
}

/// `7d`, `12h`, `30m`.
pub fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a number and a unit, e.g. 7d, 12h, 30m"))?;
    match unit {
        "d" => Ok(chrono::Duration::days(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        _ => Err(format!("`{s}`: the unit must be d, h or m")),
    }
}

pub fn run(p: &ProfileArgs, args: &RefreshArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let client = connect::graph_client(&ctx.name, &ctx.profile, &ctx.cache_dir, p.read_only)?;
    let path = ctx.cache_path();
    let waiting = |pid: &str| {
        eprintln!(
            "another refresh (pid {pid}) is running on {}; waiting for it to finish (--no-wait stops instead)",
            path.display()
        );
    };
    let wait: Option<&dyn Fn(&str)> = if args.no_wait { None } else { Some(&waiting) };
    if let Some(dir) = path.parent() {
        crate::config::paths::create_private_dir(dir)
            .with_context(|| format!("cannot create the cache directory {}", dir.display()))?;
    }
    let _lock = RefreshLock::acquire(&path, wait)?;
    let cache = ctx.open_cache()?;
    // A damaged cache is never written on and reported as refreshed.
    cache.quick_check()?;
    let options = RefreshOptions {
        since: args.since,
        window_rows: args.window_rows.clamp(1, 100_000),
        hunting_calls_per_minute: args.hunting_calls_per_minute.max(1),
        only: args.only.clone(),
        accept_shrink: args.accept_shrink,
        budget: args.budget.or(ctx
            .profile
            .refresh_budget_secs
            .filter(|s| *s > 0)
            .map(std::time::Duration::from_secs)),
        ..RefreshOptions::default()
    };
    let reporter = Reporter::stderr();
    let report = |e: &crate::sync::Progress| reporter.report(e);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let summary = runtime
        .block_on(refresh(&client, cache, &ctx.profile, &options, &report))
        .with_context(|| format!("refresh of profile `{}` stopped; what was fetched before is kept, and the next refresh resumes", ctx.name))?;
    print!("{}", summary_table(&summary));
    // The email index's column file, which every later `query` and console maps
    // instead of rebuilding the index (README "Performance").
    if let Err(e) = crate::cache::Cache::open_read_only(&path)
        .map_err(crate::query::index::IndexError::from)
        .and_then(|c| crate::query::index::EmailIndex::open(&c))
    {
        eprintln!(
            "whalewatch: the email index was not written ({e}); each query builds it from the cache until the next refresh writes it"
        );
    }
    // A distinct code, so a script can tell a budget-stopped refresh from a complete one.
    if summary.budget_spent {
        return Ok(ExitCode::from(BUDGET_SPENT));
    }
    // Kept data is not a failure of the refresh, but a script must notice it.
    if summary.sources.iter().any(|s| !s.held.is_empty()) {
        eprintln!(
            "whalewatch: some listings shrank sharply and were kept as cached (see the warnings); run `whalewatch refresh --accept-shrink` if the shrink is real"
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
