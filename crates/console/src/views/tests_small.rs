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
use crate::update::tests::{code, key, settle_details, state};
use crate::update::{Msg, update};

fn buffer(s: &State, w: u16, h: u16, palette: Palette) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| super::draw(f, s, &Theme::new(palette)))
        .expect("draw");
    t.backend().buffer().clone()
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
        settle_details(&mut s, e);
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

fn text(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| super::draw(f, s, &Theme::new(Palette::None)))
        .expect("draw");
    format!("{}", t.backend())
}

fn sized(w: u16, h: u16, setup: impl Fn(&mut State)) -> (State, String) {
    let mut s = state();
    update(&mut s, Msg::Action(crate::action::Action::Resize(w, h)));
    setup(&mut s);
    let out = text(&s, w, h);
    (s, out)
}

/// The grid's header line (the first line naming the Date column).
fn header_line(screen: &str) -> String {
    screen
        .lines()
        .map(|l| l.trim_start_matches('"'))
        .find(|l| l.starts_with("Date") || l.starts_with("Severity"))
        .unwrap_or("")
        .to_string()
}

#[test]
fn at_80x24_the_histogram_is_one_line_and_the_grid_keeps_its_rows() {
    let (s, out) = sized(80, 24, |s| {
        key(s, '2');
    });
    let lines: Vec<&str> = out.lines().collect();
    // Header, breadcrumb, one sparkline line, then the grid's header.
    assert!(
        lines[2].contains("max") && lines[2].contains("/day"),
        "{out}"
    );
    assert!(lines[3].contains("Date"), "{out}");
    assert_eq!(s.page_rows(), 24 - 4 - 1 - 1);
    let header = header_line(&out);
    for c in ["Date", "Subject", "Recipient", "Threat"] {
        assert!(header.contains(c), "{c} missing from {header:?}");
    }
    insta::assert_snapshot!("emails_80x24_small", out);
}

#[test]
fn scrolling_right_keeps_the_date_and_shows_the_column_under_the_cursor() {
    for (w, h) in [(80u16, 24u16), (60, 20)] {
        let (_, out) = sized(w, h, |s| {
            key(s, '2');
            for _ in 0..11 {
                key(s, 'l');
            }
        });
        let header = header_line(&out);
        assert!(
            header.trim_start_matches('"').starts_with("Date"),
            "{w}x{h}: {header:?}"
        );
        assert!(header.contains("Additi"), "{w}x{h}: {header:?}");
        insta::assert_snapshot!(format!("emails_scrolled_right_{w}x{h}"), out);
    }
}

#[test]
fn at_60x20_and_20x6_the_console_draws_without_panicking() {
    let (_, out) = sized(60, 20, |s| {
        key(s, '2');
    });
    insta::assert_snapshot!("emails_60x20", out);
    let (_, out) = sized(60, 20, |_| {});
    insta::assert_snapshot!("alerts_60x20", out);
    let (_, out) = sized(20, 6, |s| {
        key(s, '2');
        key(s, '?');
    });
    assert!(out.contains("too small"), "{out}");
    insta::assert_snapshot!("emails_20x6", out);
}
