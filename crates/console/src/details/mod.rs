//! Loading a flyout's details: the row's cached data from SQLite (by key) and from
//! the snapshot, arranged into sections. Runs on a worker thread; the result comes
//! back to `update` as a message.

mod account;
mod alert;
mod campaign;
mod email;
#[cfg(test)]
mod figures_tests;
mod incident;
mod lookalike;
mod posture;

use std::path::Path;

use super::data::Snapshot;
use super::detail::{Detail, Section};
use super::state::FlyoutKind;
use super::update::note_id;
use whalewatch_cache::Cache;
use whalewatch_cache::NoteTarget;

/// Why details could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetailError {
    #[error(transparent)]
    Cache(#[from] whalewatch_cache::CacheError),
    #[error("{0} is no longer in the cache (a refresh removed it)")]
    Gone(String),
    /// The email index could not answer (an unknown tag narrows the view).
    #[error(transparent)]
    Index(#[from] whalewatch_query::index::IndexError),
}

/// The details of the item `key` names.
pub fn load(
    path: &Path,
    data: &Snapshot,
    kind: &FlyoutKind,
    key: &str,
) -> Result<Detail, DetailError> {
    let cache = Cache::open_read_only(path)?;
    let mut detail = match kind {
        FlyoutKind::Email => email::load(&cache, data, key),
        FlyoutKind::Alert => alert::load(&cache, data, key),
        FlyoutKind::Campaign => campaign::load(data, key),
        FlyoutKind::Account => account::load(data, key),
        FlyoutKind::Posture => posture::account(data, key),
        FlyoutKind::Checklist => return Ok(posture::checklist(data)),
        FlyoutKind::SignIn => return posture::sign_in(data, key),
        FlyoutKind::Incident => return incident::load(&cache, data, key),
    }?;
    let target = match kind {
        FlyoutKind::Email => NoteTarget::Email,
        FlyoutKind::Alert => NoteTarget::Alert,
        FlyoutKind::Campaign => NoteTarget::Campaign,
        FlyoutKind::Account | FlyoutKind::Posture => NoteTarget::User,
        FlyoutKind::Checklist | FlyoutKind::SignIn | FlyoutKind::Incident => return Ok(detail),
    };
    let notes = cache.notes_for(target, &note_id(target, key))?;
    let mut s = Section::new(&format!("Notes ({}) · n adds one", notes.len()));
    for n in &notes {
        let when = chrono::DateTime::from_timestamp_millis(n.created)
            .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string());
        s.line(&format!("{when} {}", n.analyst), n.text.clone());
    }
    detail.sections.push(s);
    Ok(detail)
}

/// "3 × a, 2 × b" for the top `n` of `counts`, largest first.
pub(crate) fn top(
    counts: std::collections::HashMap<String, usize>,
    n: usize,
) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}
