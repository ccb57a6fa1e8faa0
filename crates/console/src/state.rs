//! The console's one state. Views are functions of it; only `update` changes it.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::action::Pane;
use super::commands::Keymap;
use super::data::Snapshot;
use super::detail::Detail;
use super::panes::{self, GridColumn};
use super::prompt::{History, Prompt};
use super::table::Sizing;
use whalewatch_query::Filter;
use whalewatch_query::index::figures::{Audience, CampaignFigures};
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
    /// The column widths held while the rows scroll (`update::grid::hold_widths`).
    pub sizing: Option<Sizing>,
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
            sizing: None,
        }
    }

    /// The raw cells of the rows at positions `range` of `rows`, as the grid shows
    /// them: a marked row's first cell starts with `✓`.
    pub fn cells(&self, data: &Snapshot, range: Range<usize>) -> Vec<Vec<String>> {
        let range = range.start.min(self.rows.len())..range.end.min(self.rows.len());
        self.rows[range]
            .iter()
            .map(|&r| {
                let marked =
                    !self.marks.is_empty() && self.marks.contains(&panes::key(self.pane, data, r));
                self.columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let v = panes::display(data, r, c.id);
                        if i == 0 && marked {
                            format!("✓ {v}")
                        } else {
                            v
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// What the held column widths were measured for, besides the data (a new
    /// evaluation drops them): the rows, the columns, the marks, the page height.
    pub fn sizing_basis(&self, page: usize) -> u64 {
        let mut h = DefaultHasher::new();
        (
            Arc::as_ptr(&self.rows),
            self.rows.len(),
            self.marks.len(),
            page,
        )
            .hash(&mut h);
        for c in &self.columns {
            c.id.hash(&mut h);
        }
        h.finish()
    }

    /// The row under the cursor.
    pub fn current(&self) -> Option<u32> {
        self.rows.get(self.cursor).copied()
    }

    /// The column position the rows are ordered by and whether descending: the
    /// analyst's sort, else the pane's natural order when it follows a shown column.
    pub fn order_column(&self) -> Option<(usize, bool)> {
        self.sort.or_else(|| {
            let n = panes::natural_order(self.pane);
            let id = n.column?;
            self.columns
                .iter()
                .position(|c| c.id == id)
                .map(|i| (i, n.descending))
        })
    }

    /// The order in words for the breadcrumb: `by Last activity ▼`, or the pane's
    /// natural order when no column carries it.
    pub fn order_words(&self) -> String {
        let arrow = |d: bool| if d { "▼" } else { "▲" };
        match self.order_column() {
            Some((i, d)) => self
                .columns
                .get(i)
                .map_or(String::new(), |c| format!("by {} {}", c.title, arrow(d))),
            None => panes::natural_order(self.pane).words.to_string(),
        }
    }
}

/// VisiData's frequency table of one column of the view below it.
#[derive(Debug, Clone)]
pub struct FrequencyTable {
    pub column: GridColumn,
    /// Threat Explorer's tab this table is (`Top targeted users`), if any.
    pub tab: Option<whalewatch_query::index::TopTab>,
    pub total: usize,
    pub rows: Vec<FrequencyRow>,
    pub cursor: usize,
    pub offset: usize,
    /// The column widths held while the rows scroll (`update::grid::hold_widths`).
    pub sizing: Option<Sizing>,
}

impl FrequencyTable {
    /// The raw cells of rows `range`: value (`(empty)` for none), count, percent, bar.
    pub fn cells(&self, range: Range<usize>) -> Vec<Vec<String>> {
        let range = range.start.min(self.rows.len())..range.end.min(self.rows.len());
        let max = self.rows.first().map_or(0, |r| r.count);
        self.rows[range]
            .iter()
            .map(|r| {
                vec![
                    if r.value.is_empty() {
                        "(empty)".to_string()
                    } else {
                        r.value.clone()
                    },
                    super::views::chrome::thousands(r.count),
                    format!("{:.1}", r.percent),
                    r.bar(max, 30),
                ]
            })
            .collect()
    }

    /// What the held column widths were measured for: the rows, the page height.
    pub fn sizing_basis(&self, page: usize) -> u64 {
        let mut h = DefaultHasher::new();
        (self.rows.as_ptr(), self.rows.len(), self.column.id, page).hash(&mut h);
        h.finish()
    }
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
    /// An incident: its alerts, evidence and comments.
    Incident,
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
            View::Frequency(f) => match f.tab {
                Some(tab) => tab.title().to_string(),
                None => format!("F {}", f.column.title),
            },
            View::Flyout(f) => match f.kind {
                FlyoutKind::Email => "message".into(),
                FlyoutKind::Alert => "alert".into(),
                FlyoutKind::Campaign => "campaign".into(),
                FlyoutKind::Account => "account".into(),
                FlyoutKind::Posture => "posture".into(),
                FlyoutKind::Checklist => "checklist".into(),
                FlyoutKind::SignIn => "sign-in".into(),
                FlyoutKind::Incident => "incident".into(),
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
    /// Show, hide and reorder the email grid's columns: `columns` is the choice being
    /// made; `Enter` applies it, `Esc` leaves the grid as it was.
    Columns {
        cursor: usize,
        columns: Vec<GridColumn>,
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
    /// Which-key: the keys available here (after a pause), or the keys that complete
    /// `prefix` (after a prefix key such as `g`).
    WhichKey {
        prefix: Option<String>,
    },
    /// Related views to jump to.
    Jumps {
        jumps: Vec<super::detail::Jump>,
        cursor: usize,
    },
    /// Fuzzy search results (`State::search`); the prompt holds the query.
    Search,
    /// The profile picker (`:profile`).
    Profiles {
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
    /// Who `a` (assign to me) assigns to: the profile's `analyst`. `None`: the
    /// console asks for the name rather than assign to the application.
    pub assignee: Option<String>,
    /// The config file, where `a` offers to save the analyst's name.
    pub config_path: Option<std::path::PathBuf>,
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
    /// When the cursor leaves the page, scroll half a page further than needed
    /// (vim's `scrolljump`). Set when the terminal cannot move rows itself
    /// (`WHALEWATCH_SCROLL_REGION=0`): each scrolled row is then rewritten, and a
    /// jump rewrites the page once per half page instead of once per row. With
    /// scroll regions (the default) the grid scrolls a row at a time.
    pub scroll_jump: bool,
    /// "Now" for relative times (`since:7d`) and the ages on screen: the app's clock
    /// moves it forward (`Msg::Tick`); tests set it.
    pub now: DateTime<Utc>,
    /// Why a source's last refresh in this session failed, by source (`refresh`
    /// when the failure came before any source started); a later success of the
    /// source clears it. The cache's own `last_error` shows when none is here.
    pub source_errors: std::collections::BTreeMap<String, String>,
    /// Set when the console should exit.
    pub quit: bool,
    /// The last key did nothing here: a pause after it shows which-key (an idle
    /// analyst reading the screen is never interrupted).
    pub stray_key: bool,
    /// The fuzzy search, while its overlay is open.
    pub search: Option<super::search::Search>,
    /// The time range every timed pane is narrowed to (shown in the header).
    pub range: super::range::TimeRange,
    /// The histogram bar selected with `[`/`]` (`enter` narrows the range to it).
    pub bar: Option<usize>,
    /// The profile's saved views (`:save NAME`, `:open NAME`).
    pub saved_views: std::collections::BTreeMap<String, super::settings::SavedView>,
    /// The view last written to the session log (a new one is logged when it changes).
    pub logged_view: Option<String>,
    /// Session-log records `update` made, for the app to append (and clear).
    pub log: Vec<super::session_log::Record>,
    /// A session log being replayed (`tui --replay FILE`).
    pub replay: Option<super::session_log::Replay>,
    /// The config's profiles `:profile` can switch to (empty: switching unavailable).
    pub profiles: Vec<String>,
    /// Set with `quit` when the analyst asked for another profile's console.
    pub switch_to: Option<String>,
    /// The view run on the tenant (`:remote`), shown instead of the local grid.
    pub remote: Option<super::remote::RemoteView>,
    /// Remote runs started (their ids).
    pub remote_runs: u64,
    /// Campaign figures already computed over the current index, per audience.
    pub campaign_figures: CampaignFiguresSeen,
}

/// Campaign figures computed for each audience over one index and campaign list:
/// `P` toggles between two audiences, and each costs a pass over the campaigns' mail,
/// so each is computed once. Weak references: an index replaced is not kept alive,
/// and a new one (or new campaigns) starts afresh.
#[derive(Debug, Default)]
pub struct CampaignFiguresSeen {
    index: std::sync::Weak<whalewatch_query::index::EmailIndex>,
    campaigns: std::sync::Weak<whalewatch_query::index::entities::CampaignIndex>,
    by: Vec<(Audience, Arc<Vec<CampaignFigures>>)>,
}

impl CampaignFiguresSeen {
    /// The most audiences kept (the tag set is small; a filter's tags add more).
    const KEEP: usize = 8;

    /// The figures of `audience` over the data's index and campaigns, if computed.
    pub fn get(
        &mut self,
        data: &Snapshot,
        audience: &Audience,
    ) -> Option<Arc<Vec<CampaignFigures>>> {
        let ix = data.emails.as_ref()?;
        if !(self.index.ptr_eq(&Arc::downgrade(ix))
            && self.campaigns.ptr_eq(&Arc::downgrade(&data.campaigns)))
        {
            *self = CampaignFiguresSeen {
                index: Arc::downgrade(ix),
                campaigns: Arc::downgrade(&data.campaigns),
                by: Vec::new(),
            };
        }
        self.by
            .iter()
            .find(|(a, _)| a == audience)
            .map(|(_, f)| f.clone())
    }

    /// Keeps `figures` of `audience` (computed over the data `get` last saw).
    pub fn keep(&mut self, audience: Audience, figures: Arc<Vec<CampaignFigures>>) {
        if self.by.len() >= Self::KEEP {
            self.by.remove(0);
        }
        self.by.push((audience, figures));
    }
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
            scroll_jump: false,
            now,
            source_errors: Default::default(),
            quit: false,
            stray_key: false,
            search: None,
            range: Default::default(),
            bar: None,
            saved_views: Default::default(),
            logged_view: None,
            log: Vec::new(),
            replay: None,
            profiles: Vec::new(),
            switch_to: None,
            remote: None,
            remote_runs: 0,
            campaign_figures: CampaignFiguresSeen::default(),
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
            super::views::histogram::height(self.height)
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
