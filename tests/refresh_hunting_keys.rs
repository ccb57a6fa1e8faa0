//! A hunting endpoint that misbehaves (issue 11): an `EmailEvents` row without its
//! key is rejected and quarantined, not merged; a window that never answers ends a
//! refresh at its budget with what it committed kept. Both drive the real binary
//! against `sim serve` on loopback, through a proxy that rewrites or stalls
//! `runHuntingQuery` answers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use common::refresh::{SimProcess, Summary, Workspace, WorldFlags};

/// What the proxy does to `EmailEvents` window queries.
const PASS: u8 = 0;
/// The first row of the next window answer loses its `NetworkMessageId` (once).
const BLANK_ONE_KEY: u8 = 1;
/// Window answers never come (the proxy holds the request).
const STALL: u8 = 2;

/// The simulator behind a proxy that treats `EmailEvents` window queries (not the
/// row-count queries) as `mode` says.
struct Proxy {
    url: String,
    mode: Arc<AtomicU8>,
    /// The key the blanked row had: (NetworkMessageId, RecipientEmailAddress).
    blanked: Arc<std::sync::Mutex<Option<(String, String)>>>,
    _proxy: common::proxy::Proxy,
}

fn is_window(path: &str, body: &str) -> bool {
    path.ends_with("runHuntingQuery")
        && body.contains("EmailEvents | where Timestamp >=")
        && !body.contains("summarize")
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let mode = Arc::new(AtomicU8::new(PASS));
        let blanked = Arc::new(std::sync::Mutex::new(None));
        let m = mode.clone();
        let hold = move |path: &str, body: &str| {
            is_window(path, body) && m.load(Ordering::SeqCst) == STALL
        };
        let (m, b) = (mode.clone(), blanked.clone());
        let rewrite = move |path: &str, body: &str, status: u16, bytes: &mut Vec<u8>| {
            if !(is_window(path, body) && (200..300).contains(&status))
                || m.compare_exchange(BLANK_ONE_KEY, PASS, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
            {
                return;
            }
            let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            let results = if v.get("results").is_some() {
                "results"
            } else {
                "Results"
            };
            let row = &mut v[results][0];
            let key = (
                row["NetworkMessageId"].as_str().unwrap().to_string(),
                row["RecipientEmailAddress"].as_str().unwrap().to_string(),
            );
            row["NetworkMessageId"] = "".into();
            *b.lock().unwrap() = Some(key);
            *bytes = serde_json::to_vec(&v).unwrap();
        };
        let proxy = common::proxy::Proxy::start(upstream, Arc::new(hold), Arc::new(rewrite));
        Proxy {
            url: proxy.url.clone(),
            mode,
            blanked,
            _proxy: proxy,
        }
    }
}

/// A workspace whose profile reaches the simulator through `proxy`.
fn workspace_via(tag: &str, sim: &SimProcess, proxy: &Proxy) -> Workspace {
    let mut ws = Workspace::new(tag);
    ws.add_profile_via("sim", sim, &proxy.url);
    ws
}

fn stat(stats: &serde_json::Value, path: &[&str]) -> u64 {
    let mut v = stats;
    for p in path {
        v = &v[*p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("no {path:?} in the world's stats"))
}

#[test]
fn an_email_events_row_without_its_key_is_quarantined_not_merged() {
    let world = WorldFlags::small(1111);
    let stats = world.stats();
    let rows = stat(&stats, &["tables", "EmailEvents"]);
    let sim = SimProcess::start(&world, &[]);
    let proxy = Proxy::start(&sim.url);
    let ws = workspace_via("hunting-keys", &sim, &proxy);

    proxy.mode.store(BLANK_ONE_KEY, Ordering::SeqCst);
    let out = ws.refresh(&[]).expect_ok("a refresh with one key-less row");
    let (id, recipient) = proxy
        .blanked
        .lock()
        .unwrap()
        .clone()
        .expect("the proxy blanked one row");

    // Skipped and counted, for its source only.
    let summary = Summary::parse(&out);
    assert_eq!(summary.row("hunting:EmailEvents").received, rows, "{out}");
    assert!(
        out.contains(
            "rejected: hunting:EmailEvents: 1 records without their key or unreadable, kept aside; `whalewatch quarantine --source hunting:EmailEvents` lists them"
        ),
        "{out}"
    );
    assert_eq!(
        out.matches("rejected:").count(),
        1,
        "no other source rejects: {out}"
    );

    // Every other row is cached; none under an empty key.
    assert_eq!(ws.count("emails", &[]), rows - 1, "{out}");
    let keys = ws.ok(&[
        "query",
        "emails",
        "--format",
        "csv",
        "--columns",
        "NetworkMessageId,RecipientEmailAddress",
    ]);
    assert!(
        !keys
            .lines()
            .any(|l| l.starts_with(',') || l.starts_with("\"\",")),
        "no row with an empty key"
    );
    assert!(
        keys.lines().any(|l| l.contains(&recipient)),
        "the recipient's other mail is cached"
    );

    // Kept raw in the quarantine, the missing column named.
    let q = ws.ok(&[
        "quarantine",
        "--source",
        "hunting:EmailEvents",
        "--format",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_str(&q).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{q}");
    assert_eq!(list[0]["source"], "hunting:EmailEvents");
    let reason = list[0]["reason"].as_str().unwrap();
    assert!(reason.contains("NetworkMessageId"), "{reason}");
    assert!(!reason.contains("RecipientEmailAddress"), "{reason}");
    let raw: serde_json::Value = serde_json::from_str(list[0]["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["NetworkMessageId"], "");
    assert_eq!(
        raw["RecipientEmailAddress"].as_str().unwrap(),
        recipient.as_str()
    );
    assert!(!id.is_empty());

    // The next refresh starts after the window (its watermark moved): nothing new
    // is rejected, and the quarantined row stays listed.
    let out = ws.refresh(&[]).expect_ok("the next refresh");
    assert!(!out.contains("rejected:"), "{out}");
    assert_eq!(ws.count("emails", &[]), rows - 1, "{out}");
    let q = ws.ok(&["quarantine", "--source", "hunting:EmailEvents"]);
    assert_eq!(q.lines().count(), 1, "{q}");
}

#[test]
fn a_refresh_over_its_budget_exits_3_keeps_what_it_committed_and_the_next_completes() {
    let world = WorldFlags::small(1112);
    let stats = world.stats();
    let sim = SimProcess::start(&world, &[]);
    let proxy = Proxy::start(&sim.url);
    let ws = workspace_via("hunting-budget", &sim, &proxy);

    // `EmailEvents` windows never answer: the budget ends the refresh.
    proxy.mode.store(STALL, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let r = ws.refresh(&["--budget", "15s"]);
    let took = started.elapsed();
    assert_eq!(r.code, Some(3), "a budget-stopped refresh exits 3: {r:#?}");
    assert!(
        took < Duration::from_secs(60),
        "stopped at its budget, not by a timeout: {took:?}"
    );
    assert!(
        r.stderr.contains("the refresh budget of 15s ran out"),
        "{r:#?}"
    );
    assert!(
        r.stdout
            .contains("warning: the refresh budget of 15s ran out"),
        "{r:#?}"
    );
    let summary = Summary::parse(&r.stdout);
    assert!(
        !summary
            .rows
            .iter()
            .any(|s| s.source == "hunting:EmailEvents"),
        "EmailEvents did not finish: {r:#?}"
    );
    // What finished before the stall is committed and kept.
    for source in ["directory", "alerts", "incidents"] {
        summary.row(source);
    }
    assert_eq!(ws.count("alerts", &[]), stat(&stats, &["alerts"]));
    assert_eq!(ws.count("users", &[]), stat(&stats, &["users"]));
    assert_eq!(ws.count("emails", &[]), 0);

    // The endpoint answers again: the next refresh completes.
    proxy.mode.store(PASS, Ordering::SeqCst);
    let out = ws
        .refresh(&["--budget", "600s"])
        .expect_ok("the next refresh");
    let summary = Summary::parse(&out);
    assert_eq!(
        summary.row("hunting:EmailEvents").new,
        stat(&stats, &["tables", "EmailEvents"]),
        "{out}"
    );
    assert_eq!(
        ws.count("emails", &[]),
        stat(&stats, &["tables", "EmailEvents"])
    );
    assert_eq!(ws.count("alerts", &[]), stat(&stats, &["alerts"]));
}
