//! The remote view (`:remote`): what advanced hunting answered for the email view —
//! the count, the top sender domains and the newest rows — with the progress of what
//! is still coming. The histogram above it is the tenant's too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::chrome::thousands;
use crate::remote::{RemoteView, text_of};
use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, width};

/// The row columns shown: (hunting column, title, width).
const COLUMNS: [(&str, &str, usize); 6] = [
    ("Timestamp", "Date", 17),
    ("Subject", "Subject", 32),
    ("RecipientEmailAddress", "Recipient", 26),
    ("SenderFromAddress", "Sender", 26),
    ("ThreatTypes", "Threat", 10),
    ("LatestDeliveryLocation", "Latest location", 16),
];

fn cell(text: &str, w: usize) -> String {
    let t = fit(text, w);
    let pad = w.saturating_sub(width(&t));
    format!("{t}{} ", " ".repeat(pad))
}

/// Draws the remote view over `area`.
pub fn draw(f: &mut Frame<'_>, area: Rect, r: &RemoteView, theme: &Theme) {
    let w = area.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let state = match (&r.error, &r.progress) {
        (Some(e), _) => format!("failed: {e}"),
        (None, Some(p)) => p.clone(),
        (None, None) => "done".into(),
    };
    lines.push(Line::styled(
        fit(
            &format!(
                "[remote] advanced hunting · {} · {state} · esc: back to the cache",
                if r.filter.is_empty() {
                    "all email"
                } else {
                    &r.filter
                }
            ),
            w,
        ),
        if r.error.is_some() {
            theme.error()
        } else {
            theme.accent()
        },
    ));
    let count = r
        .count
        .map_or("…".to_string(), |n| format!("{} rows", thousands(n)));
    let domains = r.frequency.as_ref().map_or("…".to_string(), |f| {
        f.rows
            .iter()
            .take(6)
            .map(|x| format!("{} {}", x.value, thousands(x.count)))
            .collect::<Vec<_>>()
            .join(" · ")
    });
    lines.push(Line::raw(fit(
        &format!("on the tenant: {count}   sender domains: {domains}"),
        w,
    )));
    let header: String = COLUMNS.iter().map(|(_, t, cw)| cell(t, *cw)).collect();
    lines.push(Line::styled(fit(&header, w), theme.header()));
    match &r.rows {
        None => lines.push(Line::styled("rows: …", theme.dim())),
        Some(rows) if rows.is_empty() => lines.push(Line::raw("no rows")),
        Some(rows) => {
            let room = (area.height as usize).saturating_sub(lines.len());
            for row in rows.iter().skip(r.offset).take(room) {
                let text: String = COLUMNS
                    .iter()
                    .map(|(col, _, cw)| {
                        let v = text_of(row.get(*col));
                        let v = if *col == "Timestamp" {
                            v.get(..16).unwrap_or(&v).replace('T', " ")
                        } else {
                            v
                        };
                        cell(&v, *cw)
                    })
                    .collect();
                lines.push(Line::raw(fit(&text, w)));
            }
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}
