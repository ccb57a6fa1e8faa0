//! Posture: one row per priority account (or per member of the filter's tag) — MFA,
//! Conditional Access, legacy sign-ins, risk, Strict preset, protocols, email issues,
//! exposure and the verdict; worst first.

use serde::{Deserialize, Serialize};

use super::{ColumnId, GridColumn, PENDING, match_term};
use crate::data::Snapshot;
use whalewatch_model::enums::AlertStatus;
use whalewatch_query::index::text::fold;
use whalewatch_query::lang::ast::{Expr, Filter, Term};
use whalewatch_query::lang::fields::Field;
use whalewatch_query::posture::{AccountPosture, Exposure, Status};

/// A posture column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostureCol {
    Account,
    Verdict,
    Failing,
    Mfa,
    Ca,
    Legacy,
    Risk,
    Strict,
    Protocols,
    Issues,
    Phish,
    Inbox,
    Clicked,
    Alerts,
}

const fn col(c: PostureCol, title: &'static str, min: u16, max: u16) -> GridColumn {
    GridColumn {
        id: ColumnId::Posture(c),
        title,
        min,
        max,
    }
}

/// The posture pane's columns.
pub const COLUMNS: &[GridColumn] = &[
    col(PostureCol::Account, "Account", 12, 36),
    col(PostureCol::Verdict, "Verdict", 4, 7),
    col(PostureCol::Failing, "Failing", 6, 40),
    col(PostureCol::Mfa, "MFA", 3, 18),
    col(PostureCol::Ca, "CA", 2, 30),
    col(PostureCol::Legacy, "Legacy 30d", 6, 30),
    col(PostureCol::Risk, "Risk", 4, 6),
    col(PostureCol::Strict, "Strict", 6, 9),
    col(PostureCol::Protocols, "POP/IMAP/SMTP", 8, 28),
    col(PostureCol::Issues, "Issues 7d", 6, 9),
    col(PostureCol::Phish, "Phish", 5, 6),
    col(PostureCol::Inbox, "Inbox", 5, 6),
    col(PostureCol::Clicked, "Clicked", 5, 7),
    col(PostureCol::Alerts, "Open alerts", 5, 11),
];

fn names_tag(e: &Expr) -> bool {
    match e {
        Expr::And(k) | Expr::Or(k) => k.iter().any(names_tag),
        Expr::Not(x) => names_tag(x),
        Expr::Term(Term::Match { field, .. }) => matches!(field, Field::Tag | Field::Is),
        Expr::Term(_) => false,
    }
}

fn strict_value(p: &AccountPosture) -> &str {
    match p.facts.strict.as_str() {
        "strict" => "yes",
        "" => "unknown",
        s => s,
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "unknown" } else { s }
}

/// Whether `value` (a documented spelling) matches `p` for `field`.
fn field_matches(
    data: &Snapshot,
    p: &AccountPosture,
    field: Field,
    value: &str,
) -> Result<bool, String> {
    let v = value.to_lowercase();
    Ok(match field {
        Field::Upn => whalewatch_query::index::text::Pattern::exact(value).test(&p.account.upn),
        Field::Mfa => or_unknown(&p.facts.mfa) == v,
        Field::Ca => or_unknown(&p.facts.ca) == v,
        Field::Legacy => {
            let known = p
                .check("legacy-auth")
                .is_some_and(|c| c.status != Status::Unknown);
            known && ((p.facts.legacy_sign_ins > 0) == (v == "yes"))
        }
        Field::Strict => {
            let s = strict_value(p);
            s == v || (v == "no" && matches!(s, "standard" | "excluded" | "none"))
        }
        Field::Risk => or_unknown(&p.facts.risk) == v,
        Field::Verdict => p.verdict.as_str() == v,
        Field::Failing => p.failing.iter().any(|f| *f == v),
        Field::Tag | Field::Is => {
            let name = if field == Field::Is {
                whalewatch_config::PRIORITY_ACCOUNT
            } else {
                value
            };
            let members = data.tags.resolve(name).map_err(|e| e.to_string())?;
            p.account
                .addresses
                .iter()
                .any(|a| members.iter().any(|m| m == a))
        }
        _ => false,
    })
}

fn test(data: &Snapshot, p: &AccountPosture, e: &Expr) -> Result<bool, String> {
    e.holds(&mut |t| {
        Ok(match t {
            Term::Text(w) => {
                let pat = whalewatch_query::index::text::Pattern::contains(w);
                pat.test(&p.account.upn)
                    || pat.test(p.account.display_name.as_deref().unwrap_or(""))
            }
            Term::Match { field, values } => {
                for v in values {
                    if field_matches(data, p, *field, v)? {
                        return Ok(true);
                    }
                }
                false
            }
            _ => false,
        })
    })
}

/// Positions in `data.posture.accounts` (already worst first). Without a `tag:` or
/// `is:` term, only priority accounts are listed.
pub fn evaluate(data: &Snapshot, filter: &Filter) -> Result<Vec<u32>, String> {
    let tagged = filter.root.as_ref().is_some_and(names_tag);
    let mut out = Vec::new();
    for (i, p) in data.posture.accounts.iter().enumerate() {
        if !tagged && !data.posture.priority.contains(&p.account.upn) {
            continue;
        }
        if let Some(e) = &filter.root
            && !test(data, p, e)?
        {
            continue;
        }
        out.push(i as u32);
    }
    Ok(out)
}

/// The account's exposure from the console's per-recipient figures and alerts.
pub fn exposure(data: &Snapshot, p: &AccountPosture) -> Option<Exposure> {
    let recipients = data.recipients.as_ref()?;
    let mut e = Exposure::default();
    for a in &p.account.addresses {
        if let Some(st) = recipients.get(fold(a).as_ref()) {
            e.phish += st.phish;
            e.inbox += st.inboxed;
            e.clicked += st.clicks;
        }
    }
    let mut alerts: Vec<u32> = p
        .account
        .addresses
        .iter()
        .flat_map(|a| {
            data.account_alerts
                .get(fold(a).as_ref())
                .into_iter()
                .flatten()
                .copied()
        })
        .collect();
    alerts.sort_unstable();
    alerts.dedup();
    e.open_alerts = alerts
        .iter()
        .filter_map(|&i| data.alerts.items.get(i as usize))
        .filter(|a| !matches!(a.alert.status, Some(AlertStatus::Resolved)))
        .count();
    Some(e)
}

fn ca_text(p: &AccountPosture) -> String {
    let mfa = match p.facts.ca.as_str() {
        "mfa" => "MFA",
        "no-mfa" => "no MFA",
        "report-only" => "MFA report-only",
        _ => return "?".into(),
    };
    let legacy = match p.facts.legacy_blocked {
        Some(true) => "legacy blocked",
        Some(false) => "legacy open",
        None => "legacy ?",
    };
    format!("{mfa} · {legacy}")
}

fn legacy_text(p: &AccountPosture) -> String {
    if p.check("legacy-auth")
        .is_some_and(|c| c.status == Status::Unknown)
    {
        return "?".into();
    }
    match &p.facts.last_legacy {
        Some((proto, when)) => format!(
            "{} · {proto} · {}",
            p.facts.legacy_sign_ins,
            when.format("%Y-%m-%d")
        ),
        None => "0".into(),
    }
}

fn known(p: &AccountPosture, id: &str, text: String) -> String {
    if p.check(id).is_some_and(|c| c.status == Status::Unknown) && text.is_empty() {
        "?".into()
    } else {
        text
    }
}

/// A cell's raw text.
pub fn cell(data: &Snapshot, row: u32, c: PostureCol) -> String {
    let Some(p) = data.posture.accounts.get(row as usize) else {
        return String::new();
    };
    let ex = || exposure(data, p);
    let fig = |f: fn(&Exposure) -> usize| ex().map_or(PENDING.into(), |e| f(&e).to_string());
    match c {
        PostureCol::Account => p.account.upn.clone(),
        PostureCol::Verdict => p.verdict.as_str().to_string(),
        PostureCol::Failing => p.failing.join(", "),
        PostureCol::Mfa => known(p, "mfa", p.facts.mfa.clone()),
        PostureCol::Ca => ca_text(p),
        PostureCol::Legacy => legacy_text(p),
        PostureCol::Risk => known(p, "risk", p.facts.risk.clone()),
        PostureCol::Strict => known(p, "strict-preset", p.facts.strict.clone()),
        PostureCol::Protocols => known(p, "protocols", p.facts.protocols.clone()),
        PostureCol::Issues => known(
            p,
            "email-issues",
            p.check("email-issues")
                .filter(|c| c.status != Status::Unknown)
                .map_or(String::new(), |_| p.facts.email_issues.to_string()),
        ),
        PostureCol::Phish => fig(|e| e.phish),
        PostureCol::Inbox => fig(|e| e.inbox),
        PostureCol::Clicked => fig(|e| e.clicked),
        PostureCol::Alerts => {
            if data.complete {
                ex().map_or_else(|| PENDING.into(), |e| e.open_alerts.to_string())
            } else {
                PENDING.into()
            }
        }
    }
}

/// The account's UPN.
pub fn key(data: &Snapshot, row: u32) -> String {
    data.posture
        .accounts
        .get(row as usize)
        .map_or(String::new(), |p| p.account.upn.clone())
}

/// The filter term for `value` in `c`.
pub fn term(c: PostureCol, value: &str) -> Option<String> {
    let (field, v) = match c {
        PostureCol::Account => ("upn", value),
        PostureCol::Verdict => ("verdict", value),
        PostureCol::Mfa if value != "?" => ("mfa", value),
        PostureCol::Risk if value != "?" => ("risk", value),
        PostureCol::Strict => (
            "strict",
            match value {
                "strict" => "yes",
                "?" => "unknown",
                v => v,
            },
        ),
        PostureCol::Failing if !value.contains(',') => ("failing", value),
        PostureCol::Legacy => ("legacy", if value == "0" { "no" } else { "yes" }),
        _ => return None,
    };
    Some(match_term(field, v))
}
