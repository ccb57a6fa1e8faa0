//! `whalewatch sim bench --refresh`: end-to-end refresh throughput.
//!
//! Starts the simulator in this process on loopback, runs one full `sync::refresh`
//! into a fresh temporary cache (the first-refresh path a new analyst takes), and
//! prints hunting rows written per second of wall time, `EmailEvents` alone, the
//! CPU time the process spent (the simulator shares the machine's cores with the
//! refresh, as it does when both run on one box), and peak memory during the refresh.
//! A second, incremental refresh of the same (unchanged) world is timed too: it
//! exercises the upsert path a daily refresh takes. Last, the first refresh is
//! timed once more with the simulator replaying results it rendered before, which
//! leaves the cores to the client, as a remote tenant would.

use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cache::Cache;
use crate::sim::World;
use crate::sim::WorldParams;
use crate::sim::bench::peak_rss_bytes;
use crate::sim::server::{SimConfig, SimServer};
use crate::sync::{RefreshOptions, RefreshSummary, connect, refresh};

/// The figures `sim bench --refresh` prints.
#[derive(Debug, Serialize)]
pub struct RefreshBench {
    pub world_email_events_rows: usize,
    pub generate_seconds: f64,
    pub peak_rss_bytes_after_generate: Option<u64>,
    /// Every hunting row the first refresh wrote (all six email tables).
    pub hunting_rows: u64,
    /// Wall time of the whole first refresh (directory, alerts, incidents, hunting, tags).
    pub refresh_seconds: f64,
    /// `hunting_rows / refresh_seconds`.
    pub rows_per_second: f64,
    /// Writing the email index's column file after the refresh, as `whalewatch
    /// refresh` does (build from the cache, write `<cache>.email-index`).
    pub index_file_seconds: f64,
    /// `hunting_rows / (refresh_seconds + index_file_seconds)`: the whole `whalewatch
    /// refresh`, end to end.
    pub rows_per_second_with_index_file: f64,
    pub email_events_rows: u64,
    pub email_events_seconds: f64,
    pub email_events_rows_per_second: f64,
    /// Per source: (source, rows, seconds).
    pub sources: Vec<(String, u64, f64)>,
    /// Hunting window calls of the first refresh, the rows each brought on average,
    /// the fewest the 100,000-row cap allows, row-count calls and halved windows.
    pub hunting_calls: u64,
    pub hunting_rows_per_call: u64,
    pub hunting_fewest_calls: u64,
    pub hunting_counting_calls: u64,
    pub hunting_splits: u64,
    /// CPU seconds (user + system) the whole process used during the first refresh,
    /// simulator included; at most 2 × wall time on a 2-core machine.
    pub refresh_cpu_seconds: Option<f64>,
    /// Peak resident memory of the process during the refresh (simulator included),
    /// measured from a reset high-water mark when the kernel allows it.
    pub peak_rss_bytes_during_refresh: Option<u64>,
    pub cache_bytes: u64,
    /// Wall time of a second refresh of the same world into the now-full cache.
    pub incremental_refresh_seconds: f64,
    /// Rows the incremental refresh re-read (the overlap) and how many it changed.
    pub incremental_rows: u64,
    pub incremental_changed: u64,
    /// The first refresh again with the simulator's hunting results replayed from
    /// memory (rendered by a warm-up run): the client's own speed, JSON parse and
    /// cache write, with the cores to itself as against a remote tenant.
    pub replayed_refresh_seconds: f64,
    pub replayed_rows_per_second: f64,
    pub replayed_cpu_seconds: Option<f64>,
}

/// One timed first refresh.
struct Timed {
    summary: RefreshSummary,
    rows: u64,
    seconds: f64,
    cpu: Option<f64>,
    peak: Option<u64>,
}

/// CPU seconds (user + system) this process has used so far (Linux `/proc`).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// Resets the peak-RSS high-water mark so `VmHWM` measures from here.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

fn hunting_totals(s: &RefreshSummary) -> (u64, u64) {
    s.sources
        .iter()
        .filter(|x| x.source.starts_with("hunting:"))
        .fold((0, 0), |(rows, changed), x| {
            (rows + x.fetched, changed + x.stats.new + x.stats.updated)
        })
}

/// Runs the benchmark over the world `params` describes.
pub async fn run(params: WorldParams) -> Result<RefreshBench> {
    let started = Instant::now();
    let world = tokio::task::spawn_blocking(move || World::generate(&params))
        .await
        .context("world generation stopped")?
        .context("cannot build the synthetic world")?;
    let generate_seconds = started.elapsed().as_secs_f64();
    let peak_after_generate = peak_rss_bytes();
    let world_rows = world.rows.len();
    let config = SimConfig {
        hunting_calls_per_minute: u32::MAX,
        ..SimConfig::new(world.params.clone())
    };
    let listen = "127.0.0.1:0".parse().context("loopback address")?;
    let server = SimServer::start_with_world(listen, config, world).await?;
    let profile = crate::demo::signed_in(&server, "WHALEWATCH_BENCH_SECRET");
    let client = connect::client_with(&profile, crate::demo::credential(&server), None, true)?;
    let dir = std::env::temp_dir().join(format!("whalewatch-refresh-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("bench.sqlite");
    // The quotas are the service's, not a cost of the pipeline: lift them on both
    // sides (the simulator enforces no posture quota; the client's own pacing is lifted
    // too, leaving only 429s to slow it down).
    let options = RefreshOptions {
        hunting_calls_per_minute: 1_000_000,
        posture_limits: crate::tenant::posture::PostureLimits::lifted(),
        ..RefreshOptions::default()
    };

    let first = |path: std::path::PathBuf| {
        let (client, profile, options) = (&client, &profile, &options);
        async move {
            let cache = Cache::open(&path)?;
            let reset = reset_peak_rss();
            let cpu0 = cpu_seconds();
            let t0 = Instant::now();
            let summary = refresh(client, cache, profile, options, &|_| {}).await?;
            Ok::<_, anyhow::Error>(Timed {
                seconds: t0.elapsed().as_secs_f64(),
                cpu: cpu_seconds().zip(cpu0).map(|(b, a)| b - a),
                peak: if reset { peak_rss_bytes() } else { None },
                rows: hunting_totals(&summary).0,
                summary,
            })
        }
    };
    let live = first(path.clone()).await?;
    let (summary, refresh_seconds, cpu, peak_during) =
        (&live.summary, live.seconds, live.cpu, live.peak);
    let cache_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let t_index = Instant::now();
    crate::query::index::EmailIndex::open(&Cache::open_read_only(&path)?)
        .context("cannot write the email index's column file")?;
    let index_file_seconds = t_index.elapsed().as_secs_f64();

    let hunting_rows = live.rows;
    let ee = summary
        .sources
        .iter()
        .find(|s| s.source == "hunting:EmailEvents");
    let (ee_rows, ee_secs) = ee.map_or((0, 0.0), |s| (s.fetched, s.seconds));
    let used = summary.hunting_use();
    let sources = summary
        .sources
        .iter()
        .map(|s| (s.source.clone(), s.fetched, s.seconds))
        .collect();

    let cache = Cache::open(&path)?;
    let t1 = Instant::now();
    let again = refresh(&client, cache, &profile, &options, &|_| {}).await?;
    let incremental_refresh_seconds = t1.elapsed().as_secs_f64();
    let (incremental_rows, incremental_changed) = hunting_totals(&again);

    // The client alone: a first refresh into an empty cache again, its hunting
    // results rendered by a warm-up refresh and replayed.
    server.state.replay_hunting(true);
    first(dir.join("warm-up.sqlite")).await?;
    let replayed = first(dir.join("replayed.sqlite")).await?;
    server.state.replay_hunting(false);

    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(RefreshBench {
        world_email_events_rows: world_rows,
        generate_seconds,
        peak_rss_bytes_after_generate: peak_after_generate,
        hunting_rows,
        refresh_seconds,
        rows_per_second: hunting_rows as f64 / refresh_seconds.max(1e-9),
        index_file_seconds,
        rows_per_second_with_index_file: hunting_rows as f64
            / (refresh_seconds + index_file_seconds).max(1e-9),
        email_events_rows: ee_rows,
        email_events_seconds: ee_secs,
        email_events_rows_per_second: ee_rows as f64 / ee_secs.max(1e-9),
        sources,
        hunting_calls: used.calls,
        hunting_rows_per_call: used.rows_per_call(),
        hunting_fewest_calls: used.fewest_calls,
        hunting_counting_calls: used.counting_calls,
        hunting_splits: used.splits,
        refresh_cpu_seconds: cpu,
        peak_rss_bytes_during_refresh: peak_during,
        cache_bytes,
        incremental_refresh_seconds,
        incremental_rows,
        incremental_changed,
        replayed_refresh_seconds: replayed.seconds,
        replayed_rows_per_second: replayed.rows as f64 / replayed.seconds.max(1e-9),
        replayed_cpu_seconds: replayed.cpu,
    })
}
