//! A pane's grid and a frequency table, both through the one generic table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::panes::{self, ColumnId};
use crate::state::{FrequencyTable, Grid, State};
use crate::table::{self, Column, TableView};
use crate::theme::Theme;
use whalewatch_model::safe_text::fit;

/// Draws `g`'s visible rows; says how many rows are above and below them.
pub fn grid(
    f: &mut Frame<'_>,
    area: Rect,
    state: &State,
    g: &Grid,
    theme: &Theme,
) -> Option<Scrolled> {
    if g.rows.is_empty() {
        // A pane whose data is still loading says so: no rows yet is not "none".
        let why = match (panes::loading(g.pane, &state.data), &g.error) {
            (Some(loading), _) => loading,
            (None, Some(e)) => format!("no rows: {e}"),
            (None, None) => "no rows match (esc goes back, / edits the filter)".to_string(),
        };
        f.render_widget(
            Paragraph::new(Line::styled(fit(&why, area.width as usize), theme.dim())),
            area,
        );
        return None;
    }
    let page = (area.height as usize).saturating_sub(1);
    let start = g.offset.min(g.rows.len());
    let end = (start + page).min(g.rows.len());
    let cells = g.cells(&state.data, start..end);
    let columns: Vec<Column> = g.columns.iter().map(|c| c.table_column()).collect();
    let ids: Vec<ColumnId> = g.columns.iter().map(|c| c.id).collect();
    let style_of = |ci: usize, raw: &str| -> Style {
        match ids.get(ci) {
            Some(ColumnId::Alert(panes::alerts::AlertCol::Severity))
            | Some(ColumnId::Incident(panes::incidents::IncidentCol::Severity))
            | Some(ColumnId::Email(panes::emails::EmailCol::Str(
                whalewatch_query::index::schema::THREATS,
            ))) => theme.severity(raw.split(',').next().unwrap_or("").trim()),
            _ => Style::default(),
        }
    };
    let view = TableView {
        columns: &columns,
        rows: &cells,
        cursor: g.cursor.checked_sub(start),
        column: g.column,
        sort: g.order_column(),
        style_of: &style_of,
        wants: g.sizing.as_ref().map(|s| s.wants()),
    };
    // The pane's important columns stay on a narrow terminal; the rest keep their order.
    let rank: Vec<usize> = g
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| panes::priority(c.id).map_or(100 + i, usize::from))
        .collect();
    table::draw_ranked(f, area, &view, &rank, theme);
    Some(Scrolled {
        above: start,
        below: g.rows.len() - end,
    })
}

/// Rows of a table above and below the ones on screen (the breadcrumb says them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scrolled {
    pub above: usize,
    pub below: usize,
}

/// A frequency table's columns.
pub const FREQ_COLUMNS: [Column; 4] = [
    Column {
        title: "Value",
        min: 10,
        max: 60,
    },
    Column {
        title: "Count",
        min: 7,
        max: 12,
    },
    Column {
        title: "%",
        min: 6,
        max: 6,
    },
    Column {
        title: "Histogram",
        min: 10,
        max: 40,
    },
];

/// Draws a frequency table: value, count, percent, bar.
pub fn frequency(f: &mut Frame<'_>, area: Rect, t: &FrequencyTable, theme: &Theme) -> Scrolled {
    let page = (area.height as usize).saturating_sub(1);
    let start = t.offset.min(t.rows.len());
    let end = (start + page).min(t.rows.len());
    let cells = t.cells(start..end);
    let plain = |_: usize, _: &str| Style::default();
    let view = TableView {
        columns: &FREQ_COLUMNS,
        rows: &cells,
        cursor: t.cursor.checked_sub(start),
        column: 0,
        // Most frequent first.
        sort: Some((1, true)),
        style_of: &plain,
        wants: t.sizing.as_ref().map(|s| s.wants()),
    };
    table::draw(f, area, &view, theme);
    Scrolled {
        above: start,
        below: t.rows.len() - end,
    }
}

const TAG_COLUMNS: [Column; 5] = [
    Column {
        title: "Tag",
        min: 12,
        max: 40,
    },
    Column {
        title: "Members",
        min: 7,
        max: 8,
    },
    Column {
        title: "Threats",
        min: 7,
        max: 9,
    },
    Column {
        title: "Clicks",
        min: 6,
        max: 8,
    },
    Column {
        title: "Alerts",
        min: 6,
        max: 8,
    },
];

/// The tag summary above the Accounts grid: every tag, Priority account first.
pub fn tags(f: &mut Frame<'_>, area: Rect, stats: &[crate::data::TagStats], theme: &Theme) {
    let opt = |v: Option<usize>| v.map_or("…".to_string(), |n| n.to_string());
    let cells: Vec<Vec<String>> = stats
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.members.to_string(),
                opt(t.threats),
                opt(t.clicks),
                opt(t.alerts),
            ]
        })
        .collect();
    let plain = |_: usize, _: &str| Style::default();
    let view = TableView {
        columns: &TAG_COLUMNS,
        rows: &cells,
        cursor: None,
        column: usize::MAX,
        sort: None,
        style_of: &plain,
        wants: None,
    };
    table::draw(f, area, &view, theme);
}
