//! Triage as a user drives it: the real binary against `whalewatch sim serve` on
//! loopback. Three alerts resolved as true positive / phishing with a comment; a
//! campaign's inboxed messages remediated after the typed count (a wrong count
//! cancels); a read-only session that sends no write; the journal lists every write;
//! and `kill -9` in the middle of a flush on a faulty simulator, then a restart:
//! every write arrives exactly once.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::refresh::{KillOnDrop, SimProcess, Workspace, WorldFlags, wait_until};
use common::triage::{
    api_of, comments_with, requests, succeeded, tenant_alert, token, workspace, writes,
};
use common::{Api, Reply};
use serde_json::Value;

fn api(sim: &SimProcess) -> Api {
    api_of(&sim.url, &sim.tenant, &sim.client_id, &sim.client_secret)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// The first `n` alert ids the cache lists.
fn alert_ids(ws: &Workspace, n: usize) -> Vec<String> {
    let csv = ws.ok(&["query", "alerts", "--format", "csv", "--columns", "Id"]);
    let ids: Vec<String> = csv.lines().skip(1).take(n).map(str::to_string).collect();
    assert_eq!(ids.len(), n, "the world has {n} alerts: {csv}");
    ids
}

#[test]
fn three_alerts_resolved_as_phishing_with_a_comment_reach_the_tenant_and_the_journal() {
    let world = WorldFlags::small(701);
    let sim = SimProcess::start(&world, &[]);
    let ws = workspace("triage-set", &sim);
    let ids = alert_ids(&ws, 3);
    let comment = "Phish wave; sender blocked at the gateway";
    let mut args = vec!["alert", "set"];
    args.extend(ids.iter().map(String::as_str));
    args.extend([
        "--status",
        "resolved",
        "--classification",
        "truePositive",
        "--determination",
        "phishing",
        "--comment",
        comment,
    ]);
    let out = ws.ok(&args);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": sent")).count(),
        6,
        "{out}"
    );

    let api = api(&sim);
    let rt = runtime();
    let token = rt.block_on(api.token());
    for id in &ids {
        let a = rt.block_on(tenant_alert(&api, &token, id));
        assert_eq!(a["status"], "resolved");
        assert_eq!(a["classification"], "truePositive");
        assert_eq!(a["determination"], "phishing");
        assert_eq!(comments_with(&a, comment), 1, "{a}");
    }
    // The cache shows it too, with nothing pending.
    let cached: Value =
        serde_json::from_str(&ws.ok(&["query", "alerts", "--format", "json"])).unwrap();
    for id in &ids {
        let a = cached
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id.as_str())
            .unwrap();
        assert_eq!(a["status"], "resolved");
    }
    assert!(ws.ok(&["alert", "outbox"]).contains("empty"));

    // A pair the service does not document is refused before anything is queued.
    let bad = ws.run(&[
        "alert",
        "set",
        &ids[0],
        "--classification",
        "falsePositive",
        "--determination",
        "phishing",
    ]);
    assert!(!bad.ok && bad.stderr.contains("notMalicious"), "{bad:#?}");

    let journal: Value =
        serde_json::from_str(&ws.ok(&["journal", "--since", "24h", "--format", "json"])).unwrap();
    let sent: Vec<&Value> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["result"] == "sent")
        .collect();
    assert_eq!(sent.len(), 6, "{journal:#}");
    for j in &sent {
        assert_eq!(j["analyst"], "analyst@contoso.example");
        assert!(ids.iter().any(|id| j["target"] == id.as_str()));
    }
    // A note shows in the alert's export and in the journal.
    ws.ok(&[
        "note",
        "add",
        "alert",
        &ids[0],
        "sender",
        "blocked",
        "tenant-wide",
    ]);
    let exported: Value =
        serde_json::from_str(&ws.ok(&["query", "alerts", "--format", "json"])).unwrap();
    let noted = exported
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ids[0].as_str())
        .unwrap();
    assert_eq!(noted["notes"][0]["text"], "sender blocked tenant-wide");
    assert_eq!(noted["notes"][0]["analyst"], "analyst@contoso.example");

    let md = ws.ok(&["journal"]);
    assert!(md.starts_with("| time | analyst |"), "{md}");
    assert_eq!(md.matches("| sent |").count(), 6, "{md}");
    assert_eq!(md.matches("| recorded |").count(), 1, "{md}");
}

/// A campaign with at least two messages still in an inbox, and that count.
fn inboxed_campaign(ws: &Workspace) -> (String, u64) {
    let campaigns: Value =
        serde_json::from_str(&ws.ok(&["query", "campaigns", "--format", "json"])).unwrap();
    let mut best = (String::new(), 0);
    for c in campaigns.as_array().unwrap() {
        let id = c["id"]
            .as_str()
            .or(c["CampaignId"].as_str())
            .unwrap_or_default();
        if id.is_empty() {
            continue;
        }
        let n = ws.count("emails", &[&format!("campaign:{id}"), "location:inbox"]);
        if n > best.1 {
            best = (id.to_string(), n);
        }
    }
    assert!(
        best.1 >= 2,
        "a campaign with inboxed messages: {campaigns:#}"
    );
    best
}

#[test]
fn a_campaigns_inboxed_messages_move_after_the_typed_count_and_a_wrong_count_cancels() {
    // Dense enough that campaigns have several messages, some still in inboxes.
    let world = WorldFlags {
        emails_per_day: 2_000,
        ..WorldFlags::small(7)
    };
    let sim = SimProcess::start(&world, &[]);
    let ws = workspace("triage-remediate", &sim);
    let (campaign, n) = inboxed_campaign(&ws);
    let filter = format!("campaign:{campaign}");
    let wrong = (n + 1).to_string();
    let cancelled = ws.run(&[
        "remediate",
        "--action",
        "moveToDeletedItems",
        &filter,
        "location:inbox",
        "--yes",
        &wrong,
    ]);
    assert!(!cancelled.ok, "{cancelled:#?}");
    assert!(
        cancelled.stdout.contains(&format!("Type {n} to confirm")),
        "{cancelled:#?}"
    );
    assert!(
        cancelled.stderr.contains("cancelled") && cancelled.stderr.contains("nothing was sent"),
        "{cancelled:#?}"
    );
    let api = api(&sim);
    let rt = runtime();
    assert_eq!(
        succeeded(&rt.block_on(requests(&api)), "POST", "/remediate"),
        0,
        "a wrong count sends nothing"
    );

    let out = ws.ok(&[
        "remediate",
        "--action",
        "moveToDeletedItems",
        &filter,
        "location:inbox",
        "--yes",
        &n.to_string(),
    ]);
    assert!(
        out.contains("Action center: https://security.microsoft.com/action-center/"),
        "{out}"
    );
    assert_eq!(
        out.matches("now: Deleted items  done").count() as u64,
        n,
        "{out}"
    );
    assert_eq!(
        succeeded(&rt.block_on(requests(&api)), "POST", "/remediate"),
        1
    );
    // The tenant's latest delivery location moved (read through advanced hunting)...
    let token = rt.block_on(api.token());
    let r: Reply = rt.block_on(api.hunt(
        &token,
        &format!(
            "EmailEvents | where NetworkMessageId in ((CampaignInfo | where CampaignId == \"{campaign}\" | project NetworkMessageId)) | summarize n = count() by LatestDeliveryLocation"
        ),
        None,
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let inbox = r.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["LatestDeliveryLocation"] == "Inbox/folder")
        .count();
    assert_eq!(inbox, 0, "{}", r.json);
    // ...and so did the cache, without a refresh.
    assert_eq!(ws.count("emails", &[&filter, "location:inbox"]), 0);
    let journal = ws.ok(&["journal", "--format", "csv"]);
    assert!(
        journal.contains(",remediate,messages,") && journal.contains(",cancelled,"),
        "{journal}"
    );
    assert!(journal.contains("Action center: https://"), "{journal}");
}

#[test]
fn a_read_only_session_sends_no_write() {
    let world = WorldFlags::small(703);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("triage-ro");
    ws.add_sim_profile("sim", &sim);
    ws.run(&[
        "--read-only",
        "refresh",
        "--hunting-calls-per-minute",
        "100000",
    ])
    .expect_ok("read-only refresh");
    let ids = alert_ids(&ws, 2);
    ws.ok(&["--read-only", "query", "emails", "--count"]);
    ws.ok(&[
        "--read-only",
        "query",
        "emails",
        "threat:phish",
        "--remote",
        "--count",
    ]);
    let set = ws.run(&[
        "--read-only",
        "alert",
        "set",
        &ids[0],
        &ids[1],
        "--status",
        "resolved",
        "--comment",
        "never sent",
    ]);
    assert!(!set.ok && set.stderr.contains("read-only"), "{set:#?}");
    let rem = ws.run(&[
        "--read-only",
        "remediate",
        "--action",
        "hardDelete",
        "location:inbox",
        "--yes",
        "1",
    ]);
    assert!(!rem.ok && rem.stderr.contains("read-only"), "{rem:#?}");
    assert!(!ws.run(&["--read-only", "alert", "flush"]).ok);
    ws.ok(&[
        "--read-only",
        "note",
        "add",
        "alert",
        &ids[0],
        "local notes are allowed",
    ]);
    assert!(
        ws.ok(&["alert", "outbox"]).contains("empty"),
        "nothing was queued"
    );

    // The profile setting does the same as the flag.
    ws.append_config("read_only = true");
    let set = ws.run(&["alert", "set", &ids[0], "--status", "resolved"]);
    assert!(
        !set.ok && set.stderr.contains("read_only = true"),
        "{set:#?}"
    );

    let log = runtime().block_on(requests(&api(&sim)));
    assert!(log.iter().any(|(_, p, _)| p.ends_with("/runHuntingQuery")));
    assert_eq!(writes(&log), Vec::new(), "only token and hunting POSTs");
}

#[cfg(unix)]
#[test]
fn a_flush_killed_mid_way_on_a_faulty_tenant_delivers_every_write_exactly_once() {
    let world = WorldFlags::small(704);
    // Faults on every kind of request, and each answer 150 ms late so the kill lands
    // mid-flush.
    let sim = SimProcess::start(
        &world,
        &[
            "--faults",
            "429:0.1,500:0.1,503:0.05,slow:0.5",
            "--slow-ms",
            "150",
            "--fault-retry-after",
            "0.05",
        ],
    );
    let ws = workspace("triage-kill", &sim);
    let ids = alert_ids(&ws, 6);
    let comment = "exactly once, please";
    let mut args = vec!["alert", "set"];
    args.extend(ids.iter().map(String::as_str));
    args.extend([
        "--status",
        "resolved",
        "--classification",
        "truePositive",
        "--determination",
        "phishing",
        "--comment",
        comment,
    ]);
    let api = api(&sim);
    let rt = runtime();
    let mut child = KillOnDrop(
        ws.command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("alert set starts"),
    );
    // Kill once the tenant has accepted some writes but not all of them.
    assert!(
        wait_until(Duration::from_secs(60), || {
            let log = rt.block_on(requests(&api));
            succeeded(&log, "PATCH", "") + succeeded(&log, "POST", "/comments") >= 3
        }),
        "the flush starts writing"
    );
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL mid-flush");
    }
    let log = rt.block_on(requests(&api));
    assert!(
        succeeded(&log, "PATCH", "") + succeeded(&log, "POST", "/comments") < 12,
        "the kill landed before the end of the flush"
    );

    // Restart: flush until the outbox is empty (each run retries with backoff).
    let mut runs = 0;
    while !ws.ok(&["alert", "outbox"]).contains("empty") {
        runs += 1;
        assert!(
            runs <= 10,
            "the outbox never drained: {}",
            ws.ok(&["alert", "outbox"])
        );
        let _ = ws.run(&["alert", "flush"]);
    }

    let log = rt.block_on(requests(&api));
    let token = rt.block_on(token(&api));
    for id in &ids {
        let path = format!("/security/alerts_v2/{id}");
        assert_eq!(
            succeeded(&log, "PATCH", &path),
            1,
            "one accepted PATCH of {id}"
        );
        assert_eq!(
            succeeded(&log, "POST", &format!("{path}/comments")),
            1,
            "one accepted comment on {id}"
        );
        let a = rt.block_on(tenant_alert(&api, &token, id));
        assert_eq!(comments_with(&a, comment), 1, "{a}");
        assert_eq!(a["status"], "resolved");
        assert_eq!(a["determination"], "phishing");
    }
    let journal: Value = serde_json::from_str(&ws.ok(&["journal", "--format", "json"])).unwrap();
    let sent = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["result"] == "sent")
        .count();
    assert_eq!(sent, 12, "{journal:#}");
}
