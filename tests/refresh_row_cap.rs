//! A refresh whose windows hit the service's row cap (rows arrived after the
//! row-count query, or a service with a lower cap than planned for): truncated
//! windows are halved while later windows are already in flight, and the cache ends
//! with exactly what a refresh that never hit the cap writes — first load (bulk,
//! indexes rebuilt afterwards) and a second, incremental refresh alike.

mod common;

use std::path::Path;

use whalewatch::cache::Cache;
use whalewatch::sim::WorldParams;
use whalewatch::sim::server::{SimConfig, SimServer};
use whalewatch::sync::{RefreshOptions, RefreshSummary, connect, refresh};

fn params() -> WorldParams {
    WorldParams {
        seed: 44,
        now: common::now(),
        users: 60,
        days: 8,
        emails_per_day: 300,
    }
}

async fn refresh_into(
    server: &SimServer,
    path: &Path,
    window_rows: u64,
) -> (RefreshSummary, Vec<u8>) {
    let profile = whalewatch::demo::signed_in(server, "WHALEWATCH_TEST_SECRET");
    let credential = whalewatch::demo::credential(server);
    let client = connect::client_with(&profile, credential, None, true).unwrap();
    let options = RefreshOptions {
        window_rows,
        hunting_calls_per_minute: 100_000,
        ..RefreshOptions::default()
    };
    let cache = Cache::open(path).unwrap();
    let summary = refresh(&client, cache, &profile, &options, &|_| {})
        .await
        .unwrap();
    let mut dump = Vec::new();
    Cache::open(path)
        .unwrap()
        .dump_except(&["sync_state"], &mut dump)
        .unwrap();
    (summary, dump)
}

fn hunting(summary: &RefreshSummary, source: &str) -> (u64, u64, u64) {
    let s = summary
        .sources
        .iter()
        .find(|s| s.source == source)
        .unwrap_or_else(|| panic!("no {source} in the summary"));
    (s.fetched, s.stats.new, s.calls)
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_over_the_cap_are_halved_and_the_cache_matches_an_uncapped_refresh() {
    let dir = std::env::temp_dir().join(format!("ww-row-cap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // Reference: the service's usual cap, windows planned well under it.
    let server = SimServer::start(common::loopback(), SimConfig::new(params()))
        .await
        .unwrap();
    let (plain, want) = refresh_into(&server, &dir.join("plain.sqlite"), 90_000).await;
    server.shutdown().await;

    // The service caps at 700 rows while the client plans windows of 1,000: every
    // `EmailEvents` window (about 1,000 rows over three days) is refused and halved,
    // with the next window already asked for.
    let mut config = SimConfig::new(params());
    config.max_rows = 700;
    let server = SimServer::start(common::loopback(), config).await.unwrap();
    let path = dir.join("capped.sqlite");
    let (capped, got) = refresh_into(&server, &path, 1_000).await;
    assert!(got == want, "the capped refresh cached something else");
    let (rows, new, calls) = hunting(&capped, "hunting:EmailEvents");
    let (plain_rows, _, plain_calls) = hunting(&plain, "hunting:EmailEvents");
    assert_eq!(rows, plain_rows);
    assert_eq!(new, rows, "a first load counts every row new");
    assert!(
        calls > plain_calls + 2,
        "windows were not halved ({calls} calls against {plain_calls})"
    );

    // Again into the now-full cache: upserts by key, nothing changes.
    let (again, got) = refresh_into(&server, &path, 1_000).await;
    assert!(got == want, "the incremental refresh changed the cache");
    for s in again
        .sources
        .iter()
        .filter(|s| s.source.starts_with("hunting:"))
    {
        assert_eq!(
            s.stats.new + s.stats.updated,
            0,
            "{}: {:?}",
            s.source,
            s.stats
        );
    }
    server.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
