//! Loading a flyout's details: the row's cached data from SQLite (by key) and from
//! the snapshot, arranged into sections. Runs on a worker thread; the result comes
//! back to `update` as a message.

mod account;
mod alert;
mod campaign;
mod email;
mod lookalike;

use std::path::Path;

use super::data::Snapshot;
use super::detail::Detail;
use super::state::FlyoutKind;
use crate::cache::Cache;

/// Why details could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetailError {
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error("{0} is no longer in the cache (a refresh removed it)")]
    Gone(String),
}

/// The details of the item `key` names.
pub fn load(
    path: &Path,
    data: &Snapshot,
    kind: &FlyoutKind,
    key: &str,
) -> Result<Detail, DetailError> {
    let cache = Cache::open_read_only(path)?;
    match kind {
        FlyoutKind::Email => email::load(&cache, data, key),
        FlyoutKind::Alert => alert::load(data, key),
        FlyoutKind::Campaign => campaign::load(&cache, data, key),
        FlyoutKind::Account => account::load(data, key),
    }
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
