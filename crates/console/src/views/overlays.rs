//! Overlays: help (generated from the command registry), the tag picker, the
//! column chooser and the related-views menu.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::commands::Layer;
use crate::state::{Overlay, State, View};
use crate::theme::Theme;
use crate::update::tag_candidates;
use whalewatch_model::safe_text::{fit, sanitize};

/// A box centred in `area`, at most `w`×`h`.
pub(super) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn boxed<'a>(
    f: &mut Frame<'_>,
    r: Rect,
    title: &str,
    lines: Vec<Line<'a>>,
    scroll: u16,
) {
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(title.to_string()),
            )
            .scroll((scroll, 0)),
        r,
    );
}

/// A list with a cursor: `▸ ` marks the chosen line (visible without colour).
pub(super) fn list<'a>(
    items: Vec<String>,
    cursor: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let start = cursor.saturating_sub(height.saturating_sub(1));
    items
        .into_iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, s)| {
            if i == cursor {
                Line::styled(format!("▸ {s}"), theme.selected())
            } else {
                Line::raw(format!("  {s}"))
            }
        })
        .collect()
}

/// Draws `o` over `area`.
pub fn draw(f: &mut Frame<'_>, area: Rect, state: &State, o: &Overlay, theme: &Theme) {
    match o {
        Overlay::Help { scroll } => {
            let r = centred(area, 100, area.height);
            boxed(
                f,
                r,
                " help · j/k scroll · esc close ",
                help_lines(state, theme),
                *scroll,
            );
        }
        Overlay::TagPicker { cursor } => tag_picker(f, area, state, *cursor, theme),
        Overlay::Choice {
            title,
            options,
            cursor,
        } => {
            let items: Vec<String> = options.iter().map(|(l, _)| l.clone()).collect();
            let r = centred(area, 64, items.len() as u16 + 2);
            let h = r.height.saturating_sub(2) as usize;
            let title = format!(" {} · enter applies · esc cancels ", sanitize(title));
            boxed(f, r, &title, list(items, *cursor, h, theme), 0);
        }
        Overlay::Review { plan } => review(f, area, plan, theme),
        Overlay::Report {
            title,
            lines,
            scroll,
        } => {
            let body: Vec<Line> = lines
                .iter()
                .map(|l| Line::raw(sanitize(l).into_owned()))
                .collect();
            let r = centred(area, 120, body.len() as u16 + 2);
            boxed(
                f,
                r,
                &format!(" {} · j/k scroll · esc closes ", sanitize(title)),
                body,
                *scroll,
            );
        }
        Overlay::Sources => sources(f, area, state, theme),
        Overlay::Jumps { jumps, cursor } => {
            let items: Vec<String> = jumps
                .iter()
                .map(|j| fit(&format!("{:<10} {}", j.pane.title(), j.label), 70))
                .collect();
            let r = centred(area, 76, items.len() as u16 + 2);
            let h = r.height.saturating_sub(2) as usize;
            boxed(
                f,
                r,
                " related · enter opens · esc cancels ",
                list(items, *cursor, h, theme),
                0,
            );
        }
        Overlay::Columns { cursor } => columns(f, area, state, *cursor, theme),
        Overlay::Search => super::search::draw(f, area, state, theme),
        Overlay::Profiles { cursor } => {
            let items: Vec<String> = state
                .profiles
                .iter()
                .map(|p| {
                    let here = if *p == state.session.profile {
                        "  (this console)"
                    } else {
                        ""
                    };
                    fit(&format!("{p}{here}"), 56)
                })
                .collect();
            let r = centred(area, 62, items.len() as u16 + 2);
            let h = r.height.saturating_sub(2) as usize;
            boxed(
                f,
                r,
                " profile · enter switches · esc cancels ",
                list(items, *cursor, h, theme),
                0,
            );
        }
    }
}

/// `t`: the tags matching the prompt's text, with their member counts.
fn tag_picker(f: &mut Frame<'_>, area: Rect, state: &State, cursor: usize, theme: &Theme) {
    let query = state
        .prompt
        .as_ref()
        .map_or(String::new(), |p| p.text.clone());
    let items: Vec<String> = tag_candidates(&state.data, &query)
        .into_iter()
        .map(|(n, m)| format!("{}  ({m} members)", sanitize(&n)))
        .collect();
    let r = centred(area, 60, (items.len() as u16 + 3).max(5));
    let h = r.height.saturating_sub(2) as usize;
    let body = if items.is_empty() {
        vec![Line::raw("no tag matches")]
    } else {
        list(items, cursor, h, theme)
    };
    boxed(
        f,
        r,
        " tag · type to search · enter picks · esc cancels ",
        body,
        0,
    );
}

/// A remediation's review before the typed count, hard delete flagged first.
fn review(
    f: &mut Frame<'_>,
    area: Rect,
    plan: &whalewatch_sync::remediate::RemediationPlan,
    theme: &Theme,
) {
    let mut lines: Vec<Line> = plan
        .review_text()
        .lines()
        .map(|l| Line::raw(sanitize(l).into_owned()))
        .collect();
    if plan.irreversible {
        lines.insert(
            0,
            Line::styled("⚠ HARD DELETE CANNOT BE UNDONE", theme.error()),
        );
    }
    let r = centred(area, 110, lines.len() as u16 + 2);
    boxed(f, r, " review · take action ", lines, 0);
}

/// `:sources`: each source's last refresh, how far its data reaches, its last error.
fn sources(f: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let now = state.data.loaded_at.unwrap_or_else(chrono::Utc::now);
    let age = |t: Option<i64>| {
        t.map_or("never".to_string(), |t| {
            let s = (now - whalewatch_model::hunting::from_ticks(t))
                .num_seconds()
                .max(0);
            super::chrome::human(s) + " ago"
        })
    };
    let mut lines = vec![Line::styled(
        format!(
            "{:<26} {:<12} {:<20} last error",
            "source", "refreshed", "data up to"
        ),
        theme.header(),
    )];
    for s in &state.data.sources {
        let upto = s.watermark.map_or(String::new(), |t| {
            whalewatch_model::hunting::from_ticks(t)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        });
        lines.push(Line::raw(fit(
            &format!(
                "{:<26} {:<12} {:<20} {}",
                sanitize(&s.source),
                age(s.last_success),
                upto,
                sanitize(s.last_error.as_deref().unwrap_or(""))
            ),
            96,
        )));
    }
    let r = centred(area, 100, lines.len() as u16 + 2);
    boxed(f, r, " sources · esc closes ", lines, 0);
}

/// `C`: the email grid's columns, shown ones first in their order, then the hidden ones.
fn columns(f: &mut Frame<'_>, area: Rect, state: &State, cursor: usize, theme: &Theme) {
    let Some(View::Grid(g)) = state.views.last() else {
        return;
    };
    let all = crate::panes::emails::all_columns();
    let mut items: Vec<String> = g
        .columns
        .iter()
        .map(|c| format!("[x] {}", c.title))
        .collect();
    items.extend(
        all.iter()
            .filter(|c| !g.columns.contains(c))
            .map(|c| format!("[ ] {}", c.title)),
    );
    let r = centred(area, 56, area.height);
    let h = r.height.saturating_sub(2) as usize;
    boxed(
        f,
        r,
        " columns · space shows/hides · K/J move · enter saves ",
        list(items, cursor, h, theme),
        0,
    );
}

/// Every command of the registry, by layer, with its effective keys.
fn help_lines<'a>(state: &State, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for layer in [Layer::Global, Layer::Table, Layer::Flyout] {
        out.push(Line::styled(format!("In {}", layer.name()), theme.header()));
        for c in state.keymap.commands().iter().filter(|c| c.layer == layer) {
            let disabled = if c.writes && state.session.read_only {
                " — disabled: read-only session"
            } else {
                ""
            };
            out.push(Line::from(vec![
                Span::styled(format!("  {:<14}", c.keys.join(" ")), theme.accent()),
                Span::styled(format!("{:<14}", c.name), theme.dim()),
                Span::raw(c.description),
                Span::styled(disabled, theme.error()),
            ]));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::styled("Command line (:)", theme.header()));
    for l in [
        "  :emails tag:Finance threat:phish since:7d   a pane and a filter",
        "  :tag NAME  :tag                             narrow every pane to a tag / to all",
        "  :view phish  :sort Subject desc  :export PATH",
        "  :split sender-domain                        histogram split by another column",
        "  :sources                                    cache age and last error per source",
        "  :NAME                                       any command above by name",
    ] {
        out.push(Line::raw(l));
    }
    out
}
