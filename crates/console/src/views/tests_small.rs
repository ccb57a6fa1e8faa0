//! Small screens and colour: every pane with the 16-colour theme uses only the 16
//! standard colours, `NO_COLOR` uses none, and the 16 standard colours reach the
//! terminal as classic SGR codes.

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::state::State;
use crate::theme::{Palette, Theme};
use crate::update::tests::{code, fixture, key, state};
use crate::update::{Effect, Msg, update};

fn buffer(s: &State, w: u16, h: u16, palette: Palette) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| super::draw(f, s, &Theme::new(palette)))
        .expect("draw");
    t.backend().buffer().clone()
}

fn settle(s: &mut State, effects: Vec<Effect>) {
    for e in effects {
        if let Effect::LoadDetail { kind, key, data } = e {
            let detail = crate::details::load(&fixture().0, &data, &kind, &key).expect("details");
            update(
                s,
                Msg::Detail {
                    key,
                    detail: std::sync::Arc::new(detail),
                },
            );
        }
    }
}

/// Every pane, a flyout of each, help and a prompt.
fn every_screen() -> Vec<(String, State)> {
    let mut out = Vec::new();
    for (i, pane) in ['1', '2', '3', '4', '5', '6'].into_iter().enumerate() {
        let mut s = state();
        key(&mut s, pane);
        out.push((format!("pane {}", i + 1), s));
        let mut s = state();
        key(&mut s, pane);
        let e = code(&mut s, KeyCode::Enter);
        settle(&mut s, e);
        out.push((format!("flyout {}", i + 1), s));
    }
    let mut s = state();
    key(&mut s, '?');
    out.push(("help".into(), s));
    let mut s = state();
    key(&mut s, '2');
    key(&mut s, '/');
    out.push(("prompt".into(), s));
    out
}

fn colours(b: &Buffer) -> impl Iterator<Item = Color> + '_ {
    b.content.iter().flat_map(|c| [c.fg, c.bg])
}

#[test]
fn the_16_colour_theme_uses_only_the_16_standard_colours_on_every_screen() {
    for (name, s) in every_screen() {
        let b = buffer(&s, 120, 40, Palette::Ansi16);
        let bad: Vec<Color> = colours(&b)
            .filter(|c| matches!(c, Color::Indexed(_) | Color::Rgb(..)))
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:?}");
        assert!(
            colours(&b).any(|c| c != Color::Reset),
            "{name}: the 16-colour theme draws in colour"
        );
    }
}

#[test]
fn no_color_draws_without_any_colour() {
    for (name, s) in every_screen() {
        let b = buffer(&s, 120, 40, Palette::None);
        let coloured: Vec<Color> = colours(&b).filter(|c| *c != Color::Reset).collect();
        assert!(coloured.is_empty(), "{name}: {coloured:?}");
    }
}

#[test]
fn a_16_colour_frame_reaches_the_terminal_without_256_colour_sequences() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    let mut s = state();
    key(&mut s, '2');
    let out = crate::app::FrameWriter::default();
    let mut term = Terminal::with_options(
        CrosstermBackend::new(out.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 120, 40)),
        },
    )
    .expect("terminal");
    term.draw(|f| super::draw(f, &s, &Theme::new(Palette::Ansi16)))
        .expect("draw");
    drop(term);
    let raw = out.take();
    let raw_text = String::from_utf8_lossy(&raw);
    assert!(raw_text.contains("38;5;"), "crossterm's own form, before");
    let sent = crate::theme::classic_sgr(&raw);
    let text = String::from_utf8_lossy(&sent);
    assert!(
        !text.contains("38;5;") && !text.contains("48;5;"),
        "{text:?}"
    );
    assert!(
        text.contains("\u{1b}[94m") || text.contains("\u{1b}[94;"),
        "light blue headers as SGR 94: {text:?}"
    );
}
