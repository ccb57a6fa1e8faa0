//! The header, breadcrumb, message line and status bar around every view.

use chrono::Utc;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use crate::action::Pane;
use crate::prompt::PromptKind;
use crate::state::{State, View};
use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, sanitize};

/// `whalewatch · profile · tenant   1 Alerts  [2 Emails] …   tag: Priority account`.
pub fn header(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    // Most important first: a narrow terminal cuts from the right.
    let mut spans = vec![
        Span::styled("whalewatch", theme.header()),
        Span::raw(format!(" {} ", sanitize(&state.session.profile))),
    ];
    match &state.tag {
        Some(t) => spans.push(Span::styled(
            format!("[tag: {}] ", sanitize(t)),
            theme.accent(),
        )),
        None => spans.push(Span::styled("[tag: all] ", theme.dim())),
    }
    // The time range is always shown: every count on screen is within it.
    let range = format!("[{}] ", state.range.label());
    spans.push(if state.range == crate::range::TimeRange::All {
        Span::styled(range, theme.dim())
    } else {
        Span::styled(sanitize(&range).into_owned(), theme.accent())
    });
    if state.session.read_only {
        spans.push(Span::styled("[read-only] ", theme.accent()));
    }
    if state.remote.is_some() {
        spans.push(Span::styled("[remote] ", theme.accent()));
    }
    let current = state.pane();
    for (i, p) in Pane::ALL.iter().enumerate() {
        if *p == current {
            spans.push(Span::styled(
                format!("[{} {}]", i + 1, p.title()),
                theme.selected(),
            ));
        } else {
            spans.push(Span::styled(
                format!(" {} {} ", i + 1, p.title()),
                theme.dim(),
            ));
        }
    }
    spans.push(Span::styled(
        format!("  tenant {}", sanitize(&state.session.tenant)),
        theme.dim(),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The view stack, oldest first, and the result count of the nearest grid.
pub fn breadcrumbs(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let labels: Vec<String> = state
        .views
        .iter()
        .map(|v| sanitize(&v.label()).into_owned())
        .collect();
    let mut text = labels.join(" › ");
    if let Some(g) = state.grid() {
        let marked = if g.marks.is_empty() {
            String::new()
        } else {
            format!(", {} marked", g.marks.len())
        };
        let sorted = g
            .sort
            .and_then(|(c, d)| g.columns.get(c).map(|col| (col.title, d)))
            .map_or(String::new(), |(t, d)| {
                format!(", by {t} {}", if d { "↓" } else { "↑" })
            });
        text.push_str(&format!(
            "  ({} rows{marked}{sorted})",
            thousands(g.rows.len())
        ));
    }
    if let View::Frequency(t) = state.top() {
        text.push_str(&format!("  ({} values)", thousands(t.rows.len())));
    }
    let w = area.width as usize;
    f.render_widget(
        Paragraph::new(Line::styled(fit(&text, w), theme.header())),
        area,
    );
}

/// The prompt while one is open, else the last message or the grid's filter error.
pub fn line(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    if let Some(p) = &state.prompt {
        let lead = match p.kind {
            PromptKind::Filter => "/",
            PromptKind::Command => ":",
            PromptKind::Tag => "tag> ",
            PromptKind::Comment => "comment> ",
            PromptKind::Assign => "assign to (UPN)> ",
            PromptKind::Note => "note> ",
            PromptKind::Confirm => "type the number of messages to confirm> ",
            PromptKind::Search => "search> ",
        };
        let text = sanitize(&p.text);
        // Keep the cursor's end of a long line in view.
        let w = area.width as usize;
        let shown: String = {
            let chars: Vec<char> = text.chars().collect();
            let keep = w.saturating_sub(lead.len() + 2);
            let start = chars.len().saturating_sub(keep);
            chars[start..].iter().collect()
        };
        let line = Line::from(vec![
            Span::styled(lead, theme.accent()),
            Span::raw(shown),
            Span::styled("▏", theme.accent()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    let (text, style) = match (&state.notice, state.grid().and_then(|g| g.error.clone())) {
        (Some(n), _) => (
            n.text.clone(),
            if n.error {
                theme.error()
            } else {
                Style::default()
            },
        ),
        (None, Some(e)) => (format!("filter: {e}"), theme.error()),
        (None, None) => (String::new(), Style::default()),
    };
    let prefix = if style == theme.error() && !text.is_empty() {
        "error: "
    } else {
        ""
    };
    f.render_widget(
        Paragraph::new(Line::styled(
            fit(&format!("{prefix}{text}"), area.width as usize),
            style,
        )),
        area,
    );
}

/// Cache age, refresh progress (a gauge while running), index state, last error.
pub fn status(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let w = area.width as usize;
    if state.refresh.running {
        let r = &state.refresh;
        let ratio = match r.expected {
            Some(e) if e > 0 => (r.rows as f64 / e as f64).clamp(0.0, 1.0),
            _ => 0.0,
        };
        let label = format!(
            "refreshing {} · {} rows{} · {} sources done",
            sanitize(&r.source),
            thousands(r.rows as usize),
            r.expected
                .map_or(String::new(), |e| format!(" of {}", thousands(e as usize))),
            r.done
        );
        f.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(fit(&label, w))
                .gauge_style(theme.accent()),
            area,
        );
        return;
    }
    let mut parts: Vec<String> = Vec::new();
    parts.push(format!("cache {}", cache_age(state)));
    if !state.data.complete {
        parts.push("loading alerts, campaigns, users…".into());
    }
    match &state.data.emails {
        Some(ix) => parts.push(format!("{} emails indexed", thousands(ix.len()))),
        None => parts.push(format!(
            "indexing {} emails…",
            thousands(state.data.email_rows)
        )),
    }
    parts.push(format!(
        "{} alerts",
        thousands(state.data.alerts.items.len())
    ));
    if let Some(e) = &state.last_error {
        parts.push(format!("last error: {e}"));
    }
    parts.push(":sources · ? help".into());
    let style = if state.last_error.is_some() {
        theme.error()
    } else {
        theme.dim()
    };
    f.render_widget(
        Paragraph::new(Line::styled(fit(&parts.join(" · "), w), style)),
        area,
    );
}

/// How old the cache is: the oldest successful refresh among the sources, with the
/// newest too when they differ ("12m", "2h–3d").
fn cache_age(state: &State) -> String {
    let now = state.data.loaded_at.unwrap_or_else(Utc::now);
    let ages: Vec<i64> = state
        .data
        .sources
        .iter()
        .filter_map(|s| s.last_success)
        .map(|t| {
            (now - whalewatch_model::hunting::from_ticks(t))
                .num_seconds()
                .max(0)
        })
        .collect();
    let (Some(min), Some(max)) = (ages.iter().min(), ages.iter().max()) else {
        return "never refreshed".into();
    };
    if human(*min) == human(*max) {
        format!("{} old", human(*min))
    } else {
        format!("{}–{} old", human(*min), human(*max))
    }
}

/// `42s`, `12m`, `3h`, `2d`.
pub fn human(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
