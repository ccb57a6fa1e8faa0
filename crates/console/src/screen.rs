//! The terminal as the console draws on it. ratatui renders each frame into a
//! buffer; what is sent is the difference from what the terminal already shows.
//! When a band of rows is the previous frame's band moved up or down (a table
//! scrolled by a row, new mail pushing rows down), the terminal moves those rows
//! itself — a scroll region (DECSTBM), scroll up or down (SU/SD), margins reset —
//! and only what differs from the *moved* screen is written: the new row and the
//! cursor's old and new rows instead of the whole page.
//!
//! Detection is generic: rows are compared whole (a scroll region moves whole
//! rows), by hash, so every table pane — and any view that moves rows — benefits
//! without telling the screen where its table is. Correctness does not depend on the
//! detection: the copy of the terminal is moved exactly as the terminal moves it,
//! and the cell diff then writes every cell that still differs.
//!
//! `WHALEWATCH_SCROLL_REGION=0` turns the moves off, for terminals that mishandle
//! DECSTBM: every frame is then a plain cell diff.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

#[cfg(test)]
mod tests;

/// Whether the console may move rows with scroll regions: on unless
/// `WHALEWATCH_SCROLL_REGION` is `0`, `off`, `false` or `no`.
pub fn scroll_region_from_env() -> bool {
    std::env::var("WHALEWATCH_SCROLL_REGION").map_or(true, |v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "off" | "false" | "no"
        )
    })
}

/// The terminal the console draws on, with a copy of what it shows.
pub struct Screen<W: Write> {
    term: Terminal<CrosstermBackend<W>>,
    /// What the terminal shows now (ratatui's own "previous buffer" cannot be
    /// moved, so the screen keeps its own and diffs against it).
    shown: Buffer,
    /// A hash of each row of `shown`, moved along with it.
    shown_rows: Vec<u64>,
    scroll_region: bool,
}

impl<W: Write> Screen<W> {
    /// The whole terminal, following its size.
    pub fn new(backend: CrosstermBackend<W>, scroll_region: bool) -> io::Result<Self> {
        Ok(Self::over(Terminal::new(backend)?, scroll_region))
    }

    /// A terminal of `width`×`height` that does not ask the tty its size (benches
    /// and tests; the viewport stands for the whole terminal, since a scroll region
    /// moves whole rows).
    pub fn fixed(
        backend: CrosstermBackend<W>,
        width: u16,
        height: u16,
        scroll_region: bool,
    ) -> io::Result<Self> {
        let term = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
            },
        )?;
        Ok(Self::over(term, scroll_region))
    }

    fn over(term: Terminal<CrosstermBackend<W>>, scroll_region: bool) -> Self {
        Self {
            term,
            shown: Buffer::empty(Rect::ZERO),
            shown_rows: Vec::new(),
            scroll_region,
        }
    }

    /// Whether rows are moved with scroll regions.
    pub fn scroll_region(&self) -> bool {
        self.scroll_region
    }

    /// The terminal's size.
    pub fn size(&self) -> io::Result<Size> {
        self.term.size()
    }

    /// Resizes a fixed screen (the terminal is cleared, as ratatui does on resize).
    pub fn resize(&mut self, width: u16, height: u16) -> io::Result<()> {
        self.term.resize(Rect::new(0, 0, width, height))
    }

    /// Renders one frame and writes what changed on screen. The frame's cursor is
    /// never shown: the console draws its prompt cursor as a reversed cell.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> io::Result<()> {
        // A full-screen terminal that changed size is cleared by ratatui here.
        self.term.autoresize()?;
        render(&mut self.term.get_frame());
        let next = std::mem::take(self.term.current_buffer_mut());
        if next.area != self.shown.area {
            // A new size: the terminal was cleared (or this is the first frame on
            // the freshly entered alternate screen).
            self.shown = Buffer::empty(next.area);
            self.shown_rows = row_hashes(&self.shown);
        }
        let next_rows = row_hashes(&next);
        let backend = self.term.backend_mut();
        if self.scroll_region
            && let Some(shift) = Shift::find(&self.shown, &self.shown_rows, &next, &next_rows)
        {
            shift.write(backend)?;
            shift.apply(&mut self.shown, &mut self.shown_rows);
        }
        backend.draw(self.shown.diff(&next).into_iter())?;
        self.term.hide_cursor()?;
        // `next` is what the terminal shows now; the old copy goes back to ratatui,
        // which resets it and renders the next frame into it.
        let old = std::mem::replace(&mut self.shown, next);
        self.shown_rows = next_rows;
        *self.term.current_buffer_mut() = old;
        self.term.swap_buffers();
        Backend::flush(self.term.backend_mut())
    }
}

/// Row `y` of `buf` (`w` cells wide).
fn row(buf: &Buffer, w: usize, y: usize) -> &[ratatui::buffer::Cell] {
    &buf.content[y * w..(y + 1) * w]
}

/// A hash of each row of `buf` (cells equal by `==` hash equal).
fn row_hashes(buf: &Buffer) -> Vec<u64> {
    let w = usize::from(buf.area.width).max(1);
    buf.content
        .chunks(w)
        .map(|row| {
            let mut h = DefaultHasher::new();
            row.hash(&mut h);
            h.finish()
        })
        .collect()
}

/// Rows `top..=bottom` (buffer rows) moved by `by` rows: up when the content moves
/// towards the top (SU), down otherwise (SD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shift {
    pub(crate) top: u16,
    pub(crate) bottom: u16,
    pub(crate) by: u16,
    pub(crate) up: bool,
}

/// What the scroll sequence costs, in cells (about 15 bytes); a move must save more.
const SHIFT_COST: usize = 8;

impl Shift {
    /// The move of a band of rows that turns most of `old` into `new`, when it
    /// writes fewer cells than the plain diff.
    pub(crate) fn find(
        old: &Buffer,
        old_rows: &[u64],
        new: &Buffer,
        new_rows: &[u64],
    ) -> Option<Shift> {
        let h = new_rows.len();
        if old.area != new.area || old_rows.len() != h || h < 2 {
            return None;
        }
        // Rows that are already right in place cost nothing without a move.
        let same: Vec<bool> = (0..h).map(|y| old_rows[y] == new_rows[y]).collect();
        // (rows saved, shift) of the best candidate so far.
        let mut best: Option<(isize, Shift)> = None;
        for by in 1..h {
            for up in [true, false] {
                // `matches(y)`: new row y is old row y+by (up) or y-by (down).
                let matches = |y: usize| {
                    if up {
                        y + by < h && new_rows[y] == old_rows[y + by]
                    } else {
                        y >= by && new_rows[y] == old_rows[y - by]
                    }
                };
                let mut y = if up { 0 } else { by };
                while y < h {
                    if !matches(y) {
                        y += 1;
                        continue;
                    }
                    let a = y;
                    while y < h && matches(y) {
                        y += 1;
                    }
                    let b = y - 1;
                    // The region holds the matched rows and the ones they came from;
                    // the rows scrolled in (blank) must be redrawn.
                    let (top, bottom, fresh) = if up {
                        (a, b + by, b + 1..=b + by)
                    } else {
                        (a - by, b, a - by..=a - 1)
                    };
                    let gained = (a..=b).filter(|&r| !same[r]).count() as isize;
                    let lost = fresh.filter(|&r| same[r]).count() as isize;
                    let net = gained - lost;
                    if net > 0 && best.is_none_or(|(n, _)| net > n) {
                        best = Some((
                            net,
                            Shift {
                                top: top as u16,
                                bottom: bottom as u16,
                                by: by as u16,
                                up,
                            },
                        ));
                    }
                }
            }
        }
        let (_, shift) = best?;
        // Hashes chose the band; cells decide whether moving it pays.
        let blank = ratatui::buffer::Cell::EMPTY;
        let w = usize::from(new.area.width);
        let (mut plain, mut moved) = (0, 0);
        for y in usize::from(shift.top)..=usize::from(shift.bottom) {
            let next = row(new, w, y);
            plain += next
                .iter()
                .zip(row(old, w, y))
                .filter(|(a, b)| a != b)
                .count();
            moved += match shift.source(y) {
                Some(from) => next
                    .iter()
                    .zip(row(old, w, from))
                    .filter(|(a, b)| a != b)
                    .count(),
                None => next.iter().filter(|c| **c != blank).count(),
            };
        }
        (moved + SHIFT_COST < plain).then_some(shift)
    }

    /// The row of the old screen that lands on row `y` of the region (`None`: a
    /// blank row scrolled in).
    fn source(&self, y: usize) -> Option<usize> {
        let (top, bottom, by) = (
            usize::from(self.top),
            usize::from(self.bottom),
            usize::from(self.by),
        );
        if self.up {
            (y + by <= bottom).then_some(y + by)
        } else {
            (y >= top + by).then(|| y - by)
        }
    }

    /// Sends the move: the scroll region, the scroll, the margins reset (ratatui's
    /// backend writes `CSI top;bottom r`, `CSI n S` or `CSI n T`, `CSI r`). The
    /// cursor is left at the home position, hidden; the cell diff that follows
    /// positions it before every write.
    fn write<B: Backend>(&self, backend: &mut B) -> Result<(), B::Error> {
        let region = self.top..self.bottom + 1;
        if self.up {
            backend.scroll_region_up(region, self.by)
        } else {
            backend.scroll_region_down(region, self.by)
        }
    }

    /// Moves `buf`'s rows as the terminal does: rows scrolled in are blank with
    /// the default colours (the previous frame's write ended with every attribute
    /// reset, so the terminal erases with the default background).
    pub(crate) fn apply(&self, buf: &mut Buffer, rows: &mut [u64]) {
        let w = usize::from(buf.area.width);
        let (top, bottom, by) = (
            usize::from(self.top),
            usize::from(self.bottom),
            usize::from(self.by),
        );
        let cells = &mut buf.content[top * w..(bottom + 1) * w];
        let hashes = &mut rows[top..=bottom];
        let fresh = if self.up {
            cells.rotate_left(by * w);
            hashes.rotate_left(by);
            bottom + 1 - by - top..=bottom - top
        } else {
            cells.rotate_right(by * w);
            hashes.rotate_right(by);
            0..=by - 1
        };
        let blank = blank_row_hash(w);
        for r in fresh {
            for c in &mut cells[r * w..(r + 1) * w] {
                c.reset();
            }
            hashes[r] = blank;
        }
    }
}

fn blank_row_hash(w: usize) -> u64 {
    row_hashes(&Buffer::empty(Rect::new(0, 0, w as u16, 1)))[0]
}
