//! Fuzzy search (`ctrl-p`): what the search overlay holds, and the worker that ranks
//! values on a thread.
//!
//! ```text
//!  keystroke ─▶ update: id += 1, Effect::Search{id, query} ─▶ worker thread
//!                                                              │ index.search(chunks)
//!  Msg::Search{id, progress} ◀── after each published chunk ───┘ stops when a newer
//!  (an older id is dropped)                                      id was started
//! ```
//!
//! Typing never waits for the search: each keystroke starts a new one and the
//! previous one stops at its next chunk (the worker compares its id with the newest).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use whalewatch_query::index::{EmailIndex, RowSet, SearchProgress};

/// Values scored between two checks for a newer query (and two publications).
pub const CHUNK: usize = 4096;
/// Hits kept and shown.
pub const LIMIT: usize = 100;

/// The search overlay's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// The newest search started; results of older ones are dropped.
    pub id: u64,
    /// What `progress` answers (the prompt may be ahead of it).
    pub query: String,
    /// The newest results of search `id`; `None` until the first chunk arrives.
    pub progress: Option<Arc<SearchProgress>>,
    /// The chosen hit.
    pub cursor: usize,
    /// The rows searched: the session's tag and time range (`None`: every row), so
    /// each hit's count is the row count its filter then shows.
    pub scope: Option<Arc<RowSet>>,
}

/// Runs search `id` for `query` over `scope` (every indexed row when `None`), sending
/// each published chunk through `send`; stops as soon as `newest` names a later
/// search. Blocking: call it on a worker thread.
pub fn run(
    index: &EmailIndex,
    scope: Option<&RowSet>,
    id: u64,
    query: &str,
    newest: &AtomicU64,
    send: &mut dyn FnMut(Arc<SearchProgress>),
) {
    if newest.load(Ordering::Relaxed) != id {
        return;
    }
    let all;
    let rows = match scope {
        Some(r) => r,
        None => {
            all = index.all();
            &all
        }
    };
    index.search(rows, query, LIMIT, CHUNK, &mut |p| {
        if newest.load(Ordering::Relaxed) != id {
            return ControlFlow::Break(());
        }
        send(Arc::new(p.clone()));
        ControlFlow::Continue(())
    });
}
