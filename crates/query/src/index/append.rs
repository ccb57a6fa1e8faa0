//! Bringing a column file up to date in place: the rows a refresh added (rowids
//! above the file's largest) are appended to every row array, the rows changed in
//! place since (the cache's mail log) are patched into copies of the arrays whose
//! values they change, and the message rows, side tables and flags — which new
//! mail anywhere can change — are read again whole. The file's layout and crash
//! safety are [`super::store`]'s; this module computes the new state.
//!
//! New values get the next codes of each dictionary, in the order a full build
//! meets them, so an appended index answers every question as a rebuilt one does
//! (`tests/index_file.rs` compares them). It declines — the caller rebuilds — when
//! rows were deleted since the file (row numbers would shift), when a dictionary
//! outgrows its code width or a number its width, or when the file has no room.

use std::path::Path;

use whalewatch_cache::{Cache, MailLog};

use super::IndexError;
use super::buf::Buf;
use super::build::{self, Load, Scan};
use super::column::{Codes, Dict, FxMap, IntColumn, StrBuilder, StrColumn};
use super::schema::{self, INT_COLUMNS, STR_COLUMNS};
use super::side::MessageRows;
use super::store::{self, CodesPiece, IntPiece, Meta, Opened, Piece, StrPiece, Update};

/// The file at `path` (whose header says `meta`) brought to cache generation
/// `generation`, or `None` when it cannot be (see the module docs). Runs inside the
/// caller's snapshot of `cache`; holds the file's lock while it writes.
pub(super) fn update(
    cache: &Cache,
    path: &Path,
    generation: u64,
    meta: Meta,
) -> Result<Option<Opened>, IndexError> {
    let Some(log) = cache.mail_log()? else {
        return Ok(None);
    };
    if !possible(&meta, &log) {
        tracing::info!(
            "rows were deleted since the column file was written (or it predates the cache's mail log); rebuilding it"
        );
        return Ok(None);
    }
    let (file, current) = match store::open_for_update(path) {
        Ok(x) => x,
        Err(why) => {
            tracing::info!(file = %path.display(), %why, "rebuilding the email index");
            return Ok(None);
        }
    };
    // Another process may have brought it up to date while this one waited.
    if current.meta.generation == generation {
        return Ok(Some(current));
    }
    if !possible(&current.meta, &log) {
        return Ok(None);
    }
    let Some(next) = State::read(cache, &current, generation, log)? else {
        tracing::info!("the new rows do not fit the column file's widths; rebuilding it");
        return Ok(None);
    };
    if !store::append(&file, &current, next.update())? {
        tracing::info!(
            "the column file has no room left (or more garbage than data); rewriting it"
        );
        return Ok(None);
    }
    match store::load_file(&file) {
        Ok(o) => Ok(Some(o)),
        Err(why) => {
            tracing::warn!(file = %path.display(), %why, "the column file just updated does not read back; rebuilding it");
            Ok(None)
        }
    }
}

/// Whether the rows of a file at `meta` are still the cache's first rows, unchanged
/// but for the logged changes: no row deleted since, the log only grew, and what it
/// logged since the file is still there (not trimmed).
fn possible(meta: &Meta, log: &MailLog) -> bool {
    meta.log().is_some_and(|m| {
        m.deletes == log.deletes
            && m.changes >= log.trimmed
            && m.changes <= log.changes
            && m.max_row <= log.max_row
    })
}

/// One array of the new state: the old one plus a tail, or a whole new one.
enum Owned<T> {
    Tail(Vec<T>),
    Whole(Vec<T>),
}

impl<T: super::buf::Plain + PartialEq> Owned<T> {
    /// `old` with the loaded `values` applied: the first `rows.len()` of them are the
    /// new values of those rows, the rest come after the old ones. A tail when no
    /// row's value changes.
    fn new(old: &[T], rows: &[usize], values: &[T]) -> Owned<T> {
        let (changed, tail) = values.split_at(rows.len());
        if rows.iter().zip(changed).all(|(&r, v)| old[r] == *v) {
            return Owned::Tail(tail.to_vec());
        }
        let mut whole = Vec::with_capacity(old.len() + tail.len());
        whole.extend_from_slice(old);
        for (&r, &v) in rows.iter().zip(changed) {
            whole[r] = v;
        }
        whole.extend_from_slice(tail);
        Owned::Whole(whole)
    }

    fn piece(&self) -> Piece<'_, T> {
        match self {
            Owned::Tail(v) => Piece::Tail(v),
            Owned::Whole(v) => Piece::Whole(v),
        }
    }
}

enum OwnedCodes {
    U8(Owned<u8>),
    U16(Owned<u16>),
    U32(Owned<u32>),
}

enum OwnedInts {
    Narrow(Owned<i32>),
    Wide(Owned<i64>),
}

struct OwnedStr {
    bytes: Vec<u8>,
    ends: Vec<u32>,
    codes: OwnedCodes,
}

/// The new state, computed before anything is written.
struct State {
    meta: Meta,
    time: Owned<i64>,
    rowid: Vec<i64>,
    strs: Vec<OwnedStr>,
    ints: Vec<OwnedInts>,
    msg_rows: MessageRows,
    side: super::side::Side,
}

impl State {
    fn update(&self) -> Update<'_> {
        Update {
            meta: self.meta,
            time: self.time.piece(),
            rowid: Piece::Tail(&self.rowid),
            strs: self
                .strs
                .iter()
                .map(|c| StrPiece {
                    bytes: Piece::Tail(&c.bytes),
                    ends: Piece::Tail(&c.ends),
                    codes: match &c.codes {
                        OwnedCodes::U8(o) => CodesPiece::U8(o.piece()),
                        OwnedCodes::U16(o) => CodesPiece::U16(o.piece()),
                        OwnedCodes::U32(o) => CodesPiece::U32(o.piece()),
                    },
                })
                .collect(),
            ints: self
                .ints
                .iter()
                .map(|c| match c {
                    OwnedInts::Narrow(o) => IntPiece::Narrow(o.piece()),
                    OwnedInts::Wide(o) => IntPiece::Wide(o.piece()),
                })
                .collect(),
            msg_rows: &self.msg_rows,
            side: &self.side,
        }
    }

    /// Reads the added and changed rows and computes the new state; `None` when a
    /// value does not fit the file's widths.
    fn read(
        cache: &Cache,
        current: &Opened,
        generation: u64,
        log: MailLog,
    ) -> Result<Option<State>, IndexError> {
        let old = &current.parts;
        let changed: Vec<i64> = cache
            .rows_changed_after(current.meta.changes, log.changes)?
            .into_iter()
            .filter(|&id| id <= current.meta.max_row)
            .collect();
        let all: Vec<Load> = build::groups().concat();
        let loaded = build::load_group(
            cache,
            &all,
            &[Scan::Rows(&changed), Scan::After(current.meta.max_row)],
        )?;
        // Which loaded rows are changed rows (and which row each is), which new.
        let mut patched: Vec<usize> = Vec::new();
        for &id in &loaded.rowid {
            if id > current.meta.max_row {
                break;
            }
            match old.rowid.binary_search(&id) {
                Ok(r) => patched.push(r),
                // A logged row the file does not hold: not the file's rows after all.
                Err(_) => return Ok(None),
            }
        }
        let k = patched.len();
        let rows = old.rows + loaded.rows - k;
        let time = Owned::new(&old.time, &patched, &loaded.time);

        let mut strs: Vec<Option<OwnedStr>> = (0..STR_COLUMNS.len()).map(|_| None).collect();
        let mut nmid_new: Vec<String> = Vec::new();
        let mut nmid_codes: Vec<u32> = Vec::new();
        let mut recipient: Option<StrColumn> = None;
        for (i, b) in &loaded.strs {
            let col = &old.strs[*i];
            let Some((bytes, ends, codes)) = encode(&col.dict, b) else {
                return Ok(None);
            };
            let fits = |width: usize| col.dict.len() + ends.len() <= width;
            // The casts keep every code: the dictionary's new size fits the width.
            let owned = match &col.codes {
                Codes::U8(v) if fits(1 << 8) => OwnedCodes::U8(Owned::new(
                    v,
                    &patched,
                    &codes.iter().map(|&c| c as u8).collect::<Vec<_>>(),
                )),
                Codes::U16(v) if fits(1 << 16) => OwnedCodes::U16(Owned::new(
                    v,
                    &patched,
                    &codes.iter().map(|&c| c as u16).collect::<Vec<_>>(),
                )),
                Codes::U32(v) => OwnedCodes::U32(Owned::new(v, &patched, &codes)),
                _ => return Ok(None),
            };
            if *i == schema::NMID || *i == schema::RECIPIENT {
                // Every row's code (the side tables are read against them).
                let mut all = Vec::with_capacity(rows);
                all.extend((0..old.rows).map(|r| col.codes.get(r)));
                for (&r, &c) in patched.iter().zip(&codes) {
                    all[r] = c;
                }
                all.extend_from_slice(&codes[k..]);
                if *i == schema::NMID {
                    nmid_codes = all;
                    nmid_new = (0..ends.len())
                        .map(|j| value_at(&bytes, &ends, col.dict.parts().0.len(), j))
                        .collect();
                } else {
                    let Some(c) = joined(&col.dict, &bytes, &ends, all) else {
                        return Ok(None);
                    };
                    recipient = Some(c);
                }
            }
            strs[*i] = Some(OwnedStr {
                bytes,
                ends,
                codes: owned,
            });
        }
        let mut ints: Vec<Option<OwnedInts>> = (0..INT_COLUMNS.len()).map(|_| None).collect();
        for (i, values) in &loaded.ints {
            ints[*i] = Some(match &old.ints[*i] {
                IntColumn::Narrow(v) => {
                    let Some(narrow) = values
                        .iter()
                        .map(|&x| IntColumn::narrow_value(x))
                        .collect::<Option<Vec<_>>>()
                    else {
                        return Ok(None);
                    };
                    OwnedInts::Narrow(Owned::new(v, &patched, &narrow))
                }
                IntColumn::Wide(v) => {
                    let wide: Vec<i64> = values.iter().map(|&x| IntColumn::wide_value(x)).collect();
                    OwnedInts::Wide(Owned::new(v, &patched, &wide))
                }
            });
        }
        let (Some(strs), Some(ints), Some(recipient)) = (
            strs.into_iter().collect::<Option<Vec<_>>>(),
            ints.into_iter().collect::<Option<Vec<_>>>(),
            recipient,
        ) else {
            return Err(IndexError::MissingColumn("a column of the update"));
        };

        // Message codes: the file's, then the new ones.
        let nmid = &old.strs[schema::NMID].dict;
        let messages = nmid.len() + nmid_new.len();
        let mut lookup: FxMap<&str, u32> =
            FxMap::with_capacity_and_hasher(messages, Default::default());
        for (c, v) in nmid.iter() {
            lookup.insert(v, c);
        }
        for (j, v) in nmid_new.iter().enumerate() {
            lookup.insert(v, (nmid.len() + j) as u32);
        }
        let msg_rows = MessageRows::build(messages, |r| nmid_codes[r], rows);
        let side = build::load_side(
            cache,
            rows,
            &|s: &str| lookup.get(s).copied(),
            &msg_rows,
            &recipient,
        )?;
        Ok(Some(State {
            meta: Meta::new(generation, rows, Some(log)),
            time,
            rowid: loaded.rowid[k..].to_vec(),
            strs,
            ints,
            msg_rows,
            side,
        }))
    }
}

/// The codes of a builder's rows against `dict` (the file's dictionary): the
/// file's code where it holds the value, else the next new codes in the order the
/// rows meet them. Returns the new values' bytes and ends (ends continue the
/// file's arena) and one code per row; `None` when the arena would pass 4 GiB.
fn encode(dict: &Dict, b: &StrBuilder) -> Option<(Vec<u8>, Vec<u32>, Vec<u32>)> {
    let m = b.distinct();
    let mut code = vec![u32::MAX; m];
    let mut found = 0;
    if m > 0 {
        for (c, v) in dict.iter() {
            if let Some(t) = b.lookup(v) {
                let t = t as usize;
                if code[t] == u32::MAX {
                    code[t] = c;
                    found += 1;
                    if found == m {
                        break;
                    }
                }
            }
        }
    }
    let base = dict.parts().0.len();
    let (mut bytes, mut ends) = (Vec::new(), Vec::new());
    for (t, c) in code.iter_mut().enumerate() {
        if *c == u32::MAX {
            *c = (dict.len() + ends.len()) as u32;
            bytes.extend_from_slice(b.value(t as u32).as_bytes());
            ends.push(u32::try_from(base + bytes.len()).ok()?);
        }
    }
    Some((
        bytes,
        ends,
        b.codes().iter().map(|&t| code[t as usize]).collect(),
    ))
}

/// New value `j` of an update (`bytes`/`ends` continue an arena of `base` bytes).
fn value_at(bytes: &[u8], ends: &[u32], base: usize, j: usize) -> String {
    let start = if j == 0 { base } else { ends[j - 1] as usize };
    String::from_utf8_lossy(&bytes[start - base..ends[j] as usize - base]).into_owned()
}

/// `dict` extended by the new values, with the codes of every row.
fn joined(dict: &Dict, bytes: &[u8], ends: &[u32], codes: Vec<u32>) -> Option<StrColumn> {
    let (old_bytes, old_ends) = dict.parts();
    let mut all_bytes = old_bytes.to_vec();
    all_bytes.extend_from_slice(bytes);
    let mut all_ends = old_ends.to_vec();
    all_ends.extend_from_slice(ends);
    let dict = Dict::from_parts(Buf::from(all_bytes), Buf::from(all_ends))?;
    Some(StrColumn {
        dict,
        codes: Codes::U32(Buf::from(codes)),
    })
}
