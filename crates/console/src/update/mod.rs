//! `update`: the only place the state changes. Input arrives as [`Msg`]s (an
//! [`Action`], a key, or a result from a task); `update` applies it and returns the
//! [`Effect`]s — refreshes, detail loads, clipboard writes, exports — that the app
//! runs on tasks and answers with further messages. Pure: no I/O, no clock, so every
//! behaviour is a unit test.

mod command;
mod grid;
mod input;
mod jumps;
mod profiles;
mod remote;
mod saved;
mod search;
mod session;
mod triage;

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::KeyEvent;

pub use command::{parse_view_line, view_line};
pub use grid::{effective_filter, reevaluate_all};
pub use input::tag_candidates;
pub use jumps::jumps_for;
pub use triage::{AlertOp, Decision, Draft, TriageWrite, note_id};

use super::action::{Action, Pane};
use super::data::{EmailData, RecipientData, Snapshot};
use super::detail::{Detail, Jump};
use super::panes::GridColumn;
use super::state::{Flyout, FlyoutKind, Notice, Overlay, State, View};
use whalewatch_sync::Progress;

/// What a refresh task reports.
#[derive(Debug, Clone)]
pub enum RefreshEvent {
    Progress(Progress),
    /// The refresh ended; the cache has new data.
    Done(String),
    Failed(String),
}

/// Everything `update` accepts.
#[derive(Debug, Clone)]
pub enum Msg {
    Action(Action),
    Key(KeyEvent),
    /// Bracketed paste.
    Paste(String),
    /// A reload of everything but the email index (the quick half). It may arrive
    /// before or after the index of the same load: the merge keeps whichever half
    /// is already here.
    Loaded(Box<Snapshot>),
    /// The email index, opened on a worker thread beside the quick half.
    Emails(EmailData),
    /// The per-recipient figures of an index, computed after it was sent.
    Recipients(RecipientData),
    /// A flyout's details.
    Detail {
        key: String,
        detail: Arc<Detail>,
    },
    Refresh(RefreshEvent),
    /// A task's outcome for the status bar.
    Notice(Notice),
    /// The analyst paused (no key for about a second): after a key that did nothing
    /// here, which-key lists the keys that do.
    Pause,
    /// A longer result to read (a remediation's per-message outcome).
    Report {
        title: String,
        lines: Vec<String>,
    },
    /// A triage write on these alerts is queued (durable in the outbox): their marks
    /// are cleared, and `notice` says what was queued.
    Queued {
        alerts: Vec<String>,
        notice: String,
    },
    /// The clock moved: ages on screen are measured from this instant. The app sends
    /// one a second and redraws only when the text it shows changed
    /// ([`crate::views::chrome::ticking`]).
    Tick(chrono::DateTime<chrono::Utc>),
    /// A part of remote view `id` (older ids are dropped).
    Remote {
        id: u64,
        part: crate::remote::RemotePart,
    },
    /// A chunk of fuzzy-search results for search `id` (older ids are dropped).
    Search {
        id: u64,
        query: String,
        progress: Arc<whalewatch_query::index::SearchProgress>,
    },
}

/// A rows-and-columns export of the current result.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub data: Snapshot,
    pub rows: Arc<Vec<u32>>,
    pub columns: Vec<GridColumn>,
    /// Where to write, without extension; `.csv` and `.json` are added.
    pub path: Option<PathBuf>,
    pub pane: Pane,
}

/// Work `update` asks the app to do.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Refresh from the tenant in the background, then reload.
    Refresh,
    /// Load a flyout's details.
    LoadDetail {
        kind: FlyoutKind,
        key: String,
        data: Box<Snapshot>,
    },
    /// Put `text` on the clipboard (OSC 52); `what` names it for the status bar.
    Copy {
        text: String,
        what: String,
    },
    Export(Box<ExportJob>),
    /// Save the email grid's columns (titles, in order) for this profile.
    SaveColumns(Vec<String>),
    /// From now on, journal this session's writes under the analyst's name.
    Analyst(String),
    /// Save the analyst's name in the profile (`analyst = "…"`, config file 0600).
    SaveAnalyst(String),
    /// Queue a triage write in the outbox and send it.
    Triage(Box<TriageWrite>),
    /// Save the prompt history for this profile (after a line was submitted).
    SaveHistory(Box<super::prompt::History>),
    /// Rebuild the email index: the cache was written since it was built (its
    /// generation moved). The old index stays on screen until the new one arrives.
    Reindex,
    /// Run `filter` on the tenant (advanced hunting) as remote view `id`.
    Remote {
        id: u64,
        filter: whalewatch_query::Filter,
        tags: Arc<whalewatch_query::index::TagTable>,
        now: chrono::DateTime<chrono::Utc>,
    },
    /// Store a saved view in the profile's console settings.
    SaveView {
        name: String,
        view: crate::settings::SavedView,
    },
    /// Start fuzzy search `id` for `query` (empty: only stop the running one) and
    /// answer with `Msg::Search` chunks.
    Search {
        id: u64,
        query: String,
        index: Option<Arc<whalewatch_query::index::EmailIndex>>,
        /// The rows to search (the session's tag and range); `None`: all.
        scope: Option<Arc<whalewatch_query::index::RowSet>>,
    },
}

/// Applies `msg` to `state`; a change of the view on screen is recorded in
/// `state.log` for the session log (the app appends and stamps it).
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let effects = apply_msg(state, msg);
    grid::hold_widths(state);
    session::log_view(state);
    effects
}

fn apply_msg(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(a) => apply(state, a),
        Msg::Key(k) => {
            let action = input::key_action(state, &k);
            state.stray_key = action.is_none();
            match action {
                Some(a) => apply(state, a),
                None => Vec::new(),
            }
        }
        Msg::Paste(text) => apply(state, Action::Paste(text)),
        Msg::Loaded(snapshot) => {
            // Keep the email half (an index opened before this load finished, or
            // the previous one until the new index arrives): the grid must not go
            // back to the preview on every refresh.
            let mut s = *snapshot;
            let mut effects = Vec::new();
            if let Some(p) = s.problems.first() {
                notice(state, p.to_string(), true);
            }
            // A write (a remediation's moves, a triage write) changed the cache under
            // the index: rebuild it unless this load builds one anyway.
            if !s.index_follows
                && let (Some(ix), Some(g)) = (&state.data.emails, s.generation)
                && ix.check_current(g).is_err()
            {
                effects.push(Effect::Reindex);
            }
            if s.emails.is_none()
                && let Some(ix) = state.data.emails.clone()
            {
                s.emails = Some(ix);
                s.newest = state.data.newest.clone();
                s.histogram_all = state.data.histogram_all.clone();
                s.recipients = state.data.recipients.clone();
                s.email_rows = state.data.email_rows;
            }
            // The campaigns are new: their figures are computed over the index kept
            // (for the audience on screen), now that both halves are here.
            s.campaign_stats = Arc::default();
            s.campaign_audience = state.data.campaign_audience.clone();
            s = s.derive();
            grid::capture_anchors(state);
            state.data = s;
            grid::reevaluate_all(state);
            effects
        }
        Msg::Emails(e) => {
            // Rebuilds run on worker threads and may finish out of order: an index
            // of an older cache generation never replaces a newer one.
            if let Some(cur) = &state.data.emails
                && e.index.generation() < cur.generation()
            {
                return Vec::new();
            }
            grid::capture_anchors(state);
            state.data = std::mem::take(&mut state.data).with_emails(e);
            grid::reevaluate_all(state);
            Vec::new()
        }
        Msg::Recipients(r) => {
            let (data, current) = std::mem::take(&mut state.data).with_recipients(r);
            state.data = data;
            if current {
                // Accounts and Posture filter and show these figures.
                grid::capture_anchors(state);
                grid::reevaluate_all(state);
            }
            Vec::new()
        }
        Msg::Detail { key, detail } => {
            if let Some(View::Flyout(f)) = state.views.last_mut()
                && f.key == key
            {
                f.detail = Some(detail);
            }
            Vec::new()
        }
        Msg::Refresh(ev) => {
            on_refresh(state, ev);
            Vec::new()
        }
        Msg::Pause => {
            // Only in normal mode: a prompt or an overlay already says what keys do.
            if state.stray_key && state.prompt.is_none() && state.overlay.is_none() && !state.quit {
                state.overlay = Some(Overlay::WhichKey { prefix: None });
            }
            Vec::new()
        }
        Msg::Report { title, lines } => {
            state.overlay = Some(Overlay::Report {
                title,
                lines,
                scroll: 0,
            });
            Vec::new()
        }
        Msg::Remote { id, part } => {
            if let Some(r) = state.remote.as_mut()
                && r.id == id
            {
                r.apply(part);
            }
            Vec::new()
        }
        Msg::Search {
            id,
            query,
            progress,
        } => {
            search::results(state, id, query, progress);
            Vec::new()
        }
        Msg::Queued {
            alerts,
            notice: text,
        } => {
            grid::unmark(state, &alerts);
            notice(state, text, false);
            Vec::new()
        }
        Msg::Tick(now) => {
            state.now = now;
            Vec::new()
        }
        Msg::Notice(n) => {
            if n.error {
                state.last_error = Some(n.text.clone());
            }
            state.notice = Some(n);
            Vec::new()
        }
    }
}

fn on_refresh(state: &mut State, ev: RefreshEvent) {
    let r = &mut state.refresh;
    match ev {
        RefreshEvent::Progress(Progress::Started {
            source,
            expected_rows,
        }) => {
            r.running = true;
            r.source = source;
            r.rows = 0;
            r.expected = expected_rows;
        }
        RefreshEvent::Progress(Progress::Rows { source, rows }) => {
            r.running = true;
            r.source = source;
            r.rows = rows;
        }
        RefreshEvent::Progress(Progress::Finished(summary)) => {
            r.done += 1;
            state.source_errors.remove(&summary.source);
        }
        RefreshEvent::Progress(Progress::Warning(w)) => {
            state.notice = Some(Notice {
                text: w,
                error: false,
            })
        }
        RefreshEvent::Done(summary) => {
            *r = Default::default();
            state.notice = Some(Notice {
                text: summary,
                error: false,
            });
        }
        RefreshEvent::Failed(e) => {
            // The source being pulled when it failed is the one `:sources` blames.
            let source = if r.running && !r.source.is_empty() && r.source != "starting" {
                r.source.clone()
            } else {
                "refresh".to_string()
            };
            state.source_errors.insert(source, e.clone());
            let r = &mut state.refresh;
            *r = Default::default();
            state.last_error = Some(e.clone());
            state.notice = Some(Notice {
                text: e,
                error: true,
            });
        }
    }
}

/// Sets a status-bar message.
pub(super) fn notice(state: &mut State, text: impl Into<String>, error: bool) {
    let text = text.into();
    if error {
        state.last_error = Some(text.clone());
    }
    state.notice = Some(Notice { text, error });
}

fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    // Anything the analyst does clears the last message.
    if !matches!(action, Action::Resize(..)) {
        state.notice = None;
    }
    if state.prompt.is_some() && input::is_prompt_action(&action) {
        return input::prompt_action(state, action);
    }
    if let Some(o) = state.overlay.clone()
        && let Some(effects) = input::overlay_action(state, &o, &action)
    {
        return effects;
    }
    if state.remote.is_some() && remote::scrolls(state, &action) {
        return Vec::new();
    }
    match action {
        Action::Quit => {
            if state.views.len() > 1 {
                back(state);
            } else {
                state.quit = true;
            }
        }
        Action::QuitNow => state.quit = true,
        Action::Back => back(state),
        Action::Pane(p) => grid::switch_pane(state, p),
        Action::Up => return grid::move_by(state, -1),
        Action::Down => return grid::move_by(state, 1),
        Action::PageUp => return grid::move_by(state, -(state.page_rows() as i64)),
        Action::PageDown => return grid::move_by(state, state.page_rows() as i64),
        Action::Top => return grid::move_by(state, i64::MIN / 2),
        Action::Bottom => return grid::move_by(state, i64::MAX / 2),
        Action::ColumnLeft => grid::column_by(state, -1),
        Action::ColumnRight => grid::column_by(state, 1),
        Action::Open if search::open_bar(state) => {}
        Action::Open => return open(state),
        Action::TogglePriority => {
            let p = whalewatch_config::PRIORITY_ACCOUNT.to_string();
            let next = if state.tag.as_deref() == Some(&p) {
                None
            } else {
                Some(p)
            };
            grid::set_tag(state, next);
        }
        Action::TagPicker => {
            state.prompt = Some(super::prompt::Prompt::new(
                super::prompt::PromptKind::Tag,
                "",
            ));
            state.overlay = Some(Overlay::TagPicker { cursor: 0 });
        }
        Action::SetTag(t) => grid::set_tag(state, t),
        Action::EditFilter => {
            let text = state
                .grid()
                .map_or(String::new(), |g| g.filter_text.clone());
            state.prompt = Some(super::prompt::Prompt::new(
                super::prompt::PromptKind::Filter,
                &text,
            ));
        }
        Action::CommandLine => {
            state.prompt = Some(super::prompt::Prompt::new(
                super::prompt::PromptKind::Command,
                "",
            ))
        }
        Action::Frequency => grid::frequency(state),
        Action::TopTab(tab) => grid::top_tab(state, tab),
        Action::Pivot => grid::pivot(state),
        Action::SortAscending => grid::sort(state, false),
        Action::SortDescending => grid::sort(state, true),
        Action::ToggleHistogram => {
            state.histogram = !state.histogram;
            grid::scroll_into_view(state);
        }
        Action::CycleMailView => grid::cycle_mail_view(state),
        Action::Columns => {
            if let Some(g) = state.grid().filter(|g| g.pane == Pane::Emails) {
                state.overlay = Some(Overlay::Columns {
                    cursor: 0,
                    columns: g.columns.clone(),
                });
            } else {
                notice(state, "columns can be chosen in the Emails pane", false);
            }
        }
        Action::Mark => grid::mark(state),
        Action::SetStatus => return triage::start(state, AlertOp::Status),
        Action::Classify => return triage::start(state, AlertOp::Classify),
        Action::AssignToMe => return triage::start(state, AlertOp::AssignToMe),
        Action::Assign => return triage::start(state, AlertOp::Assign),
        Action::Comment => return triage::start(state, AlertOp::Comment),
        Action::ClearMarks => grid::clear_marks(state),
        Action::Note => triage::note(state),
        Action::Remediate => triage::remediate(state, false),
        Action::RemediateAll => triage::remediate(state, true),
        Action::Related => {
            let jumps = current_jumps(state);
            if jumps.is_empty() {
                notice(state, "nothing related to jump to", false);
            } else {
                state.overlay = Some(Overlay::Jumps { jumps, cursor: 0 });
            }
        }
        Action::CopyValue => return grid::copy_value(state),
        Action::CopyView => {
            let line = command::view_line(state);
            return vec![Effect::Copy {
                text: line,
                what: "view line".into(),
            }];
        }
        Action::Export => return grid::export(state, None),
        Action::Refresh => {
            if state.refresh.running {
                notice(state, "a refresh is already running", false);
            } else if !state.session.can_refresh {
                let why = state.refresh.unavailable.clone().unwrap_or_else(|| {
                    "this session has no credentials (see `whalewatch login`)".into()
                });
                notice(state, format!("refresh needs the tenant: {why}"), true);
            } else {
                state.refresh.running = true;
                state.refresh.source = "starting".into();
                return vec![Effect::Refresh];
            }
        }
        Action::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Action::Prefix(p) => state.overlay = Some(Overlay::WhichKey { prefix: Some(p) }),
        Action::Checklist => return open_checklist(state),
        Action::Run(line) => return command::run(state, &line),
        Action::Search => search::open(state),
        Action::CycleRange => {
            let next = state.range.next();
            search::set_range(state, next);
        }
        Action::BarPrev => search::select_bar(state, -1),
        Action::BarNext => search::select_bar(state, 1),
        Action::ReplayNext => return session::replay_next(state),
        Action::Remote => return remote::toggle(state),
        Action::Resize(w, h) => {
            state.width = w;
            state.height = h;
            grid::scroll_into_view(state);
        }
        // Prompt and overlay actions outside them do nothing.
        Action::ColumnEarlier
        | Action::ColumnLater
        | Action::Input(_)
        | Action::Erase
        | Action::Edit(_)
        | Action::Complete
        | Action::Submit
        | Action::Cancel
        | Action::HistoryPrev
        | Action::HistoryNext
        | Action::Paste(_) => {}
    }
    Vec::new()
}

/// Closes the overlay, the prompt, or the top view, in that order.
fn back(state: &mut State) {
    if state.overlay.is_some() {
        state.overlay = None;
        state.prompt = None;
        state.draft = None;
        state.search = None;
    } else if state.remote.is_some() {
        state.remote = None;
    } else if state.bar.is_some() {
        state.bar = None;
    } else if state.prompt.is_some() {
        state.prompt = None;
        state.draft = None;
    } else if state.views.len() > 1 {
        state.views.pop();
        grid::refresh_top(state);
    }
}

/// The jumps from the item under the cursor (or in the flyout).
fn current_jumps(state: &State) -> Vec<Jump> {
    if let View::Flyout(f) = state.top()
        && let Some(d) = &f.detail
    {
        return d.jumps.clone();
    }
    match state.grid().and_then(|g| g.current().map(|r| (g.pane, r))) {
        Some((pane, row)) => jumps_for(&state.data, pane, row),
        None => Vec::new(),
    }
}

/// Opens the item under the cursor: a flyout from a grid, a filtered grid from a
/// frequency table.
fn open(state: &mut State) -> Vec<Effect> {
    match state.top() {
        View::Grid(g) => {
            let Some(row) = g.current() else {
                return Vec::new();
            };
            // Top URLs and clicks open their mail: the first of their jumps.
            if matches!(g.pane, Pane::Urls | Pane::Clicks) {
                let mut jumps = jumps_for(&state.data, g.pane, row);
                if g.pane == Pane::Urls && !g.filter_text.trim().is_empty() {
                    // The URL's mail within the view's filter.
                    for j in &mut jumps {
                        j.filter = format!("{} {}", g.filter_text.trim(), j.filter);
                    }
                }
                if let Some(j) = jumps.first() {
                    follow(state, &j.clone());
                }
                return Vec::new();
            }
            let kind = match g.pane {
                Pane::Emails => FlyoutKind::Email,
                Pane::Alerts => FlyoutKind::Alert,
                Pane::Campaigns => FlyoutKind::Campaign,
                Pane::Accounts => FlyoutKind::Account,
                Pane::Posture => FlyoutKind::Posture,
                Pane::SignIns => FlyoutKind::SignIn,
                Pane::Urls | Pane::Clicks => return Vec::new(),
                Pane::Incidents => FlyoutKind::Incident,
            };
            let key = super::panes::key(g.pane, &state.data, row);
            state.views.push(View::Flyout(Flyout {
                kind: kind.clone(),
                key: key.clone(),
                detail: None,
                scroll: 0,
            }));
            vec![Effect::LoadDetail {
                kind,
                key,
                data: Box::new(state.data.clone()),
            }]
        }
        View::Frequency(_) => {
            grid::open_bin(state);
            Vec::new()
        }
        View::Flyout(_) => Vec::new(),
    }
}

/// `T`: the tenant checklist as a flyout (built from the snapshot on a worker).
fn open_checklist(state: &mut State) -> Vec<Effect> {
    if let View::Flyout(f) = state.top()
        && f.kind == FlyoutKind::Checklist
    {
        return Vec::new();
    }
    state.views.push(View::Flyout(Flyout {
        kind: FlyoutKind::Checklist,
        key: "tenant".into(),
        detail: None,
        scroll: 0,
    }));
    vec![Effect::LoadDetail {
        kind: FlyoutKind::Checklist,
        key: "tenant".into(),
        data: Box::new(state.data.clone()),
    }]
}

/// Pushes the view a jump names.
pub(super) fn follow(state: &mut State, jump: &Jump) {
    let mut g = super::state::Grid::new(jump.pane, &jump.filter);
    g.only = jump.only.clone().map(Arc::new);
    g.title = Some(jump.label.clone());
    state.views.push(View::Grid(g));
    grid::refresh_top(state);
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_load;
#[cfg(test)]
mod tests_memory;
#[cfg(test)]
mod tests_prompt;
#[cfg(test)]
mod tests_which_key;

#[cfg(test)]
mod screen_tests;
#[cfg(test)]
pub(crate) use remote::tests as remote_tests;
#[cfg(test)]
pub(crate) use search::tests as search_tests;
