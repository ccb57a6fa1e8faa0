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
                help_lines(state, theme, r.width.saturating_sub(2) as usize),
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
        Overlay::Columns {
            cursor,
            columns: chosen,
        } => columns(f, area, chosen, *cursor, theme),
        Overlay::WhichKey { prefix } => which_key(f, area, state, prefix.as_deref(), theme),
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

/// Which-key: the keys available here, from the registry, in columns in the lower
/// right corner (the rows at the top, where the cursor starts, stay visible); after
/// a prefix, the keys that complete it.
fn which_key(f: &mut Frame<'_>, area: Rect, state: &State, prefix: Option<&str>, theme: &Theme) {
    let layer = match state.top() {
        View::Flyout(_) => Layer::Flyout,
        _ => Layer::Table,
    };
    // One entry per command, in registry order. After a pause the popup stays small:
    // this view's own commands (the panes, `/`, `:` and `?` are on screen already),
    // each by its first key; after a prefix, every key that completes it.
    let mut entries: Vec<(String, &'static str)> = Vec::new();
    for (k, c) in state.keymap.reachable(layer, prefix) {
        if prefix.is_none() && c.layer == Layer::Global {
            continue;
        }
        match entries.iter_mut().find(|(_, n)| *n == c.name) {
            Some((keys, _)) if prefix.is_some() => {
                keys.push(',');
                keys.push_str(&k);
            }
            Some(_) => {}
            None => entries.push((k, c.name)),
        }
    }
    let key_w = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let cell_w = key_w + 1 + entries.iter().map(|(_, n)| n.len()).max().unwrap_or(0) + 2;
    let max_w = (area.width as usize).saturating_sub(2).max(cell_w + 2);
    let per_row = ((max_w - 2) / cell_w).max(1);
    let rows = entries.len().div_ceil(per_row);
    let per_row = entries.len().div_ceil(rows.max(1)).max(1);
    let lines: Vec<Line> = (0..rows)
        .map(|r| {
            let mut spans = Vec::new();
            // Column-major, so a column reads down like a list.
            for c in 0..per_row {
                if let Some((k, n)) = entries.get(c * rows + r) {
                    spans.push(Span::styled(format!("{k:>key_w$} "), theme.accent()));
                    spans.push(Span::raw(format!("{:<w$}", n, w = cell_w - key_w - 1)));
                }
            }
            Line::from(spans)
        })
        .collect();
    let w = (per_row * cell_w + 2) as u16;
    let h = rows as u16 + 2;
    let r = Rect {
        x: area.x + area.width.saturating_sub(w),
        y: area.y + area.height.saturating_sub(h),
        width: w.min(area.width),
        height: h.min(area.height),
    };
    let title = match prefix {
        Some(p) => format!(" {p} … · esc cancels "),
        None => " keys here · ? all keys · any key goes on ".to_string(),
    };
    boxed(f, r, &title, lines, 0);
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
    let age = |t: Option<i64>| {
        t.map_or("never".to_string(), |t| {
            super::chrome::human(super::chrome::age_secs(state, t)) + " ago"
        })
    };
    // As wide as the longest name (`hunting:EmailPostDeliveryEvents`).
    let names = state
        .data
        .sources
        .iter()
        .map(|s| &s.source)
        .chain(state.source_errors.keys());
    let nw = names
        .map(|n| sanitize(n).chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let mut lines = vec![Line::styled(
        format!(
            "{:<nw$} {:<12} {:<20} last error",
            "source", "refreshed", "data up to"
        ),
        theme.header(),
    )];
    let row = |name: &str, refreshed: String, upto: String, error: &str| {
        let text = fit(
            &format!(
                "{:<nw$} {:<12} {:<20} {}",
                sanitize(name),
                refreshed,
                upto,
                sanitize(error)
            ),
            96,
        );
        if error.is_empty() {
            Line::raw(text)
        } else {
            Line::styled(text, theme.error())
        }
    };
    for s in &state.data.sources {
        let upto = s.watermark.map_or(String::new(), |t| {
            whalewatch_model::hunting::from_ticks(t)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        });
        // This session's failure is newer than what the cache recorded.
        let error = state
            .source_errors
            .get(&s.source)
            .or(s.last_error.as_ref())
            .map_or("", String::as_str);
        lines.push(row(&s.source, age(s.last_success), upto, error));
    }
    // Failures of sources the cache has no row for (never refreshed), and of the
    // refresh as a whole.
    for (name, error) in &state.source_errors {
        if !state.data.sources.iter().any(|s| &s.source == name) {
            lines.push(row(name, age(None), String::new(), error));
        }
    }
    let r = centred(area, 100, lines.len() as u16 + 2);
    boxed(f, r, " sources · esc closes ", lines, 0);
}

/// `C`: the columns being chosen, shown ones first in their order, then the hidden ones.
fn columns(
    f: &mut Frame<'_>,
    area: Rect,
    chosen: &[crate::panes::GridColumn],
    cursor: usize,
    theme: &Theme,
) {
    let all = crate::panes::emails::all_columns();
    let mut items: Vec<String> = chosen.iter().map(|c| format!("[x] {}", c.title)).collect();
    items.extend(
        all.iter()
            .filter(|c| !chosen.contains(c))
            .map(|c| format!("[ ] {}", c.title)),
    );
    let r = centred(area, 56, area.height);
    let h = r.height.saturating_sub(2) as usize;
    boxed(
        f,
        r,
        " columns · space shows/hides · K/J move · enter applies · esc cancels ",
        list(items, cursor, h, theme),
        0,
    );
}

/// Keys as help writes them: `pgdn, ctrl-f, space`.
pub fn keys_text(keys: &[String]) -> String {
    keys.join(", ")
}

/// Registry commands as aligned rows — keys, name, description — `width` columns
/// wide; a description that does not fit wraps under itself. Help and which-key
/// both draw through this, from the one registry.
pub fn command_rows<'a>(
    state: &State,
    commands: &[&crate::commands::Command],
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    // Column widths from every command, so all layers line up the same.
    let all = state.keymap.commands();
    let key_w = all
        .iter()
        .map(|c| keys_text(&c.keys).chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let name_w = all.iter().map(|c| c.name.len()).max().unwrap_or(0).min(16);
    let indent = 2 + key_w + 2 + name_w + 2;
    let room = width.saturating_sub(indent).max(20);
    let mut out = Vec::new();
    for c in commands {
        let disabled = if c.writes && state.session.read_only {
            " — disabled: read-only session"
        } else {
            ""
        };
        let keys = keys_text(&c.keys);
        // A key list longer than its column takes a line of its own.
        let long_keys = keys.chars().count() > key_w;
        if long_keys {
            out.push(Line::styled(format!("  {keys}"), theme.accent()));
        }
        let text = format!("{}{disabled}", c.description);
        for (i, part) in super::wrap(&text, room).into_iter().enumerate() {
            let lead = if i == 0 {
                vec![
                    Span::styled(
                        format!("  {:<key_w$}  ", if long_keys { "" } else { &keys }),
                        theme.accent(),
                    ),
                    Span::styled(format!("{:<name_w$}  ", c.name), theme.dim()),
                ]
            } else {
                vec![Span::raw(" ".repeat(indent))]
            };
            let style = if !disabled.is_empty() && i > 0 {
                theme.error()
            } else {
                ratatui::style::Style::default()
            };
            let mut spans = lead;
            spans.push(Span::styled(part, style));
            out.push(Line::from(spans));
        }
    }
    out
}

/// Every command of the registry, by layer, with its effective keys.
fn help_lines<'a>(state: &State, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for layer in [Layer::Global, Layer::Table, Layer::Flyout] {
        out.push(Line::styled(format!("In {}", layer.name()), theme.header()));
        let commands: Vec<&crate::commands::Command> = state
            .keymap
            .commands()
            .iter()
            .filter(|c| c.layer == layer)
            .collect();
        out.extend(command_rows(state, &commands, width, theme));
        out.push(Line::raw(""));
    }
    out.push(Line::styled("In the / and : prompts", theme.header()));
    for l in [
        "  left, right, home, end    move; ctrl-a / ctrl-e start / end; alt-b / alt-f by word",
        "  ctrl-u, ctrl-k, ctrl-w    cut to the start / to the end / the word before the cursor",
        "  delete, backspace         delete at / before the cursor",
        "  tab                       complete fields and values (never drops what you typed)",
        "  up, down                  history (kept per profile)",
    ] {
        out.push(Line::raw(l));
    }
    out.push(Line::raw(""));
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
