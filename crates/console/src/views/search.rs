//! The fuzzy search overlay: the best values so far, with what they are and how many
//! rows carry them, and how far the search has got.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::chrome::thousands;
use super::overlays::{boxed, centred, list};
use crate::state::State;
use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, width};
use whalewatch_query::index::SearchField;

/// Draws the search results over `area`.
pub fn draw(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let r = centred(area, 100, area.height.saturating_sub(2).max(6));
    let inner_w = r.width.saturating_sub(4) as usize;
    let h = r.height.saturating_sub(3) as usize;
    let s = state.search.as_ref();
    let typed = state
        .prompt
        .as_ref()
        .is_some_and(|p| !p.text.trim().is_empty());
    let (status, body) = match s.and_then(|s| s.progress.as_ref()) {
        _ if !typed => (
            "type to search subjects, senders, recipients and URLs".to_string(),
            Vec::new(),
        ),
        None => ("searching…".to_string(), Vec::new()),
        Some(p) => {
            let pct = (p.scanned * 100).checked_div(p.total).unwrap_or(100);
            let state_word = if p.done { "done" } else { "searching" };
            let status = format!(
                "{} matching values · {state_word} {pct}% of {} values",
                thousands(p.matched),
                thousands(p.total)
            );
            let items: Vec<String> = p
                .hits
                .iter()
                .map(|hit| {
                    let unit = match (hit.field, hit.count) {
                        (SearchField::Url, 1) => "message",
                        (SearchField::Url, _) => "messages",
                        (_, 1) => "row",
                        _ => "rows",
                    };
                    let count = format!("{} {unit}", thousands(hit.count as usize));
                    let value_w = inner_w.saturating_sub(12 + count.len() + 2);
                    // `fit` sanitises: the value is the tenant's text.
                    let value = fit(&hit.value, value_w);
                    let pad = " ".repeat(value_w.saturating_sub(width(&value)));
                    format!("{:<10}  {value}{pad}  {count}", hit.field.label())
                })
                .collect();
            (status, items)
        }
    };
    let cursor = s.map_or(0, |s| s.cursor);
    let mut lines = vec![Line::styled(fit(&status, inner_w + 2), theme.dim())];
    if body.is_empty() && typed && s.and_then(|s| s.progress.as_ref()).is_some_and(|p| p.done) {
        lines.push(Line::raw("no match"));
    }
    lines.extend(list(body, cursor, h, theme));
    boxed(
        f,
        r,
        " search · type to rank · ↑/↓ choose · enter filters by it (one row: opens it) · esc closes ",
        lines,
        0,
    );
}
