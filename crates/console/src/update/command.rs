//! The `:` command line, and the view line that writes the current view as a
//! command that reopens it (k9s's `:pod ns /filter`).
//!
//! ```text
//! :emails tag:Finance threat:phish since:7d   a pane and a filter (pushed as a view)
//! :alerts                                     a pane
//! :tag Finance   :tag                         narrow every pane to a tag / to none
//! :view phish    :sort Subject desc           email view; sort by a column
//! :range 7d      :range 2026-12-01..2026-12-03   time range of every timed pane
//! :save NAME     :open NAME                   save the view line / reopen it
//! :profile NAME  :profile                     another profile's console / a picker
//! :split sender-domain                        split the histogram by another column
//! :sources                                    cache age and last error per source
//! :export PATH   :priority  :help  :quit      any command of the registry by name
//! ```

use super::{Effect, grid, notice};
use crate::action::{Action, Pane};
use crate::state::{Grid, MailView, State, View};

/// Command-line words that are not registry command names.
pub const EXTRA: &[&str] = &[
    "tag", "notag", "view", "sort", "columns", "export", "split", "sources", "range", "save",
    "open", "profile",
];

/// Runs a command line: one command, or several separated by `;` (outside double
/// quotes) — the view line `Y` copies is such a line
/// (`emails threat:phish; view phish; columns Date,Subject; sort Date desc`).
pub fn run(state: &mut State, line: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for part in split_commands(line) {
        effects.extend(run_one(state, part));
    }
    effects
}

/// `line` cut at each `;` that is not inside double quotes.
fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

/// Runs one command.
fn run_one(state: &mut State, line: &str) -> Vec<Effect> {
    let line = line.trim().trim_start_matches(':').trim();
    if line.is_empty() {
        return Vec::new();
    }
    let (head, rest) = match line.split_once(char::is_whitespace) {
        Some((h, r)) => (h, r.trim()),
        None => (line, ""),
    };
    if let Some(pane) = Pane::parse(head) {
        if rest.is_empty() {
            grid::switch_pane(state, pane);
        } else {
            open_view(state, pane, rest);
        }
        return Vec::new();
    }
    match head {
        "tag" if rest.is_empty() => grid::set_tag(state, None),
        "tag" => grid::set_tag(state, Some(unquote(rest))),
        "notag" => grid::set_tag(state, None),
        "view" => set_mail_view(state, rest),
        "sort" => sort_by(state, rest),
        "columns" => set_columns(state, rest),
        "range" => super::search::range_command(state, rest),
        "save" => return super::saved::save(state, &unquote(rest)),
        "profile" => super::profiles::command(state, &unquote(rest)),
        // `:open` alone is the registry's `open` (the flyout).
        "open" if !rest.is_empty() => super::saved::open(state, &unquote(rest)),
        "sources" => state.overlay = Some(crate::state::Overlay::Sources),
        "split" => {
            let name = if rest.is_empty() { "ThreatTypes" } else { rest };
            match whalewatch_query::index::Column::parse(name) {
                Some(c) => {
                    state.split = c;
                    grid::reevaluate_all(state);
                }
                None => notice(state, format!("`{name}` is not an email column"), true),
            }
        }
        "export" => {
            let path = (!rest.is_empty()).then(|| std::path::PathBuf::from(unquote(rest)));
            return grid::export(state, path);
        }
        _ => match state.keymap.by_name(head).map(|c| c.action.clone()) {
            Some(a) => return super::apply(state, a),
            None => notice(
                state,
                format!("`{head}` is neither a pane nor a command (see ? for the list)"),
                true,
            ),
        },
    }
    Vec::new()
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

/// Pushes a grid of `pane` with `filter` (its mail view from a leading view name).
pub(super) fn open_view(state: &mut State, pane: Pane, filter: &str) {
    let mut g = Grid::new(pane, filter);
    if let Err(e) = grid::effective_filter(&g, None) {
        notice(state, e, true);
        return;
    }
    if pane == Pane::Emails {
        // Keep the analyst's column choice.
        if let Some(base) = state.panes.iter().find(|b| b.pane == Pane::Emails) {
            g.columns = base.columns.clone();
        }
    }
    state.views.push(View::Grid(g));
    grid::refresh_top(state);
}

fn set_mail_view(state: &mut State, name: &str) {
    let name = name.to_ascii_lowercase();
    let Some(v) = MailView::ALL.into_iter().find(|v| {
        v.title().to_ascii_lowercase().starts_with(&name)
            || (name == "clicks" && *v == MailView::UrlClicks)
    }) else {
        notice(state, "views: all, malware, phish, url clicks", true);
        return;
    };
    if let Some(View::Grid(g)) = state.views.last_mut()
        && g.pane == Pane::Emails
    {
        if v == MailView::UrlClicks {
            // The URL clicks view is the click table.
            g.mail_view = MailView::All;
            let filter = g.filter_text.clone();
            grid::open_clicks(state, &filter);
            return;
        }
        g.mail_view = v;
    }
    grid::refresh_top(state);
}

fn sort_by(state: &mut State, rest: &str) {
    let (name, desc) = match rest.rsplit_once(' ') {
        Some((n, d)) if d.eq_ignore_ascii_case("desc") => (n.trim(), true),
        Some((n, d)) if d.eq_ignore_ascii_case("asc") => (n.trim(), false),
        _ => (rest, false),
    };
    let Some(View::Grid(g)) = state.views.last_mut() else {
        return;
    };
    match g
        .columns
        .iter()
        .position(|c| c.title.eq_ignore_ascii_case(unquote(name).as_str()))
    {
        Some(i) => {
            g.column = i;
            g.sort = Some((i, desc));
            grid::refresh_top(state);
        }
        None => notice(state, format!("no column `{name}` in this view"), true),
    }
}

/// `columns Date,Subject,Recipient`: the email grid's columns, in order (titles as
/// the column chooser lists them).
fn set_columns(state: &mut State, rest: &str) {
    let Some(View::Grid(g)) = state.views.last_mut() else {
        return;
    };
    if g.pane != Pane::Emails {
        notice(state, "columns can be chosen in the Emails pane", true);
        return;
    }
    let mut columns = Vec::new();
    for title in rest.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match crate::panes::emails::by_title(title) {
            Some(c) if !columns.contains(&c) => columns.push(c),
            Some(_) => {}
            None => {
                notice(state, format!("no email column `{title}`"), true);
                return;
            }
        }
    }
    if columns.is_empty() {
        notice(
            state,
            "columns: name them, comma-separated (columns Date,Subject)",
            true,
        );
        return;
    }
    g.sort = None;
    g.column = 0;
    g.columns = columns;
    grid::refresh_top(state);
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The current view as a shell command that reopens it.
pub fn view_line(state: &State) -> String {
    let mut out = String::from("whalewatch");
    if !state.session.profile.is_empty() {
        out.push_str(&format!(
            " --profile {}",
            shell_quote(&state.session.profile)
        ));
    }
    out.push_str(" tui");
    if let Some(t) = &state.tag {
        out.push_str(&format!(" --tag {}", shell_quote(t)));
    }
    if state.range != crate::range::TimeRange::All {
        out.push_str(&format!(" --range {}", shell_quote(&state.range.text())));
    }
    if let Some(g) = state.grid() {
        out.push_str(&format!(" --view {}", shell_quote(&grid_line(g))));
    }
    out
}

/// The command line that rebuilds grid `g`: its pane and filter, then its mail
/// view, columns and sort when they are not the defaults.
fn grid_line(g: &Grid) -> String {
    let mut first = g.pane.name().to_string();
    if !g.filter_text.is_empty() {
        first.push(' ');
        first.push_str(&g.filter_text);
    }
    let mut parts = vec![first];
    if g.pane == Pane::Emails && g.mail_view != MailView::All {
        parts.push(format!("view {}", g.mail_view.title().to_ascii_lowercase()));
    }
    if g.columns != crate::panes::default_columns(g.pane) {
        let titles: Vec<&str> = g.columns.iter().map(|c| c.title).collect();
        parts.push(format!("columns {}", titles.join(",")));
    }
    if let Some((i, desc)) = g.sort
        && let Some(c) = g.columns.get(i)
    {
        parts.push(format!(
            "sort {} {}",
            c.title,
            if desc { "desc" } else { "asc" }
        ));
    }
    parts.join("; ")
}

/// The action a `--view` argument asks for (a command line).
pub fn parse_view_line(view: &str) -> Action {
    Action::Run(view.to_string())
}
