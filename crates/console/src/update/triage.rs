//! Triage from the console: status, classification and determination, assignment
//! and comments on the alert or incident under the cursor or on every marked one;
//! notes on any item; email remediation behind a review and a typed count. `update` only composes
//! the write; the effect queues it in the cache's outbox and flushes it
//! ([`whalewatch_sync::triage`]).

use crate::action::Pane;
use crate::panes;
use crate::prompt::{Prompt, PromptKind};
use crate::state::{FlyoutKind, Overlay, State, View};
use whalewatch_cache::NoteTarget;
use whalewatch_model::enums::{
    AlertStatus, Classification, Determination, IncidentStatus, RemediationAction,
};
use whalewatch_query::index::Bitset;
use whalewatch_sync::remediate::RemediationPlan;
use whalewatch_sync::triage::{AlertChange, IncidentChange, determinations_for};

use super::{Effect, notice};

/// What a choice in a triage menu does.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Status(AlertStatus),
    IncidentStatus(IncidentStatus),
    Classify(Classification, Determination),
    Remediate(RemediationAction),
    /// Go on with `AlertOp` on the drafted alerts or incidents (marks not in view
    /// confirmed).
    Proceed(AlertOp),
    /// Save the analyst's name in the profile (`a` asked for it).
    SaveAnalyst(String),
    /// Close the menu; nothing is written.
    Cancel,
    /// Close the menu, silently (a question that needed no answer).
    Close,
}

/// A triage command on alerts or incidents, kept while the analyst confirms its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertOp {
    Status,
    Classify,
    AssignToMe,
    Assign,
    Comment,
}

impl AlertOp {
    fn verb(self) -> &'static str {
        match self {
            AlertOp::Status => "Set the status of",
            AlertOp::Classify => "Classify",
            AlertOp::AssignToMe => "Assign to yourself",
            AlertOp::Assign => "Assign",
            AlertOp::Comment => "Comment on",
        }
    }
}

/// What a triage prompt or menu acts on, kept while it is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Draft {
    Alerts(Vec<String>),
    Incidents(Vec<String>),
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
    Incidents {
        ids: Vec<String>,
        change: IncidentChange,
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

/// The alerts or incidents `op` applies to: the flyout's item, the marked rows, or the
/// one under the cursor. Marks stay when their rows leave the view (a filter, a status
/// change); when some are not in view, the analyst confirms first — a menu saying
/// how many will be touched and how many are hidden — and `None` is returned (the
/// menu's `Proceed` runs `op`).
fn targets(state: &mut State, op: AlertOp) -> Option<Draft> {
    if let View::Flyout(f) = state.top() {
        match f.kind {
            FlyoutKind::Alert => return Some(Draft::Alerts(vec![f.key.clone()])),
            FlyoutKind::Incident => return Some(Draft::Incidents(vec![f.key.clone()])),
            _ => {}
        }
    }
    match state.top() {
        View::Grid(g) if matches!(g.pane, Pane::Alerts | Pane::Incidents) => {
            let (draft, noun): (fn(Vec<String>) -> Draft, _) = if g.pane == Pane::Alerts {
                (Draft::Alerts, "alert")
            } else {
                (Draft::Incidents, "incident")
            };
            if !g.marks.is_empty() {
                let ids: Vec<String> = g.marks.iter().cloned().collect();
                let shown = panes::marks_shown(g.pane, &state.data, &g.rows, &g.marks);
                let hidden = ids.len() - shown;
                if hidden == 0 {
                    return Some(draft(ids));
                }
                let n = count(ids.len(), &format!("marked {noun}"));
                state.overlay = Some(Overlay::Choice {
                    title: format!("{} {n}? {hidden} not in this view", op.verb()),
                    options: vec![
                        (format!("yes, all {n}"), Decision::Proceed(op)),
                        ("cancel (u clears the marks)".to_string(), Decision::Cancel),
                    ],
                    cursor: 0,
                });
                state.draft = Some(draft(ids));
                return None;
            }
            if let Some(r) = g.current() {
                return Some(draft(vec![panes::key(g.pane, &state.data, r)]));
            }
            notice(state, format!("no {noun} here"), false);
            None
        }
        _ => {
            notice(
                state,
                "triage works in the Alerts (1) and Incidents (7) panes and their details",
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

/// Starts `op`: asks for its targets (see [`targets`]), then runs it.
pub fn start(state: &mut State, op: AlertOp) -> Vec<Effect> {
    if read_only(state) {
        return Vec::new();
    }
    match targets(state, op) {
        Some(draft) => run(state, op, draft),
        None => Vec::new(),
    }
}

/// Runs `op` on `draft`: a menu, a prompt, or the write.
fn run(state: &mut State, op: AlertOp, draft: Draft) -> Vec<Effect> {
    match op {
        AlertOp::Status => status_menu(state, draft),
        AlertOp::Classify => classify_menu(state, draft),
        AlertOp::AssignToMe => return assign_to_me(state, draft),
        AlertOp::Assign => {
            state.prompt = Some(Prompt::new(PromptKind::Assign, ""));
            state.draft = Some(draft);
        }
        AlertOp::Comment => {
            state.prompt = Some(Prompt::new(PromptKind::Comment, ""));
            state.draft = Some(draft);
        }
    }
    Vec::new()
}

/// "3 alerts" or "1 incident".
fn what(draft: &Draft) -> String {
    match draft {
        Draft::Alerts(ids) => count(ids.len(), "alert"),
        Draft::Incidents(ids) => count(ids.len(), "incident"),
        Draft::Note(..) => "the note".into(),
        Draft::Emails(rows) => count(rows.len(), "message"),
    }
}

/// What one triage action sets.
enum Set {
    Status(Decision),
    Classify(Classification, Determination),
    Assign(String),
    Comment(String),
}

/// The write `set` makes on the alerts or incidents of `draft`.
fn write(draft: Draft, set: Set) -> Vec<Effect> {
    let w = match draft {
        Draft::Alerts(ids) => {
            let mut change = AlertChange::default();
            match set {
                Set::Status(Decision::Status(s)) => change.status = Some(s),
                Set::Classify(c, d) => {
                    change.classification = Some(c);
                    change.determination = Some(d);
                }
                Set::Assign(a) => change.assigned_to = Some(a),
                Set::Comment(c) => change.comment = Some(c),
                Set::Status(_) => return Vec::new(),
            }
            TriageWrite::Alerts { ids, change }
        }
        Draft::Incidents(ids) => {
            let mut change = IncidentChange::default();
            match set {
                Set::Status(Decision::IncidentStatus(s)) => change.status = Some(s),
                Set::Classify(c, d) => {
                    change.classification = Some(c);
                    change.determination = Some(d);
                }
                Set::Assign(a) => change.assigned_to = Some(a),
                Set::Comment(c) => change.comment = Some(c),
                Set::Status(_) => return Vec::new(),
            }
            TriageWrite::Incidents { ids, change }
        }
        Draft::Note(..) | Draft::Emails(_) => return Vec::new(),
    };
    vec![Effect::Triage(Box::new(w))]
}

/// `s`: a menu of statuses (an alert's or an incident's).
fn status_menu(state: &mut State, draft: Draft) {
    let options = match &draft {
        Draft::Incidents(_) => [
            IncidentStatus::Active,
            IncidentStatus::InProgress,
            IncidentStatus::Resolved,
        ]
        .into_iter()
        .map(|s| (s.as_str().to_string(), Decision::IncidentStatus(s)))
        .collect(),
        _ => [
            AlertStatus::New,
            AlertStatus::InProgress,
            AlertStatus::Resolved,
        ]
        .into_iter()
        .map(|s| (s.as_str().to_string(), Decision::Status(s)))
        .collect(),
    };
    state.overlay = Some(Overlay::Choice {
        title: format!("Set the status of {}", what(&draft)),
        options,
        cursor: 0,
    });
    state.draft = Some(draft);
}

/// `d`: a menu of the documented classification → determination pairs.
fn classify_menu(state: &mut State, draft: Draft) {
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
        title: format!("Classify {}", what(&draft)),
        options,
        cursor: 0,
    });
    state.draft = Some(draft);
}

/// `a`: assign to the analyst running the console — the profile's `analyst`. Without
/// one, the console asks for the name (once a session) instead of assigning to the
/// application.
fn assign_to_me(state: &mut State, draft: Draft) -> Vec<Effect> {
    let Some(me) = state.session.assignee.clone() else {
        state.prompt = Some(Prompt::new(PromptKind::Analyst, ""));
        state.draft = Some(draft);
        return Vec::new();
    };
    write(draft, Set::Assign(me))
}

/// `n`: a note on the item under the cursor or in the flyout.
pub fn note(state: &mut State) {
    let target = match state.top() {
        View::Flyout(f) => match f.kind {
            FlyoutKind::Email => Some(NoteTarget::Email),
            FlyoutKind::Alert => Some(NoteTarget::Alert),
            FlyoutKind::Campaign => Some(NoteTarget::Campaign),
            FlyoutKind::Account | FlyoutKind::Posture => Some(NoteTarget::User),
            FlyoutKind::Checklist | FlyoutKind::SignIn | FlyoutKind::Incident => None,
        }
        .map(|k| (k, f.key.clone())),
        View::Grid(g) => g.current().and_then(|r| {
            let kind = match g.pane {
                Pane::Emails => NoteTarget::Email,
                Pane::Alerts => NoteTarget::Alert,
                Pane::Campaigns => NoteTarget::Campaign,
                Pane::Accounts | Pane::Posture => NoteTarget::User,
                Pane::SignIns | Pane::Urls | Pane::Clicks | Pane::Incidents => return None,
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
    // Messages are acted on only where the analyst sees them: marked rows out of
    // view are left out, and the menu says so.
    let left_out = match state.top() {
        View::Grid(g) if !whole && !g.marks.is_empty() => g.marks.len().saturating_sub(rows.len()),
        _ => 0,
    };
    let also = if left_out > 0 {
        format!(" ({left_out} marked, not in view, left out; u clears marks)")
    } else {
        String::new()
    };
    state.overlay = Some(Overlay::Choice {
        title: format!("Take action on {}{also}", count(rows.len(), "message")),
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
        (d @ (Decision::Status(_) | Decision::IncidentStatus(_)), Some(draft)) => {
            write(draft, Set::Status(d))
        }
        (Decision::Classify(c, d), Some(draft)) => write(draft, Set::Classify(c, d)),
        (Decision::Proceed(op), Some(d @ (Draft::Alerts(_) | Draft::Incidents(_)))) => {
            run(state, op, d)
        }
        (Decision::SaveAnalyst(name), _) => vec![Effect::SaveAnalyst(name)],
        (Decision::Cancel, _) => {
            notice(state, "cancelled; nothing was written", false);
            Vec::new()
        }
        (Decision::Close, _) => Vec::new(),
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
        (PromptKind::Comment, Some(d @ (Draft::Alerts(_) | Draft::Incidents(_))))
            if !text.is_empty() =>
        {
            write(d, Set::Comment(text))
        }
        (PromptKind::Assign, Some(d @ (Draft::Alerts(_) | Draft::Incidents(_)))) => {
            write(d, Set::Assign(text))
        }
        (PromptKind::Analyst, Some(d @ (Draft::Alerts(_) | Draft::Incidents(_)))) => {
            // A name, not an app id: one word with an `@` (a UPN).
            if text.is_empty() || text.contains(char::is_whitespace) || !text.contains('@') {
                notice(
                    state,
                    "assign to me needs your sign-in name (UPN, like you@contoso.com); nothing was assigned",
                    true,
                );
                return Vec::new();
            }
            state.session.assignee = Some(text.clone());
            state.session.analyst = text.clone();
            let mut effects = assign_to_me(state, d);
            // Offer to keep it: the next session then knows who "me" is.
            state.overlay = Some(Overlay::Choice {
                title: format!(
                    "Save `{text}` as analyst in profile `{}`?",
                    state.session.profile
                ),
                options: vec![
                    (
                        "yes, save it in the profile".to_string(),
                        Decision::SaveAnalyst(text.clone()),
                    ),
                    ("no, only for this session".to_string(), Decision::Close),
                ],
                cursor: 0,
            });
            // The journal names the analyst from now on too (before the write runs).
            effects.insert(0, Effect::Analyst(text));
            effects
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
