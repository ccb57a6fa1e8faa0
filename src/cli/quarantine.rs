//! `whalewatch quarantine`: records the tenant sent that a refresh could not take
//! (no key, unreadable, an invalid time), as received.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::context::ProfileArgs;
use crate::model::hunting::from_ticks;
use crate::safe_text;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuarantineFormat {
    /// One line per record: when, source, why, the record (shortened).
    Table,
    /// Every field, the record whole.
    Json,
}

/// `quarantine` arguments.
#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    /// Only this source: alerts, incidents, users, groups, group members, or a hunting table
    /// (`hunting:EmailEvents`).
    #[arg(long)]
    pub source: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: QuarantineFormat,
}

/// How much of a record the table shows.
const RAW_WIDTH: usize = 120;

pub fn run(p: &ProfileArgs, args: &QuarantineArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let cache = ctx.read_cache()?;
    let records = cache.quarantined(args.source.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let when = |ticks| {
        from_ticks(ticks)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    };
    match args.format {
        QuarantineFormat::Json => {
            let v: Vec<serde_json::Value> = records
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "source": r.source,
                        "reason": r.reason,
                        "received": when(r.received),
                        "raw": r.raw,
                    })
                })
                .collect();
            let text = serde_json::to_string_pretty(&v)?;
            writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
        }
        QuarantineFormat::Table => {
            if records.is_empty() {
                writeln!(out, "no quarantined records")?;
            }
            for r in &records {
                let raw: String = r.raw.chars().take(RAW_WIDTH).collect();
                let more = if raw.len() < r.raw.len() { "…" } else { "" };
                writeln!(
                    out,
                    "{}  {}  {}  {}{more}",
                    when(r.received),
                    safe_text::sanitize(&r.source),
                    safe_text::sanitize(&r.reason),
                    safe_text::sanitize(&raw),
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
