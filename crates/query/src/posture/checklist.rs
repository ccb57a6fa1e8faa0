//! The tenant checklist: Secure Score now / max with its trend, and each practice of
//! Microsoft's priority-account guidance as a row with its state — from the Secure
//! Score control that measures it (ids as `secureScoreControlProfiles` names them) or
//! from whalewatch's own per-account checks.
//!
//! A control is implemented when the newest score gives it its maximum, partly when it
//! earns some points, not when it earns none; a control the score does not list is
//! unknown. Secure Score itself passes at 80 % of its maximum or more, else warns.

use serde::Serialize;

use super::{AccountPosture, Status, sparkline, usable};
use whalewatch_model::posture::{PostureSources, SecureScore, SecureScoreControl, source};

/// One practice of the guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Practice {
    /// What the guidance asks.
    pub name: &'static str,
    /// Its state.
    pub status: Status,
    /// Where the state comes from, in a line.
    pub detail: String,
    /// The Secure Score control(s) read, if any.
    pub controls: Vec<String>,
    /// The control's remediation text (HTML removed), or whalewatch's own.
    pub remediation: String,
}

/// The whole checklist.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checklist {
    /// Newest Secure Score.
    pub score: Option<f64>,
    /// Its maximum.
    pub max: Option<f64>,
    /// Daily scores of the last 90 days, oldest first.
    pub trend: Vec<f64>,
    /// The trend as a sparkline.
    pub sparkline: String,
    /// One row per practice.
    pub practices: Vec<Practice>,
}

/// Removes HTML tags and collapses whitespace (control remediation texts are HTML).
pub fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
        .replace(" ,", ",")
}

fn control_state(newest: Option<&SecureScore>, control: &SecureScoreControl) -> Status {
    let Some(score) = newest
        .and_then(|s| {
            s.control_scores
                .iter()
                .find(|c| c.control_name.eq_ignore_ascii_case(&control.id))
        })
        .and_then(|c| c.score)
    else {
        return Status::Unknown;
    };
    match control.max_score {
        Some(max) if max > 0.0 && score >= max => Status::Pass,
        _ if score > 0.0 => Status::Warn,
        Some(_) => Status::Fail,
        None => Status::Unknown,
    }
}

/// Worst of several states (fail > unknown > warn > pass for controls).
fn worst(states: &[Status]) -> Status {
    [Status::Fail, Status::Unknown, Status::Warn, Status::Pass]
        .into_iter()
        .find(|s| states.contains(s))
        .unwrap_or(Status::Unknown)
}

fn from_controls(sources: &PostureSources, name: &'static str, ids: &[&str]) -> Practice {
    if let Err(why) = usable(sources, source::SECURE_SCORE) {
        return Practice {
            name,
            status: Status::Unknown,
            detail: why,
            controls: ids.iter().map(|s| s.to_string()).collect(),
            remediation: String::new(),
        };
    }
    let newest = sources.scores.last();
    let found: Vec<&SecureScoreControl> = ids
        .iter()
        .filter_map(|id| {
            sources
                .controls
                .iter()
                .find(|c| c.id.eq_ignore_ascii_case(id))
        })
        .collect();
    if found.is_empty() {
        return Practice {
            name,
            status: Status::Unknown,
            detail: format!("no Secure Score control {} in this tenant", ids.join(" / ")),
            controls: ids.iter().map(|s| s.to_string()).collect(),
            remediation: String::new(),
        };
    }
    let states: Vec<Status> = found.iter().map(|c| control_state(newest, c)).collect();
    let status = worst(&states);
    let detail = found
        .iter()
        .zip(&states)
        .map(|(c, s)| {
            format!(
                "{} ({}): {}",
                c.title.as_deref().unwrap_or(&c.id),
                c.id,
                match s {
                    Status::Pass => "implemented",
                    Status::Warn => "partly implemented",
                    Status::Fail => "not implemented",
                    Status::Unknown => "not scored",
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let remediation = found
        .iter()
        .zip(&states)
        .find(|(_, s)| **s != Status::Pass)
        .or_else(|| found.iter().zip(&states).next())
        .and_then(|(c, _)| c.remediation.as_deref())
        .map(plain)
        .unwrap_or_default();
    Practice {
        name,
        status,
        detail,
        controls: found.iter().map(|c| c.id.clone()).collect(),
        remediation,
    }
}

fn from_checks(
    accounts: &[AccountPosture],
    name: &'static str,
    ids: &[&str],
    remediation: &str,
) -> Practice {
    let total = accounts.len();
    let count = |s: Status| {
        accounts
            .iter()
            .filter(|a| {
                a.checks
                    .iter()
                    .any(|c| ids.contains(&c.id) && c.status == s)
            })
            .count()
    };
    let (fail, warn, unknown) = (
        count(Status::Fail),
        count(Status::Warn),
        count(Status::Unknown),
    );
    let status = if total == 0 {
        Status::Unknown
    } else if fail > 0 {
        Status::Fail
    } else if unknown > 0 {
        Status::Unknown
    } else if warn > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    Practice {
        name,
        status,
        detail: format!(
            "whalewatch's {} check: {fail} of {total} priority accounts fail, {warn} warn, {unknown} unknown",
            ids.join(" + ")
        ),
        controls: Vec::new(),
        remediation: remediation.to_string(),
    }
}

/// Combines a whalewatch check with a Secure Score control (the worse state wins;
/// the control's remediation text is kept when there is one).
fn both(mut own: Practice, control: Practice) -> Practice {
    // An unscored control does not hide a known result of our own.
    if control.status != Status::Unknown {
        own.status = worst(&[own.status, control.status]);
    }
    own.detail = format!("{}; Secure Score: {}", own.detail, control.detail);
    own.controls = control.controls;
    // The control's text only when the control itself is the gap.
    if control.status != Status::Pass && !control.remediation.is_empty() {
        own.remediation = control.remediation;
    }
    own
}

/// The checklist over the sources and the evaluated accounts.
pub fn checklist(sources: &PostureSources, accounts: &[AccountPosture]) -> Checklist {
    let mut out = Checklist::default();
    let score_usable = usable(sources, source::SECURE_SCORE);
    if score_usable.is_ok() {
        let n = sources.scores.len();
        let recent = &sources.scores[n.saturating_sub(90)..];
        out.trend = recent.iter().filter_map(|s| s.current_score).collect();
        out.sparkline = sparkline(&out.trend);
        if let Some(s) = sources.scores.last() {
            out.score = s.current_score;
            out.max = s.max_score;
        }
    }
    let score_row = Practice {
        name: "Secure Score",
        status: match (out.score, out.max) {
            (Some(s), Some(m)) if m > 0.0 && s / m >= 0.8 => Status::Pass,
            (Some(_), Some(_)) => Status::Warn,
            _ => Status::Unknown,
        },
        detail: match (out.score, out.max) {
            (Some(s), Some(m)) => format!(
                "{s:.0} / {m:.0} ({:.0} %)",
                if m > 0.0 { s * 100.0 / m } else { 0.0 }
            ),
            _ => score_usable.err().unwrap_or_else(|| "no score yet".into()),
        },
        controls: Vec::new(),
        remediation: "Defender portal › Exposure management › Secure Score › Recommended actions"
            .into(),
    };
    let pap = match sources.exchange.as_ref().filter(|_| usable(sources, source::EXCHANGE).is_ok()) {
        Some(s) => Practice {
            name: "Priority account protection on",
            status: match s.priority_account_protection {
                Some(true) => Status::Pass,
                Some(false) => Status::Fail,
                None => Status::Unknown,
            },
            detail: format!(
                "Get-EmailTenantSettings EnablePriorityAccountProtection: {}",
                s.priority_account_protection.map_or("?".into(), |b| b.to_string())
            ),
            controls: Vec::new(),
            remediation: "Defender portal › Settings › Email & collaboration › Priority account protection: on (Set-EmailTenantSettings -EnablePriorityAccountProtection $true)".into(),
        },
        None => Practice {
            name: "Priority account protection on",
            status: Status::Unknown,
            detail: usable(sources, source::EXCHANGE).err().unwrap_or_default(),
            controls: Vec::new(),
            remediation: String::new(),
        },
    };
    out.practices = vec![
        both(
            from_checks(
                accounts,
                "MFA for priority accounts",
                &["mfa", "ca-mfa"],
                "Require MFA in Conditional Access and register strong methods",
            ),
            from_controls(sources, "MFA", &["MFARegistrationV2", "AdminMFAV2"]),
        ),
        both(
            from_checks(
                accounts,
                "No legacy authentication",
                &["ca-legacy", "legacy-auth", "protocols"],
                "Block legacy authentication in Conditional Access",
            ),
            from_controls(sources, "legacy", &["BlockLegacyAuthentication"]),
        ),
        from_checks(
            accounts,
            "Strict preset for priority accounts",
            &["strict-preset"],
            "Defender portal › Preset security policies › Strict protection: add the priority accounts",
        ),
        pap,
        from_checks(
            accounts,
            "Email issues for priority accounts monitored",
            &["email-issues"],
            "Exchange admin centre › Reports › Mail flow › Email issues for priority accounts",
        ),
        score_row,
        from_controls(
            sources,
            "Defender for Cloud Apps alerts",
            &["mcas_mda_enabled"],
        ),
        from_controls(
            sources,
            "Secure mail flow (SPF / DKIM / DMARC, Safe Links, Safe Attachments, anti-phishing)",
            &[
                "exo_SPF_records_for_all_domains",
                "mdo_safelinksforemail",
                "mdo_safeattachmentpolicy",
                "mdo_antiphishingpolicies",
            ],
        ),
        both(
            from_checks(
                accounts,
                "Mailbox audit logging",
                &["audit"],
                "Set-OrganizationConfig -AuditDisabled $false",
            ),
            from_controls(sources, "audit", &["exo_mailboxaudit"]),
        ),
        from_controls(
            sources,
            "Data loss prevention",
            &["dlp_datalossprevention", "DLPEnabled"],
        ),
        from_controls(sources, "Customer Lockbox", &["CustomerLockBoxEnabled"]),
    ];
    out
}
