//! A new user's first refresh against `whalewatch sim serve`: profile added with the
//! CLI, tags configured in the TOML, `refresh`, then `query X --count` for every
//! table equals the simulator's ground truth (`sim stats`), tags included.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::refresh::{SimProcess, Summary, Workspace, WorldFlags};
use serde_json::Value;

fn stat(stats: &Value, path: &[&str]) -> u64 {
    let mut v = stats;
    for p in path {
        v = &v[*p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("sim stats has no number at {path:?}"))
}

#[test]
fn refresh_then_query_counts_equal_the_simulators_ground_truth() {
    let world = WorldFlags::small(101);
    let stats = world.stats();
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("counts");

    let saved = ws.add_sim_profile("sim", &sim);
    assert!(saved.contains("profile `sim` saved"), "{saved}");

    // One tag per simulator group, plus the priority accounts from `sim vips`.
    let groups: BTreeMap<String, u64> = stats["groups"]
        .as_object()
        .expect("groups in sim stats")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert!(groups.contains_key("Finance") && groups.contains_key("Accounts Payable"));
    let vips = world.vips();
    let vip_file = ws.dir.path().join("vips.txt");
    std::fs::write(&vip_file, &vips).unwrap();
    let mut toml = String::new();
    for g in groups.keys() {
        toml.push_str(&format!(
            "[[profiles.sim.tags]]\nname = {g:?}\ngroups = [{g:?}]\n\n"
        ));
    }
    toml.push_str(&format!(
        "[[profiles.sim.tags]]\nname = \"Priority account\"\nfiles = [{:?}]\n",
        vip_file.display().to_string()
    ));
    ws.append_config(&toml);

    let shown = ws.ok(&["profile", "show"]);
    assert!(shown.contains("tag: Finance (groups Finance)"), "{shown}");
    assert!(
        shown.contains("cache: ") && shown.contains("not created yet"),
        "{shown}"
    );

    let out = ws.refresh(&[]).expect_ok("refresh");
    let summary = Summary::parse(&out);
    assert_eq!(
        summary.row("hunting:EmailEvents").new,
        stat(&stats, &["tables", "EmailEvents"]),
        "{out}"
    );
    assert_eq!(summary.total("retries"), 0, "no faults, no retries: {out}");

    // Every table, against the ground truth.
    assert_eq!(
        ws.count("emails", &[]),
        stat(&stats, &["tables", "EmailEvents"])
    );
    assert_eq!(ws.count("alerts", &[]), stat(&stats, &["alerts"]));
    assert_eq!(ws.count("incidents", &[]), stat(&stats, &["incidents"]));
    assert_eq!(ws.count("campaigns", &[]), stat(&stats, &["campaigns"]));
    assert_eq!(ws.count("users", &[]), stat(&stats, &["users"]));

    // The hunting tables the console has no `query` entity for yet, straight from
    // the cache file.
    let cache = whalewatch::cache::Cache::open_read_only(&ws.cache_file("sim")).unwrap();
    for (table, hunting) in [
        ("email_events", "EmailEvents"),
        ("email_urls", "EmailUrlInfo"),
        ("email_attachments", "EmailAttachmentInfo"),
        ("post_delivery_events", "EmailPostDeliveryEvents"),
        ("url_clicks", "UrlClickEvents"),
        ("campaign_messages", "CampaignInfo"),
    ] {
        assert_eq!(
            cache.count(table).unwrap() as u64,
            stat(&stats, &["tables", hunting]),
            "{table} vs {hunting}"
        );
    }
    // Where messages are now (ZAP and remediation applied), row for row.
    let mut latest: BTreeMap<String, u64> = BTreeMap::new();
    let mut stmt = cache
        .connection()
        .prepare(
            "SELECT coalesce(\"LatestDeliveryLocation\", ''), count(*) FROM email_events GROUP BY 1",
        )
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (loc, n) = row.unwrap();
        latest.insert(loc, n as u64);
    }
    let want: BTreeMap<String, u64> = stats["rows_by_latest_delivery_location"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(latest, want, "latest delivery locations");
    drop(stmt);
    drop(cache);

    // Users per tag: every group tag equals the group's transitive size.
    for (g, n) in &groups {
        assert_eq!(ws.count("users", &["--tag", g]), *n, "tag {g}");
    }
    // Finance is transitive: it includes the nested Accounts Payable group.
    assert!(groups["Accounts Payable"] > 0);
    let finance: BTreeSet<String> = tag_addresses(&ws, "Finance");
    let ap: BTreeSet<String> = tag_addresses(&ws, "Accounts Payable");
    assert!(
        ap.is_subset(&finance),
        "Finance must include Accounts Payable"
    );
    assert_eq!(
        ws.count("users", &["--priority"]),
        stat(&stats, &["priority_accounts"])
    );
    let vip_set: BTreeSet<String> = vips.lines().map(str::to_lowercase).collect();
    assert_eq!(tag_addresses(&ws, "Priority account"), vip_set);

    // Per-tag sources.
    let tags: Value = serde_json::from_str(&ws.ok(&["query", "tags", "--format", "json"]))
        .expect("query tags --format json is JSON");
    let tags = tags.as_array().expect("an array of tags");
    let by_name: BTreeMap<&str, &Value> = tags
        .iter()
        .map(|t| (t["tag"].as_str().unwrap(), t))
        .collect();
    assert_eq!(by_name.len(), groups.len() + 1, "{tags:?}");
    for (g, n) in &groups {
        let t = by_name[g.as_str()];
        assert_eq!(t["members"].as_u64(), Some(*n), "{t}");
        for m in t["memberships"].as_array().unwrap() {
            assert_eq!(m["source"], "group", "{m}");
            assert_eq!(m["detail"], g.as_str(), "{m}");
        }
    }
    let pa = by_name["Priority account"];
    let sources: BTreeSet<&str> = pa["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains("file"), "{pa}");
    let file_members = pa["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == "file")
        .count() as u64;
    assert_eq!(file_members, stat(&stats, &["priority_accounts"]));
    // Mail Defender protected as a priority account's adds its recipients as
    // *inferred* members, unless a configured source (the file, here) has them.
    for m in pa["memberships"].as_array().unwrap() {
        if m["source"] == "inferred" {
            assert!(
                vip_set.contains(m["address"].as_str().unwrap()),
                "inferred non-VIP {m}"
            );
        }
    }
}

/// A rule tag and a member tag resolve from the cached directory; with no configured
/// source, Priority account holds exactly the recipients of priority-protected mail,
/// marked inferred.
#[test]
fn rule_member_and_inferred_tags_resolve_with_their_source() {
    let world = WorldFlags::small(102);
    let stats = world.stats();
    assert!(
        stat(&stats, &["priority_account_rows"]) > 0,
        "the world has VIP mail"
    );
    let vips: BTreeSet<String> = world.vips().lines().map(str::to_lowercase).collect();
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("rules");
    ws.add_sim_profile("sim", &sim);
    ws.append_config(
        "[[profiles.sim.tags]]\nname = \"Finance dept\"\nrules = [\"department == 'Finance'\"]\n\n\
         [[profiles.sim.tags]]\nname = \"Watched\"\nmembers = [\"Someone@Example.COM\"]\n",
    );
    ws.refresh(&[]).expect_ok("refresh");
    let users: Value =
        serde_json::from_str(&ws.ok(&["query", "users", "--format", "json"])).unwrap();
    let finance_users = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["department"] == "Finance")
        .count() as u64;
    assert!(finance_users > 0, "the world has a Finance department");
    assert_eq!(ws.count("users", &["--tag", "Finance dept"]), finance_users);
    let tags: Value = serde_json::from_str(&ws.ok(&["query", "tags", "--format", "json"])).unwrap();
    let watched = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == "Watched")
        .expect("tag Watched");
    assert_eq!(watched["members"], 1);
    assert_eq!(watched["memberships"][0]["source"], "member");
    assert_eq!(watched["memberships"][0]["address"], "someone@example.com");
    let fin = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == "Finance dept")
        .unwrap();
    assert!(
        fin["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["source"] == "rule" && m["detail"] == "department == 'Finance'"),
        "{fin}"
    );
    let pa = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == "Priority account")
        .expect("the built-in tag exists unconfigured");
    let inferred: BTreeSet<String> = pa["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["source"], "inferred", "{m}");
            m["address"].as_str().unwrap().to_string()
        })
        .collect();
    let cache = whalewatch::cache::Cache::open_read_only(&ws.cache_file("sim")).unwrap();
    let protected: BTreeSet<String> = {
        let mut stmt = cache
            .connection()
            .prepare(
                "SELECT DISTINCT lower(\"RecipientEmailAddress\") FROM email_events \
                 WHERE \"Context\" = 'Priority Account Protection'",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(!inferred.is_empty());
    assert_eq!(inferred, protected);
    assert!(
        inferred.is_subset(&vips),
        "only VIPs get priority protection"
    );
    assert_eq!(
        ws.count("users", &["--priority"]),
        inferred.len() as u64,
        "inferred members count as priority accounts"
    );

    // An unknown tag is an error that lists the tags there are.
    let r = ws.run(&["query", "users", "--tag", "Nope", "--count"]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("Nope") && r.stderr.contains("Watched"),
        "{r:?}"
    );
}

fn tag_addresses(ws: &Workspace, tag: &str) -> BTreeSet<String> {
    let users: Value =
        serde_json::from_str(&ws.ok(&["query", "users", "--tag", tag, "--format", "json"]))
            .expect("JSON users");
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u["mail"]
                .as_str()
                .or(u["userPrincipalName"].as_str())
                .unwrap_or_default()
                .to_lowercase()
        })
        .collect()
}

/// `whalewatch query … | head`: a reader that closes the pipe ends the command quietly.
#[test]
fn a_closed_pipe_ends_a_query_quietly() {
    let world = WorldFlags::small(31);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("closed-pipe");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&["--only", "EmailEvents"]).expect_ok("refresh");
    let mut child = ws
        .command(&["query", "emails", "--format", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Read one line, then close the pipe, as `head -1` does.
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).expect("a first row");
    drop(out);
    let done = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(!first.is_empty());
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert!(done.status.success(), "{:?}: {stderr}", done.status);
}

/// A histogram written as CSV has exactly its columns (no empty one for the bar).
#[test]
fn a_histogram_in_csv_has_no_empty_column() {
    let world = WorldFlags::small(32);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("histogram-csv");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&["--only", "EmailEvents"]).expect_ok("refresh");
    let csv = ws.ok(&[
        "query",
        "emails",
        "--histogram",
        "day",
        "--split",
        "ThreatTypes",
        "--format",
        "csv",
    ]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Bucket,ThreatTypes,Count"));
    for line in lines {
        // Every row ends with its count, never with an empty cell.
        let count = line.rsplit(',').next().unwrap_or_default();
        assert!(count.parse::<u64>().is_ok(), "{line}");
    }
}
