//! The command line: thin clap commands over the library. Errors get their context
//! here, at the edge, and are printed once with a non-zero exit code.

mod alert;
mod completions;
mod context;
mod demo;
mod journal;
mod kql;
mod log;
mod login;
mod note;
mod output;
mod posture;
mod profile;
mod quarantine;
mod query;
mod refresh;
mod refresh_bench;
mod remediate;
mod sim;
mod tui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  whalewatch demo
  whalewatch tui --view 'emails tag:Finance threat:phish since:7d'
  whalewatch profile add contoso --tenant contoso.onmicrosoft.com --client-id <app id> --client-secret-env CONTOSO_SECRET
  whalewatch refresh --profile contoso
  whalewatch query emails --priority --limit 20
  whalewatch query alerts --format json > alerts.json
  whalewatch posture --fail-on fail
  whalewatch alert set ID1 ID2 --status resolved --classification truePositive --determination phishing --comment \"done\"
  whalewatch remediate --action softDelete campaign:\"credential phish\" location:inbox
  whalewatch journal --since 24h
  whalewatch journal --session
  whalewatch tui --open vip-phish
  whalewatch posture import exchange-snapshot.json
  whalewatch sim serve --listen 127.0.0.1:0 --seed 7 --now 2026-11-01T00:00:00Z
  whalewatch sim stats --seed 7 --users 500 --days 7
  whalewatch sim vips --seed 7 > vips.txt
  WHALEWATCH_LOG=debug whalewatch --log-file refresh.log refresh
";

/// whalewatch: investigate email threats in a Microsoft 365 tenant from the terminal.
#[derive(Debug, Parser)]
#[command(name = "whalewatch", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    profile: context::ProfileArgs,
    #[command(flatten)]
    log: log::LogArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the product on a fresh machine: the simulated tenant, with no configuration.
    Demo(demo::DemoArgs),
    /// Open the console over the profile's cache (the default command).
    Tui(tui::TuiArgs),
    /// Bring the profile's local cache up to date from the tenant.
    Refresh(refresh::RefreshArgs),
    /// List what the cache holds (emails, alerts, incidents, campaigns, users, tags).
    Query(query::QueryArgs),
    /// Priority-account posture: MFA, Conditional Access, legacy sign-ins, Strict preset, ... per account;
    /// `posture import FILE` stores an Exchange snapshot.
    Posture(posture::PostureArgs),
    /// Print a filter as KQL for Defender's advanced hunting.
    Kql(kql::KqlArgs),
    /// Triage alerts: status, classification, determination, owner, comments.
    #[command(subcommand)]
    Alert(alert::AlertCommand),
    /// Move or delete emails in mailboxes (Threat Explorer's "Take action"), after review.
    Remediate(remediate::RemediateArgs),
    /// Notes on emails, alerts, campaigns and users (local only).
    #[command(subcommand)]
    Note(note::NoteCommand),
    /// Every write made from this profile, as a timeline for the incident report.
    Journal(journal::JournalArgs),
    /// Records the tenant sent that a refresh could not take (no key, unreadable), as received.
    Quarantine(quarantine::QuarantineArgs),
    /// Sign in with a device code (profiles with auth = "device_code").
    Login,
    /// Manage profiles (one per tenant).
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// The built-in tenant simulator: a synthetic Microsoft 365 tenant over real HTTP.
    #[command(subcommand, after_help = sim::EXAMPLES)]
    Sim(Box<sim::SimCommand>),
    /// Print shell completions to stdout (`whalewatch completions bash > ~/.local/share/bash-completion/completions/whalewatch`).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) to stdout (`whalewatch man | man -l -`).
    Man,
}

/// When SQLite reported the cache damaged somewhere past opening it (a bad page met
/// by a query), which file and what to do; `None` when the message already says so.
fn damaged_cache_advice(e: &anyhow::Error, profile: &context::ProfileArgs) -> Option<String> {
    use crate::cache::CacheError;
    if e.chain().any(|c| {
        matches!(
            c.downcast_ref::<CacheError>(),
            Some(CacheError::Corrupt { .. } | CacheError::Empty { .. })
        )
    }) {
        return None;
    }
    if !e.chain().any(crate::cache::reports_damage) {
        return None;
    }
    let path = profile.context().ok().map(|c| c.cache_path())?;
    Some(format!(
        "the cache {} is damaged; move it aside and run `whalewatch refresh` to rebuild it",
        path.display()
    ))
}

/// Whether `e` is stdout's reader having closed the pipe.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Parses arguments and runs the chosen command.
pub fn main() -> ExitCode {
    let _ = crate::ui::app::PROCESS_START.set(std::time::Instant::now());
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Tui(tui::TuiArgs::default()));
    let console = matches!(command, Command::Tui(_) | Command::Demo(_));
    if let Err(e) = log::init(&cli.log, console) {
        eprintln!("whalewatch: {e:#}");
        return ExitCode::FAILURE;
    }
    let profile = cli.profile.clone();
    let result = match command {
        Command::Demo(world) => demo::run(&cli.profile, &world),
        Command::Tui(args) => tui::run_tui(&cli.profile, &args),
        Command::Refresh(args) => refresh::run(&cli.profile, &args),
        Command::Query(args) => query::run(&cli.profile, &args),
        Command::Posture(args) => posture::run(&cli.profile, &args),
        Command::Kql(args) => kql::run(&cli.profile, &args),
        Command::Alert(cmd) => alert::run(&cli.profile, &cmd),
        Command::Remediate(args) => remediate::run(&cli.profile, &args),
        Command::Note(cmd) => note::run(&cli.profile, &cmd),
        Command::Journal(args) => journal::run(&cli.profile, &args),
        Command::Quarantine(args) => quarantine::run(&cli.profile, &args),
        Command::Login => login::run(&cli.profile),
        Command::Profile(cmd) => profile::run(&cli.profile, &cmd),
        Command::Sim(cmd) => sim::run(*cmd),
        Command::Completions(args) => completions::completions(&args),
        Command::Man => completions::man(),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`whalewatch query … | head`): nothing more to say.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("whalewatch: {e:#}");
            if let Some(advice) = damaged_cache_advice(&e, &profile) {
                eprintln!("whalewatch: {advice}");
            }
            ExitCode::FAILURE
        }
    }
}
