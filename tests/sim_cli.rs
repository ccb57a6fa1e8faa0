//! The real `whalewatch` binary: `--version`, `--help`, `sim stats`, `sim vips`,
//! flag errors, and `sim serve` answering a hunting query with its banner's
//! credentials.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Api, Reply, small_world};
use reqwest::StatusCode;
use serde_json::Value;
use whalewatch::sim::World;
use whalewatch::sim::stats::WorldStats;

const BIN: &str = env!("CARGO_BIN_EXE_whalewatch");
const WORLD_FLAGS: &[&str] = &[
    "--seed",
    "51",
    "--now",
    "2026-11-01T00:00:00Z",
    "--users",
    "60",
    "--days",
    "3",
    "--emails-per-day",
    "300",
];

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn sim(sub: &str, extra: &[&str]) -> Output {
    let mut args = vec!["sim", sub];
    args.extend_from_slice(WORLD_FLAGS);
    args.extend_from_slice(extra);
    run(&args)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}; stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Kills and reaps the child when dropped, so a failing assertion leaks nothing.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn version_and_help() {
    let out = stdout(&run(&["--version"]));
    assert_eq!(
        out.trim(),
        format!("whalewatch {}", env!("CARGO_PKG_VERSION"))
    );
    let help = stdout(&run(&["--help"]));
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("whalewatch sim serve"), "{help}");
    assert!(help.contains("sim"), "{help}");
    let help = stdout(&run(&["sim", "serve", "--help"]));
    for flag in ["--listen", "--faults", "--max-rows", "--deny-role"] {
        assert!(help.contains(flag), "sim serve --help lacks {flag}");
    }
}

#[test]
fn stats_match_the_library() {
    let out = stdout(&sim("stats", &[]));
    let got: Value = serde_json::from_str(&out).expect("stats is JSON");
    let world = World::generate(&small_world(51)).unwrap();
    let want = serde_json::to_value(WorldStats::of(&world)).unwrap();
    assert_eq!(got, want);
    assert_eq!(got["seed"], 51);
    assert_eq!(got["now"], "2026-11-01T00:00:00Z");
}

#[test]
fn vips_are_priority_accounts_and_stable() {
    let first = stdout(&sim("vips", &[]));
    let second = stdout(&sim("vips", &[]));
    assert_eq!(first, second);
    let world = World::generate(&small_world(51)).unwrap();
    let stats = WorldStats::of(&world);
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), stats.priority_accounts);
    assert!(!lines.is_empty() && lines.len() <= 250);
    for l in &lines {
        assert!(l.ends_with("@contoso.com") && !l.contains(' '), "{l:?}");
    }
    assert_eq!(first, world.vip_list());
}

#[test]
fn bad_flags_fail_with_a_clear_message() {
    for (args, needle) in [
        (vec!["sim", "stats", "--users", "5"], "--users"),
        (vec!["sim", "vips", "--now", "yesterday"], "RFC 3339"),
        (vec!["sim", "serve", "--faults", "418:1"], "418"),
        (vec!["sim", "serve", "--faults", "429:2"], "rate"),
        (vec!["sim", "stats", "--days", "0"], "--days"),
        (vec!["sim", "frobnicate"], "frobnicate"),
    ] {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(o.stdout.is_empty(), "{args:?} printed to stdout");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let o = sim("serve", &["--users", "5", "--listen", "127.0.0.1:0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--users"));
}

/// Starts `sim serve` and returns it with its banner line.
fn serve(extra: &[&str]) -> (KillOnDrop, String) {
    let mut args = vec!["sim", "serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(WORLD_FLAGS);
    args.extend_from_slice(extra);
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sim serve starts"),
    );
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("a banner line");
    (child, line)
}

fn banner_field<'a>(banner: &'a str, key: &str) -> &'a str {
    banner
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("banner lacks {key}: {banner}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_prints_its_banner_and_answers_with_its_credentials() {
    let stats: Value = serde_json::from_str(&stdout(&sim("stats", &[]))).unwrap();
    let (_child, banner) = serve(&[]);
    assert!(
        banner.starts_with("whalewatch-sim url=http://127.0.0.1:"),
        "{banner:?}"
    );
    assert!(banner.ends_with('\n'));
    let api = Api {
        base: banner_field(&banner, "url").to_string(),
        tenant: banner_field(&banner, "tenant").to_string(),
        client_id: banner_field(&banner, "client_id").to_string(),
        client_secret: banner_field(&banner, "client_secret").to_string(),
        http: common::http(),
    };
    assert_eq!(api.tenant, stats["tenant_id"]);
    let token = api.token().await;
    let r: Reply = api.hunt(&token, "EmailEvents | count", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["results"][0]["Count"],
        stats["tables"]["EmailEvents"]
    );
    let users = api.page_all(&token, "/v1.0/users", &[("$top", "25")]).await;
    assert_eq!(users.len() as u64, stats["users"].as_u64().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_flags_reach_the_server() {
    let (_child, banner) = serve(&[
        "--client-id",
        "11111111-2222-3333-4444-555555555555",
        "--client-secret",
        "s3cret",
        "--max-rows",
        "10",
        "--deny-role",
        "User.Read.All",
    ]);
    assert_eq!(
        banner_field(&banner, "client_id"),
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(banner_field(&banner, "client_secret"), "s3cret");
    let api = Api {
        base: banner_field(&banner, "url").to_string(),
        tenant: "contoso.onmicrosoft.com".to_string(),
        client_id: "11111111-2222-3333-4444-555555555555".to_string(),
        client_secret: "s3cret".to_string(),
        http: common::http(),
    };
    let token = api.token().await;
    let r = api.hunt(&token, "EmailEvents | take 11", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.graph_error().1.contains("Result size limit exceeded"));
    let r = api.get(&token, "/v1.0/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan1_serves_an_empty_campaign_info() {
    let count = |args: &'static [&'static str]| async move {
        let (_child, banner) = serve(args);
        let api = Api {
            base: banner_field(&banner, "url").to_string(),
            tenant: "contoso.onmicrosoft.com".to_string(),
            client_id: banner_field(&banner, "client_id").to_string(),
            client_secret: banner_field(&banner, "client_secret").to_string(),
            http: common::http(),
        };
        let token = api.token().await;
        let r = api.hunt(&token, "CampaignInfo | count", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["results"][0]["Count"].as_u64().expect("Count")
    };
    assert!(count(&[]).await > 0, "Plan 2: Campaign Views");
    assert_eq!(count(&["--plan1"]).await, 0, "Plan 1: no Campaign Views");
}
