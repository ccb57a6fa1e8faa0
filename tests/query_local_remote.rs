//! The local engine and advanced hunting answer the same filter the same way: a real
//! simulator, a real refresh into a temporary cache, then for a corpus covering every
//! email field (and the alert, campaign and user fields that exist remotely), the
//! in-memory index's count equals the count of the compiled KQL run through
//! `runHuntingQuery`; a few frequency tables agree value by value. The CLI is driven
//! through the real binary for counts, pivots, histograms, `kql`, exports and errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Api, now, start};
use whalewatch::cache::{Cache, cache_file};
use whalewatch::config::{Profile, TagDef};
use whalewatch::query::index::entities::{AlertIndex, CampaignIndex, UserIndex};
use whalewatch::query::index::{Column, EmailIndex, TagTable};
use whalewatch::query::{Entity, compile, parse};
use whalewatch::sim::server::{SimConfig, SimServer};
use whalewatch::sim::{World, WorldParams};

const SEED: u64 = 4242;

fn world_params() -> WorldParams {
    WorldParams {
        seed: SEED,
        now: now(),
        users: 60,
        days: 3,
        emails_per_day: 400,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ww-qlr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn profile(server: &SimServer, secret_env: &str, finance: Vec<String>) -> Profile {
    Profile {
        tags: vec![
            TagDef {
                name: "Finance".into(),
                members: finance,
                ..TagDef::default()
            },
            TagDef {
                name: "Empty".into(),
                ..TagDef::default()
            },
        ],
        ..whalewatch::demo::signed_in(server, secret_env)
    }
}

async fn server() -> SimServer {
    let mut config = SimConfig::new(world_params());
    config.hunting_calls_per_minute = 100_000;
    start(config).await
}

fn finance(w: &World) -> Vec<String> {
    w.directory
        .in_department("Finance")
        .into_iter()
        .map(|u| w.directory.users[u as usize].upn.to_string())
        .collect()
}

/// Refreshes the simulator into a cache at `path` through the library.
async fn refresh_into(path: &Path, profile: &Profile) {
    let dir = path.parent().unwrap();
    let client = whalewatch::sync::connect::graph_client("t", profile, dir, true).unwrap();
    let cache = Cache::open(path).unwrap();
    let options = whalewatch::sync::RefreshOptions {
        hunting_calls_per_minute: 100_000,
        ..Default::default()
    };
    whalewatch::sync::refresh(&client, cache, profile, &options, &|_| {})
        .await
        .unwrap();
}

async fn remote_count(api: &Api, token: &str, kql: &str) -> usize {
    let r = api.hunt(token, kql, None).await;
    assert_eq!(r.status, 200, "{kql}\n→ {}", r.text);
    r.json["results"][0]["Count"].as_u64().expect("Count") as usize
}

#[tokio::test(flavor = "multi_thread")]
async fn local_and_remote_counts_agree_for_every_field() {
    let world = World::generate(&world_params()).unwrap();
    let w = &world;
    let server = server().await;
    // SAFETY: this test's own variable, set before the refresh reads it.
    unsafe { std::env::set_var("WW_QLR_SECRET", &server.client_secret) };
    let dir = temp_dir("lib");
    let path = dir.join("t.sqlite");
    refresh_into(&path, &profile(&server, "WW_QLR_SECRET", finance(w))).await;
    let cache = Cache::open_read_only(&path).unwrap();
    let index = EmailIndex::build(&cache).unwrap();
    let tags = TagTable::load(&cache).unwrap();
    let api = Api::of(&server);
    let token = api.token().await;
    let now = now();

    // Values from the world so ID-like fields find something.
    let camp = &w.campaigns[0];
    let camp_word = w.s(camp.name).split(' ').next().unwrap().to_string();
    let url_domain = w
        .s(w.urls.iter().find(|u| u.malicious).unwrap().domain)
        .to_string();
    let sha = w
        .s(w.attachments.iter().find(|a| a.malicious).unwrap().sha256)
        .to_string();
    let alert = w
        .alerts
        .iter()
        .find(|a| {
            a.evidence
                .iter()
                .any(|e| matches!(e, whalewatch::sim::world::Evidence::Message { .. }))
        })
        .unwrap();
    // The first message with a sender IP (intra-org mail has none).
    let row0 = w
        .rows
        .iter()
        .find(|r| !w.s(w.message_of(r).ip).is_empty())
        .unwrap();
    let m0 = w.message_of(row0);
    let from0 = w.s(w.parties[m0.from as usize].address).to_string();
    let to0 = w.s(w.parties[row0.recipient as usize].address).to_string();
    let ip = w.s(m0.ip).to_string();
    let ip_prefix = format!("{}*", &ip[..ip.rfind('.').unwrap() + 1]);
    let sender_domain = w.s(w.parties[m0.from as usize].domain).to_string();
    let display = w.s(w.parties[m0.from as usize].display_name).to_string();
    let display_word = display.split(' ').next().unwrap().to_string();
    let subject_word = w
        .s(m0.subject)
        .split(' ')
        .max_by_key(|s| s.len())
        .unwrap()
        .to_string();
    let mail_from = format!("*@{}", w.s(m0.mail_from).rsplit_once('@').unwrap().1);
    let imid = w.internet_message_id(row0.message);

    let corpus: Vec<String> = vec![
        format!("from:{from0}"),
        format!("from:{}", from0.to_uppercase()),
        format!("sender-domain:{sender_domain}"),
        format!("display-name:\"{display_word}\""),
        format!("mail-from:{mail_from}"),
        format!("to:{to0}"),
        "recipient-domain:contoso.com".into(),
        "recipient-domain:*.com -recipient-domain:contoso*".into(),
        format!("subject:\"{subject_word}\""),
        "tag:finance".into(),
        "tag:Empty".into(),
        "is:priority".into(),
        "is:priority threat:phish,malware".into(),
        "threat:none".into(),
        "threat:spam".into(),
        "detection:url-malicious-reputation OR detection:\"File reputation\"".into(),
        "delivery:junked,blocked".into(),
        "location:quarantine".into(),
        "original-location:inbox -location:inbox".into(),
        "direction:intraorg".into(),
        "direction:outbound".into(),
        "context:priority".into(),
        "context:none".into(),
        format!("campaign:{camp_word}"),
        format!("campaign:{}", camp.id),
        format!("cluster:{}", m0.cluster),
        "url:/owa/".into(),
        format!("url-domain:{url_domain}"),
        "url-domain:*.top,*.xyz".into(),
        "attachment:*.pdf,*.docx".into(),
        "attachment:*.html OR attachment:*.htm".into(),
        format!("sha256:{sha}"),
        format!("ip:{ip_prefix}"),
        format!("alert:{}", alert.id),
        format!("nmid:{}", m0.id),
        format!("imid:\"{imid}\""),
        "spf:fail OR dmarc:fail".into(),
        "dkim:pass compauth:pass".into(),
        "compauth:fail,softpass".into(),
        "bcl:>=7".into(),
        "-bcl:>=7".into(),
        "size:>100000".into(),
        "size:<=0".into(),
        "clicked:yes".into(),
        "clicked:no threat:phish".into(),
        "zap:yes".into(),
        "-zap:yes threat:phish,malware".into(),
        "rule:\"transport rule\" OR rule:\"Allow/Block\"".into(),
        "policy:antimalware".into(),
        format!("language:{}", w.s(m0.language)),
        "since:1d".into(),
        "until:2026-10-30".into(),
        "between:2026-10-30..2026-10-30".into(),
        "since:2026-10-31T12:00:00Z until:2026-11-01".into(),
        format!("\"{subject_word}\" OR invoice"),
        "(threat:phish OR threat:malware) -(location:quarantine OR delivery:blocked)".into(),
        "NOT (is:priority OR tag:finance) clicked:yes".into(),
        "threat:phish -threat:phish".into(),
        "threat:phish OR -threat:phish".into(),
        String::new(),
    ];
    assert!(corpus.len() >= 30);
    let mut failures = Vec::new();
    let mut nonzero = 0;
    for text in &corpus {
        let filter = parse(Entity::Emails, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let local = index.eval(&filter, now).unwrap().count();
        let q = compile(Entity::Emails, &filter, &tags, now).unwrap();
        let remote = remote_count(&api, &token, &q.count()).await;
        if local != remote {
            failures.push(format!(
                "{text}: local {local}, remote {remote}\n{}",
                q.count()
            ));
        }
        nonzero += usize::from(local > 0 && local < index.len());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        nonzero >= 40,
        "the corpus should mostly select something: {nonzero}"
    );

    // Frequency tables agree value by value.
    for (text, col) in [
        ("threat:phish,spam", "SenderFromDomain"),
        ("", "LatestDeliveryLocation"),
        ("is:priority OR tag:finance", "ThreatTypes"),
        ("-location:inbox", "BulkComplaintLevel"),
    ] {
        let filter = parse(Entity::Emails, text).unwrap();
        let rows = index.eval(&filter, now).unwrap();
        let local = index.frequency(&rows, Column::parse(col).unwrap());
        let q = compile(Entity::Emails, &filter, &tags, now).unwrap();
        let r = api.hunt(&token, &q.frequency(col).unwrap(), None).await;
        let mut remote: Vec<(String, usize)> = r.json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let v = match &row[col] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (v, row["Count"].as_u64().unwrap() as usize)
            })
            .collect();
        remote.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let local: Vec<(String, usize)> = local
            .rows
            .iter()
            .map(|r| (r.value.clone(), r.count))
            .collect();
        assert_eq!(local, remote, "{text} by {col}");
    }

    // Alerts, campaigns and users: the fields advanced hunting has.
    let alerts = AlertIndex::load(&cache).unwrap();
    let campaigns = CampaignIndex::load(&cache).unwrap();
    let users = UserIndex::load(&cache, &tags).unwrap();
    let others: Vec<(Entity, &str)> = vec![
        (Entity::Alerts, "severity:high"),
        (Entity::Alerts, "severity:informational,low"),
        (Entity::Alerts, "title:\"malicious URL\""),
        (Entity::Alerts, "source:mdo"),
        (Entity::Alerts, "is:priority OR tag:finance"),
        (Entity::Alerts, "removed"),
        (Entity::Campaigns, "type:phish"),
        (Entity::Campaigns, "name:credential"),
        (Entity::Campaigns, "is:priority"),
        (Entity::Campaigns, "-tag:finance"),
        (Entity::Users, "department:finance"),
        (Entity::Users, "is:priority"),
        (Entity::Users, "upn:*@contoso.com -tag:finance"),
    ];
    for (e, text) in others {
        let filter = parse(e, text).unwrap();
        let local = match e {
            Entity::Alerts => alerts.eval(&filter, &tags, now).unwrap().len(),
            Entity::Campaigns => campaigns.eval(&filter, &tags, now).unwrap().len(),
            _ => users.eval(&filter, &tags).unwrap().len(),
        };
        let q = compile(e, &filter, &tags, now).unwrap();
        let remote = remote_count(&api, &token, &q.count()).await;
        assert_eq!(local, remote, "{e} {text}\n{}", q.count());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary with the test's config and cache.
fn ww(dir: &Path, secret: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_whalewatch"))
        .args(args)
        .env("WHALEWATCH_CONFIG", dir.join("config.toml"))
        .env("WHALEWATCH_CACHE_DIR", dir.join("cache"))
        .env("WW_CLI_SECRET", secret)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_counts_pivots_exports_and_reports_errors() {
    let server = server().await;
    let dir = temp_dir("cli");
    let secret = server.client_secret.clone();
    let (code, _, err) = ww(
        &dir,
        &secret,
        &[
            "profile",
            "add",
            "sim",
            "--tenant",
            &server.tenant_id,
            "--client-id",
            &server.client_id,
            "--client-secret-env",
            "WW_CLI_SECRET",
            "--login-url",
            &server.base_url,
            "--graph-url",
            &server.base_url,
            "--default",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let d = dir.clone();
    let s2 = secret.clone();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        ww(
            &d,
            &s2,
            &["refresh", "--hunting-calls-per-minute", "100000"],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(cache_file(&dir.join("cache"), "sim").exists());
    let run = |args: Vec<String>| {
        let d = dir.clone();
        let s = secret.clone();
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            ww(&d, &s, &a)
        })
    };
    let sv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Count, locally and remotely.
    let (code, local, err) = run(sv(&[
        "query",
        "emails",
        "threat:phish -location:quarantine",
        "--count",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let n: usize = local
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{local:?} {err}"));
    assert!(n > 0);
    let (code, remote, err) = run(sv(&[
        "query",
        "emails",
        "threat:phish -location:quarantine",
        "--count",
        "--remote",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(remote.trim(), local.trim());
    let (_, all, _) = run(sv(&["query", "emails", "--count"])).await.unwrap();
    let (_, prio, _) = run(sv(&["query", "emails", "--priority", "--count"]))
        .await
        .unwrap();
    assert!(prio.trim().parse::<usize>().unwrap() < all.trim().parse::<usize>().unwrap());

    // Pivot: a frequency table whose counts add up to the result.
    let (code, out, err) = run(sv(&[
        "query",
        "emails",
        "threat:phish",
        "--pivot",
        "sender-domain",
        "--format",
        "json",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let sum: u64 = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    let (_, phish, _) = run(sv(&["query", "emails", "threat:phish", "--count"]))
        .await
        .unwrap();
    assert_eq!(sum, phish.trim().parse::<u64>().unwrap());
    let (code, table, _) = run(sv(&[
        "query",
        "emails",
        "--pivot",
        "LatestDeliveryLocation",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(
        table.contains("Inbox/folder") && table.contains('%') && table.contains('█'),
        "{table}"
    );
    let (code, remote_table, err) = run(sv(&[
        "query",
        "emails",
        "--pivot",
        "LatestDeliveryLocation",
        "--remote",
        "--format",
        "csv",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        remote_table.starts_with("LatestDeliveryLocation,Count,Percent"),
        "{remote_table}"
    );

    // Histogram by day, split by threat type.
    let (code, out, err) = run(sv(&[
        "query",
        "emails",
        "threat:phish,spam",
        "--histogram",
        "day",
        "--split",
        "ThreatTypes",
        "--format",
        "jsonl",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let sum: u64 = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["count"]
                .as_u64()
                .unwrap()
        })
        .sum();
    let (_, n2, _) = run(sv(&["query", "emails", "threat:phish,spam", "--count"]))
        .await
        .unwrap();
    assert_eq!(sum, n2.trim().parse::<u64>().unwrap());

    // kql prints pasteable KQL.
    let (code, out, _) = run(sv(&["kql", "emails", "threat:phish url-domain:*.top"]))
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert!(
        out.starts_with("EmailEvents\n| where ThreatTypes has \"Phish\""),
        "{out}"
    );
    assert!(out.contains("EmailUrlInfo"), "{out}");

    // A bad filter: caret under the offending character, a suggestion, exit code 2.
    let (code, out, err) = run(sv(&["query", "emails", "threat:phish frm:x"]))
        .await
        .unwrap();
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("did you mean `from`"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("threat:phish frm:x"))
        .unwrap();
    assert_eq!(lines[at + 1].find('^'), lines[at].find("frm"), "{err}");
    let (code, _, err) = run(sv(&["kql", "emails", "location:quarantin"]))
        .await
        .unwrap();
    assert_eq!(code, 2, "{err}");

    // Exports: every row, raw values, in each format.
    let (code, out, err) = run(sv(&[
        "query",
        "emails",
        "threat:phish",
        "--format",
        "jsonl",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, phish.trim().parse::<u64>().unwrap());
    assert!(
        lines
            .iter()
            .all(|l| l["ThreatTypes"].as_str().unwrap().contains("Phish"))
    );
    assert!(lines[0]["NetworkMessageId"].is_string() && lines[0]["AdditionalFields"].is_string());
    let (code, out, _) = run(sv(&[
        "query",
        "emails",
        "threat:phish",
        "--format",
        "json",
        "--sort",
        "Subject",
        "--limit",
        "5",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0);
    let arr: serde_json::Value = serde_json::from_str(&out).unwrap();
    let subjects: Vec<String> = arr
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Subject"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(subjects.len(), 5);
    assert!(subjects.windows(2).all(|p| p[0] <= p[1]), "{subjects:?}");
    let (code, out, _) = run(sv(&[
        "query",
        "emails",
        "clicked:yes",
        "--format",
        "csv",
        "--columns",
        "NetworkMessageId,RecipientEmailAddress,Subject",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(
        out.starts_with("NetworkMessageId,RecipientEmailAddress,Subject\n"),
        "{out}"
    );
    let (code, out, _) = run(sv(&[
        "query",
        "emails",
        "is:priority",
        "--limit",
        "3",
        "--columns",
        "Timestamp,Subject",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4, "{out}");
    let (code, out, err) = run(sv(&[
        "query",
        "alerts",
        "severity:high",
        "--format",
        "json",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let arr: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        arr.as_array()
            .unwrap()
            .iter()
            .all(|a| a["severity"] == "high")
    );
    let (code, _, err) = run(sv(&[
        "query",
        "campaigns",
        "type:phish",
        "--pivot",
        "Subtype",
    ]))
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
