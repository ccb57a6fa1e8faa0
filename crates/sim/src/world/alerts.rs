//! Alerts raised by the default Defender for Office 365 alert policies, and the
//! incidents that group them. Every alert's evidence points at real rows of the
//! world, so alert → messages and message → alerts pivots have something to find.

use std::collections::BTreeMap;

use super::World;
use super::types::{Direction, Kind};
use super::vocab;
use crate::kql::TICKS_PER_SECOND;
use crate::rng::{Guid, SimRng};

const MINUTE: i64 = 60 * TICKS_PER_SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// One piece of alert evidence, by reference into the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// `analyzedMessageEvidence` for a recipient row of `EmailEvents`.
    Message { row: u32 },
    /// `userEvidence` for a directory user.
    User { user: u32 },
    /// `urlEvidence` for a row of `EmailUrlInfo`.
    Url { url: u32 },
    /// `mailboxEvidence` for a directory user's mailbox.
    Mailbox { user: u32 },
}

/// An alert comment (`alertComment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertComment {
    pub comment: String,
    pub created_by: String,
    pub time: i64,
}

/// An `alerts_v2` alert. Mutable fields change through PATCH and comments.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: String,
    pub incident: u64,
    pub title: &'static str,
    pub description: String,
    pub severity: &'static str,
    pub category: &'static str,
    pub status: String,
    pub classification: String,
    pub determination: String,
    pub assigned_to: Option<String>,
    pub created: i64,
    pub last_update: i64,
    pub resolved: Option<i64>,
    pub first_activity: i64,
    pub last_activity: i64,
    pub detector_id: Guid,
    pub mitre: Vec<&'static str>,
    pub threat_family: Option<String>,
    pub comments: Vec<AlertComment>,
    pub evidence: Vec<Evidence>,
    /// The campaign behind the alert, used to group incidents.
    pub campaign: Option<u16>,
}

/// A security incident grouping alerts.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: u64,
    pub display_name: String,
    pub description: String,
    pub created: i64,
    pub last_update: i64,
    pub status: String,
    pub severity: &'static str,
    pub classification: String,
    pub determination: String,
    pub assigned_to: Option<String>,
    pub custom_tags: Vec<String>,
    /// Indices into `World::alerts`.
    pub alerts: Vec<u32>,
    /// Comments written on the incident itself (`POST /security/incidents/{id}/comments`).
    pub comments: Vec<AlertComment>,
    /// An analyst set the incident's own status or verdict (`PATCH`): from then on they
    /// are its own, no longer rolled up from its alerts.
    pub triaged: bool,
}

/// The default alert policies the world raises.
pub mod titles {
    pub const URL_CLICK: &str = "A potentially malicious URL click was detected";
    pub const ZAP_URL: &str = "Email messages containing malicious URL removed after delivery";
    pub const ZAP_MALWARE: &str = "Email messages containing malware removed after delivery";
    pub const USER_REPORTED: &str = "Email reported by user as malware or phish";
    pub const SENDING_PATTERNS: &str = "Suspicious email sending patterns detected";
    pub const RESTRICTED: &str = "User restricted from sending email";
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

struct Draft {
    title: &'static str,
    severity: &'static str,
    mitre: &'static [&'static str],
    activity: (i64, i64),
    evidence: Vec<Evidence>,
    campaign: Option<u16>,
    group: String,
    family: Option<String>,
    description: String,
}

/// Raises the world's alerts from its mail, clicks and post-delivery events, and groups
/// them into incidents (one per campaign, else one per click, message, report or account).
pub fn generate(w: &mut World) {
    let mut rng = SimRng::new(w.params.seed, "alerts");
    let now = w.now();
    let mut drafts = click_drafts(w);
    drafts.extend(zap_drafts(w));
    drafts.extend(report_drafts(w, now));
    drafts.extend(compromise_drafts(w, now));
    drafts.sort_by(|a, b| {
        a.activity
            .1
            .cmp(&b.activity.1)
            .then_with(|| a.group.cmp(&b.group))
    });
    let mut alerts = Vec::with_capacity(drafts.len());
    let mut groups: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for d in drafts {
        groups
            .entry(match d.campaign {
                Some(c) => format!("campaign-{c}"),
                None => d.group.clone(),
            })
            .or_default()
            .push(alerts.len() as u32);
        alerts.push(triaged(d, &mut rng, now));
    }
    let incidents = incidents(w, &mut alerts, groups, &mut rng);
    w.alerts = alerts;
    w.incidents = incidents;
}

/// `party` as a directory user, if it is one (not an external address).
fn user_of(w: &World, party: u32) -> Option<u32> {
    (party < w.directory.users.len() as u32).then_some(party)
}

/// Clicks through to malicious URLs.
fn click_drafts(w: &World) -> Vec<Draft> {
    let mut drafts = Vec::new();
    for c in &w.clicks {
        let url = &w.urls[c.url as usize];
        if !url.malicious || (&**w.s(c.action_type) == "ClickBlocked" && !c.clicked_through) {
            continue;
        }
        let row = &w.rows[c.row as usize];
        let Some(user) = user_of(w, row.recipient) else {
            continue;
        };
        let m = &w.messages[row.message as usize];
        drafts.push(Draft {
            title: titles::URL_CLICK,
            severity: "high",
            mitre: &["T1566.002"],
            activity: (c.time, c.time),
            evidence: vec![Evidence::Message { row: c.row }, Evidence::User { user }, Evidence::Url { url: c.url }, Evidence::Mailbox { user }],
            campaign: m.campaign,
            group: format!("click-{}", c.row),
            family: None,
            description: format!(
                "{} clicked a URL that was later found to be malicious. Review the message, the sign-in activity of the user and reset credentials if needed.",
                w.directory.users[user as usize].upn
            ),
        });
    }
    drafts
}

/// ZAP, one alert per message.
fn zap_drafts(w: &World) -> Vec<Draft> {
    let mut zapped: BTreeMap<u32, Vec<(u32, i64)>> = BTreeMap::new();
    for e in &w.post_delivery {
        let t = &**w.s(e.action_type);
        if t == "Phish ZAP" || t == "Malware ZAP" {
            zapped
                .entry(w.rows[e.row as usize].message)
                .or_default()
                .push((e.row, e.time));
        }
    }
    let mut drafts = Vec::new();
    for (msg, rows) in zapped {
        let m = &w.messages[msg as usize];
        let malware = m.kind == Kind::Malware;
        let first = rows.iter().map(|r| r.1).min().unwrap_or(m.time);
        let last = rows.iter().map(|r| r.1).max().unwrap_or(m.time);
        let mut evidence = Vec::new();
        for (row, _) in &rows {
            evidence.push(Evidence::Message { row: *row });
            if let Some(u) = user_of(w, w.rows[*row as usize].recipient) {
                evidence.push(Evidence::Mailbox { user: u });
            }
        }
        drafts.push(Draft {
            title: if malware {
                titles::ZAP_MALWARE
            } else {
                titles::ZAP_URL
            },
            severity: "informational",
            mitre: &["T1566.001"],
            activity: (first, last),
            evidence,
            campaign: m.campaign,
            group: format!("zap-{msg}"),
            family: malware
                .then(|| w.s(w.verdicts[m.verdict as usize].threat_names).to_string())
                .filter(|s| !s.is_empty()),
            description: format!(
                "Zero-hour auto purge removed {} message(s) after delivery.",
                rows.len()
            ),
        });
    }
    drafts
}

/// Users reporting phish that reached them.
fn report_drafts(w: &World, now: i64) -> Vec<Draft> {
    let mut drafts = Vec::new();
    for (i, row) in w.rows.iter().enumerate() {
        let m = &w.messages[row.message as usize];
        if !m.kind.is_phish()
            || row.original != super::Location::Inbox
            || m.direction != Direction::Inbound
        {
            continue;
        }
        // Deterministic per row, independent of iteration elsewhere.
        if SimRng::new(w.params.seed ^ i as u64, "report").unit() >= 0.12 {
            continue;
        }
        let Some(user) = user_of(w, row.recipient) else {
            continue;
        };
        let t = later(
            m.time,
            20 * MINUTE + (i as i64 % 97) * MINUTE,
            now,
            i as u64,
        );
        drafts.push(Draft {
            title: titles::USER_REPORTED,
            severity: "informational",
            mitre: &[],
            activity: (t, t),
            evidence: vec![Evidence::Message { row: i as u32 }, Evidence::User { user }],
            campaign: m.campaign,
            group: format!("report-{i}"),
            family: None,
            description: format!(
                "{} reported a message as phish.",
                w.directory.users[user as usize].upn
            ),
        });
    }
    drafts
}

/// Compromised accounts: their outbound spam bursts.
fn compromise_drafts(w: &World, now: i64) -> Vec<Draft> {
    let mut bursts: BTreeMap<u32, Vec<(u32, i64)>> = BTreeMap::new();
    for (i, row) in w.rows.iter().enumerate() {
        let m = &w.messages[row.message as usize];
        if m.kind == Kind::CompromisedOutbound {
            bursts.entry(m.from).or_default().push((i as u32, m.time));
        }
    }
    let mut drafts = Vec::new();
    for (user, rows) in bursts {
        let first = rows.first().map_or(now, |r| r.1);
        let last = rows.last().map_or(now, |r| r.1);
        let mut evidence = vec![Evidence::User { user }, Evidence::Mailbox { user }];
        evidence.extend(rows.iter().take(5).map(|r| Evidence::Message { row: r.0 }));
        let upn = w.directory.users[user as usize].upn.to_string();
        for (title, severity, mitre, desc) in [
            (
                titles::SENDING_PATTERNS,
                "medium",
                &["T1114"][..],
                format!("{upn} sent an unusual volume of suspicious outbound email."),
            ),
            (
                titles::RESTRICTED,
                "high",
                &["T1534"][..],
                format!(
                    "{upn} was restricted from sending email after exceeding outbound spam limits."
                ),
            ),
        ] {
            drafts.push(Draft {
                title,
                severity,
                mitre,
                activity: (first, last),
                evidence: evidence.clone(),
                campaign: None,
                group: format!("compromised-{user}"),
                family: None,
                description: desc,
            });
        }
    }
    drafts
}

/// `base + delay`, or, when that is not before `now`, a point between `base` and
/// `now` chosen by `spread` — so the newest alerts and incidents keep distinct times
/// instead of all sitting on the instant before `now`.
fn later(base: i64, delay: i64, now: i64, spread: u64) -> i64 {
    if base + delay < now {
        return base + delay;
    }
    let room = (now - 1 - base).max(0);
    if room == 0 {
        return base.min(now - 1);
    }
    base + 1 + (spread % room as u64) as i64
}

/// The alert a draft becomes once analysts have (or have not yet) worked on it: its
/// status, verdict, owner and comment. Draws from `rng` in a fixed order (the world
/// is reproducible from its seed).
fn triaged(d: Draft, rng: &mut SimRng, now: i64) -> Alert {
    let created = later(
        d.activity.1,
        rng.range(2, 30) as i64 * MINUTE + rng.below(MINUTE as u64) as i64,
        now,
        rng.next_u64(),
    );
    let age = now - created;
    let status = match (
        age > 3 * DAY,
        rng.weighted(&[75, 10, 15]),
        rng.weighted(&[20, 20, 60]),
    ) {
        (true, 0, _) | (false, _, 0) => "resolved",
        (true, 1, _) | (false, _, 1) => "inProgress",
        _ => "new",
    };
    let (classification, determination) = if status == "resolved" {
        match (d.title, rng.weighted(&[70, 15, 15])) {
            (titles::SENDING_PATTERNS | titles::RESTRICTED, _) => {
                ("truePositive", "compromisedAccount")
            }
            (titles::ZAP_MALWARE, _) => ("truePositive", "malware"),
            (_, 0) => ("truePositive", "phishing"),
            (_, 1) => ("falsePositive", "notMalicious"),
            _ => ("informationalExpectedActivity", "securityTesting"),
        }
    } else {
        ("unknown", "unknown")
    };
    let assigned = (status != "new").then(|| rng.pick(vocab::ANALYSTS).to_string());
    let last_update = if status == "new" {
        created
    } else {
        later(
            created,
            rng.range(1, 48) as i64 * HOUR + rng.below(HOUR as u64) as i64,
            now,
            rng.next_u64(),
        )
    };
    let mut comments = Vec::new();
    if status == "resolved" && rng.chance(0.5) {
        comments.push(AlertComment {
            comment: match determination {
                "phishing" => "Confirmed phishing; remaining copies purged.".into(),
                "malware" => "Payload detonated in sandbox; malware confirmed.".into(),
                "compromisedAccount" => {
                    "Password reset, sessions revoked, MFA re-registered.".into()
                }
                _ => "Reviewed; no action needed.".into(),
            },
            created_by: assigned.clone().unwrap_or_default(),
            time: last_update,
        });
    }
    Alert {
        id: format!("fa{}", rng.hex(16)),
        incident: 0,
        title: d.title,
        description: d.description,
        severity: d.severity,
        category: "InitialAccess",
        status: status.to_string(),
        classification: classification.to_string(),
        determination: determination.to_string(),
        assigned_to: assigned,
        created,
        last_update,
        resolved: (status == "resolved").then_some(last_update),
        first_activity: d.activity.0,
        last_activity: d.activity.1,
        detector_id: Guid(
            u128::from(super::super::rng::fnv1a(d.title.as_bytes())) << 64 | 0x4000_8000_0000_0000,
        ),
        mitre: d.mitre.to_vec(),
        threat_family: d.family,
        comments,
        evidence: d.evidence,
        campaign: d.campaign,
    }
}

/// Incidents, in order of their first alert; sets each alert's `incident`.
fn incidents(
    w: &World,
    alerts: &mut [Alert],
    groups: BTreeMap<String, Vec<u32>>,
    rng: &mut SimRng,
) -> Vec<Incident> {
    let mut order: Vec<(u32, Vec<u32>, String)> =
        groups.into_iter().map(|(k, v)| (v[0], v, k)).collect();
    order.sort();
    let base = 1000 + rng.below(9000);
    let mut incidents = Vec::with_capacity(order.len());
    for (n, (_, members, key)) in order.into_iter().enumerate() {
        let id = base + n as u64;
        for &a in &members {
            alerts[a as usize].incident = id;
        }
        let first = &alerts[members[0] as usize];
        let mut inc = Incident {
            id,
            display_name: incident_name(w, alerts, &members, &key),
            description: String::new(),
            created: first.created,
            last_update: first.last_update,
            status: String::new(),
            severity: first.severity,
            classification: String::new(),
            determination: String::new(),
            assigned_to: first.assigned_to.clone(),
            custom_tags: if key.starts_with("campaign-") {
                vec!["Campaign".into()]
            } else {
                vec![]
            },
            alerts: members,
            comments: Vec::new(),
            triaged: false,
        };
        refresh_incident(&mut inc, alerts);
        incidents.push(inc);
    }
    incidents
}

/// An incident's name, as Defender words it: the campaign and how many users it reached,
/// an email compromise, or the first alert's title.
fn incident_name(w: &World, alerts: &[Alert], members: &[u32], key: &str) -> String {
    let first = &alerts[members[0] as usize];
    if let Some(c) = first.campaign.filter(|_| key.starts_with("campaign-")) {
        let users: std::collections::BTreeSet<u32> = members
            .iter()
            .flat_map(|a| alerts[*a as usize].evidence.iter())
            .filter_map(|e| match e {
                Evidence::User { user } | Evidence::Mailbox { user } => Some(*user),
                _ => None,
            })
            .collect();
        format!(
            "{} campaign '{}' involving {} user(s)",
            w.s(w.campaigns[c as usize].campaign_type),
            w.s(w.campaigns[c as usize].name),
            users.len()
        )
    } else if key.starts_with("compromised-") {
        "Email compromise involving one user".to_string()
    } else {
        format!("{} involving one user", first.title)
    }
}

/// Derives an incident's status, severity, verdict and last update from its alerts,
/// so a PATCH on an alert shows in its incident too.
pub fn refresh_incident(inc: &mut Incident, alerts: &[Alert]) {
    let members: Vec<&Alert> = inc.alerts.iter().map(|a| &alerts[*a as usize]).collect();
    inc.severity = members
        .iter()
        .map(|a| a.severity)
        .max_by_key(|s| severity_rank(s))
        .unwrap_or("informational");
    // Never earlier than the incident's own writes (a PATCH or comment on it).
    inc.last_update = members
        .iter()
        .map(|a| a.last_update)
        .max()
        .unwrap_or(inc.created)
        .max(inc.last_update);
    inc.description = format!(
        "{} alert(s) from Microsoft Defender for Office 365.",
        members.len()
    );
    if inc.triaged {
        return;
    }
    let all_resolved = members.iter().all(|a| a.status == "resolved");
    inc.status = if all_resolved {
        "resolved".into()
    } else {
        "active".into()
    };
    let (c, d) = if all_resolved {
        members
            .first()
            .map_or(("unknown".to_string(), "unknown".to_string()), |a| {
                (a.classification.clone(), a.determination.clone())
            })
    } else {
        ("unknown".into(), "unknown".into())
    };
    inc.classification = c;
    inc.determination = d;
}
