//! `runHuntingQuery` against the world's ground truth: counts per table and per
//! location, the row cap, paging through time windows, errors for unsupported and
//! malformed KQL, the call quota, `Timespan`, and determinism across servers.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Api, Reply, now, start};
use reqwest::StatusCode;
use serde_json::Value;
use whalewatch::sim::kql::TICKS_PER_SECOND;
use whalewatch::sim::kql::table::format_datetime;
use whalewatch::sim::server::SimConfig;
use whalewatch::sim::stats::WorldStats;
use whalewatch::sim::{World, WorldParams};

const DAY: i64 = 86_400 * TICKS_PER_SECOND;

/// A world with more `EmailEvents` rows than the 1,000-row cap used below.
fn params(seed: u64) -> WorldParams {
    WorldParams {
        seed,
        now: now(),
        users: 60,
        days: 3,
        emails_per_day: 600,
    }
}

fn config(seed: u64) -> SimConfig {
    let mut c = SimConfig::new(params(seed));
    c.hunting_calls_per_minute = 10_000;
    c
}

fn results(r: &Reply) -> &Vec<Value> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["results"].as_array().expect("results")
}

/// `summarize count() by K` as a map.
fn counts_by(r: &Reply, key: &str) -> BTreeMap<String, usize> {
    results(r)
        .iter()
        .map(|row| {
            (
                row[key].as_str().expect("key").to_string(),
                row["count_"].as_u64().expect("count_") as usize,
            )
        })
        .collect()
}

async fn count(api: &Api, token: &str, query: &str, timespan: Option<&str>) -> usize {
    let r = api.hunt(token, query, timespan).await;
    let rows = results(&r);
    assert_eq!(rows.len(), 1, "{query}: {}", r.text);
    rows[0]["Count"].as_u64().expect("Count") as usize
}

fn bad_request_message(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let (code, message) = r.graph_error();
    assert_eq!(code, "BadRequest");
    message
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_match_the_ground_truth() {
    let world = World::generate(&params(31)).unwrap();
    let stats = WorldStats::of(&world);
    let server = start(config(31)).await;
    let api = Api::of(&server);
    let token = api.token().await;

    // The query.
    let r = api
        .hunt(
            &token,
            "EmailEvents | where ThreatTypes has \"Phish\" | summarize count() by DeliveryLocation",
            None,
        )
        .await;
    let by_location = counts_by(&r, "DeliveryLocation");
    let phish_rows: usize = stats
        .rows_by_threat_type
        .iter()
        .filter(|(k, _)| k.split(", ").any(|t| t == "Phish"))
        .map(|(_, n)| n)
        .sum();
    assert!(
        stats
            .rows_by_threat_type
            .get("Phish")
            .is_some_and(|n| *n > 0)
    );
    assert_eq!(by_location.values().sum::<usize>(), phish_rows);
    let schema: Vec<&str> = r.json["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(schema, ["DeliveryLocation", "count_"]);

    for (table, n) in &stats.tables {
        assert_eq!(
            count(&api, &token, &format!("{table} | count"), None).await,
            *n,
            "{table}"
        );
    }
    assert_eq!(stats.tables["EmailEvents"], world.rows.len());

    let r = api
        .hunt(
            &token,
            "EmailEvents | summarize count() by LatestDeliveryLocation",
            None,
        )
        .await;
    assert_eq!(
        counts_by(&r, "LatestDeliveryLocation"),
        stats.rows_by_latest_delivery_location
    );
    let r = api
        .hunt(
            &token,
            "EmailEvents | summarize count() by DeliveryLocation",
            None,
        )
        .await;
    assert_eq!(
        counts_by(&r, "DeliveryLocation"),
        stats.rows_by_delivery_location
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_row_cap_is_an_error_and_time_windows_page_under_it() {
    let world = World::generate(&params(32)).unwrap();
    let stats = WorldStats::of(&world);
    let total = stats.tables["EmailEvents"];
    let mut cfg = config(32);
    cfg.max_rows = 1000;
    assert!(total > cfg.max_rows, "the world must exceed the cap");
    let server = start(cfg).await;
    let api = Api::of(&server);
    let token = api.token().await;

    let r = api.hunt(&token, "EmailEvents", None).await;
    let message = bad_request_message(&r);
    assert!(message.contains("Result size limit exceeded"), "{message}");

    let r = api.hunt(&token, "EmailEvents | take 10", None).await;
    assert_eq!(results(&r).len(), 10);

    // Six-hour windows over the whole world, each under the cap.
    let first = world.now() - i64::from(params(32).days) * DAY;
    let step = DAY / 4;
    let mut seen = BTreeSet::new();
    let mut rows = 0;
    let mut t = first;
    while t < world.now() {
        let q = format!(
            "EmailEvents | where Timestamp >= datetime({}) and Timestamp < datetime({}) | project NetworkMessageId, RecipientEmailAddress",
            format_datetime(t),
            format_datetime(t + step)
        );
        let r = api.hunt(&token, &q, None).await;
        let page = results(&r);
        assert!(page.len() < 1000);
        for row in page {
            rows += 1;
            seen.insert((
                row["NetworkMessageId"].as_str().unwrap().to_string(),
                row["RecipientEmailAddress"].as_str().unwrap().to_string(),
            ));
        }
        t += step;
    }
    assert_eq!(rows, total);
    assert_eq!(seen.len(), total, "(NetworkMessageId, recipient) repeats");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_malformed_and_unknown_queries_are_400() {
    let server = start(config(33)).await;
    let api = Api::of(&server);
    let token = api.token().await;

    for (query, names) in [
        (
            "EmailEvents | join kind=inner (EmailUrlInfo) on NetworkMessageId",
            "join",
        ),
        ("EmailEvents | mv-expand x", "mv-expand"),
        ("EmailEvents | where", "Syntax error"),
        ("EmailEvents | where Subject ==", "Syntax error"),
        ("EmailEvents | summarize count( by X", ""),
        ("NoSuchTable | count", "NoSuchTable"),
        ("EmailEvents | project NoSuchColumn", "NoSuchColumn"),
        ("", ""),
    ] {
        let r = api.hunt(&token, query, None).await;
        let message = bad_request_message(&r);
        assert!(message.contains(names), "{query}: {message}");
    }
    for body in [
        serde_json::json!({}),
        serde_json::json!({"Query": 42}),
        serde_json::json!(["EmailEvents"]),
    ] {
        let r = api
            .post(&token, "/v1.0/security/runHuntingQuery", &body)
            .await;
        bad_request_message(&r);
    }
    let r = api
        .hunt(&token, "EmailEvents | count", Some("last tuesday"))
        .await;
    bad_request_message(&r);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quota_throttles_the_third_call_in_a_minute() {
    let mut cfg = config(34);
    cfg.hunting_calls_per_minute = 2;
    let server = start(cfg).await;
    let api = Api::of(&server);
    let token = api.token().await;
    for _ in 0..2 {
        let r = api.hunt(&token, "EmailEvents | take 1", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = api.hunt(&token, "EmailEvents | take 1", None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let retry_after: u64 = r.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    r.graph_error();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timespan_limits_rows() {
    let world = World::generate(&params(35)).unwrap();
    let server = start(config(35)).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let rows_since = |t: i64| {
        world
            .rows
            .iter()
            .filter(|r| world.message_of(r).time >= t)
            .count()
    };
    let last_day = rows_since(world.now() - DAY);
    assert!(last_day > 0 && last_day < world.rows.len());

    // `P1D` counts back from the server's clock, which starts at the world's `now`
    // and runs on: the window starts at or after the world's last day.
    let n = count(&api, &token, "EmailEvents | count", Some("P1D")).await;
    assert!(n <= last_day, "{n} > {last_day}");
    assert!(n >= rows_since(world.now() - DAY + 3600 * TICKS_PER_SECOND));
    let r = api
        .hunt(
            &token,
            "EmailEvents | summarize min(Timestamp)",
            Some("P1D"),
        )
        .await;
    let min = results(&r)[0]["min_Timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(min >= format_datetime(world.now() - DAY), "{min}");

    // Anchored forms are exact.
    let end = format_datetime(world.now());
    let n = count(
        &api,
        &token,
        "EmailEvents | count",
        Some(&format!("P1D/{end}")),
    )
    .await;
    assert_eq!(n, last_day);
    let start_s = format_datetime(world.now() - 2 * DAY);
    let mid = format_datetime(world.now() - DAY);
    let n = count(
        &api,
        &token,
        "EmailEvents | count",
        Some(&format!("{start_s}/{mid}")),
    )
    .await;
    assert_eq!(n, rows_since(world.now() - 2 * DAY) - last_day);
    server.shutdown().await;
}

/// A body with the server's address replaced, so two servers can be compared.
fn portable(r: &Reply, api: &Api) -> String {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text.replace(&api.base, "http://SIM")
}

async fn samples(api: &Api) -> Vec<String> {
    let token = api.token().await;
    vec![
        portable(
            &api.get(&token, "/v1.0/security/alerts_v2?$top=5").await,
            api,
        ),
        portable(&api.get(&token, "/v1.0/users?$top=20").await, api),
        portable(
            &api.hunt(
                &token,
                "EmailEvents | where ThreatTypes has \"Phish\" | summarize count() by DeliveryLocation, SenderFromDomain | order by count_ desc, SenderFromDomain asc",
                None,
            )
            .await,
            api,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn same_seed_same_bytes_different_seed_different_world() {
    let a = start(config(36)).await;
    let b = start(config(36)).await;
    let c = start(config(37)).await;
    let (api_a, api_b, api_c) = (Api::of(&a), Api::of(&b), Api::of(&c));
    assert_ne!(api_a.base, api_b.base);
    assert_eq!(a.tenant_id, b.tenant_id);
    assert_eq!(a.client_secret, b.client_secret);
    let (sa, sb, sc) = (
        samples(&api_a).await,
        samples(&api_b).await,
        samples(&api_c).await,
    );
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(x, y);
    }
    assert_ne!(a.tenant_id, c.tenant_id);
    assert_ne!(
        sa[2], sc[2],
        "a different seed gave the same hunting result"
    );
    for s in [a, b, c] {
        s.shutdown().await;
    }
}
