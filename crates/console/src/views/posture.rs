//! The Posture pane's header: Secure Score with its trend, and each posture source
//! that is missing or unavailable with what to do (`T` opens the full checklist).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::state::State;
use crate::theme::Theme;
use whalewatch_model::safe_text::sanitize;

/// The header's lines: the score line first, then one per source note.
pub fn header_lines(state: &State) -> Vec<(String, bool)> {
    // Before the posture is read, "unknown · 0 failing" would be a wrong answer.
    if !state.data.complete {
        return vec![("loading posture… · T checklist · R sign-ins".into(), false)];
    }
    let p = &state.data.posture;
    let c = &p.checklist;
    let score = match (c.score, c.max) {
        (Some(s), Some(m)) => format!("Secure Score {s:.0}/{m:.0} {}", c.sparkline),
        _ => "Secure Score unknown".to_string(),
    };
    let failing = c
        .practices
        .iter()
        .filter(|x| x.status == whalewatch_query::posture::Status::Fail)
        .count();
    let mut out = vec![(
        format!("{score} · {failing} practices failing · T checklist · R sign-ins"),
        false,
    )];
    out.extend(p.notes.iter().map(|n| (n.clone(), true)));
    out
}

/// Draws the header (every line sanitised: source messages come from the tenant).
pub fn header(f: &mut Frame<'_>, area: Rect, lines: Vec<(String, bool)>, theme: &Theme) {
    let text: Vec<Line> = lines
        .into_iter()
        .map(|(l, warn)| {
            let style = if warn { theme.error() } else { theme.dim() };
            Line::from(Span::styled(sanitize(&l).into_owned(), style))
        })
        .collect();
    f.render_widget(Paragraph::new(text), area);
}
