//! The alert flyout: triage fields, what it is about, evidence, comments.

use super::DetailError;
use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Section};
use crate::panes::short_instant;
use crate::update::jumps_for;
use whalewatch_model::alert::{AlertComment, Evidence};

pub fn load(
    cache: &whalewatch_cache::Cache,
    data: &Snapshot,
    id: &str,
) -> Result<Detail, DetailError> {
    let (row, item) = data
        .alerts
        .items
        .iter()
        .enumerate()
        .find(|(_, a)| a.alert.id == id)
        .ok_or_else(|| DetailError::Gone(format!("alert {id}")))?;
    let a = &item.alert;
    let s = |v: Option<&str>| v.unwrap_or("").to_string();
    let mut t = Section::new("Triage");
    t.line("Severity", s(a.severity.as_ref().map(|x| x.as_str())))
        .line("Status", s(a.status.as_ref().map(|x| x.as_str())))
        .line(
            "Classification",
            s(a.classification.as_ref().map(|x| x.as_str())),
        )
        .line(
            "Determination",
            s(a.determination.as_ref().map(|x| x.as_str())),
        )
        .line("Assigned to", s(a.assigned_to.as_deref()))
        .line("Incident", s(a.incident_id.as_deref()));
    let mut w = Section::new("What");
    w.line("Category", s(a.category.as_deref()))
        .line("Source", s(a.service_source.as_ref().map(|x| x.as_str())))
        .line(
            "Detection",
            s(a.detection_source.as_ref().map(|x| x.as_str())),
        )
        .line("Threat", s(a.threat_display_name.as_deref()))
        .line("Description", s(a.description.as_deref()))
        .line("Recommended actions", s(a.recommended_actions.as_deref()))
        .line("MITRE", a.mitre_techniques.join(", "))
        .line("Created", short_instant(a.created_date_time.as_ref()))
        .line(
            "First activity",
            short_instant(a.first_activity_date_time.as_ref()),
        )
        .line(
            "Last activity",
            short_instant(a.last_activity_date_time.as_ref()),
        )
        .line(
            "Last update",
            short_instant(a.last_update_date_time.as_ref()),
        )
        .line("Portal", s(a.alert_web_url.as_deref()));
    let mut users = Section::new("Affected accounts");
    for acc in &item.accounts {
        users.line(acc, data.tags.tags_of(acc).join(", "));
    }
    let mut ev = Section::new(&format!("Evidence ({})", a.evidence.len()));
    for e in &a.evidence {
        let (label, value) = evidence_line(e);
        ev.line(&label, value);
    }
    let c = comments(&a.comments);
    let writes = pending_writes(cache, &a.id, false)?;
    let mut sections = vec![t];
    if !writes.lines.is_empty() {
        sections.push(writes);
    }
    sections.extend([w, users, ev, c]);
    Ok(Detail {
        title: a.title.clone(),
        sections,
        jumps: jumps_for(data, Pane::Alerts, row as u32),
        copy: a.id.clone(),
    })
}

/// One evidence item as a flyout line: its kind and what it names.
pub(super) fn evidence_line(e: &Evidence) -> (String, String) {
    match e {
        Evidence::AnalyzedMessage(m) => (
            "message".into(),
            format!(
                "{} → {} ({})",
                m.subject.as_deref().unwrap_or(""),
                m.recipient_email_address.as_deref().unwrap_or(""),
                m.delivery_location
                    .as_ref()
                    .map_or(String::new(), |l| l.to_string())
            ),
        ),
        other => {
            let r = whalewatch_cache::EvidenceRef::of(other);
            let what = r.account_upn.or(r.url).or(r.recipient).unwrap_or_default();
            (r.kind, what)
        }
    }
}

/// The comments section of an alert or incident.
pub(super) fn comments(list: &[AlertComment]) -> Section {
    let mut c = Section::new(&format!("Comments ({})", list.len()));
    for cm in list {
        c.line(
            &format!(
                "{} {}",
                short_instant(cm.created_date_time.as_ref()),
                cm.created_by_display_name.as_deref().unwrap_or("")
            ),
            cm.comment.clone(),
        );
    }
    c
}

/// The triage writes on `target` (an alert, or an incident when `incident`) the
/// tenant has not confirmed, conflicts flagged with what to do.
pub(super) fn pending_writes(
    cache: &whalewatch_cache::Cache,
    target: &str,
    incident: bool,
) -> Result<Section, DetailError> {
    let mut writes = Section::new("Triage writes not yet confirmed by the tenant");
    for e in cache
        .outbox()?
        .into_iter()
        .filter(|e| e.target == target && e.state.is_pending() && e.kind.is_incident() == incident)
    {
        let what = whalewatch_sync::triage::describe_payload(e.kind, &e.payload);
        let conflict = e.state == whalewatch_cache::OutboxState::Conflict;
        writes.flagged(
            &format!("#{} {}", e.id, e.state.as_str()),
            if conflict {
                format!("{what} — changed on the tenant since; `whalewatch alert resolve {} --overwrite|--discard`", e.id)
            } else {
                format!("{what}{}", e.last_error.as_deref().map_or(String::new(), |m| format!(" ({m})")))
            },
            conflict,
        );
    }
    Ok(writes)
}
