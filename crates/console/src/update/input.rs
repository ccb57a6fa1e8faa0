//! Keys to actions (through the keymap, or the open prompt or overlay), and what
//! actions do inside prompts and overlays.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Effect, command, follow, grid, notice};
use crate::action::{Action, Pane};
use crate::commands::Layer;
use crate::data::Snapshot;
use crate::panes;
use crate::prompt::{Edit, History, Prompt, PromptKind};
use crate::state::{Overlay, State, View};
use whalewatch_query::lang::{Entity, Field, ValueSource, complete};

/// The action a key means here and now.
pub fn key_action(state: &State, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::QuitNow);
    }
    if let Some(a) = super::session::replay_key(state, key) {
        return Some(a);
    }
    if state.prompt.is_some() {
        let tag_picker = matches!(
            state.overlay,
            Some(Overlay::TagPicker { .. } | Overlay::Search)
        );
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let edit = |e| Some(Action::Edit(e));
        return match key.code {
            KeyCode::Char(c) if ctrl => match c.to_ascii_lowercase() {
                'a' => edit(Edit::Home),
                'e' => edit(Edit::End),
                'b' => edit(Edit::Left),
                'f' => edit(Edit::Right),
                'd' => edit(Edit::Delete),
                'u' => edit(Edit::KillToStart),
                'k' => edit(Edit::KillToEnd),
                'w' => edit(Edit::KillWordBack),
                'h' => Some(Action::Erase),
                _ => None,
            },
            KeyCode::Char('b') if alt => edit(Edit::WordLeft),
            KeyCode::Char('f') if alt => edit(Edit::WordRight),
            KeyCode::Char(_) if alt => None,
            KeyCode::Char(c) => Some(Action::Input(c)),
            KeyCode::Left if ctrl || alt => edit(Edit::WordLeft),
            KeyCode::Right if ctrl || alt => edit(Edit::WordRight),
            KeyCode::Left => edit(Edit::Left),
            KeyCode::Right => edit(Edit::Right),
            KeyCode::Home => edit(Edit::Home),
            KeyCode::End => edit(Edit::End),
            KeyCode::Delete => edit(Edit::Delete),
            KeyCode::Backspace if alt || ctrl => edit(Edit::KillWordBack),
            KeyCode::Backspace => Some(Action::Erase),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Tab => Some(Action::Complete),
            KeyCode::Up if tag_picker => Some(Action::Up),
            KeyCode::Down if tag_picker => Some(Action::Down),
            KeyCode::Up => Some(Action::HistoryPrev),
            KeyCode::Down => Some(Action::HistoryNext),
            _ => None,
        };
    }
    let layer = match state.top() {
        View::Flyout(_) => Layer::Flyout,
        _ => Layer::Table,
    };
    match &state.overlay {
        // The key after a prefix completes the sequence; any other closes the popup.
        Some(Overlay::WhichKey {
            prefix: Some(prefix),
        }) => {
            let then = crate::commands::key_name(key)?;
            return Some(
                state
                    .keymap
                    .lookup_name(layer, &format!("{prefix} {then}"))
                    .unwrap_or(Action::Back),
            );
        }
        // The pause popup only informs: the key does what it always does.
        Some(Overlay::WhichKey { prefix: None }) => return normal_key(state, layer, key),
        _ => {}
    }
    if let Some(o) = &state.overlay {
        return match (o, key.code) {
            (Overlay::Columns { .. }, KeyCode::Char('K')) => Some(Action::ColumnEarlier),
            (Overlay::Columns { .. }, KeyCode::Char('J')) => Some(Action::ColumnLater),
            (_, KeyCode::Char('q')) => Some(Action::Back),
            (Overlay::Help { .. }, KeyCode::Char('?')) => Some(Action::Back),
            _ => state.keymap.lookup(Layer::Table, key),
        };
    }
    normal_key(state, layer, key)
}

/// A key outside prompts and overlays: a command, or a prefix of sequences.
fn normal_key(state: &State, layer: Layer, key: &KeyEvent) -> Option<Action> {
    if let Some(name) = crate::commands::key_name(key)
        && state.keymap.is_prefix(layer, &name)
    {
        return Some(Action::Prefix(name));
    }
    state.keymap.lookup(layer, key)
}

/// Whether `a` is for the open prompt.
pub fn is_prompt_action(a: &Action) -> bool {
    matches!(
        a,
        Action::Input(_)
            | Action::Erase
            | Action::Edit(_)
            | Action::Complete
            | Action::Submit
            | Action::Cancel
            | Action::HistoryPrev
            | Action::HistoryNext
            | Action::Paste(_)
    )
}

/// Applies a prompt action.
pub fn prompt_action(state: &mut State, a: Action) -> Vec<Effect> {
    let Some(p) = state.prompt.as_mut() else {
        return Vec::new();
    };
    match a {
        Action::Input(c) if p.kind == PromptKind::Search => {
            p.insert(&c.to_string());
            return super::search::changed(state);
        }
        Action::Paste(s) if p.kind == PromptKind::Search => {
            p.insert(&s);
            return super::search::changed(state);
        }
        Action::Erase if p.kind == PromptKind::Search => {
            p.erase();
            return super::search::changed(state);
        }
        Action::Input(c) => p.insert(&c.to_string()),
        Action::Paste(s) => p.insert(&s),
        Action::Erase => p.erase(),
        Action::Edit(e) => p.edit(e),
        Action::HistoryPrev | Action::HistoryNext => {
            let lines = state.history.lines(p.kind).to_vec();
            p.browse(&lines, a == Action::HistoryPrev);
        }
        Action::Complete => complete_prompt(state),
        Action::Cancel => {
            let kind = p.kind;
            state.prompt = None;
            state.draft = None;
            if kind == PromptKind::Search {
                super::search::close(state);
            }
            if matches!(
                state.overlay,
                Some(Overlay::TagPicker { .. } | Overlay::Review { .. })
            ) {
                state.overlay = None;
                if kind == PromptKind::Confirm {
                    notice(state, "remediation cancelled; nothing was sent", false);
                }
            }
        }
        Action::Submit => return submit(state),
        _ => {}
    }
    if let (Some(Overlay::TagPicker { cursor }), Some(p)) = (&mut state.overlay, &state.prompt) {
        let n = tag_candidates(&state.data, &p.text).len();
        *cursor = (*cursor).min(n.saturating_sub(1));
    }
    Vec::new()
}

/// Keeps the prompt open with `p`'s line and the reason it was refused, instead of
/// leaving the reason in the status bar as the session's last error.
fn refuse_at_prompt(state: &mut State, mut p: Prompt, why: String) {
    p.error = Some(why);
    state.prompt = Some(p);
}

fn submit(state: &mut State) -> Vec<Effect> {
    let Some(p) = state.prompt.clone() else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if History::kept(p.kind) && !p.text.trim().is_empty() {
        state.history.push(p.kind, &p.text);
        effects.push(Effect::SaveHistory(Box::new(state.history.clone())));
    }
    effects.extend(submit_line(state, p));
    effects
}

fn submit_line(state: &mut State, p: Prompt) -> Vec<Effect> {
    if !History::kept(p.kind) {
        state.history.push(p.kind, &p.text);
    }
    match p.kind {
        PromptKind::Filter => {
            let Some(g) = state.grid() else {
                state.prompt = None;
                return Vec::new();
            };
            let mut probe = g.clone();
            probe.filter_text = p.text.trim().to_string();
            // A filter that does not parse stays in the prompt to be fixed.
            if let Err(e) = grid::effective_filter(&probe, None) {
                refuse_at_prompt(state, p, e);
                return Vec::new();
            }
            state.prompt = None;
            // Editing the filter of a pushed view edits that view.
            while !matches!(state.views.last(), Some(View::Grid(_))) && state.views.len() > 1 {
                state.views.pop();
            }
            if let Some(View::Grid(g)) = state.views.last_mut() {
                g.filter_text = probe.filter_text;
                g.cursor = 0;
                g.offset = 0;
                g.anchor = None;
            }
            grid::refresh_top(state);
            Vec::new()
        }
        PromptKind::Command => {
            state.prompt = None;
            super::session::log_command(state, &p.text);
            let last_error = state.last_error.clone();
            let effects = command::run(state, &p.text);
            // A line the command line refused (a typo, an unknown column) stays in the
            // prompt with the reason, to be fixed; it is not the session's last error.
            if state.prompt.is_none()
                && let Some(n) = state.notice.take_if(|n| n.error)
            {
                state.last_error = last_error;
                refuse_at_prompt(state, p, n.text);
            }
            effects
        }
        PromptKind::Search => super::search::choose(state),
        PromptKind::Comment
        | PromptKind::Assign
        | PromptKind::Note
        | PromptKind::Confirm
        | PromptKind::Analyst => {
            state.prompt = None;
            super::triage::submit(state, p.kind, &p.text)
        }
        PromptKind::Tag => {
            let cursor = match state.overlay {
                Some(Overlay::TagPicker { cursor }) => cursor,
                _ => 0,
            };
            let picked = tag_candidates(&state.data, &p.text)
                .get(cursor)
                .map(|(n, _)| n.clone());
            state.prompt = None;
            state.overlay = None;
            match picked {
                Some(t) => grid::set_tag(state, Some(t)),
                None if p.text.trim().is_empty() => grid::set_tag(state, None),
                None => notice(state, format!("no tag matches `{}`", p.text), true),
            }
            Vec::new()
        }
    }
}

/// Tags whose name matches `query` fuzzily (best first), with their member counts;
/// every tag in display order when the query is empty.
pub fn tag_candidates(data: &Snapshot, query: &str) -> Vec<(String, usize)> {
    use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
    use nucleo_matcher::{Config, Matcher, Utf32Str};
    let all: Vec<(String, usize)> = data
        .tags
        .names()
        .map(|n| {
            (
                n.to_string(),
                data.tags.resolve(n).map_or(0, <[String]>::len),
            )
        })
        .collect();
    if query.trim().is_empty() {
        return all;
    }
    let pat = Pattern::new(
        query,
        CaseMatching::Ignore,
        Normalization::Smart,
        AtomKind::Fuzzy,
    );
    let mut m = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize, (String, usize))> = all
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| {
            pat.score(Utf32Str::new(&t.0, &mut buf), &mut m)
                .map(|s| (s, i, t))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, t)| t).collect()
}

/// Values the completion offers beyond the registry: tag names and the most common
/// sender and recipient domains in the cache.
struct SnapshotValues<'a>(&'a Snapshot);

impl ValueSource for SnapshotValues<'_> {
    fn values(&self, _entity: Entity, field: Field) -> Vec<String> {
        use whalewatch_query::index::schema as s;
        let d = self.0;
        let top = |col: usize| -> Vec<String> {
            let Some(ix) = &d.emails else {
                return Vec::new();
            };
            let c = ix.str_column(col);
            let counts = c.counts(&ix.all());
            let mut v: Vec<(u32, &str)> = c
                .dict
                .iter()
                .map(|(code, v)| (counts[code as usize], v))
                .filter(|(n, v)| *n > 0 && !v.is_empty())
                .collect();
            v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            v.into_iter().take(50).map(|(_, v)| v.to_string()).collect()
        };
        match field {
            Field::Tag => d.tags.names().map(str::to_string).collect(),
            Field::SenderDomain => top(s::SENDER_DOMAIN),
            Field::From => top(s::FROM),
            Field::To | Field::User | Field::Upn => top(s::RECIPIENT),
            Field::ThreatName => top(s::THREAT_NAMES),
            Field::Connector => top(s::CONNECTORS),
            Field::MailFromDomain => top(s::MAIL_FROM_DOMAIN),
            _ => Vec::new(),
        }
    }
}

/// Tab in the filter prompt: one candidate is inserted; several are listed and
/// their common prefix inserted.
fn complete_prompt(state: &mut State) {
    let Some(p) = state.prompt.clone() else {
        return;
    };
    if p.kind != PromptKind::Filter && p.kind != PromptKind::Command {
        return;
    }
    let (entity, offset) = match p.kind {
        PromptKind::Command => {
            // `:emails tag:Fi` completes the filter part for the named pane.
            let (head, rest) = p.text.split_once(' ').unwrap_or((&p.text, ""));
            if head == "open" && p.text.contains(' ') {
                complete_saved(state, rest.trim());
                return;
            }
            match Pane::parse(head) {
                Some(pane) if p.text.contains(' ') => (panes::entity(pane), head.len() + 1),
                _ => {
                    complete_command(state, &p);
                    return;
                }
            }
        }
        _ => (panes::entity(state.pane()), 0),
    };
    let text = &p.text[offset..];
    let cursor_byte = p
        .text
        .char_indices()
        .nth(p.cursor)
        .map_or(p.text.len(), |(b, _)| b)
        .saturating_sub(offset);
    let c = complete(entity, text, cursor_byte, &SnapshotValues(&state.data));
    let start = offset + c.replace.start;
    let end = offset + c.replace.end;
    let insert = match c.candidates.as_slice() {
        [] => {
            notice(state, "no completion", false);
            return;
        }
        [one] => one.insert.clone(),
        many => {
            let listed: Vec<&str> = many.iter().take(12).map(|c| c.insert.as_str()).collect();
            notice(state, listed.join("  "), false);
            // Candidates that merely contain the typed text share no prefix with it:
            // then the list is all Tab gives, and the typed text stays as it is.
            let common = common_prefix(many.iter().map(|c| c.insert.as_str()));
            let typed = p.text.get(start..end).unwrap_or("");
            if !extends(&common, typed) {
                return;
            }
            common
        }
    };
    let mut text = p.text.clone();
    text.replace_range(start..end, &insert);
    let new_cursor = text[..start + insert.len()].chars().count();
    let mut np = Prompt::new(p.kind, &text);
    np.cursor = new_cursor;
    state.prompt = Some(np);
}

/// Completes a command or pane name at the start of the command line.
fn complete_command(state: &mut State, p: &Prompt) {
    let word = p.text.trim();
    let mut names: Vec<String> = Pane::ALL.iter().map(|x| x.name().to_string()).collect();
    names.extend(state.keymap.commands().iter().map(|c| c.name.to_string()));
    names.extend(command::EXTRA.iter().map(|s| s.to_string()));
    names.sort();
    names.dedup();
    let hits: Vec<&String> = names.iter().filter(|n| n.starts_with(word)).collect();
    match hits.as_slice() {
        [] => notice(state, "no such command", false),
        [one] => state.prompt = Some(Prompt::new(PromptKind::Command, &format!("{one} "))),
        many => {
            let listed: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            notice(state, listed.join("  "), false);
            let pre = common_prefix(listed.iter().copied());
            state.prompt = Some(Prompt::new(PromptKind::Command, &pre));
        }
    }
}

/// Whether `completed` keeps `typed` (ignoring case and a leading quote) and adds to it.
fn extends(completed: &str, typed: &str) -> bool {
    let (c, t) = (
        completed.trim_start_matches('"').to_lowercase(),
        typed.trim_start_matches('"').to_lowercase(),
    );
    c.len() > t.len() && c.starts_with(&t)
}

/// Completes `:open NAME` from the profile's saved views.
fn complete_saved(state: &mut State, word: &str) {
    let names: Vec<String> = super::saved::names(state, word)
        .into_iter()
        .map(str::to_string)
        .collect();
    match names.as_slice() {
        [] if state.saved_views.is_empty() => {
            notice(state, "no saved views yet (`:save NAME`)", false)
        }
        [] => notice(state, "no saved view starts so", false),
        [one] => state.prompt = Some(Prompt::new(PromptKind::Command, &format!("open {one}"))),
        many => {
            notice(state, many.join("  "), false);
            let pre = common_prefix(many.iter().map(String::as_str));
            state.prompt = Some(Prompt::new(PromptKind::Command, &format!("open {pre}")));
        }
    }
}

fn common_prefix<'a>(mut words: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut prefix = first.to_string();
    for w in words {
        let n = prefix
            .chars()
            .zip(w.chars())
            .take_while(|(a, b)| a == b)
            .count();
        prefix = prefix.chars().take(n).collect();
    }
    prefix
}

/// What an action does inside an overlay; `None` lets it through.
pub fn overlay_action(state: &mut State, o: &Overlay, a: &Action) -> Option<Vec<Effect>> {
    if matches!(a, Action::QuitNow | Action::Resize(..)) {
        return None;
    }
    let step = |a: &Action| -> i64 {
        match a {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -10,
            Action::PageDown => 10,
            _ => 0,
        }
    };
    let moved = |cursor: usize, len: usize| -> usize {
        (cursor as i64 + step(a)).clamp(0, len.saturating_sub(1) as i64) as usize
    };
    match (o, a) {
        // After a prefix, esc (or a key that completes nothing) only cancels it.
        (Overlay::WhichKey { prefix: Some(_) }, Action::Back) => state.overlay = None,
        // Otherwise which-key goes away with the next key, which then acts as usual
        // (esc still goes back: the popup is not a view of its own).
        (Overlay::WhichKey { .. }, _) => {
            state.overlay = None;
            return None;
        }
        (_, Action::Back | Action::Quit) => {
            state.overlay = None;
            state.prompt = None;
            state.draft = None;
        }
        (Overlay::Sources | Overlay::Review { .. }, _) => {}
        (Overlay::Search, _) => super::search::move_cursor(state, step(a)),
        (Overlay::Profiles { cursor }, Action::Open) => {
            let name = state.profiles.get(*cursor).cloned();
            state.overlay = None;
            if let Some(name) = name {
                super::profiles::command(state, &name);
            }
        }
        (Overlay::Profiles { cursor }, _) => {
            state.overlay = Some(Overlay::Profiles {
                cursor: moved(*cursor, state.profiles.len()),
            });
        }
        (Overlay::Choice { options, .. }, Action::Open) => {
            let cursor = match &state.overlay {
                Some(Overlay::Choice { cursor, .. }) => *cursor,
                _ => 0,
            };
            if let Some((_, d)) = options.get(cursor).cloned() {
                return Some(super::triage::decide(state, d));
            }
        }
        (
            Overlay::Choice {
                title,
                options,
                cursor,
            },
            _,
        ) => {
            state.overlay = Some(Overlay::Choice {
                title: title.clone(),
                options: options.clone(),
                cursor: moved(*cursor, options.len()),
            });
        }
        (
            Overlay::Report {
                title,
                lines,
                scroll,
            },
            _,
        ) => {
            let s = (*scroll as i64 + step(a)).max(0) as u16;
            state.overlay = Some(Overlay::Report {
                title: title.clone(),
                lines: lines.clone(),
                scroll: s,
            });
        }
        (Overlay::Help { scroll }, _) => {
            let s = (*scroll as i64 + step(a)).max(0) as u16;
            state.overlay = Some(Overlay::Help { scroll: s });
        }
        (Overlay::TagPicker { cursor }, _) => {
            let n = state
                .prompt
                .as_ref()
                .map_or(0, |p| tag_candidates(&state.data, &p.text).len());
            state.overlay = Some(Overlay::TagPicker {
                cursor: moved(*cursor, n),
            });
        }
        (Overlay::Jumps { jumps, cursor }, Action::Open) => {
            let j = jumps.get(*cursor).cloned();
            state.overlay = None;
            if let Some(j) = j {
                follow(state, &j);
            }
        }
        (Overlay::Jumps { jumps, cursor }, _) => {
            state.overlay = Some(Overlay::Jumps {
                jumps: jumps.clone(),
                cursor: moved(*cursor, jumps.len()),
            });
        }
        (Overlay::Columns { cursor, columns }, _) => {
            return Some(columns_action(state, *cursor, columns.clone(), a));
        }
    }
    Some(Vec::new())
}

/// The column chooser: space shows or hides, `K`/`J` move — all on the overlay's
/// draft; enter applies it to the grid (and saves it), esc drops it (`Back`).
fn columns_action(
    state: &mut State,
    cursor: usize,
    mut chosen: Vec<crate::panes::GridColumn>,
    a: &Action,
) -> Vec<Effect> {
    let all = crate::panes::emails::all_columns();
    // The chooser lists the shown columns in order, then the hidden ones.
    let mut listed = chosen.clone();
    listed.extend(all.iter().filter(|c| !chosen.contains(c)).copied());
    let n = listed.len();
    let mut cursor = cursor.min(n.saturating_sub(1));
    let shown = chosen.len();
    match a {
        Action::Up => cursor = cursor.saturating_sub(1),
        Action::Down => cursor = (cursor + 1).min(n.saturating_sub(1)),
        Action::Mark => {
            if let Some(&c) = listed.get(cursor) {
                if cursor < shown {
                    if chosen.len() > 1 {
                        chosen.retain(|x| *x != c);
                    }
                } else {
                    chosen.push(c);
                }
            }
        }
        Action::ColumnEarlier if cursor > 0 && cursor < shown => {
            chosen.swap(cursor, cursor - 1);
            cursor -= 1;
        }
        Action::ColumnLater if cursor + 1 < shown => {
            chosen.swap(cursor, cursor + 1);
            cursor += 1;
        }
        Action::Open => {
            state.overlay = None;
            let Some(View::Grid(g)) = state.views.last_mut() else {
                return Vec::new();
            };
            g.sort = keep_sort(&g.columns, g.sort, &chosen);
            g.columns = chosen;
            g.column = g.column.min(g.columns.len().saturating_sub(1));
            let titles: Vec<String> = g.columns.iter().map(|c| c.title.to_string()).collect();
            let columns = g.columns.clone();
            // The base grid of the pane keeps the choice too.
            if let Some(base) = state.panes.iter_mut().find(|b| b.pane == Pane::Emails) {
                base.sort = keep_sort(&base.columns, base.sort, &columns);
                base.columns = columns;
            }
            super::grid::refresh_top(state);
            return vec![Effect::SaveColumns(titles)];
        }
        _ => {}
    }
    state.overlay = Some(Overlay::Columns {
        cursor,
        columns: chosen,
    });
    Vec::new()
}

/// A grid's sort (a column position) after its columns become `new`: on the same
/// column wherever it went, or none when the column was hidden.
fn keep_sort(
    old: &[crate::panes::GridColumn],
    sort: Option<(usize, bool)>,
    new: &[crate::panes::GridColumn],
) -> Option<(usize, bool)> {
    let (i, desc) = sort?;
    let id = old.get(i)?.id;
    new.iter().position(|c| c.id == id).map(|j| (j, desc))
}
