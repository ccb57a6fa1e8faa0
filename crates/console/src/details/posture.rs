//! Posture flyouts: one account's checks with evidence and remedy; the tenant
//! checklist; one sign-in. Built from the snapshot (judged at load), no I/O.

use super::DetailError;
use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Section};
use crate::panes::{posture as pane, sign_ins};
use crate::update::jumps_for;
use whalewatch_query::posture::Status;

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Unknown => "unknown",
    }
}

/// The posture of the account `upn`.
pub fn account(data: &Snapshot, upn: &str) -> Result<Detail, DetailError> {
    let (row, p) = data
        .posture
        .accounts
        .iter()
        .enumerate()
        .find(|(_, p)| p.account.upn == upn)
        .ok_or_else(|| DetailError::Gone(format!("account {upn}")))?;
    let mut head = Section::new("Verdict");
    head.flagged(
        "Verdict",
        format!(
            "{} — failing: {}",
            p.verdict.as_str(),
            if p.failing.is_empty() {
                "none".into()
            } else {
                p.failing.join(", ")
            }
        ),
        !p.failing.is_empty(),
    );
    if !p.unknown.is_empty() {
        head.flagged("Unknown", p.unknown.join(", "), true);
    }
    head.line("Name", p.account.display_name.clone().unwrap_or_default());
    match pane::exposure(data, p) {
        Some(e) => {
            head.line(
                "Exposure",
                format!(
                    "{} phish · {} threats in inbox · {} clicked · {} open alerts",
                    e.phish, e.inbox, e.clicked, e.open_alerts
                ),
            );
        }
        None => {
            head.line("Exposure", "indexing…");
        }
    }
    let mut sections = vec![head];
    for c in p.checks.iter() {
        let mut s = Section::new(&format!("{} · {}", c.id, mark(c.status)));
        s.flagged(
            "Result",
            c.summary.clone(),
            matches!(c.status, Status::Fail | Status::Warn),
        );
        for e in &c.evidence {
            s.line("Evidence", e.clone());
        }
        s.line("Change", c.remedy.to_string());
        sections.push(s);
    }
    let mut src = Section::new("Sources");
    for n in &data.posture.notes {
        src.flagged("Missing", n.clone(), true);
    }
    if data.posture.notes.is_empty() {
        src.line("All", "fresh");
    }
    sections.push(src);
    Ok(Detail {
        title: p
            .account
            .display_name
            .clone()
            .unwrap_or_else(|| p.account.upn.clone()),
        sections,
        jumps: jumps_for(data, Pane::Posture, row as u32),
        copy: p.account.upn.clone(),
    })
}

/// The tenant checklist.
pub fn checklist(data: &Snapshot) -> Detail {
    let c = &data.posture.checklist;
    let mut score = Section::new("Secure Score");
    match (c.score, c.max) {
        (Some(s), Some(m)) => {
            score.line("Now / max", format!("{s:.0} / {m:.0}"));
        }
        _ => {
            score.flagged("Now / max", "unknown", true);
        }
    }
    if !c.sparkline.is_empty() {
        score.line(&format!("{} days", c.trend.len()), c.sparkline.clone());
    }
    let mut rows = Section::new("Practices for priority accounts");
    for p in &c.practices {
        rows.flagged(
            &format!("{} {}", mark(p.status), p.name),
            p.detail.clone(),
            matches!(p.status, Status::Fail | Status::Warn),
        );
        if p.status != Status::Pass && !p.remediation.is_empty() {
            rows.line("  change", p.remediation.clone());
        }
    }
    let mut src = Section::new("Sources");
    for n in &data.posture.notes {
        src.flagged("Missing", n.clone(), true);
    }
    if data.posture.notes.is_empty() {
        src.line("All", "fresh");
    }
    Detail {
        title: "Tenant checklist".into(),
        sections: vec![score, rows, src],
        jumps: Vec::new(),
        copy: c.sparkline.clone(),
    }
}

/// One cached sign-in.
pub fn sign_in(data: &Snapshot, id: &str) -> Result<Detail, DetailError> {
    let (row, s) = data
        .posture
        .sources
        .sign_ins
        .iter()
        .enumerate()
        .find(|(_, s)| s.id == id)
        .ok_or_else(|| DetailError::Gone(format!("sign-in {id}")))?;
    let mut sec = Section::new("Sign-in");
    for c in sign_ins::COLUMNS {
        if let crate::panes::ColumnId::SignIn(col) = c.id {
            sec.line(c.title, sign_ins::cell(data, row as u32, col));
        }
    }
    sec.line(
        "Conditional Access",
        s.conditional_access_status.clone().unwrap_or_default(),
    );
    Ok(Detail {
        title: format!("sign-in {id}"),
        sections: vec![sec],
        jumps: jumps_for(data, Pane::SignIns, row as u32),
        copy: id.to_string(),
    })
}
