//! The index's column file: every big array of an [`EmailIndex`] written next to the
//! cache (`<cache>.email-index`), so a process opens it memory-mapped in milliseconds
//! instead of rebuilding the index from SQLite in seconds.
//!
//! ```text
//!  0    header (64 bytes): magic, format version, byte order, schema checksum,
//!       cache generation, rows, where the table of contents is, its CRC-32,
//!       the header's own CRC-32
//!  64   sections, each 64-byte aligned: one array of plain numbers each
//!       (time, dictionary arenas and ends, row codes, numbers, message rows,
//!       side tables, flags)
//!  end  table of contents: per section offset, length, element type, CRC-32
//! ```
//!
//! The file is derived data: SQLite stays the truth. It is used only when its
//! version, schema and byte order are this build's, its generation is the cache's,
//! its length is what the header says, and every section's CRC-32 matches;
//! otherwise the caller rebuilds from SQLite and writes a new one. Writes go to a
//! temporary file that replaces the old one by rename once complete and synced, so
//! a killed process leaves the old complete file or the new complete one. A file
//! is never changed in place, so a map stays valid while another process replaces
//! the file (the old inode lives until its last map goes).
//!
//! A custom layout, not Arrow IPC: the index is not one table (side tables, message
//! rows and dictionaries have their own lengths) and the mapped arrays are exactly
//! the slices the evaluator scans, with no conversion and no new dependency tree to
//! compile. Exports for other tools stay `whalewatch query … --format csv`.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};

use super::bitset::Bitset;
use super::buf::{Buf, Plain};
use super::column::{Codes, Dict, IntColumn, StrColumn};
use super::schema::{INT_COLUMNS, STR_COLUMNS};
use super::side::{ByMessage, ByRow, Clicks, MessageRows, Side};

const MAGIC: &[u8; 8] = b"WWEMIDX\n";
/// Bump on any change of what is written or in which order.
pub(crate) const VERSION: u32 = 2;
const BYTE_ORDER: u32 = 0x0102_0304;
const HEADER: usize = 64;
const ALIGN: u64 = 64;
const TOC_ENTRY: usize = 24;

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
    /// Written from an older (or newer) state of the cache.
    #[error("the column file is of cache generation {file}, the cache is at {cache}")]
    Stale {
        /// The file's generation.
        file: u64,
        /// The cache's.
        cache: u64,
    },
    /// Truncated, or a checksum or structure check failed.
    #[error("the column file is damaged ({0})")]
    Damaged(&'static str),
}

/// Everything of an index that the file holds (tags are read from the cache).
pub(crate) struct Parts {
    pub rows: usize,
    pub time: Buf<i64>,
    pub strs: Vec<StrColumn>,
    pub ints: Vec<IntColumn>,
    pub msg_rows: MessageRows,
    pub side: Side,
}

/// What the writer needs of an index.
pub(crate) struct PartsRef<'a> {
    pub generation: u64,
    pub rows: usize,
    pub time: &'a [i64],
    pub strs: &'a [StrColumn],
    pub ints: &'a [IntColumn],
    pub msg_rows: &'a MessageRows,
    pub side: &'a Side,
}

struct Entry {
    offset: u64,
    count: u64,
    kind: u8,
    crc: u32,
}

struct Writer<W: Write> {
    out: W,
    at: u64,
    toc: Vec<Entry>,
}

impl<W: Write> Writer<W> {
    fn array<T: Plain>(&mut self, values: &[T]) -> io::Result<()> {
        let pad = self.at.next_multiple_of(ALIGN) - self.at;
        self.out.write_all(&[0u8; ALIGN as usize][..pad as usize])?;
        self.at += pad;
        // SAFETY: plain numbers read as their bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values))
        };
        self.out.write_all(bytes)?;
        self.toc.push(Entry {
            offset: self.at,
            count: values.len() as u64,
            kind: T::KIND,
            crc: crc32fast::hash(bytes),
        });
        self.at += bytes.len() as u64;
        Ok(())
    }

    fn strs(&mut self, cols: &[StrColumn]) -> io::Result<()> {
        self.array(&[cols.len() as u32])?;
        for c in cols {
            let (bytes, ends) = c.dict.parts();
            self.array::<u8>(bytes)?;
            self.array::<u32>(ends)?;
            match &c.codes {
                Codes::U8(v) => self.array::<u8>(v)?,
                Codes::U16(v) => self.array::<u16>(v)?,
                Codes::U32(v) => self.array::<u32>(v)?,
            }
        }
        Ok(())
    }
}

/// Writes the column file of `index` to `path`, atomically and owner-only.
pub(crate) fn save(index: &PartsRef<'_>, path: &Path) -> io::Result<()> {
    whalewatch_config::paths::write_private_with(path, |file| {
        file.write_all(&[0u8; HEADER])?;
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 20, &mut *file),
            at: HEADER as u64,
            toc: Vec::new(),
        };
        w.array::<i64>(index.time)?;
        w.strs(index.strs)?;
        // The crash tests' "half written" point: the first half is on disk.
        w.out.flush()?;
        whalewatch_config::paths::pause_point("index-half-written");
        for c in index.ints {
            match c {
                IntColumn::Narrow(v) => w.array::<i32>(v)?,
                IntColumn::Wide(v) => w.array::<i64>(v)?,
            }
        }
        let (start, rows) = index.msg_rows.parts();
        w.array::<u32>(start)?;
        w.array::<u32>(rows)?;
        let side = index.side;
        for t in [&side.urls, &side.campaigns, &side.alerts] {
            w.array::<u32>(&t.message)?;
            w.strs(&t.columns)?;
        }
        for t in [&side.attachments, &side.post_delivery, &side.clicks.by_row] {
            w.array::<u32>(&t.row)?;
            w.strs(&t.columns)?;
        }
        w.array::<i64>(&side.clicks.time)?;
        let through: Vec<u8> = side.clicks.through.iter().map(|&t| u8::from(t)).collect();
        w.array::<u8>(&through)?;
        for flags in [
            &side.clicked_any,
            &side.clicked,
            &side.zapped,
            &side.released,
        ] {
            w.array::<u64>(flags.words())?;
        }
        let toc_offset = w.at.next_multiple_of(ALIGN);
        w.out
            .write_all(&[0u8; ALIGN as usize][..(toc_offset - w.at) as usize])?;
        let mut toc = Vec::with_capacity(w.toc.len() * TOC_ENTRY);
        for e in &w.toc {
            toc.extend_from_slice(&e.offset.to_le_bytes());
            toc.extend_from_slice(&e.count.to_le_bytes());
            toc.extend_from_slice(&[e.kind, 0, 0, 0]);
            toc.extend_from_slice(&e.crc.to_le_bytes());
        }
        w.out.write_all(&toc)?;
        w.out.flush()?;
        let sections = w.toc.len() as u32;
        drop(w);
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&BYTE_ORDER.to_ne_bytes());
        h.extend_from_slice(&schema_crc().to_le_bytes());
        h.extend_from_slice(&sections.to_le_bytes());
        h.extend_from_slice(&index.generation.to_le_bytes());
        h.extend_from_slice(&(index.rows as u64).to_le_bytes());
        h.extend_from_slice(&toc_offset.to_le_bytes());
        h.extend_from_slice(&(toc.len() as u64).to_le_bytes());
        h.extend_from_slice(&crc32fast::hash(&toc).to_le_bytes());
        h.extend_from_slice(&crc32fast::hash(&h).to_le_bytes());
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&h)?;
        Ok(())
    })
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

/// Opens the column file at `path` if it is of cache generation `generation` and
/// passes every check (see the module docs).
pub(crate) fn load(path: &Path, generation: u64) -> Result<Parts, Unusable> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(e.into()),
    };
    // SAFETY: column files are never written in place: a new one replaces the old by
    // rename, so the inode mapped here keeps its bytes while mapped. (Another program
    // truncating it would be outside the contract, like editing the SQLite file.)
    // Populated: the checksums read every page next anyway, and one populate is
    // cheaper than a page fault per 4 KiB.
    let map = unsafe { MmapOptions::new().populate().map(&file)? };
    let b: &[u8] = &map;
    if b.len() < HEADER {
        return Err(Unusable::Damaged("shorter than its header"));
    }
    if &b[..8] != MAGIC {
        return Err(Unusable::Damaged("not a column file"));
    }
    if u32_at(b, 60) != crc32fast::hash(&b[..60]) {
        return Err(Unusable::Damaged("header checksum"));
    }
    let version = u32_at(b, 8);
    if version != VERSION || b[12..16] != BYTE_ORDER.to_ne_bytes() || u32_at(b, 16) != schema_crc()
    {
        return Err(Unusable::Format(version));
    }
    let sections = u32_at(b, 20) as usize;
    let file_gen = u64_at(b, 24);
    if file_gen != generation {
        return Err(Unusable::Stale {
            file: file_gen,
            cache: generation,
        });
    }
    let rows = usize::try_from(u64_at(b, 32)).map_err(|_| Unusable::Damaged("rows"))?;
    let toc_at = usize::try_from(u64_at(b, 40)).map_err(|_| Unusable::Damaged("toc"))?;
    let toc_len = usize::try_from(u64_at(b, 48)).map_err(|_| Unusable::Damaged("toc"))?;
    if toc_at.checked_add(toc_len) != Some(b.len()) || toc_len != sections * TOC_ENTRY {
        return Err(Unusable::Damaged("truncated or extended"));
    }
    let toc_bytes = &b[toc_at..];
    if crc32fast::hash(toc_bytes) != u32_at(b, 56) {
        return Err(Unusable::Damaged("table of contents checksum"));
    }
    let toc: Vec<Entry> = toc_bytes
        .chunks_exact(TOC_ENTRY)
        .map(|e| Entry {
            offset: u64_at(e, 0),
            count: u64_at(e, 8),
            kind: e[16],
            crc: u32_at(e, 20),
        })
        .collect();
    verify(b, &toc)?;
    let map = Arc::new(map);
    let mut r = Reader { map, toc, next: 0 };
    let time = r.rows::<i64>(rows)?;
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
    Ok(Parts {
        rows,
        time,
        strs,
        ints,
        msg_rows,
        side,
    })
}

/// Checks every section's CRC-32, on two cores (halves by bytes).
fn verify(b: &[u8], toc: &[Entry]) -> Result<(), Unusable> {
    let size = |e: &Entry| -> Option<usize> {
        let width = match e.kind {
            1 => 1,
            2 => 2,
            3 | 4 => 4,
            5 | 6 => 8,
            _ => return None,
        };
        usize::try_from(e.count).ok()?.checked_mul(width)
    };
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
