//! `whalewatch posture` as a user runs it: the real binary against `whalewatch sim
//! serve` on loopback. On a cache refreshed without posture sources every check is unknown,
//! every source is named with what to do, and `--fail-on` gates on the verdicts; with
//! the simulator's posture sources and its Exchange snapshot imported, every priority
//! account gets the verdict `sim stats` expects.

mod common;

use std::collections::BTreeSet;

use common::refresh::{SimProcess, Workspace, WorldFlags};
use serde_json::Value;

fn workspace(tag: &str, sim: &SimProcess) -> Workspace {
    let mut ws = Workspace::new(tag);
    ws.add_sim_profile("sim", sim);
    ws.refresh(&[]).expect_ok("refresh");
    ws
}

fn vips(world: &WorldFlags) -> BTreeSet<String> {
    world
        .vips()
        .lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn without_posture_sources_every_check_is_unknown_and_each_source_says_what_to_do() {
    let world = WorldFlags::small(1301);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("posture-missing");
    ws.add_sim_profile("sim", &sim);
    // Everything but the posture sources (the simulator serves them all).
    for only in ["directory", "alerts", "incidents", "EmailEvents", "tags"] {
        ws.refresh(&["--only", only]).expect_ok("refresh");
    }

    let run = ws.run(&["posture", "--format", "json"]);
    assert!(run.ok, "{run:#?}");
    let rows: Vec<Value> = serde_json::from_str(&run.stdout).expect("a JSON array");
    let accounts: BTreeSet<String> = rows
        .iter()
        .map(|r| r["account"].as_str().expect("account").to_string())
        .collect();
    assert_eq!(accounts.len(), rows.len(), "one row per account");
    assert!(!rows.is_empty());
    // Every row is a priority account of the world (by UPN or mail).
    let vips = vips(&world);
    assert!(
        rows.len() <= vips.len(),
        "{} rows for {} VIPs",
        rows.len(),
        vips.len()
    );
    for r in &rows {
        assert_eq!(r["verdict"], "warn", "unknown never passes: {r}");
        assert_eq!(r["failing"], serde_json::json!([]));
        assert_eq!(r["unknown"].as_array().map(Vec::len), Some(9), "{r}");
    }
    for want in [
        "conditional-access not refreshed yet — run `whalewatch refresh`",
        "exchange-snapshot not imported — run assets/Get-WhalewatchExchangeSnapshot.ps1, then `whalewatch posture import FILE`",
    ] {
        assert!(
            run.stderr.contains(want),
            "stderr lacks {want:?}:\n{}",
            run.stderr
        );
    }

    let gate = ws.run(&["posture", "--fail-on", "warn"]);
    assert_eq!(gate.code, Some(3), "{gate:#?}");
    assert!(
        gate.stdout.contains("Secure Score unknown"),
        "{}",
        gate.stdout
    );
    let gate = ws.run(&["posture", "--fail-on", "fail", "--format", "csv"]);
    assert_eq!(gate.code, Some(0), "{gate:#?}");
    assert!(
        gate.stdout.starts_with("Account,Verdict,Failing,MFA,CA,"),
        "{}",
        gate.stdout
    );
}

#[test]
fn every_priority_account_gets_the_verdict_sim_stats_expects() {
    posture_matches_sim_stats("posture-truth", &[]);
}

/// Throttling, server errors, cut bodies and expired tokens change nothing: the
/// retried refresh reaches the same verdicts.
#[test]
fn through_faults_every_verdict_is_still_the_one_sim_stats_expects() {
    posture_matches_sim_stats(
        "posture-faults",
        &[
            "--faults",
            "429:0.1,500:0.03,503:0.02,truncate:0.02,expire-token:0.02",
            "--fault-retry-after",
            "0.01",
        ],
    );
}

/// Refresh, import the simulator's Exchange snapshot, refresh again (the VIPs it adds
/// are read), then `posture --format json` must match `sim stats` account by account.
fn posture_matches_sim_stats(tag: &str, sim_args: &[&str]) {
    let world = WorldFlags::small_now(1302);
    let sim = SimProcess::start(&world, sim_args);
    let ws = workspace(tag, &sim);
    let snapshot = ws.dir.path().join("exchange.json");
    let mut args = vec!["sim".to_string(), "exchange-snapshot".to_string()];
    args.extend(world.args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let json = ws.ok(&args);
    std::fs::write(&snapshot, json).expect("write snapshot");
    ws.ok(&["posture", "import", snapshot.to_str().expect("utf-8 path")]);
    // The snapshot's VIP list adds priority accounts: until a refresh reads their
    // registrations, sign-ins and memberships, those checks are unknown.
    let before: Vec<Value> =
        serde_json::from_str(&ws.ok(&["posture", "--format", "json"])).expect("a JSON array");
    assert!(
        before.iter().any(|r| r["unknown"]
            .as_array()
            .is_some_and(|u| u.iter().any(|c| c == "mfa"))),
        "accounts added by the import are not judged from absent records"
    );
    ws.refresh(&[]).expect_ok("refresh after the import");

    let out = ws.ok(&["posture", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).expect("a JSON array");
    let truth = world.stats()["posture"].clone();
    let truth = truth.as_object().expect("sim stats has posture");
    assert_eq!(rows.len(), truth.len(), "one row per priority account");
    for r in &rows {
        let upn = r["account"].as_str().expect("account");
        let want = &truth[upn];
        assert_eq!(r["verdict"], want["verdict"], "{upn}");
        assert_eq!(r["failing"], want["failing"], "{upn}");
    }
    let gate = ws.run(&["posture", "--fail-on", "fail"]);
    assert_eq!(
        gate.code,
        Some(3),
        "the world plants failing accounts: {gate:#?}"
    );
}

/// Without `Policy.Read.All` the refresh still succeeds: Conditional Access is
/// unavailable (named with the permission), its checks unknown, everything else judged.
#[test]
fn a_profile_without_policy_read_all_shows_conditional_access_unavailable() {
    let world = WorldFlags::small_now(1303);
    let sim = SimProcess::start(&world, &["--deny-role", "Policy.Read.All"]);
    let mut ws = Workspace::new("posture-deny");
    ws.add_sim_profile("sim", &sim);
    let run = ws.refresh(&[]);
    assert!(
        run.ok,
        "the refresh succeeds without Policy.Read.All: {run:#?}"
    );
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("Policy.Read.All"),
        "the refresh names the permission: {run:#?}"
    );
    let run = ws.run(&["posture", "--format", "json"]);
    assert!(run.ok, "{run:#?}");
    assert!(
        run.stderr.contains("conditional-access unavailable")
            && run.stderr.contains("Policy.Read.All"),
        "{}",
        run.stderr
    );
    let rows: Vec<Value> = serde_json::from_str(&run.stdout).expect("a JSON array");
    assert!(!rows.is_empty());
    for r in &rows {
        let unknown = r["unknown"].as_array().expect("unknown");
        assert!(
            unknown.contains(&"ca-mfa".into()) && unknown.contains(&"ca-legacy".into()),
            "{r}"
        );
        let mfa = r["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == "mfa"))
            .expect("the mfa check");
        assert_ne!(mfa["status"], "unknown", "other sources still judge: {r}");
    }
}
