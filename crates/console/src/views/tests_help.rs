//! Help in aligned columns from the registry, and flyout values that wrap under
//! themselves.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::detail::{Detail, Section};
use crate::state::{Flyout, FlyoutKind, State};
use crate::theme::{Palette, Theme};
use crate::update::tests::{key, state};
use crate::update::{Msg, update};

fn render(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| super::draw(f, s, &Theme::new(Palette::None)))
        .expect("draw");
    format!("{}", t.backend())
}

/// The char column where `needle` starts in `line`.
fn col(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|b| line[..b].chars().count())
}

fn help_at(w: u16, h: u16) -> String {
    let mut s = state();
    update(&mut s, Msg::Action(crate::action::Action::Resize(w, h)));
    key(&mut s, '?');
    render(&s, w, h)
}

#[test]
fn help_keys_names_and_descriptions_never_run_together() {
    let out = help_at(120, 160);
    assert!(!out.contains("spacescroll-down"), "{out}");
    // Every command's name starts in the same column as every other's.
    let s = state();
    let columns: std::collections::BTreeSet<usize> = s
        .keymap
        .commands()
        .iter()
        .filter(|c| c.layer != crate::commands::Layer::Flyout)
        .filter_map(|c| {
            out.lines()
                .find(|l| l.contains(&format!("  {}  ", c.name)))
                .and_then(|l| col(l, &format!("  {}  ", c.name)))
        })
        .collect();
    assert_eq!(columns.len(), 1, "names at columns {columns:?}\n{out}");
    let scroll = out
        .lines()
        .find(|l| l.contains("scroll-down"))
        .expect("scroll-down listed");
    assert!(
        scroll.contains("pgdn, ctrl-f, space  scroll-down"),
        "{scroll}"
    );
    insta::assert_snapshot!("help_120x160", out);
}

#[test]
fn help_wraps_long_descriptions_under_themselves_at_80_columns() {
    let out = help_at(80, 60);
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("  posture  "))
        .expect("posture listed");
    // The description goes on in the description column on the next line.
    let first = col(lines[i], "Switch").expect("description");
    let next = lines[i + 1];
    let text_at = next
        .chars()
        .enumerate()
        .skip(2)
        .find(|(_, c)| *c != ' ')
        .map(|(k, _)| k);
    assert_eq!(text_at, Some(first), "{}\n{}", lines[i], lines[i + 1]);
    insta::assert_snapshot!("help_80x60", out);
}

#[test]
fn a_long_flyout_value_wraps_indented_past_its_label() {
    let mut sec = Section::new("Alert");
    sec.line("Severity", "high");
    sec.line(
        "Description",
        "Emails containing malicious URLs were delivered to mailboxes and later removed by zero-hour auto purge; review the recipients and the clicks.",
    );
    let detail = Detail {
        title: "A potentially malicious URL click was detected".into(),
        sections: vec![sec],
        ..Detail::default()
    };
    let fl = Flyout {
        kind: FlyoutKind::Alert,
        key: "a1".into(),
        detail: Some(Arc::new(detail)),
        scroll: 0,
    };
    let lines: Vec<String> = super::flyout::lines_in(&fl, &Theme::new(Palette::None), 60)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  Description  "))
        .expect("description line");
    let value_col = "  Description  ".len();
    assert!(
        lines.len() > at + 2,
        "wrapped over several lines: {lines:#?}"
    );
    for l in &lines[at + 1..] {
        assert!(l.len() <= 60 + 2, "{l:?}");
        assert_eq!(&l[..value_col], " ".repeat(value_col), "indented: {l:?}");
    }
    let joined: Vec<&str> = lines[at..].iter().map(|l| l[value_col..].trim()).collect();
    assert!(
        joined
            .join(" ")
            .ends_with("review the recipients and the clicks."),
        "no text lost: {joined:?}"
    );
}

#[test]
fn which_key_lists_the_keys_here_and_after_a_prefix() {
    let mut s = state();
    update(&mut s, Msg::Action(crate::action::Action::Resize(100, 30)));
    key(&mut s, '2');
    key(&mut s, 'Z');
    update(&mut s, Msg::Pause);
    let out = render(&s, 100, 30);
    for k in ["j down", "F frequency", "g g top", "space mark"] {
        assert!(out.contains(k), "{k} missing:\n{out}");
    }
    insta::assert_snapshot!("which_key_pause_100x30", out);
    key(&mut s, 'j');
    key(&mut s, 'g');
    let out = render(&s, 100, 30);
    assert!(out.contains("g … · esc cancels"), "{out}");
    assert!(out.contains("g top") && out.contains("e bottom"), "{out}");
    insta::assert_snapshot!("which_key_prefix_g_100x30", out);
}

#[test]
fn the_prompt_shows_the_cursor_the_candidates_and_a_refused_line() {
    use crossterm::event::KeyCode;
    let mut s = state();
    update(&mut s, Msg::Action(crate::action::Action::Resize(100, 30)));
    key(&mut s, '2');
    key(&mut s, '/');
    crate::update::tests::typed(&mut s, "threat:phish rec");
    crate::update::tests::code(&mut s, KeyCode::Tab);
    let out = render(&s, 100, 30);
    let line = out.lines().nth(28).unwrap_or("");
    assert!(
        line.contains("/threat:phish rec") && line.contains("recipient-domain:"),
        "{line}"
    );
    crate::update::tests::code(&mut s, KeyCode::Esc);
    key(&mut s, ':');
    crate::update::tests::typed(&mut s, "emials");
    crate::update::tests::code(&mut s, KeyCode::Enter);
    let out = render(&s, 100, 30);
    let line = out.lines().nth(28).unwrap_or("");
    assert!(
        line.contains(":emials") && line.contains("⚠ `emials` is neither a pane nor a command"),
        "{line}"
    );
    assert!(
        !out.lines().nth(29).unwrap_or("").contains("emials"),
        "not in the status bar"
    );
}
