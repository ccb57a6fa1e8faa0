//! `cargo bench --bench query`: the query engine at a million rows, against SQLite on
//! the same cache, in one run. No timing assertions: figures are printed.
//!
//! The world comes from the simulator and reaches the cache through the real
//! pipeline (an in-process `SimServer` on loopback, `sync::refresh` with the hunting
//! quota lifted). The cache is kept under `target/whalewatch-bench/` and reused by
//! later runs; `WHALEWATCH_BENCH_CACHE=path` uses another cache instead, and
//! `WHALEWATCH_BENCH_ROWS` changes the size (default 1,000,000).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use whalewatch::cache::Cache;
use whalewatch::query::index::{Column, EmailIndex, SortKey};
use whalewatch::query::kql::TimeBin;
use whalewatch::query::{Entity, parse};
use whalewatch::sim::WorldParams;
use whalewatch::sim::server::{SimConfig, SimServer};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn params(rows: u64) -> WorldParams {
    let days = 30u32;
    WorldParams {
        seed: 7,
        now: now(),
        users: ((rows / 50) as u32).clamp(WorldParams::MIN_USERS, 20_000),
        days,
        emails_per_day: rows.div_ceil(u64::from(days)) as u32,
    }
}

/// Generates the world and refreshes it into `path` through the real pipeline.
fn make_cache(path: &Path, rows: u64) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut config = SimConfig::new(params(rows));
        config.hunting_calls_per_minute = 100_000;
        let t = Instant::now();
        let server = SimServer::start("127.0.0.1:0".parse().expect("addr"), config)
            .await
            .expect("simulator");
        eprintln!("world generated in {:.1}s", t.elapsed().as_secs_f64());
        // SAFETY: set before any other thread reads the environment.
        unsafe { std::env::set_var("WHALEWATCH_BENCH_SECRET", &server.client_secret) };
        let profile = whalewatch::demo::signed_in(&server, "WHALEWATCH_BENCH_SECRET");
        let dir = path.parent().expect("dir");
        let client =
            whalewatch::sync::connect::graph_client("bench", &profile, dir, true).expect("client");
        let cache = Cache::open(path).expect("cache");
        let options = whalewatch::sync::RefreshOptions {
            hunting_calls_per_minute: 100_000,
            ..Default::default()
        };
        let t = Instant::now();
        whalewatch::sync::refresh(&client, cache, &profile, &options, &|_| {})
            .await
            .expect("refresh");
        eprintln!(
            "refreshed into the cache in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    });
}

fn cache_path() -> PathBuf {
    if let Ok(p) = std::env::var("WHALEWATCH_BENCH_CACHE") {
        return PathBuf::from(p);
    }
    let rows: u64 = std::env::var("WHALEWATCH_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/whalewatch-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("world-{rows}.sqlite"));
    let done = dir.join(format!("world-{rows}.done"));
    if !done.exists() {
        let _ = std::fs::remove_file(&path);
        eprintln!("building a {rows}-row cache (once; reused afterwards) ...");
        make_cache(&path, rows);
        std::fs::write(&done, b"ok").expect("marker");
    }
    path
}

/// p50 and p95 of `n` runs of `f`.
fn measure<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(n);
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(t.elapsed());
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.95), last.expect("ran"))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn row(name: &str, p50: Duration, p95: Duration, note: &str) {
    println!("{name:<44} {:>10} {:>10}  {note}", ms(p50), ms(p95));
}

fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// The index build, timed, and the column file every process opens instead of
/// building (written here as a refresh or the first open would).
fn build_and_save(cache: &Cache, path: &Path) {
    let before = rss();
    let index = EmailIndex::build(cache).expect("index");
    let resident = rss().saturating_sub(before);
    drop(index);
    let (b50, b95, index) = measure(5, || EmailIndex::build(cache).expect("index"));
    let rows = index.len();
    println!("rows: {rows}");
    println!("{:<44} {:>10} {:>10}", "", "p50 ms", "p95 ms");
    row("index build", b50, b95, "");
    println!(
        "index heap bytes/row: {:.0}; resident growth of the first build: {:.0} bytes/row",
        index.heap_bytes() as f64 / rows as f64,
        resident as f64 / rows as f64
    );

    index
        .save(&EmailIndex::file_path(path))
        .expect("column file");
}

fn main() {
    let path = cache_path();
    let cache = Cache::open_read_only(&path).expect("cache");
    let now = now();
    println!("cache: {}", path.display());

    // `WHALEWATCH_BENCH_QUICK=1`: only open the column file and run q1–q5 (for
    // comparing builds side by side without the minutes the rest takes).
    let quick = std::env::var_os("WHALEWATCH_BENCH_QUICK").is_some();
    if !quick {
        build_and_save(&cache, &path);
    }
    let before = rss();
    let index = EmailIndex::open(&cache).expect("open");
    let resident = rss().saturating_sub(before);
    assert!(index.is_mapped(), "the column file maps");
    let rows = index.len();
    if quick {
        println!("rows: {rows}");
        println!("{:<44} {:>10} {:>10}", "", "p50 ms", "p95 ms");
    }
    let (o50, o95, _) = measure(10, || EmailIndex::open(&cache).expect("open"));
    row("index open (mapped column file)", o50, o95, "");
    println!(
        "mapped index heap bytes/row: {:.1}; resident growth of an open: {:.0} bytes/row (page cache of the column file, shared between processes)",
        index.heap_bytes() as f64 / rows as f64,
        resident as f64 / rows as f64
    );
    println!("(the queries below run on the mapped index)");

    let n = 50;
    let q1f = parse(Entity::Emails, "is:priority threat:phish").expect("q1");
    let (a, b, q1) = measure(n, || index.eval(&q1f, now).expect("eval"));
    row(
        "q1 count priority ∧ phish",
        a,
        b,
        &format!("{} rows", q1.count()),
    );
    let (a, b, f) = measure(n, || {
        let r = index.eval(&q1f, now).expect("eval");
        index.frequency(&r, Column::parse("SenderFromDomain").expect("col"))
    });
    row(
        "q2 frequency sender domain over q1",
        a,
        b,
        &format!("{} values", f.rows.len()),
    );
    let all = index.all();
    let (a, b, f) = measure(n, || {
        index.frequency(&all, Column::parse("LatestDeliveryLocation").expect("col"))
    });
    row(
        "q3 frequency latest location, all rows",
        a,
        b,
        &format!("{} values", f.rows.len()),
    );
    let (a, b, h) = measure(n, || {
        index
            .histogram(&all, TimeBin::Day, Column::parse("ThreatTypes"))
            .expect("histogram")
    });
    row(
        "q4 daily counts by threat type, all rows",
        a,
        b,
        &format!("{} cells", h.buckets.len()),
    );
    let (a, b, f) = measure(n, || {
        index.frequency(&all, Column::parse("SenderFromDomain").expect("col"))
    });
    row(
        "q5 frequency sender domain, all rows",
        a,
        b,
        &format!("{} values", f.rows.len()),
    );
    let (a, b, f) = measure(n, || {
        index.frequency_top(&all, Column::parse("SenderFromDomain").expect("col"), 20)
    });
    row(
        "q5 top 20 sender domains, all rows",
        a,
        b,
        &format!("{} values shown", f.rows.len()),
    );
    if quick {
        return;
    }

    let typical = parse(
        Entity::Emails,
        "threat:phish,malware since:7d -location:quarantine",
    )
    .expect("typical");
    let (a, b, r) = measure(n, || {
        let r = index.eval(&typical, now).expect("eval");
        let f = index.facets(&r, 10).expect("facets");
        (r.count(), f.len())
    });
    row("filter + all 7 facets", a, b, &format!("{} rows", r.0));
    let (a, b, _) = measure(n, || index.facets(&all, 10).expect("facets"));
    row("all 7 facets over all rows", a, b, "");
    let (a, b, _) = measure(10, || index.top(&all, SortKey::NEWEST, 100));
    row("sort: newest 100 of all rows (top-k)", a, b, "");
    let subj = SortKey::parse(&index, "Subject").expect("sort");
    let (a, b, _) = measure(10, || index.sorted(&all, subj));
    row("sort: all rows by subject (full order)", a, b, "");
    let order = index.sorted(&all, SortKey::NEWEST);
    let anchor = index.key(order[order.len() / 2] as usize);
    let (a, b, _) = measure(n, || index.page_around(&order, &anchor, 20, 20, 0));
    row("page of 41 rows around a key", a, b, "");
    let (a, b, u) = measure(10, || index.top_urls(&all));
    row("Top URLs over all rows", a, b, &format!("{} URLs", u.len()));
    let (a, b, k) = measure(10, || index.clicks(&all));
    row(
        "Top clicks over all rows",
        a,
        b,
        &format!("{} clicks", k.len()),
    );
    let (a, b, d) = measure(3, || {
        whalewatch::query::index::derived::derive(&cache).expect("derive")
    });
    row(
        "derived campaigns (Plan 1) from the cache",
        a,
        b,
        &format!("{} campaign rows", d.len()),
    );

    // Fuzzy search (the console's `ctrl-p`): time to first results and to completion
    // over all rows' subjects, senders, recipients and URLs. Target: first ≤ 50 ms.
    for pattern in ["invoice payment", "ceo"] {
        let mut first = Vec::new();
        let mut full = Vec::new();
        let mut matched = 0;
        for _ in 0..10 {
            let t = Instant::now();
            let mut got_first = None;
            let p = index.search(&all, pattern, 100, 4096, &mut |_| {
                if got_first.is_none() {
                    got_first = Some(t.elapsed());
                }
                ControlFlow::Continue(())
            });
            full.push(t.elapsed());
            first.push(got_first.unwrap_or_default());
            matched = p.matched;
        }
        first.sort();
        full.sort();
        row(
            &format!("fuzzy '{pattern}': first results"),
            first[5],
            first[9],
            "",
        );
        row(
            &format!("fuzzy '{pattern}': complete"),
            full[5],
            full[9],
            &format!("{matched} values match"),
        );
    }

    // The two matchers over the same haystacks: every row's subject (1M strings).
    let subjects: Vec<String> = (0..rows)
        .map(|r| index.value(Column::parse("Subject").expect("col"), r))
        .collect();
    {
        use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
        let pat = Pattern::new(
            "invoice payment",
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        let mut m = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut buf = Vec::new();
        let (a, b, hits) = measure(3, || {
            subjects
                .iter()
                .filter(|s| {
                    pat.score(nucleo_matcher::Utf32Str::new(s, &mut buf), &mut m)
                        .is_some()
                })
                .count()
        });
        row(
            "nucleo-matcher over 1M row subjects",
            a,
            b,
            &format!("{hits} hits"),
        );
    }
    {
        use fuzzy_matcher::FuzzyMatcher;
        let m = fuzzy_matcher::skim::SkimMatcherV2::default().ignore_case();
        let (a, b, hits) = measure(3, || {
            subjects
                .iter()
                .filter(|s| m.fuzzy_match(s, "invoice payment").is_some())
                .count()
        });
        row(
            "fuzzy-matcher (skim v2) over 1M row subjects",
            a,
            b,
            &format!("{hits} hits"),
        );
    }

    // The same five queries in SQLite on the same cache.
    let c = cache.connection();
    let count = |sql: &str| -> usize {
        let mut stmt = c.prepare_cached(sql).expect("sql");
        let mut rows = stmt.query([]).expect("query");
        let mut n = 0;
        while rows.next().expect("row").is_some() {
            n += 1;
        }
        n
    };
    let prio = "lower(\"RecipientEmailAddress\") IN (SELECT address FROM tag_members WHERE tag = 'Priority account') AND ' ' || \"ThreatTypes\" || ',' LIKE '% Phish,%'";
    let sql = [
        ("q1", format!("SELECT count(*) FROM email_events WHERE {prio}")),
        ("q2", format!("SELECT \"SenderFromDomain\", count(*) c FROM email_events WHERE {prio} GROUP BY 1 ORDER BY c DESC")),
        ("q3", "SELECT \"LatestDeliveryLocation\", count(*) c FROM email_events GROUP BY 1 ORDER BY c DESC".to_string()),
        ("q4", "SELECT \"Timestamp\" / 864000000000, \"ThreatTypes\", count(*) FROM email_events GROUP BY 1, 2".to_string()),
        ("q5", "SELECT \"SenderFromDomain\", count(*) c FROM email_events GROUP BY 1 ORDER BY c DESC".to_string()),
    ];
    for (name, q) in &sql {
        let (a, b, n) = measure(5, || count(q));
        row(&format!("SQLite {name}"), a, b, &format!("{n} result rows"));
    }
}
