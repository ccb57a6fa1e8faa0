//! Per-profile console choices that outlive a session: the email grid's columns, in
//! order, and the saved views (`:save NAME`). Kept beside the cache (owner-only),
//! never in the analyst's config file, so the console never rewrites a hand-edited
//! config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::action::Pane;
use super::panes::emails;
use super::state::{State, View};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    #[serde(default)]
    email_columns: Vec<String>,
    /// Saved views by name.
    #[serde(default)]
    views: BTreeMap<String, SavedView>,
}

/// A view as `:save NAME` stores it: everything the view line says.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SavedView {
    /// The pane's name (`emails`).
    pub pane: String,
    /// The filter as the analyst wrote it.
    #[serde(default)]
    pub filter: String,
    /// Threat Explorer's view of the email grid (`Phish`); empty: all email.
    #[serde(default)]
    pub mail_view: String,
    /// The tag every pane was narrowed to.
    #[serde(default)]
    pub tag: Option<String>,
    /// The sorted column's title and direction (`Subject desc`).
    #[serde(default)]
    pub sort: Option<String>,
    /// The grid's columns, by title, in order.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The time range as `:range` reads it (`7d`, `A..B`, `all`).
    #[serde(default)]
    pub range: String,
}

/// The saved views of a profile (none when the file is missing).
pub fn saved_views(path: &Path) -> Result<BTreeMap<String, SavedView>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str::<Settings>(&text)
            .map(|s| s.views)
            .map_err(|e| format!("cannot read the saved views in {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Saves (or replaces) the view `name`.
pub fn save_view(path: &Path, name: &str, view: &SavedView) -> std::io::Result<()> {
    let mut s = read_for_update(path)?;
    s.views.insert(name.to_string(), view.clone());
    write(path, &s)
}

/// The settings to change: none yet when the file is missing; a file that does not
/// parse is an error, never silently replaced (it may hold saved views).
fn read_for_update(path: &Path) -> std::io::Result<Settings> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} does not parse ({e}); fix or remove it", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(e) => Err(e),
    }
}

fn write(path: &Path, s: &Settings) -> std::io::Result<()> {
    let text = toml::to_string(s).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        whalewatch_config::paths::create_private_dir(dir)?;
    }
    whalewatch_config::paths::write_private(path, text.as_bytes()).map_err(std::io::Error::other)
}

/// Where a profile's console settings live.
pub fn path(cache_dir: &Path, profile: &str) -> PathBuf {
    cache_dir.join(format!("{profile}.console.toml"))
}

fn read(path: &Path) -> Option<Settings> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str(&text).ok()
}

/// Applies saved settings to a new state. Unknown column names are skipped; a
/// broken file is ignored (the defaults are always a valid console).
pub fn apply(state: &mut State, path: &Path) {
    let Some(s) = read(path) else { return };
    state.saved_views = s.views.clone();
    let cols: Vec<_> = s
        .email_columns
        .iter()
        .filter_map(|t| emails::by_title(t))
        .collect();
    if cols.is_empty() {
        return;
    }
    for g in state.panes.iter_mut().filter(|g| g.pane == Pane::Emails) {
        g.columns = cols.clone();
    }
    for v in &mut state.views {
        if let View::Grid(g) = v
            && g.pane == Pane::Emails
        {
            g.columns = cols.clone();
        }
    }
}

/// Saves the email grid's columns.
pub fn save_columns(path: &Path, titles: &[String]) -> std::io::Result<()> {
    let mut s = read_for_update(path)?;
    s.email_columns = titles.to_vec();
    write(path, &s)
}
