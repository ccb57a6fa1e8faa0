//! Hunting windows are packed close to the row cap: a dense table needs about
//! `rows / cap` calls — the fewest the per-minute quota has to allow — and no window
//! is refused for the cap. The service's cap is scaled down (3,000 rows) so a world
//! small enough for a debug test is as dense, relative to it, as a large tenant.

mod common;

use whalewatch::cache::Cache;
use whalewatch::sim::server::{SimConfig, SimServer};
use whalewatch::sim::stats::WorldStats;
use whalewatch::sim::{World, WorldParams};
use whalewatch::sync::{RefreshOptions, connect, refresh};

const CAP: usize = 3_000;

fn dense() -> WorldParams {
    WorldParams {
        seed: 21,
        now: common::now(),
        users: 200,
        days: 10,
        emails_per_day: 6_000,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dense_table_takes_about_rows_over_cap_calls_and_no_window_hits_the_cap() {
    let params = dense();
    let truth = WorldStats::of(&World::generate(&params).unwrap());
    let rows = truth.tables["EmailEvents"] as u64;
    let mut config = SimConfig::new(params);
    config.max_rows = CAP;
    let server = SimServer::start(common::loopback(), config).await.unwrap();
    let dir = std::env::temp_dir().join(format!("ww-windows-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let profile = whalewatch::demo::signed_in(&server, "WHALEWATCH_TEST_SECRET");
    let client =
        connect::client_with(&profile, whalewatch::demo::credential(&server), None, true).unwrap();
    let options = RefreshOptions {
        // The default's share of the cap (97 %), for this service's cap.
        window_rows: whalewatch::sync::DEFAULT_WINDOW_ROWS * CAP as u64 / 100_000,
        hunting_calls_per_minute: 100_000,
        only: vec!["EmailEvents".into()],
        ..RefreshOptions::default()
    };
    let cache = Cache::open(&dir.join("cache.sqlite")).unwrap();
    let summary = refresh(&client, cache, &profile, &options, &|_| {})
        .await
        .unwrap();
    let s = summary
        .sources
        .iter()
        .find(|s| s.source == "hunting:EmailEvents")
        .unwrap();
    assert_eq!(s.fetched, rows, "every row, once");
    assert_eq!(s.splits, 0, "a window was refused for the cap");
    let fewest = rows.div_ceil(CAP as u64);
    assert!(fewest >= 20, "the world is not dense enough: {rows} rows");
    assert!(
        s.calls * 10 <= fewest * 11,
        "{} window calls for {rows} rows; the cap allows {fewest}",
        s.calls
    );
    // Minute counts over 30 days are over this small cap: the count is asked again
    // in five-minute buckets. At the real cap one count is enough.
    assert!(s.counting_calls <= 2, "{} row counts", s.counting_calls);

    // The service saw exactly those calls; only a row count was ever refused.
    let api = common::Api::of(&server);
    let hunting: Vec<u16> = common::triage::requests(&api)
        .await
        .into_iter()
        .filter(|(_, path, _)| path.contains("runHuntingQuery"))
        .map(|(_, _, status)| status)
        .collect();
    assert_eq!(hunting.len() as u64, s.calls + s.counting_calls);
    let refused = hunting.iter().filter(|&&st| st != 200).count() as u64;
    assert_eq!(refused, s.counting_calls - 1, "{hunting:?}");

    // The summary reports rows per call and the quota's bound.
    let used = summary.hunting_use();
    assert_eq!((used.rows, used.calls), (rows, s.calls));
    assert_eq!(used.rows_per_call(), rows / s.calls);
    let table = whalewatch::sync::progress::summary_table(&summary);
    eprintln!("{table}");
    assert!(
        table.contains(&format!(
            "{rows} rows in {} calls ({} rows/call",
            s.calls,
            rows / s.calls
        )) && table.contains("the quota (100000 calls/min) bounds a refresh to"),
        "{table}"
    );
    server.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
