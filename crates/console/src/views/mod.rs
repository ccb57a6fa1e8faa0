//! Views: functions of `&State` that draw a frame. Nothing here changes state or
//! touches I/O; every remote string is sanitised on its way to the buffer.
//!
//! ```text
//!  header      whalewatch · profile · tenant · [1 Alerts] 2 Emails … · tag
//!  breadcrumb  Emails › threat:phish › F SenderFromDomain
//!  histogram   (emails, toggle H)
//!  body        grid / frequency table / flyout
//!  line        prompt, or the last message
//!  status      cache age · refresh gauge · counts · last error · ? help
//! ```

pub mod chrome;
pub mod flyout;
pub mod grid;
pub mod histogram;
pub mod overlays;
pub mod posture;
pub mod remote;
pub mod search;

#[cfg(test)]
mod screen_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_help;
#[cfg(test)]
mod tests_small;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Pane;
use super::state::{State, View};
use super::theme::Theme;

/// Smallest size the console lays out for.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Draws the whole console.
pub fn draw(f: &mut Frame<'_>, state: &State, theme: &Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(f, area, theme);
        return;
    }
    let hist =
        state.histogram && state.pane() == Pane::Emails && matches!(state.top(), View::Grid(_));
    let [header, crumbs, hist_area, body, line, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(if hist {
            histogram::height(area.height) as u16
        } else {
            0
        }),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(f, header, state, theme);
    if hist && let Some(g) = state.grid() {
        let h = match &state.remote {
            Some(r) => r.histogram.as_deref(),
            None => g.histogram.as_deref(),
        };
        histogram::draw(f, hist_area, h, state.bar, theme);
    }
    let scrolled = match state.top() {
        View::Grid(_) if let Some(r) = &state.remote => {
            remote::draw(f, body, r, theme);
            None
        }
        View::Grid(g) if g.pane == Pane::Accounts => {
            let stats = &state.data.tag_stats;
            let h = (stats.len() as u16 + 1).min(body.height / 3).max(2);
            let [tags, users] =
                Layout::vertical([Constraint::Length(h), Constraint::Min(1)]).areas(body);
            grid::tags(f, tags, stats, theme);
            grid::grid(f, users, state, g, theme)
        }
        View::Grid(g) if g.pane == Pane::Posture => {
            let lines = posture::header_lines(state);
            let h = (lines.len() as u16).min(body.height / 3).max(1);
            let [head, rows] =
                Layout::vertical([Constraint::Length(h), Constraint::Min(1)]).areas(body);
            posture::header(f, head, lines, theme);
            grid::grid(f, rows, state, g, theme)
        }
        View::Grid(g) => grid::grid(f, body, state, g, theme),
        View::Frequency(t) => Some(grid::frequency(f, body, t, theme)),
        View::Flyout(fl) => {
            flyout::draw(f, body, state, fl, theme);
            None
        }
    };
    chrome::breadcrumbs(f, crumbs, state, scrolled, theme);
    chrome::line(f, line, state, theme);
    chrome::status(f, status, state, theme);
    if let Some(o) = &state.overlay {
        overlays::draw(f, body, state, o, theme);
    }
}

/// Cuts sanitised `text` into lines of at most `width` terminal columns, at spaces
/// where it can (a word longer than a line is split). The caller indents the lines
/// after the first, so a wrapped value stays in its column instead of running back
/// to the left edge.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use whalewatch_model::safe_text::width as w;
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!cur.is_empty());
        if !cur.is_empty() && w(&cur) + sep + w(word) > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        for c in word.chars() {
            if w(&cur) + w(c.encode_utf8(&mut [0; 4])) > width && !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

fn too_small(f: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("terminal too small", theme.error()),
        Line::raw(format!(
            "{}×{}: needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::raw("q quits"),
    ];
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}
