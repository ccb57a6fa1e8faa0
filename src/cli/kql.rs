//! `whalewatch kql`: a filter as KQL, ready to paste into Defender's advanced hunting;
//! and `query --remote`, which runs the same KQL through `runHuntingQuery` so only
//! aggregates travel for counts, frequency tables and histograms, and row queries are
//! split into time windows under the service's row cap.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::context::{Context, ProfileArgs};
use super::output::{Format, Records};
use super::query::{Bin, QueryArgs, parse_or_report, print_frequency, print_histogram};
use crate::cache::Cache;
use crate::model::time::parse_datetime;
use crate::query::compile;
use crate::query::index::{Column, Frequency, FrequencyRow, Histogram, HistogramBucket, TagTable};
use crate::query::kql::{KqlQuery, TimeBin};
use crate::query::lang::{Entity, Filter};
use crate::tenant::GraphClient;
use crate::tenant::hunting::HUNTING_ROW_CAP;

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

async fn hunt(client: &GraphClient, kql: &str) -> Result<Vec<Map<String, Value>>> {
    let r = client
        .run_hunting_query(kql, None)
        .await
        .with_context(|| format!("advanced hunting refused the query:\n{kql}"))?;
    Ok(r.results)
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn count_of(row: &Map<String, Value>) -> usize {
    row.get("Count").and_then(Value::as_u64).unwrap_or(0) as usize
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
            println!("{}", rows.first().map_or(0, count_of));
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(col) = &args.pivot {
            let col = hunting_column(col);
            let rows = hunt(&client, &q.frequency(&col)?).await?;
            let f = remote_frequency(&col, &rows);
            print_frequency(&f, args.format)?;
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(bin) = args.histogram {
            let split = args.split.as_deref().map(hunting_column);
            let rows = hunt(&client, &q.histogram(bin.into(), split.as_deref())?).await?;
            let h = remote_histogram(split.as_deref(), &rows);
            print_histogram(&h, args.format)?;
            return Ok(ExitCode::SUCCESS);
        }
        let rows = remote_rows(&client, &q, args).await?;
        print_rows(rows, args)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A frequency table from `summarize Count = count() by col` rows.
pub fn remote_frequency(col: &str, rows: &[Map<String, Value>]) -> Frequency {
    let total: usize = rows.iter().map(count_of).sum();
    let mut out: Vec<FrequencyRow> = rows
        .iter()
        .map(|r| {
            let n = count_of(r);
            FrequencyRow {
                value: text_of(r.get(col)),
                count: n,
                percent: n as f64 * 100.0 / total.max(1) as f64,
                term: None,
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    let column = Column::parse(col).map_or("Value", Column::name);
    Frequency {
        column,
        total,
        rows: out,
    }
}

fn remote_histogram(split: Option<&str>, rows: &[Map<String, Value>]) -> Histogram {
    let mut buckets: Vec<HistogramBucket> = rows
        .iter()
        .filter_map(|r| {
            Some(HistogramBucket {
                start: parse_datetime(&text_of(r.get("Timestamp")))?,
                split: split.map(|s| text_of(r.get(s))),
                count: count_of(r),
            })
        })
        .collect();
    buckets.sort_by(|a, b| a.start.cmp(&b.start).then(a.split.cmp(&b.split)));
    Histogram {
        split: split.and_then(Column::parse).map(Column::name),
        buckets,
    }
}

/// Row windows of at most the service's row cap, planned from a daily (then hourly)
/// histogram, so no call is truncated.
async fn plan_windows(
    client: &GraphClient,
    q: &KqlQuery,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut windows = Vec::new();
    let days = remote_histogram(
        None,
        &hunt(client, &q.histogram(TimeBin::Day, None)?).await?,
    );
    let cap = HUNTING_ROW_CAP;
    let mut cur: Option<(DateTime<Utc>, DateTime<Utc>, usize)> = None;
    for b in days.buckets {
        let end = b.start + chrono::TimeDelta::days(1);
        let mut pieces = vec![(b.start, end, b.count)];
        if b.count > cap {
            let hq = q.window(b.start, end);
            let hours = remote_histogram(
                None,
                &hunt(client, &hq.histogram(TimeBin::Hour, None)?).await?,
            );
            pieces = hours
                .buckets
                .into_iter()
                .map(|h| (h.start, h.start + chrono::TimeDelta::hours(1), h.count))
                .collect();
            if let Some(p) = pieces.iter().find(|p| p.2 > cap) {
                anyhow::bail!(
                    "more than {cap} rows in the hour from {}: narrow the filter, or query the cache",
                    p.0
                );
            }
        }
        for (from, to, n) in pieces {
            cur = match cur {
                Some((f, _, m)) if m + n <= cap => Some((f, to, m + n)),
                Some((f, t, _)) => {
                    windows.push((f, t));
                    Some((from, to, n))
                }
                None => Some((from, to, n)),
            };
        }
    }
    if let Some((f, t, _)) = cur {
        windows.push((f, t));
    }
    Ok(windows)
}

/// `COLUMN[:asc|desc]` as the hunting column and whether it is descending.
fn sort_of(sort: &str) -> (String, bool) {
    match sort.rsplit_once(':') {
        Some((n, d)) if d.eq_ignore_ascii_case("desc") => (hunting_column(n), true),
        Some((n, d)) if d.eq_ignore_ascii_case("asc") => (hunting_column(n), false),
        _ => (hunting_column(sort), false),
    }
}

/// The rows of a remote query in the order the local query gives: `--sort`, else
/// newest first (`order by Timestamp desc`, ties in table order as the cache holds
/// them), then `--limit`.
async fn remote_rows(
    client: &GraphClient,
    q: &KqlQuery,
    args: &QueryArgs,
) -> Result<Vec<Map<String, Value>>> {
    let limit = args.limit.unwrap_or(usize::MAX);
    let sort = args.sort.as_deref().map(sort_of);
    let suffix = |left: usize| {
        let mut s = String::new();
        match &sort {
            Some((col, desc)) => s.push_str(&format!(
                "\n| order by {col} {}",
                if *desc { "desc" } else { "asc" }
            )),
            // Without an order `take` returns whichever rows come first: the oldest.
            None if q.entity == Entity::Emails => s.push_str("\n| order by Timestamp desc"),
            None => {}
        }
        if left < HUNTING_ROW_CAP {
            s.push_str(&format!("\n| take {left}"));
        }
        s
    };
    if q.entity != Entity::Emails {
        return hunt(client, &format!("{}{}", q.rows(), suffix(limit))).await;
    }
    let windows = plan_windows(client, q).await?;
    let mut out = Vec::new();
    match &sort {
        // Newest first: the newest window first, each newest first, until the limit.
        None => {
            for (from, to) in windows.into_iter().rev() {
                if out.len() >= limit {
                    break;
                }
                let w = q.window(from, to);
                let rows = hunt(
                    client,
                    &format!("{}{}", w.rows(), suffix(limit - out.len())),
                )
                .await?;
                out.extend(rows);
            }
        }
        // Another order: the best `limit` of every window, then sorted together the
        // way the local query sorts (numbers by value, text case-insensitively).
        Some((col, desc)) => {
            for (from, to) in windows {
                let w = q.window(from, to);
                out.extend(hunt(client, &format!("{}{}", w.rows(), suffix(limit))).await?);
            }
            let cells: Vec<String> = out.iter().map(|r| text_of(r.get(col))).collect();
            let order = crate::query::records::sorted_order(cells.len(), |i| &cells[i], *desc);
            let mut taken: Vec<Option<Map<String, Value>>> = out.into_iter().map(Some).collect();
            out = order.into_iter().filter_map(|i| taken[i].take()).collect();
        }
    }
    out.truncate(limit);
    Ok(out)
}

fn print_rows(rows: Vec<Map<String, Value>>, args: &QueryArgs) -> Result<()> {
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
