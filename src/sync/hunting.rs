//! Pulling one advanced-hunting table into the cache, incrementally by `Timestamp`.
//!
//! 1. Ask for rows per day since the watermark (minus an overlap for late arrivals).
//! 2. Cut that range into windows under the row budget (`plan`).
//! 3. Fetch windows in time order; each one is written, with the watermark moved to
//!    its end, in one transaction — so a killed refresh resumes exactly where the
//!    cache is, and a re-fetched window only rewrites identical rows.

use std::collections::VecDeque;
use std::time::Instant;

use chrono::Utc;

use super::plan::{self, Bucket, DAY, HOUR, Window};
use super::writer::{CacheWriter, wait};
use super::{Progress, RefreshContext, SourceSummary, SyncError};
use crate::cache::{CachedRow, Writer};
use crate::model::hunting::{from_ticks, to_ticks};
use crate::model::time::format_datetime;

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
    let bin = if width == DAY { "1d" } else { "1h" };
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
        let start = crate::model::time::parse_datetime(start)
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

/// Day buckets, with any day over the budget replaced by its hours.
async fn buckets(
    ctx: &RefreshContext<'_>,
    table: &str,
    from: Option<i64>,
) -> Result<Vec<Bucket>, SyncError> {
    let days = histogram(ctx, table, from, None, DAY).await?;
    let mut out = Vec::with_capacity(days.len());
    for d in days {
        if d.rows > ctx.options.window_rows {
            let lo = from.map_or(d.start, |f| f.max(d.start));
            out.extend(histogram(ctx, table, Some(lo), Some(d.start + DAY), HOUR).await?);
        } else {
            out.push(d);
        }
    }
    Ok(out)
}

/// Pulls table `R` into the cache; `after` runs on each window's rows inside the
/// window's transaction (post-delivery events update latest locations there).
pub async fn pull<R: CachedRow + Send + Sync + 'static>(
    ctx: &RefreshContext<'_>,
    writer: &CacheWriter,
    after: fn(&Writer<'_>, &[R]) -> Result<(), crate::cache::CacheError>,
) -> Result<SourceSummary, SyncError> {
    let started = Instant::now();
    let table = R::TABLE;
    let source = format!("hunting:{table}");
    let src = source.clone();
    let state = writer.run(move |c| c.source_state(&src)).await?;
    let from = match state.and_then(|s| s.watermark) {
        Some(w) => Some(w - ctx.options.overlap_ticks),
        None => ctx
            .options
            .since
            .map(|since| to_ticks(&(Utc::now() - since))),
    };
    let buckets = buckets(ctx, table, from).await?;
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
        ..SourceSummary::default()
    };
    (ctx.progress)(&Progress::Started {
        source: source.clone(),
        expected_rows: Some(expected),
    });
    let mut pending = VecDeque::new();
    while let Some(w) = queue.pop_front() {
        ctx.pace().await;
        let query = window_query(table, &w);
        summary.calls += 1;
        match ctx.client.run_hunting_rows::<R>(&query, None).await {
            Ok(result) => {
                let rows = result.rows;
                summary.fetched += rows.len() as u64;
                (ctx.progress)(&Progress::Rows {
                    source: source.clone(),
                    rows: summary.fetched,
                });
                let watermark = match w.to {
                    Some(to) => Some(to),
                    None => rows.iter().map(CachedRow::timestamp_ticks).max(),
                };
                let (src, now) = (source.clone(), to_ticks(&Utc::now()));
                pending.push_back(writer.submit(move |c| {
                    c.write(|tx| {
                        let stats = tx.upsert_rows(&rows)?;
                        after(tx, &rows)?;
                        tx.advance(&src, watermark, now)?;
                        Ok(stats)
                    })
                }));
                // Two windows in flight: one being written, one being fetched.
                while pending.len() > 1 {
                    if let Some(rx) = pending.pop_front() {
                        summary.stats += wait(rx).await?;
                    }
                }
            }
            Err(e) if e.is_row_cap() => match w.halves(open_end) {
                Some((a, b)) => {
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
    for rx in pending {
        summary.stats += wait(rx).await?;
    }
    if summary.calls == 0 {
        // Nothing to fetch still counts as a successful refresh of the source.
        let now = to_ticks(&Utc::now());
        writer
            .run(move |c| c.write(|tx| tx.advance(&source, None, now)))
            .await?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    (ctx.progress)(&Progress::Finished(summary.clone()));
    Ok(summary)
}

/// Post-delivery events move messages: apply them to the cached latest location.
pub fn apply_post_delivery(
    tx: &Writer<'_>,
    rows: &[crate::model::email::PostDeliveryEvent],
) -> Result<(), crate::cache::CacheError> {
    let mut sorted: Vec<&crate::model::email::PostDeliveryEvent> = rows.iter().collect();
    sorted.sort_by_key(|e| e.timestamp);
    for e in sorted {
        tx.apply_post_delivery(e)?;
    }
    Ok(())
}

/// No per-window work.
pub fn nothing<R>(_: &Writer<'_>, _: &[R]) -> Result<(), crate::cache::CacheError> {
    Ok(())
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
