//! Exchange checks from the imported snapshot (Strict preset coverage, protocols,
//! audit) and email issues from message traces.
//!
//! Preset rules follow Exchange's semantics: condition types (`SentTo`,
//! `SentToMemberOf`, `RecipientDomainIs`) are ANDed, values within one are ORed, any
//! exception excludes; a rule with no condition covers every recipient. Group
//! conditions are resolved through the snapshot's `groupMembers`. A preset covers an
//! account only when both its EOP and its ATP rule are enabled and cover it. Strict
//! takes precedence over Standard.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Account, Check, Facts, Status, usable};
use whalewatch_model::posture::{
    ExchangeSnapshot, MailboxSettings, PostureSources, PresetRule, source,
};

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn in_group(snap: &ExchangeSnapshot, group: &str, account: &Account) -> bool {
    account.has_address(group)
        || snap
            .group_members
            .iter()
            .filter(|(g, _)| g.eq_ignore_ascii_case(group))
            .flat_map(|(_, m)| m)
            .any(|m| account.has_address(m))
}

fn any_match(
    snap: &ExchangeSnapshot,
    to: &[String],
    groups: &[String],
    domains: &[String],
    a: &Account,
) -> [Option<bool>; 3] {
    let dom = |d: &String| {
        a.addresses
            .iter()
            .any(|x| domain(x).eq_ignore_ascii_case(d))
    };
    [
        (!to.is_empty()).then(|| to.iter().any(|t| a.has_address(t))),
        (!groups.is_empty()).then(|| groups.iter().any(|g| in_group(snap, g, a))),
        (!domains.is_empty()).then(|| domains.iter().any(dom)),
    ]
}

/// How one rule treats the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleCoverage {
    /// Enabled and its conditions select the account.
    Covered,
    /// Its conditions select the account but an exception excludes it.
    Excepted(String),
    /// Conditions do not select the account.
    NotSelected,
    /// The rule is disabled.
    Disabled,
}

/// How `rule` treats `account`.
pub fn rule_coverage(
    snap: &ExchangeSnapshot,
    rule: &PresetRule,
    account: &Account,
) -> RuleCoverage {
    if !rule.state.eq_ignore_ascii_case("Enabled") {
        return RuleCoverage::Disabled;
    }
    let cond = any_match(
        snap,
        &rule.sent_to,
        &rule.sent_to_member_of,
        &rule.recipient_domain_is,
        account,
    );
    if cond.contains(&Some(false)) {
        return RuleCoverage::NotSelected;
    }
    let exc = any_match(
        snap,
        &rule.except_if_sent_to,
        &rule.except_if_sent_to_member_of,
        &rule.except_if_recipient_domain_is,
        account,
    );
    let names = [
        "ExceptIfSentTo",
        "ExceptIfSentToMemberOf",
        "ExceptIfRecipientDomainIs",
    ];
    if let Some(i) = exc.iter().position(|e| *e == Some(true)) {
        return RuleCoverage::Excepted(names[i].to_string());
    }
    RuleCoverage::Covered
}

/// A preset's coverage: both rules covering; otherwise why not.
fn preset(
    snap: &ExchangeSnapshot,
    name: &str,
    account: &Account,
    evidence: &mut Vec<String>,
) -> (bool, bool) {
    let mut covered = [false, false];
    let mut excepted = false;
    for (i, kind) in ["EOP", "ATP"].iter().enumerate() {
        let rules: Vec<&PresetRule> = snap
            .preset_rules
            .iter()
            .filter(|r| r.preset.eq_ignore_ascii_case(name) && r.kind.eq_ignore_ascii_case(kind))
            .collect();
        if rules.is_empty() {
            evidence.push(format!("{name} {kind} rule: none"));
        }
        for r in rules {
            let cov = rule_coverage(snap, r, account);
            let text = match &cov {
                RuleCoverage::Covered => "covers the account".to_string(),
                RuleCoverage::Excepted(why) => {
                    excepted = true;
                    format!("excludes the account ({why})")
                }
                RuleCoverage::NotSelected => "does not name the account".into(),
                RuleCoverage::Disabled => "disabled".into(),
            };
            evidence.push(format!("{name} {kind} rule '{}': {text}", r.name));
            covered[i] |= cov == RuleCoverage::Covered;
        }
    }
    (covered[0] && covered[1], excepted)
}

/// `strict-preset`.
pub fn strict_preset(sources: &PostureSources, account: &Account, facts: &mut Facts) -> Check {
    if let Err(why) = usable(sources, source::EXCHANGE) {
        return Check::unknown("strict-preset", why);
    }
    let Some(snap) = &sources.exchange else {
        return Check::unknown("strict-preset", "no Exchange snapshot".into());
    };
    let mut evidence = Vec::new();
    let (strict, excepted) = preset(snap, "Strict", account, &mut evidence);
    let (standard, _) = preset(snap, "Standard", account, &mut evidence);
    let (status, summary, fact) = if strict {
        if standard {
            evidence.push("Strict takes precedence over Standard".into());
        }
        (Status::Pass, "Strict preset applies", "strict")
    } else if standard {
        (
            Status::Warn,
            "Standard preset only (not Strict)",
            "standard",
        )
    } else if excepted {
        (Status::Fail, "excluded from the Strict preset", "excluded")
    } else {
        (
            Status::Fail,
            "no preset security policy covers the account",
            "none",
        )
    };
    facts.strict = fact.into();
    let mut c = Check::new("strict-preset", status, summary).remedy(
        "Defender portal › Email & collaboration › Policies › Preset security policies › Strict protection: add the account (or its group) to both Exchange Online Protection and Defender for Office 365 protection, and remove any exception (Set-EOPProtectionPolicyRule / Set-ATPProtectionPolicyRule -Identity 'Strict Preset Security Policy')",
    );
    c.evidence = evidence;
    c
}

fn mailbox<'a>(snap: &'a ExchangeSnapshot, account: &Account) -> Option<&'a MailboxSettings> {
    snap.mailboxes.iter().find(|m| {
        account.has_address(&m.primary_smtp_address)
            || m.user_principal_name
                .as_deref()
                .is_some_and(|u| account.has_address(u))
    })
}

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

/// `protocols`: POP, IMAP and SMTP AUTH (mailbox value, else the organisation default).
pub fn protocols(sources: &PostureSources, account: &Account, facts: &mut Facts) -> Check {
    if let Err(why) = usable(sources, source::EXCHANGE) {
        return Check::unknown("protocols", why);
    }
    let Some(snap) = &sources.exchange else {
        return Check::unknown("protocols", "no Exchange snapshot".into());
    };
    let Some(mb) = mailbox(snap, account) else {
        return Check::unknown(
            "protocols",
            "mailbox not in the Exchange snapshot — rerun the script after marking the account as VIP".into(),
        );
    };
    // SMTP AUTH is enabled when not disabled: mailbox tri-state, else the org default.
    let (smtp_disabled, from_org) = match mb.smtp_client_authentication_disabled {
        Some(d) => (Some(d), false),
        None => (snap.smtp_client_authentication_disabled, true),
    };
    let smtp = smtp_disabled.map(|d| !d);
    facts.protocols = format!(
        "POP {} · IMAP {} · SMTP {}",
        on_off(mb.pop_enabled),
        on_off(mb.imap_enabled),
        on_off(smtp)
    );
    let mut on = Vec::new();
    if mb.pop_enabled == Some(true) {
        on.push("POP");
    }
    if mb.imap_enabled == Some(true) {
        on.push("IMAP");
    }
    if smtp == Some(true) {
        on.push("SMTP AUTH");
    }
    let unknown = mb.pop_enabled.is_none() || mb.imap_enabled.is_none() || smtp.is_none();
    let mut c = if !on.is_empty() {
        Check::new("protocols", Status::Fail, format!("{} enabled", on.join(", ")))
    } else if unknown {
        Check::new("protocols", Status::Unknown, "the snapshot lacks a protocol setting")
    } else {
        Check::new("protocols", Status::Pass, "POP, IMAP and SMTP AUTH off")
    }
    .remedy(format!(
        "Set-CASMailbox -Identity {} -PopEnabled $false -ImapEnabled $false -SmtpClientAuthenticationDisabled $true (Exchange admin centre › Mailboxes › Email apps)",
        mb.primary_smtp_address
    ));
    c.evidence.push(format!(
        "POP {}, IMAP {}, SMTP AUTH {}{}",
        on_off(mb.pop_enabled),
        on_off(mb.imap_enabled),
        on_off(smtp),
        if from_org {
            " (organisation default)"
        } else {
            " (mailbox setting)"
        }
    ));
    c
}

/// `audit`: mailbox audit logging.
pub fn audit(sources: &PostureSources, account: &Account) -> Check {
    if let Err(why) = usable(sources, source::EXCHANGE) {
        return Check::unknown("audit", why);
    }
    let Some(snap) = &sources.exchange else {
        return Check::unknown("audit", "no Exchange snapshot".into());
    };
    let mb = mailbox(snap, account).and_then(|m| m.audit_enabled);
    let mut c = match (snap.audit_disabled, mb) {
        (Some(true), _) => Check::new("audit", Status::Warn, "mailbox auditing is off for the organisation"),
        (_, Some(false)) => Check::new("audit", Status::Warn, "mailbox audit off"),
        (_, Some(true)) | (Some(false), None) => Check::new("audit", Status::Pass, "mailbox audit on"),
        (None, None) => Check::new("audit", Status::Unknown, "the snapshot lacks audit settings"),
    }
    .remedy("Set-OrganizationConfig -AuditDisabled $false; Set-Mailbox -Identity <mailbox> -AuditEnabled $true");
    c.evidence.push(format!(
        "organisation AuditDisabled {}, mailbox AuditEnabled {}",
        snap.audit_disabled.map_or("?".into(), |b| b.to_string()),
        mb.map_or("?".into(), |b| b.to_string())
    ));
    c
}

/// Days of message traces the email-issues check reads.
pub const ISSUE_DAYS: i64 = 7;

/// `email-issues`: failed, pending or quarantined mail to or from the account.
pub fn email_issues(
    sources: &PostureSources,
    account: &Account,
    now: DateTime<Utc>,
    facts: &mut Facts,
) -> Check {
    if let Err(why) = usable(sources, source::MESSAGE_TRACES) {
        return Check::unknown("email-issues", why);
    }
    let since = now - TimeDelta::days(ISSUE_DAYS);
    let mut issues = Vec::new();
    let mut spam = 0;
    for t in &sources.traces {
        let mine = [&t.sender_address, &t.recipient_address]
            .iter()
            .any(|a| a.as_deref().is_some_and(|a| account.has_address(a)));
        if !mine || !t.received_date_time.is_some_and(|r| r >= since && r <= now) {
            continue;
        }
        let status = t.status.as_deref().unwrap_or("");
        if ["failed", "pending", "quarantined"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(status))
        {
            issues.push(t);
        } else if status.eq_ignore_ascii_case("filteredAsSpam") {
            spam += 1;
        }
    }
    facts.email_issues = issues.len();
    let mut c = if issues.is_empty() {
        Check::new("email-issues", Status::Pass, "no failed, pending or quarantined mail in 7 days")
    } else {
        Check::new(
            "email-issues",
            Status::Warn,
            format!("{} failed, pending or quarantined message(s) in 7 days", issues.len()),
        )
    }
    .remedy("Exchange admin centre › Reports › Mail flow › Email issues for priority accounts; open each in message trace (Get-MessageTraceV2) and release or resend");
    for t in issues.iter().take(20) {
        c.evidence.push(format!(
            "{} {} {} → {}: {}",
            t.received_date_time
                .map_or("?".into(), |r| r.format("%Y-%m-%d %H:%M").to_string()),
            t.status.as_deref().unwrap_or("?"),
            t.sender_address.as_deref().unwrap_or("?"),
            t.recipient_address.as_deref().unwrap_or("?"),
            t.subject.as_deref().unwrap_or(""),
        ));
    }
    if spam > 0 {
        c.evidence
            .push(format!("{spam} filtered as spam (not counted)"));
    }
    c
}
