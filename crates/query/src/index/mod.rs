//! The in-memory, columnar index of the cached mail: what the console filters, counts,
//! pivots and sorts on every keystroke, and what `whalewatch query` answers from.
//!
//! ```text
//!  cache (SQLite) ──build──▶ EmailIndex ──eval(Filter)──▶ RowSet ──▶ count, facets,
//!   one scan per table        dictionary-encoded              frequency, histogram,
//!   (2 threads)               columns, bitsets,               sort, page, pivots,
//!                             side tables                     fuzzy search
//! ```
//!
//! - Strings are dictionary-encoded ([`column`]): each distinct value is stored once
//!   and each row holds a code of 1, 2 or 4 bytes. A string predicate runs once per
//!   distinct value, then the codes are scanned — that is what makes a filter over a
//!   million rows take a few milliseconds.
//! - Tag membership and per-row flags (clicked, zapped) are [`Bitset`]s; URLs,
//!   campaigns, alert evidence (per message) and attachments (per message and
//!   recipient) are side tables ([`side`]).
//! - SQLite stays the durable store: exports and the flyout read full rows from it by
//!   key ([`RowKey`]).
//!
//! **Refresh.** An index is immutable, shared as `Arc<EmailIndex>`. After a refresh
//! the caller builds a new index on a worker thread (a read-only connection reads a
//! consistent snapshot alongside the writer, thanks to WAL) and swaps the `Arc`;
//! readers keep using the old one until they ask again, so nothing blocks. Because
//! views address rows by [`RowKey`] (message id and recipient), never by row number,
//! a swap does not move the analyst's cursor ([`EmailIndex::page_around`]).

mod append;
pub mod bitset;
pub mod buf;
mod build;
pub mod column;
pub mod derived;
pub mod entities;
mod eval;
pub mod facets;
pub mod figures;
pub mod fuzzy;
pub mod order;
pub mod pivot;
mod remediation;
pub mod schema;
pub mod side;
mod store;
pub mod tags;
pub mod text;
pub mod urls;

use std::sync::{Arc, Mutex};

pub use bitset::Bitset;
pub use build::email_size;
pub use column::{IntColumn, StrColumn};
pub use facets::{
    BinTerm, Facet, FacetCounts, Frequency, FrequencyRow, Histogram, HistogramBucket, TopTab,
};
pub use fuzzy::{SearchField, SearchHit, SearchProgress};
pub use order::{Page, SortKey};
pub use pivot::Pivot;
pub use schema::Column;
pub use side::Side;
pub use tags::TagTable;

use crate::kql::CompileError;
use column::IntColumn as Ints;
use side::MessageRows;
use whalewatch_cache::{Cache, CacheError};
pub use whalewatch_model::email::RowKey;

/// A set of email rows: the result of a filter.
pub type RowSet = Bitset;

/// Why the index cannot be built or a filter cannot be evaluated. Callers branch on
/// `NotReady` (wait for the build), `Stale` (rebuild) and `Changing` (try again).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The cache could not be read.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The index is still being built; the view shows what it can meanwhile.
    #[error("the email index is still being built; the filter applies when it is ready")]
    NotReady,
    /// The cache was written after the index was built: rebuild it.
    #[error(
        "the cache changed since the email index was built (generation {built}, now {current}); it is being rebuilt"
    )]
    Stale {
        /// The cache generation the index was built from.
        built: u64,
        /// The cache's generation now.
        current: u64,
    },
    /// Every attempt to read a consistent snapshot met a refresh's commit.
    #[error("the cache kept changing while it was read; try again when the refresh ends")]
    Changing,
    /// A helper thread (a loader, half of a count) panicked: a bug. Nothing it
    /// computed is used, so no count silently misses half its rows.
    #[error(
        "a helper thread of the email index failed (a bug; please report it); its result is not shown"
    )]
    HelperPanicked,
    /// A column was not loaded by the build (a bug in its column groups).
    #[error("the index build left out the column {0}; report this bug")]
    MissingColumn(&'static str),
    /// The column file could not be written while it was brought up to date.
    #[error("the email index's column file cannot be written: {0}")]
    ColumnFile(#[from] std::io::Error),
    /// A filter names something the index cannot resolve (an unknown tag).
    #[error(transparent)]
    Filter(#[from] CompileError),
    /// A column name is not a column of the entity.
    #[error("`{column}` is not a column of {entity}{}", hint(.suggestion))]
    UnknownColumn {
        /// The entity.
        entity: &'static str,
        /// The name as given.
        column: String,
        /// The closest name.
        suggestion: Option<String>,
    },
}

/// Runs `a` here and `b` on a helper thread (the machine has two cores); a panic
/// in the helper is an error, never a half result.
pub(crate) fn on_two_cores<A, B: Send>(
    a: impl FnOnce() -> A,
    b: impl FnOnce() -> B + Send,
) -> Result<(A, B), IndexError> {
    std::thread::scope(|sc| {
        let h = sc.spawn(b);
        let a = a();
        let b = h.join().map_err(|_| IndexError::HelperPanicked)?;
        Ok((a, b))
    })
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map_or(String::new(), |s| format!(", did you mean `{s}`?"))
}

/// The email index. Build it with [`EmailIndex::build`]; share it as `Arc`.
#[derive(Debug)]
pub struct EmailIndex {
    rows: usize,
    time: buf::Buf<i64>,
    /// Every string and number column, loaded by the build: accessors do no I/O.
    strs: Vec<StrColumn>,
    ints: Vec<Ints>,
    /// The cache rowid of every row (how the column file finds a changed row).
    rowid: buf::Buf<i64>,
    /// The cache generation the index was built from ([`Cache::generation`]).
    generation: u64,
    /// The cache's mail log when the rows were read (`None`: a cache without one,
    /// whose column file can never be updated in place).
    log: Option<whalewatch_cache::MailLog>,
    msg_rows: MessageRows,
    side: Side,
    tags: TagTable,
    /// Per-tag row sets, computed on first use and kept (tags change only at a
    /// refresh, which builds a new index).
    tag_rows: Mutex<Vec<Option<Arc<Bitset>>>>,
    build_seconds: f64,
}

impl EmailIndex {
    /// Builds the index of every email in `cache` (see the module docs for timing).
    /// Most callers want [`EmailIndex::open`], which reuses the column file.
    pub fn build(cache: &Cache) -> Result<EmailIndex, IndexError> {
        build::build(cache)
    }

    /// The index of `cache`: its column file ([`EmailIndex::file_path`]) memory-mapped
    /// when that file is of the cache's generation and intact. A file of an older
    /// generation takes the rows added and changed since in place (a refresh's new
    /// mail, a post-delivery move) and is mapped then; one that cannot (rows were
    /// deleted, no room left, damaged, missing) is rebuilt from SQLite and written
    /// anew, then mapped. A file that cannot be written (a read-only directory)
    /// leaves the built index in memory. An old cache without a generation (0) is
    /// always built: its file could not be told stale.
    pub fn open(cache: &Cache) -> Result<EmailIndex, IndexError> {
        let _span = tracing::info_span!("index open").entered();
        let path = store::path_for(cache.path());
        let started = std::time::Instant::now();
        let seconds = || started.elapsed().as_secs_f64();
        let mapped = cache.snapshot(|c| -> Result<Option<EmailIndex>, IndexError> {
            let generation = c.generation()?;
            if generation == 0 {
                return Ok(None);
            }
            let opened = match store::peek(&path) {
                Ok(meta) if meta.generation == generation => store::load(&path),
                Ok(meta) => {
                    return match append::update(c, &path, generation, meta) {
                        Ok(Some(o)) => {
                            tracing::info!(from = meta.generation, to = generation, "column file brought up to date in place");
                            Ok(Some(EmailIndex::from_opened(o, TagTable::load(c)?, seconds())))
                        }
                        Ok(None) => Ok(None),
                        Err(e) => {
                            tracing::warn!(file = %path.display(), error = %e, "cannot bring the column file up to date; rebuilding it");
                            Ok(None)
                        }
                    };
                }
                Err(why) => Err(why),
            };
            match opened {
                Ok(o) if o.meta.generation == generation => {
                    Ok(Some(EmailIndex::from_opened(o, TagTable::load(c)?, seconds())))
                }
                // Replaced by another process in between: built here instead.
                Ok(_) => Ok(None),
                Err(why) => {
                    tracing::info!(file = %path.display(), %why, "rebuilding the email index");
                    Ok(None)
                }
            }
        })?;
        if let Some(ix) = mapped {
            tracing::info!(
                seconds = ix.build_seconds,
                rows = ix.rows,
                "column file mapped"
            );
            return Ok(ix);
        }
        let built = build::build(cache)?;
        if built.generation == 0 {
            return Ok(built);
        }
        // A process that read an older snapshot does not replace a newer file.
        if store::peek(&path).is_ok_and(|m| m.generation > built.generation) {
            return Ok(built);
        }
        if let Err(e) = built.save(&path) {
            tracing::warn!(file = %path.display(), error = %e, "cannot write the email index's column file; every process will rebuild the index until it can");
            return Ok(built);
        }
        // Reopened mapped: the built columns leave the heap for the page cache,
        // which other whalewatch processes share.
        match store::load(&path) {
            Ok(o) if o.meta.generation == built.generation => {
                Ok(EmailIndex::from_opened(o, built.tags.clone(), seconds()))
            }
            Ok(_) => Ok(built),
            Err(why) => {
                tracing::warn!(file = %path.display(), %why, "the column file just written does not read back; keeping the built index");
                Ok(built)
            }
        }
    }

    /// Where the column file of the cache at `cache` lives (beside it).
    pub fn file_path(cache: &std::path::Path) -> std::path::PathBuf {
        store::path_for(cache)
    }

    /// Writes this index as the column file `path` (atomically, owner-only).
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        store::save(
            &store::PartsRef {
                meta: store::Meta::new(self.generation, self.rows, self.log),
                time: &self.time,
                rowid: &self.rowid,
                strs: &self.strs,
                ints: &self.ints,
                msg_rows: &self.msg_rows,
                side: &self.side,
            },
            path,
        )
    }

    /// Whether the columns are views into a mapped column file (not heap).
    pub fn is_mapped(&self) -> bool {
        self.time.is_mapped()
    }

    fn from_opened(o: store::Opened, tags: TagTable, seconds: f64) -> EmailIndex {
        let p = o.parts;
        EmailIndex {
            rows: p.rows,
            time: p.time,
            rowid: p.rowid,
            strs: p.strs,
            ints: p.ints,
            generation: o.meta.generation,
            log: o.meta.log(),
            msg_rows: p.msg_rows,
            side: p.side,
            tags,
            tag_rows: Mutex::new(Vec::new()),
            build_seconds: seconds,
        }
    }

    /// Takes the column file's pages out of this process's resident set: they stay
    /// in the page cache (shared with other processes) and each comes back on its next
    /// read. Opening the file reads every page (the checksums), which leaves the whole
    /// file resident; a long-lived process (the console) calls this once it has
    /// computed what it derives from every row, so it keeps only the pages it reads
    /// afterwards. A built index (not mapped) has nothing to release.
    pub fn release_pages(&self) {
        if let Some(map) = self.time.map() {
            // SAFETY: `Mmap` is a read-only file mapping, never written: a dropped page
            // holds no change of its own and reads back from the file unchanged.
            if let Err(e) = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) } {
                tracing::debug!(error = %e, "the column file's pages stay resident");
            }
        }
    }

    /// Rows (message × recipient).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the index holds no mail.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Seconds the build (or the opening of the column file) took.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// Every row.
    pub fn all(&self) -> RowSet {
        Bitset::full(self.rows)
    }

    /// The tags the index resolves `tag:` and `is:priority` with.
    pub fn tags(&self) -> &TagTable {
        &self.tags
    }

    /// The side tables.
    pub fn side(&self) -> &Side {
        &self.side
    }

    /// A string column.
    pub fn str_column(&self, i: usize) -> &StrColumn {
        self.s(i)
    }

    /// A number column.
    pub fn int_column(&self, i: usize) -> &IntColumn {
        self.n(i)
    }

    /// The cache generation the index was built from.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `Ok` when the cache is still at the generation the index was built from;
    /// [`IndexError::Stale`] when it was written since (rebuild the index).
    pub fn check_current(&self, current: u64) -> Result<(), IndexError> {
        if current == self.generation {
            Ok(())
        } else {
            Err(IndexError::Stale {
                built: self.generation,
                current,
            })
        }
    }

    #[inline]
    pub(crate) fn s(&self, i: usize) -> &StrColumn {
        &self.strs[i]
    }

    #[inline]
    pub(crate) fn n(&self, i: usize) -> &Ints {
        &self.ints[i]
    }

    /// `Timestamp` of every row, in ticks (100 ns since the Unix epoch).
    pub fn times(&self) -> &[i64] {
        &self.time
    }

    /// The key of row `row`.
    pub fn key(&self, row: usize) -> RowKey {
        RowKey {
            network_message_id: self.s(schema::NMID).value(row).to_string(),
            recipient: self.s(schema::RECIPIENT).value(row).to_string(),
        }
    }

    /// The row with `key`, if it is indexed.
    pub fn row_of(&self, key: &RowKey) -> Option<usize> {
        let m = self.s(schema::NMID).dict.find(&key.network_message_id)?;
        self.msg_rows.of(m).iter().map(|&r| r as usize).find(|&r| {
            self.s(schema::RECIPIENT)
                .value(r)
                .eq_ignore_ascii_case(&key.recipient)
        })
    }

    /// The rows of the message with code `m`.
    pub fn message_rows(&self, m: u32) -> &[u32] {
        self.msg_rows.of(m)
    }

    /// The value of `column` at `row`, as text (numbers in decimal, times in RFC 3339;
    /// null as the empty string). Raw, untrusted text: sanitise before drawing.
    pub fn value(&self, column: Column, row: usize) -> String {
        match column {
            Column::Time => whalewatch_model::time::format_datetime(
                &whalewatch_model::hunting::from_ticks(self.time[row]),
            ),
            Column::Str(i) => self.s(i).value(row).to_string(),
            Column::Int(i) => self.n(i).get(row).map_or(String::new(), |v| v.to_string()),
            Column::RecipientDomain => {
                recipient_domain(self.s(schema::RECIPIENT).value(row)).to_string()
            }
        }
    }

    /// The column named `name` (a hunting column or a filter field name).
    pub fn column(&self, name: &str) -> Result<Column, IndexError> {
        Column::parse(name).ok_or_else(|| IndexError::UnknownColumn {
            entity: "emails",
            column: name.to_string(),
            suggestion: crate::lang::error::closest(name, Column::names()),
        })
    }

    /// The rows whose recipient is a member of the tag at display position `tag`.
    pub fn tag_rows(&self, tag: usize) -> Arc<Bitset> {
        if let Ok(g) = self.tag_rows.lock()
            && let Some(Some(b)) = g.get(tag)
        {
            return b.clone();
        }
        let rec = self.s(schema::RECIPIENT);
        let b = Arc::new(rec.select(|a| self.tags.is_member(tag, &text::fold(a))));
        if let Ok(mut g) = self.tag_rows.lock() {
            if g.len() <= tag {
                g.resize(tag + 1, None);
            }
            g[tag] = Some(b.clone());
        }
        b
    }

    /// Bytes the index holds on the heap (resident size, without allocator slack).
    pub fn heap_bytes(&self) -> usize {
        self.time.heap_bytes()
            + self.rowid.heap_bytes()
            + self.strs.iter().map(StrColumn::heap_bytes).sum::<usize>()
            + self.ints.iter().map(Ints::heap_bytes).sum::<usize>()
            + self.msg_rows.heap_bytes()
            + self.side.heap_bytes()
    }
}

/// The part of an address after its last `@` (the empty string when there is none).
pub fn recipient_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_helper_is_an_error_not_half_a_result() {
        let r = on_two_cores(|| 1, || -> u32 { panic!("helper bug") });
        assert!(matches!(r, Err(IndexError::HelperPanicked)), "{r:?}");
        assert_eq!(on_two_cores(|| 1, || 2).unwrap(), (1, 2));
    }
}
