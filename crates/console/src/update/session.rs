//! The session log's two halves in `update`: what to record (a view that changed, a
//! command line run) and the replay that steps through a recorded session.

use crossterm::event::{KeyCode, KeyEvent};

use super::{Effect, command, notice};
use crate::action::{Action, Pane};
use crate::session_log::{EntryKind, Record};
use crate::state::{MailView, State, View};

/// The `:` command lines that bring the console to the grid on screen: tag, range,
/// pane and filter, mail view, sort.
fn reproduce(state: &State) -> Vec<String> {
    let mut run = vec![match &state.tag {
        Some(t) => format!("tag {t}"),
        None => "notag".to_string(),
    }];
    run.push(format!("range {}", state.range.text()));
    if let Some(g) = state.grid() {
        run.push(
            format!("{} {}", g.pane.name(), g.filter_text)
                .trim()
                .to_string(),
        );
        if g.pane == Pane::Emails && g.mail_view != MailView::All {
            run.push(format!("view {}", g.mail_view.title().to_ascii_lowercase()));
        }
        if let Some((c, desc)) = g.sort
            && let Some(col) = g.columns.get(c)
        {
            run.push(format!(
                "sort {} {}",
                col.title,
                if desc { "desc" } else { "asc" }
            ));
        }
    }
    run
}

/// What the analyst sees: the breadcrumb with the tag and range.
fn view_text(state: &State) -> String {
    let crumbs: Vec<String> = state.views.iter().map(View::label).collect();
    format!(
        "{} [tag: {}] [{}]",
        crumbs.join(" › "),
        state.tag.as_deref().unwrap_or("all"),
        state.range.label()
    )
}

/// Records the view when it changed (not while replaying a log).
pub fn log_view(state: &mut State) {
    if state.replay.is_some() {
        return;
    }
    let line = view_text(state);
    if state.logged_view.as_deref() == Some(line.as_str()) {
        return;
    }
    let run = reproduce(state);
    state.log.push(Record {
        kind: EntryKind::View,
        line: line.clone(),
        run,
    });
    state.logged_view = Some(line);
}

/// Records a `:` command line the analyst ran.
pub fn log_command(state: &mut State, line: &str) {
    let line = line.trim().trim_start_matches(':').trim().to_string();
    state.log.push(Record {
        kind: EntryKind::Command,
        run: vec![line.clone()],
        line,
    });
}

/// While replaying, every key but `q`, `esc` and ctrl-c runs the next entry.
pub fn replay_key(state: &State, key: &KeyEvent) -> Option<Action> {
    if state.replay.is_none() || state.prompt.is_some() || state.overlay.is_some() {
        return None;
    }
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => None,
        _ => Some(Action::ReplayNext),
    }
}

/// Runs the next entry of the replay.
pub fn replay_next(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.replay.as_mut() else {
        return Vec::new();
    };
    let Some(entry) = r.entries.get(r.pos).cloned() else {
        let n = r.entries.len();
        state.replay = None;
        notice(state, format!("replay finished ({n} entries)"), false);
        return Vec::new();
    };
    r.pos += 1;
    let (pos, n) = (r.pos, r.entries.len());
    // Back to one pane's grid, then the entry's command lines, as if typed.
    if let Some(View::Grid(g)) = state.views.first() {
        let pane = g.pane;
        super::grid::switch_pane(state, pane);
    }
    let mut effects = Vec::new();
    for line in &entry.run {
        effects.extend(command::run(state, line));
    }
    let kind = match entry.kind {
        EntryKind::View => "view",
        EntryKind::Command => "command",
    };
    // A step's own error (a tag that no longer exists) stays visible.
    if state.notice.as_ref().is_none_or(|n| !n.error) {
        notice(
            state,
            format!(
                "replay {pos}/{n} · {} · {kind}: {} · any key: next · q quits",
                entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
                entry.line
            ),
            false,
        );
    }
    effects
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::super::tests::{code, key, state, typed};
    use super::*;
    use crate::session_log::{Entry, Replay};

    /// What the app would append after the last update.
    fn logged(s: &mut State) -> Vec<Record> {
        std::mem::take(&mut s.log)
    }

    #[test]
    fn views_and_commands_are_logged_once_each_with_what_reproduces_them() {
        let mut s = state();
        s.log.clear();
        let mut all = Vec::new();
        key(&mut s, '2');
        all.extend(logged(&mut s));
        key(&mut s, 'j');
        all.extend(logged(&mut s));
        key(&mut s, ':');
        typed(&mut s, "emails threat:phish");
        code(&mut s, KeyCode::Enter);
        all.extend(logged(&mut s));
        key(&mut s, 'P');
        all.extend(logged(&mut s));
        let kinds: Vec<(EntryKind, &str)> = all.iter().map(|r| (r.kind, r.line.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (EntryKind::View, "Emails [tag: all] [all time]"),
                (EntryKind::Command, "emails threat:phish"),
                (
                    EntryKind::View,
                    "Emails › Emails threat:phish [tag: all] [all time]"
                ),
                (
                    EntryKind::View,
                    "Emails › Emails threat:phish [tag: Priority account] [all time]"
                ),
            ],
            "moving the cursor is not a new view"
        );
        assert_eq!(
            all[3].run,
            ["tag Priority account", "range all", "emails threat:phish"]
        );
    }

    #[test]
    fn a_replay_steps_one_entry_per_key_and_reaches_the_same_view() {
        // Record a session.
        let mut s = state();
        s.log.clear();
        let mut records = Vec::new();
        for k in ['2', 'P'] {
            key(&mut s, k);
            records.extend(logged(&mut s));
        }
        key(&mut s, ':');
        typed(&mut s, "range 7d");
        code(&mut s, KeyCode::Enter);
        records.extend(logged(&mut s));
        let end_rows = s.grid().expect("grid").rows.clone();
        let entries: Vec<Entry> = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| Entry {
                at: crate::fixture::now() + chrono::Duration::seconds(i as i64),
                kind: r.kind,
                line: r.line,
                run: r.run,
            })
            .collect();
        let n = entries.len();
        // Replay it in a fresh console: each key press runs one entry.
        let mut r = state();
        r.replay = Some(Replay { entries, pos: 0 });
        r.log.clear();
        for i in 1..=n {
            key(&mut r, 'j');
            assert!(logged(&mut r).is_empty(), "a replay is not logged again");
            let text = r.notice.clone().expect("notice").text;
            assert!(text.starts_with(&format!("replay {i}/{n}")), "{text}");
        }
        assert_eq!(r.pane(), Pane::Emails);
        assert_eq!(r.range.text(), "7d");
        assert_eq!(r.grid().expect("grid").rows, end_rows);
        key(&mut r, ' ');
        assert!(r.replay.is_none());
        assert!(
            r.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("finished"))
        );
        // q still quits out of a replay.
        r.replay = Some(Replay {
            entries: Vec::new(),
            pos: 0,
        });
        key(&mut r, 'q');
        assert!(r.quit);
    }
}
