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

/// The lines of a flyout, as drawn (sanitised).
pub fn lines<'a>(fl: &Flyout, theme: &Theme) -> Vec<Line<'a>> {
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
            let value = sanitize(&l.value).into_owned();
            let mut spans = vec![Span::styled(label, theme.dim())];
            if l.warn {
                spans.push(Span::styled(format!("⚠ {value}"), theme.error()));
            } else {
                spans.push(Span::raw(value));
            }
            out.push(Line::from(spans));
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
        Paragraph::new(lines(fl, theme))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((fl.scroll, 0)),
        area,
    );
}
