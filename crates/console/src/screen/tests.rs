//! The screen's bytes replayed through a terminal emulator (`vt100`): after every
//! frame the emulated terminal must show exactly what ratatui rendered, cell by
//! cell — scrolled grids, paging, resizes, flyouts, notices, new mail.

use crossterm::event::KeyCode;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::{Screen, Shift, row_hashes};
use crate::app::FrameWriter;
use crate::state::State;
use crate::theme::{Palette, Theme};
use crate::update::tests::{code, key, new_mail_above, settle_details, state};
use crate::update::{Msg, update};

/// A console on an emulated terminal.
struct Tty {
    screen: Screen<FrameWriter>,
    out: FrameWriter,
    vt: vt100::Parser,
    theme: Theme,
    /// Bytes of each frame, in order.
    frames: Vec<Vec<u8>>,
}

impl Tty {
    fn new(s: &mut State, w: u16, h: u16, scroll_region: bool) -> Tty {
        let out = FrameWriter::default();
        let screen =
            Screen::fixed(CrosstermBackend::new(out.clone()), w, h, scroll_region).expect("screen");
        s.scroll_jump = !scroll_region;
        update(s, Msg::Action(crate::action::Action::Resize(w, h)));
        Tty {
            screen,
            out,
            vt: vt100::Parser::new(h, w, 0),
            theme: Theme::new(Palette::Full),
            frames: Vec::new(),
        }
    }

    /// Draws `s` as the app does and checks the emulated terminal shows it.
    fn draw(&mut self, s: &State, what: &str) -> usize {
        let mut out = self.out.clone();
        crossterm::queue!(out, BeginSynchronizedUpdate).expect("begin");
        self.screen
            .draw(|f| crate::views::draw(f, s, &self.theme))
            .expect("draw");
        crossterm::queue!(out, EndSynchronizedUpdate).expect("end");
        let bytes = self.out.take();
        self.vt.process(&bytes);
        let n = bytes.len();
        self.frames.push(bytes);
        same_screen(&self.vt, &rendered(s, &self.theme, s.width, s.height), what);
        n
    }

    fn resize(&mut self, s: &mut State, w: u16, h: u16) {
        self.screen.resize(w, h).expect("resize");
        self.vt.screen_mut().set_size(h, w);
        update(s, Msg::Action(crate::action::Action::Resize(w, h)));
    }

    /// Frames that moved rows with a scroll region, up (SU) and down (SD).
    fn scrolls(&self) -> (usize, usize) {
        let has = |f: &[u8], end: u8| region(f).is_some_and(|(_, _, _, e)| e == end);
        (
            self.frames.iter().filter(|f| has(f, b'S')).count(),
            self.frames.iter().filter(|f| has(f, b'T')).count(),
        )
    }
}

/// `CSI top;bottom r CSI n S|T CSI r` in `frame`: (top, bottom, n, S or T).
fn region(frame: &[u8]) -> Option<(u16, u16, u16, u8)> {
    let text = String::from_utf8_lossy(frame);
    let reset = text.find("\u{1b}[r")?;
    let before = &text[..reset];
    let start = before.rfind("\u{1b}[")?;
    let scroll = &before[start + 2..];
    let end = *scroll.as_bytes().last()?;
    let n: u16 = scroll[..scroll.len() - 1].parse().ok()?;
    let set = &before[..start];
    let open = set.rfind("\u{1b}[")?;
    let (top, bottom) = set[open + 2..].strip_suffix('r')?.split_once(';')?;
    Some((top.parse().ok()?, bottom.parse().ok()?, n, end))
}

/// What ratatui renders for `s`, drawn independently of the screen.
fn rendered(s: &State, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("backend");
    t.draw(|f| crate::views::draw(f, s, theme)).expect("draw");
    t.backend().buffer().clone()
}

fn vt_color(c: Color) -> vt100::Color {
    // crossterm sends the named colours as their 256-colour indexes.
    let idx = match c {
        Color::Reset => return vt100::Color::Default,
        Color::Rgb(r, g, b) => return vt100::Color::Rgb(r, g, b),
        Color::Indexed(i) => i,
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
    };
    vt100::Color::Idx(idx)
}

/// The emulated terminal shows `want`: symbols, colours, bold, dim, italic,
/// underline and reverse of every cell.
fn same_screen(vt: &vt100::Parser, want: &Buffer, what: &str) {
    let screen = vt.screen();
    assert_eq!(
        screen.size(),
        (want.area.height, want.area.width),
        "{what}: size"
    );
    for y in 0..want.area.height {
        for x in 0..want.area.width {
            let got = screen.cell(y, x).expect("cell");
            if got.is_wide_continuation() {
                continue;
            }
            let cell = &want[(x, y)];
            let text = match got.contents() {
                "" => " ",
                t => t,
            };
            let m = cell.modifier;
            let attrs =
                |bold, dim, italic, underline, reverse| (bold, dim, italic, underline, reverse);
            assert_eq!(
                (
                    text,
                    got.fgcolor(),
                    got.bgcolor(),
                    attrs(
                        got.bold(),
                        got.dim(),
                        got.italic(),
                        got.underline(),
                        got.inverse()
                    )
                ),
                (
                    cell.symbol(),
                    vt_color(cell.fg),
                    vt_color(cell.bg),
                    attrs(
                        m.contains(Modifier::BOLD),
                        m.contains(Modifier::DIM),
                        m.contains(Modifier::ITALIC),
                        m.contains(Modifier::UNDERLINED),
                        m.contains(Modifier::REVERSED)
                    )
                ),
                "{what}: cell ({x}, {y}) differs; screen row {y}:\n{:?}",
                screen.contents().lines().nth(usize::from(y))
            );
        }
    }
}

/// The same walk on a terminal with scroll regions and on one without; both must
/// show every frame exactly, and the first must have moved rows both ways.
fn walk(scroll_region: bool) -> Tty {
    let mut s = state();
    let mut t = Tty::new(&mut s, 120, 40, scroll_region);
    t.draw(&s, "first frame");
    key(&mut s, '2');
    t.draw(&s, "emails");
    let page = s.page_rows();
    for i in 0..page + 6 {
        key(&mut s, 'j');
        t.draw(&s, &format!("j #{i}"));
    }
    for i in 0..page + 8 {
        key(&mut s, 'k');
        t.draw(&s, &format!("k #{i}"));
    }
    code(&mut s, KeyCode::PageDown);
    t.draw(&s, "page down");
    code(&mut s, KeyCode::PageDown);
    t.draw(&s, "page down again");
    t.resize(&mut s, 100, 30);
    t.draw(&s, "resized");
    for i in 0..s.page_rows() + 3 {
        key(&mut s, 'j');
        t.draw(&s, &format!("j after resize #{i}"));
    }
    let e = code(&mut s, KeyCode::Enter);
    t.draw(&s, "flyout loading");
    settle_details(&mut s, e);
    t.draw(&s, "flyout");
    code(&mut s, KeyCode::Esc);
    t.draw(&s, "flyout closed");
    update(
        &mut s,
        Msg::Notice(crate::state::Notice {
            text: "a notice appears".into(),
            error: false,
        }),
    );
    t.draw(&s, "notice");
    key(&mut s, 'j');
    t.draw(&s, "j under a notice");
    // New mail arrives: three rows come first, the page's rows move down.
    new_mail_above(&mut s, 3);
    t.draw(&s, "new mail");
    // Another table pane: the alert queue, past its page and back.
    key(&mut s, '1');
    t.draw(&s, "alerts");
    for i in 0..s.page_rows() + 4 {
        key(&mut s, 'j');
        t.draw(&s, &format!("alerts j #{i}"));
    }
    for i in 0..6 {
        key(&mut s, 'k');
        t.draw(&s, &format!("alerts k #{i}"));
    }
    t.resize(&mut s, 120, 40);
    t.draw(&s, "grown");
    t
}

#[test]
fn every_frame_reaches_the_terminal_exactly_with_scroll_regions() {
    let t = walk(true);
    let (up, down) = t.scrolls();
    assert!(up >= 10, "rows moved up in {up} frames");
    assert!(down >= 5, "rows moved down in {down} frames");
}

#[test]
fn every_frame_reaches_the_terminal_exactly_without_scroll_regions() {
    let t = walk(false);
    assert_eq!(
        t.scrolls(),
        (0, 0),
        "WHALEWATCH_SCROLL_REGION=0 moves nothing"
    );
}

/// The bytes of the move that scrolls the email grid by one row, at 200×50.
fn one_row_scroll(scroll_region: bool) -> (Vec<u8>, State) {
    let mut s = state();
    let mut t = Tty::new(&mut s, 200, 50, scroll_region);
    // Without scroll regions too: the same move, a row, redrawn by the cell diff.
    s.scroll_jump = false;
    key(&mut s, '2');
    t.draw(&s, "emails");
    for i in 0..s.page_rows() - 1 {
        key(&mut s, 'j');
        t.draw(&s, &format!("j #{i}"));
    }
    let before = s.grid().expect("grid").offset;
    key(&mut s, 'j');
    t.draw(&s, "the scrolling j");
    assert_eq!(
        s.grid().expect("grid").offset,
        before + 1,
        "scrolled by a row"
    );
    (t.frames.pop().expect("frame"), s)
}

#[test]
fn a_one_row_scroll_moves_the_grid_body_and_writes_a_fraction_of_a_redraw() {
    let (moved, s) = one_row_scroll(true);
    let (plain, _) = one_row_scroll(false);
    let (top, bottom, n, dir) = region(&moved).expect("a scroll region");
    // The region starts at the grid's first body row (1-based), under its header.
    let shown = rendered(&s, &Theme::new(Palette::Full), 200, 50);
    let header = (0..50u16)
        .find(|&y| {
            (0..200u16)
                .map(|x| shown[(x, y)].symbol())
                .collect::<String>()
                .starts_with("Date ▼")
        })
        .expect("the grid's header");
    assert_eq!((top, n, dir), (header + 2, 1, b'S'), "{top};{bottom}");
    // It ends at the row above the cursor's (the last body row is redrawn anyway).
    assert_eq!(bottom, header + 1 + s.page_rows() as u16 - 1);
    assert!(
        moved.len() * 4 < plain.len(),
        "{} bytes with a scroll region, {} without",
        moved.len(),
        plain.len()
    );
}

#[test]
fn the_grid_scrolls_a_row_at_a_time_with_scroll_regions_and_half_a_page_without() {
    for jump in [false, true] {
        let mut s = state();
        s.scroll_jump = jump;
        update(&mut s, Msg::Action(crate::action::Action::Resize(120, 40)));
        key(&mut s, '2');
        let page = s.page_rows();
        for _ in 0..page {
            key(&mut s, 'j');
        }
        let half = if jump { page / 2 } else { 0 };
        assert_eq!(s.grid().expect("grid").offset, 1 + half, "jump {jump}");
    }
}

/// A 10-wide buffer with one letter per row.
fn letters(rows: &str) -> Buffer {
    let lines: Vec<String> = rows.chars().map(|c| c.to_string().repeat(10)).collect();
    Buffer::with_lines(lines)
}

#[test]
fn a_band_moved_up_or_down_is_found_and_moved_as_the_terminal_moves_it() {
    // Rows 1..=6 scroll up by two under a fixed first and last row.
    let old = letters("HabcdefgS");
    let new = letters("HcdefgxyS");
    let shift = Shift::find(&old, &row_hashes(&old), &new, &row_hashes(&new)).expect("shift");
    assert_eq!(
        shift,
        Shift {
            top: 1,
            bottom: 7,
            by: 2,
            up: true
        }
    );
    let mut moved = old.clone();
    let mut rows = row_hashes(&old);
    shift.apply(&mut moved, &mut rows);
    let mut blank_rows = letters("HcdefgzzS");
    for y in 6..8 {
        for x in 0..10 {
            blank_rows[(x, y)].reset();
        }
    }
    assert_eq!(moved, blank_rows);
    assert_eq!(rows, row_hashes(&blank_rows));

    // And down by one.
    let new = letters("HzabcdefS");
    let shift = Shift::find(&old, &row_hashes(&old), &new, &row_hashes(&new)).expect("shift");
    assert_eq!(
        shift,
        Shift {
            top: 1,
            bottom: 7,
            by: 1,
            up: false
        }
    );
    // Nothing moved, or everything new: no move.
    assert_eq!(
        Shift::find(&old, &row_hashes(&old), &old, &row_hashes(&old)),
        None
    );
    let other = letters("123456789");
    assert_eq!(
        Shift::find(&old, &row_hashes(&old), &other, &row_hashes(&other)),
        None
    );
}

/// The email grid's header row of `buf` (the row that starts with `Date`), if shown.
fn header_row(buf: &Buffer) -> Option<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .find(|line| line.starts_with("Date"))
}

/// One move of [`scroll_row_by_row`] that scrolled the grid by one row.
struct OneRow {
    what: String,
    /// The grid's header row before and after the move.
    header: (Option<String>, Option<String>),
    bytes: usize,
    /// What the columns would need measured over the rows on screen alone, before
    /// and after (how they were sized before widths were held).
    on_screen: (Vec<u16>, Vec<u16>),
}

/// Opens the email grid at `w`×`h`, moves down three pages and a half a row at a
/// time and back up, and returns every move that scrolled the grid by one row.
fn scroll_row_by_row(w: u16, h: u16) -> Vec<OneRow> {
    let mut s = state();
    let mut t = Tty::new(&mut s, w, h, true);
    key(&mut s, '2');
    t.draw(&s, "emails");
    let theme = Theme::new(Palette::Full);
    let on_screen = |s: &State| {
        let g = s.grid().expect("grid");
        let columns: Vec<_> = g.columns.iter().map(|c| c.table_column()).collect();
        crate::table::wants(
            &columns,
            &g.cells(&s.data, g.offset..g.offset + s.page_rows()),
        )
    };
    let moves = s.page_rows() * 7 / 2;
    let mut out = Vec::new();
    for (c, n) in [('j', moves), ('k', moves)] {
        for i in 0..n {
            let before = (
                s.grid().expect("grid").offset,
                header_row(&rendered(&s, &theme, w, h)),
                on_screen(&s),
            );
            key(&mut s, c);
            let what = format!("{w}×{h} {c} #{i}");
            let bytes = t.draw(&s, &what);
            if s.grid().expect("grid").offset.abs_diff(before.0) == 1 {
                out.push(OneRow {
                    what,
                    header: (before.1, header_row(&rendered(&s, &theme, w, h))),
                    bytes,
                    on_screen: (before.2, on_screen(&s)),
                });
            }
        }
    }
    out
}

#[test]
fn a_one_row_scroll_never_changes_a_column_width_and_writes_under_2_kb() {
    let moves = scroll_row_by_row(200, 50);
    assert!(moves.len() > 100, "{} one-row scrolls", moves.len());
    // The fixture's rows differ in width: sized by the rows on screen alone, the
    // columns would change width while scrolling.
    assert!(
        moves.iter().any(|m| m.on_screen.0 != m.on_screen.1),
        "no row scrolled in changes what the columns need"
    );
    for m in &moves {
        assert!(m.header.0.is_some(), "{}: the grid's header", m.what);
        assert_eq!(m.header.0, m.header.1, "{}: a column moved", m.what);
        assert!(m.bytes <= 2048, "{}: {} bytes", m.what, m.bytes);
    }
}

#[test]
fn held_widths_scroll_at_odd_sizes_exactly_and_without_moving_a_column() {
    // Every frame reaches the emulated terminal exactly (`Tty::draw`), nothing
    // panics, and where the header shows, no one-row scroll moves a column.
    for (w, h) in [(20, 5), (60, 20), (120, 40), (300, 80)] {
        let moves = scroll_row_by_row(w, h);
        assert!(!moves.is_empty(), "{w}×{h}: no one-row scroll");
        for m in &moves {
            assert_eq!(m.header.0, m.header.1, "{}: a column moved", m.what);
        }
    }
}
