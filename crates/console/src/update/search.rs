//! The fuzzy search overlay (`ctrl-p`), the time range (`ctrl-t`, `:range`) and the
//! histogram's bar selection (`[`/`]`, `enter`).

use std::sync::Arc;

use super::{Effect, command, grid, notice};
use crate::action::Pane;
use crate::prompt::{Prompt, PromptKind};
use crate::range::{TimeRange, bars};
use crate::search::Search;
use crate::state::{Overlay, State, View};
use whalewatch_query::index::SearchProgress;

/// `ctrl-p`: opens the search prompt and its result list.
pub fn open(state: &mut State) {
    if state.data.emails.is_none() {
        notice(
            state,
            "search needs the email index, which is still being built; try again in a moment",
            false,
        );
        return;
    }
    state.prompt = Some(Prompt::new(PromptKind::Search, ""));
    state.overlay = Some(Overlay::Search);
    state.search = Some(Search::default());
}

/// The query changed: starts a new search (the running one stops at its next chunk).
pub fn changed(state: &mut State) -> Vec<Effect> {
    let query = state
        .prompt
        .as_ref()
        .map_or(String::new(), |p| p.text.trim().to_string());
    let Some(s) = state.search.as_mut() else {
        return Vec::new();
    };
    s.id += 1;
    s.cursor = 0;
    if query.is_empty() {
        s.query.clear();
        s.progress = None;
    }
    vec![Effect::Search {
        id: s.id,
        query,
        index: state.data.emails.clone(),
    }]
}

/// A chunk of results arrived; results of an older query are dropped.
pub fn results(state: &mut State, id: u64, query: String, progress: Arc<SearchProgress>) {
    if let Some(s) = state.search.as_mut()
        && s.id == id
    {
        s.cursor = s.cursor.min(progress.hits.len().saturating_sub(1));
        s.query = query;
        s.progress = Some(progress);
    }
}

/// Moves the chosen hit.
pub fn move_cursor(state: &mut State, delta: i64) {
    if let Some(s) = state.search.as_mut() {
        let n = s.progress.as_ref().map_or(0, |p| p.hits.len());
        s.cursor = (s.cursor as i64 + delta).clamp(0, n.saturating_sub(1) as i64) as usize;
    }
}

/// Closes the search.
pub fn close(state: &mut State) {
    state.search = None;
    if matches!(state.overlay, Some(Overlay::Search)) {
        state.overlay = None;
    }
}

/// `enter`: the chosen value becomes an email view filtered by it (`from:x@y`); when
/// only one row carries it, that row opens.
pub fn choose(state: &mut State) -> Vec<Effect> {
    let hit = state.search.as_ref().and_then(|s| {
        s.progress
            .as_ref()
            .and_then(|p| p.hits.get(s.cursor).cloned())
    });
    state.prompt = None;
    close(state);
    let Some(hit) = hit else {
        notice(state, "no match to open", false);
        return Vec::new();
    };
    let term = crate::panes::match_term(hit.field.filter_field(), &hit.value);
    let depth = state.views.len();
    command::open_view(state, Pane::Emails, &term);
    if state.views.len() > depth
        && let Some(View::Grid(g)) = state.views.last()
        && g.rows.len() == 1
    {
        return super::open(state);
    }
    Vec::new()
}

/// Sets the time range and re-evaluates every grid.
pub fn set_range(state: &mut State, range: TimeRange) {
    state.range = range;
    state.bar = None;
    grid::reevaluate_all(state);
    let label = state.range.label();
    notice(state, format!("time range: {label}"), false);
}

/// `:range A..B`, `:range 7d`, `:range all`; `:range` alone cycles.
pub fn range_command(state: &mut State, rest: &str) {
    if rest.trim().is_empty() {
        let next = state.range.next();
        set_range(state, next);
        return;
    }
    match TimeRange::parse(rest) {
        Ok(r) => set_range(state, r),
        Err(e) => notice(state, e, true),
    }
}

/// The histogram of the email grid on top, when it is shown.
fn shown_bars(state: &State) -> Option<Vec<(chrono::DateTime<chrono::Utc>, usize)>> {
    match state.top() {
        View::Grid(g) if g.pane == Pane::Emails && state.histogram => {
            g.histogram.as_deref().map(bars)
        }
        _ => None,
    }
}

/// `[` / `]`: selects the previous / next bar (the newest first time).
pub fn select_bar(state: &mut State, delta: i64) {
    let Some(b) = shown_bars(state) else {
        notice(
            state,
            "bars can be selected on the Emails histogram (H shows it)",
            false,
        );
        return;
    };
    if b.is_empty() {
        return;
    }
    let last = b.len() - 1;
    let i = match state.bar {
        None => last,
        Some(i) => (i.min(last) as i64 + delta).clamp(0, last as i64) as usize,
    };
    state.bar = Some(i);
    let (day, n) = b[i];
    notice(
        state,
        format!(
            "{}: {n} rows · enter narrows the range to this day · esc cancels",
            day.format("%Y-%m-%d")
        ),
        false,
    );
}

/// `enter` on a selected bar: the range becomes that day.
pub fn open_bar(state: &mut State) -> bool {
    let Some(i) = state.bar else {
        return false;
    };
    let Some((day, _)) = shown_bars(state).and_then(|b| b.get(i).copied()) else {
        state.bar = None;
        return false;
    };
    let d = day.format("%Y-%m-%d").to_string();
    set_range(state, TimeRange::Between(d.clone(), d));
    true
}
