//! The index's column file: every big array of an [`EmailIndex`] written next to the
//! cache (`<cache>.email-index`), so a process opens it memory-mapped in milliseconds
//! instead of rebuilding the index from SQLite in seconds, and a refresh adds its
//! new and changed rows to it instead of rewriting it.
//!
//! ```text
//!  0    two header slots (128 bytes each): magic, format version, byte order,
//!       schema checksum, a sequence number, the cache generation and change-log
//!       position the file holds, rows, where the table of contents is, its
//!       CRC-32, the slot's own CRC-32. The valid slot with the higher sequence
//!       is the file's state.
//!  256  sections, each 64-byte aligned: one array of plain numbers each (time,
//!       rowids, dictionary arenas and ends, row codes, numbers, message rows,
//!       side tables, flags). The arrays that grow with the rows are followed by
//!       room to grow (a hole in the file: no disk, no page cache until written).
//!  ...  table of contents of the current state: per section offset, length,
//!       room, element type, CRC-32.
//! ```
//!
//! The file is derived data: SQLite stays the truth. It is used only when its
//! version, schema and byte order are this build's, its generation is the cache's,
//! and every section's CRC-32 matches; otherwise the caller brings it up to date
//! (see [`append`]) or rebuilds it from SQLite. A full write goes to a temporary
//! file that replaces the old one by rename once complete and synced. An update
//! ([`append`]) never changes a byte that the current state covers: it writes
//! new rows into the room after each growing array, and every other changed array
//! and a new table of contents after the current end, syncs, then writes the other
//! header slot and syncs again. A killed process leaves the old state or the new
//! one, and a process that mapped the file earlier keeps reading the state it
//! mapped. Superseded arrays stay as garbage until a full write pays (more garbage
//! than live data, or no room left).
//!
//! A custom layout, not Arrow IPC: the index is not one table (side tables, message
//! rows and dictionaries have their own lengths) and the mapped arrays are exactly
//! the slices the evaluator scans, with no conversion and no new dependency tree to
//! compile. Exports for other tools stay `whalewatch query … --format csv`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Advice, Mmap, MmapOptions};

use super::bitset::Bitset;
use super::buf::{Buf, Plain};
use super::column::{Codes, Dict, IntColumn, StrColumn};
use super::schema::{INT_COLUMNS, STR_COLUMNS};
use super::side::{ByMessage, ByRow, Clicks, MessageRows, Side};

const MAGIC: &[u8; 8] = b"WWEMIDX\n";
/// Bump on any change of what is written or in which order.
pub(crate) const VERSION: u32 = 3;
const BYTE_ORDER: u32 = 0x0102_0304;
const SLOT: usize = 128;
const HEADER: usize = 2 * SLOT;
const ALIGN: u64 = 64;
const TOC_ENTRY: usize = 32;

/// The column file of the cache at `cache`.
pub fn path_for(cache: &Path) -> PathBuf {
    let mut name = cache.file_name().unwrap_or_default().to_os_string();
    name.push(".email-index");
    cache.with_file_name(name)
}

/// A checksum of the index's column names, so a build with other columns never
/// reads this build's file as its own.
fn schema_crc() -> u32 {
    let mut h = crc32fast::Hasher::new();
    for c in STR_COLUMNS.iter().chain(INT_COLUMNS) {
        h.update(c.as_bytes());
        h.update(b"\0");
    }
    h.finalize()
}

/// Why a column file cannot be used (the caller rebuilds and rewrites it).
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    /// There is none yet.
    #[error("no column file yet")]
    Missing,
    /// It could not be read.
    #[error("the column file cannot be read: {0}")]
    Io(#[from] io::Error),
    /// Another format version, byte order or set of columns.
    #[error("the column file has another format (version {0})")]
    Format(u32),
    /// Truncated, or a checksum or structure check failed.
    #[error("the column file is damaged ({0})")]
    Damaged(&'static str),
}

/// What state of the cache a column file holds (its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    /// The cache generation ([`whalewatch_cache::Cache::generation`]).
    pub generation: u64,
    /// Rows.
    pub rows: usize,
    /// The cache's mail log when the rows were read
    /// ([`whalewatch_cache::MailLog`]): deletes, the last change entry, and the
    /// largest rowid held.
    pub deletes: u64,
    pub changes: i64,
    pub max_row: i64,
    /// Bytes of superseded arrays (see the module docs).
    pub garbage: u64,
    sequence: u64,
}

/// `Meta::deletes` of a file whose cache had no mail log: never equal to a real
/// count, so such a file is never updated in place.
const NO_LOG: u64 = u64::MAX;

impl Meta {
    /// The header of a file holding `rows` rows read at these log positions.
    pub fn new(generation: u64, rows: usize, log: Option<whalewatch_cache::MailLog>) -> Meta {
        let log = log.unwrap_or(whalewatch_cache::MailLog {
            deletes: NO_LOG,
            changes: 0,
            max_row: 0,
            trimmed: 0,
        });
        Meta {
            generation,
            rows,
            deletes: log.deletes,
            changes: log.changes,
            max_row: log.max_row,
            garbage: 0,
            sequence: 0,
        }
    }

    /// The mail log the rows were read at (`None`: none).
    pub fn log(&self) -> Option<whalewatch_cache::MailLog> {
        (self.deletes != NO_LOG).then_some(whalewatch_cache::MailLog {
            deletes: self.deletes,
            changes: self.changes,
            max_row: self.max_row,
            trimmed: 0,
        })
    }

    fn slot(&self, sections: u32, toc_offset: u64, toc: &[u8]) -> [u8; SLOT] {
        let mut h = [0u8; SLOT];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&BYTE_ORDER.to_ne_bytes());
        h[16..20].copy_from_slice(&schema_crc().to_le_bytes());
        h[20..24].copy_from_slice(&sections.to_le_bytes());
        h[24..32].copy_from_slice(&self.sequence.to_le_bytes());
        h[32..40].copy_from_slice(&self.generation.to_le_bytes());
        h[40..48].copy_from_slice(&(self.rows as u64).to_le_bytes());
        h[48..56].copy_from_slice(&toc_offset.to_le_bytes());
        h[56..64].copy_from_slice(&(toc.len() as u64).to_le_bytes());
        h[64..68].copy_from_slice(&crc32fast::hash(toc).to_le_bytes());
        h[72..80].copy_from_slice(&self.deletes.to_le_bytes());
        h[80..88].copy_from_slice(&self.changes.to_le_bytes());
        h[88..96].copy_from_slice(&self.max_row.to_le_bytes());
        h[96..104].copy_from_slice(&self.garbage.to_le_bytes());
        let crc = crc32fast::hash(&h[..SLOT - 4]);
        h[SLOT - 4..].copy_from_slice(&crc.to_le_bytes());
        h
    }
}

/// Everything of an index that the file holds (tags are read from the cache).
pub(crate) struct Parts {
    pub rows: usize,
    pub time: Buf<i64>,
    /// The cache rowid of every row (how a changed row is found again).
    pub rowid: Buf<i64>,
    pub strs: Vec<StrColumn>,
    pub ints: Vec<IntColumn>,
    pub msg_rows: MessageRows,
    pub side: Side,
}

/// What the writer needs of an index.
pub(crate) struct PartsRef<'a> {
    pub meta: Meta,
    pub time: &'a [i64],
    pub rowid: &'a [i64],
    pub strs: &'a [StrColumn],
    pub ints: &'a [IntColumn],
    pub msg_rows: &'a MessageRows,
    pub side: &'a Side,
}

/// One array of a new state, against the same array of the current one.
pub(crate) enum Piece<'a, T> {
    /// All of it, written anew.
    Whole(&'a [T]),
    /// The current array followed by these values (written into its room).
    Tail(&'a [T]),
}

/// A dictionary-coded column of a new state.
pub(crate) struct StrPiece<'a> {
    pub bytes: Piece<'a, u8>,
    pub ends: Piece<'a, u32>,
    pub codes: CodesPiece<'a>,
}

/// Row codes of a new state, at their width.
pub(crate) enum CodesPiece<'a> {
    U8(Piece<'a, u8>),
    U16(Piece<'a, u16>),
    U32(Piece<'a, u32>),
}

/// A number column of a new state.
pub(crate) enum IntPiece<'a> {
    Narrow(Piece<'a, i32>),
    Wide(Piece<'a, i64>),
}

/// A new state of the file, array by array, in file order.
pub(crate) struct Update<'a> {
    pub meta: Meta,
    pub time: Piece<'a, i64>,
    pub rowid: Piece<'a, i64>,
    pub strs: Vec<StrPiece<'a>>,
    pub ints: Vec<IntPiece<'a>>,
    pub msg_rows: &'a MessageRows,
    pub side: &'a Side,
}

impl<'a> Update<'a> {
    /// Every array whole: a full write of `p`.
    fn whole(p: &'a PartsRef<'a>) -> Update<'a> {
        Update {
            meta: p.meta,
            time: Piece::Whole(p.time),
            rowid: Piece::Whole(p.rowid),
            strs: p.strs.iter().map(StrPiece::whole).collect(),
            ints: p
                .ints
                .iter()
                .map(|c| match c {
                    IntColumn::Narrow(v) => IntPiece::Narrow(Piece::Whole(v)),
                    IntColumn::Wide(v) => IntPiece::Wide(Piece::Whole(v)),
                })
                .collect(),
            msg_rows: p.msg_rows,
            side: p.side,
        }
    }
}

impl<'a> StrPiece<'a> {
    pub fn whole(c: &'a StrColumn) -> StrPiece<'a> {
        let (bytes, ends) = c.dict.parts();
        StrPiece {
            bytes: Piece::Whole(bytes),
            ends: Piece::Whole(ends),
            codes: match &c.codes {
                Codes::U8(v) => CodesPiece::U8(Piece::Whole(v)),
                Codes::U16(v) => CodesPiece::U16(Piece::Whole(v)),
                Codes::U32(v) => CodesPiece::U32(Piece::Whole(v)),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    offset: u64,
    count: u64,
    /// Elements the section has room for (`count` and the hole after it).
    capacity: u64,
    kind: u8,
    crc: u32,
}

impl Entry {
    fn width(&self) -> Option<u64> {
        Some(match self.kind {
            1 => 1,
            2 => 2,
            3 | 4 => 4,
            5 | 6 => 8,
            _ => return None,
        })
    }
}

/// Room after an array that grows with the rows: a quarter more, at least 4,096
/// elements. A hole in the file, so it costs nothing until rows arrive.
fn room_for(count: usize) -> usize {
    count + (count / 4).max(4096)
}

/// Where the arrays of a new state go: [`Sink::put`] is called once per array, in
/// file order.
trait Sink {
    fn put<T: Plain>(&mut self, piece: Piece<'_, T>, grows: bool) -> io::Result<()>;
}

/// Walks a new state in file order (the one place that order is written down; the
/// reader below reads it back in the same order).
fn emit<S: Sink>(s: &mut S, u: Update<'_>) -> io::Result<()> {
    s.put(u.time, true)?;
    s.put(u.rowid, true)?;
    strs(s, u.strs, true)?;
    // The crash tests' "half written" point: the first half is on disk.
    whalewatch_config::paths::pause_point("index-half-written");
    for c in u.ints {
        match c {
            IntPiece::Narrow(p) => s.put(p, true)?,
            IntPiece::Wide(p) => s.put(p, true)?,
        }
    }
    let (start, rows) = u.msg_rows.parts();
    s.put(Piece::Whole(start), false)?;
    s.put(Piece::Whole(rows), false)?;
    let side = u.side;
    for t in [&side.urls, &side.campaigns, &side.alerts] {
        s.put(Piece::Whole(&t.message), false)?;
        strs(s, t.columns.iter().map(StrPiece::whole).collect(), false)?;
    }
    for t in [&side.attachments, &side.post_delivery, &side.clicks.by_row] {
        s.put(Piece::Whole(&t.row), false)?;
        strs(s, t.columns.iter().map(StrPiece::whole).collect(), false)?;
    }
    s.put(Piece::Whole(&side.clicks.time), false)?;
    let through: Vec<u8> = side.clicks.through.iter().map(|&t| u8::from(t)).collect();
    s.put(Piece::Whole(&through), false)?;
    for flags in [
        &side.clicked_any,
        &side.clicked,
        &side.zapped,
        &side.released,
    ] {
        s.put(Piece::Whole(flags.words()), false)?;
    }
    Ok(())
}

fn strs<S: Sink>(s: &mut S, cols: Vec<StrPiece<'_>>, grows: bool) -> io::Result<()> {
    s.put(Piece::Whole(&[cols.len() as u32]), false)?;
    for c in cols {
        s.put(c.bytes, grows)?;
        s.put(c.ends, grows)?;
        match c.codes {
            CodesPiece::U8(p) => s.put(p, grows)?,
            CodesPiece::U16(p) => s.put(p, grows)?,
            CodesPiece::U32(p) => s.put(p, grows)?,
        }
    }
    Ok(())
}

fn bytes_of<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: plain numbers read as their bytes.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values)) }
}

fn toc_bytes(toc: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(toc.len() * TOC_ENTRY);
    for e in toc {
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        out.extend_from_slice(&e.capacity.to_le_bytes());
        out.extend_from_slice(&[e.kind, 0, 0, 0]);
        out.extend_from_slice(&e.crc.to_le_bytes());
    }
    out
}

/// A full write: every array in order, the growing ones followed by their room.
struct Fresh<W: Write + Seek> {
    out: BufWriter<W>,
    at: u64,
    toc: Vec<Entry>,
}

impl<W: Write + Seek> Fresh<W> {
    /// Moves to `to` (ahead): zeros for alignment, a hole for room.
    fn skip_to(&mut self, to: u64, hole: bool) -> io::Result<()> {
        if hole && to > self.at {
            self.out.seek(SeekFrom::Start(to))?;
        } else {
            let pad = (to - self.at) as usize;
            self.out.write_all(&[0u8; ALIGN as usize][..pad])?;
        }
        self.at = to;
        Ok(())
    }
}

impl<W: Write + Seek> Sink for Fresh<W> {
    fn put<T: Plain>(&mut self, piece: Piece<'_, T>, grows: bool) -> io::Result<()> {
        let Piece::Whole(values) = piece else {
            return Err(io::Error::other(
                "a full write has no current array to add to",
            ));
        };
        self.skip_to(self.at.next_multiple_of(ALIGN), false)?;
        let bytes = bytes_of(values);
        self.out.write_all(bytes)?;
        let capacity = if grows {
            room_for(values.len())
        } else {
            values.len()
        };
        self.toc.push(Entry {
            offset: self.at,
            count: values.len() as u64,
            capacity: capacity as u64,
            kind: T::KIND,
            crc: crc32fast::hash(bytes),
        });
        self.at += bytes.len() as u64;
        let end = self.at + ((capacity - values.len()) * size_of::<T>()) as u64;
        self.skip_to(end, true)
    }
}

/// Writes the column file of `index` to `path`, atomically and owner-only.
pub(crate) fn save(index: &PartsRef<'_>, path: &Path) -> io::Result<()> {
    whalewatch_config::paths::write_private_with(path, |file| {
        file.write_all(&[0u8; HEADER])?;
        let mut w = Fresh {
            out: BufWriter::with_capacity(1 << 20, &mut *file),
            at: HEADER as u64,
            toc: Vec::new(),
        };
        emit(&mut w, Update::whole(index))?;
        let toc_offset = w.at.next_multiple_of(ALIGN);
        w.skip_to(toc_offset, false)?;
        let toc = toc_bytes(&w.toc);
        w.out.write_all(&toc)?;
        w.out.flush()?;
        let sections = w.toc.len() as u32;
        drop(w);
        let meta = Meta {
            sequence: 1,
            garbage: 0,
            ..index.meta
        };
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&meta.slot(sections, toc_offset, &toc))?;
        Ok(())
    })
}

/// An update in place (see the module docs): arrays added to go into their room,
/// whole arrays after the current end.
struct InPlace<'f> {
    file: &'f File,
    old: std::vec::IntoIter<Entry>,
    /// Where the next whole array goes.
    end: u64,
    toc: Vec<Entry>,
    garbage: u64,
    /// Set when an array has no room for its new values (the put fails).
    no_room: bool,
}

impl Sink for InPlace<'_> {
    fn put<T: Plain>(&mut self, piece: Piece<'_, T>, grows: bool) -> io::Result<()> {
        let old = self
            .old
            .next()
            .ok_or_else(|| io::Error::other("the new state has more arrays than the file"))?;
        match piece {
            Piece::Tail(values) => {
                if old.kind != T::KIND || old.count + values.len() as u64 > old.capacity {
                    self.no_room = true;
                    return Err(io::Error::other("no room left in the column file"));
                }
                let bytes = bytes_of(values);
                let width = size_of::<T>() as u64;
                self.file
                    .write_all_at(bytes, old.offset + old.count * width)?;
                let mut crc = crc32fast::Hasher::new_with_initial_len(old.crc, old.count * width);
                crc.update(bytes);
                self.toc.push(Entry {
                    count: old.count + values.len() as u64,
                    crc: crc.finalize(),
                    ..old
                });
            }
            Piece::Whole(values) => {
                let offset = self.end.next_multiple_of(ALIGN);
                let bytes = bytes_of(values);
                self.file.write_all_at(bytes, offset)?;
                let capacity = if grows {
                    room_for(values.len())
                } else {
                    values.len()
                };
                self.end = offset + (capacity * size_of::<T>()) as u64;
                self.garbage += old.capacity * old.width().unwrap_or(8);
                self.toc.push(Entry {
                    offset,
                    count: values.len() as u64,
                    capacity: capacity as u64,
                    kind: T::KIND,
                    crc: crc32fast::hash(bytes),
                });
            }
        }
        Ok(())
    }
}

/// The file `path` (open, read-write, locked by the caller) at state `current`,
/// brought to the new state `u` in place (see the module docs). `Ok(false)` when
/// it should be written anew instead: no room left, or the garbage would outgrow
/// the live data.
pub(crate) fn append(file: &File, current: &Opened, u: Update<'_>) -> io::Result<bool> {
    let meta = Meta {
        sequence: current.meta.sequence + 1,
        garbage: current.meta.garbage,
        ..u.meta
    };
    let mut w = InPlace {
        file,
        old: current.toc.clone().into_iter(),
        end: current.end,
        toc: Vec::new(),
        garbage: current.meta.garbage + (current.toc.len() * TOC_ENTRY) as u64,
        no_room: false,
    };
    match emit(&mut w, Update { meta, ..u }) {
        Ok(()) => {}
        Err(_) if w.no_room => return Ok(false),
        Err(e) => return Err(e),
    }
    if w.old.next().is_some() {
        return Err(io::Error::other(
            "the new state has fewer arrays than the file",
        ));
    }
    let live: u64 = w
        .toc
        .iter()
        .map(|e| e.capacity * e.width().unwrap_or(8))
        .sum();
    if w.garbage > live {
        return Ok(false);
    }
    let toc_offset = w.end.next_multiple_of(ALIGN);
    let toc = toc_bytes(&w.toc);
    file.write_all_at(&toc, toc_offset)?;
    // The crash tests' point: every new array and the table written, the header not.
    whalewatch_config::paths::pause_point("index-appended");
    file.sync_data()?;
    let meta = Meta {
        garbage: w.garbage,
        ..meta
    };
    let at = if current.slot == 0 { SLOT } else { 0 };
    file.write_all_at(&meta.slot(w.toc.len() as u32, toc_offset, &toc), at as u64)?;
    file.sync_data()?;
    Ok(true)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

struct Reader {
    map: Arc<Mmap>,
    toc: Vec<Entry>,
    next: usize,
}

impl Reader {
    fn peek_kind(&self) -> Result<u8, Unusable> {
        self.toc
            .get(self.next)
            .map(|e| e.kind)
            .ok_or(Unusable::Damaged("fewer sections than expected"))
    }

    fn array<T: Plain>(&mut self) -> Result<Buf<T>, Unusable> {
        let e = self
            .toc
            .get(self.next)
            .ok_or(Unusable::Damaged("fewer sections than expected"))?;
        self.next += 1;
        if e.kind != T::KIND {
            return Err(Unusable::Damaged("a section has another element type"));
        }
        let offset = usize::try_from(e.offset).map_err(|_| Unusable::Damaged("offset"))?;
        let count = usize::try_from(e.count).map_err(|_| Unusable::Damaged("length"))?;
        Buf::mapped(&self.map, offset, count)
            .ok_or(Unusable::Damaged("a section lies outside the file"))
    }

    fn rows<T: Plain>(&mut self, rows: usize) -> Result<Buf<T>, Unusable> {
        let b = self.array::<T>()?;
        if b.len() != rows {
            return Err(Unusable::Damaged("a column has another row count"));
        }
        Ok(b)
    }

    fn strs(&mut self, rows: Option<usize>) -> Result<Vec<StrColumn>, Unusable> {
        let n = self.array::<u32>()?;
        let n = *n.first().ok_or(Unusable::Damaged("column count"))? as usize;
        let mut out = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let bytes = self.array::<u8>()?;
            let ends = self.array::<u32>()?;
            let dict = Dict::from_parts(bytes, ends).ok_or(Unusable::Damaged(
                "a dictionary is not UTF-8 cut at its ends",
            ))?;
            let codes = match self.peek_kind()? {
                k if k == u8::KIND => Codes::U8(self.array()?),
                k if k == u16::KIND => Codes::U16(self.array()?),
                _ => Codes::U32(self.array()?),
            };
            if rows.is_some_and(|r| r != codes.len()) {
                return Err(Unusable::Damaged("a column has another row count"));
            }
            out.push(StrColumn { dict, codes });
        }
        Ok(out)
    }

    fn by_message(&mut self, messages: usize) -> Result<ByMessage, Unusable> {
        let message = self.array::<u32>()?;
        if message.iter().any(|&m| m as usize >= messages) {
            return Err(Unusable::Damaged("a side table names an unknown message"));
        }
        let columns = self.strs(Some(message.len()))?;
        Ok(ByMessage { message, columns })
    }

    fn by_row(&mut self, rows: usize) -> Result<ByRow, Unusable> {
        let row = self.array::<u32>()?;
        if row.iter().any(|&x| x as usize >= rows) {
            return Err(Unusable::Damaged("a side table names an unknown row"));
        }
        let columns = self.strs(Some(row.len()))?;
        Ok(ByRow { row, columns })
    }

    fn bitset(&mut self, rows: usize) -> Result<Bitset, Unusable> {
        let words = self.array::<u64>()?.to_vec();
        Bitset::from_words(words, rows).ok_or(Unusable::Damaged("a flag set"))
    }
}

/// A column file as opened: its state, the arrays mapped and checked, and what an
/// update in place needs to know of it.
pub(crate) struct Opened {
    pub meta: Meta,
    pub parts: Parts,
    toc: Vec<Entry>,
    /// Which header slot holds the state (the update writes the other).
    slot: usize,
    /// Where the current state ends (its table of contents' end).
    end: u64,
}

/// A header slot as read.
struct Slot {
    meta: Meta,
    sections: usize,
    toc_at: u64,
    toc_len: u64,
    toc_crc: u32,
}

/// The header slot `b`, if it is intact; an error if it is of another format.
fn read_slot(b: &[u8]) -> Result<Option<Slot>, Unusable> {
    if &b[..8] != MAGIC || u32_at(b, SLOT - 4) != crc32fast::hash(&b[..SLOT - 4]) {
        return Ok(None);
    }
    let version = u32_at(b, 8);
    if version != VERSION || b[12..16] != BYTE_ORDER.to_ne_bytes() || u32_at(b, 16) != schema_crc()
    {
        return Err(Unusable::Format(version));
    }
    let meta = Meta {
        sequence: u64_at(b, 24),
        generation: u64_at(b, 32),
        rows: usize::try_from(u64_at(b, 40)).map_err(|_| Unusable::Damaged("rows"))?,
        deletes: u64_at(b, 72),
        changes: u64_at(b, 80) as i64,
        max_row: u64_at(b, 88) as i64,
        garbage: u64_at(b, 96),
    };
    Ok(Some(Slot {
        meta,
        sections: u32_at(b, 20) as usize,
        toc_at: u64_at(b, 48),
        toc_len: u64_at(b, 56),
        toc_crc: u32_at(b, 64),
    }))
}

/// Opens the column file at `path` and checks it (see the module docs); the
/// caller compares its generation with the cache's.
pub(crate) fn load(path: &Path) -> Result<Opened, Unusable> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(e.into()),
    };
    load_file(&file)
}

/// The state the column file at `path` holds, from its header alone (no checks
/// of the arrays: [`load`] does those).
pub(crate) fn peek(path: &Path) -> Result<Meta, Unusable> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(e.into()),
    };
    let mut b = [0u8; HEADER];
    file.read_exact_at(&mut b, 0)
        .map_err(|_| Unusable::Damaged("shorter than its header"))?;
    let slots = [read_slot(&b[..SLOT])?, read_slot(&b[SLOT..])?];
    slots
        .into_iter()
        .flatten()
        .map(|s| s.meta)
        .max_by_key(|m| m.sequence)
        .ok_or(Unusable::Damaged("no intact header"))
}

/// A column file open for an update in place, locked against other writers until
/// dropped. The lock is released explicitly, not by closing: a map made from this
/// file keeps its open file description (and with it a lock) alive.
pub(crate) struct Locked(File);

impl std::ops::Deref for Locked {
    type Target = File;
    fn deref(&self) -> &File {
        &self.0
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // An unlock that fails leaves the lock to the close (or the last map).
        let _ = self.0.unlock();
    }
}

/// Opens `path` for an update in place, locked (see [`Locked`]); then reads it as
/// [`load`] does.
pub(crate) fn open_for_update(path: &Path) -> Result<(Locked, Opened), Unusable> {
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(e.into()),
    };
    file.lock()?;
    let file = Locked(file);
    let opened = load_file(&file)?;
    Ok((file, opened))
}

/// [`load`] of an open file.
pub(crate) fn load_file(file: &File) -> Result<Opened, Unusable> {
    // SAFETY: the bytes of a state are never written once its header is (see the
    // module docs): an update writes only past them, and a full write replaces the
    // file by rename, so the inode mapped here keeps them while mapped. (Another
    // program writing into it would be outside the contract, like editing the
    // SQLite file.)
    let map = unsafe { MmapOptions::new().map(file)? };
    let b: &[u8] = &map;
    if b.len() < HEADER {
        return Err(Unusable::Damaged("shorter than its header"));
    }
    let slots = [read_slot(&b[..SLOT])?, read_slot(&b[SLOT..HEADER])?];
    let (
        slot,
        Slot {
            meta,
            sections,
            toc_at,
            toc_len,
            toc_crc,
        },
    ) = slots
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .max_by_key(|(_, s)| s.meta.sequence)
        .ok_or(Unusable::Damaged("no intact header"))?;
    let toc_at = usize::try_from(toc_at).map_err(|_| Unusable::Damaged("toc"))?;
    let toc_len = usize::try_from(toc_len).map_err(|_| Unusable::Damaged("toc"))?;
    let end = toc_at
        .checked_add(toc_len)
        .filter(|&e| e <= b.len())
        .ok_or(Unusable::Damaged("truncated"))?;
    if toc_len != sections * TOC_ENTRY {
        return Err(Unusable::Damaged("table of contents length"));
    }
    let toc_bytes = &b[toc_at..end];
    if crc32fast::hash(toc_bytes) != toc_crc {
        return Err(Unusable::Damaged("table of contents checksum"));
    }
    let toc: Vec<Entry> = toc_bytes
        .chunks_exact(TOC_ENTRY)
        .map(|e| Entry {
            offset: u64_at(e, 0),
            count: u64_at(e, 8),
            capacity: u64_at(e, 16),
            kind: e[24],
            crc: u32_at(e, 28),
        })
        .collect();
    for e in &toc {
        if e.count > e.capacity {
            return Err(Unusable::Damaged("a section holds more than its room"));
        }
        // Read ahead only what the state holds, never the room after it: the
        // checksums read every such page next, and one call per section is
        // cheaper than a page fault per 4 KiB. (Advice only: an old kernel
        // without it faults the pages in as they are read.)
        if let (Ok(at), Some(len)) = (
            usize::try_from(e.offset),
            e.width().and_then(|w| usize::try_from(e.count * w).ok()),
        ) && len > 0
            && at.checked_add(len).is_some_and(|x| x <= b.len())
            && map.advise_range(Advice::PopulateRead, at, len).is_err()
        {
            let _ = map.advise_range(Advice::WillNeed, at, len);
        }
    }
    verify(b, &toc)?;
    let rows = meta.rows;
    let map = Arc::new(map);
    let mut r = Reader {
        map,
        toc: toc.clone(),
        next: 0,
    };
    let time = r.rows::<i64>(rows)?;
    let rowid = r.rows::<i64>(rows)?;
    let strs = r.strs(Some(rows))?;
    if strs.len() != STR_COLUMNS.len() {
        return Err(Unusable::Damaged("string column count"));
    }
    let mut ints = Vec::with_capacity(INT_COLUMNS.len());
    for _ in INT_COLUMNS {
        ints.push(if r.peek_kind()? == i32::KIND {
            IntColumn::Narrow(r.rows(rows)?)
        } else {
            IntColumn::Wide(r.rows(rows)?)
        });
    }
    let start = r.array::<u32>()?;
    let by_msg = r.array::<u32>()?;
    let messages = start.len().saturating_sub(1);
    let msg_rows =
        MessageRows::from_parts(start, by_msg, rows).ok_or(Unusable::Damaged("message rows"))?;
    let urls = r.by_message(messages)?;
    let campaigns = r.by_message(messages)?;
    let alerts = r.by_message(messages)?;
    let attachments = r.by_row(rows)?;
    let post_delivery = r.by_row(rows)?;
    let click_rows = r.by_row(rows)?;
    let click_time = r.array::<i64>()?.to_vec();
    let through: Vec<bool> = r.array::<u8>()?.iter().map(|&t| t != 0).collect();
    if click_time.len() != click_rows.row.len() || through.len() != click_rows.row.len() {
        return Err(Unusable::Damaged("the click table has another length"));
    }
    let side = Side {
        urls,
        campaigns,
        alerts,
        attachments,
        post_delivery,
        clicks: Clicks {
            by_row: click_rows,
            time: click_time,
            through,
        },
        clicked_any: r.bitset(rows)?,
        clicked: r.bitset(rows)?,
        zapped: r.bitset(rows)?,
        released: r.bitset(rows)?,
    };
    if r.next != r.toc.len() {
        return Err(Unusable::Damaged("more sections than expected"));
    }
    Ok(Opened {
        meta,
        parts: Parts {
            rows,
            time,
            rowid,
            strs,
            ints,
            msg_rows,
            side,
        },
        toc,
        slot,
        end: end as u64,
    })
}

/// Checks every section's CRC-32, on two cores (halves by bytes).
fn verify(b: &[u8], toc: &[Entry]) -> Result<(), Unusable> {
    let size =
        |e: &Entry| -> Option<usize> { usize::try_from(e.count.checked_mul(e.width()?)?).ok() };
    let check = |part: &[Entry]| -> Result<(), Unusable> {
        for e in part {
            let len = size(e).ok_or(Unusable::Damaged("section type"))?;
            let at = usize::try_from(e.offset).map_err(|_| Unusable::Damaged("offset"))?;
            let bytes = at
                .checked_add(len)
                .and_then(|end| b.get(at..end))
                .ok_or(Unusable::Damaged("a section lies outside the file"))?;
            if crc32fast::hash(bytes) != e.crc {
                return Err(Unusable::Damaged("section checksum"));
            }
        }
        Ok(())
    };
    let total: usize = toc.iter().filter_map(size).sum();
    let mut acc = 0;
    let split = toc
        .iter()
        .position(|e| {
            acc += size(e).unwrap_or(0);
            acc * 2 >= total
        })
        .map_or(toc.len(), |i| i + 1);
    let (x, y) = super::on_two_cores(|| check(&toc[..split]), || check(&toc[split..]))
        .map_err(|_| Unusable::Damaged("checksum helper failed"))?;
    x.and(y)
}
