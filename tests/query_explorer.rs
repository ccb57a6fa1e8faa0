//! Threat Explorer's filter properties and tabs, through the real binary against the
//! simulator: each field added for Threat Explorer parity (threat name / malware
//! family, connector, file type, system override, click verdict, URL source, mail-from
//! domain, phish confidence) counts exactly the rows the simulated world holds —
//! locally and in advanced hunting alike.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{now, start};
use whalewatch::sim::server::{SimConfig, SimServer};
use whalewatch::sim::{World, WorldParams};

const SEED: u64 = 1616;

fn world_params() -> WorldParams {
    WorldParams {
        seed: SEED,
        now: now(),
        users: 60,
        days: 3,
        emails_per_day: 800,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ww-qex-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary with the test's config and cache.
fn ww(dir: &Path, secret: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_whalewatch"))
        .args(args)
        .env("WHALEWATCH_CONFIG", dir.join("config.toml"))
        .env("WHALEWATCH_CACHE_DIR", dir.join("cache"))
        .env("WW_QEX_SECRET", secret)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A profile pointing at `server`, refreshed into the test's cache by the binary.
async fn refreshed(server: &SimServer, dir: &Path) {
    let secret = server.client_secret.clone();
    let (code, _, err) = ww(
        dir,
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
            "WW_QEX_SECRET",
            "--login-url",
            &server.base_url,
            "--graph-url",
            &server.base_url,
            "--default",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let d = dir.to_path_buf();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        ww(
            &d,
            &secret,
            &["refresh", "--hunting-calls-per-minute", "100000"],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
}

/// Distinct `EmailEvents` rows (world row indices) for which `hit` holds.
fn rows_where(w: &World, hit: impl Fn(usize) -> bool) -> usize {
    (0..w.rows.len()).filter(|&i| hit(i)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn explorer_fields_count_the_rows_the_world_holds_locally_and_remotely() {
    let world = World::generate(&world_params()).unwrap();
    let w = &world;
    let mut config = SimConfig::new(world_params());
    config.hunting_calls_per_minute = 100_000;
    let server = start(config).await;
    let dir = temp_dir("fields");
    refreshed(&server, &dir).await;

    let verdict = |i: usize| &w.verdicts[w.message_of(&w.rows[i]).verdict as usize];
    let lower = |s: &str| s.to_lowercase();
    // Ground truth, field by field, from the world's own layout.
    // A malware family the world holds (`Trojan:Win32/Qakbot.RPX!MTB` → `qakbot`).
    let family = (0..w.rows.len())
        .find_map(|i| {
            let name = w.s(verdict(i).threat_names);
            let (_, rest) = name.split_once('/')?;
            Some(lower(rest.split('.').next()?))
        })
        .expect("the world holds malware");
    let family = family.as_str();
    let threat_name = rows_where(w, |i| lower(w.s(verdict(i).threat_names)).contains(family));
    let connector = rows_where(w, |i| {
        lower(w.s(w.message_of(&w.rows[i]).connector)).contains("partner")
    });
    let m0 = w.message_of(&w.rows[0]);
    let mf_domain = w.s(m0.mail_from).rsplit_once('@').unwrap().1.to_string();
    let mail_from_domain = rows_where(w, |i| {
        w.s(w.message_of(&w.rows[i]).mail_from)
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&mf_domain))
    });
    let high = rows_where(w, |i| {
        let c: serde_json::Value =
            serde_json::from_str(w.s(verdict(i).confidence)).unwrap_or_default();
        c["Phish"].as_str() == Some("High")
    });
    let org_allow = rows_where(w, |i| &**w.s(verdict(i).org_action) == "Allow");
    let user_allow = rows_where(w, |i| &**w.s(verdict(i).user_action) == "Allow");
    let no_override = rows_where(w, |i| {
        let v = verdict(i);
        !["Allow", "Block"].contains(&&**w.s(v.org_action))
            && !["Allow", "Block"].contains(&&**w.s(v.user_action))
    });
    // A file type the world's attachments have.
    let file_type = w
        .attachment_rows
        .first()
        .map(|(a, _)| lower(w.s(w.attachments[*a as usize].file_type)))
        .expect("the world holds attachments");
    let type_rows: BTreeSet<u32> = w
        .attachment_rows
        .iter()
        .filter(|(a, _)| {
            w.s(w.attachments[*a as usize].file_type)
                .eq_ignore_ascii_case(&file_type)
        })
        .map(|(_, r)| *r)
        .collect();
    let qr_messages: BTreeSet<u32> = w
        .urls
        .iter()
        .filter(|u| &**w.s(u.location) == "QRCode")
        .map(|u| u.message)
        .collect();
    let qr = rows_where(w, |i| qr_messages.contains(&w.rows[i].message));
    let blocked_rows: BTreeSet<u32> = w
        .clicks
        .iter()
        .filter(|c| &**w.s(c.action_type) == "ClickBlocked")
        .map(|c| c.row)
        .collect();

    let post_delivery = |want: fn(&str) -> bool| -> usize {
        w.post_delivery
            .iter()
            .filter(|e| want(w.s(e.action_type)))
            .map(|e| e.row)
            .collect::<BTreeSet<u32>>()
            .len()
    };
    let corpus: Vec<(String, usize)> = vec![
        (format!("malware-family:{family}"), threat_name),
        (
            "threat-name:Trojan".into(),
            rows_where(w, |i| w.s(verdict(i).threat_names).contains("Trojan")),
        ),
        ("connector:partner".into(), connector),
        (format!("mail-from-domain:{mf_domain}"), mail_from_domain),
        ("phish-confidence:high".into(), high),
        ("override:org-allow".into(), org_allow),
        ("override:user-allow".into(), user_allow),
        ("override:none".into(), no_override),
        (format!("file-type:{file_type}"), type_rows.len()),
        ("url-source:qrcode".into(), qr),
        ("click-verdict:blocked".into(), blocked_rows.len()),
        (
            "additional-action:\"Phish ZAP\"".into(),
            post_delivery(|a| a == "Phish ZAP"),
        ),
        (
            "additional-action:*zap".into(),
            post_delivery(|a| a.to_lowercase().ends_with("zap")),
        ),
        (
            "attachment-count:>=1".into(),
            rows_where(w, |i| w.message_of(&w.rows[i]).attachment_count >= 1),
        ),
        (
            "url-count:2,3".into(),
            rows_where(w, |i| [2, 3].contains(&w.message_of(&w.rows[i]).url_count)),
        ),
    ];
    let secret = server.client_secret.clone();
    for (filter, truth) in corpus {
        assert!(
            truth > 0 && truth < w.rows.len(),
            "{filter}: the world should hold some rows and not all ({truth})"
        );
        for remote in [false, true] {
            let mut args = vec!["query", "emails", filter.as_str(), "--count"];
            if remote {
                args.push("--remote");
            }
            let (code, out, err) = ww(&dir, &secret, &args);
            assert_eq!(code, 0, "{filter} (remote {remote}): {err}");
            let n: usize = out
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{out:?} {err}"));
            assert_eq!(n, truth, "{filter} (remote {remote})");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `args` and parses its JSON output.
fn json_of(dir: &Path, secret: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let (code, out, err) = ww(dir, secret, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str::<Vec<serde_json::Value>>(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn top_urls_and_top_clicks_agree_with_the_world_stats() {
    let world = World::generate(&world_params()).unwrap();
    let w = &world;
    let stats = whalewatch::sim::stats::WorldStats::of(w);
    let mut config = SimConfig::new(world_params());
    config.hunting_calls_per_minute = 100_000;
    let server = start(config).await;
    let dir = temp_dir("tabs");
    refreshed(&server, &dir).await;
    let secret = server.client_secret.clone();
    let sum = |rows: &[serde_json::Value], key: &str| -> usize {
        rows.iter().map(|r| r[key].as_u64().unwrap() as usize).sum()
    };

    // Top URLs over every email: one row per distinct URL, every click counted once.
    let urls = json_of(&dir, &secret, &["query", "urls", "--format", "json"]);
    let clicks_total = stats.tables["UrlClickEvents"];
    assert!(clicks_total > 0);
    assert_eq!(urls.len(), stats.distinct_urls);
    assert_eq!(sum(&urls, "clicks"), clicks_total);
    let blocked: usize = stats
        .url_clicks_by_action
        .iter()
        .filter(|(a, _)| a.starts_with("ClickBlocked"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(sum(&urls, "blocked"), blocked);
    assert_eq!(sum(&urls, "clickedThrough"), stats.url_clicks_through);
    let url_messages: BTreeSet<(u32, u32)> = w.urls.iter().map(|u| (u.url, u.message)).collect();
    assert_eq!(sum(&urls, "messages"), url_messages.len());
    let url_recipients: usize = url_messages
        .iter()
        .map(|(_, m)| w.messages[*m as usize].row_count as usize)
        .sum();
    assert_eq!(sum(&urls, "recipients"), url_recipients);
    // Most messages first.
    assert!(
        urls.windows(2)
            .all(|p| p[0]["messages"].as_u64() >= p[1]["messages"].as_u64())
    );

    // Top clicks: every click, with the action the world recorded, newest first.
    let clicks = json_of(&dir, &secret, &["query", "clicks", "--format", "json"]);
    assert_eq!(clicks.len(), clicks_total);
    let mut by_action = std::collections::BTreeMap::new();
    for c in &clicks {
        *by_action
            .entry(c["action"].as_str().unwrap().to_string())
            .or_insert(0usize) += 1;
    }
    assert_eq!(by_action, stats.url_clicks_by_action);
    assert!(
        clicks
            .windows(2)
            .all(|p| p[0]["time"].as_str() >= p[1]["time"].as_str())
    );

    // The same filters as emails: clicks by priority accounts only, marked as such.
    let priority_clicks = w
        .clicks
        .iter()
        .filter(|c| w.is_priority_party(w.rows[c.row as usize].recipient))
        .count();
    assert!(priority_clicks > 0 && priority_clicks < clicks_total);
    let (code, out, err) = ww(
        &dir,
        &secret,
        &["query", "clicks", "is:priority", "--count"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), priority_clicks.to_string());
    let vip = json_of(
        &dir,
        &secret,
        &["query", "clicks", "is:priority", "--format", "json"],
    );
    assert!(
        vip.iter()
            .all(|c| c["tags"].as_str().unwrap().contains("Priority account"))
    );
    let (code, _, err) = ww(&dir, &secret, &["query", "urls", "--remote"]);
    assert_ne!(code, 0);
    assert!(err.contains("computed from the cache"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A world big enough for campaigns of several messages each.
fn campaign_world() -> WorldParams {
    WorldParams {
        seed: SEED,
        now: now(),
        users: 200,
        days: 10,
        emails_per_day: 3000,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan1_tenants_get_derived_campaigns_grouping_the_planted_ones() {
    use whalewatch::cache::Cache;
    use whalewatch::query::index::EmailIndex;
    use whalewatch::query::index::derived::{MIN_MESSAGES, is_derived};
    use whalewatch::query::index::entities::CampaignIndex;
    use whalewatch::query::{Entity, parse};

    let world = World::generate(&campaign_world()).unwrap();
    let w = &world;
    let mut config = SimConfig::new(campaign_world());
    config.hunting_calls_per_minute = 100_000;
    config.campaign_views = false;
    let server = start(config).await;
    // SAFETY: this test's own variable, set before the refresh reads it.
    unsafe { std::env::set_var("WW_QEX_PLAN1_SECRET", &server.client_secret) };
    let profile = whalewatch::demo::signed_in(&server, "WW_QEX_PLAN1_SECRET");
    let dir = temp_dir("plan1");
    let path = dir.join("t.sqlite");
    let client = whalewatch::sync::connect::graph_client("t", &profile, &dir, true).unwrap();
    let options = whalewatch::sync::RefreshOptions {
        hunting_calls_per_minute: 100_000,
        ..Default::default()
    };
    whalewatch::sync::refresh(
        &client,
        Cache::open(&path).unwrap(),
        &profile,
        &options,
        &|_| {},
    )
    .await
    .unwrap();
    let cache = Cache::open_read_only(&path).unwrap();
    assert!(
        cache.campaign_messages().unwrap().is_empty(),
        "a Plan 1 tenant has no CampaignInfo"
    );

    let index = CampaignIndex::load(&cache).unwrap();
    assert!(!index.campaigns.is_empty(), "derived campaigns appear");
    assert!(
        index
            .campaigns
            .iter()
            .all(|c| c.derived && is_derived(&c.id))
    );
    assert!(
        index
            .campaigns
            .iter()
            .all(|c| c.name.starts_with("[derived] "))
    );
    // The planted campaigns, by their messages' ids.
    let planted: Vec<(usize, BTreeSet<String>)> = (0..w.campaigns.len())
        .map(|c| {
            let ids = w
                .messages
                .iter()
                .filter(|m| m.campaign == Some(c as u16))
                .map(|m| m.id.to_string())
                .collect();
            (c, ids)
        })
        .filter(|(_, ids): &(usize, BTreeSet<String>)| ids.len() >= MIN_MESSAGES)
        .collect();
    assert!(
        planted.len() >= 5,
        "the world plants campaigns: {}",
        planted.len()
    );
    let mut derived: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for r in &index.rows {
        derived
            .entry(index.campaigns[r.campaign].id.clone())
            .or_default()
            .insert(r.message.clone());
    }
    // Each derived campaign is exactly one planted campaign, of its type.
    assert_eq!(derived.len(), planted.len(), "{:?}", derived.keys());
    for (id, msgs) in &derived {
        let Some((c, _)) = planted.iter().find(|(_, ids)| ids == msgs) else {
            panic!(
                "derived campaign {id} ({} messages) is no planted campaign",
                msgs.len()
            );
        };
        let camp = index.campaigns.iter().find(|x| &x.id == id).unwrap();
        assert_eq!(camp.kind, &**w.s(w.campaigns[*c].campaign_type), "{id}");
    }
    // The email index's campaign side table holds the same membership, so
    // `campaign:` and the campaign figures read the derived campaigns.
    let emails = EmailIndex::build(&cache).unwrap();
    let figures = whalewatch::query::index::figures::campaign_figures(
        &emails,
        &index,
        &whalewatch::query::index::figures::Audience::everyone(),
    )
    .unwrap();
    for (camp, f) in index.campaigns.iter().zip(&figures) {
        assert_eq!(f.messages, derived[&camp.id].len(), "{}", camp.id);
    }
    for camp in &index.campaigns {
        let f = parse(Entity::Emails, &format!("campaign:{}", camp.id)).unwrap();
        let rows = emails.eval(&f, now()).unwrap().count();
        let want = index
            .rows
            .iter()
            .filter(|r| index.campaigns[r.campaign].id == camp.id)
            .count();
        assert_eq!(rows, want, "{}", camp.id);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
