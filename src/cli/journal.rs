//! `whalewatch journal`: the analyst's writes as a timeline for the incident report.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{TimeZone, Utc};

use super::context::ProfileArgs;
use super::refresh::parse_age;
use crate::cache::JournalEntry;
use crate::safe_text;

/// Journal formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JournalFormat {
    /// A Markdown table, ready to paste into a report.
    Md,
    Csv,
    Json,
}

/// `journal` arguments.
#[derive(Debug, clap::Args)]
pub struct JournalArgs {
    /// How far back, e.g. 24h, 7d, 30m [default: everything]
    #[arg(long, value_parser = parse_age)]
    pub since: Option<chrono::Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: JournalFormat,
    /// Print the session log instead: every view and command run in the console
    /// (`whalewatch tui --replay FILE` steps through it).
    #[arg(long)]
    pub session: bool,
}

fn time(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

pub fn run(p: &ProfileArgs, args: &JournalArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    if args.session {
        let path = crate::ui::session_log::path(&ctx.cache_dir, &ctx.name);
        return print_session(&path, args);
    }
    let cache = ctx.read_cache()?;
    let since = args
        .since
        .map_or(i64::MIN, |d| (Utc::now() - d).timestamp_millis());
    let entries = cache.journal(since)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        JournalFormat::Json => {
            let v: Vec<serde_json::Value> = entries.iter().map(json_of).collect();
            let text = serde_json::to_string_pretty(&v)?;
            writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
        }
        JournalFormat::Csv => {
            let mut w = crate::query::records::CsvWriter::new(
                &mut out,
                crate::query::records::CsvCells::Guarded,
            );
            w.row([
                "time",
                "analyst",
                "action",
                "target_kind",
                "target",
                "detail",
                "result",
                "message",
            ])?;
            for e in &entries {
                let fields = [
                    time(e.time),
                    e.analyst.clone(),
                    e.action.clone(),
                    e.target_kind.clone(),
                    e.target.clone(),
                    e.detail.clone(),
                    e.result.as_str().to_string(),
                    e.message.clone().unwrap_or_default(),
                ];
                w.row(fields.iter().map(|f| safe_text::sanitize(f)))?;
            }
            w.finish()?;
        }
        JournalFormat::Md => {
            writeln!(
                out,
                "| time | analyst | action | target | detail | result | message |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|")?;
            for e in &entries {
                let cell = |s: &str| safe_text::sanitize(s).replace('|', "\\|");
                writeln!(
                    out,
                    "| {} | {} | {} | {} {} | {} | {} | {} |",
                    time(e.time),
                    cell(&e.analyst),
                    cell(&e.action),
                    cell(&e.target_kind),
                    cell(&e.target),
                    cell(&e.detail),
                    e.result.as_str(),
                    cell(e.message.as_deref().unwrap_or(""))
                )?;
            }
            if entries.is_empty() {
                writeln!(out, "\n(no writes recorded in this period)")?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn json_of(e: &JournalEntry) -> serde_json::Value {
    serde_json::json!({
        "time": Utc.timestamp_millis_opt(e.time).single().map(|t| t.to_rfc3339()),
        "analyst": e.analyst,
        "action": e.action,
        "targetKind": e.target_kind,
        "target": e.target,
        "detail": e.detail,
        "result": e.result,
        "message": e.message,
        "outboxId": e.outbox_id,
    })
}

/// `journal --session`: the session log, oldest first.
fn print_session(path: &std::path::Path, args: &JournalArgs) -> Result<ExitCode> {
    use crate::ui::session_log::{EntryKind, read};
    let since = args.since.map(|d| Utc::now() - d);
    let entries: Vec<_> = read(path)?
        .into_iter()
        .filter(|e| since.is_none_or(|s| e.at >= s))
        .collect();
    let kind = |k: EntryKind| match k {
        EntryKind::View => "view",
        EntryKind::Command => "command",
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        JournalFormat::Json => {
            let text = serde_json::to_string_pretty(&entries)?;
            writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
        }
        JournalFormat::Csv => {
            let mut w = crate::query::records::CsvWriter::new(
                &mut out,
                crate::query::records::CsvCells::Guarded,
            );
            w.row(["time", "kind", "line"])?;
            for e in &entries {
                let fields = [
                    e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    kind(e.kind).to_string(),
                    e.line.clone(),
                ];
                w.row(fields.iter().map(|f| safe_text::sanitize(f)))?;
            }
            w.finish()?;
        }
        JournalFormat::Md => {
            writeln!(out, "| time | kind | view or command |")?;
            writeln!(out, "|---|---|---|")?;
            for e in &entries {
                writeln!(
                    out,
                    "| {} | {} | {} |",
                    e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    kind(e.kind),
                    safe_text::sanitize(&e.line).replace('|', "\\|")
                )?;
            }
            if entries.is_empty() {
                writeln!(
                    out,
                    "\n(no console session recorded in {} for this period)",
                    path.display()
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
