//! The filter language compiled to KQL and run through `runHuntingQuery` against the
//! simulator on loopback: every filter of the corpus must be valid KQL over the
//! documented schemas (200), select something but not everything (unless noted), and,
//! where the ground truth is computed here from the world, count exactly as many rows.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use common::{Api, Reply, now, small_world, start};
use reqwest::StatusCode;
use whalewatch::query::kql::{CompileError, TimeBin, schema};
use whalewatch::query::{Entity, TagResolver, compile, parse};
use whalewatch::sim::kql::TICKS_PER_SECOND;
use whalewatch::sim::server::SimConfig;
use whalewatch::sim::world::{HuntingCatalog, Location, Message, RecipientRow};
use whalewatch::sim::{World, kql::Catalog};

const SEED: u64 = 4242;

/// Tags resolved from the world's directory, as a refresh would.
struct WorldTags {
    tags: HashMap<String, Vec<String>>,
}

impl WorldTags {
    fn of(w: &World) -> WorldTags {
        let upns = |users: Vec<u32>| -> Vec<String> {
            users
                .into_iter()
                .map(|u| w.directory.users[u as usize].upn.to_string())
                .collect()
        };
        let mut tags = HashMap::new();
        tags.insert(
            "Priority account".to_string(),
            upns(w.directory.priority.clone()),
        );
        tags.insert(
            "Finance".to_string(),
            upns(w.directory.in_department("Finance")),
        );
        tags.insert("Empty".to_string(), Vec::new());
        WorldTags { tags }
    }
}

impl TagResolver for WorldTags {
    fn members(&self, tag: &str) -> Option<Vec<String>> {
        self.tags.get(tag).cloned()
    }
    fn tag_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.tags.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Ground truth over the world's rows.
struct Truth<'w> {
    w: &'w World,
    clicked: HashSet<u32>,
    zapped: HashSet<u32>,
}

impl<'w> Truth<'w> {
    fn of(w: &'w World) -> Truth<'w> {
        let clicked = w
            .clicks
            .iter()
            .filter(|c| c.clicked_through || &**w.s(c.action_type) == "ClickAllowed")
            .map(|c| c.row)
            .collect();
        let zapped = w
            .post_delivery
            .iter()
            .filter(|e| matches!(&**w.s(e.action_type), "Phish ZAP" | "Malware ZAP"))
            .map(|e| e.row)
            .collect();
        Truth { w, clicked, zapped }
    }

    fn count(&self, pred: impl Fn(u32, &RecipientRow, &Message) -> bool) -> usize {
        self.w
            .rows
            .iter()
            .enumerate()
            .filter(|(i, r)| pred(*i as u32, r, self.w.message_of(r)))
            .count()
    }

    fn threats(&self, m: &Message) -> &str {
        self.w.s(self.w.verdicts[m.verdict as usize].threat_types)
    }

    fn address(&self, party: u32) -> &str {
        self.w.s(self.w.parties[party as usize].address)
    }
}

fn ticks(t: DateTime<Utc>) -> i64 {
    t.timestamp() * TICKS_PER_SECOND
}

async fn hunt(api: &Api, token: &str, kql: &str) -> Reply {
    let r = api.hunt(token, kql, None).await;
    assert_eq!(r.status, StatusCode::OK, "{kql}\n→ {}", r.text);
    r
}

async fn remote_count(api: &Api, token: &str, kql: &str) -> usize {
    let r = hunt(api, token, kql).await;
    let rows = r.json["results"].as_array().expect("results");
    assert_eq!(rows.len(), 1, "{kql}: {}", r.text);
    rows[0]["Count"].as_u64().expect("Count") as usize
}

/// Sums the `Count` column of a summarised result.
async fn remote_sum(api: &Api, token: &str, kql: &str) -> usize {
    let r = hunt(api, token, kql).await;
    r.json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["Count"].as_u64().expect("Count") as usize)
        .sum()
}

/// What a corpus filter should select.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// More than none and fewer than all.
    Some,
    /// Nothing, for the stated reason.
    Zero(&'static str),
    /// Everything, for the stated reason.
    All(&'static str),
}

#[tokio::test(flavor = "multi_thread")]
async fn corpus_compiles_to_accepted_kql_with_exact_counts() {
    let world = World::generate(&small_world(SEED)).unwrap();
    let truth = Truth::of(&world);
    let tags = WorldTags::of(&world);
    let mut config = SimConfig::new(small_world(SEED));
    config.hunting_calls_per_minute = 100_000;
    let server = start(config).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let now = now();
    let w = &world;

    // Values picked from the world so ID-like fields have something to find.
    let camp = &w.campaigns[0];
    let camp_name = w.s(camp.name).to_string();
    let camp_word = camp_name.split(' ').next().unwrap().to_string();
    let url_domain = w
        .s(w.urls.iter().find(|u| u.malicious).unwrap().domain)
        .to_string();
    let att = w.attachments.iter().find(|a| a.malicious).unwrap();
    let sha = w.s(att.sha256).to_string();
    let alert = w
        .alerts
        .iter()
        .find(|a| {
            a.evidence
                .iter()
                .any(|e| matches!(e, whalewatch::sim::world::Evidence::Message { .. }))
        })
        .unwrap();
    let row0 = &w.rows[0];
    let m0 = w.message_of(row0);
    let nmid = m0.id.to_string();
    let imid = w.internet_message_id(row0.message);
    let cluster = m0.cluster;
    let from0 = truth.address(m0.from).to_string();
    let to0 = truth.address(row0.recipient).to_string();
    let ip_prefix = {
        let ip = w.s(m0.ip).to_string();
        format!("{}*", &ip[..ip.rfind('.').unwrap() + 1])
    };
    let sender_domain = w.s(w.parties[m0.from as usize].domain).to_string();
    let mail_from = format!("*@{}", w.s(m0.mail_from).rsplit_once('@').unwrap().1);
    let display = w.s(w.parties[m0.from as usize].display_name).to_string();
    let display_word = display.split(' ').next().unwrap().to_string();
    let subject_word = w
        .s(m0.subject)
        .split(' ')
        .max_by_key(|s| s.len())
        .unwrap()
        .to_string();
    let lang = w.s(m0.language).to_string();

    let corpus: Vec<(String, Expect)> = vec![
        (format!("from:{from0}"), Expect::Some),
        (format!("sender-domain:{sender_domain}"), Expect::Some),
        (format!("display-name:\"{display_word}\""), Expect::Some),
        (format!("mail-from:{mail_from}"), Expect::Some),
        (format!("to:{to0}"), Expect::Some),
        ("recipient-domain:contoso.com".into(), Expect::Some),
        (
            "recipient-domain:*.com -recipient-domain:contoso*".into(),
            Expect::Some,
        ),
        (format!("subject:\"{subject_word}\""), Expect::Some),
        ("tag:finance".into(), Expect::Some),
        (
            "tag:Empty".into(),
            Expect::Zero("the Empty tag has no members"),
        ),
        ("is:priority threat:phish,malware".into(), Expect::Some),
        ("threat:none".into(), Expect::Some),
        (
            "detection:url-malicious-reputation OR detection:\"File reputation\"".into(),
            Expect::Some,
        ),
        ("delivery:junked,blocked".into(), Expect::Some),
        ("location:quarantine".into(), Expect::Some),
        (
            "original-location:inbox -location:inbox".into(),
            Expect::Some,
        ),
        ("direction:intraorg".into(), Expect::Some),
        ("context:priority".into(), Expect::Some),
        (format!("campaign:{camp_word}"), Expect::Some),
        (format!("campaign:{}", camp.id), Expect::Some),
        (format!("cluster:{cluster}"), Expect::Some),
        ("url:/owa/".into(), Expect::Some),
        (format!("url-domain:{url_domain}"), Expect::Some),
        ("attachment:*.pdf,*.docx".into(), Expect::Some),
        (format!("sha256:{sha}"), Expect::Some),
        (format!("ip:{ip_prefix}"), Expect::Some),
        (format!("alert:{}", alert.id), Expect::Some),
        (format!("nmid:{nmid}"), Expect::Some),
        (format!("imid:\"{imid}\""), Expect::Some),
        ("spf:fail OR dmarc:fail".into(), Expect::Some),
        ("dkim:pass compauth:pass".into(), Expect::Some),
        ("compauth:fail,softpass".into(), Expect::Some),
        ("bcl:>=7".into(), Expect::Some),
        ("size:>100000".into(), Expect::Some),
        ("size:<=0".into(), Expect::Zero("every message has a size")),
        ("clicked:yes".into(), Expect::Some),
        ("clicked:no threat:phish".into(), Expect::Some),
        ("zap:yes".into(), Expect::Some),
        ("-zap:yes threat:phish,malware".into(), Expect::Some),
        ("rule:antispam OR rule:\"Allow/Block\"".into(), Expect::Some),
        ("policy:antimalware".into(), Expect::Some),
        (format!("language:{lang}"), Expect::Some),
        ("since:1d".into(), Expect::Some),
        ("until:2026-10-30".into(), Expect::Some),
        ("between:2026-10-30..2026-10-30".into(), Expect::Some),
        (
            "since:2026-10-31T12:00:00Z until:2026-11-01".into(),
            Expect::Some,
        ),
        (format!("\"{subject_word}\" OR invoice"), Expect::Some),
        (
            "(threat:phish OR threat:malware) -(location:quarantine OR delivery:blocked)".into(),
            Expect::Some,
        ),
        (
            "NOT (is:priority OR tag:finance) clicked:yes".into(),
            Expect::Some,
        ),
        (
            "threat:phish -threat:phish".into(),
            Expect::Zero("a contradiction"),
        ),
        (
            "threat:phish OR -threat:phish".into(),
            Expect::All("a tautology"),
        ),
    ];

    let total = truth.count(|_, _, _| true);
    let mut failures = Vec::new();
    for (text, expect) in &corpus {
        let filter = parse(Entity::Emails, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let q =
            compile(Entity::Emails, &filter, &tags, now).unwrap_or_else(|e| panic!("{text}: {e}"));
        let n = remote_count(&api, &token, &q.count()).await;
        let ok = match expect {
            Expect::Some => n > 0 && n < total,
            Expect::Zero(_) => n == 0,
            Expect::All(_) => n == total,
        };
        if !ok {
            failures.push(format!(
                "{text}: {n} of {total}, expected {expect:?}\n{}",
                q.count()
            ));
        }
        // The row query is accepted too (small results only: the default row cap).
        if n < 5_000 {
            let r = hunt(&api, &token, &q.rows()).await;
            assert_eq!(r.json["results"].as_array().unwrap().len(), n, "{text}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(corpus.len() >= 30);

    // Exact counts against the ground truth.
    let day_ago = ticks(now - TimeDelta::days(1));
    let is_priority = |r: &RecipientRow| w.is_priority_party(r.recipient);
    let finance: HashSet<String> = tags.tags["Finance"].iter().cloned().collect();
    let auth = |m: &Message, key: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(w.s(m.auth)).unwrap();
        v[key].as_str().unwrap_or("").to_string()
    };
    let has_att = |row: u32, pred: &dyn Fn(&str) -> bool| {
        w.attachment_rows
            .iter()
            .any(|(a, r)| *r == row && pred(w.s(w.attachments[*a as usize].file_name)))
    };
    let url_msgs: HashSet<u32> = w
        .urls
        .iter()
        .filter(|u| w.s(u.domain).eq_ignore_ascii_case(&url_domain))
        .map(|u| u.message)
        .collect();
    let alert_msgs: HashSet<u32> = alert
        .evidence
        .iter()
        .filter_map(|e| match e {
            whalewatch::sim::world::Evidence::Message { row } => {
                Some(w.rows[*row as usize].message)
            }
            _ => None,
        })
        .collect();
    let checks: Vec<(String, usize)> = vec![
        (
            "threat:phish".into(),
            truth.count(|_, _, m| truth.threats(m).contains("Phish")),
        ),
        (
            "location:quarantine".into(),
            truth.count(|_, r, _| r.latest == Location::Quarantine),
        ),
        (
            "is:priority threat:phish,malware".into(),
            truth.count(|_, r, m| {
                is_priority(r) && {
                    let t = truth.threats(m);
                    t.contains("Phish") || t.contains("Malware")
                }
            }),
        ),
        (
            "tag:finance -is:priority".into(),
            truth.count(|_, r, _| finance.contains(truth.address(r.recipient)) && !is_priority(r)),
        ),
        (
            "clicked:yes".into(),
            truth.count(|i, _, _| truth.clicked.contains(&i)),
        ),
        (
            "-zap:yes threat:phish".into(),
            truth.count(|i, _, m| !truth.zapped.contains(&i) && truth.threats(m).contains("Phish")),
        ),
        (
            "size:>100000".into(),
            truth.count(|_, _, m| m.size > 100_000),
        ),
        ("bcl:>=7".into(), truth.count(|_, _, m| m.bcl >= 7)),
        (
            "spf:fail OR dmarc:fail".into(),
            truth.count(|_, _, m| auth(m, "SPF") == "fail" || auth(m, "DMARC") == "fail"),
        ),
        (
            format!("url-domain:{url_domain}"),
            truth.count(|_, r, _| url_msgs.contains(&r.message)),
        ),
        (
            "attachment:*.pdf".into(),
            truth.count(|i, _, _| has_att(i, &|f| f.to_ascii_lowercase().ends_with(".pdf"))),
        ),
        (
            format!("campaign:{}", camp.id),
            truth.count(|_, _, m| m.campaign == Some(0)),
        ),
        (
            format!("alert:{}", alert.id),
            truth.count(|_, r, _| alert_msgs.contains(&r.message)),
        ),
        (
            "recipient-domain:contoso.com".into(),
            truth.count(|_, r, _| truth.address(r.recipient).ends_with("@contoso.com")),
        ),
        ("since:1d".into(), truth.count(|_, _, m| m.time >= day_ago)),
        (
            "invoice".into(),
            truth.count(|_, _, m| {
                let p = &w.parties[m.from as usize];
                [w.s(m.subject), w.s(p.address), w.s(p.display_name)]
                    .iter()
                    .any(|s| s.to_ascii_lowercase().contains("invoice"))
            }),
        ),
    ];
    for (text, want) in checks {
        let filter = parse(Entity::Emails, &text).unwrap();
        let q = compile(Entity::Emails, &filter, &tags, now).unwrap();
        let got = remote_count(&api, &token, &q.count()).await;
        assert_eq!(got, want, "{text}\n{}", q.count());
        assert!(
            want > 0,
            "{text}: the ground truth is empty, pick another value"
        );
    }

    // Frequency tables, histograms and time windows add up to the count.
    let filter = parse(Entity::Emails, "threat:phish,spam").unwrap();
    let q = compile(Entity::Emails, &filter, &tags, now).unwrap();
    let n = remote_count(&api, &token, &q.count()).await;
    assert_eq!(
        remote_sum(&api, &token, &q.frequency("senderfromdomain").unwrap()).await,
        n
    );
    assert_eq!(
        remote_sum(&api, &token, &q.histogram(TimeBin::Day, None).unwrap()).await,
        n
    );
    assert_eq!(
        remote_sum(
            &api,
            &token,
            &q.histogram(TimeBin::Hour, Some("ThreatTypes")).unwrap()
        )
        .await,
        n
    );
    let mut windows = 0;
    for d in 0..4 {
        let from = now - TimeDelta::days(4 - d);
        let wq = q.window(from, from + TimeDelta::days(1));
        windows += remote_count(&api, &token, &wq.count()).await;
    }
    assert_eq!(windows, n);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_campaigns_and_users_compile_to_their_tables() {
    let world = World::generate(&small_world(SEED)).unwrap();
    let tags = WorldTags::of(&world);
    let mut config = SimConfig::new(small_world(SEED));
    config.hunting_calls_per_minute = 100_000;
    let server = start(config).await;
    let api = Api::of(&server);
    let token = api.token().await;
    let now = now();
    let w = &world;
    let user = w
        .alerts
        .iter()
        .find_map(|a| {
            a.evidence.iter().find_map(|e| match e {
                whalewatch::sim::world::Evidence::User { user } => {
                    Some(w.directory.users[*user as usize].upn.to_string())
                }
                _ => None,
            })
        })
        .unwrap();
    let category = w.alerts[0].category;
    let subtype = format!(
        "{}*",
        w.s(w.campaigns[0].subtype)
            .to_lowercase()
            .chars()
            .take(4)
            .collect::<String>()
    );
    let corpus: Vec<(Entity, String, Expect)> = vec![
        (Entity::Alerts, "severity:high".into(), Expect::Some),
        (
            Entity::Alerts,
            "severity:informational,low".into(),
            Expect::Some,
        ),
        (
            Entity::Alerts,
            "title:\"malicious URL\"".into(),
            Expect::Some,
        ),
        (
            Entity::Alerts,
            format!("category:{category}"),
            Expect::All("all four alerts of this small world are InitialAccess"),
        ),
        (
            Entity::Alerts,
            "-category:InitialAccess".into(),
            Expect::Zero("the same, negated"),
        ),
        (
            Entity::Alerts,
            "source:mdo".into(),
            Expect::All("every simulated alert comes from MDO"),
        ),
        (Entity::Alerts, format!("user:{user}"), Expect::Some),
        (
            Entity::Alerts,
            "is:priority OR tag:finance".into(),
            Expect::Some,
        ),
        (Entity::Alerts, "since:1d".into(), Expect::Some),
        (Entity::Alerts, "removed".into(), Expect::Some),
        (Entity::Campaigns, "type:phish".into(), Expect::Some),
        (Entity::Campaigns, "name:credential".into(), Expect::Some),
        (
            Entity::Campaigns,
            format!("subtype:{subtype}"),
            Expect::Some,
        ),
        (Entity::Campaigns, "is:priority".into(), Expect::Some),
        (Entity::Campaigns, "-tag:finance".into(), Expect::Some),
        (Entity::Users, "department:finance".into(), Expect::Some),
        (Entity::Users, "is:priority".into(), Expect::Some),
        (
            Entity::Users,
            "upn:*@contoso.com -tag:finance".into(),
            Expect::Some,
        ),
    ];
    let totals: HashMap<Entity, usize> = [
        (Entity::Alerts, 0usize),
        (Entity::Campaigns, 0),
        (Entity::Users, 0),
    ]
    .into_iter()
    .collect();
    let mut totals = totals;
    for (e, total) in totals.iter_mut() {
        let q = compile(*e, &parse(*e, "").unwrap(), &tags, now).unwrap();
        *total = remote_count(&api, &token, &q.count()).await;
    }
    let mut failures = Vec::new();
    for (e, text, expect) in &corpus {
        let q = compile(*e, &parse(*e, text).unwrap(), &tags, now)
            .unwrap_or_else(|err| panic!("{e} {text}: {err}"));
        let n = remote_count(&api, &token, &q.count()).await;
        hunt(&api, &token, &q.rows()).await;
        let total = totals[e];
        let ok = match expect {
            Expect::Some => n > 0 && n < total,
            Expect::Zero(_) => n == 0,
            Expect::All(_) => n == total,
        };
        if !ok {
            failures.push(format!(
                "{e} {text}: {n} of {total}, expected {expect:?}\n{}",
                q.count()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // Ground truth: high-severity alerts in the 30-day window; phish campaigns with mail.
    let window = ticks(now - TimeDelta::days(30));
    let high = w
        .alerts
        .iter()
        .filter(|a| a.severity == "high" && a.created >= window && a.created < ticks(now))
        .count();
    let q = compile(
        Entity::Alerts,
        &parse(Entity::Alerts, "severity:high").unwrap(),
        &tags,
        now,
    )
    .unwrap();
    assert_eq!(remote_count(&api, &token, &q.count()).await, high);
    let phish = (0..w.campaigns.len())
        .filter(|&c| &**w.s(w.campaigns[c].campaign_type) == "Phish")
        .filter(|&c| w.messages.iter().any(|m| m.campaign == Some(c as u16)))
        .count();
    let q = compile(
        Entity::Campaigns,
        &parse(Entity::Campaigns, "type:phish").unwrap(),
        &tags,
        now,
    )
    .unwrap();
    assert_eq!(remote_count(&api, &token, &q.count()).await, phish);
    assert!(remote_sum(&api, &token, &q.frequency("CampaignSubtype").unwrap()).await >= phish);
}

#[test]
fn local_only_fields_and_unknown_tags_are_compile_errors() {
    let world = World::generate(&small_world(SEED)).unwrap();
    let tags = WorldTags::of(&world);
    let c = |e: Entity, s: &str| compile(e, &parse(e, s).unwrap(), &tags, now());
    let err = c(Entity::Alerts, "status:new").unwrap_err();
    assert!(matches!(err, CompileError::NotRemote { ref field, .. } if field == "status"));
    assert!(err.to_string().contains("cannot run remotely"), "{err}");
    assert!(matches!(
        c(Entity::Alerts, "incident:4"),
        Err(CompileError::NotRemote { .. })
    ));
    assert!(matches!(
        c(Entity::Incidents, "severity:high"),
        Err(CompileError::EntityNotRemote { .. })
    ));
    let err = c(Entity::Emails, "tag:fnance").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("unknown tag `fnance`, did you mean `Finance`?; tags: ")
            && msg.contains("Finance"),
        "{msg}"
    );
    let q = c(Entity::Emails, "threat:phish").unwrap();
    let err = q.frequency("SenderFromDomian").unwrap_err();
    assert!(err.to_string().contains("SenderFromDomain"), "{err}");
    // The empty filter is the bare table.
    assert_eq!(c(Entity::Emails, "").unwrap().rows(), "EmailEvents");
}

#[test]
fn the_compiler_knows_exactly_the_simulators_documented_columns() {
    let world = World::generate(&small_world(SEED)).unwrap();
    let catalog = HuntingCatalog::new(&world);
    let ours: Vec<&str> = schema::TABLES.iter().map(|(t, _)| *t).collect();
    assert_eq!(ours, catalog.table_names());
    for (table, cols) in schema::TABLES {
        let theirs: Vec<String> = catalog
            .table(table)
            .unwrap()
            .columns()
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        assert_eq!(cols.to_vec(), theirs, "{table}");
    }
}
