//! The incident flyout: triage fields, its alerts (each a jump, with its messages),
//! the accounts they affect with their tags, the alerts' evidence, comments.

use super::DetailError;
use super::alert::{comments, evidence_line, pending_writes};
use crate::action::Pane;
use crate::data::Snapshot;
use crate::detail::{Detail, Section};
use crate::panes::short_instant;
use crate::update::jumps_for;
use whalewatch_query::index::entities::PRIORITY_MARK;

pub fn load(
    cache: &whalewatch_cache::Cache,
    data: &Snapshot,
    id: &str,
) -> Result<Detail, DetailError> {
    let (row, item) = data
        .incidents
        .items
        .iter()
        .enumerate()
        .find(|(_, i)| i.incident.id == id)
        .ok_or_else(|| DetailError::Gone(format!("incident {id}")))?;
    let i = &item.incident;
    let s = |v: Option<&str>| v.unwrap_or("").to_string();
    let mut t = Section::new("Triage");
    t.line("Severity", s(i.severity.as_ref().map(|x| x.as_str())))
        .line("Status", s(i.status.as_ref().map(|x| x.as_str())))
        .line(
            "Classification",
            s(i.classification.as_ref().map(|x| x.as_str())),
        )
        .line(
            "Determination",
            s(i.determination.as_ref().map(|x| x.as_str())),
        )
        .line("Assigned to", s(i.assigned_to.as_deref()))
        .line("Created", short_instant(i.created_date_time.as_ref()))
        .line(
            "Last update",
            short_instant(i.last_update_date_time.as_ref()),
        )
        .line("Tags", i.custom_tags.join(", "))
        .line("Description", s(i.description.as_deref()))
        .line("Portal", s(i.incident_web_url.as_deref()))
        .line("Id", i.id.clone());
    let writes = pending_writes(cache, &i.id, true)?;
    let mut alerts = Section::new(&format!("Alerts ({}) · R jumps to each", item.alerts.len()));
    let mut ev = Section::new("Evidence");
    let mut evidence = 0;
    for a in item
        .alerts
        .iter()
        .filter_map(|id| data.alerts.items.iter().find(|x| &x.alert.id == id))
    {
        let al = &a.alert;
        alerts.line(
            &format!(
                "{} · {}",
                s(al.severity.as_ref().map(|x| x.as_str())),
                s(al.status.as_ref().map(|x| x.as_str()))
            ),
            format!(
                "{} ({} message{})",
                al.title,
                a.messages.len(),
                if a.messages.len() == 1 { "" } else { "s" }
            ),
        );
        for e in &al.evidence {
            let (label, value) = evidence_line(e);
            ev.line(&label, value);
            evidence += 1;
        }
    }
    ev.title = format!("Evidence ({evidence})");
    // Priority accounts first and marked, as in the grid's Users cell.
    let mut accounts: Vec<(bool, &String, Vec<&str>)> = item
        .accounts
        .iter()
        .map(|acc| {
            let tags = data.tags.tags_of(acc);
            let prio = tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(whalewatch_config::PRIORITY_ACCOUNT));
            (!prio, acc, tags)
        })
        .collect();
    accounts.sort();
    let mut users = Section::new(&format!("Affected accounts ({})", accounts.len()));
    for (other, acc, tags) in accounts {
        let label = if other {
            acc.clone()
        } else {
            format!("{PRIORITY_MARK} {acc}")
        };
        users.line(&label, tags.join(", "));
    }
    let mut sections = vec![t];
    if !writes.lines.is_empty() {
        sections.push(writes);
    }
    sections.extend([alerts, users, ev, comments(&i.comments)]);
    Ok(Detail {
        title: i.display_name.clone(),
        sections,
        jumps: jumps_for(data, Pane::Incidents, row as u32),
        copy: i.id.clone(),
    })
}
