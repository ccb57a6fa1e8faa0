//! Per-profile console choices that outlive a session: the email grid's columns, in
//! order. Kept beside the cache (owner-only), never in the analyst's config file,
//! so the console never rewrites a hand-edited config.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::action::Pane;
use super::panes::emails;
use super::state::{State, View};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    #[serde(default)]
    email_columns: Vec<String>,
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
    let mut s = read(path).unwrap_or_default();
    s.email_columns = titles.to_vec();
    let text = toml::to_string(&s).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        whalewatch_config::paths::create_private_dir(dir)?;
    }
    whalewatch_config::paths::write_private(path, text.as_bytes()).map_err(std::io::Error::other)
}
