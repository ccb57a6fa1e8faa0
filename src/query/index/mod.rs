//! The in-memory, columnar index of the cached mail: what the console filters, counts,
//! pivots and sorts on every keystroke, and what `whalewatch query` answers from.
//!
//! ```text
//!  cache (SQLite) ──build──▶ EmailIndex ──eval(Filter)──▶ RowSet ──▶ count, facets,
//!   one SELECT per table      dictionary-encoded              frequency, histogram,
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

pub mod bitset;
mod build;
pub mod column;
pub mod entities;
mod eval;
pub mod facets;
pub mod fuzzy;
pub mod order;
pub mod pivot;
pub mod schema;
pub mod side;
pub mod tags;
pub mod text;

use std::sync::{Arc, Mutex, OnceLock};

pub use bitset::Bitset;
pub use build::email_size;
pub use column::{IntColumn, StrColumn};
pub use facets::{Facet, FacetCounts, Frequency, FrequencyRow, Histogram, HistogramBucket};
pub use fuzzy::{FuzzyHit, FuzzyProgress};
pub use order::{Page, SortKey};
pub use pivot::Pivot;
pub use schema::Column;
pub use side::Side;
pub use tags::TagTable;

use crate::cache::{Cache, CacheError};
use crate::query::kql::CompileError;
use column::IntColumn as Ints;
use side::MessageRows;

/// A set of email rows: the result of a filter.
pub type RowSet = Bitset;

/// Why the index cannot be built or a filter cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The cache could not be read.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The cache could not be read.
    #[error("reading the cache failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// Loading failed for another reason.
    #[error("{0}")]
    Load(String),
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

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map_or(String::new(), |s| format!(", did you mean `{s}`?"))
}

/// Identifies an email row across refreshes: `NetworkMessageId` and the recipient.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// `NetworkMessageId`.
    pub network_message_id: String,
    /// `RecipientEmailAddress`.
    pub recipient: String,
}

/// The email index. Build it with [`EmailIndex::build`]; share it as `Arc`.
#[derive(Debug)]
pub struct EmailIndex {
    rows: usize,
    time: Vec<i64>,
    /// String columns: the filtered ones are loaded by the build, the others on first
    /// use ([`EmailIndex::ensure`]).
    strs: Vec<OnceLock<StrColumn>>,
    ints: Vec<OnceLock<Ints>>,
    /// Where the index was built from, for columns loaded on first use.
    source: build::Source,
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
    pub fn build(cache: &Cache) -> Result<EmailIndex, IndexError> {
        build::build(cache)
    }

    /// Rows (message × recipient).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the index holds no mail.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Seconds the build took.
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

    /// A string column (loaded now if it was not).
    pub fn str_column(&self, i: usize) -> &StrColumn {
        self.s(i)
    }

    /// A number column (loaded now if it was not).
    pub fn int_column(&self, i: usize) -> &IntColumn {
        self.n(i)
    }

    /// Loads `column` if the build left it for later (columns no filter uses, such as
    /// `ThreatNames`, are read from the cache the first time a frequency table, sort or
    /// split asks for them). Fails when the cache changed since the build.
    pub fn ensure(&self, column: Column) -> Result<(), IndexError> {
        match column {
            Column::Str(i) if self.strs[i].get().is_none() => {
                let c = build::load_str(&self.source, i, self.rows)?;
                let _ = self.strs[i].set(c);
            }
            Column::Int(i) if self.ints[i].get().is_none() => {
                let c = build::load_int(&self.source, i, self.rows)?;
                let _ = self.ints[i].set(c);
            }
            _ => {}
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn s(&self, i: usize) -> &StrColumn {
        self.strs[i].get_or_init(|| {
            build::load_str(&self.source, i, self.rows)
                .unwrap_or_else(|_| build::empty_str(self.rows))
        })
    }

    #[inline]
    pub(crate) fn n(&self, i: usize) -> &Ints {
        self.ints[i].get_or_init(|| {
            build::load_int(&self.source, i, self.rows)
                .unwrap_or_else(|_| Ints::Narrow(vec![i32::MIN; self.rows]))
        })
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
        self.msg_rows
            .of(m)
            .iter()
            .map(|&r| r as usize)
            .find(|&r| self.s(schema::RECIPIENT).value(r) == key.recipient)
    }

    /// The rows of the message with code `m`.
    pub fn message_rows(&self, m: u32) -> &[u32] {
        self.msg_rows.of(m)
    }

    /// The value of `column` at `row`, as text (numbers in decimal, times in RFC 3339;
    /// null as the empty string). Raw, untrusted text: sanitise before drawing.
    pub fn value(&self, column: Column, row: usize) -> String {
        match column {
            Column::Time => crate::model::time::format_datetime(
                &crate::model::hunting::from_ticks(self.time[row]),
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
            suggestion: crate::query::lang::error::closest(name, Column::names()),
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
        self.time.capacity() * 8
            + self
                .strs
                .iter()
                .filter_map(OnceLock::get)
                .map(StrColumn::heap_bytes)
                .sum::<usize>()
            + self
                .ints
                .iter()
                .filter_map(OnceLock::get)
                .map(Ints::heap_bytes)
                .sum::<usize>()
            + self.msg_rows.heap_bytes()
            + self.side.heap_bytes()
    }
}

/// The part of an address after its last `@` (the empty string when there is none).
pub fn recipient_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}
