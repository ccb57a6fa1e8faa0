//! Ground truth about a world, as `whalewatch sim stats` prints it. Counted from the
//! world's own structures (not through the KQL engine), so tests can compare what
//! the API serves against an independent tally.

use std::collections::BTreeMap;

use serde::Serialize;

use super::kql::Catalog;
use super::world::{HuntingCatalog, World};

/// The figures `sim stats` reports.
#[derive(Debug, Serialize)]
pub struct WorldStats {
    pub seed: u64,
    pub now: String,
    pub tenant_id: String,
    pub tenant_domain: String,
    pub users: usize,
    pub enabled_users: usize,
    pub priority_accounts: usize,
    /// Transitive members per group.
    pub groups: BTreeMap<String, usize>,
    /// Rows per advanced-hunting table.
    pub tables: BTreeMap<String, usize>,
    pub messages: usize,
    pub alerts: usize,
    pub incidents: usize,
    pub campaigns: usize,
    /// `EmailEvents` rows per `ThreatTypes` value ("" for none).
    pub rows_by_threat_type: BTreeMap<String, usize>,
    /// `EmailEvents` rows per original `DeliveryLocation`.
    pub rows_by_delivery_location: BTreeMap<String, usize>,
    /// `EmailEvents` rows per `LatestDeliveryLocation`.
    pub rows_by_latest_delivery_location: BTreeMap<String, usize>,
    /// `EmailEvents` rows whose recipient is a priority account.
    pub priority_account_rows: usize,
    /// Distinct `EmailUrlInfo.Url` values: the rows of the unfiltered Top URLs table.
    pub distinct_urls: usize,
    /// `UrlClickEvents` rows per `ActionType` (the Top clicks table's actions).
    pub url_clicks_by_action: BTreeMap<String, usize>,
    /// `UrlClickEvents` rows with `IsClickedThrough`.
    pub url_clicks_through: usize,
    /// `EmailEvents` rows ZAP moved (`Phish ZAP` / `Malware ZAP` post-delivery events).
    pub zapped_rows: usize,
    /// `EmailEvents` rows whose recipient clicked through (`ClickAllowed`, or past the
    /// warning page).
    pub clicked_through_rows: usize,
    /// `EmailEvents` rows an admin released from quarantine (`Quarantine release`).
    pub quarantine_released_rows: usize,
    pub alerts_by_title: BTreeMap<String, usize>,
    pub alerts_by_status: BTreeMap<String, usize>,
    /// Every campaign's figures by `CampaignId`, as `query::index::figures` defines
    /// them (counted here from the world, not from the tables).
    pub campaign_figures: BTreeMap<String, CampaignTruth>,
    /// Expected posture of every priority account, by lower-case UPN.
    pub posture: BTreeMap<String, PostureTruth>,
    /// The planted posture gaps, one line each (`gap: account`).
    pub posture_planted: Vec<String>,
}

/// One campaign's figures: distinct messages and recipients, message × recipient
/// copies, recipients with a copy originally in the inbox, recipients who clicked
/// (any click) and whose click got through (`ClickAllowed` or clicked through past
/// the warning), inboxed recipients who clicked, priority accounts among the
/// recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CampaignTruth {
    pub name: String,
    pub messages: usize,
    pub recipients: usize,
    pub copies: usize,
    pub inboxed: usize,
    pub clicked: usize,
    pub clicked_through: usize,
    pub clicked_inboxed: usize,
    pub priority: usize,
}

/// Every campaign's figures from the world's own structures.
pub fn campaign_truth(world: &World) -> BTreeMap<String, CampaignTruth> {
    use crate::world::Location;
    use std::collections::HashSet;
    #[derive(Default)]
    struct Sets {
        messages: HashSet<u32>,
        recipients: HashSet<String>,
        copies: usize,
        inboxed: HashSet<String>,
        clicked: HashSet<String>,
        through: HashSet<String>,
        priority: HashSet<String>,
    }
    let mut by: Vec<Sets> = (0..world.campaigns.len())
        .map(|_| Sets::default())
        .collect();
    let who = |r: u32| {
        world
            .s(world.parties[r as usize].address)
            .to_ascii_lowercase()
    };
    for row in &world.rows {
        let Some(c) = world.message_of(row).campaign else {
            continue;
        };
        let s = &mut by[c as usize];
        let a = who(row.recipient);
        s.messages.insert(row.message);
        s.copies += 1;
        if row.original == Location::Inbox {
            s.inboxed.insert(a.clone());
        }
        if world.is_priority_party(row.recipient) {
            s.priority.insert(a.clone());
        }
        s.recipients.insert(a);
    }
    for click in &world.clicks {
        let row = &world.rows[click.row as usize];
        let Some(c) = world.message_of(row).campaign else {
            continue;
        };
        let s = &mut by[c as usize];
        let a = who(row.recipient);
        if click.clicked_through || world.s(click.action_type).as_ref() == "ClickAllowed" {
            s.through.insert(a.clone());
        }
        s.clicked.insert(a);
    }
    world
        .campaigns
        .iter()
        .zip(by)
        .map(|(c, s)| {
            (
                c.id.to_string(),
                CampaignTruth {
                    name: world.s(c.name).to_string(),
                    messages: s.messages.len(),
                    recipients: s.recipients.len(),
                    copies: s.copies,
                    inboxed: s.inboxed.len(),
                    clicked: s.clicked.len(),
                    clicked_through: s.through.len(),
                    clicked_inboxed: s.clicked.intersection(&s.inboxed).count(),
                    priority: s.priority.len(),
                },
            )
        })
        .collect()
}

/// What `query::posture` must conclude for one priority account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostureTruth {
    /// `fail`, `warn` or `pass`.
    pub verdict: &'static str,
    /// Every check that fails or warns, in `CHECK_IDS` order.
    pub failing: Vec<&'static str>,
    /// The state of each check in `failing` (`fail` or `warn`).
    pub checks: BTreeMap<&'static str, &'static str>,
}

impl WorldStats {
    pub fn of(world: &World) -> WorldStats {
        let dir = &world.directory;
        let groups = (0..dir.groups.len())
            .map(|g| {
                (
                    dir.groups[g].name.to_string(),
                    dir.transitive_members(g).0.len(),
                )
            })
            .collect();
        let catalog = HuntingCatalog::new(world);
        let tables = catalog
            .table_names()
            .into_iter()
            .map(|n| {
                let len = catalog.table(&n).map_or(0, |t| t.len());
                (n, len)
            })
            .collect();
        let mut by_threat = BTreeMap::new();
        let mut by_loc = BTreeMap::new();
        let mut by_latest = BTreeMap::new();
        let mut priority_rows = 0;
        for row in &world.rows {
            let m = world.message_of(row);
            let threat = world
                .s(world.verdicts[m.verdict as usize].threat_types)
                .to_string();
            *by_threat.entry(threat).or_insert(0) += 1;
            *by_loc.entry(row.original.as_str().to_string()).or_insert(0) += 1;
            *by_latest
                .entry(row.latest.as_str().to_string())
                .or_insert(0) += 1;
            if world.is_priority_party(row.recipient) {
                priority_rows += 1;
            }
        }
        let distinct_urls = world
            .urls
            .iter()
            .map(|u| u.url)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let mut clicks_by_action = BTreeMap::new();
        for c in &world.clicks {
            *clicks_by_action
                .entry(world.s(c.action_type).to_string())
                .or_insert(0) += 1;
        }
        let mut by_title = BTreeMap::new();
        let mut by_status = BTreeMap::new();
        for a in &world.alerts {
            *by_title.entry(a.title.to_string()).or_insert(0) += 1;
            *by_status.entry(a.status.clone()).or_insert(0) += 1;
        }
        WorldStats {
            seed: world.params.seed,
            now: world
                .params
                .now
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tenant_id: world.tenant.id.to_string(),
            tenant_domain: world.tenant.initial_domain.to_string(),
            users: dir.users.len(),
            enabled_users: dir.users.iter().filter(|u| u.enabled).count(),
            priority_accounts: dir.priority.len(),
            groups,
            tables,
            messages: world.messages.len(),
            alerts: world.alerts.len(),
            incidents: world.incidents.len(),
            campaigns: world.campaigns.len(),
            rows_by_threat_type: by_threat,
            rows_by_delivery_location: by_loc,
            rows_by_latest_delivery_location: by_latest,
            priority_account_rows: priority_rows,
            distinct_urls,
            url_clicks_by_action: clicks_by_action,
            url_clicks_through: world.clicks.iter().filter(|c| c.clicked_through).count(),
            zapped_rows: world
                .post_delivery
                .iter()
                .filter(|e| matches!(world.s(e.action_type).as_ref(), "Phish ZAP" | "Malware ZAP"))
                .map(|e| e.row)
                .collect::<std::collections::HashSet<u32>>()
                .len(),
            quarantine_released_rows: world
                .post_delivery
                .iter()
                .filter(|e| world.s(e.action_type).as_ref() == "Quarantine release")
                .map(|e| e.row)
                .collect::<std::collections::HashSet<u32>>()
                .len(),
            clicked_through_rows: world
                .clicks
                .iter()
                .filter(|c| c.clicked_through || world.s(c.action_type).as_ref() == "ClickAllowed")
                .map(|c| c.row)
                .collect::<std::collections::HashSet<u32>>()
                .len(),
            alerts_by_title: by_title,
            alerts_by_status: by_status,
            campaign_figures: campaign_truth(world),
            posture: posture_truth(world),
            posture_planted: world
                .posture
                .planted
                .iter()
                .map(|(u, gap)| format!("{}: {}", gap.describe(), dir.users[*u as usize].upn))
                .collect(),
        }
    }
}

/// The expected posture of every priority account, derived from the planted facts by
/// the contract's table (`model::posture::CHECK_IDS`) — independently of
/// `query::posture`, which is checked against it. Conditional Access is judged from
/// the planted scoping (which policies the world has is fixed: CA001 admins' MFA by
/// role, CA002 MFA for all but the MFA-exclusion group, CA003 legacy block for all but
/// the legacy-mail group; the others are disabled, report-only, risk-conditioned or
/// user-action policies, which never count).
pub fn posture_truth(world: &World) -> BTreeMap<String, PostureTruth> {
    use crate::world::posture::{ADMIN_MFA_ROLES, GROUP_LEGACY_MAIL, GROUP_MFA_EXCLUSIONS};
    use whalewatch_model::posture::CHECK_IDS;
    let p = &world.posture;
    let dir = &world.directory;
    let now = world.params.now;
    let x = &p.exchange;
    let org_smtp_disabled = x.smtp_client_authentication_disabled.unwrap_or(false);
    let rule_covers = |preset: &str, upn: &str| {
        let rules: Vec<_> = x
            .preset_rules
            .iter()
            .filter(|r| r.preset == preset)
            .collect();
        let covers = |r: &whalewatch_model::posture::PresetRule| {
            let in_group = r.sent_to_member_of.iter().any(|g| {
                x.group_members
                    .get(g)
                    .is_some_and(|m| m.iter().any(|a| a.eq_ignore_ascii_case(upn)))
            });
            let in_domain = r
                .recipient_domain_is
                .iter()
                .any(|d| upn.to_ascii_lowercase().ends_with(&format!("@{d}")));
            r.state == "Enabled"
                && (in_group || in_domain || r.sent_to.iter().any(|a| a.eq_ignore_ascii_case(upn)))
                && !r
                    .except_if_sent_to
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(upn))
        };
        ["EOP", "ATP"]
            .iter()
            .all(|k| rules.iter().any(|r| r.kind == *k && covers(r)))
    };
    // One pass over sign-ins and traces each (a large world has many).
    let since = now - chrono::Duration::days(30);
    let mut legacy_by_user: std::collections::HashMap<&str, Vec<bool>> = Default::default();
    for s in &p.sign_ins {
        let legacy = s.client_app_used.as_deref().is_some_and(|c| {
            matches!(
                c,
                "IMAP4" | "Authenticated SMTP" | "Exchange ActiveSync" | "POP3"
            )
        });
        if legacy
            && s.created_date_time.is_some_and(|t| t >= since && t <= now)
            && let Some(id) = s.user_id.as_deref()
        {
            let ok = s.status.as_ref().and_then(|st| st.error_code) == Some(0);
            legacy_by_user.entry(id).or_default().push(ok);
        }
    }
    let week = now - chrono::Duration::days(7);
    let mut issue_parties = std::collections::HashSet::new();
    for t in &p.traces {
        let bad = t.status.as_deref().is_some_and(|s| {
            ["failed", "pending", "quarantined"]
                .iter()
                .any(|b| s.eq_ignore_ascii_case(b))
        });
        if bad && t.received_date_time.is_some_and(|r| r >= week && r <= now) {
            for a in [&t.sender_address, &t.recipient_address]
                .into_iter()
                .flatten()
            {
                issue_parties.insert(a.to_ascii_lowercase());
            }
        }
    }
    let mut out = BTreeMap::new();
    for &u in &dir.priority {
        let user = &dir.users[u as usize];
        let upn = user.upn.to_ascii_lowercase();
        let id = user.id.to_string();
        let mut checks: BTreeMap<&'static str, &'static str> = BTreeMap::new();

        let methods = p.methods(u);
        let has = |names: &[&str]| methods.iter().any(|m| names.contains(m));
        if !has(&[
            "fido2",
            "windowsHelloForBusiness",
            "microsoftAuthenticatorPush",
            "microsoftAuthenticatorPasswordless",
            "softwareOneTimePasscode",
            "mobilePhone",
        ]) {
            checks.insert("mfa", "fail");
        } else if !has(&[
            "fido2",
            "windowsHelloForBusiness",
            "microsoftAuthenticatorPush",
            "microsoftAuthenticatorPasswordless",
            "softwareOneTimePasscode",
        ]) {
            checks.insert("mfa", "warn");
        }

        let groups = p.groups_of(u);
        let admin = p.roles_of(u).iter().any(|r| ADMIN_MFA_ROLES.contains(r));
        if groups.contains(&GROUP_MFA_EXCLUSIONS) && !admin {
            checks.insert("ca-mfa", "fail");
        }
        if groups.contains(&GROUP_LEGACY_MAIL) {
            checks.insert("ca-legacy", "fail");
        }

        let legacy = legacy_by_user.get(id.as_str()).cloned().unwrap_or_default();
        if legacy.iter().any(|ok| *ok) {
            checks.insert("legacy-auth", "fail");
        } else if !legacy.is_empty() {
            checks.insert("legacy-auth", "warn");
        }

        if let Some(r) = p.risky.iter().find(|r| r.id == id) {
            let level = r.risk_level.as_deref().unwrap_or("none");
            let state = r.risk_state.as_deref().unwrap_or("none");
            let cleared = matches!(state, "remediated" | "dismissed" | "confirmedSafe");
            if !cleared && (level == "high" || state == "confirmedCompromised") {
                checks.insert("risk", "fail");
            } else if state == "atRisk" && matches!(level, "medium" | "low") {
                checks.insert("risk", "warn");
            }
        }

        if !rule_covers("Strict", &upn) {
            checks.insert(
                "strict-preset",
                if rule_covers("Standard", &upn) {
                    "warn"
                } else {
                    "fail"
                },
            );
        }

        let mailbox = x
            .mailboxes
            .iter()
            .find(|m| m.primary_smtp_address.eq_ignore_ascii_case(&upn));
        if let Some(m) = mailbox {
            let smtp = !m
                .smtp_client_authentication_disabled
                .unwrap_or(org_smtp_disabled);
            if m.pop_enabled == Some(true) || m.imap_enabled == Some(true) || smtp {
                checks.insert("protocols", "fail");
            }
        }
        if mailbox.is_some_and(|m| m.audit_enabled == Some(false)) || x.audit_disabled == Some(true)
        {
            checks.insert("audit", "warn");
        }

        let issue = issue_parties.contains(&upn);
        if issue {
            checks.insert("email-issues", "warn");
        }

        let failing: Vec<&'static str> = CHECK_IDS
            .iter()
            .copied()
            .filter(|c| checks.contains_key(c))
            .collect();
        let verdict = if checks.values().any(|s| *s == "fail") {
            "fail"
        } else if checks.is_empty() {
            "pass"
        } else {
            "warn"
        };
        out.insert(
            upn,
            PostureTruth {
                verdict,
                failing,
                checks,
            },
        );
    }
    out
}
