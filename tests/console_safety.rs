//! The console keeps the terminal safe whatever the tenant's data says, and whatever
//! size the terminal is:
//!
//! - every hostile string the simulator plants (OSC 2 titles, OSC 52 clipboard
//!   writes, CSI, C0/C1 controls, right-to-left overrides, zero-width characters)
//!   reaches the terminal inert — checked on the real binary in a pseudo-terminal and
//!   on every frame the renderer writes for every pane and every hostile message;
//! - drawing at any size from 1×1 to 300×100 never panics, and below the minimum the
//!   console says so.

mod common;
mod escapes;
mod pty;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use whalewatch::query::index::schema;
use whalewatch::safe_text::placeholder;
use whalewatch::ui::action::{Action, Pane};
use whalewatch::ui::commands::Keymap;
use whalewatch::ui::data::{self, Snapshot};
use whalewatch::ui::panes::{self, ColumnId, emails::EmailCol};
use whalewatch::ui::state::{FlyoutKind, Session, State, View};
use whalewatch::ui::theme::{Palette, Theme};
use whalewatch::ui::update::{Effect, Msg, update};
use whalewatch::ui::{details, fixture, views};

use pty::{Console, Key};

// ---------------------------------------------------------------------------
// The real binary.

/// One filter that selects every message the simulator gave a hostile subject.
fn hostile_filter() -> String {
    [
        "subject:ww-title-injected",
        "subject:\"Shared file\"",
        "subject:\"mailbox is full\"",
        "subject:URGENT",
        "subject:Payroll",
        "subject:\"next line\"",
        "subject:\"Signed contract\"",
        "subject:notice",
        "subject:帳戶",
        "subject:remittance",
    ]
    .join(" OR ")
}

/// The row count the flyout's border shows: `┌ 1/28 · j/k …`.
fn flyout_total(c: &Console) -> Option<usize> {
    let text = c.text();
    let line = text.lines().find(|l| l.contains(" · j/k "))?;
    let (pos, _) = line.split_once(" · j/k ")?;
    pos.rsplit_once('/')?.1.trim().parse().ok()
}

#[test]
fn hostile_mail_reaches_the_terminal_inert() {
    let mut c = Console::demo(&[]);
    c.wait_for("emails indexed");
    c.type_text(&format!(":emails {}", hostile_filter()));
    c.press(&[Key::Enter]);
    c.wait_until("the hostile mail", |s| {
        s.lines()
            .nth(1)
            .is_some_and(|l| l.contains("Emails subject:ww-title-injected OR"))
    });
    // The grid shows the placeholders, not the effects (cells are cut to their
    // column, so the OSC shows by its opening; the flyouts below show it whole).
    let grid = c.text();
    for shown in ["␛]", "⟨RLO⟩", "⟨ZWSP⟩", "⟨C1:9B⟩", "␛[2J"] {
        assert!(grid.contains(shown), "grid lacks {shown}:\n{grid}");
    }
    // Every hostile message's flyout: subject, display name, URLs, attachments.
    // (The breadcrumb is cut at this filter's length; the flyout shows `1/n`.)
    c.press(&[Key::Enter]);
    c.wait_for(" 1/");
    let n = flyout_total(&c).unwrap_or_else(|| panic!("a row count:\n{}", c.text()));
    assert!(n >= 10, "{n} hostile messages:\n{}", c.text());
    let mut seen_whole = false;
    for i in 1..=n {
        if i > 1 {
            c.type_text("j");
        }
        c.wait_until(&format!("message {i}/{n}"), |s| {
            // Loaded: the first section shows (a long subject pushes the rest down).
            s.contains(&format!(" {i}/{n} ")) && s.contains("│Summary") && !s.contains("loading…")
        });
        seen_whole |= c.text().contains("␛]2;ww-title-injected␇");
    }
    assert!(
        seen_whole,
        "no flyout showed the OSC 2 subject as placeholders"
    );
    // (A key right after esc would read as alt+key: wait for each step.)
    c.press(&[Key::Esc]);
    c.wait_until("the flyout to close", |s| !s.contains(" · j/k "));
    c.type_text("q");
    c.wait_until("the grid to close", |s| s.contains("[1 Alerts]"));
    c.type_text("q");
    let status = c.wait_exit();
    assert!(status.success(), "exit {status:?}");

    let problems = escapes::problems(&c.bytes);
    assert!(problems.is_empty(), "{problems:?}");
    let seen = c.screen.callbacks();
    assert!(
        seen.titles.is_empty(),
        "the title was set: {:?}",
        seen.titles
    );
    assert!(seen.clipboard.is_empty(), "the clipboard was written");
    assert!(seen.other_osc.is_empty(), "{:?}", seen.other_osc);
    assert_eq!(seen.bells, 0);
}

// ---------------------------------------------------------------------------
// The renderer, over the fixture cache.

struct Fixture {
    path: PathBuf,
    data: Snapshot,
}

/// The fixture cache (the simulator refreshed through the real pipeline), built
/// once per run.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ww-console-safety-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = fixture::build(&dir, fixture::params(11, 3_000)).expect("fixture cache");
        let quick = data::load_quick(&path).expect("load");
        let emails = data::load_emails(&path).expect("index");
        Fixture {
            path,
            data: quick.with_emails(emails),
        }
    })
}

fn state(w: u16, h: u16) -> State {
    let mut s = State::new(
        Session {
            profile: "fixture".into(),
            tenant: "contoso".into(),
            read_only: false,
            can_refresh: true,
            analyst: "analyst@contoso.com".into(),
            assignee: Some("analyst@contoso.com".into()),
            config_path: None,
        },
        fixture().data.clone(),
        Keymap::new(&BTreeMap::new()).expect("keymap"),
        fixture::now(),
    );
    update(&mut s, Msg::Action(Action::Resize(w, h)));
    s
}

fn act(s: &mut State, a: Action) -> Vec<Effect> {
    update(s, Msg::Action(a))
}

fn key(s: &mut State, c: char) -> Vec<Effect> {
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

/// Runs the detail loads `effects` ask for, as the app's worker would.
fn load_details(s: &mut State, effects: Vec<Effect>) {
    for e in effects {
        if let Effect::LoadDetail { kind, key, data } = e {
            let d = details::load(&fixture().path, &data, &kind, &key).expect("details");
            update(
                s,
                Msg::Detail {
                    key,
                    detail: Arc::new(d),
                },
            );
        }
    }
}

/// A writer whose bytes the test can read while the backend owns it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes ratatui's crossterm backend writes for one full frame of `s`.
fn frame_bytes(s: &State, theme: &Theme) -> Vec<u8> {
    let area = Rect::new(0, 0, s.width, s.height);
    let out = Shared::default();
    let mut term = Terminal::with_options(
        CrosstermBackend::new(out.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )
    .expect("terminal");
    term.draw(|f| views::draw(f, s, theme)).expect("draw");
    drop(term);
    std::mem::take(&mut *out.0.lock().expect("lock"))
}

fn email_cell(s: &State, row: u32, col: usize) -> String {
    panes::cell(&s.data, row, ColumnId::Email(EmailCol::Str(col)))
}

fn is_hostile(text: &str) -> bool {
    text.chars().any(|c| placeholder(c).is_some())
}

#[test]
fn every_frame_of_every_pane_and_hostile_flyout_writes_only_the_renderers_sequences() {
    let themes = [
        Theme::new(Palette::Full),
        Theme::new(Palette::Ansi16),
        Theme::new(Palette::None),
    ];
    let mut s = state(200, 50);
    let mut frames = 0;
    for pane in Pane::ALL {
        act(&mut s, Action::Pane(pane));
        for theme in &themes {
            let bytes = frame_bytes(&s, theme);
            let p = escapes::frame_problems(&bytes);
            assert!(p.is_empty(), "{pane:?}: {p:?}");
            frames += 1;
        }
    }

    // Every email with hostile text in its subject or sender, opened in the flyout.
    act(&mut s, Action::Pane(Pane::Emails));
    let rows: Vec<u32> = s.grid().expect("grid").rows.to_vec();
    let hostile: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|&(_, &r)| {
            [schema::SUBJECT, schema::FROM, schema::DISPLAY_NAME]
                .iter()
                .any(|&c| is_hostile(&email_cell(&s, r, c)))
        })
        .map(|(i, _)| i)
        .collect();
    let planted = whalewatch::sim::world::hostile_subjects();
    let subjects: Vec<String> = hostile
        .iter()
        .map(|&i| email_cell(&s, rows[i], schema::SUBJECT))
        .collect();
    for p in planted.iter().filter(|p| is_hostile(p)) {
        assert!(subjects.contains(p), "the fixture lacks {p:?}");
    }
    for &i in &hostile {
        act(&mut s, Action::Top);
        for _ in 0..i {
            key(&mut s, 'j');
        }
        assert_eq!(s.grid().expect("grid").cursor, i);
        let e = act(&mut s, Action::Open);
        load_details(&mut s, e);
        let View::Flyout(f) = s.top() else {
            panic!("no flyout")
        };
        assert_eq!(f.kind, FlyoutKind::Email);
        assert!(f.detail.is_some(), "details not loaded");
        // The whole flyout, a page at a time.
        for page in 0..4 {
            if let Some(View::Flyout(f)) = s.views.last_mut() {
                f.scroll = page * 40;
            }
            for theme in &themes {
                let bytes = frame_bytes(&s, theme);
                let p = escapes::frame_problems(&bytes);
                assert!(p.is_empty(), "row {i} page {page}: {p:?}");
                frames += 1;
            }
        }
        act(&mut s, Action::Back);
    }
    assert!(
        hostile.len() >= planted.len() - 2,
        "{} hostile rows",
        hostile.len()
    );
    eprintln!(
        "{frames} frames checked, {} hostile messages",
        hostile.len()
    );
}

// ---------------------------------------------------------------------------
// Sizes.

/// What each size is drawn with: each pane, an email flyout, help, the tag picker.
fn screens() -> Vec<(&'static str, State)> {
    let mut out = Vec::new();
    for pane in Pane::ALL {
        let mut s = state(200, 50);
        act(&mut s, Action::Pane(pane));
        out.push((pane.title(), s));
    }
    let mut s = state(200, 50);
    act(&mut s, Action::Pane(Pane::Emails));
    let e = act(&mut s, Action::Open);
    load_details(&mut s, e);
    out.push(("flyout", s));
    let mut s = state(200, 50);
    act(&mut s, Action::Pane(Pane::Emails));
    act(&mut s, Action::Frequency);
    out.push(("frequency", s));
    let mut s = state(200, 50);
    act(&mut s, Action::Help);
    out.push(("help", s));
    let mut s = state(200, 50);
    act(&mut s, Action::TagPicker);
    out.push(("tag picker", s));
    out
}

/// 1×1 … 300×100: the edges, the minimum and either side of it, common sizes, and
/// a deterministic pseudo-random spread.
fn sizes() -> Vec<(u16, u16)> {
    let mut v = vec![
        (1, 1),
        (59, 14),
        (60, 15),
        (59, 15),
        (60, 14),
        (80, 24),
        (200, 50),
        (300, 100),
    ];
    for n in [2, 5, 14, 15, 16, 50, 100] {
        v.push((1, n));
        v.push((n.min(300), 1));
    }
    v.push((300, 1));
    let mut x: u64 = 0x5eed;
    for _ in 0..40 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let w = 1 + (x >> 33) % 300;
        let h = 1 + (x >> 17) % 100;
        v.push((w as u16, h as u16));
    }
    v
}

fn buffer_text(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn drawing_at_any_size_from_1x1_to_300x100_never_panics() {
    let theme = Theme::new(Palette::Full);
    let mut screens = screens();
    for (w, h) in sizes() {
        for (name, s) in screens.iter_mut() {
            update(s, Msg::Action(Action::Resize(w, h)));
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            t.draw(|f| views::draw(f, s, &theme)).expect("draw");
            let text = buffer_text(&t);
            let small = w < views::MIN_WIDTH || h < views::MIN_HEIGHT;
            if small && w >= 18 {
                assert!(
                    text.contains("terminal too small"),
                    "{name} at {w}×{h}:\n{text}"
                );
            }
            if !small {
                assert!(!text.contains("terminal too small"), "{name} at {w}×{h}");
                assert!(text.contains("whalewatch"), "{name} at {w}×{h}:\n{text}");
            }
            // Keys still work at this size (moving a cursor into a tiny page).
            update(s, Msg::Action(Action::Down));
            update(s, Msg::Action(Action::PageDown));
            update(s, Msg::Action(Action::Up));
        }
    }
}

/// The frame check has teeth: every hostile string the simulator plants, written
/// raw (as a careless `print!` or a widget that bypassed ratatui's buffer would), is
/// caught. (Drawn through ratatui's buffer, C0/C1 controls and zero-width characters
/// such as RLO are dropped by ratatui itself; the console's sanitiser turns them into
/// visible placeholders first, which the PTY test checks on screen.)
#[test]
fn the_frame_check_catches_raw_hostile_strings() {
    for raw in whalewatch::sim::world::hostile_subjects()
        .into_iter()
        .filter(|s| s.contains('\u{1b}') || s.contains('\u{202e}') || s.contains('\u{9b}'))
    {
        assert!(
            !escapes::frame_problems(raw.as_bytes()).is_empty(),
            "a raw {raw:?} went unnoticed"
        );
    }
}
