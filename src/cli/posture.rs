//! `whalewatch posture`: priority-account posture. `posture import FILE` stores an
//! Exchange snapshot (written by `assets/Get-WhalewatchExchangeSnapshot.ps1`); the
//! bare command prints the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use super::context::ProfileArgs;
use crate::safe_text;
use crate::sync::posture::import_exchange_snapshot;

/// `whalewatch posture [import FILE]`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Examples:
  pwsh ./assets/Get-WhalewatchExchangeSnapshot.ps1 -OutFile exchange-snapshot.json
  whalewatch posture import exchange-snapshot.json
  whalewatch sim exchange-snapshot --seed 7 > snapshot.json && whalewatch posture import snapshot.json")]
pub struct PostureArgs {
    #[command(subcommand)]
    pub action: Option<PostureAction>,
    // REPORT FLAGS: the report's own flags (--tag, --format, --fail-on) are added here
    // by the posture-evaluation branch.
}

/// What `posture` does besides the report.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PostureAction {
    /// Validate and store an Exchange snapshot (settings no Graph API reads: preset
    /// policies, the VIP list, POP/IMAP/SMTP AUTH, mailbox audit); its VIPs join the
    /// Priority account tag.
    Import {
        /// The JSON file the script wrote.
        file: PathBuf,
    },
}

pub fn run(p: &ProfileArgs, args: &PostureArgs) -> Result<ExitCode> {
    match &args.action {
        Some(PostureAction::Import { file }) => import(p, file),
        // REPORT: the posture report runs here (posture-evaluation branch).
        None => anyhow::bail!(
            "the posture report is not part of this build yet; `whalewatch posture import FILE` stores an Exchange snapshot"
        ),
    }
}

fn import(p: &ProfileArgs, file: &std::path::Path) -> Result<ExitCode> {
    let ctx = p.context()?;
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read the Exchange snapshot {}", file.display()))?;
    let mut cache = ctx.open_cache()?;
    let report = match import_exchange_snapshot(&mut cache, &ctx.profile, &bytes) {
        Ok(r) => r,
        // The problems quote the file's own keys and values: untrusted text.
        Err(e) => anyhow::bail!(
            "{} was not imported: {}",
            file.display(),
            safe_text::sanitize(&e.to_string()).replace('␤', "\n  ")
        ),
    };
    let age = (chrono::Utc::now() - report.generated).num_hours();
    println!(
        "imported {}: generated {} ({age}h ago), {} VIPs, {} mailboxes, {} preset rules; Priority account tag: {} members",
        safe_text::sanitize(&file.display().to_string()),
        report.generated.format("%Y-%m-%d %H:%M UTC"),
        report.vips,
        report.mailboxes,
        report.rules,
        report.priority_accounts
    );
    for w in &report.warnings {
        eprintln!("warning: {}", safe_text::sanitize(w));
    }
    Ok(ExitCode::SUCCESS)
}
