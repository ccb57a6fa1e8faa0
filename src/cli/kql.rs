//! `whalewatch kql`: a filter as KQL, ready to paste into Defender's advanced hunting;
//! and `query --remote`, which runs the same KQL through `runHuntingQuery` so only
//! aggregates travel for counts, frequency tables and histograms, and row queries are
//! split into time windows under the service's row cap.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::context::{Context, ProfileArgs};
use super::output::{Format, Records};
use super::query::{Bin, QueryArgs, parse_or_report, print_frequency, print_histogram};
use crate::cache::Cache;
use crate::query::compile;
use crate::query::index::{Column, TagTable};
use crate::query::kql::KqlQuery;
use crate::query::lang::{Entity, Filter};
use crate::tenant::GraphClient;
use crate::ui::remote::{self, Row, RowRequest, hunt, text_of};

/// `kql` options.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  whalewatch kql emails 'is:priority threat:phish since:7d'
  whalewatch kql emails 'threat:phish' --pivot SenderFromDomain
  whalewatch kql alerts 'severity:high tag:finance' --count")]
pub struct KqlArgs {
    /// emails, alerts, campaigns or users (incidents have no hunting table).
    #[arg(value_parser = parse_entity)]
    pub entity: Entity,
    /// The filter; several words are AND-ed.
    #[arg(num_args = 0..)]
    pub filter: Vec<String>,
    /// Print the count query.
    #[arg(long)]
    pub count: bool,
    /// Print the frequency query of this column.
    #[arg(long, value_name = "COLUMN")]
    pub pivot: Option<String>,
    /// Print the histogram query.
    #[arg(long, value_enum)]
    pub histogram: Option<Bin>,
    /// Split the histogram by this column.
    #[arg(long, value_name = "COLUMN", requires = "histogram")]
    pub split: Option<String>,
}

fn parse_entity(s: &str) -> Result<Entity, String> {
    Entity::parse(s)
        .ok_or_else(|| format!("`{s}`: expected emails, alerts, campaigns, users or incidents"))
}

/// The hunting column an analyst means: a column name, or a filter field's column.
fn hunting_column(name: &str) -> String {
    match Column::parse(name) {
        Some(c) if c.is_remote() => c.name().to_string(),
        _ => name.to_string(),
    }
}

/// Tags from the profile's cache, when there is one (a bare `kql` needs no profile).
fn tags_of(p: &ProfileArgs) -> TagTable {
    p.context()
        .ok()
        .and_then(|ctx| ctx.read_cache().ok())
        .and_then(|c| TagTable::load(&c).ok())
        .unwrap_or_default()
}

pub fn run(p: &ProfileArgs, args: &KqlArgs) -> Result<ExitCode> {
    let text = args.filter.join(" ");
    let filter = match parse_or_report(args.entity, &text) {
        Ok(f) => f,
        Err(code) => return Ok(code),
    };
    let tags = tags_of(p);
    let q = compile(args.entity, &filter, &tags, Utc::now())?;
    let kql = if args.count {
        q.count()
    } else if let Some(c) = &args.pivot {
        q.frequency(&hunting_column(c))?
    } else if let Some(bin) = args.histogram {
        let split = args.split.as_deref().map(hunting_column);
        q.histogram(bin.into(), split.as_deref())?
    } else {
        q.rows()
    };
    println!("{kql}");
    Ok(ExitCode::SUCCESS)
}

/// Runs `filter` remotely for `query --remote`.
pub fn run_remote(
    p: &ProfileArgs,
    ctx: &Context,
    cache: &Cache,
    entity: Entity,
    filter: &Filter,
    args: &QueryArgs,
    now: DateTime<Utc>,
) -> Result<ExitCode> {
    let tags = TagTable::load(cache)?;
    let q = compile(entity, filter, &tags, now)?;
    let client = crate::sync::connect::graph_client(&ctx.name, &ctx.profile, &ctx.cache_dir, true)?;
    let _ = p;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        if args.count {
            let rows = hunt(&client, &q.count()).await?;
            let n = rows
                .first()
                .and_then(|r| r.get("Count"))
                .and_then(|v| v.as_u64());
            println!("{}", n.unwrap_or(0));
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(col) = &args.pivot {
            let col = hunting_column(col);
            let rows = hunt(&client, &q.frequency(&col)?).await?;
            let f = remote::frequency(&col, &rows);
            print_frequency(&f, args.format)?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(bin) = args.histogram {
            let split = args.split.as_deref().map(hunting_column);
            let rows = hunt(&client, &q.histogram(bin.into(), split.as_deref())?).await?;
            let h = remote::histogram(split.as_deref(), &rows);
            print_histogram(&h, args.format)?;
            return Ok(ExitCode::SUCCESS);
        }
        let rows = remote_rows(&client, &q, args).await?;
        print_rows(rows, args)?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn remote_rows(client: &GraphClient, q: &KqlQuery, args: &QueryArgs) -> Result<Vec<Row>> {
    let req = RowRequest {
        sort: args.sort.clone(),
        limit: args.limit,
    };
    remote::rows(client, q, &req, &mut |_, _| {}).await
}

fn print_rows(rows: Vec<Row>, args: &QueryArgs) -> Result<()> {
    let default: &[&str] = &[
        "Timestamp",
        "RecipientEmailAddress",
        "SenderFromAddress",
        "Subject",
        "ThreatTypes",
        "DeliveryAction",
        "LatestDeliveryLocation",
    ];
    let mut names: Vec<String> = if args.columns.is_empty() {
        let first: Vec<String> = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        if args.format == Format::Table && default.iter().all(|d| first.iter().any(|k| k == d)) {
            default.iter().map(|s| s.to_string()).collect()
        } else {
            first
        }
    } else {
        args.columns.clone()
    };
    names.dedup();
    let leaked: Vec<&'static str> = names
        .iter()
        .map(|n| &*Box::leak(n.clone().into_boxed_str()))
        .collect();
    let records = Records {
        columns: leaked,
        rows: rows
            .iter()
            .map(|r| names.iter().map(|n| text_of(r.get(n))).collect())
            .collect(),
        raw: rows.into_iter().map(Value::Object).collect(),
    };
    super::query::print_records(&records, args.format)?;
    Ok(())
}
