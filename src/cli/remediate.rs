//! `whalewatch remediate --action ACTION [FILTER]`: Threat Explorer's "Take action"
//! on the cached emails a filter selects, with the review and the typed count.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;

use super::alert::{flush_and_print, writer_client};
use super::context::ProfileArgs;
use super::query::parse_or_report;
use crate::query::index::EmailIndex;
use crate::query::lang::Entity;
use crate::sync::remediate::{self, RemediationPlan};
use crate::sync::triage::analyst_name;

/// `remediate` arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct RemediateArgs {
    /// moveToJunk, moveToInbox, moveToDeletedItems, softDelete or hardDelete.
    #[arg(long)]
    pub action: String,
    /// Confirm without a prompt (scripts): N must equal the number of messages.
    #[arg(long, value_name = "N")]
    pub yes: Option<String>,
    /// The emails to act on, in the filter language (as `whalewatch query emails`);
    /// several words are AND-ed. A filter that starts with `-` goes after `--`.
    pub filter: Vec<String>,
}

const EXAMPLES: &str = "\
Examples:
  whalewatch remediate --action softDelete campaign:\"credential phish\" location:inbox
  whalewatch remediate --action moveToJunk sender:billing@evil.example --yes 12

The review shows how many messages, mailboxes and priority accounts are affected; type
that number of messages to confirm (anything else cancels). Hard delete is irreversible.
";

pub fn run(p: &ProfileArgs, args: &RemediateArgs) -> Result<ExitCode> {
    let ctx = p.context()?;
    let action = remediate::parse_action(&args.action)?;
    let client = writer_client(p, &ctx, "email remediation")?;
    let mut cache = ctx.open_cache()?;
    let text = args.filter.join(" ");
    if text.trim().is_empty() {
        anyhow::bail!(
            "give a filter for the emails to remediate (e.g. campaign:\"credential phish\" location:inbox); remediating every cached email is not allowed"
        );
    }
    let filter = match parse_or_report(Entity::Emails, &text) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let index = EmailIndex::open(&cache)?;
    let rows = index.eval(&filter, Utc::now())?;
    let plan = RemediationPlan::new(action, index.planned_messages(&rows))?;
    drop(index);
    print!("{}", plan.review_text());
    std::io::stdout().flush()?;
    let typed = match &args.yes {
        Some(n) => n.clone(),
        None => prompt()?,
    };
    let analyst = analyst_name(&ctx.profile);
    let confirmed = match plan.clone().confirm(&typed) {
        Ok(c) => c,
        Err(e) => {
            remediate::record_cancelled(&mut cache, &plan, &e.to_string(), &analyst)?;
            eprintln!("whalewatch: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let id = remediate::enqueue_remediation(&mut cache, &confirmed, &analyst)?;
    eprintln!("queued remediation #{id}; sending");
    flush_and_print(&client, &mut cache)
}

/// Reads the typed count from the terminal.
fn prompt() -> Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "cancelled: no terminal to confirm on; pass --yes N with N the number of messages shown"
        );
    }
    print!("> ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line)
}
