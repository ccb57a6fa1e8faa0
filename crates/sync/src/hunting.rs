//! Pulling one advanced-hunting table into the cache, incrementally by `Timestamp`.
//!
//! 1. Ask for rows per minute (per hour or day on long ranges) since the watermark
//!    (minus an overlap for late arrivals): one call, a few thousand numbers.
//! 2. Cut that range into windows packed up to the row budget (`plan`), just under
//!    the service's cap, so a table needs about `rows / cap` calls — the fewest the
//!    per-minute quota has to allow.
//! 3. Fetch windows in time order; each one is written, with the watermark moved to
//!    its end, in one transaction — so a killed refresh resumes exactly where the
//!    cache is, and a re-fetched window only rewrites identical rows.

use std::collections::VecDeque;
use std::time::Instant;

use chrono::Utc;

use super::plan::{self, Bucket, DAY, HOUR, MINUTE, Window};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;

use tokio::sync::oneshot::Receiver;
use tracing::Instrument;

use super::writer::{CacheWriter, wait};
use super::{Progress, RefreshContext, SourceSummary, SyncError};
use whalewatch_cache::{CacheError, CachedRow, SourceState, UpsertStats, Writer};
use whalewatch_model::batch::RowBatch;
use whalewatch_model::hunting::{from_ticks, to_ticks};
use whalewatch_model::time::format_datetime;

fn literal(ticks: i64) -> String {
    format!("datetime({})", format_datetime(&from_ticks(ticks)))
}

/// `T | where Timestamp >= .. and Timestamp < ..` for a window.
pub fn window_query(table: &str, w: &Window) -> String {
    match w.to {
        Some(to) => format!(
            "{table} | where Timestamp >= {} and Timestamp < {}",
            literal(w.from),
            literal(to)
        ),
        None => format!("{table} | where Timestamp >= {}", literal(w.from)),
    }
}

/// Rows per `bin` of `width` ticks in [from, to).
async fn histogram(
    ctx: &RefreshContext<'_>,
    table: &str,
    from: Option<i64>,
    to: Option<i64>,
    width: i64,
) -> Result<Vec<Bucket>, SyncError> {
    let mut q = table.to_string();
    if let Some(f) = from {
        q.push_str(&format!(" | where Timestamp >= {}", literal(f)));
    }
    if let Some(t) = to {
        q.push_str(&format!(" | where Timestamp < {}", literal(t)));
    }
    let bin = match width {
        DAY => "1d".to_owned(),
        HOUR => "1h".to_owned(),
        w => format!("{}m", (w / MINUTE).max(1)),
    };
    q.push_str(&format!(
        " | summarize Rows = count() by Bucket = bin(Timestamp, {bin}) | order by Bucket asc"
    ));
    ctx.pace().await;
    let result = ctx.client.run_hunting_query(&q, None).await?;
    let mut out = Vec::new();
    for row in &result.results {
        let start = row
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Bucket"))
            .and_then(|(_, v)| v.as_str());
        let rows = row
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Rows"))
            .and_then(|(_, v)| v.as_u64());
        let (Some(start), Some(rows)) = (start, rows) else {
            return Err(SyncError::Unexpected(format!(
                "{table}: the row-count query returned {row:?}"
            )));
        };
        let start = whalewatch_model::time::parse_datetime(start)
            .ok_or_else(|| SyncError::Unexpected(format!("{table}: bad bucket time {start:?}")))?;
        out.push(Bucket {
            start: to_ticks(&start),
            width,
            rows,
        });
    }
    out.sort_by_key(|b| b.start);
    Ok(out)
}

/// Bucket widths a row count may use, finest first.
const BINS: [i64; 4] = [MINUTE, 5 * MINUTE, HOUR, DAY];
/// Most buckets a row count should return: far under the row cap, and a few
/// hundred kilobytes of answer.
const MAX_BUCKETS: i64 = 50_000;

/// Rows per bucket since `from`, in the finest buckets that keep the answer small
/// (minutes over the 30 days the service keeps), so windows can be packed to within
/// a few dozen rows of the budget. A count refused for the row cap is asked again
/// with wider buckets; a bucket still over the budget is re-counted by minute.
/// Returns the buckets and the calls made.
async fn buckets(
    ctx: &RefreshContext<'_>,
    table: &str,
    from: Option<i64>,
) -> Result<(Vec<Bucket>, u64), SyncError> {
    // Without a lower bound, the service keeps 30 days.
    let range = from.map_or(30 * DAY, |f| (to_ticks(&Utc::now()) - f).max(MINUTE));
    let mut widths = BINS.iter().skip_while(|w| range / **w > MAX_BUCKETS);
    let mut calls = 0;
    let counted = loop {
        let Some(&width) = widths.next() else {
            return Err(SyncError::Unexpected(format!(
                "{table}: the row count per day is over the service's row cap"
            )));
        };
        calls += 1;
        match histogram(ctx, table, from, None, width).await {
            Err(SyncError::Tenant(e)) if e.is_row_cap() => continue,
            other => break other?,
        }
    };
    let mut out = Vec::with_capacity(counted.len());
    for b in counted {
        if b.rows > ctx.options.window_rows && b.width > MINUTE {
            let lo = from.map_or(b.start, |f| f.max(b.start));
            calls += 1;
            out.extend(histogram(ctx, table, Some(lo), Some(b.start + b.width), MINUTE).await?);
        } else {
            out.push(b);
        }
    }
    Ok((out, calls))
}

/// Hunting calls in flight at once: the service renders (or the network carries)
/// one window while this process parses the previous one.
const FETCH_DEPTH: usize = 2;
/// Parsed windows allowed to wait for the writer, in KiB (all tables together).
/// Bounds memory when the writer is slower, yet lets fetching and parsing go on
/// while it builds a table's indexes (seconds for a million rows), which a queue of
/// two windows did not.
pub const WRITE_BUDGET_KIB: u32 = 128 << 10;

/// A per-window hook, run on the window's rows inside its transaction
/// (post-delivery events update latest locations there).
pub type AfterWindow = fn(&Writer<'_>, &RowBatch) -> Result<(), CacheError>;

/// Pulls table `R` into the cache; `after` runs on each window's rows inside the
/// window's transaction.
///
/// Windows are fetched [`FETCH_DEPTH`] at a time and parsed straight into storage
/// cells; the writer thread commits them in window order. A table that is empty
/// when its pull starts is bulk-loaded: rows are appended without the table's
/// indexes, which are built once at the end (see `cache::bulk`).
///
/// `state` is the source's state before the refresh (read up front, so that this
/// pull does not wait behind the previous table's index build on the writer).
/// It returns once every window is fetched; the writes still queued and the index
/// build are collected by [`settle`].
#[tracing::instrument(name = "source", skip_all, fields(source = %format!("hunting:{}", R::TABLE)))]
pub async fn pull<R: CachedRow + Send + Sync + 'static>(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    state: Option<SourceState>,
    after: Option<AfterWindow>,
) -> Result<(SourceSummary, Settle), SyncError> {
    let started = Instant::now();
    let table = R::TABLE;
    let source = format!("hunting:{table}");
    let from = match state.and_then(|s| s.watermark) {
        Some(w) => Some(w - ctx.options.overlap_ticks),
        None => ctx
            .options
            .since
            .map(|since| to_ticks(&(Utc::now() - since))),
    };
    let (buckets, counting_calls) = buckets(ctx, table, from).await?;
    let expected: u64 = buckets.iter().map(|b| b.rows).sum();
    let open_end = buckets
        .last()
        .map_or(to_ticks(&Utc::now()), |b| b.start + b.width);
    let mut queue: VecDeque<Window> = if buckets.is_empty() && from.is_none() {
        VecDeque::new()
    } else {
        plan::windows(from, &buckets, ctx.options.window_rows).into()
    };
    let mut summary = SourceSummary {
        source: source.clone(),
        counting_calls,
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Started {
        source: source.clone(),
        expected_rows: Some(expected),
    });
    // Queued, not awaited: the writer may still be indexing the previous table.
    let began = (!queue.is_empty()).then(|| writer.submit(|c| c.begin_bulk_load(R::SQL_TABLE)));
    let time_col = R::COLUMNS.iter().position(|c| *c == "Timestamp");
    // Rows without these are rejected (quarantined), not merged under an empty key.
    let required: Vec<usize> = R::REQUIRED
        .iter()
        .filter_map(|k| R::COLUMNS.iter().position(|c| c == k))
        .collect();
    let fetch = |w: Window| {
        let query = window_query(table, &w);
        let span = tracing::debug_span!(
            "window",
            table,
            from = %format_datetime(&from_ticks(w.from)),
            to = %w.to.map_or_else(|| "now".to_owned(), |t| format_datetime(&from_ticks(t))),
        );
        async move {
            ctx.pace().await;
            let batch = ctx.client.run_hunting_batch::<R>(&query, None).await;
            match &batch {
                Ok(b) => tracing::debug!(rows = b.len(), "window fetched"),
                Err(e) => tracing::debug!(error = %e, "window failed"),
            }
            batch
        }
        .instrument(span)
    };
    let mut flight = FuturesOrdered::new();
    let mut flying: VecDeque<Window> = VecDeque::new();
    // Submitted writes, oldest first; settled by the caller (see [`settle`]).
    let mut writes = Vec::new();
    loop {
        while flying.len() < FETCH_DEPTH {
            let Some(w) = queue.pop_front() else { break };
            summary.calls += 1;
            flying.push_back(w);
            flight.push_back(fetch(w));
        }
        let Some(result) = flight.next().await else {
            break;
        };
        let Some(w) = flying.pop_front() else { break };
        match result {
            Ok(mut batch) => {
                summary.fetched += batch.len() as u64;
                let rejected = batch.reject_keyless(R::COLUMNS, &required, table);
                if !rejected.is_empty() {
                    tracing::warn!(table, rejected = rejected.len(), "rows without their key");
                }
                summary.rejected += rejected.len() as u64;
                (ctx.progress)(&Progress::Rows {
                    source: source.clone(),
                    rows: summary.fetched,
                });
                let watermark = match w.to {
                    Some(to) => Some(to),
                    None => time_col.and_then(|c| batch.max_int(c)),
                };
                let (src, now) = (source.clone(), to_ticks(&Utc::now()));
                // Held until the writer is done with the batch.
                let room = ctx.room_for(batch.heap_bytes()).await;
                writes.push(writer.submit(move |c| {
                    let _room = room;
                    let bulk = c.bulk_loading(R::SQL_TABLE);
                    c.write(|tx| {
                        let stats = if bulk {
                            tx.insert_batch::<R>(&batch)?
                        } else {
                            tx.upsert_batch::<R>(&batch)?
                        };
                        // The crash tests' "during the SQLite write" point (debug builds).
                        whalewatch_config::paths::pause_point(&format!("writing:{table}"));
                        if let Some(after) = after {
                            after(tx, &batch)?;
                        }
                        if !rejected.is_empty() {
                            tx.quarantine(&src, &rejected, now)?;
                        }
                        tx.advance(&src, watermark, now)?;
                        Ok(stats)
                    })
                }));
            }
            Err(e) if e.is_row_cap() => match w.halves(open_end) {
                Some((a, b)) => {
                    summary.splits += 1;
                    tracing::info!(table, from = %format_datetime(&from_ticks(w.from)), "window over the row cap; halved");
                    // Windows after `w` were already asked for; they are asked
                    // again after its halves, so rows still commit in time order.
                    flight = FuturesOrdered::new();
                    while let Some(later) = flying.pop_back() {
                        queue.push_front(later);
                    }
                    queue.push_front(b);
                    queue.push_front(a);
                }
                None => {
                    return Err(SyncError::Unexpected(format!(
                        "{table}: one tick holds more rows than the service returns per call"
                    )));
                }
            },
            Err(e) => return Err(e.into()),
        }
    }
    let (nothing, now) = (summary.calls == 0, to_ticks(&Utc::now()));
    // Built while the next table is fetched; the caller collects the outcome.
    let done = writer.submit(move |c| {
        if nothing {
            // Nothing to fetch still counts as a successful refresh of the source.
            c.write(|tx| tx.advance(&source, None, now))?;
        }
        let removed = c.restore_indexes(Some(R::SQL_TABLE))?;
        Ok((removed, Instant::now()))
    });
    let settle = Settle {
        started,
        writes,
        began,
        done,
    };
    Ok((summary, settle))
}

/// The pending end of a pull: the writes still queued when its last window arrived,
/// and its table's index build (if it was bulk-loaded).
pub struct Settle {
    started: Instant,
    writes: Vec<Receiver<Result<UpsertStats, CacheError>>>,
    began: Option<Receiver<Result<bool, CacheError>>>,
    /// Repeated rows the index build removed, and when the writer finished.
    done: Receiver<Result<(u64, Instant), CacheError>>,
}

/// Waits for a pull's last writes and index build and reports the source as
/// finished. A key the service sent twice during a bulk load was counted new
/// twice; it is one row.
#[tracing::instrument(name = "settle", skip_all, fields(source = %summary.source))]
pub async fn settle(
    ctx: &RefreshContext<'_>,
    mut summary: SourceSummary,
    pending: Settle,
) -> Result<SourceSummary, SyncError> {
    for rx in pending.writes {
        summary.stats += wait(rx).await?;
    }
    if let Some(rx) = pending.began {
        wait(rx).await?;
    }
    let (removed, finished) = wait(pending.done).await?;
    summary.seconds = (finished - pending.started).as_secs_f64();
    summary.stats.new = summary.stats.new.saturating_sub(removed);
    summary.stats.unchanged += removed;
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok(summary)
}

/// Post-delivery events move messages: apply them to the cached latest location.
pub fn apply_post_delivery(
    tx: &Writer<'_>,
    rows: &[whalewatch_model::email::PostDeliveryEvent],
) -> Result<(), CacheError> {
    let mut sorted: Vec<&whalewatch_model::email::PostDeliveryEvent> = rows.iter().collect();
    sorted.sort_by_key(|e| e.timestamp);
    for e in sorted {
        tx.apply_post_delivery(e)?;
    }
    Ok(())
}

/// [`apply_post_delivery`] for a window of parsed `EmailPostDeliveryEvents`.
pub fn apply_post_delivery_batch(tx: &Writer<'_>, batch: &RowBatch) -> Result<(), CacheError> {
    let rows = batch.typed().map_err(|e| CacheError::Row(e.to_string()))?;
    apply_post_delivery(tx, &rows)
}

/// Mail to priority accounts marks its recipients as such (an inferred tag member).
pub fn note_protected_recipients(tx: &Writer<'_>, batch: &RowBatch) -> Result<(), CacheError> {
    tx.note_protected_recipients(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_queries_use_documented_literals() {
        let w = Window {
            from: 0,
            to: Some(DAY),
        };
        assert_eq!(
            window_query("EmailEvents", &w),
            "EmailEvents | where Timestamp >= datetime(1970-01-01T00:00:00.0000000Z) and Timestamp < datetime(1970-01-02T00:00:00.0000000Z)"
        );
        assert!(!window_query("UrlClickEvents", &Window { from: 0, to: None }).contains(" < "));
    }
}
