//! The one command registry. Every command has a long name, a description, the
//! layer where it is available and its default keys; help, the `:` command line and
//! keymap overrides are all derived from this table, so they cannot disagree.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Pane};

/// Where a command applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Anywhere outside a text prompt.
    Global,
    /// A pane's table (alerts, emails, campaigns, accounts, frequency tables).
    Table,
    /// The details flyout.
    Flyout,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Global => "everywhere",
            Layer::Table => "tables",
            Layer::Flyout => "details",
        }
    }
}

/// One command.
#[derive(Debug, Clone)]
pub struct Command {
    pub name: &'static str,
    /// Writes to the tenant: disabled in a read-only session.
    pub writes: bool,
    pub description: &'static str,
    pub layer: Layer,
    pub keys: Vec<String>,
    pub action: Action,
}

macro_rules! cmd {
    ($name:literal, $layer:ident, [$($k:literal),*], $action:expr, $desc:literal) => {
        Command { name: $name, writes: matches!($name, "status" | "classify" | "assign-me" | "assign" | "comment" | "remediate" | "remediate-all"), description: $desc, layer: Layer::$layer, keys: vec![$($k.to_string()),*], action: $action }
    };
}

/// Every command, in help order.
pub fn registry() -> Vec<Command> {
    vec![
        cmd!(
            "quit",
            Global,
            ["q"],
            Action::Quit,
            "Back one view; quit from the first view"
        ),
        cmd!(
            "quit-now",
            Global,
            ["ctrl-c"],
            Action::QuitNow,
            "Quit from anywhere"
        ),
        cmd!(
            "back",
            Global,
            ["esc"],
            Action::Back,
            "Go back one view (closes overlays and flyouts first)"
        ),
        cmd!("help", Global, ["?"], Action::Help, "Show this help"),
        cmd!(
            "alerts",
            Global,
            ["1"],
            Action::Pane(Pane::Alerts),
            "Switch to the Alerts pane"
        ),
        cmd!(
            "emails",
            Global,
            ["2"],
            Action::Pane(Pane::Emails),
            "Switch to the Emails pane"
        ),
        cmd!(
            "campaigns",
            Global,
            ["3"],
            Action::Pane(Pane::Campaigns),
            "Switch to the Campaigns pane"
        ),
        cmd!(
            "accounts",
            Global,
            ["4"],
            Action::Pane(Pane::Accounts),
            "Switch to the Accounts pane (users and tags)"
        ),
        cmd!(
            "posture",
            Global,
            ["5"],
            Action::Pane(Pane::Posture),
            "Switch to the Posture pane (MFA, Conditional Access, legacy sign-ins, Strict preset per priority account)"
        ),
        cmd!(
            "sign-ins",
            Global,
            ["6"],
            Action::Pane(Pane::SignIns),
            "Switch to the Sign-ins pane (cached sign-ins of priority accounts)"
        ),
        cmd!(
            "urls",
            Global,
            ["8"],
            Action::Pane(Pane::Urls),
            "Top URLs: each URL of the mail with messages, recipients, clicks, blocked, clicked through (Enter: its mail)"
        ),
        cmd!(
            "clicks",
            Global,
            ["9"],
            Action::Pane(Pane::Clicks),
            "Top clicks: every URL click with account, tags, action, verdict, workload, IP (Enter: the message)"
        ),
        cmd!(
            "incidents",
            Global,
            ["7"],
            Action::Pane(Pane::Incidents),
            "Switch to the Incidents pane (alerts grouped by incident; triage like alerts)"
        ),
        cmd!(
            "checklist",
            Global,
            ["T"],
            Action::Checklist,
            "The tenant checklist: Secure Score with its 90-day trend and each priority-account practice"
        ),
        cmd!(
            "priority",
            Global,
            ["P"],
            Action::TogglePriority,
            "Narrow every pane to priority accounts (again: all)"
        ),
        cmd!(
            "tag",
            Global,
            ["t"],
            Action::TagPicker,
            "Pick a tag to narrow every pane to (fuzzy)"
        ),
        cmd!(
            "filter",
            Global,
            ["/"],
            Action::EditFilter,
            "Edit the pane's filter in the filter language"
        ),
        cmd!(
            "command",
            Global,
            [":"],
            Action::CommandLine,
            "Command line: a view and a filter (:emails tag:Finance since:7d)"
        ),
        cmd!(
            "refresh",
            Global,
            ["r"],
            Action::Refresh,
            "Refresh from the tenant in the background"
        ),
        cmd!(
            "copy-view",
            Global,
            ["Y"],
            Action::CopyView,
            "Copy this view as a command line that reopens it"
        ),
        cmd!(
            "search",
            Global,
            ["ctrl-p"],
            Action::Search,
            "Fuzzy search subjects, senders, recipients and URLs; enter filters by the value (or opens its only row)"
        ),
        cmd!(
            "range",
            Global,
            ["ctrl-t"],
            Action::CycleRange,
            "Cycle the time range (all, 1h, 24h, 7d, 30d); `:range A..B` sets any range"
        ),
        cmd!(
            "remote",
            Global,
            ["ctrl-r"],
            Action::Remote,
            "Emails: run this view on the tenant (advanced hunting: count, histogram, sender domains, newest rows); again or esc: back to the cache"
        ),
        cmd!("up", Table, ["k", "up"], Action::Up, "Move up"),
        cmd!("down", Table, ["j", "down"], Action::Down, "Move down"),
        cmd!(
            "top",
            Table,
            ["g g", "home"],
            Action::Top,
            "Go to the first row"
        ),
        cmd!(
            "bottom",
            Table,
            ["G", "g e", "end"],
            Action::Bottom,
            "Go to the last row"
        ),
        cmd!(
            "page-up",
            Table,
            ["pgup", "ctrl-b"],
            Action::PageUp,
            "Page up"
        ),
        cmd!(
            "page-down",
            Table,
            ["pgdn", "ctrl-f"],
            Action::PageDown,
            "Page down"
        ),
        cmd!(
            "column-left",
            Table,
            ["h", "left"],
            Action::ColumnLeft,
            "Previous column"
        ),
        cmd!(
            "column-right",
            Table,
            ["l", "right"],
            Action::ColumnRight,
            "Next column"
        ),
        cmd!(
            "open",
            Table,
            ["enter"],
            Action::Open,
            "Open the details flyout (in a frequency table: filter by the value)"
        ),
        cmd!(
            "frequency",
            Table,
            ["F"],
            Action::Frequency,
            "Frequency table of the column under the cursor"
        ),
        cmd!(
            "pivot",
            Table,
            ["p"],
            Action::Pivot,
            "Add the value under the cursor to the filter"
        ),
        cmd!(
            "sort-asc",
            Table,
            ["o"],
            Action::SortAscending,
            "Sort by the column, ascending"
        ),
        cmd!(
            "sort-desc",
            Table,
            ["O"],
            Action::SortDescending,
            "Sort by the column, descending"
        ),
        cmd!(
            "histogram",
            Table,
            ["H"],
            Action::ToggleHistogram,
            "Show or hide the time histogram"
        ),
        cmd!(
            "bar-prev",
            Table,
            ["["],
            Action::BarPrev,
            "Emails: select the previous histogram bar (enter narrows the range to it)"
        ),
        cmd!(
            "bar-next",
            Table,
            ["]"],
            Action::BarNext,
            "Emails: select the next histogram bar (enter narrows the range to it)"
        ),
        cmd!(
            "mail-view",
            Table,
            ["v"],
            Action::CycleMailView,
            "Emails: cycle the view (All email, Malware, Phish, URL clicks)"
        ),
        cmd!(
            "top-users",
            Global,
            ["U"],
            Action::TopTab(whalewatch_query::index::TopTab::TargetedUsers),
            "Top targeted users: recipients of the email result by rows received"
        ),
        cmd!(
            "top-families",
            Global,
            ["M"],
            Action::TopTab(whalewatch_query::index::TopTab::MalwareFamilies),
            "Top malware families: threat names of the email result (messages without one left out)"
        ),
        cmd!(
            "columns",
            Table,
            ["C"],
            Action::Columns,
            "Emails: show, hide and reorder columns (saved per profile)"
        ),
        cmd!(
            "mark",
            Table,
            ["space"],
            Action::Mark,
            "Mark or unmark the row (marked rows are what triage acts on)"
        ),
        cmd!(
            "unmark",
            Table,
            ["u"],
            Action::ClearMarks,
            "Clear every mark of the view, also on rows the view no longer shows"
        ),
        cmd!(
            "related",
            Table,
            ["R"],
            Action::Related,
            "Jump to related entities (message → alerts, alert → messages, campaign → messages, user → mail)"
        ),
        cmd!(
            "copy",
            Table,
            ["y"],
            Action::CopyValue,
            "Copy the raw value under the cursor (OSC 52)"
        ),
        cmd!(
            "export",
            Table,
            ["e"],
            Action::Export,
            "Export the current result to a file (CSV and JSON)"
        ),
        cmd!(
            "status",
            Table,
            ["s"],
            Action::SetStatus,
            "Alerts and incidents: set status (alerts: new, in progress, resolved; incidents: active, in progress, resolved) of the item or the marked ones"
        ),
        cmd!(
            "classify",
            Table,
            ["d"],
            Action::Classify,
            "Alerts and incidents: classification and determination (true positive · phishing, ...)"
        ),
        cmd!(
            "assign-me",
            Table,
            ["a"],
            Action::AssignToMe,
            "Alerts and incidents: assign to me (the profile's analyst)"
        ),
        cmd!(
            "assign",
            Table,
            ["A"],
            Action::Assign,
            "Alerts and incidents: assign to a named analyst"
        ),
        cmd!(
            "comment",
            Table,
            ["c"],
            Action::Comment,
            "Alerts and incidents: add a comment (written back to the tenant)"
        ),
        cmd!(
            "note",
            Table,
            ["n"],
            Action::Note,
            "Attach a local note to the email, alert, campaign or user"
        ),
        cmd!(
            "remediate",
            Table,
            ["x"],
            Action::Remediate,
            "Emails: take action on the message or the marked ones (review, typed count)"
        ),
        cmd!(
            "remediate-all",
            Table,
            ["X"],
            Action::RemediateAll,
            "Emails: take action on every message of the current result"
        ),
        cmd!(
            "status",
            Flyout,
            ["s"],
            Action::SetStatus,
            "Alerts and incidents: set status (alerts: new, in progress, resolved; incidents: active, in progress, resolved) of the item or the marked ones"
        ),
        cmd!(
            "classify",
            Flyout,
            ["d"],
            Action::Classify,
            "Alerts and incidents: classification and determination (true positive · phishing, ...)"
        ),
        cmd!(
            "assign-me",
            Flyout,
            ["a"],
            Action::AssignToMe,
            "Alerts and incidents: assign to me (the profile's analyst)"
        ),
        cmd!(
            "assign",
            Flyout,
            ["A"],
            Action::Assign,
            "Alerts and incidents: assign to a named analyst"
        ),
        cmd!(
            "comment",
            Flyout,
            ["c"],
            Action::Comment,
            "Alerts and incidents: add a comment (written back to the tenant)"
        ),
        cmd!(
            "note",
            Flyout,
            ["n"],
            Action::Note,
            "Attach a local note to the email, alert, campaign or user"
        ),
        cmd!(
            "remediate",
            Flyout,
            ["x"],
            Action::Remediate,
            "Emails: take action on the message or the marked ones (review, typed count)"
        ),
        cmd!(
            "previous",
            Flyout,
            ["k", "up"],
            Action::Up,
            "Previous item without closing"
        ),
        cmd!(
            "next",
            Flyout,
            ["j", "down"],
            Action::Down,
            "Next item without closing"
        ),
        cmd!(
            "scroll-down",
            Flyout,
            ["pgdn", "ctrl-f", "space"],
            Action::PageDown,
            "Scroll the details down"
        ),
        cmd!(
            "scroll-up",
            Flyout,
            ["pgup", "ctrl-b"],
            Action::PageUp,
            "Scroll the details up"
        ),
        cmd!(
            "related",
            Flyout,
            ["R"],
            Action::Related,
            "Jump to related entities"
        ),
        cmd!(
            "copy",
            Flyout,
            ["y"],
            Action::CopyValue,
            "Copy the item's id"
        ),
    ]
}

/// A key as written in the registry and the config: `q`, `G`, `ctrl-c`, `enter`.
pub fn key_name(k: &KeyEvent) -> Option<String> {
    let base = match k.code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Down => "down".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        _ => return None,
    };
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        Some(format!("ctrl-{}", base.to_lowercase()))
    } else if k.modifiers.contains(KeyModifiers::ALT) {
        Some(format!("alt-{base}"))
    } else {
        Some(base)
    }
}

/// Why a keymap override was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap: there is no command `{0}` (see `?` for the names)")]
    UnknownCommand(String),
    #[error("keymap: `{key}` is bound to both `{first}` and `{second}` in {layer}")]
    Conflict {
        key: String,
        first: String,
        second: String,
        layer: &'static str,
    },
    #[error("keymap: `{0}` is not a key name (examples: q, G, ctrl-c, enter, pgdn)")]
    BadKey(String),
}

/// Keys → commands per layer, after overrides.
#[derive(Debug, Clone)]
pub struct Keymap {
    commands: Vec<Command>,
    bindings: HashMap<(Layer, String), usize>,
}

/// A key or a two-key sequence after a prefix (`g g`: `g`, then `g`).
fn valid_key(k: &str) -> bool {
    match k.split_once(' ') {
        Some((prefix, then)) => valid_single(prefix) && valid_single(then),
        None => valid_single(k),
    }
}

fn valid_single(k: &str) -> bool {
    let base = k
        .strip_prefix("ctrl-")
        .or_else(|| k.strip_prefix("alt-"))
        .unwrap_or(k);
    base.chars().count() == 1
        || matches!(
            base,
            "enter"
                | "esc"
                | "up"
                | "down"
                | "left"
                | "right"
                | "pgup"
                | "pgdn"
                | "home"
                | "end"
                | "tab"
                | "backtab"
                | "space"
                | "backspace"
        )
}

impl Keymap {
    /// The default keymap with `overrides` (command name → keys) applied. Conflicts
    /// are reported, not silently resolved.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
        let mut commands = registry();
        for (name, new_keys) in overrides {
            let mut found = false;
            for c in commands.iter_mut().filter(|c| c.name == name) {
                c.keys = new_keys.clone();
                found = true;
            }
            if !found {
                return Err(KeymapError::UnknownCommand(name.clone()));
            }
            if let Some(bad) = new_keys.iter().find(|k| !valid_key(k)) {
                return Err(KeymapError::BadKey(bad.clone()));
            }
        }
        let mut bindings: HashMap<(Layer, String), usize> = HashMap::new();
        for (i, c) in commands.iter().enumerate() {
            for k in &c.keys {
                // A global key also shadows the same key in the other layers.
                let layers: &[Layer] = if c.layer == Layer::Global {
                    &[Layer::Global, Layer::Table, Layer::Flyout]
                } else {
                    &[c.layer]
                };
                for layer in layers {
                    if let Some(&other) = bindings.get(&(*layer, k.clone()))
                        && commands[other].name != c.name
                    {
                        return Err(KeymapError::Conflict {
                            key: k.clone(),
                            first: commands[other].name.to_string(),
                            second: c.name.to_string(),
                            layer: layer.name(),
                        });
                    }
                    bindings.insert((*layer, k.clone()), i);
                }
            }
        }
        // A prefix (`g` of `g g`) cannot also be a key of its own in the same layer.
        for (layer, key) in bindings.keys() {
            if let Some((prefix, _)) = key.split_once(' ')
                && let Some(&single) = bindings.get(&(*layer, prefix.to_string()))
            {
                return Err(KeymapError::Conflict {
                    key: prefix.to_string(),
                    first: commands[single].name.to_string(),
                    second: format!("the prefix of `{key}`"),
                    layer: layer.name(),
                });
            }
        }
        Ok(Keymap { commands, bindings })
    }

    /// The action the key named `name` (`g g` for a sequence) triggers in `layer`.
    pub fn lookup_name(&self, layer: Layer, name: &str) -> Option<Action> {
        self.bindings
            .get(&(layer, name.to_string()))
            .map(|&i| self.commands[i].action.clone())
    }

    /// Whether the key named `name` starts sequences in `layer` (which-key shows them).
    pub fn is_prefix(&self, layer: Layer, name: &str) -> bool {
        let lead = format!("{name} ");
        self.bindings
            .keys()
            .any(|(l, k)| *l == layer && k.starts_with(&lead))
    }

    /// The commands reachable in `layer` — after `prefix` when given, with the key
    /// that completes it — in registry order, for which-key.
    pub fn reachable(&self, layer: Layer, prefix: Option<&str>) -> Vec<(String, &Command)> {
        let mut out = Vec::new();
        for (i, c) in self.commands.iter().enumerate() {
            for k in &c.keys {
                if self.bindings.get(&(layer, k.clone())) != Some(&i) {
                    continue;
                }
                let shown = match (prefix, k.split_once(' ')) {
                    (Some(p), Some((kp, then))) if kp == p => then.to_string(),
                    (None, _) => k.clone(),
                    _ => continue,
                };
                out.push((shown, c));
            }
        }
        out
    }

    /// The action `key` triggers in `layer`, if any.
    pub fn lookup(&self, layer: Layer, key: &KeyEvent) -> Option<Action> {
        let name = key_name(key)?;
        self.bindings
            .get(&(layer, name))
            .map(|&i| self.commands[i].action.clone())
    }

    /// The commands, with their effective keys, for help.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// The command named `name`, for the `:` command line.
    pub fn by_name(&self, name: &str) -> Option<&Command> {
        self.commands.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_have_no_conflicts_and_resolve_by_layer() {
        let km = Keymap::new(&BTreeMap::new()).unwrap();
        assert_eq!(km.lookup(Layer::Table, &key('j')), Some(Action::Down));
        assert_eq!(km.lookup(Layer::Flyout, &key('j')), Some(Action::Down));
        assert_eq!(
            km.lookup(Layer::Table, &key('2')),
            Some(Action::Pane(Pane::Emails))
        );
        assert_eq!(km.lookup(Layer::Global, &key('j')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.lookup(Layer::Flyout, &ctrl_c), Some(Action::QuitNow));
    }

    #[test]
    fn overrides_apply_and_conflicts_are_reported() {
        let km = Keymap::new(&BTreeMap::from([(
            "sort-desc".to_string(),
            vec!["S".to_string()],
        )]))
        .unwrap();
        assert_eq!(
            km.lookup(Layer::Table, &key('S')),
            Some(Action::SortDescending)
        );
        assert_eq!(km.lookup(Layer::Table, &key('O')), None);
        let e = Keymap::new(&BTreeMap::from([(
            "pivot".to_string(),
            vec!["j".to_string()],
        )]))
        .unwrap_err();
        assert!(matches!(e, KeymapError::Conflict { .. }), "{e}");
        assert!(matches!(
            Keymap::new(&BTreeMap::from([("nope".into(), vec![])])),
            Err(KeymapError::UnknownCommand(_))
        ));
        assert!(matches!(
            Keymap::new(&BTreeMap::from([("quit".into(), vec!["hyper-x".into()])])),
            Err(KeymapError::BadKey(_))
        ));
    }

    #[test]
    fn sequences_resolve_and_a_prefix_cannot_be_a_key_too() {
        let km = Keymap::new(&BTreeMap::new()).unwrap();
        assert!(km.is_prefix(Layer::Table, "g"));
        assert!(!km.is_prefix(Layer::Table, "j"));
        assert_eq!(km.lookup_name(Layer::Table, "g g"), Some(Action::Top));
        assert_eq!(km.lookup_name(Layer::Table, "g e"), Some(Action::Bottom));
        assert_eq!(km.lookup(Layer::Table, &key('g')), None);
        let after_g: Vec<String> = km
            .reachable(Layer::Table, Some("g"))
            .into_iter()
            .map(|(k, c)| format!("{k} {}", c.name))
            .collect();
        assert_eq!(after_g, ["g top", "e bottom"]);
        let e = Keymap::new(&BTreeMap::from([(
            "pivot".to_string(),
            vec!["g".to_string()],
        )]))
        .unwrap_err();
        assert!(
            matches!(&e, KeymapError::Conflict { key, .. } if key == "g"),
            "{e}"
        );
    }
}
