//! The time histogram above the email grid: mail per day (per hour when the result
//! spans two days or less) of the current result, stacked by threat type. Each series
//! has its own glyph as well as its own colour, so it reads without colour too. On a
//! short terminal it is one line: a sparkline of the totals.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, sanitize};
use whalewatch_query::index::Histogram;

/// Lines the full histogram takes: bars, axis, legend.
pub const HEIGHT: usize = 6;

/// Terminals shorter than this get the one-line sparkline, so the grid keeps its rows
/// (at 80×24 the full chart would take a quarter of the screen).
pub const FULL_FROM: u16 = 32;

/// Lines the histogram takes on a terminal `terminal_height` rows high.
pub fn height(terminal_height: u16) -> usize {
    if terminal_height >= FULL_FROM {
        HEIGHT
    } else {
        1
    }
}

const GLYPHS: [char; 4] = ['█', '▓', '▒', '░'];
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Buckets of `h` by start, each with its count per series name.
type Buckets = BTreeMap<DateTime<Utc>, BTreeMap<String, usize>>;

/// Whether the buckets are hours (the result spans two days or less), else days.
fn hourly(buckets: &Buckets) -> bool {
    crate::range::hourly(buckets.keys())
}

/// Axis labels for buckets from `first` to `last`: dates for days, times for hours
/// (the date too when the hours cross midnight).
fn labels(first: DateTime<Utc>, last: DateTime<Utc>, hours: bool) -> (String, String) {
    if !hours {
        return (
            first.format("%m-%d").to_string(),
            last.format("%m-%d").to_string(),
        );
    }
    let end = if first.date_naive() == last.date_naive() {
        last.format("%H:00").to_string()
    } else {
        last.format("%m-%d %H:00").to_string()
    };
    (first.format("%m-%d %H:00").to_string(), end)
}

/// `first` at the left and `last` at the right of `width` cells; one label when they
/// are the same or would touch.
fn axis(first: &str, last: &str, width: usize) -> String {
    if first == last || first.len() + 1 + last.len() > width {
        return first.to_string();
    }
    format!(
        "{first}{}{last}",
        " ".repeat(width - first.len() - last.len())
    )
}

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
    // Series by total, largest first; the fourth glyph takes the rest.
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let mut days: Buckets = BTreeMap::new();
    for b in &h.buckets {
        let name = match b.split.as_deref() {
            None | Some("") => "none".to_string(),
            Some(s) => s.to_string(),
        };
        *totals.entry(name.clone()).or_default() += b.count;
        *days.entry(b.start).or_default().entry(name).or_default() += b.count;
    }
    let hours = hourly(&days);
    let per = if hours { "hour" } else { "day" };
    // Empty hours and days are bars of zero, not skipped: the axis is time.
    let step = if hours {
        Duration::hours(1)
    } else {
        Duration::days(1)
    };
    if let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) {
        let mut t = first;
        while t < last {
            days.entry(t).or_default();
            t += step;
        }
    }
    if area.height < 3 {
        sparkline(f, area, &days, hours, theme);
        return;
    }
    let bar_rows = (area.height as usize).saturating_sub(2);
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
    let (first, last) = match (shown.first(), shown.last()) {
        (Some((a, _)), Some((b, _))) => labels(**a, **b, hours),
        _ => Default::default(),
    };
    let chosen = selected
        .and_then(|i| days.iter().nth(i))
        .map_or(String::new(), |(d, m)| {
            format!(
                " · selected {}: {} rows (enter narrows)",
                d.format(if hours { "%m-%d %H:00" } else { "%m-%d" }),
                m.values().sum::<usize>()
            )
        });
    // The labels span the bars, leaving room for the scale after them.
    let scale = format!("  per {per}, max {max}{chosen}");
    let used = (shown.len() * col_w).min(width.saturating_sub(scale.chars().count()));
    lines.push(Line::styled(
        fit(&format!("{}{scale}", axis(&first, &last, used)), width),
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

/// One line: a sparkline of the totals (newest at the right), then the range and the
/// peak, so the shape of the result shows without taking the grid's rows.
fn sparkline(f: &mut Frame<'_>, area: Rect, days: &Buckets, hours: bool, theme: &Theme) {
    let width = area.width as usize;
    let per = if hours { "hour" } else { "day" };
    let totals: Vec<(DateTime<Utc>, usize)> = days
        .iter()
        .map(|(d, m)| (*d, m.values().sum::<usize>()))
        .collect();
    let max_all = totals.iter().map(|t| t.1).max().unwrap_or(0);
    // Room for the text after the bars; the bars take what is left.
    let text_room = 34.min(width / 2);
    let n = totals.len().min(width.saturating_sub(text_room + 1));
    let shown = &totals[totals.len() - n..];
    let max = shown.iter().map(|t| t.1).max().unwrap_or(0).max(1);
    let bars: String = shown
        .iter()
        .map(|(_, c)| {
            if *c == 0 {
                ' '
            } else {
                SPARKS[((c * SPARKS.len()).div_ceil(max)).clamp(1, SPARKS.len()) - 1]
            }
        })
        .collect();
    let range = match (shown.first(), shown.last()) {
        (Some(a), Some(b)) => {
            let (first, last) = labels(a.0, b.0, hours);
            if first == last {
                first
            } else {
                format!("{first}–{last}")
            }
        }
        _ => "no mail".to_string(),
    };
    let text = format!(" {range} · max {max_all}/{per} · H hides");
    let line = Line::from(vec![
        Span::styled(bars, theme.accent()),
        Span::styled(fit(&text, width.saturating_sub(n)), theme.dim()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use whalewatch_query::index::HistogramBucket;

    fn hist(starts: &[(u32, u32, usize)]) -> Histogram {
        Histogram {
            split: Some("ThreatTypes"),
            buckets: starts
                .iter()
                .map(|&(day, hour, count)| HistogramBucket {
                    start: Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap(),
                    split: Some("Phish".into()),
                    count,
                })
                .collect(),
        }
    }

    fn render(h: &Histogram, w: u16, rows: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, rows)).unwrap();
        t.draw(|f| {
            draw(
                f,
                f.area(),
                Some(h),
                None,
                &Theme::new(crate::theme::Palette::None),
            )
        })
        .unwrap();
        format!("{}", t.backend())
    }

    #[test]
    fn one_day_of_hours_is_labelled_by_hour_not_the_date_twice() {
        let h = hist(&[(4, 8, 3), (4, 9, 5), (4, 13, 2), (4, 17, 7)]);
        let out = render(&h, 60, 6);
        assert!(!out.contains("12-0412-04"), "{out}");
        assert!(
            out.contains("12-04 08:00") && out.contains("17:00"),
            "{out}"
        );
        assert!(out.contains("per hour, max 7"), "{out}");
        // 08:00 to 17:00 is ten hours, the empty ones included.
        let bars = out
            .lines()
            .nth(3)
            .unwrap_or("")
            .trim_matches('"')
            .trim_end();
        assert_eq!(bars.chars().count(), 10 * 6, "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_single_day_bucket_gets_one_label() {
        let out = render(&hist(&[(4, 0, 9)]), 60, 6);
        assert!(!out.contains("12-0412-04"), "{out}");
        assert!(out.contains("12-04  per day, max 9"), "{out}");
    }

    #[test]
    fn days_across_months_label_both_ends() {
        let h = hist(&[(1, 0, 1), (2, 0, 4), (3, 0, 2), (4, 0, 8)]);
        let out = render(&h, 40, 6);
        assert!(
            out.contains("12-01") && out.contains("12-04  per day"),
            "{out}"
        );
    }

    #[test]
    fn a_short_area_is_one_sparkline_line() {
        let h = hist(&[(1, 0, 1), (2, 0, 4), (3, 0, 2), (4, 0, 8)]);
        let out = render(&h, 60, 1);
        assert!(out.contains("▁▄▂█ 12-01–12-04 · max 8/day"), "{out}");
        for w in 1..12 {
            render(&h, w, 1);
        }
        assert_eq!(height(24), 1);
        assert_eq!(height(50), HEIGHT);
    }
}
