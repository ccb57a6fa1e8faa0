//! The details flyout: sections of label/value lines, scrolled; `j`/`k` move to the
//! previous/next item of the grid below without closing it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::state::{Flyout, State};
use crate::theme::Theme;
use whalewatch_model::safe_text::sanitize;

/// The lines of a flyout (sanitised), unwrapped.
pub fn lines<'a>(fl: &Flyout, theme: &Theme) -> Vec<Line<'a>> {
    lines_in(fl, theme, usize::MAX)
}

/// The lines of a flyout `width` columns wide, as drawn: a long value wraps under
/// itself, indented past its label, not back to the left edge.
pub fn lines_in<'a>(fl: &Flyout, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let Some(d) = &fl.detail else {
        return vec![Line::styled("loading…", theme.dim())];
    };
    let mut out = vec![Line::styled(
        sanitize(&d.title).into_owned(),
        theme.header(),
    )];
    for s in &d.sections {
        out.push(Line::raw(""));
        out.push(Line::styled(
            sanitize(&s.title).into_owned(),
            theme.accent().add_modifier(Modifier::BOLD),
        ));
        let label_w = s
            .lines
            .iter()
            .map(|l| l.label.chars().count())
            .max()
            .unwrap_or(0)
            .min(24);
        for l in &s.lines {
            let label = format!("  {:<label_w$}  ", sanitize(&l.label));
            let indent = whalewatch_model::safe_text::width(&label);
            let value = sanitize(&l.value).into_owned();
            let (value, style) = if l.warn {
                (format!("⚠ {value}"), theme.error())
            } else {
                (value, ratatui::style::Style::default())
            };
            let room = width.saturating_sub(indent).max(16);
            for (i, part) in value
                .split('\n')
                .flat_map(|p| super::wrap(p, room))
                .enumerate()
            {
                let lead = if i == 0 {
                    Span::styled(label.clone(), theme.dim())
                } else {
                    Span::raw(" ".repeat(indent))
                };
                out.push(Line::from(vec![lead, Span::styled(part, style)]));
            }
        }
    }
    if !d.jumps.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(
            format!("R: {} related views", d.jumps.len()),
            theme.dim(),
        ));
    }
    out
}

/// Draws the flyout over the body.
pub fn draw(f: &mut Frame<'_>, area: Rect, state: &State, fl: &Flyout, theme: &Theme) {
    let position = state
        .grid()
        .map(|g| {
            format!(
                " {}/{} · j/k previous/next · R related · y copy id · esc close ",
                g.cursor + 1,
                g.rows.len()
            )
        })
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(position, theme.dim()));
    f.render_widget(
        Paragraph::new(lines_in(fl, theme, area.width.saturating_sub(2) as usize))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((fl.scroll, 0)),
        area,
    );
}
