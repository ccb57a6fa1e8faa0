//! `whalewatch posture`: every priority account (or every member of `--tag`) judged
//! against the posture checks, worst first, with the tenant checklist — the same rows
//! the console's Posture pane shows (`ui::panes::posture`), so they cannot disagree.
//! `--fail-on` turns it into a cron / CI gate. `posture import FILE` stores an Exchange
//! snapshot (written by `assets/Get-WhalewatchExchangeSnapshot.ps1`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

use super::context::ProfileArgs;
use super::output::{self, Records};
use crate::query::lang::{Entity, parse};
use crate::query::posture::{AccountPosture, Checklist, Verdict};
use crate::safe_text;
use crate::sync::posture::import_exchange_snapshot;
use crate::ui::data::{Snapshot, load_emails, load_quick};
use crate::ui::panes::{ColumnId, posture as pane};

/// `posture`: the report, or `posture import FILE`.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  whalewatch posture
  whalewatch posture --tag Finance --format md > finance-posture.md
  whalewatch posture --format json | jq '.[] | select(.verdict == \"fail\") | .account'
  whalewatch posture --fail-on fail || page-the-soc
  pwsh ./assets/Get-WhalewatchExchangeSnapshot.ps1 -OutFile exchange-snapshot.json
  whalewatch posture import exchange-snapshot.json

Exit status: 0, or 3 when an account's verdict reaches --fail-on (1 on errors)."
)]
pub struct PostureArgs {
    #[command(subcommand)]
    pub action: Option<PostureAction>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What `posture` does besides the report.
#[derive(Debug, clap::Subcommand)]
pub enum PostureAction {
    /// Validate and store an Exchange snapshot (settings no Graph API reads: preset
    /// policies, the VIP list, POP/IMAP/SMTP AUTH, mailbox audit); its VIPs join the
    /// Priority account tag.
    Import {
        /// The JSON file the script (or `whalewatch sim exchange-snapshot`) wrote.
        file: PathBuf,
    },
}

/// What `posture` prints.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Judge the members of this tag instead of the priority accounts.
    #[arg(long)]
    pub tag: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Exit with status 3 when any account's verdict is this bad or worse.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

/// Output formats of `posture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Md,
}

/// The verdict `--fail-on` reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Warn,
    Fail,
}

/// Exit status when `--fail-on` is reached.
pub const GATE_EXIT: u8 = 3;

/// Runs `posture`.
pub fn run(p: &ProfileArgs, args: &PostureArgs) -> Result<ExitCode> {
    if let Some(PostureAction::Import { file }) = &args.action {
        return import(p, file);
    }
    let ctx = p.context()?;
    ctx.read_cache()?;
    let path = ctx.cache_path();
    let quick =
        load_quick(&path).with_context(|| format!("reading the cache {}", path.display()))?;
    let emails =
        load_emails(&path).with_context(|| format!("indexing the cache {}", path.display()))?;
    let data = quick.with_emails(emails);
    let rows = match rows(&data, args.report.tag.as_deref()) {
        Ok(r) => r,
        Err(e) => anyhow::bail!("{e}"),
    };
    for n in &data.posture.notes {
        eprintln!("whalewatch posture: {}", safe_text::sanitize(n));
    }
    if rows.is_empty() {
        eprintln!(
            "whalewatch posture: no accounts to judge — {}",
            match &args.report.tag {
                Some(t) => format!("the tag `{}` has no members", safe_text::sanitize(t)),
                None => "no priority accounts (tag them in the profile, or refresh)".into(),
            }
        );
    }
    print(&data, &rows, args.report.format)?;
    Ok(gate(&data, &rows, args.report.fail_on))
}

/// Positions in `data.posture.accounts` of the accounts to report (worst first).
pub fn rows(data: &Snapshot, tag: Option<&str>) -> Result<Vec<u32>, String> {
    let text = match tag {
        Some(t) => crate::ui::panes::match_term("tag", t),
        None => String::new(),
    };
    let filter = parse(Entity::Posture, &text).map_err(|e| e.message)?;
    pane::evaluate(data, &filter)
}

/// The exit status `--fail-on` asks for.
pub fn gate(data: &Snapshot, rows: &[u32], fail_on: Option<FailOn>) -> ExitCode {
    let Some(level) = fail_on else {
        return ExitCode::SUCCESS;
    };
    let worst = match level {
        FailOn::Fail => Verdict::Fail,
        FailOn::Warn => Verdict::Warn,
    };
    let hit = rows
        .iter()
        .filter_map(|&r| data.posture.accounts.get(r as usize))
        .any(|p| p.verdict <= worst);
    if hit {
        ExitCode::from(GATE_EXIT)
    } else {
        ExitCode::SUCCESS
    }
}

/// One account as JSON: `account`, `verdict`, `failing` (the interface scripts rely
/// on), then `warning`, `unknown`, the checks with evidence and remedy, the pane's
/// facts and the exposure.
pub fn account_json(data: &Snapshot, p: &AccountPosture) -> Value {
    json!({
        "account": p.account.upn,
        "verdict": p.verdict.as_str(),
        "failing": p.failing,
        "warning": p.warning,
        "unknown": p.unknown,
        "displayName": p.account.display_name,
        "checks": p.checks,
        "facts": p.facts,
        "exposure": pane::exposure(data, p),
    })
}

/// The report's records: the pane's columns, cells as the pane shows them.
pub fn records(data: &Snapshot, rows: &[u32]) -> Records {
    let columns: Vec<&'static str> = pane::COLUMNS.iter().map(|c| c.title).collect();
    let cells = rows
        .iter()
        .map(|&r| {
            pane::COLUMNS
                .iter()
                .map(|c| match c.id {
                    ColumnId::Posture(col) => pane::cell(data, r, col),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    let raw = rows
        .iter()
        .filter_map(|&r| data.posture.accounts.get(r as usize))
        .map(|p| account_json(data, p))
        .collect();
    Records {
        columns,
        rows: cells,
        raw,
    }
}

fn checklist_records(c: &Checklist) -> Records {
    Records {
        columns: vec!["Practice", "State", "Detail", "Change"],
        rows: c
            .practices
            .iter()
            .map(|p| {
                vec![
                    p.name.to_string(),
                    p.status.as_str().to_string(),
                    p.detail.clone(),
                    p.remediation.clone(),
                ]
            })
            .collect(),
        raw: Vec::new(),
    }
}

fn score_line(c: &Checklist) -> String {
    match (c.score, c.max) {
        (Some(s), Some(m)) => format!(
            "Secure Score {s:.0} / {m:.0}, {} days: {}",
            c.trend.len(),
            c.sparkline
        ),
        _ => "Secure Score unknown".into(),
    }
}

fn md_cell(s: &str) -> String {
    safe_text::sanitize(s)
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// The report as Markdown: the accounts table, then the checklist.
pub fn markdown(data: &Snapshot, rows: &[u32]) -> String {
    let table = |r: &Records, out: &mut String| {
        out.push_str(&format!("| {} |\n", r.columns.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(r.columns.len())));
        for row in &r.rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    };
    let mut out = String::from("# Priority-account posture\n\n");
    table(&records(data, rows), &mut out);
    out.push_str("\n## Tenant checklist\n\n");
    out.push_str(&md_cell(&score_line(&data.posture.checklist)));
    out.push_str("\n\n");
    table(&checklist_records(&data.posture.checklist), &mut out);
    if !data.posture.notes.is_empty() {
        out.push_str("\n## Sources\n\n");
        for n in &data.posture.notes {
            out.push_str(&format!("- {}\n", md_cell(n)));
        }
    }
    out
}

fn print(data: &Snapshot, rows: &[u32], format: ReportFormat) -> Result<()> {
    match format {
        ReportFormat::Json => output::print(&records(data, rows), output::Format::Json)?,
        ReportFormat::Csv => output::print(&records(data, rows), output::Format::Csv)?,
        ReportFormat::Md => print!("{}", markdown(data, rows)),
        ReportFormat::Table => {
            output::print(&records(data, rows), output::Format::Table)?;
            println!();
            println!(
                "{}",
                safe_text::sanitize(&score_line(&data.posture.checklist))
            );
            output::print(
                &checklist_records(&data.posture.checklist),
                output::Format::Table,
            )?;
        }
    }
    Ok(())
}

/// `posture import FILE`.
fn import(p: &ProfileArgs, file: &Path) -> Result<ExitCode> {
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

#[cfg(test)]
mod tests;
