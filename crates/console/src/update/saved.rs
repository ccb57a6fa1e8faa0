//! Saved views: `:save NAME` stores the current view line (pane, filter, mail view,
//! tag, sort, columns, time range) in the profile's console settings; `:open NAME`
//! (and `whalewatch tui --open NAME`) reopens it.

use super::{Effect, command, grid, notice};
use crate::action::Pane;
use crate::panes::emails;
use crate::range::TimeRange;
use crate::settings::SavedView;
use crate::state::{MailView, State, View};

/// Whether `name` can name a saved view: letters, digits, `-`, `_`, `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The current view, as `:save` stores it.
pub fn capture(state: &State) -> Option<SavedView> {
    let g = state.grid()?;
    Some(SavedView {
        pane: g.pane.name().to_string(),
        filter: g.filter_text.clone(),
        mail_view: if g.mail_view == MailView::All {
            String::new()
        } else {
            g.mail_view.title().to_string()
        },
        tag: state.tag.clone(),
        sort: g.sort.and_then(|(c, desc)| {
            g.columns
                .get(c)
                .map(|col| format!("{} {}", col.title, if desc { "desc" } else { "asc" }))
        }),
        columns: g.columns.iter().map(|c| c.title.to_string()).collect(),
        range: state.range.text(),
    })
}

/// `:save NAME`.
pub fn save(state: &mut State, name: &str) -> Vec<Effect> {
    let name = name.trim();
    if !valid_name(name) {
        notice(
            state,
            "`:save NAME`: a name of letters, digits, `-`, `_` or `.` (up to 64)",
            true,
        );
        return Vec::new();
    }
    let Some(view) = capture(state) else {
        return Vec::new();
    };
    state.saved_views.insert(name.to_string(), view.clone());
    vec![Effect::SaveView {
        name: name.to_string(),
        view,
    }]
}

/// `:open NAME`: the saved view's tag and range apply to every pane, its pane opens
/// with its filter, mail view, columns and sort.
pub fn open(state: &mut State, name: &str) {
    let name = name.trim();
    let Some(v) = state.saved_views.get(name).cloned() else {
        let known: Vec<&str> = state.saved_views.keys().map(String::as_str).collect();
        let hint = if known.is_empty() {
            "none saved yet (`:save NAME` saves the current view)".to_string()
        } else {
            format!("saved: {}", known.join(", "))
        };
        notice(state, format!("no saved view `{name}`; {hint}"), true);
        return;
    };
    let Some(pane) = Pane::parse(&v.pane) else {
        notice(
            state,
            format!("saved view `{name}` names no pane (`{}`)", v.pane),
            true,
        );
        return;
    };
    let range = match TimeRange::parse(&v.range) {
        Ok(r) => r,
        Err(e) => {
            notice(state, format!("saved view `{name}`: {e}"), true);
            return;
        }
    };
    state.range = range;
    state.bar = None;
    // Restores the tag (or none), and re-evaluates every pane in the range.
    grid::set_tag(state, v.tag.clone());
    let depth = state.views.len();
    command::open_view(state, pane, &v.filter);
    if state.views.len() == depth {
        // The filter no longer parses: open_view said why.
        return;
    }
    if let Some(View::Grid(g)) = state.views.last_mut() {
        g.title = Some(format!("{} ({name})", pane.title()));
        if let Some(mv) = MailView::ALL.into_iter().find(|m| m.title() == v.mail_view) {
            g.mail_view = mv;
        }
        if pane == Pane::Emails {
            let cols: Vec<_> = v
                .columns
                .iter()
                .filter_map(|t| emails::by_title(t))
                .collect();
            if !cols.is_empty() {
                g.columns = cols;
            }
        }
        g.sort = v.sort.as_deref().and_then(|s| {
            let (title, dir) = s.rsplit_once(' ').unwrap_or((s, "asc"));
            g.columns
                .iter()
                .position(|c| c.title.eq_ignore_ascii_case(title))
                .map(|i| (i, dir == "desc"))
        });
        if let Some((c, _)) = g.sort {
            g.column = c;
        }
    }
    grid::refresh_top(state);
}

/// Saved view names starting with `prefix`, for completion.
pub fn names<'a>(state: &'a State, prefix: &str) -> Vec<&'a str> {
    state
        .saved_views
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use super::super::tests::{code, key, refusal, state, typed, without_history};
    use super::*;

    fn run(s: &mut State, line: &str) -> Vec<Effect> {
        key(s, ':');
        typed(s, line);
        code(s, KeyCode::Enter)
    }

    #[test]
    fn save_stores_the_whole_view_line_and_open_restores_it() {
        let mut s = state();
        run(&mut s, "emails threat:phish");
        run(&mut s, "view phish");
        run(&mut s, "sort Subject desc");
        run(&mut s, "range 7d");
        key(&mut s, 'P');
        let before = s.grid().expect("grid").rows.clone();
        let effects = without_history(run(&mut s, "save vip-phish"));
        let saved = match effects.as_slice() {
            [Effect::SaveView { name, view }] => {
                assert_eq!(name, "vip-phish");
                view.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(saved.pane, "emails");
        assert_eq!(saved.filter, "threat:phish");
        assert_eq!(saved.mail_view, "Phish");
        assert_eq!(saved.sort.as_deref(), Some("Subject desc"));
        assert_eq!(saved.range, "7d");
        assert_eq!(
            saved.tag.as_deref(),
            Some(whalewatch_config::PRIORITY_ACCOUNT)
        );
        // Elsewhere, with another tag and range, `:open` brings all of it back.
        key(&mut s, '1');
        key(&mut s, 'P');
        run(&mut s, "range all");
        run(&mut s, "open vip-phish");
        assert_eq!(s.range, TimeRange::Since("7d".into()));
        assert_eq!(s.tag.as_deref(), Some(whalewatch_config::PRIORITY_ACCOUNT));
        let g = s.grid().expect("grid");
        assert_eq!(g.pane, Pane::Emails);
        assert_eq!(g.mail_view, MailView::Phish);
        assert_eq!(g.filter_text, "threat:phish");
        assert_eq!(
            g.sort.map(|(c, d)| (g.columns[c].title, d)),
            Some(("Subject", true))
        );
        assert_eq!(g.rows, before, "the same rows in the same order");
        assert_eq!(capture(&s).expect("view"), saved);
    }

    #[test]
    fn unknown_names_are_named_and_completion_lists_saved_views() {
        let mut s = state();
        assert!(without_history(run(&mut s, "save bad name!")).is_empty());
        assert!(refusal(&mut s).is_some());
        run(&mut s, "save alpha");
        run(&mut s, "save alpine");
        run(&mut s, "open nope");
        let why = refusal(&mut s).expect("refused");
        assert!(why.contains("alpha, alpine"), "{why}");
        key(&mut s, ':');
        typed(&mut s, "open al");
        code(&mut s, KeyCode::Tab);
        assert_eq!(s.prompt.as_ref().map(|p| p.text.as_str()), Some("open alp"));
        assert!(s.notice.as_ref().is_some_and(|n| n.text == "alpha  alpine"));
        typed(&mut s, "h");
        code(&mut s, KeyCode::Tab);
        assert_eq!(
            s.prompt.as_ref().map(|p| p.text.as_str()),
            Some("open alpha")
        );
    }

    #[test]
    fn saved_views_survive_in_an_owner_only_file_and_a_broken_one_is_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("whalewatch-saved-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = crate::settings::path(&dir.join("cache"), "p");
        let s = state();
        let view = capture(&s).expect("view");
        crate::settings::save_view(&path, "first", &view).expect("save");
        crate::settings::save_columns(&path, &["Date".into()]).expect("columns");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let views = crate::settings::saved_views(&path).expect("read");
        assert_eq!(views.get("first"), Some(&view));
        let mut fresh = state();
        crate::settings::apply(&mut fresh, &path);
        assert!(fresh.saved_views.contains_key("first"));
        // A file that does not parse is reported, never overwritten.
        std::fs::write(&path, "views = 3 [").expect("write");
        assert!(crate::settings::save_view(&path, "second", &view).is_err());
        assert!(crate::settings::saved_views(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "views = 3 [");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
