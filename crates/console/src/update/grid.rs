//! Grids: evaluating a pane's filter, moving, sorting, pivoting, frequency tables.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Effect, ExportJob, notice};
use crate::action::Pane;
use crate::panes::{self, ColumnId, GridColumn, emails::EmailCol};
use crate::state::{FrequencyTable, Grid, MailView, State, View};
use crate::table::{self, Sizing};
use crate::views::grid::FREQ_COLUMNS;
use whalewatch_query::index::figures::{Audience, campaign_figures};
use whalewatch_query::index::schema;
use whalewatch_query::index::{BinTerm, Bitset, Frequency, FrequencyRow, TopTab};
use whalewatch_query::{Filter, parse};

/// The filter a grid runs: its text, its mail view and the session's tag, AND-ed.
pub fn effective_filter(g: &Grid, tag: Option<&str>) -> Result<Filter, String> {
    filter_in_range(g, tag, None)
}

/// The filter `g` runs in `state`: its own, the session's tag and the time range.
pub fn view_filter(state: &State, g: &Grid) -> Result<Filter, String> {
    filter_in_range(
        g,
        state.tag.as_deref(),
        state.range.term_for(panes::entity(g.pane)),
    )
}

/// The same, narrowed to a time range term (`since:7d`) when the pane has a time.
fn filter_in_range(g: &Grid, tag: Option<&str>, range: Option<String>) -> Result<Filter, String> {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(range);
    if !g.filter_text.trim().is_empty() {
        parts.push(format!("({})", g.filter_text));
    }
    if g.pane == Pane::Emails
        && let Some(t) = g.mail_view.term()
    {
        parts.push(t.to_string());
    }
    if let Some(t) = tag {
        parts.push(panes::match_term("tag", t));
    }
    parse(panes::entity(g.pane), &parts.join(" ")).map_err(|e| e.to_string())
}

/// Re-runs `g`'s filter over the data, keeping the cursor on the same row (by key)
/// when that row is still in the result.
fn evaluate(state: &State, g: &mut Grid) {
    evaluate_from(state, g, true);
}

/// [`evaluate`]; without `follow`, only a captured anchor keeps the cursor's row
/// (a pane off screen on its first row opens on its new first row).
fn evaluate_from(state: &State, g: &mut Grid, follow: bool) {
    let data = &state.data;
    // An anchor captured before new data arrived wins: row numbers of the old data
    // mean nothing in the new.
    let anchor = g.anchor.take().or_else(|| {
        follow
            .then(|| g.current().map(|r| panes::key(g.pane, data, r)))
            .flatten()
    });
    let range = state.range.term_for(panes::entity(g.pane));
    let result = filter_in_range(g, state.tag.as_deref(), range)
        .and_then(|f| panes::evaluate(g.pane, data, &f, state.now));
    let mut rows = match result {
        Ok(rows) => {
            g.error = None;
            rows
        }
        Err(e) => {
            g.error = Some(e);
            Vec::new()
        }
    };
    if let Some(only) = &g.only {
        rows.retain(|&r| only.contains(&panes::key(g.pane, data, r)));
    }
    if let Some((c, desc)) = g.sort
        && let Some(col) = g.columns.get(c)
    {
        panes::sort(data, &mut rows, col.id, desc);
    }
    let screen_line = g.cursor.saturating_sub(g.offset);
    let everything = rows.len() == data.newest.len() && g.only.is_none();
    g.histogram = match (&data.emails, g.pane) {
        // The whole mailbox by threat type is the common case: computed once per index.
        (Some(_), Pane::Emails)
            if everything
                && state.split
                    == whalewatch_query::index::Column::Str(
                        whalewatch_query::index::schema::THREATS,
                    )
                && data.histogram_all.is_some() =>
        {
            data.histogram_all.clone()
        }
        (Some(ix), Pane::Emails) => {
            use whalewatch_query::kql::TimeBin;
            let set = Bitset::from_rows(ix.len(), rows.iter().copied());
            // A result within two days is drawn by the hour: one or two daily bars
            // say nothing.
            let by_day = ix.histogram(&set, TimeBin::Day, Some(state.split));
            let few_days = by_day.as_ref().is_ok_and(|h| {
                h.buckets
                    .iter()
                    .map(|b| b.start)
                    .collect::<BTreeSet<_>>()
                    .len()
                    <= 2
            });
            let h = if few_days {
                ix.histogram(&set, TimeBin::Hour, Some(state.split))
            } else {
                by_day
            };
            match h {
                Ok(h) => Some(Arc::new(h)),
                // No half-counted chart: the error shows where the filter's would.
                Err(e) => {
                    g.error = Some(e.to_string());
                    None
                }
            }
        }
        _ => None,
    };
    // Every row in the default order is the snapshot's newest-first list: share it
    // rather than hold another copy (4 bytes per row).
    g.rows = if g.pane == Pane::Emails && everything && g.sort.is_none() && data.emails.is_some() {
        data.newest.clone()
    } else {
        Arc::new(rows)
    };
    g.cursor = match &anchor {
        Some(k) => panes::find(g.pane, data, &g.rows, k)
            .unwrap_or_else(|| g.cursor.min(g.rows.len().saturating_sub(1))),
        None => 0,
    };
    // New rows above must not move the selected row on screen (the table's
    // `▲ N more` says rows are above).
    g.offset = g.cursor.saturating_sub(screen_line);
    // New data or another filter or order: the columns are measured again.
    g.sizing = None;
}

/// Holds the column widths of every table in the view stack while its rows scroll
/// and measures them again when they jump or change ([`Sizing`]), so that a one-row
/// scroll never shifts the rows sideways. Runs after every message: cheap unless
/// a table must be measured.
pub fn hold_widths(state: &mut State) {
    let page = state.page_rows();
    let data = &state.data;
    for view in &mut state.views {
        match view {
            View::Grid(g) => {
                let mut sizing = g.sizing.take();
                Sizing::follow(
                    &mut sizing,
                    g.sizing_basis(page),
                    g.offset,
                    page,
                    g.rows.len(),
                    |rows| {
                        let columns: Vec<table::Column> =
                            g.columns.iter().map(|c| c.table_column()).collect();
                        table::wants(&columns, &g.cells(data, rows))
                    },
                );
                g.sizing = sizing;
            }
            View::Frequency(t) => {
                let mut sizing = t.sizing.take();
                Sizing::follow(
                    &mut sizing,
                    t.sizing_basis(page),
                    t.offset,
                    page,
                    t.rows.len(),
                    |rows| table::wants(&FREQ_COLUMNS, &t.cells(rows)),
                );
                t.sizing = sizing;
            }
            _ => {}
        }
    }
}

/// Remembers the key under every grid's cursor, before the data is replaced. A
/// pane not on screen whose cursor is on its first row is not anchored: it opens on
/// its (new) first row, not on a row the new data pushed down.
pub fn capture_anchors(state: &mut State) {
    let data = &state.data;
    let shown: Vec<Pane> = state
        .views
        .iter()
        .filter_map(|v| match v {
            View::Grid(g) => Some(g.pane),
            _ => None,
        })
        .collect();
    let grids = state.views.iter_mut().filter_map(|v| match v {
        View::Grid(g) => Some(g),
        _ => None,
    });
    for g in grids {
        if g.anchor.is_none() {
            g.anchor = g.current().map(|r| panes::key(g.pane, data, r));
        }
    }
    for g in state.panes.iter_mut() {
        if g.anchor.is_none() && (g.cursor > 0 || shown.contains(&g.pane)) {
            g.anchor = g.current().map(|r| panes::key(g.pane, data, r));
        }
    }
}

/// Re-evaluates every grid on the view stack (after new data or a new tag). The
/// remembered grids of the other panes are evaluated when shown ([`switch_pane`]
/// runs their filter): a pane off screen keeps only its anchor (the key under its
/// cursor, or none: it opens on its first row), so new data costs what the screen
/// shows — Top URLs over a million rows is not recomputed for a hidden pane.
pub fn reevaluate_all(state: &mut State) {
    narrow_campaign_figures(state);
    let mut views = std::mem::take(&mut state.views);
    for v in &mut views {
        if let View::Grid(g) = v {
            evaluate(state, g);
        }
    }
    let mut bases = std::mem::take(&mut state.panes);
    for g in &mut bases {
        if views
            .iter()
            .any(|v| matches!(v, View::Grid(x) if x.pane == g.pane))
        {
            continue;
        }
        defer(state, g);
    }
    state.panes = bases;
    state.views = views;
    scroll_into_view(state);
}

/// Leaves a pane off screen to be evaluated when shown, as [`evaluate_from`] would
/// now: the row under a moved cursor is kept by key; a pane on its first row opens
/// on its new first row.
fn defer(state: &State, g: &mut Grid) {
    if g.anchor.is_none() && g.cursor > 0 {
        g.anchor = g.current().map(|r| panes::key(g.pane, &state.data, r));
    }
    // Row numbers of the old data mean nothing in the new one.
    g.rows = Arc::default();
    g.histogram = None;
    if g.anchor.is_none() {
        (g.cursor, g.offset) = (0, 0);
    }
}

/// Who the campaign figures count: the session's tag and the `tag:` terms of the
/// Campaigns grid on top (else the remembered one), so narrowing narrows every
/// figure of the pane and the flyout alike.
fn campaign_audience(state: &State) -> Audience {
    let grid = state
        .views
        .iter()
        .rev()
        .find_map(|v| match v {
            View::Grid(g) if g.pane == Pane::Campaigns => Some(g),
            _ => None,
        })
        .or_else(|| state.panes.iter().find(|g| g.pane == Pane::Campaigns));
    let session = state
        .tag
        .as_deref()
        .map_or_else(Audience::everyone, Audience::tag);
    let filtered = grid
        .and_then(|g| parse(panes::entity(Pane::Campaigns), &g.filter_text).ok())
        .map_or_else(Audience::everyone, |f| Audience::of_filter(&f));
    session.and(filtered)
}

/// Recomputes the campaign figures when their audience changed. An unknown tag
/// leaves them as they are: the grid's filter reports the tag.
fn narrow_campaign_figures(state: &mut State) {
    let audience = campaign_audience(state);
    if audience == state.data.campaign_audience {
        return;
    }
    // Both halves are needed (the campaigns, the index): until then the figures
    // show `…`, and `Snapshot::derive` computes them for the audience when they are.
    let (Some(ix), true) = (state.data.emails.clone(), state.data.complete) else {
        state.data.campaign_audience = audience;
        return;
    };
    // The figures being replaced are kept too (those `Snapshot::derive` computed at
    // load among them): toggling back reuses them.
    let shown = state.data.campaign_audience.clone();
    if !state.data.campaign_stats.is_empty()
        && state.campaign_figures.get(&state.data, &shown).is_none()
    {
        state
            .campaign_figures
            .keep(shown, state.data.campaign_stats.clone());
    }
    if let Some(f) = state.campaign_figures.get(&state.data, &audience) {
        state.data.campaign_stats = f;
        state.data.campaign_audience = audience;
        return;
    }
    if let Ok(f) = campaign_figures(&ix, &state.data.campaigns, &audience) {
        let f = Arc::new(f);
        state.campaign_figures.keep(audience.clone(), f.clone());
        state.data.campaign_stats = f;
        state.data.campaign_audience = audience;
    }
}

/// Re-evaluates the top grid (after its filter or sort changed).
pub fn refresh_top(state: &mut State) {
    narrow_campaign_figures(state);
    let mut views = std::mem::take(&mut state.views);
    if let Some(View::Grid(g)) = views.last_mut() {
        evaluate(state, g);
    }
    state.views = views;
    scroll_into_view(state);
}

/// Keeps the cursor of the top view on screen.
pub fn scroll_into_view(state: &mut State) {
    scroll_by(state, 0);
}

/// Keeps the cursor on screen; when it leaves the page, the view scrolls `jump`
/// rows further than needed (vim's `scrolljump`, see [`State::scroll_jump`]).
fn scroll_by(state: &mut State, jump: usize) {
    let page = state.page_rows();
    let fix = |cursor: &mut usize, offset: &mut usize, len: usize| {
        *cursor = (*cursor).min(len.saturating_sub(1));
        if *cursor < *offset {
            *offset = cursor.saturating_sub(jump);
        } else if *cursor >= *offset + page {
            *offset = *cursor + 1 - page + jump;
        }
        *offset = (*offset).min(len.saturating_sub(page.min(len)));
    };
    match state.views.last_mut() {
        Some(View::Grid(g)) => {
            let len = g.rows.len();
            fix(&mut g.cursor, &mut g.offset, len);
        }
        Some(View::Frequency(f)) => {
            let len = f.rows.len();
            fix(&mut f.cursor, &mut f.offset, len);
        }
        _ => {}
    }
}

/// Shows pane `p`: its remembered grid becomes the whole stack.
pub fn switch_pane(state: &mut State, p: Pane) {
    if let Some(View::Grid(base)) = state.views.first().cloned() {
        let i = Pane::ALL.iter().position(|x| *x == base.pane).unwrap_or(0);
        state.panes[i] = base;
    }
    let i = Pane::ALL.iter().position(|x| *x == p).unwrap_or(0);
    let mut g = state.panes[i].clone();
    narrow_campaign_figures(state);
    evaluate(state, &mut g);
    state.views = vec![View::Grid(g)];
    state.overlay = None;
    scroll_into_view(state);
}

/// Moves the cursor of the top view by `delta` rows (in a flyout: the grid below,
/// reloading the details).
pub fn move_by(state: &mut State, delta: i64) -> Vec<Effect> {
    let step = |cursor: usize, len: usize| -> usize {
        let c = cursor as i64 + delta;
        c.clamp(0, len.saturating_sub(1) as i64) as usize
    };
    let in_flyout = matches!(state.views.last(), Some(View::Flyout(_)));
    if in_flyout && delta.abs() > 1 {
        // Paging in a flyout scrolls its text.
        if let Some(View::Flyout(f)) = state.views.last_mut() {
            f.scroll = (i64::from(f.scroll) + delta).clamp(0, i64::from(u16::MAX)) as u16;
        }
        return Vec::new();
    }
    if in_flyout {
        let data = &state.data;
        let n = state.views.len();
        let (below, top) = state.views.split_at_mut(n - 1);
        let Some(View::Grid(g)) = below.last_mut() else {
            return Vec::new();
        };
        let View::Flyout(f) = &mut top[0] else {
            return Vec::new();
        };
        let before = g.cursor;
        g.cursor = step(g.cursor, g.rows.len());
        if g.cursor == before {
            return Vec::new();
        }
        let Some(row) = g.current() else {
            return Vec::new();
        };
        f.key = panes::key(g.pane, data, row);
        f.detail = None;
        f.scroll = 0;
        let effect = Effect::LoadDetail {
            kind: f.kind.clone(),
            key: f.key.clone(),
            data: Box::new(data.clone()),
        };
        // Keep the grid's own scroll right for when the flyout closes.
        let page = state.page_rows();
        if let Some(View::Grid(g)) = state.views.get_mut(n - 2) {
            if g.cursor < g.offset {
                g.offset = g.cursor;
            } else if g.cursor >= g.offset + page {
                g.offset = g.cursor + 1 - page;
            }
        }
        return vec![effect];
    }
    match state.views.last_mut() {
        Some(View::Grid(g)) => g.cursor = step(g.cursor, g.rows.len()),
        Some(View::Frequency(f)) => f.cursor = step(f.cursor, f.rows.len()),
        _ => {}
    }
    let jump = if delta.abs() == 1 && state.scroll_jump {
        state.page_rows() / 2
    } else {
        0
    };
    scroll_by(state, jump);
    Vec::new()
}

/// Moves the column cursor.
pub fn column_by(state: &mut State, delta: i64) {
    if let Some(View::Grid(g)) = state.views.last_mut() {
        let n = g.columns.len() as i64;
        g.column = (g.column as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
    }
}

/// Sets the session's tag and narrows every pane to it.
pub fn set_tag(state: &mut State, tag: Option<String>) {
    if let Some(t) = &tag
        && !state.data.tags.names().any(|n| n.eq_ignore_ascii_case(t))
        && !t.eq_ignore_ascii_case(whalewatch_config::PRIORITY_ACCOUNT)
    {
        notice(state, format!("there is no tag `{t}`"), true);
        return;
    }
    state.tag = tag;
    reevaluate_all(state);
}

/// Threat Explorer's views: All email → Malware → Phish → URL clicks. URL clicks is
/// the click table (the Top clicks pane over the grid's filter); `v` there returns
/// to the mail, All email.
pub fn cycle_mail_view(state: &mut State) {
    let below_is_mail = matches!(
        state.views.iter().rev().nth(1),
        Some(View::Grid(b)) if b.pane == Pane::Emails
    );
    let mut to_clicks = None;
    match state.views.last_mut() {
        Some(View::Grid(g)) if g.pane == Pane::Clicks => {
            if below_is_mail {
                state.views.pop();
                refresh_top(state);
            }
            return;
        }
        Some(View::Grid(g)) if g.pane == Pane::Emails => {
            let i = MailView::ALL
                .iter()
                .position(|v| *v == g.mail_view)
                .unwrap_or(0);
            let next = MailView::ALL[(i + 1) % MailView::ALL.len()];
            if next == MailView::UrlClicks {
                g.mail_view = MailView::All;
                to_clicks = Some(g.filter_text.clone());
            } else {
                g.mail_view = next;
            }
        }
        _ => return,
    }
    match to_clicks {
        Some(filter) => open_clicks(state, &filter),
        None => refresh_top(state),
    }
}

/// Threat Explorer's URL clicks view: the click table over the mail `filter` selects.
pub fn open_clicks(state: &mut State, filter: &str) {
    let mut g = Grid::new(Pane::Clicks, filter);
    g.title = Some(MailView::UrlClicks.title().to_string());
    state.views.push(View::Grid(g));
    refresh_top(state);
}

/// Sorts the top grid by the column under the cursor.
pub fn sort(state: &mut State, descending: bool) {
    if let Some(View::Grid(g)) = state.views.last_mut() {
        g.sort = Some((g.column, descending));
    }
    refresh_top(state);
}

/// Marks or unmarks the row under the cursor and moves down.
pub fn mark(state: &mut State) {
    let data = &state.data;
    if let Some(View::Grid(g)) = state.views.last_mut()
        && let Some(r) = g.current()
    {
        let k = panes::key(g.pane, data, r);
        if !g.marks.remove(&k) {
            g.marks.insert(k);
        }
        g.cursor = (g.cursor + 1).min(g.rows.len().saturating_sub(1));
    }
    scroll_into_view(state);
}

/// `u`: clears the marks of the nearest grid, those out of view included.
pub fn clear_marks(state: &mut State) {
    let n = state
        .grid_mut()
        .map_or(0, |g| std::mem::take(&mut g.marks).len());
    let text = match n {
        0 => "no marks to clear".to_string(),
        1 => "cleared 1 mark".to_string(),
        n => format!("cleared {n} marks"),
    };
    notice(state, text, false);
}

/// Unmarks `keys` in every grid (a write on them went through).
pub fn unmark(state: &mut State, keys: &[String]) {
    let grids = state.views.iter_mut().filter_map(|v| match v {
        View::Grid(g) => Some(g),
        _ => None,
    });
    for g in grids.chain(state.panes.iter_mut()) {
        g.marks.retain(|k| !keys.contains(k));
    }
}

fn current_cell(state: &State) -> Option<(GridColumn, String)> {
    let View::Grid(g) = state.top() else {
        return None;
    };
    let row = g.current()?;
    let col = *g.columns.get(g.column)?;
    Some((col, panes::cell(&state.data, row, col.id)))
}

/// `p`: a new grid whose filter adds the value under the cursor.
pub fn pivot(state: &mut State) {
    let Some((col, value)) = current_cell(state) else {
        return;
    };
    let Some(term) = panes::term(col.id, &value) else {
        notice(
            state,
            format!("cannot filter on this value of {}", col.title),
            false,
        );
        return;
    };
    push_filtered(state, &term);
}

/// Pushes a copy of the nearest grid with `term` added to its filter.
fn push_filtered(state: &mut State, term: &str) {
    let Some(base) = state.grid().cloned() else {
        return;
    };
    let mut g = base;
    g.filter_text = if g.filter_text.trim().is_empty() {
        term.to_string()
    } else {
        format!("{} {term}", g.filter_text.trim())
    };
    g.cursor = 0;
    g.offset = 0;
    g.anchor = None;
    g.marks.clear();
    g.title = None;
    state.views.push(View::Grid(g));
    refresh_top(state);
}

/// `F`: the frequency table of the column under the cursor.
pub fn frequency(state: &mut State) {
    let View::Grid(g) = state.top() else {
        return;
    };
    let Some(col) = g.columns.get(g.column).copied() else {
        return;
    };
    let freq = match (&state.data.emails, col.id) {
        (Some(ix), ColumnId::Email(c)) if index_column(c).is_some() => {
            let c = index_column(c).unwrap_or(whalewatch_query::index::Column::Time);
            let set = Bitset::from_rows(ix.len(), g.rows.iter().copied());
            ix.frequency(&set, c)
        }
        _ => by_cells(state, g, col),
    };
    state.views.push(View::Frequency(FrequencyTable {
        column: col,
        tab: None,
        total: freq.total,
        rows: freq.rows,
        cursor: 0,
        offset: 0,
        sizing: None,
    }));
}

/// Threat Explorer's `Top targeted users` / `Top malware families` tabs: the tab's
/// table over the nearest email grid's rows (from another pane: every email, with the
/// session's tag).
pub fn top_tab(state: &mut State, tab: TopTab) {
    let Some(ix) = state.data.emails.clone() else {
        notice(
            state,
            "the email index is still being built; try again in a moment",
            false,
        );
        return;
    };
    // Top URLs and clicks are views of the mail too: their filter selects it.
    let of_mail = |g: &Grid| matches!(g.pane, Pane::Emails | Pane::Urls | Pane::Clicks);
    if !matches!(state.grid(), Some(g) if of_mail(g)) {
        switch_pane(state, Pane::Emails);
    }
    let Some(g) = state.grid() else {
        return;
    };
    let set = if g.pane == Pane::Emails {
        Bitset::from_rows(ix.len(), g.rows.iter().copied())
    } else {
        let rows = effective_filter(g, state.tag.as_deref())
            .and_then(|f| ix.eval(&f, state.now).map_err(|e| e.to_string()));
        match rows {
            Ok(rows) => rows,
            Err(e) => {
                notice(state, e, true);
                return;
            }
        }
    };
    let freq = ix.top_tab(&set, tab);
    let id = match tab {
        TopTab::TargetedUsers => EmailCol::Str(schema::RECIPIENT),
        TopTab::MalwareFamilies => EmailCol::Str(schema::THREAT_NAMES),
    };
    let column = panes::emails::all_columns()
        .into_iter()
        .find(|c| c.id == ColumnId::Email(id))
        .unwrap_or(panes::emails::DEFAULT[0]);
    state.views.push(View::Frequency(FrequencyTable {
        column,
        tab: Some(tab),
        total: freq.total,
        rows: freq.rows,
        cursor: 0,
        offset: 0,
        sizing: None,
    }));
}

fn index_column(c: EmailCol) -> Option<whalewatch_query::index::Column> {
    use whalewatch_query::index::Column;
    Some(match c {
        EmailCol::Time => return None,
        EmailCol::Str(i) => Column::Str(i),
        EmailCol::Int(i) => Column::Int(i),
        EmailCol::RecipientDomain => Column::RecipientDomain,
        _ => return None,
    })
}

/// A frequency table counted over cell texts (small collections, derived columns);
/// list cells ("Finance, Legal") count each value.
fn by_cells(state: &State, g: &Grid, col: GridColumn) -> Frequency {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    let split = matches!(
        col.id,
        ColumnId::Email(EmailCol::Tags)
            | ColumnId::Alert(panes::alerts::AlertCol::Tags)
            | ColumnId::Alert(panes::alerts::AlertCol::Users)
            | ColumnId::Account(panes::accounts::AccountCol::Tags)
    );
    for &r in g.rows.iter() {
        let v = panes::cell(&state.data, r, col.id);
        if split && !v.is_empty() {
            for part in v.split(", ") {
                *counts.entry(part.to_string()).or_default() += 1;
            }
        } else {
            *counts.entry(v).or_default() += 1;
        }
    }
    let total = g.rows.len();
    let mut rows: Vec<FrequencyRow> = counts
        .into_iter()
        .map(|(value, count)| {
            let bin = BinTerm::given(panes::term(col.id, &value));
            FrequencyRow::new(value, count, total, bin)
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Frequency {
        column: col.title,
        total,
        rows,
    }
}

/// `Enter` on a frequency bin: the grid below, filtered to that value.
pub fn open_bin(state: &mut State) {
    let View::Frequency(f) = state.top() else {
        return;
    };
    let Some(bin) = f.rows.get(f.cursor) else {
        return;
    };
    match bin.term() {
        Some(term) => push_filtered(state, &term),
        None => notice(state, "this value cannot be written as a filter", false),
    }
}

/// `y`: the raw value under the cursor (a frequency bin's value in a table).
pub fn copy_value(state: &mut State) -> Vec<Effect> {
    let picked = match state.top() {
        View::Frequency(f) => f
            .rows
            .get(f.cursor)
            .map(|r| (f.column.title.to_string(), r.value.clone())),
        View::Flyout(fl) => Some((
            "id".to_string(),
            fl.detail
                .as_ref()
                .map_or(fl.key.clone(), |d| d.copy.clone()),
        )),
        View::Grid(_) => current_cell(state).map(|(c, v)| (c.title.to_string(), v)),
    };
    match picked {
        Some((what, text)) => vec![Effect::Copy { text, what }],
        None => Vec::new(),
    }
}

/// `e`: exports the nearest grid's result.
pub fn export(state: &mut State, path: Option<std::path::PathBuf>) -> Vec<Effect> {
    let Some(g) = state.grid() else {
        return Vec::new();
    };
    vec![Effect::Export(Box::new(ExportJob {
        data: state.data.clone(),
        rows: g.rows.clone(),
        columns: g.columns.clone(),
        path,
        pane: g.pane,
    }))]
}
