//! The time histogram above the email grid: mail per day of the current result,
//! stacked by threat type. Each series has its own glyph as well as its own colour,
//! so it reads without colour too.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, sanitize};
use whalewatch_query::index::Histogram;

/// Lines the histogram takes: bars, axis, legend.
pub const HEIGHT: usize = 6;

const GLYPHS: [char; 4] = ['█', '▓', '▒', '░'];

/// Draws `h` (or a placeholder while the index loads); `selected` is the bar chosen
/// with `[`/`]` (an index into [`crate::range::bars`]), drawn reversed and named.
pub fn draw(
    f: &mut Frame<'_>,
    area: Rect,
    h: Option<&Histogram>,
    selected: Option<usize>,
    theme: &Theme,
) {
    let split = h.and_then(|h| h.split).unwrap_or("");
    let Some(h) = h else {
        f.render_widget(
            Paragraph::new(Line::styled(
                "histogram: waiting for the index…",
                theme.dim(),
            )),
            area,
        );
        return;
    };
    let bar_rows = (area.height as usize).saturating_sub(2);
    // Series by total, largest first; the fourth glyph takes the rest.
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let mut days: BTreeMap<chrono::DateTime<chrono::Utc>, BTreeMap<String, usize>> =
        BTreeMap::new();
    for b in &h.buckets {
        let name = match b.split.as_deref() {
            None | Some("") => "none".to_string(),
            Some(s) => s.to_string(),
        };
        *totals.entry(name.clone()).or_default() += b.count;
        *days.entry(b.start).or_default().entry(name).or_default() += b.count;
    }
    let mut series: Vec<(String, usize)> = totals.into_iter().collect();
    series.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let slot = |name: &str| -> usize {
        series
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or(3)
            .min(3)
    };
    let width = area.width as usize;
    let ndays = days.len().max(1);
    let col_w = (width / ndays).clamp(1, 6);
    let skipped = days.len().saturating_sub(width / col_w);
    let shown: Vec<_> = days
        .iter()
        .rev()
        .take(width / col_w)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let max = shown
        .iter()
        .map(|(_, m)| m.values().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut lines: Vec<Line> = Vec::new();
    for level in (0..bar_rows).rev() {
        let mut spans: Vec<Span> = Vec::new();
        for (j, (_, m)) in shown.iter().enumerate() {
            // Stack the series from the bottom, each scaled to the rows it covers.
            let mut stacked = [0usize; 4];
            for (name, n) in m.iter() {
                stacked[slot(name)] += n;
            }
            let mut acc = 0usize;
            let mut glyph = ' ';
            let mut style = Style::default();
            for (i, n) in stacked.iter().enumerate() {
                acc += n;
                let top = (acc * bar_rows).div_ceil(max);
                if *n > 0 && level < top {
                    glyph = GLYPHS[i];
                    style = theme.severity(series.get(i).map_or("", |s| s.0.as_str()));
                    break;
                }
            }
            if selected == Some(skipped + j) {
                // Reversed and never blank, so the choice shows without colour too.
                let g = if glyph == ' ' { '·' } else { glyph };
                spans.push(Span::styled(g.to_string().repeat(col_w), theme.selected()));
                continue;
            }
            spans.push(Span::styled(glyph.to_string().repeat(col_w), style));
        }
        lines.push(Line::from(spans));
    }
    let first = shown
        .first()
        .map(|(d, _)| d.format("%m-%d").to_string())
        .unwrap_or_default();
    let last = shown
        .last()
        .map(|(d, _)| d.format("%m-%d").to_string())
        .unwrap_or_default();
    let used = shown.len() * col_w;
    let gap = used.saturating_sub(first.len() + last.len());
    let chosen = selected
        .and_then(|i| days.iter().nth(i))
        .map_or(String::new(), |(d, m)| {
            format!(
                " · selected {}: {} rows (enter narrows)",
                d.format("%m-%d"),
                m.values().sum::<usize>()
            )
        });
    lines.push(Line::styled(
        fit(
            &format!(
                "{first}{}{last}  per day, max {max}{chosen}",
                " ".repeat(gap)
            ),
            width,
        ),
        theme.dim(),
    ));
    let legend: Vec<String> = series
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, (n, c))| format!("{} {} {c}", GLYPHS[i], sanitize(n)))
        .collect();
    lines.push(Line::raw(fit(
        &format!("by {split}: {}", legend.join("   ")),
        width,
    )));
    f.render_widget(Paragraph::new(lines), area);
}
