//! The one generic table: alerts, emails, campaigns, accounts and frequency tables
//! all render through it. Cells arrive as raw strings and leave through
//! [`whalewatch_model::safe_text`], so no caller can put raw remote text on the screen. Widths
//! are terminal columns as `unicode-width` counts them (wide CJK and emoji take two);
//! [`safe_text::fit`] cuts a cell between `char`s, not grapheme clusters, so a cut can
//! separate a combining mark from its letter.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::theme::Theme;
use whalewatch_model::safe_text;

/// A column: its title and how wide it may grow.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub min: u16,
    pub max: u16,
}

/// What the table shows: columns, the visible rows' raw cells, the cursor.
pub struct TableView<'a> {
    pub columns: &'a [Column],
    /// Cells of the visible rows, raw.
    pub rows: &'a [Vec<String>],
    /// Index into `rows` of the row under the cursor.
    pub cursor: Option<usize>,
    /// The column under the cursor (for `F`, `p`, `o`).
    pub column: usize,
    /// The column the rows are ordered by and whether descending: its title carries
    /// `▼` or `▲`, so the order is always on screen.
    pub sort: Option<(usize, bool)>,
    /// Marks a cell's style (severity words, threat types).
    pub style_of: &'a dyn Fn(usize, &str) -> Style,
    /// What each column's content needs, when held by a [`Sizing`]; else measured
    /// over `rows`.
    pub wants: Option<&'a [u16]>,
}

/// What each column's content needs, within its bounds.
pub fn wants(columns: &[Column], rows: &[Vec<String>]) -> Vec<u16> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows
                .iter()
                .map(|r| {
                    r.get(i)
                        .map_or(0, |s| safe_text::width(&safe_text::sanitize(s)))
                })
                .max()
                .unwrap_or(0);
            (content.max(safe_text::width(c.title)) as u16).clamp(c.min, c.max.max(c.min))
        })
        .collect()
}

/// What a scrolling table's columns need, held while its rows scroll. Measured over
/// the rows on screen alone, a row scrolled in that is wider than the others (or the
/// widest scrolled out) changes a column's width and shifts every row sideways: the
/// terminal can no longer move the rows (`screen`) and the whole page is rewritten.
/// So a table is measured over the rows around its page — a page above and below —
/// and keeps that measure while its first row moves by less than a page at a time
/// (`j`, `k`, scrolling on and on): a row wider than the measure is cut, as any row
/// wider than its column's maximum is. A page jump, or another basis (rows, order,
/// columns, marks, terminal height — whatever the owner hashes), measures again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizing {
    wants: Vec<u16>,
    basis: u64,
    /// The first row on screen when last followed.
    offset: usize,
}

impl Sizing {
    /// What each column needs, as [`wants`] computes it.
    pub fn wants(&self) -> &[u16] {
        &self.wants
    }

    /// Keeps `held` when it was measured for `basis` and the first row on screen
    /// (`offset`, of `len` rows, `page` on screen) moved by less than a page since
    /// it was last followed; otherwise measures again: `measure` gets the rows
    /// around the page (a page above, the page, a page below) and returns their
    /// [`wants`].
    pub fn follow(
        held: &mut Option<Sizing>,
        basis: u64,
        offset: usize,
        page: usize,
        len: usize,
        measure: impl FnOnce(Range<usize>) -> Vec<u16>,
    ) {
        if let Some(s) = held
            && s.basis == basis
            // A one-row scroll keeps it even when the page is a single row.
            && s.offset.abs_diff(offset) < page.max(2)
        {
            s.offset = offset;
            return;
        }
        let start = offset.saturating_sub(page).min(len);
        let end = offset.saturating_add(2 * page).min(len).max(start);
        *held = Some(Sizing {
            wants: measure(start..end),
            basis,
            offset,
        });
    }
}

/// Widths for `columns` in `width` cells. Every column first gets its minimum (left
/// to right; columns that no longer fit get nothing); the space left goes to the
/// columns in order, up to what their content needs within `max` — so the leftmost
/// columns, the ones a pane puts first because they matter most, stay readable on a
/// narrow terminal.
pub fn widths(columns: &[Column], rows: &[Vec<String>], width: u16) -> Vec<u16> {
    let all: Vec<usize> = (0..columns.len()).collect();
    fill(columns, &wants(columns, rows), &all, width)
}

/// Widths for the columns `shown` (indexes into `columns`), as [`widths`] does.
fn fill(columns: &[Column], want: &[u16], shown: &[usize], width: u16) -> Vec<u16> {
    let mut out = vec![0u16; shown.len()];
    let mut left = width;
    for (k, &i) in shown.iter().enumerate() {
        let need = columns[i].min.min(want[i]) + u16::from(k > 0);
        if need > left {
            break;
        }
        out[k] = columns[i].min.min(want[i]);
        left -= need;
    }
    // Water-fill the rest: share it equally among the shown columns that want more,
    // so no column starves because the ones left of it are greedy.
    let fitted = out.iter().take_while(|w| **w > 0).count().max(1);
    loop {
        let hungry: Vec<usize> = (0..fitted.min(shown.len()))
            .filter(|&k| out[k] < want[shown[k]])
            .collect();
        if hungry.is_empty() || left == 0 {
            break;
        }
        let share = (left / hungry.len() as u16).max(1);
        for k in hungry {
            let extra = (want[shown[k]] - out[k]).min(share).min(left);
            out[k] += extra;
            left -= extra;
        }
    }
    out
}

/// The columns that fit in `width`, in screen order: the first (identifying) column
/// and the one under the cursor always; then the others by `rank` (lower first)
/// while their minimum widths fit.
pub fn visible(
    columns: &[Column],
    want: &[u16],
    rank: &[usize],
    cursor: usize,
    width: u16,
) -> Vec<usize> {
    let need = |i: usize| u32::from(columns[i].min.min(want[i]));
    let mut keep: Vec<usize> = Vec::new();
    let mut used = 0u32;
    let mut by_rank: Vec<usize> = (0..columns.len()).collect();
    by_rank.sort_by_key(|&i| (rank.get(i).copied().unwrap_or(usize::MAX), i));
    let forced = [0, cursor].into_iter().filter(|&i| i < columns.len());
    for (i, always) in forced
        .map(|i| (i, true))
        .chain(by_rank.into_iter().map(|i| (i, false)))
    {
        let gap = u32::from(!keep.is_empty());
        if keep.contains(&i) || (!always && used + gap + need(i) > u32::from(width)) {
            continue;
        }
        used += gap + need(i);
        keep.push(i);
    }
    keep.sort_unstable();
    keep
}

/// Draws the table into `area`, columns ranked by their order.
pub fn draw(f: &mut Frame<'_>, area: Rect, view: &TableView<'_>, theme: &Theme) {
    let rank: Vec<usize> = (0..view.columns.len()).collect();
    draw_ranked(f, area, view, &rank, theme);
}

/// Draws the table into `area`. Columns that do not fit are left out, the least
/// important first (`rank`, lower matters more); the first column stays as the row's
/// identity and the column under the cursor always shows, so moving right never
/// loses what the row is.
pub fn draw_ranked(
    f: &mut Frame<'_>,
    area: Rect,
    view: &TableView<'_>,
    rank: &[usize],
    theme: &Theme,
) {
    let want = match view.wants {
        Some(w) if w.len() == view.columns.len() => w.to_vec(),
        _ => wants(view.columns, view.rows),
    };
    let shown = visible(view.columns, &want, rank, view.column, area.width);
    let fitted = fill(view.columns, &want, &shown, area.width);
    // Only the columns that got room: a zero-width column would still take a gap.
    let (shown, w): (Vec<usize>, Vec<u16>) = shown
        .into_iter()
        .zip(fitted)
        .filter(|(_, w)| *w > 0)
        .unzip();
    let header = Row::new(shown.iter().zip(&w).map(|(&i, &width)| {
        let style = if i == view.column {
            theme
                .header()
                .add_modifier(ratatui::style::Modifier::UNDERLINED)
        } else {
            theme.header()
        };
        Cell::from(Span::styled(header_title(view, i, width), style))
    }));
    let rows = view.rows.iter().enumerate().map(|(ri, cells)| {
        let row = Row::new(shown.iter().zip(&w).map(|(&ci, &width)| {
            let raw = cells.get(ci).map_or("", String::as_str);
            let text = safe_text::fit(raw, width as usize);
            Cell::from(Line::from(Span::styled(text, (view.style_of)(ci, raw))))
        }));
        if view.cursor == Some(ri) {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let table = Table::new(rows, w.iter().map(|&x| Constraint::Length(x)))
        .header(header)
        .column_spacing(1);
    f.render_widget(table, area);
}

/// A column's title, with the order's arrow when the rows are sorted by it; the
/// title is cut before the arrow is.
fn header_title(view: &TableView<'_>, i: usize, width: u16) -> String {
    let title = view.columns[i].title;
    match view.sort {
        Some((c, desc)) if c == i => {
            let arrow = if desc { "▼" } else { "▲" };
            let room = (width as usize).saturating_sub(2);
            format!("{} {arrow}", safe_text::fit(title, room))
        }
        _ => title.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    const COLS: [Column; 3] = [
        Column {
            title: "Date",
            min: 10,
            max: 20,
        },
        Column {
            title: "Subject",
            min: 10,
            max: 60,
        },
        Column {
            title: "Threat",
            min: 6,
            max: 12,
        },
    ];

    fn render(rows: &[Vec<String>], width: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(width, 6)).unwrap();
        let plain = |_: usize, _: &str| Style::default();
        t.draw(|f| {
            let view = TableView {
                columns: &COLS,
                rows,
                cursor: Some(0),
                column: 1,
                sort: None,
                style_of: &plain,
                wants: None,
            };
            draw(
                f,
                f.area(),
                &view,
                &Theme::new(super::super::theme::Palette::None),
            );
        })
        .unwrap();
        format!("{}", t.backend())
    }

    #[test]
    fn hostile_subjects_render_inert_and_fit() {
        let rows: Vec<Vec<String>> = whalewatch_sim::world::hostile_subjects()
            .into_iter()
            .take(4)
            .map(|s| vec!["2026-10-31 08:00".to_string(), s, "Phish".to_string()])
            .collect();
        let out = render(&rows, 80);
        assert!(!out.contains('\u{1b}'), "raw ESC reached the buffer");
        assert!(out.contains("␛]2;ww-title-injected␇"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn sizing_is_held_while_the_rows_scroll_and_measured_again_on_a_jump_or_a_new_basis() {
        let measured = std::cell::RefCell::new(Vec::new());
        let follow = |held: &mut Option<Sizing>, basis: u64, offset: usize| {
            Sizing::follow(held, basis, offset, 10, 100, |rows| {
                measured.borrow_mut().push(rows.clone());
                vec![rows.start as u16]
            });
        };
        let mut held = None;
        follow(&mut held, 1, 40);
        // A page above, the page, a page below.
        assert_eq!(*measured.borrow(), vec![30..60]);
        // Row by row, far past the measured rows: held.
        for offset in (41..80).chain((20..80).rev()) {
            follow(&mut held, 1, offset);
        }
        assert_eq!(measured.borrow().len(), 1);
        assert_eq!(held.as_ref().map(Sizing::wants), Some(&[30u16][..]));
        // A page jump, another basis, the end of the rows: measured again.
        follow(&mut held, 1, 30);
        follow(&mut held, 2, 30);
        follow(&mut held, 2, 95);
        assert_eq!(*measured.borrow(), vec![30..60, 20..50, 20..50, 85..100]);
        // A one-row page still holds a one-row scroll.
        Sizing::follow(&mut held, 2, 96, 1, 100, |_| unreachable!());
        assert_eq!(held.as_ref().map(Sizing::wants), Some(&[85u16][..]));
    }

    #[test]
    fn tiny_widths_never_panic() {
        let rows = vec![vec![
            "a".to_string(),
            "請確認您的帳戶".to_string(),
            "x".to_string(),
        ]];
        for w in 1..30 {
            render(&rows, w);
        }
    }
}
