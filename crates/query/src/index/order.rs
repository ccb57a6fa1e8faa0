//! Sorting a result on any column and paging through it, by offset or around a row
//! key — the key survives a refresh (row numbers do not), so the cursor stays put.

use serde::Serialize;

use super::schema::{self as s, Column};
use super::{EmailIndex, IndexError, RowKey, RowSet, recipient_domain};

/// A sort order: a column, ascending or descending. Ties keep cache order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The column.
    pub column: Column,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// Newest first: the default order of every mail view.
    pub const NEWEST: SortKey = SortKey {
        column: Column::Time,
        descending: true,
    };

    /// `COLUMN` or `COLUMN:desc` / `COLUMN:asc`.
    pub fn parse(index: &EmailIndex, text: &str) -> Result<SortKey, IndexError> {
        let (name, dir) = match text.rsplit_once(':') {
            Some((n, d)) if d.eq_ignore_ascii_case("desc") => (n, true),
            Some((n, d)) if d.eq_ignore_ascii_case("asc") => (n, false),
            _ => (text, false),
        };
        Ok(SortKey {
            column: index.column(name)?,
            descending: dir,
        })
    }
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Position of the first row in the ordered result.
    pub offset: usize,
    /// Rows in the ordered result.
    pub total: usize,
    /// Row ids, in order.
    pub rows: Vec<u32>,
    /// For [`EmailIndex::page_around`]: the row the anchor names is on the page.
    pub anchor: Option<usize>,
}

/// The rank of each dictionary value in case-insensitive order (then bytewise).
fn ranks(dict: &super::column::Dict) -> Vec<u32> {
    let mut codes: Vec<u32> = (0..dict.len() as u32).collect();
    let keys: Vec<String> = dict.iter().map(|(_, v)| v.to_lowercase()).collect();
    codes.sort_unstable_by(|a, b| {
        keys[*a as usize]
            .cmp(&keys[*b as usize])
            .then_with(|| dict.get(*a).cmp(dict.get(*b)))
    });
    let mut rank = vec![0u32; dict.len()];
    for (r, c) in codes.into_iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    rank
}

impl EmailIndex {
    /// A sortable 64-bit key per row of `rows` (row id in the low bits for ties).
    fn sort_keys(&self, rows: &RowSet, key: SortKey) -> Vec<(u64, u32)> {
        let flip = |k: u64| if key.descending { !k } else { k };
        let mut out = Vec::with_capacity(rows.count());
        match key.column {
            Column::Time => rows.for_each(|r| {
                out.push((flip((self.time[r] as u64) ^ (1 << 63)), r as u32));
            }),
            Column::Int(i) => {
                let col = self.n(i);
                // Nulls last either way.
                rows.for_each(|r| {
                    let k = match col.get(r) {
                        Some(v) => flip((v as u64) ^ (1 << 63)),
                        None => u64::MAX,
                    };
                    out.push((k, r as u32));
                });
            }
            Column::Str(i) => {
                let col = self.s(i);
                let rank = ranks(&col.dict);
                rows.for_each(|r| {
                    out.push((flip(u64::from(rank[col.codes.get(r) as usize])), r as u32))
                });
            }
            Column::RecipientDomain => {
                let col = self.s(s::RECIPIENT);
                let mut doms: Vec<(String, u32)> = col
                    .dict
                    .iter()
                    .map(|(c, v)| (recipient_domain(v).to_lowercase(), c))
                    .collect();
                doms.sort();
                let mut rank = vec![0u32; doms.len()];
                for (i, (_, c)) in doms.iter().enumerate() {
                    rank[*c as usize] = i as u32;
                }
                rows.for_each(|r| {
                    out.push((flip(u64::from(rank[col.codes.get(r) as usize])), r as u32))
                });
            }
        }
        out
    }

    /// Every row of `rows` in `key` order.
    pub fn sorted(&self, rows: &RowSet, key: SortKey) -> Vec<u32> {
        if key.column == Column::Time && self.time.is_sorted() {
            return self.sorted_by_sorted_time(rows, key.descending);
        }
        let mut k = self.sort_keys(rows, key);
        k.sort_unstable();
        k.into_iter().map(|(_, r)| r).collect()
    }

    /// [`EmailIndex::sorted`] by time when the rows are stored in time order (the
    /// cache appends mail as time goes): no sort, one pass. Ties keep ascending row
    /// order either way, as the sort's row-id tie-break does.
    fn sorted_by_sorted_time(&self, rows: &RowSet, descending: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(rows.count());
        rows.for_each(|r| out.push(r as u32));
        if descending {
            out.reverse();
            // Runs of equal times are now in descending row order: turn each back.
            let t = |r: u32| self.time[r as usize];
            let mut start = 0;
            while start < out.len() {
                let mut end = start + 1;
                while end < out.len() && t(out[end]) == t(out[start]) {
                    end += 1;
                }
                out[start..end].reverse();
                start = end;
            }
        }
        out
    }

    /// The first `n` rows of `rows` in `key` order, without sorting the rest.
    pub fn top(&self, rows: &RowSet, key: SortKey, n: usize) -> Vec<u32> {
        let mut k = self.sort_keys(rows, key);
        if n < k.len() {
            k.select_nth_unstable(n);
            k.truncate(n);
        }
        k.sort_unstable();
        k.into_iter().map(|(_, r)| r).collect()
    }

    /// `len` rows of `order` from `offset`.
    pub fn page(&self, order: &[u32], offset: usize, len: usize) -> Page {
        let offset = offset.min(order.len());
        let end = (offset + len).min(order.len());
        Page {
            offset,
            total: order.len(),
            rows: order[offset..end].to_vec(),
            anchor: None,
        }
    }

    /// The page of `order` holding the row `anchor` names, with up to `before` rows
    /// above it and `after` below. When the anchor is gone (the row left the result),
    /// the page starts at `fallback` (the cursor's old offset).
    pub fn page_around(
        &self,
        order: &[u32],
        anchor: &RowKey,
        before: usize,
        after: usize,
        fallback: usize,
    ) -> Page {
        let at = self
            .row_of(anchor)
            .and_then(|r| order.iter().position(|&x| x as usize == r));
        match at {
            Some(at) => {
                let offset = at.saturating_sub(before);
                let mut p = self.page(order, offset, (at - offset) + 1 + after);
                p.anchor = Some(at);
                p
            }
            None => self.page(order, fallback, before + 1 + after),
        }
    }
}
