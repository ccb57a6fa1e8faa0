//! The header, breadcrumb, message line and status bar around every view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use crate::action::Pane;
use crate::prompt::PromptKind;
use crate::state::{State, View};
use crate::theme::Theme;
use whalewatch_model::safe_text::{fit, sanitize, width};

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
    for p in Pane::ALL.iter() {
        // The key that selects the pane, from the registry (the analyst's keymap).
        let k = state
            .keymap
            .by_name(p.name())
            .and_then(|c| c.keys.first().cloned())
            .unwrap_or_default();
        if *p == current {
            spans.push(Span::styled(
                format!("[{k} {}]", p.title()),
                theme.selected(),
            ));
        } else {
            spans.push(Span::styled(format!(" {k} {} ", p.title()), theme.dim()));
        }
    }
    spans.push(Span::styled(
        format!("  tenant {}", sanitize(&state.session.tenant)),
        theme.dim(),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The view stack, oldest first, the result count and order of the nearest grid,
/// and — right-aligned — how many rows the table on screen has above and below the
/// page (`▲ 3 more · ▼ 1,234 more`).
pub fn breadcrumbs(
    f: &mut Frame<'_>,
    area: Rect,
    state: &State,
    scrolled: Option<super::grid::Scrolled>,
    theme: &Theme,
) {
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
            // Marks outside the view still count: triage acts on them.
            let hidden =
                g.marks.len() - crate::panes::marks_shown(g.pane, &state.data, &g.rows, &g.marks);
            if hidden > 0 {
                format!(", {} marked ({hidden} not in view)", g.marks.len())
            } else {
                format!(", {} marked", g.marks.len())
            }
        };
        // While the pane's data loads, its row count is not the answer yet.
        let count = match crate::panes::loading(g.pane, &state.data) {
            Some(loading) => format!("{} rows so far · {loading}", thousands(g.rows.len())),
            None => format!("{} rows", thousands(g.rows.len())),
        };
        text.push_str(&format!("  ({count}{marked}, {})", g.order_words()));
    }
    if let View::Frequency(t) = state.top() {
        text.push_str(&format!("  ({} values)", thousands(t.rows.len())));
    }
    let mut more = Vec::new();
    if let Some(sc) = scrolled {
        if sc.above > 0 {
            more.push(format!("▲ {} more", thousands(sc.above)));
        }
        if sc.below > 0 {
            more.push(format!("▼ {} more", thousands(sc.below)));
        }
    }
    let more = more.join(" · ");
    let w = area.width as usize;
    // The scroll marks keep their place; the trail is cut first.
    let room = w.saturating_sub(width(&more) + 2);
    let trail = fit(&text, if more.is_empty() { w } else { room });
    let gap = w.saturating_sub(width(&trail) + width(&more));
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(trail, theme.header()),
            Span::raw(" ".repeat(gap)),
            Span::styled(more, theme.dim()),
        ])),
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
            PromptKind::Analyst => "your sign-in name (UPN), for assign to me> ",
            PromptKind::Note => "note> ",
            PromptKind::Confirm => "type the number of messages to confirm> ",
            PromptKind::Search => "search> ",
        };
        // Sanitised per char so the cursor's char index still points at its char
        // (a control character becomes one visible placeholder char).
        let chars: Vec<String> = p
            .text
            .chars()
            .map(|c| sanitize(c.encode_utf8(&mut [0; 4])).into_owned())
            .collect();
        let cursor = p.cursor.min(chars.len());
        let error = p.error.as_deref().map(|e| format!("  ⚠ {}", sanitize(e)));
        // Keep the cursor in view: the window ends at the cursor when the line is long.
        let w = area.width as usize;
        let room = w.saturating_sub(lead.len() + 1);
        let start = cursor.saturating_sub(room.saturating_sub(1));
        let end = chars.len().min(start + room);
        let before: String = chars[start..cursor].concat();
        let (under, after) = match chars.get(cursor) {
            Some(c) if cursor < end => (c.clone(), chars[cursor + 1..end].concat()),
            _ => (" ".to_string(), String::new()),
        };
        let mut spans = vec![
            Span::styled(lead, theme.accent()),
            Span::raw(before),
            // Reversed, so the cursor shows without colour too.
            Span::styled(under, theme.selected()),
            Span::raw(after),
        ];
        if let Some(e) = error {
            spans.push(Span::styled(e, theme.error()));
        } else if let Some(n) = state.notice.as_ref().filter(|n| !n.error) {
            // What Tab offers (several candidates) shows beside the line.
            spans.push(Span::styled(
                format!("  {}", sanitize(&n.text)),
                theme.dim(),
            ));
        }
        let line = Line::from(spans);
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
    // Each half says its own state: the index, and the alerts, campaigns, users,
    // incidents and posture (which arrive in either order).
    match &state.data.emails {
        Some(ix) => parts.push(format!("{} emails indexed", thousands(ix.len()))),
        // The first frame has not counted the rows (that reads the whole table).
        None if state.data.email_rows == 0 => parts.push("indexing the mail…".into()),
        None => parts.push(format!(
            "indexing {} emails…",
            thousands(state.data.email_rows)
        )),
    }
    if state.data.complete {
        parts.push(format!(
            "{} alerts",
            thousands(state.data.alerts.items.len())
        ));
    } else {
        parts.push("loading alerts, campaigns, users, posture…".into());
    }
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

/// Seconds from `ticks` to the state's now (never negative: clocks differ).
pub fn age_secs(state: &State, ticks: i64) -> i64 {
    (state.now - whalewatch_model::hunting::from_ticks(ticks))
        .num_seconds()
        .max(0)
}

/// Every text on screen that changes with the clock alone: the status bar's cache
/// age and, while `:sources` is open, each source's age. The app redraws on a tick
/// only when this changes, so an idle console writes nothing in between.
pub fn ticking(state: &State) -> String {
    let mut out = cache_age(state);
    if matches!(state.overlay, Some(crate::state::Overlay::Sources)) {
        for s in &state.data.sources {
            out.push(' ');
            out.push_str(
                &s.last_success
                    .map_or("never".into(), |t| human(age_secs(state, t))),
            );
        }
    }
    out
}

/// How old the cache is now: the oldest successful refresh among the sources, with
/// the newest too when they differ ("12m", "2h–3d").
fn cache_age(state: &State) -> String {
    let ages: Vec<i64> = state
        .data
        .sources
        .iter()
        .filter_map(|s| s.last_success)
        .map(|t| age_secs(state, t))
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
