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
    let Some(ix) = state.data.emails.clone() else {
        notice(
            state,
            "search needs the email index, which is still being built; try again in a moment",
            false,
        );
        return;
    };
    // The session's tag and range bound the search, as they bound every grid.
    let scope = if state.tag.is_some() || state.range != TimeRange::All {
        let probe = crate::state::Grid::new(Pane::Emails, "");
        match grid::view_filter(state, &probe)
            .and_then(|f| ix.eval(&f, state.now).map_err(|e| e.to_string()))
        {
            Ok(rows) => Some(Arc::new(rows)),
            Err(e) => {
                notice(state, e, true);
                return;
            }
        }
    } else {
        None
    };
    state.prompt = Some(Prompt::new(PromptKind::Search, ""));
    state.overlay = Some(Overlay::Search);
    state.search = Some(Search {
        scope,
        ..Search::default()
    });
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
        scope: s.scope.clone(),
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
    if state.remote.is_some() {
        // The remote histogram's bars are the tenant's; the range narrows the cache.
        return None;
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::AtomicU64;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::super::tests::{code, key, state, typed};
    use super::super::{Msg, update};
    use super::*;
    use crate::state::View;
    use whalewatch_query::index::{SearchField, schema};

    fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
        update(
            s,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        )
    }

    /// Runs the searches `effects` start, as the app's worker would, and delivers
    /// every chunk.
    pub(crate) fn settle(s: &mut State, effects: Vec<Effect>) {
        for e in effects {
            if let Effect::Search {
                id,
                query,
                index: Some(ix),
                scope,
            } = e
                && !query.is_empty()
            {
                let newest = AtomicU64::new(id);
                let mut chunks = Vec::new();
                crate::search::run(&ix, scope.as_deref(), id, &query, &newest, &mut |p| {
                    chunks.push(p)
                });
                for progress in chunks {
                    update(
                        s,
                        Msg::Search {
                            id,
                            query: query.clone(),
                            progress,
                        },
                    );
                }
            }
        }
    }

    /// Types `text` into the open search, running each keystroke's search.
    pub(crate) fn search_for(s: &mut State, text: &str) {
        for c in text.chars() {
            let e = key(s, c);
            settle(s, e);
        }
    }

    fn hits(s: &State) -> Vec<whalewatch_query::index::SearchHit> {
        s.search
            .as_ref()
            .and_then(|x| x.progress.as_ref())
            .map(|p| p.hits.clone())
            .unwrap_or_default()
    }

    #[test]
    fn each_keystroke_starts_a_newer_search_and_older_results_are_dropped() {
        let mut s = state();
        ctrl(&mut s, 'p');
        assert_eq!(s.overlay, Some(Overlay::Search));
        let first = key(&mut s, 'i');
        let second = key(&mut s, 'n');
        let ids: Vec<(u64, String)> = first
            .iter()
            .chain(&second)
            .filter_map(|e| match e {
                Effect::Search { id, query, .. } => Some((*id, query.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [(1, "i".to_string()), (2, "in".to_string())]);
        // The newest search's results, then a late chunk of the older one.
        settle(&mut s, second);
        let newest = hits(&s);
        assert!(!newest.is_empty());
        settle(&mut s, first);
        assert_eq!(
            hits(&s),
            newest,
            "a late chunk of an older query must not win"
        );
        assert_eq!(s.search.as_ref().map(|x| x.query.as_str()), Some("in"));
        // A superseded search stops at its first chunk and sends nothing.
        let ix = s.data.emails.clone().expect("index");
        let mut sent = 0;
        crate::search::run(&ix, None, 1, "in", &AtomicU64::new(2), &mut |_| sent += 1);
        assert_eq!(sent, 0);
        // Esc closes the search.
        code(&mut s, KeyCode::Esc);
        assert_eq!(s.overlay, None);
        assert!(s.search.is_none() && s.prompt.is_none());
    }

    #[test]
    fn enter_on_a_sender_filters_the_mail_by_it_with_the_same_count() {
        let mut s = state();
        let ix = s.data.emails.clone().expect("index");
        let from = ix.str_column(schema::FROM);
        let counts = from.counts(&ix.all());
        // The busiest sender.
        let (code_, n) = counts
            .iter()
            .enumerate()
            .max_by_key(|(_, n)| **n)
            .map(|(c, n)| (c as u32, *n))
            .expect("senders");
        let sender = from.dict.get(code_).to_string();
        ctrl(&mut s, 'p');
        search_for(&mut s, &sender);
        let found = hits(&s);
        let at = found
            .iter()
            .position(|h| h.field == SearchField::Sender && h.value == sender)
            .expect("the sender is among the hits");
        assert_eq!(found[at].count, n);
        for _ in 0..at {
            code(&mut s, KeyCode::Down);
        }
        code(&mut s, KeyCode::Enter);
        assert!(s.overlay.is_none() && s.search.is_none());
        let g = s.grid().expect("grid");
        assert_eq!(g.pane, Pane::Emails);
        assert_eq!(g.filter_text, crate::panes::match_term("from", &sender));
        assert_eq!(g.rows.len(), n as usize);
    }

    #[test]
    fn enter_on_a_value_only_one_row_carries_opens_that_row() {
        let mut s = state();
        let ix = s.data.emails.clone().expect("index");
        let subj = ix.str_column(schema::SUBJECT);
        let counts = subj.counts(&ix.all());
        // A subject on one row that no other subject contains.
        let lower: Vec<String> = subj.dict.iter().map(|(_, v)| v.to_lowercase()).collect();
        let (code_, _) = counts
            .iter()
            .enumerate()
            .filter(|(c, n)| {
                let v = &lower[*c];
                **n == 1
                    && v.len() > 12
                    && v.is_ascii()
                    && lower.iter().filter(|o| o.contains(v.as_str())).count() == 1
            })
            .map(|(c, n)| (c as u32, *n))
            .next()
            .expect("a unique subject");
        let subject = subj.dict.get(code_).to_string();
        ctrl(&mut s, 'p');
        search_for(&mut s, &subject);
        let at = hits(&s)
            .iter()
            .position(|h| h.field == SearchField::Subject && h.value == subject)
            .expect("the subject is among the hits");
        for _ in 0..at {
            code(&mut s, KeyCode::Down);
        }
        let effects = code(&mut s, KeyCode::Enter);
        assert!(
            matches!(s.views.last(), Some(View::Flyout(f)) if f.kind == crate::state::FlyoutKind::Email),
            "{:?}",
            s.views.iter().map(View::label).collect::<Vec<_>>()
        );
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::LoadDetail { .. }))
        );
    }

    #[test]
    fn within_a_tag_and_range_each_hit_counts_the_rows_its_view_then_shows() {
        let mut s = state();
        key(&mut s, 'P');
        for _ in 0..3 {
            ctrl(&mut s, 't');
        }
        ctrl(&mut s, 'p');
        search_for(&mut s, "invoice");
        let found = hits(&s);
        assert!(!found.is_empty());
        let hit = found[0].clone();
        code(&mut s, KeyCode::Enter);
        let g = s.grid().expect("grid");
        if !matches!(s.views.last(), Some(View::Flyout(_))) {
            // `from:`/`to:` are exact; `subject:`/`url:`/`display-name:` contain the
            // value, so their view can hold more rows than carry it exactly.
            let exact = matches!(hit.field, SearchField::Sender | SearchField::Recipient);
            if exact {
                assert_eq!(g.rows.len(), hit.count as usize, "{hit:?}");
            } else {
                assert!(g.rows.len() >= hit.count as usize, "{hit:?}");
            }
        } else {
            assert_eq!(hit.count, 1);
        }
        // The same search over every row finds at least as many.
        let ix = s.data.emails.clone().expect("index");
        let all = ix.search(&ix.all(), "invoice", 100, 4096, &mut |_| {
            std::ops::ControlFlow::Continue(())
        });
        assert!(all.matched >= found.len());
        let everywhere = all
            .hits
            .iter()
            .find(|h| h.field == hit.field && h.value == hit.value)
            .map_or(0, |h| h.count);
        assert!(everywhere >= hit.count);
    }

    #[test]
    fn search_waits_for_the_index() {
        let mut s = state();
        s.data.emails = None;
        ctrl(&mut s, 'p');
        assert!(s.overlay.is_none());
        assert!(s.notice.as_ref().is_some_and(|n| n.text.contains("index")));
    }

    fn rows_since(s: &State, from: i64, to: i64) -> usize {
        let ix = s.data.emails.clone().expect("index");
        ix.times().iter().filter(|&&t| t >= from && t < to).count()
    }

    fn ticks(t: chrono::DateTime<chrono::Utc>) -> i64 {
        whalewatch_model::hunting::to_ticks(&t)
    }

    #[test]
    fn ctrl_t_cycles_the_range_and_every_count_follows_it() {
        let mut s = state();
        key(&mut s, '2');
        let all = s.grid().expect("grid").rows.len();
        for _ in 0..3 {
            ctrl(&mut s, 't');
        }
        assert_eq!(s.range, TimeRange::Since("7d".into()));
        let week = rows_since(&s, ticks(s.now - chrono::Duration::days(7)), i64::MAX);
        assert!(week > 0 && week < all, "{week} of {all}");
        assert_eq!(s.grid().expect("grid").rows.len(), week);
        // Other panes with a time are narrowed too, panes without one are not; the
        // view line carries the range.
        for (k, timed) in [('1', true), ('3', true), ('4', false), ('5', false)] {
            let before = {
                let mut t = state();
                key(&mut t, k);
                t.grid().expect("grid").rows.len()
            };
            key(&mut s, k);
            let g = s.grid().expect("grid");
            assert_eq!(g.error, None, "pane {k}");
            if timed {
                assert!(g.rows.len() <= before, "pane {k}");
            } else {
                assert_eq!(g.rows.len(), before, "pane {k}");
            }
        }
        assert!(super::super::view_line(&s).contains("--range '7d'"));
        key(&mut s, '2');
        ctrl(&mut s, 't');
        ctrl(&mut s, 't');
        assert_eq!(s.range, TimeRange::All);
        assert_eq!(s.grid().expect("grid").rows.len(), all);
    }

    #[test]
    fn a_typed_range_narrows_and_a_bad_one_is_refused() {
        let mut s = state();
        key(&mut s, '2');
        key(&mut s, ':');
        typed(&mut s, "range 2026-10-28..2026-10-29");
        code(&mut s, KeyCode::Enter);
        let from = ticks(
            chrono::DateTime::parse_from_rfc3339("2026-10-28T00:00:00Z")
                .expect("t")
                .to_utc(),
        );
        let to = ticks(
            chrono::DateTime::parse_from_rfc3339("2026-10-30T00:00:00Z")
                .expect("t")
                .to_utc(),
        );
        assert_eq!(s.grid().expect("grid").rows.len(), rows_since(&s, from, to));
        assert_eq!(s.range.label(), "2026-10-28..2026-10-29");
        key(&mut s, ':');
        typed(&mut s, "range next-tuesday");
        code(&mut s, KeyCode::Enter);
        assert!(super::super::tests::refusal(&mut s).is_some());
        assert_eq!(s.range.label(), "2026-10-28..2026-10-29");
    }

    #[test]
    fn a_selected_bar_narrows_the_range_to_its_day_with_the_bar_s_count() {
        let mut s = state();
        key(&mut s, '2');
        let b = bars(
            s.grid()
                .and_then(|g| g.histogram.as_deref())
                .expect("histogram"),
        );
        assert!(b.len() > 2);
        key(&mut s, ']');
        assert_eq!(s.bar, Some(b.len() - 1));
        key(&mut s, '[');
        key(&mut s, '[');
        assert_eq!(s.bar, Some(b.len() - 3));
        // Esc drops the selection; enter then opens the row as usual.
        code(&mut s, KeyCode::Esc);
        assert_eq!(s.bar, None);
        key(&mut s, '[');
        let (day, n) = b[b.len() - 1];
        code(&mut s, KeyCode::Enter);
        let d = day.format("%Y-%m-%d").to_string();
        assert_eq!(s.range, TimeRange::Between(d.clone(), d));
        assert_eq!(s.bar, None);
        assert!(
            matches!(s.views.last(), Some(View::Grid(_))),
            "no flyout opened"
        );
        assert_eq!(s.grid().expect("grid").rows.len(), n);
    }
}
