//! Everything the console can do, as named values. Keys, the `:` command line and
//! tests all produce `Action`s; `update` is the only place they take effect.

use serde::{Deserialize, Serialize};

/// The panes, in the order `1`–`7` select them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pane {
    Alerts,
    Emails,
    Campaigns,
    Accounts,
    /// Priority-account posture.
    Posture,
    /// Cached sign-ins of priority accounts.
    SignIns,
    /// Threat Explorer's Top URLs over the mail.
    Urls,
    /// Threat Explorer's Top clicks (the URL clicks view) over the mail.
    Clicks,
    /// Incidents (groups of alerts), triaged like alerts.
    Incidents,
}

impl Pane {
    pub const ALL: [Pane; 9] = [
        Pane::Alerts,
        Pane::Emails,
        Pane::Campaigns,
        Pane::Accounts,
        Pane::Posture,
        Pane::SignIns,
        Pane::Incidents,
        Pane::Urls,
        Pane::Clicks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Alerts => "alerts",
            Pane::Emails => "emails",
            Pane::Campaigns => "campaigns",
            Pane::Accounts => "accounts",
            Pane::Posture => "posture",
            Pane::SignIns => "sign-ins",
            Pane::Urls => "urls",
            Pane::Clicks => "clicks",
            Pane::Incidents => "incidents",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Alerts => "Alerts",
            Pane::Emails => "Emails",
            Pane::Campaigns => "Campaigns",
            Pane::Accounts => "Accounts",
            Pane::Posture => "Posture",
            Pane::SignIns => "Sign-ins",
            Pane::Urls => "Top URLs",
            Pane::Clicks => "Top clicks",
            Pane::Incidents => "Incidents",
        }
    }

    /// The pane a `:name` command names (prefixes accepted).
    pub fn parse(s: &str) -> Option<Pane> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return None;
        }
        Pane::ALL.into_iter().find(|p| {
            p.name().starts_with(&s) || (s.starts_with(p.name()) && s.len() <= p.name().len() + 1)
        })
    }
}

/// A console action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", content = "args", rename_all = "kebab-case")]
pub enum Action {
    /// `q`: back one view, or quit from the first.
    Quit,
    /// Ctrl-C: quit from anywhere.
    QuitNow,
    Back,
    Pane(Pane),
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    ColumnLeft,
    ColumnRight,
    Open,
    TogglePriority,
    TagPicker,
    SetTag(Option<String>),
    EditFilter,
    CommandLine,
    Frequency,
    Pivot,
    SortAscending,
    SortDescending,
    ToggleHistogram,
    /// All email → Malware → Phish → URL clicks.
    CycleMailView,
    /// Threat Explorer's `Top targeted users` / `Top malware families` tab over the
    /// email result.
    TopTab(whalewatch_query::index::TopTab),
    /// Open the column chooser.
    Columns,
    /// Move the chosen column left / right (column chooser).
    ColumnEarlier,
    ColumnLater,
    /// Mark or unmark the row under the cursor (space).
    Mark,
    /// Clear every mark of the view (`u`), including marks on rows not in view.
    ClearMarks,
    /// Triage: set the status of the targeted alerts or incidents (a menu).
    SetStatus,
    /// Triage: classification and determination (a menu of documented pairs).
    Classify,
    /// Triage: assign the targeted alerts to the analyst running the console.
    AssignToMe,
    /// Triage: assign to a named analyst (a prompt).
    Assign,
    /// Triage: comment on the targeted alerts (a prompt).
    Comment,
    /// A local note on the item (a prompt).
    Note,
    /// Remediate the message under the cursor or the marked ones (a menu, a review).
    Remediate,
    /// Remediate every message of the current result.
    RemediateAll,
    Related,
    CopyValue,
    CopyView,
    Export,
    Refresh,
    Help,
    /// Text typed into the open prompt.
    Input(char),
    /// Backspace in the open prompt.
    Erase,
    /// A readline edit in the open prompt (cursor keys, Ctrl-A/E/U/K/W, Alt-B/F, Delete).
    Edit(crate::prompt::Edit),
    /// Tab completion in the open prompt.
    Complete,
    /// Enter in the open prompt.
    Submit,
    /// Esc in the open prompt.
    Cancel,
    /// Previous / next entry of the prompt's history.
    HistoryPrev,
    HistoryNext,
    /// A prefix key (`g`): wait for the key that completes the sequence, showing
    /// which keys do (which-key).
    Prefix(String),
    /// Pasted text (bracketed paste) into the open prompt.
    Paste(String),
    /// Open the tenant checklist (Secure Score and the priority-account practices).
    Checklist,
    /// Run a command line (`emails tag:Finance threat:phish`), as `:` would.
    Run(String),
    Resize(u16, u16),
    /// Fuzzy search over subjects, senders, recipients and URLs (a prompt and a list).
    Search,
    /// Cycle the time range: all → 1h → 24h → 7d → 30d → all.
    CycleRange,
    /// Select the previous / next bar of the histogram (`enter` narrows to it).
    BarPrev,
    BarNext,
    /// Replay (`tui --replay`): run the next entry of the session log.
    ReplayNext,
    /// Run the email view on the tenant (advanced hunting); again: back to local.
    Remote,
}
