//! `whalewatch alert set|flush|outbox|resolve`: alert triage from the command line,
//! through the same outbox the console uses.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use super::context::{Context, ProfileArgs};
use crate::cache::Cache;
use crate::sync::connect;
use crate::sync::triage::{
    self, AlertChange, FlushReport, Outcome, Resolution, analyst_name, describe_payload,
};
use crate::tenant::GraphClient;

/// Alert triage.
#[derive(Debug, clap::Subcommand)]
pub enum AlertCommand {
    /// Change alerts (status, classification, determination, owner) and/or comment.
    #[command(after_help = SET_EXAMPLES)]
    Set(SetArgs),
    /// Send the writes still queued (after a network failure, a crash, a restart).
    Flush,
    /// List the writes not yet confirmed by the tenant, with their state and last error.
    Outbox,
    /// Answer a conflict: keep your change (--overwrite) or drop it (--discard).
    Resolve(ResolveArgs),
}

const SET_EXAMPLES: &str = "\
Examples:
  whalewatch alert set da6371_-1 da6372_-2 --status resolved --classification truePositive --determination phishing --comment \"Campaign blocked\"
  whalewatch alert set da6371_-1 --assign me --status inProgress
  whalewatch alert set da6371_-1 --classification falsePositive --determination notMalicious

Determinations by classification:
  truePositive: multiStagedAttack, maliciousUserActivity, compromisedAccount, malware, phishing,
                unwantedSoftware, apt, securityPersonnel, other
  informationalExpectedActivity: securityTesting, lineOfBusinessApplication, confirmedActivity, other
  falsePositive: notMalicious, notEnoughDataToValidate, other
";

/// `alert set` arguments.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Alert ids.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// new, inProgress or resolved.
    #[arg(long)]
    pub status: Option<String>,
    /// truePositive, falsePositive, informationalExpectedActivity (or tp, fp, informational).
    #[arg(long)]
    pub classification: Option<String>,
    /// A determination that goes with the classification (see below).
    #[arg(long)]
    pub determination: Option<String>,
    /// Owner: a UPN, `me` (the profile's `analyst`), or "" to clear.
    #[arg(long)]
    pub assign: Option<String>,
    /// A comment to add.
    #[arg(long)]
    pub comment: Option<String>,
}

/// `alert resolve` arguments.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The write's number (from `alert outbox` or the conflict message).
    pub entry: i64,
    /// Send your change anyway, over the tenant's.
    #[arg(long, conflicts_with = "discard", required_unless_present = "discard")]
    pub overwrite: bool,
    /// Drop your change.
    #[arg(long)]
    pub discard: bool,
}

pub fn run(p: &ProfileArgs, cmd: &AlertCommand) -> Result<ExitCode> {
    let ctx = p.context()?;
    match cmd {
        AlertCommand::Set(args) => set(p, &ctx, args),
        AlertCommand::Flush => {
            let client = writer_client(p, &ctx, "sending queued writes")?;
            let mut cache = ctx.open_cache()?;
            flush_and_print(&client, &mut cache)
        }
        AlertCommand::Outbox => outbox(&ctx),
        AlertCommand::Resolve(args) => {
            let mut cache = ctx.open_cache()?;
            let how = if args.overwrite {
                Resolution::Overwrite
            } else {
                Resolution::Discard
            };
            triage::resolve_conflict(&mut cache, args.entry, how, &analyst_name(&ctx.profile))?;
            println!(
                "write #{}: {}",
                args.entry,
                if args.overwrite {
                    "queued again; `whalewatch alert flush` sends it"
                } else {
                    "discarded"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A client for a command that writes; in read-only mode it refuses before anything is
/// queued, so nothing is sent later by surprise.
pub fn writer_client(p: &ProfileArgs, ctx: &Context, what: &str) -> Result<GraphClient> {
    let client = connect::graph_client(&ctx.name, &ctx.profile, &ctx.cache_dir, p.read_only)?;
    if client.is_read_only() {
        anyhow::bail!(
            "read-only mode ({}): {what} is disabled and nothing was queued; run without --read-only (and without read_only = true in profile `{}`) to change the tenant",
            if p.read_only {
                "--read-only"
            } else {
                "read_only = true in the profile"
            },
            ctx.name
        );
    }
    Ok(client)
}

fn set(p: &ProfileArgs, ctx: &Context, args: &SetArgs) -> Result<ExitCode> {
    let analyst = analyst_name(&ctx.profile);
    let assigned_to = match args.assign.as_deref() {
        Some("me") => Some(ctx.profile.analyst.clone().filter(|a| !a.is_empty()).ok_or_else(|| {
            anyhow::anyhow!(
                "`--assign me` needs your sign-in name: add analyst = \"you@contoso.com\" to profile `{}`",
                ctx.name
            )
        })?),
        other => other.map(str::to_string),
    };
    let change = AlertChange {
        status: args
            .status
            .as_deref()
            .map(triage::parse_status)
            .transpose()?,
        classification: args
            .classification
            .as_deref()
            .map(triage::parse_classification)
            .transpose()?,
        determination: args
            .determination
            .as_deref()
            .map(triage::parse_determination)
            .transpose()?,
        assigned_to,
        comment: args.comment.clone(),
    };
    change.validate()?;
    let client = writer_client(p, ctx, "alert triage")?;
    let mut cache = ctx.open_cache()?;
    for id in &args.ids {
        if cache.tenant_alert(id)?.is_none() {
            eprintln!(
                "whalewatch: alert {id} is not in the cache; it is changed without a conflict check (run `whalewatch refresh` to see alerts first)"
            );
        }
    }
    let queued = triage::enqueue_alert_change(&mut cache, &args.ids, &change, &analyst)?;
    eprintln!(
        "queued {} writes on {} alerts: {}",
        queued.len(),
        args.ids.len(),
        change.describe()
    );
    flush_and_print(&client, &mut cache)
}

/// Flushes the outbox and prints one line per write; fails when any stays unsent.
pub fn flush_and_print(client: &GraphClient, cache: &mut Cache) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(triage::flush(client, cache))?;
    print_report(&report);
    if let Some(why) = &report.stopped {
        eprintln!("whalewatch: {why}");
    }
    let unsettled = report.unsettled();
    if unsettled > 0 {
        eprintln!(
            "whalewatch: {unsettled} writes are not confirmed; they stay in the outbox (`whalewatch alert outbox`)"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &FlushReport) {
    let safe = crate::safe_text::sanitize;
    for o in &report.outcomes {
        let (word, why) = match &o.outcome {
            Outcome::Sent => ("sent", String::new()),
            Outcome::AlreadyApplied => (
                "sent",
                " (reached the tenant before an interruption; not sent again)".to_string(),
            ),
            Outcome::Conflict(m) => ("CONFLICT", format!(": {m}")),
            Outcome::Failed(m) => ("FAILED", format!(": {m}")),
            Outcome::Queued(m) => ("queued", format!(": {m}")),
        };
        println!(
            "#{} {} {} {}: {}{}",
            o.entry,
            triage_action(o.kind),
            safe(&o.target),
            safe(&o.detail),
            word,
            safe(&why)
        );
        if let Some(r) = &o.remediation {
            if let Some(link) = &r.action_center {
                println!("  Action center: {}", safe(link));
            }
            for m in &r.messages {
                let state = match &m.state {
                    crate::sync::remediate::MessageState::Done => "done".to_string(),
                    crate::sync::remediate::MessageState::Failed(s) => format!("FAILED ({s})"),
                    crate::sync::remediate::MessageState::NoResultYet => {
                        "no result yet (see the Action center)".to_string()
                    }
                };
                println!(
                    "  {} {}  now: {}  {}",
                    safe(&m.network_message_id),
                    safe(&m.recipient),
                    safe(m.latest_location.as_deref().unwrap_or("unknown")),
                    safe(&state)
                );
            }
        }
    }
}

fn triage_action(kind: crate::cache::OutboxKind) -> &'static str {
    match kind {
        crate::cache::OutboxKind::AlertUpdate => "update",
        crate::cache::OutboxKind::AlertComment => "comment",
        crate::cache::OutboxKind::Remediate => "remediate",
        crate::cache::OutboxKind::IncidentUpdate => "incident update",
        crate::cache::OutboxKind::IncidentComment => "incident comment",
    }
}

fn outbox(ctx: &Context) -> Result<ExitCode> {
    let cache = ctx.read_cache()?;
    let entries = cache.outbox()?;
    if entries.is_empty() {
        println!("the outbox is empty: every write was confirmed by the tenant");
        return Ok(ExitCode::SUCCESS);
    }
    let safe = crate::safe_text::sanitize;
    for e in entries {
        println!(
            "#{} {} {} {} [{}] by {}{}",
            e.id,
            triage_action(e.kind),
            safe(&e.target),
            safe(&describe_payload(e.kind, &e.payload)),
            e.state.as_str(),
            safe(&e.analyst),
            e.last_error
                .map(|m| format!("\n    {}", safe(&m)))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
