//! A view run on the tenant (advanced hunting, Microsoft's Kusto engine): the one
//! code path `whalewatch query --remote` and the console's remote view (`:remote`)
//! share. The filter compiles to KQL (`query::kql`); counts, frequency tables and
//! histograms travel as aggregates, and rows come in time windows planned from a daily
//! (then hourly) histogram so no call is truncated by the service's row cap.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use whalewatch_model::time::parse_datetime;
use whalewatch_query::KqlQuery;
use whalewatch_query::index::{
    BinTerm, Column, Frequency, FrequencyRow, Histogram, HistogramBucket,
};
use whalewatch_query::kql::TimeBin;
use whalewatch_query::lang::Entity;
use whalewatch_tenant::GraphClient;
use whalewatch_tenant::hunting::HUNTING_ROW_CAP;

/// One result row of advanced hunting, by column name.
pub type Row = Map<String, Value>;

/// Runs `kql` through `runHuntingQuery`.
pub async fn hunt(client: &GraphClient, kql: &str) -> Result<Vec<Row>> {
    let r = client
        .run_hunting_query(kql, None)
        .await
        .with_context(|| format!("advanced hunting refused the query:\n{kql}"))?;
    Ok(r.results)
}

/// A cell as text (a string as is, anything else as JSON, null as empty).
pub fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn count_of(row: &Row) -> usize {
    row.get("Count").and_then(Value::as_u64).unwrap_or(0) as usize
}

/// A frequency table from `summarize Count = count() by col` rows.
pub fn frequency(col: &str, rows: &[Row]) -> Frequency {
    let total: usize = rows.iter().map(count_of).sum();
    let mut out: Vec<FrequencyRow> = rows
        .iter()
        .map(|r| FrequencyRow::new(text_of(r.get(col)), count_of(r), total, BinTerm::None))
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    let column = Column::parse(col).map_or("Value", Column::name);
    Frequency {
        column,
        total,
        rows: out,
    }
}

/// A histogram from `summarize Count = count() by bin(Timestamp, …)[, split]` rows.
pub fn histogram(split: Option<&str>, rows: &[Row]) -> Histogram {
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

/// Row windows of at most the service's row cap, oldest first, planned from a daily
/// (then hourly) histogram, so no call is truncated.
pub async fn plan_windows(
    client: &GraphClient,
    q: &KqlQuery,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut windows = Vec::new();
    let days = histogram(
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
            let hours = histogram(
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

/// How rows are fetched.
#[derive(Debug, Clone, Default)]
pub struct RowRequest {
    /// `Column` or `Column:desc`.
    pub sort: Option<String>,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// The rows of `q` in the order the local query gives them — `sort`, else newest
/// first (`order by Timestamp desc`) — then `limit`; window by window under the row
/// cap. `on_window` hears each window's number before it is fetched (for progress).
pub async fn rows(
    client: &GraphClient,
    q: &KqlQuery,
    req: &RowRequest,
    on_window: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Vec<Row>> {
    let limit = req.limit.unwrap_or(usize::MAX);
    let sort = req.sort.as_deref().map(|sort| {
        let (name, desc) = match sort.rsplit_once(':') {
            Some((n, d)) if d.eq_ignore_ascii_case("desc") => (n, true),
            Some((n, d)) if d.eq_ignore_ascii_case("asc") => (n, false),
            _ => (sort, false),
        };
        let name = match Column::parse(name) {
            Some(c) if c.is_remote() => c.name().to_string(),
            _ => name.to_string(),
        };
        (name, desc)
    });
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
    let n = windows.len();
    let mut out = Vec::new();
    match &sort {
        // Newest first: the newest window first, each newest first, until the limit.
        None => {
            for (i, (from, to)) in windows.into_iter().rev().enumerate() {
                if out.len() >= limit {
                    break;
                }
                on_window(i + 1, n);
                let w = q.window(from, to);
                out.extend(
                    hunt(
                        client,
                        &format!("{}{}", w.rows(), suffix(limit - out.len())),
                    )
                    .await?,
                );
            }
        }
        // Another order: the best `limit` of every window, then sorted together the
        // way the local query sorts (numbers by value, text case-insensitively).
        Some((col, desc)) => {
            for (i, (from, to)) in windows.into_iter().enumerate() {
                on_window(i + 1, n);
                let w = q.window(from, to);
                out.extend(hunt(client, &format!("{}{}", w.rows(), suffix(limit))).await?);
            }
            let cells: Vec<String> = out.iter().map(|r| text_of(r.get(col))).collect();
            let order = whalewatch_query::records::sorted_order(cells.len(), |i| &cells[i], *desc);
            let mut taken: Vec<Option<Row>> = out.into_iter().map(Some).collect();
            out = order.into_iter().filter_map(|i| taken[i].take()).collect();
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// Rows a remote view's first page holds.
pub const PAGE: usize = 200;
/// The column the remote view's frequency table counts.
pub const FREQUENCY_COLUMN: &str = "SenderFromDomain";

/// What the console's remote view receives, part by part.
#[derive(Debug, Clone)]
pub enum RemotePart {
    /// What is being computed now.
    Progress(String),
    Count(usize),
    Histogram(Arc<Histogram>),
    Frequency(Arc<Frequency>),
    /// The newest rows, newest first.
    Rows(Arc<Vec<Row>>),
    /// Every part arrived.
    Done,
    Failed(String),
}

/// Computes a remote view of `q` — count, daily histogram by threat type, sender
/// domains, the newest page of rows — sending each part as it arrives.
pub async fn run_view(
    client: &GraphClient,
    q: &KqlQuery,
    send: &mut (dyn FnMut(RemotePart) + Send),
) {
    let result: Result<()> = async {
        send(RemotePart::Progress("counting on the tenant…".into()));
        let n = hunt(client, &q.count()).await?.first().map_or(0, count_of);
        send(RemotePart::Count(n));
        send(RemotePart::Progress("histogram…".into()));
        let split = "ThreatTypes";
        let h = histogram(
            Some(split),
            &hunt(client, &q.histogram(TimeBin::Day, Some(split))?).await?,
        );
        send(RemotePart::Histogram(Arc::new(h)));
        send(RemotePart::Progress("sender domains…".into()));
        let f = frequency(
            FREQUENCY_COLUMN,
            &hunt(client, &q.frequency(FREQUENCY_COLUMN)?).await?,
        );
        send(RemotePart::Frequency(Arc::new(f)));
        let req = RowRequest {
            sort: Some("Timestamp:desc".into()),
            limit: Some(PAGE),
        };
        let mut progress = |i: usize, n: usize| {
            send(RemotePart::Progress(format!("rows: window {i} of {n}…")));
        };
        let page = rows(client, q, &req, &mut progress).await?;
        send(RemotePart::Rows(Arc::new(page)));
        Ok(())
    }
    .await;
    send(match result {
        Ok(()) => RemotePart::Done,
        Err(e) => RemotePart::Failed(format!("{e:#}")),
    });
}

/// The console's remote view of the email grid on top (`:remote`): what has arrived.
#[derive(Debug, Clone, Default)]
pub struct RemoteView {
    /// Which run this is; parts of an older run are dropped.
    pub id: u64,
    /// The filter run (as the KQL's source: the grid's filter, tag and range).
    pub filter: String,
    /// What is being computed, while running.
    pub progress: Option<String>,
    pub error: Option<String>,
    pub count: Option<usize>,
    pub histogram: Option<Arc<Histogram>>,
    pub frequency: Option<Arc<Frequency>>,
    pub rows: Option<Arc<Vec<Row>>>,
    /// First row shown.
    pub offset: usize,
}

impl RemoteView {
    /// Applies one arrived part.
    pub fn apply(&mut self, part: RemotePart) {
        match part {
            RemotePart::Progress(p) => self.progress = Some(p),
            RemotePart::Count(n) => self.count = Some(n),
            RemotePart::Histogram(h) => self.histogram = Some(h),
            RemotePart::Frequency(f) => self.frequency = Some(f),
            RemotePart::Rows(r) => self.rows = Some(r),
            RemotePart::Done => self.progress = None,
            RemotePart::Failed(e) => {
                self.progress = None;
                self.error = Some(e);
            }
        }
    }
}
