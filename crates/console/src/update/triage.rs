//! Triage from the console: status, classification and determination, assignment
//! and comments on the alert under the cursor or on every marked alert; notes on any
//! item; email remediation behind a review and a typed count. `update` only composes
//! the write; the effect queues it in the cache's outbox and flushes it
//! ([`whalewatch_sync::triage`]).

use crate::action::Pane;
use crate::panes;
use crate::prompt::{Prompt, PromptKind};
use crate::state::{FlyoutKind, Overlay, State, View};
use whalewatch_cache::NoteTarget;
use whalewatch_model::enums::{AlertStatus, Classification, Determination, RemediationAction};
use whalewatch_query::index::Bitset;
use whalewatch_sync::remediate::RemediationPlan;
use whalewatch_sync::triage::{AlertChange, determinations_for};

use super::{Effect, notice};

/// What a choice in a triage menu does.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Status(AlertStatus),
    Classify(Classification, Determination),
    Remediate(RemediationAction),
}

/// What a triage prompt or menu acts on, kept while it is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Draft {
    Alerts(Vec<String>),
    Note(NoteTarget, String),
    /// Email rows (index positions).
    Emails(Vec<u32>),
}

/// A write for the effects to queue and send.
#[derive(Debug, Clone, PartialEq)]
pub enum TriageWrite {
    Alerts {
        ids: Vec<String>,
        change: AlertChange,
    },
    Note {
        kind: NoteTarget,
        id: String,
        text: String,
    },
    Remediate {
        plan: Box<RemediationPlan>,
        typed: String,
    },
}

fn read_only(state: &mut State) -> bool {
    if state.session.read_only {
        notice(
            state,
            "read-only session: writes to the tenant are disabled (--read-only or read_only = true); notes still work",
            true,
        );
    }
    state.session.read_only
}

/// The alerts an action applies to: the flyout's alert, the marked alerts, or the
/// one under the cursor.
fn alert_targets(state: &mut State) -> Option<Vec<String>> {
    if let View::Flyout(f) = state.top()
        && f.kind == FlyoutKind::Alert
    {
        return Some(vec![f.key.clone()]);
    }
    match state.top() {
        View::Grid(g) if g.pane == Pane::Alerts => {
            if !g.marks.is_empty() {
                return Some(g.marks.iter().cloned().collect());
            }
            if let Some(r) = g.current() {
                return Some(vec![panes::key(Pane::Alerts, &state.data, r)]);
            }
            notice(state, "no alert here", false);
            None
        }
        _ => {
            notice(
                state,
                "alert triage works in the Alerts pane (1) and the alert details",
                false,
            );
            None
        }
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `s`: a menu of statuses.
pub fn set_status(state: &mut State) {
    if read_only(state) {
        return;
    }
    let Some(ids) = alert_targets(state) else {
        return;
    };
    let options = [
        AlertStatus::New,
        AlertStatus::InProgress,
        AlertStatus::Resolved,
    ]
    .into_iter()
    .map(|s| (s.as_str().to_string(), Decision::Status(s)))
    .collect();
    state.overlay = Some(Overlay::Choice {
        title: format!("Set the status of {}", count(ids.len(), "alert")),
        options,
        cursor: 0,
    });
    state.draft = Some(Draft::Alerts(ids));
}

/// `d`: a menu of the documented classification → determination pairs.
pub fn classify(state: &mut State) {
    if read_only(state) {
        return;
    }
    let Some(ids) = alert_targets(state) else {
        return;
    };
    let mut options = Vec::new();
    for c in [
        Classification::TruePositive,
        Classification::FalsePositive,
        Classification::InformationalExpectedActivity,
    ] {
        for d in determinations_for(&c) {
            options.push((
                format!("{} · {}", c.as_str(), d.as_str()),
                Decision::Classify(c.clone(), d.clone()),
            ));
        }
    }
    state.overlay = Some(Overlay::Choice {
        title: format!("Classify {}", count(ids.len(), "alert")),
        options,
        cursor: 0,
    });
    state.draft = Some(Draft::Alerts(ids));
}

/// `a`: assign to the analyst running the console.
pub fn assign_to_me(state: &mut State) -> Vec<Effect> {
    if read_only(state) {
        return Vec::new();
    }
    let Some(ids) = alert_targets(state) else {
        return Vec::new();
    };
    let change = AlertChange {
        assigned_to: Some(state.session.analyst.clone()),
        ..AlertChange::default()
    };
    vec![Effect::Triage(Box::new(TriageWrite::Alerts {
        ids,
        change,
    }))]
}

/// `A` (assign to someone) and `c` (comment): a prompt for the text.
pub fn alert_prompt(state: &mut State, kind: PromptKind) {
    if read_only(state) {
        return;
    }
    let Some(ids) = alert_targets(state) else {
        return;
    };
    state.prompt = Some(Prompt::new(kind, ""));
    state.draft = Some(Draft::Alerts(ids));
}

/// `n`: a note on the item under the cursor or in the flyout.
pub fn note(state: &mut State) {
    let target = match state.top() {
        View::Flyout(f) => match f.kind {
            FlyoutKind::Email => Some(NoteTarget::Email),
            FlyoutKind::Alert => Some(NoteTarget::Alert),
            FlyoutKind::Campaign => Some(NoteTarget::Campaign),
            FlyoutKind::Account | FlyoutKind::Posture => Some(NoteTarget::User),
            FlyoutKind::Checklist | FlyoutKind::SignIn => None,
        }
        .map(|k| (k, f.key.clone())),
        View::Grid(g) => g.current().and_then(|r| {
            let kind = match g.pane {
                Pane::Emails => NoteTarget::Email,
                Pane::Alerts => NoteTarget::Alert,
                Pane::Campaigns => NoteTarget::Campaign,
                Pane::Accounts | Pane::Posture => NoteTarget::User,
                Pane::SignIns | Pane::Urls | Pane::Clicks => return None,
            };
            Some((kind, panes::key(g.pane, &state.data, r)))
        }),
        View::Frequency(_) => None,
    };
    let Some((kind, key)) = target else {
        notice(state, "nothing here to note", false);
        return;
    };
    state.prompt = Some(Prompt::new(PromptKind::Note, ""));
    state.draft = Some(Draft::Note(kind, note_id(kind, &key)));
}

/// The note id of a console key (`nmid|recipient` → `nmid/recipient`).
pub fn note_id(kind: NoteTarget, key: &str) -> String {
    match kind {
        NoteTarget::Email => key.replacen('|', "/", 1),
        _ => key.to_string(),
    }
}

/// `x` (the cursor or the marked messages) and `X` (the whole result): a menu of
/// remediation actions.
pub fn remediate(state: &mut State, whole: bool) {
    if read_only(state) {
        return;
    }
    let rows: Vec<u32> = match state.top() {
        View::Flyout(f) if f.kind == FlyoutKind::Email => state
            .grid()
            .and_then(|g| {
                panes::find(Pane::Emails, &state.data, &g.rows, &f.key).map(|i| vec![g.rows[i]])
            })
            .unwrap_or_default(),
        View::Grid(g) if g.pane == Pane::Emails => {
            if whole {
                g.rows.to_vec()
            } else if !g.marks.is_empty() {
                g.rows
                    .iter()
                    .copied()
                    .filter(|&r| g.marks.contains(&panes::key(Pane::Emails, &state.data, r)))
                    .collect()
            } else {
                g.current().into_iter().collect()
            }
        }
        _ => {
            notice(
                state,
                "remediation works on messages: open the Emails pane (2)",
                false,
            );
            return;
        }
    };
    if rows.is_empty() || state.data.emails.is_none() {
        notice(
            state,
            "no messages to act on (is the index still loading?)",
            false,
        );
        return;
    }
    let options = [
        ("move to junk", RemediationAction::MoveToJunk),
        ("move to inbox", RemediationAction::MoveToInbox),
        (
            "move to deleted items",
            RemediationAction::MoveToDeletedItems,
        ),
        ("soft delete", RemediationAction::SoftDelete),
        ("hard delete (irreversible)", RemediationAction::HardDelete),
    ]
    .into_iter()
    .map(|(l, a)| (l.to_string(), Decision::Remediate(a)))
    .collect();
    state.overlay = Some(Overlay::Choice {
        title: format!("Take action on {}", count(rows.len(), "message")),
        options,
        cursor: 0,
    });
    state.draft = Some(Draft::Emails(rows));
}

/// Enter in a triage menu.
pub fn decide(state: &mut State, decision: Decision) -> Vec<Effect> {
    state.overlay = None;
    let draft = state.draft.take();
    match (decision, draft) {
        (Decision::Status(s), Some(Draft::Alerts(ids))) => {
            let change = AlertChange {
                status: Some(s),
                ..AlertChange::default()
            };
            vec![Effect::Triage(Box::new(TriageWrite::Alerts {
                ids,
                change,
            }))]
        }
        (Decision::Classify(c, d), Some(Draft::Alerts(ids))) => {
            let change = AlertChange {
                classification: Some(c),
                determination: Some(d),
                ..AlertChange::default()
            };
            vec![Effect::Triage(Box::new(TriageWrite::Alerts {
                ids,
                change,
            }))]
        }
        (Decision::Remediate(action), Some(Draft::Emails(rows))) => {
            let Some(ix) = state.data.emails.clone() else {
                return Vec::new();
            };
            let set = Bitset::from_rows(ix.len(), rows.iter().copied());
            match RemediationPlan::new(action, ix.planned_messages(&set)) {
                Ok(plan) => {
                    state.overlay = Some(Overlay::Review {
                        plan: std::sync::Arc::new(plan),
                    });
                    state.prompt = Some(Prompt::new(PromptKind::Confirm, ""));
                }
                Err(e) => notice(state, e.to_string(), true),
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Enter in a triage prompt (comment, assignee, note, typed confirmation).
pub fn submit(state: &mut State, kind: PromptKind, text: &str) -> Vec<Effect> {
    let draft = state.draft.take();
    let overlay = state.overlay.take();
    let text = text.trim().to_string();
    match (kind, draft) {
        (PromptKind::Comment, Some(Draft::Alerts(ids))) if !text.is_empty() => {
            let change = AlertChange {
                comment: Some(text),
                ..AlertChange::default()
            };
            vec![Effect::Triage(Box::new(TriageWrite::Alerts {
                ids,
                change,
            }))]
        }
        (PromptKind::Assign, Some(Draft::Alerts(ids))) => {
            let change = AlertChange {
                assigned_to: Some(text),
                ..AlertChange::default()
            };
            vec![Effect::Triage(Box::new(TriageWrite::Alerts {
                ids,
                change,
            }))]
        }
        (PromptKind::Note, Some(Draft::Note(kind, id))) if !text.is_empty() => {
            vec![Effect::Triage(Box::new(TriageWrite::Note {
                kind,
                id,
                text,
            }))]
        }
        (PromptKind::Confirm, _) => match overlay {
            Some(Overlay::Review { plan }) => {
                vec![Effect::Triage(Box::new(TriageWrite::Remediate {
                    plan: Box::new((*plan).clone()),
                    typed: text,
                }))]
            }
            _ => Vec::new(),
        },
        _ => {
            notice(state, "nothing to write", false);
            Vec::new()
        }
    }
}
