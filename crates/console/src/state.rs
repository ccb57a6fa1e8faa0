//! The console's one state. Views are functions of it; only `update` changes it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::action::Pane;
use super::commands::Keymap;
use super::data::Snapshot;
use super::detail::Detail;
use super::panes::{self, GridColumn};
use super::prompt::{History, Prompt};
use whalewatch_query::Filter;
use whalewatch_query::index::{FrequencyRow, Histogram};

/// Which mail the email grid shows, as Threat Explorer's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailView {
    #[default]
    All,
    Malware,
    Phish,
    UrlClicks,
}

impl MailView {
    pub const ALL: [MailView; 4] = [
        MailView::All,
        MailView::Malware,
        MailView::Phish,
        MailView::UrlClicks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            MailView::All => "All email",
            MailView::Malware => "Malware",
            MailView::Phish => "Phish",
            MailView::UrlClicks => "URL clicks",
        }
    }

    /// The term the view adds to the filter.
    pub fn term(self) -> Option<&'static str> {
        match self {
            MailView::All => None,
            MailView::Malware => Some("threat:malware"),
            MailView::Phish => Some("threat:phish"),
            MailView::UrlClicks => Some("clicked:yes"),
        }
    }
}

/// A table of one pane's rows.
#[derive(Debug, Clone)]
pub struct Grid {
    pub pane: Pane,
    /// The filter as the analyst wrote it.
    pub filter_text: String,
    /// Threat Explorer's view (emails only).
    pub mail_view: MailView,
    pub columns: Vec<GridColumn>,
    /// Column index and descending, when sorted by a column.
    pub sort: Option<(usize, bool)>,
    /// Ordered row positions of the result.
    pub rows: Arc<Vec<u32>>,
    /// Cursor: position in `rows`.
    pub cursor: usize,
    /// First visible position.
    pub offset: usize,
    /// The column under the cursor.
    pub column: usize,
    /// The key of the row under the cursor, to find it again after a reload.
    pub anchor: Option<String>,
    /// Keys of marked rows.
    pub marks: BTreeSet<String>,
    /// Why the filter could not be applied.
    pub error: Option<String>,
    /// Set by jumps from another entity: only these keys (alert ids, ...).
    pub only: Option<Arc<Vec<String>>>,
    /// What opened this view, for the breadcrumb.
    pub title: Option<String>,
    /// Mail per day of the result, split by threat type (emails, once indexed).
    pub histogram: Option<Arc<Histogram>>,
}

impl Grid {
    pub fn new(pane: Pane, filter_text: &str) -> Grid {
        Grid {
            pane,
            filter_text: filter_text.trim().to_string(),
            mail_view: MailView::All,
            columns: panes::default_columns(pane),
            sort: None,
            rows: Arc::default(),
            cursor: 0,
            offset: 0,
            column: 0,
            anchor: None,
            marks: BTreeSet::new(),
            error: None,
            only: None,
            title: None,
            histogram: None,
        }
    }

    /// The row under the cursor.
    pub fn current(&self) -> Option<u32> {
        self.rows.get(self.cursor).copied()
    }
}

/// VisiData's frequency table of one column of the view below it.
#[derive(Debug, Clone)]
pub struct FrequencyTable {
    pub column: GridColumn,
    pub total: usize,
    pub rows: Vec<FrequencyRow>,
    pub cursor: usize,
    pub offset: usize,
}

/// Which details a flyout shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlyoutKind {
    Email,
    Alert,
    Campaign,
    Account,
    /// One account's posture checks.
    Posture,
    /// The tenant checklist.
    Checklist,
    /// A sign-in.
    SignIn,
}

/// The details of the row under the cursor of the grid below it.
#[derive(Debug, Clone)]
pub struct Flyout {
    pub kind: FlyoutKind,
    /// The key of the item shown.
    pub key: String,
    /// Loaded details; `None` while loading.
    pub detail: Option<Arc<Detail>>,
    /// Lines scrolled.
    pub scroll: u16,
}

/// One entry of the view stack.
#[derive(Debug, Clone)]
pub enum View {
    Grid(Grid),
    Frequency(FrequencyTable),
    Flyout(Flyout),
}

impl View {
    /// The breadcrumb label.
    pub fn label(&self) -> String {
        match self {
            View::Grid(g) => {
                let mut s = g
                    .title
                    .clone()
                    .unwrap_or_else(|| g.pane.title().to_string());
                if g.pane == Pane::Emails && g.mail_view != MailView::All {
                    s.push_str(&format!(" ({})", g.mail_view.title()));
                }
                if !g.filter_text.is_empty() {
                    s.push(' ');
                    s.push_str(&g.filter_text);
                }
                s
            }
            View::Frequency(f) => format!("F {}", f.column.title),
            View::Flyout(f) => match f.kind {
                FlyoutKind::Email => "message".into(),
                FlyoutKind::Alert => "alert".into(),
                FlyoutKind::Campaign => "campaign".into(),
                FlyoutKind::Account => "account".into(),
                FlyoutKind::Posture => "posture".into(),
                FlyoutKind::Checklist => "checklist".into(),
                FlyoutKind::SignIn => "sign-in".into(),
            },
        }
    }
}

/// Overlays drawn over the views.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// Fuzzy tag picker: the prompt holds the query.
    TagPicker {
        cursor: usize,
    },
    /// Show, hide and reorder the email grid's columns.
    Columns {
        cursor: usize,
    },
    /// Every source's cache age, watermark and last error.
    Sources,
    /// A result to read (per-message remediation outcome).
    Report {
        title: String,
        lines: Vec<String>,
        scroll: u16,
    },
    /// A triage choice (status, classification, remediation action) for `targets`.
    Choice {
        title: String,
        options: Vec<(String, super::update::Decision)>,
        cursor: usize,
    },
    /// The remediation review: what will happen; the prompt takes the typed count.
    Review {
        plan: std::sync::Arc<whalewatch_sync::remediate::RemediationPlan>,
    },
    /// Related views to jump to.
    Jumps {
        jumps: Vec<super::detail::Jump>,
        cursor: usize,
    },
}

/// Refresh progress as the status bar shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefreshStatus {
    pub running: bool,
    /// The source being pulled.
    pub source: String,
    pub rows: u64,
    pub expected: Option<u64>,
    /// Sources finished in this refresh.
    pub done: usize,
    /// Why `r` cannot reach the tenant (the client could not be built), in words
    /// that say what to do.
    pub unavailable: Option<String>,
}

/// A message for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// Fixed facts about the session.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub profile: String,
    pub tenant: String,
    /// Whether writes are refused (`--read-only`).
    pub read_only: bool,
    /// Whether `r` can reach a tenant (a client could be built).
    pub can_refresh: bool,
    /// Who triage writes are recorded as (the profile's `analyst`, else the app).
    pub analyst: String,
}

/// Everything the console shows.
pub struct State {
    pub session: Session,
    pub data: Snapshot,
    /// The view stack; never empty. `views[0]` is a pane's grid.
    pub views: Vec<View>,
    /// The base grid of each pane, remembered while another pane is shown.
    pub panes: Vec<Grid>,
    pub overlay: Option<Overlay>,
    pub prompt: Option<Prompt>,
    /// What an open triage menu or prompt will act on.
    pub draft: Option<super::update::Draft>,
    pub history: History,
    /// The tag every pane is narrowed to.
    pub tag: Option<String>,
    pub histogram: bool,
    /// What the histogram's bars are split by (an email column; threat type first).
    pub split: whalewatch_query::index::Column,
    pub refresh: RefreshStatus,
    pub notice: Option<Notice>,
    pub last_error: Option<String>,
    pub keymap: Keymap,
    /// Terminal size.
    pub width: u16,
    pub height: u16,
    /// "Now" for relative times (`since:7d`); fixed in tests.
    pub now: DateTime<Utc>,
    /// Set when the console should exit.
    pub quit: bool,
}

impl State {
    /// A state over `data` with the Alerts pane open.
    pub fn new(session: Session, data: Snapshot, keymap: Keymap, now: DateTime<Utc>) -> State {
        let panes: Vec<Grid> = Pane::ALL.iter().map(|p| Grid::new(*p, "")).collect();
        let mut s = State {
            session,
            data,
            views: vec![View::Grid(panes[0].clone())],
            panes,
            overlay: None,
            prompt: None,
            draft: None,
            history: History::default(),
            tag: None,
            histogram: true,
            split: whalewatch_query::index::Column::Str(whalewatch_query::index::schema::THREATS),
            refresh: RefreshStatus::default(),
            notice: None,
            last_error: None,
            keymap,
            width: 80,
            height: 24,
            now,
            quit: false,
        };
        super::update::reevaluate_all(&mut s);
        s
    }

    /// The view on top of the stack.
    pub fn top(&self) -> &View {
        self.views.last().unwrap_or(&self.views[0])
    }

    /// The grid nearest the top of the stack (the one a flyout or frequency table
    /// belongs to).
    pub fn grid(&self) -> Option<&Grid> {
        self.views.iter().rev().find_map(|v| match v {
            View::Grid(g) => Some(g),
            _ => None,
        })
    }

    /// The same, mutable.
    pub fn grid_mut(&mut self) -> Option<&mut Grid> {
        self.views.iter_mut().rev().find_map(|v| match v {
            View::Grid(g) => Some(g),
            _ => None,
        })
    }

    /// The pane shown.
    pub fn pane(&self) -> Pane {
        self.grid().map_or(Pane::Alerts, |g| g.pane)
    }

    /// Rows of a table that fit on screen (the grid area minus its header).
    pub fn page_rows(&self) -> usize {
        let chrome = 4 + if self.histogram && self.pane() == Pane::Emails {
            super::views::histogram::HEIGHT
        } else {
            0
        };
        (self.height as usize).saturating_sub(chrome + 1).max(1)
    }
}

/// Whether `filter` selects everything.
pub fn is_empty(filter: &Filter) -> bool {
    filter.root.is_none()
}
