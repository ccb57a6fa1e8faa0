//! `update()` behaviour of the `/` and `:` prompts: readline keys, completion that
//! never drops text, refused lines kept at the prompt, history saved per profile.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::tests::{code, key, state, typed};
use super::*;
use crate::prompt::{History, PromptKind};

fn chord(s: &mut State, c: KeyCode, m: KeyModifiers) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(c, m)))
}

fn ctrl(s: &mut State, c: char) {
    chord(s, KeyCode::Char(c), KeyModifiers::CONTROL);
}

fn alt(s: &mut State, c: char) {
    chord(s, KeyCode::Char(c), KeyModifiers::ALT);
}

/// The prompt's text with `|` at the cursor.
fn line(s: &State) -> String {
    let p = s.prompt.as_ref().expect("a prompt");
    let mut t: Vec<char> = p.text.chars().collect();
    t.insert(p.cursor, '|');
    t.into_iter().collect()
}

fn filter_prompt(text: &str) -> State {
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, '/');
    typed(&mut s, text);
    s
}

#[test]
fn arrows_home_end_and_ctrl_a_e_move_the_cursor() {
    let mut s = filter_prompt("tag:Finance");
    code(&mut s, KeyCode::Left);
    code(&mut s, KeyCode::Left);
    assert_eq!(line(&s), "tag:Finan|ce");
    code(&mut s, KeyCode::Right);
    assert_eq!(line(&s), "tag:Financ|e");
    code(&mut s, KeyCode::Home);
    assert_eq!(line(&s), "|tag:Finance");
    code(&mut s, KeyCode::End);
    assert_eq!(line(&s), "tag:Finance|");
    ctrl(&mut s, 'a');
    assert_eq!(line(&s), "|tag:Finance");
    ctrl(&mut s, 'e');
    assert_eq!(line(&s), "tag:Finance|");
    // Typing and backspace happen at the cursor.
    ctrl(&mut s, 'a');
    typed(&mut s, "-");
    assert_eq!(line(&s), "-|tag:Finance");
    code(&mut s, KeyCode::Backspace);
    assert_eq!(line(&s), "|tag:Finance");
    // Nothing of this left the prompt or touched the grid.
    assert_eq!(s.prompt.as_ref().map(|p| p.kind), Some(PromptKind::Filter));
    assert_eq!(s.pane(), Pane::Emails);
}

#[test]
fn alt_b_f_move_by_word() {
    let mut s = filter_prompt("tag:Finance threat:phish");
    alt(&mut s, 'b');
    assert_eq!(line(&s), "tag:Finance threat:|phish");
    alt(&mut s, 'b');
    assert_eq!(line(&s), "tag:Finance |threat:phish");
    alt(&mut s, 'b');
    alt(&mut s, 'f');
    assert_eq!(line(&s), "tag:Finance| threat:phish");
}

#[test]
fn ctrl_u_k_w_and_delete_cut_at_the_cursor() {
    let mut s = filter_prompt("tag:Finance threat:phish");
    ctrl(&mut s, 'w');
    assert_eq!(line(&s), "tag:Finance |");
    ctrl(&mut s, 'u');
    assert_eq!(line(&s), "|", "ctrl-u clears the line before the cursor");
    typed(&mut s, "tag:Finance threat:phish");
    alt(&mut s, 'b');
    alt(&mut s, 'b');
    ctrl(&mut s, 'k');
    assert_eq!(line(&s), "tag:Finance |");
    code(&mut s, KeyCode::Home);
    code(&mut s, KeyCode::Delete);
    assert_eq!(line(&s), "|ag:Finance ");
}

#[test]
fn tab_on_a_partial_field_never_drops_the_text() {
    // `rec` completes to `recipient-domain:` and (by alias) `to:`, which share no
    // prefix: before, that empty prefix replaced `rec` and the text was gone.
    let mut s = filter_prompt("threat:phish rec");
    code(&mut s, KeyCode::Tab);
    assert_eq!(line(&s), "threat:phish rec|");
    let listed = s
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        listed.contains("to:") && listed.contains("recipient-domain:"),
        "{listed}"
    );
    // A unique field completes in place, keeping what is before and after.
    let mut s = filter_prompt("threat:phish subj");
    code(&mut s, KeyCode::Tab);
    assert_eq!(line(&s), "threat:phish subject:|");
}

#[test]
fn a_typo_in_the_command_line_stays_at_the_prompt_not_as_last_error() {
    let mut s = state();
    key(&mut s, ':');
    typed(&mut s, "emials");
    code(&mut s, KeyCode::Enter);
    let p = s.prompt.clone().expect("still in the prompt");
    assert_eq!((p.kind, p.text.as_str()), (PromptKind::Command, "emials"));
    let why = p.error.expect("the reason at the prompt");
    assert!(why.contains("emials"), "{why}");
    assert_eq!(s.last_error, None);
    assert!(s.notice.is_none());
    // Fixing it runs it; the error goes with the first edit.
    for _ in 0..3 {
        code(&mut s, KeyCode::Left);
    }
    assert!(
        s.prompt.as_ref().is_some_and(|p| p.error.is_some()),
        "moving keeps it"
    );
    code(&mut s, KeyCode::Backspace);
    assert_eq!(s.prompt.as_ref().and_then(|p| p.error.clone()), None);
    code(&mut s, KeyCode::Right);
    typed(&mut s, "i");
    assert_eq!(line(&s), "emai|ls");
    code(&mut s, KeyCode::Enter);
    assert!(s.prompt.is_none());
    assert_eq!(s.pane(), Pane::Emails);
}

#[test]
fn submitted_lines_are_saved_deduplicated_and_browsed_with_up_down() {
    let mut s = state();
    let mut saved = None;
    for l in ["emails", "alerts", "emails"] {
        key(&mut s, ':');
        typed(&mut s, l);
        for e in code(&mut s, KeyCode::Enter) {
            if let Effect::SaveHistory(h) = e {
                saved = Some(*h);
            }
        }
    }
    let saved = saved.expect("each line asks for a save");
    assert_eq!(saved.lines(PromptKind::Command), ["alerts", "emails"]);
    // A restarted console that loads the saved history browses it.
    let dir = tempfile::tempdir().unwrap();
    let path = History::path(dir.path(), "fixture");
    saved.save(&path).unwrap();
    let mut s = state();
    s.history = History::load(&path).unwrap();
    key(&mut s, ':');
    code(&mut s, KeyCode::Up);
    assert_eq!(line(&s), "emails|");
    code(&mut s, KeyCode::Up);
    assert_eq!(line(&s), "alerts|");
    code(&mut s, KeyCode::Up);
    assert_eq!(line(&s), "alerts|", "the oldest stays");
    code(&mut s, KeyCode::Down);
    assert_eq!(line(&s), "emails|");
    code(&mut s, KeyCode::Down);
    assert_eq!(line(&s), "|");
}

#[test]
fn comments_are_not_saved_in_the_history_file() {
    let mut s = state();
    s.prompt = Some(crate::prompt::Prompt::new(PromptKind::Note, "draft"));
    let effects = code(&mut s, KeyCode::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::SaveHistory(_))),
        "{effects:?}"
    );
}
