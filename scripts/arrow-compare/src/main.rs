//! Arrow IPC (Feather v2) against whalewatch's custom column file, side by side on
//! the same cache, in one process (issue #15: "prefer a standard columnar format …
//! unless you measure a custom layout to be clearly faster").
//!
//! 1. Opens the cache's email index (`EmailIndex::open`: the mapped column file) and
//!    writes the same row columns as one Arrow IPC file: `Timestamp` (nanoseconds,
//!    UTC), every string column as a dictionary array with the index's own
//!    dictionary and codes (keys `UInt8`/`UInt16`/`UInt32` as narrow as the index
//!    stores them), every number column as `Int32`/`Int64` with nulls. q1–q5 read
//!    no side table (tags come from the cache in both engines), so the side tables
//!    stay out; their size is reported separately.
//! 2. Measures, engines rotated run by run: the open (whalewatch with every check;
//!    Arrow mapped + `FileDecoder` validating every column or only the five q1–q5
//!    read, not validating, and not validating plus a CRC-32 of the whole file, the
//!    cost of whalewatch's damage check), the resident bytes each touches, and q1–q5
//!    over the Arrow arrays (plain loops over the dictionary keys; q1 also with
//!    arrow's `take` kernel) against whalewatch's evaluator, checking every answer
//!    is equal.
//! 3. Writes q5's answer (tab-separated) for `compare.py` (DuckDB and pandas on the
//!    Arrow file).
//!
//! Usage: `arrow-compare CACHE.sqlite OUT_DIR [RUNS]`.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::types::{UInt8Type, UInt16Type, UInt32Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray, UInt8Array, UInt16Array, UInt32Array,
};
use arrow_buffer::Buffer;
use arrow_ipc::reader::FileDecoder;
use arrow_ipc::writer::FileWriter;
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, Utc};
use memmap2::MmapOptions;
use whalewatch_cache::Cache;
use whalewatch_query::index::column::Codes;
use whalewatch_query::index::schema::{INT_COLUMNS, STR_COLUMNS};
use whalewatch_query::index::text::{Needle, Op, fold};
use whalewatch_query::index::{Bitset, EmailIndex, IntColumn, TagTable};
use whalewatch_query::kql::TimeBin;
use whalewatch_query::{Entity, parse};

type Res<T> = Result<T, Box<dyn Error>>;

/// Ticks (100 ns) in a day, and nanoseconds.
const DAY_TICKS: i64 = 86_400 * 10_000_000;
const DAY_NS: i64 = DAY_TICKS * 100;

fn now() -> DateTime<Utc> {
    // The fixture's clock (`--now`): q1–q5 have no relative time, so any instant works.
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let cache_path = PathBuf::from(
        args.next()
            .ok_or("usage: arrow-compare CACHE OUT_DIR [RUNS]")?,
    );
    let out_dir = PathBuf::from(
        args.next()
            .ok_or("usage: arrow-compare CACHE OUT_DIR [RUNS]")?,
    );
    let runs: usize = args.next().map_or(Ok(30), |s| s.parse())?;
    whalewatch_config::paths::create_private_dir(&out_dir)?;
    let arrow_path = out_dir.join("email-index.arrow");

    let cache = Cache::open_read_only(&cache_path)?;
    let index = EmailIndex::open(&cache)?;
    if !index.is_mapped() {
        return Err("the index did not open from its column file (stale or missing?)".into());
    }
    let rows = index.len();
    println!("cache: {} ({rows} rows)", cache_path.display());

    let t = Instant::now();
    write_arrow(&index, &arrow_path)?;
    println!(
        "wrote {} in {:.2}s",
        arrow_path.display(),
        t.elapsed().as_secs_f64()
    );
    sizes(&index, &cache_path, &arrow_path)?;
    drop(index);

    // (a) open cost, alternating.
    let mut opens = vec![vec![
        (
            "whalewatch EmailIndex::open (every check)",
            job(|| Ok(EmailIndex::open(&cache)?.len())),
        ),
        (
            "  of which: tags from the cache",
            job(|| Ok(TagTable::load(&cache)?.len())),
        ),
        (
            "Arrow mmap + FileDecoder, validated",
            job(|| {
                Ok(ArrowFile::open(&arrow_path, true, false, false)?
                    .batch
                    .num_rows())
            }),
        ),
        (
            "Arrow validated, only q1–q5's 5 columns",
            job(|| {
                Ok(ArrowFile::open(&arrow_path, true, false, true)?
                    .batch
                    .num_rows())
            }),
        ),
        (
            "Arrow mmap + FileDecoder, no validation",
            job(|| {
                Ok(ArrowFile::open(&arrow_path, false, false, false)?
                    .batch
                    .num_rows())
            }),
        ),
        (
            "Arrow, no validation + CRC-32 of the file",
            job(|| {
                Ok(ArrowFile::open(&arrow_path, false, true, false)?
                    .batch
                    .num_rows())
            }),
        ),
    ]];
    let mut opens = rotate(&mut opens, runs)?;
    println!("\n(a) open, {runs} runs each, alternating");
    opens.print();

    // Resident memory each open touches (page cache mapped into this process).
    println!("\nresident growth (VmRSS / RssFile, MiB): after the open, after q1–q5 once");
    let tags = TagTable::load(&cache)?;
    let q1f = parse(Entity::Emails, "is:priority threat:phish")?;
    for (name, validate, crc, project) in [
        ("Arrow validated", true, false, false),
        ("Arrow validated, q1–q5's columns", true, false, true),
        ("Arrow no validation", false, false, false),
        ("Arrow no validation + CRC", false, true, false),
    ] {
        let before = Rss::now();
        let a = ArrowFile::open(&arrow_path, validate, crc, project)?;
        let opened = Rss::now();
        let cols = ArrowCols::new(&a.batch)?;
        let _ = arrow_answers(&cols, &tags)?;
        let queried = Rss::now();
        println!(
            "{name:<44} {} | {}",
            opened.minus(&before),
            queried.minus(&before)
        );
    }
    {
        let before = Rss::now();
        let ix = EmailIndex::open(&cache)?;
        let opened = Rss::now();
        let _ = whalewatch_answers(&ix, &q1f)?;
        let queried = Rss::now();
        println!(
            "{:<44} {} | {}",
            "whalewatch",
            opened.minus(&before),
            queried.minus(&before)
        );
    }

    // (b) q1–q5, alternating, on one open of each.
    let ix = EmailIndex::open(&cache)?;
    let fast = ArrowFile::open(&arrow_path, false, false, false)?;
    let cols = ArrowCols::new(&fast.batch)?;
    let ww = whalewatch_answers(&ix, &q1f)?;
    let ar = arrow_answers(&cols, &tags)?;
    let kernel = q1_take_kernel(&cols, &tags)?;
    check("q1", &ww.q1, &ar.q1)?;
    check("q1 (take kernel)", &ww.q1, &kernel)?;
    check("q2", &ww.q2, &ar.q2)?;
    check("q3", &ww.q3, &ar.q3)?;
    check("q4", &ww.q4, &ar.q4)?;
    check("q5", &ww.q5, &ar.q5)?;
    println!(
        "\nanswers equal: q1 {} rows, q2 {} values, q3 {} values, q4 {} cells, q5 {} values",
        ww.q1,
        ww.q2.len(),
        ww.q3.len(),
        ww.q4.len(),
        ww.q5.len()
    );
    write_q5(&out_dir.join("q5.csv"), &ar.q5)?;

    let all = ix.all();
    let sd = ix.column("SenderFromDomain")?;
    let loc = ix.column("LatestDeliveryLocation")?;
    let threats = ix.column("ThreatTypes")?;
    // whalewatch keeps a tag's rows once computed (`tag_rows`); the Arrow side gets
    // the same cache, so both q1s compute only the `threat:` term per run.
    let (rec_hit, _) = q1_hits(&cols, &tags)?;
    let priority = select(&cols.recipient, &rec_hit);
    check(
        "q1 (tag rows cached)",
        &ww.q1,
        &q1_cached(&cols, &priority).count(),
    )?;
    let mut groups: Vec<Vec<(&str, Job<'_>)>> = vec![
        vec![
            (
                "q1 whalewatch eval",
                job(|| Ok(ix.eval(&q1f, now())?.count())),
            ),
            (
                "q1 Arrow, keys loop (tag rows cached)",
                job(|| Ok(q1_cached(&cols, &priority).count())),
            ),
            (
                "q1 Arrow, keys loop (nothing cached)",
                job(|| Ok(q1_rows(&cols, &tags)?.count())),
            ),
            (
                "q1 Arrow, take kernel + AND (nothing cached)",
                job(|| q1_take_kernel(&cols, &tags)),
            ),
        ],
        vec![
            (
                "q2 whalewatch eval + frequency",
                job(|| {
                    let r = ix.eval(&q1f, now())?;
                    Ok(ix.frequency(&r, sd).rows.len())
                }),
            ),
            (
                "q2 Arrow (tag rows cached)",
                job(|| {
                    let r = q1_cached(&cols, &priority);
                    Ok(frequency(&cols.sender_domain, Some(&r)).len())
                }),
            ),
        ],
        vec![
            (
                "q3 whalewatch frequency",
                job(|| Ok(ix.frequency(&all, loc).rows.len())),
            ),
            (
                "q3 Arrow",
                job(|| Ok(frequency(&cols.location, None).len())),
            ),
        ],
        vec![
            (
                "q4 whalewatch histogram (two threads)",
                job(|| {
                    Ok(ix
                        .histogram(&all, TimeBin::Day, Some(threats))?
                        .buckets
                        .len())
                }),
            ),
            ("q4 Arrow (two threads)", job(|| Ok(histogram(&cols).len()))),
        ],
        vec![
            (
                "q5 whalewatch frequency (every value)",
                job(|| Ok(ix.frequency(&all, sd).rows.len())),
            ),
            (
                "q5 Arrow (every value)",
                job(|| Ok(frequency(&cols.sender_domain, None).len())),
            ),
        ],
    ];
    let mut q = rotate(&mut groups, runs)?;
    println!("\n(b) q1–q5 over all {rows} rows, {runs} runs each, alternating");
    q.print();
    Ok(())
}

// ---------------------------------------------------------------- writing

/// The index's row columns as one Arrow record batch, written as an IPC file.
fn write_arrow(index: &EmailIndex, path: &Path) -> Res<()> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    fields.push(Field::new(
        "Timestamp",
        DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into())),
        false,
    ));
    let ns: Vec<i64> = index.times().iter().map(|t| t * 100).collect();
    arrays.push(Arc::new(
        TimestampNanosecondArray::from(ns).with_timezone("UTC"),
    ));
    for (i, name) in STR_COLUMNS.iter().enumerate() {
        let col = index.str_column(i);
        let values: ArrayRef = Arc::new(StringArray::from_iter_values(
            col.dict.iter().map(|(_, v)| v),
        ));
        let (key, array): (DataType, ArrayRef) = match &col.codes {
            Codes::U8(c) => (
                DataType::UInt8,
                Arc::new(DictionaryArray::<UInt8Type>::try_new(
                    UInt8Array::from(c.to_vec()),
                    values,
                )?),
            ),
            Codes::U16(c) => (
                DataType::UInt16,
                Arc::new(DictionaryArray::<UInt16Type>::try_new(
                    UInt16Array::from(c.to_vec()),
                    values,
                )?),
            ),
            Codes::U32(c) => (
                DataType::UInt32,
                Arc::new(DictionaryArray::<UInt32Type>::try_new(
                    UInt32Array::from(c.to_vec()),
                    values,
                )?),
            ),
        };
        fields.push(Field::new(
            *name,
            DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8)),
            false,
        ));
        arrays.push(array);
    }
    for (i, name) in INT_COLUMNS.iter().enumerate() {
        let col = index.int_column(i);
        let (ty, array): (DataType, ArrayRef) = match col {
            IntColumn::Narrow(v) => (
                DataType::Int32,
                Arc::new(Int32Array::from_iter(
                    v.iter().map(|&x| (x != i32::MIN).then_some(x)),
                )),
            ),
            IntColumn::Wide(v) => (
                DataType::Int64,
                Arc::new(Int64Array::from_iter(
                    v.iter().map(|&x| (x != i64::MIN).then_some(x)),
                )),
            ),
        };
        fields.push(Field::new(*name, ty, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    whalewatch_config::paths::write_private_with(path, |file| {
        let mut w = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &schema)
            .map_err(std::io::Error::other)?;
        w.write(&batch).map_err(std::io::Error::other)?;
        w.finish().map_err(std::io::Error::other)?;
        w.into_inner().map_err(std::io::Error::other)?.flush()
    })?;
    Ok(())
}

/// File sizes: the whole column file, the part of it holding the row columns (what
/// the Arrow file holds), and the Arrow file.
fn sizes(index: &EmailIndex, cache: &Path, arrow: &Path) -> Res<()> {
    let whole = std::fs::metadata(EmailIndex::file_path(cache))?.len();
    let mut rows_part = index.times().len() * 8;
    for i in 0..STR_COLUMNS.len() {
        let c = index.str_column(i);
        let bytes: usize = c.dict.iter().map(|(_, v)| v.len()).sum();
        let width = match &c.codes {
            Codes::U8(_) => 1,
            Codes::U16(_) => 2,
            Codes::U32(_) => 4,
        };
        rows_part += bytes + c.dict.len() * 4 + c.codes.len() * width;
    }
    for i in 0..INT_COLUMNS.len() {
        rows_part += match index.int_column(i) {
            IntColumn::Narrow(v) => v.len() * 4,
            IntColumn::Wide(v) => v.len() * 8,
        };
    }
    let arrow = std::fs::metadata(arrow)?.len();
    println!("\n(c) file size (bytes)");
    println!("whalewatch column file, whole (row columns + side tables): {whole}");
    println!("  of which the row columns (sum of their sections):       {rows_part}");
    println!(
        "Arrow IPC file, the row columns:                          {arrow} ({:+.1}% against the same columns)",
        (arrow as f64 / rows_part as f64 - 1.0) * 100.0
    );
    Ok(())
}

fn write_q5(path: &Path, q5: &[(String, usize)]) -> Res<()> {
    let mut out = String::new();
    for (v, n) in q5 {
        // Domains hold no commas or quotes; the file is for compare.py only.
        out.push_str(&format!("{v}\t{n}\n"));
    }
    whalewatch_config::paths::write_private(path, out.as_bytes())?;
    Ok(())
}

// ---------------------------------------------------------------- reading

/// An Arrow IPC file memory-mapped, its one record batch decoded zero-copy.
struct ArrowFile {
    batch: RecordBatch,
}

impl ArrowFile {
    /// Maps `path` and decodes every batch (there is one). `validate`: arrow's full
    /// validation of every array (UTF-8 of the dictionaries, key bounds, offsets);
    /// without it the file is trusted. `crc`: also a CRC-32 of the whole file (on
    /// two threads), the cost of whalewatch's guarantee that a damaged file is
    /// never read — Arrow IPC carries no checksum. `project`: decode only the
    /// columns q1–q5 read (dictionaries are still all read: the footer does not
    /// say which field a dictionary block belongs to without the schema's ids).
    fn open(path: &Path, validate: bool, crc: bool, project: bool) -> Res<ArrowFile> {
        let file = File::open(path)?;
        let mut opts = MmapOptions::new();
        if crc {
            opts.populate();
        }
        // SAFETY: the file is written once by this harness (a new file by rename)
        // and never changed in place while mapped.
        let map = unsafe { opts.map(&file)? };
        if crc {
            let (a, b) = map.split_at(map.len() / 2);
            let (x, y) = std::thread::scope(|s| {
                let h = s.spawn(|| crc32fast::hash(b));
                let x = crc32fast::hash(a);
                (x, h.join())
            });
            std::hint::black_box((x, y.map_err(|_| "crc thread panicked")?));
        }
        let len = map.len();
        let ptr = NonNull::new(map.as_ptr().cast_mut()).ok_or("empty map")?;
        // SAFETY: `ptr..ptr+len` is the map, kept alive by the `Arc` the buffer owns.
        let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(map)) };
        let trailer = len.checked_sub(10).ok_or("shorter than an Arrow trailer")?;
        let footer_len = arrow_ipc::reader::read_footer_length(buffer[trailer..].try_into()?)?;
        let footer = arrow_ipc::root_as_footer(
            &buffer[trailer.checked_sub(footer_len).ok_or("footer")?..trailer],
        )
        .map_err(|e| format!("the Arrow footer: {e:?}"))?;
        let schema = arrow_ipc::convert::try_fb_to_schema(footer.schema().ok_or("no schema")?)?;
        let projection = QUERIED
            .iter()
            .map(|c| schema.index_of(c))
            .collect::<Result<Vec<_>, _>>()?;
        let mut decoder =
            FileDecoder::new(Arc::new(schema), footer.version()).with_require_alignment(true);
        if project {
            decoder = decoder.with_projection(projection);
        }
        if !validate {
            // SAFETY: measured only; a product would have to trust the file (written
            // by itself) or check it otherwise (the CRC variant).
            decoder = unsafe { decoder.with_skip_validation(true) };
        }
        for block in footer.dictionaries().iter().flatten() {
            let n = block.bodyLength() as usize + block.metaDataLength() as usize;
            let data = buffer.slice_with_length(block.offset() as usize, n);
            decoder.read_dictionary(block, &data)?;
        }
        let blocks = footer.recordBatches().ok_or("no record batches")?;
        if blocks.len() != 1 {
            return Err("expected one record batch".into());
        }
        let block = blocks.get(0);
        let n = block.bodyLength() as usize + block.metaDataLength() as usize;
        let data = buffer.slice_with_length(block.offset() as usize, n);
        let batch = decoder
            .read_record_batch(block, &data)?
            .ok_or("an empty message")?;
        Ok(ArrowFile { batch })
    }
}

/// The columns q1–q5 read.
const QUERIED: [&str; 5] = [
    "Timestamp",
    "RecipientEmailAddress",
    "ThreatTypes",
    "SenderFromDomain",
    "LatestDeliveryLocation",
];

/// Dictionary keys of one column, typed as the file stores them.
#[derive(Clone, Copy)]
enum Keys<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

/// A dictionary column of the Arrow batch: its keys, its values and the keys array.
struct DictCol<'a> {
    keys: Keys<'a>,
    values: &'a StringArray,
    array: &'a dyn Array,
}

impl<'a> DictCol<'a> {
    fn new(batch: &'a RecordBatch, name: &str) -> Res<DictCol<'a>> {
        let a = batch.column_by_name(name).ok_or("no such column")?;
        let any = a.as_any();
        fn vals(v: &ArrayRef) -> Res<&StringArray> {
            Ok(v.as_any()
                .downcast_ref::<StringArray>()
                .ok_or("dictionary values are not strings")?)
        }
        if let Some(d) = any.downcast_ref::<DictionaryArray<UInt8Type>>() {
            Ok(DictCol {
                keys: Keys::U8(d.keys().values()),
                values: vals(d.values())?,
                array: d.keys(),
            })
        } else if let Some(d) = any.downcast_ref::<DictionaryArray<UInt16Type>>() {
            Ok(DictCol {
                keys: Keys::U16(d.keys().values()),
                values: vals(d.values())?,
                array: d.keys(),
            })
        } else if let Some(d) = any.downcast_ref::<DictionaryArray<UInt32Type>>() {
            Ok(DictCol {
                keys: Keys::U32(d.keys().values()),
                values: vals(d.values())?,
                array: d.keys(),
            })
        } else {
            Err(format!("{name} is not a dictionary column").into())
        }
    }

    /// The predicate over every distinct value (once per value, as the index does).
    fn hits(&self, mut pred: impl FnMut(&str) -> bool) -> Vec<bool> {
        (0..self.values.len())
            .map(|i| pred(self.values.value(i)))
            .collect()
    }
}

/// The columns q1–q5 read.
struct ArrowCols<'a> {
    rows: usize,
    time: &'a [i64],
    recipient: DictCol<'a>,
    threats: DictCol<'a>,
    sender_domain: DictCol<'a>,
    location: DictCol<'a>,
}

impl<'a> ArrowCols<'a> {
    fn new(batch: &'a RecordBatch) -> Res<ArrowCols<'a>> {
        let time = batch
            .column_by_name("Timestamp")
            .and_then(|a| a.as_any().downcast_ref::<TimestampNanosecondArray>())
            .ok_or("no Timestamp column")?;
        Ok(ArrowCols {
            rows: batch.num_rows(),
            time: time.values(),
            recipient: DictCol::new(batch, "RecipientEmailAddress")?,
            threats: DictCol::new(batch, "ThreatTypes")?,
            sender_domain: DictCol::new(batch, "SenderFromDomain")?,
            location: DictCol::new(batch, "LatestDeliveryLocation")?,
        })
    }
}

// ---------------------------------------------------------------- queries

/// Answers comparable across engines: q1 count; q2, q3, q5 (value, count) most
/// frequent first (ties by value); q4 (day, threat types, count) by day, then value.
struct Answers {
    q1: usize,
    q2: Vec<(String, usize)>,
    q3: Vec<(String, usize)>,
    q4: Vec<(i64, String, usize)>,
    q5: Vec<(String, usize)>,
}

fn whalewatch_answers(ix: &EmailIndex, q1f: &whalewatch_query::Filter) -> Res<Answers> {
    let r = ix.eval(q1f, now())?;
    let all = ix.all();
    let pairs = |f: whalewatch_query::index::Frequency| {
        f.rows
            .into_iter()
            .map(|r| (r.value, r.count))
            .collect::<Vec<_>>()
    };
    let h = ix.histogram(&all, TimeBin::Day, Some(ix.column("ThreatTypes")?))?;
    Ok(Answers {
        q1: r.count(),
        q2: pairs(ix.frequency(&r, ix.column("SenderFromDomain")?)),
        q3: pairs(ix.frequency(&all, ix.column("LatestDeliveryLocation")?)),
        q4: h
            .buckets
            .into_iter()
            .map(|b| {
                (
                    b.start.timestamp().div_euclid(86_400),
                    b.split.unwrap_or_default(),
                    b.count,
                )
            })
            .collect(),
        q5: pairs(ix.frequency(&all, ix.column("SenderFromDomain")?)),
    })
}

fn arrow_answers(c: &ArrowCols<'_>, tags: &TagTable) -> Res<Answers> {
    let r = q1_rows(c, tags)?;
    Ok(Answers {
        q1: r.count(),
        q2: frequency(&c.sender_domain, Some(&r)),
        q3: frequency(&c.location, None),
        q4: histogram(c),
        q5: frequency(&c.sender_domain, None),
    })
}

/// The per-value hits of q1's two terms: recipient in the Priority account tag,
/// `ThreatTypes has "phish"` (the evaluator's own predicates).
fn q1_hits(c: &ArrowCols<'_>, tags: &TagTable) -> Res<(Vec<bool>, Vec<bool>)> {
    let pos = tags
        .names()
        .position(|t| t.eq_ignore_ascii_case(whalewatch_config::PRIORITY_ACCOUNT))
        .ok_or("the cache has no Priority account tag")?;
    let rec = c.recipient.hits(|a| tags.is_member(pos, &fold(a)));
    let needle = Needle::new("phish");
    let thr = c.threats.hits(|t| needle.test(Op::Has, t));
    Ok((rec, thr))
}

/// The rows whose key is marked in `hit` (the index's `Codes::select`).
fn select(col: &DictCol<'_>, hit: &[bool]) -> Bitset {
    fn go<T: Copy + Into<u32>>(keys: &[T], hit: &[bool]) -> Bitset {
        Bitset::from_fn(keys.len(), |i| hit[keys[i].into() as usize])
    }
    match col.keys {
        Keys::U8(k) => go(k, hit),
        Keys::U16(k) => go(k, hit),
        Keys::U32(k) => go(k, hit),
    }
}

/// q1 as the evaluator runs it: the tag's rows given (cached), the `threat:` term
/// decided per distinct value, its rows selected by the keys, then AND.
fn q1_cached(c: &ArrowCols<'_>, priority: &Bitset) -> Bitset {
    let needle = Needle::new("phish");
    let mut rows = select(&c.threats, &c.threats.hits(|t| needle.test(Op::Has, t)));
    rows.and_with(priority);
    rows
}

/// q1's rows by one fused loop over both key arrays.
fn q1_rows(c: &ArrowCols<'_>, tags: &TagTable) -> Res<Bitset> {
    let (rec, thr) = q1_hits(c, tags)?;
    fn go<A: Copy + Into<u32>, B: Copy + Into<u32>>(
        a: &[A],
        b: &[B],
        ha: &[bool],
        hb: &[bool],
    ) -> Bitset {
        Bitset::from_fn(a.len(), |i| {
            ha[a[i].into() as usize] && hb[b[i].into() as usize]
        })
    }
    macro_rules! second {
        ($a:expr) => {
            match c.threats.keys {
                Keys::U8(b) => go($a, b, &rec, &thr),
                Keys::U16(b) => go($a, b, &rec, &thr),
                Keys::U32(b) => go($a, b, &rec, &thr),
            }
        };
    }
    Ok(match c.recipient.keys {
        Keys::U8(a) => second!(a),
        Keys::U16(a) => second!(a),
        Keys::U32(a) => second!(a),
    })
}

/// q1 with arrow's kernels: `take` of the per-value hits by the keys, then AND.
fn q1_take_kernel(c: &ArrowCols<'_>, tags: &TagTable) -> Res<usize> {
    let (rec, thr) = q1_hits(c, tags)?;
    let a = arrow_select::take::take(&BooleanArray::from(rec), c.recipient.array, None)?;
    let b = arrow_select::take::take(&BooleanArray::from(thr), c.threats.array, None)?;
    let a = a
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or("take returned no booleans")?;
    let b = b
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or("take returned no booleans")?;
    Ok((a.values() & b.values()).count_set_bits())
}

/// Rows per value of `col` (over `rows`, or all rows), counted by key into a flat
/// array, then ordered most frequent first (ties by value).
fn frequency(col: &DictCol<'_>, rows: Option<&Bitset>) -> Vec<(String, usize)> {
    fn go<T: Copy + Into<u32>>(keys: &[T], rows: Option<&Bitset>, counts: &mut [u32]) {
        match rows {
            None => {
                for &k in keys {
                    counts[k.into() as usize] += 1;
                }
            }
            Some(r) => r.for_each(|i| counts[keys[i].into() as usize] += 1),
        }
    }
    let mut counts = vec![0u32; col.values.len()];
    match col.keys {
        Keys::U8(k) => go(k, rows, &mut counts),
        Keys::U16(k) => go(k, rows, &mut counts),
        Keys::U32(k) => go(k, rows, &mut counts),
    }
    let mut out: Vec<(&str, usize)> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, &n)| (col.values.value(i), n as usize))
        .collect();
    out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    out.into_iter().map(|(v, n)| (v.to_string(), n)).collect()
}

/// q4: rows per UTC day and `ThreatTypes` value, on two threads (as the index's
/// histogram runs), cells by day then value.
fn histogram(c: &ArrowCols<'_>) -> Vec<(i64, String, usize)> {
    // Two plain reductions (they vectorise; one fused min/max fold did not).
    let (Some(&lo), Some(&hi)) = (c.time.iter().min(), c.time.iter().max()) else {
        return Vec::new();
    };
    let (lo, hi) = (lo.div_euclid(DAY_NS), hi.div_euclid(DAY_NS));
    let width = (hi - lo + 1) as usize;
    let k = c.threats.values.len().max(1);
    fn go<T: Copy + Into<u32> + Sync>(
        time: &[i64],
        keys: &[T],
        lo: i64,
        width: usize,
        k: usize,
    ) -> Vec<u32> {
        let part = |from: usize, to: usize| {
            let mut counts = vec![0u32; width * k];
            for i in from..to {
                let b = (time[i].div_euclid(DAY_NS) - lo) as usize;
                counts[b * k + keys[i].into() as usize] += 1;
            }
            counts
        };
        let half = time.len() / 2;
        std::thread::scope(|s| {
            let h = s.spawn(|| part(half, time.len()));
            let mut a = part(0, half);
            if let Ok(b) = h.join() {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
            a
        })
    }
    let counts = match c.threats.keys {
        Keys::U8(keys) => go(c.time, keys, lo, width, k),
        Keys::U16(keys) => go(c.time, keys, lo, width, k),
        Keys::U32(keys) => go(c.time, keys, lo, width, k),
    };
    let mut order: Vec<usize> = (0..c.threats.values.len()).collect();
    order.sort_by(|a, b| c.threats.values.value(*a).cmp(c.threats.values.value(*b)));
    let mut out = Vec::new();
    for b in 0..width {
        for &v in &order {
            let n = counts[b * k + v];
            if n > 0 {
                out.push((
                    lo + b as i64,
                    c.threats.values.value(v).to_string(),
                    n as usize,
                ));
            }
        }
    }
    debug_assert!(out.iter().map(|x| x.2).sum::<usize>() == c.rows);
    out
}

fn check<T: PartialEq + std::fmt::Debug>(name: &str, a: &T, b: &T) -> Res<()> {
    if a == b {
        Ok(())
    } else {
        Err(format!("{name}: the answers differ:\nwhalewatch {a:?}\nArrow      {b:?}").into())
    }
}

// ---------------------------------------------------------------- measuring

/// One measured job (boxed, so jobs of one group share a type).
type Job<'a> = Box<dyn FnMut() -> Res<usize> + 'a>;

fn job<'a>(f: impl FnMut() -> Res<usize> + 'a) -> Job<'a> {
    Box::new(f)
}

/// Runs every group's jobs `runs` times, the order within a group rotated each
/// round, so no engine always runs first (or right after the other).
fn rotate(groups: &mut [Vec<(&str, Job<'_>)>], runs: usize) -> Res<Timings> {
    let mut t = Timings::default();
    for round in 0..runs {
        for g in groups.iter_mut() {
            let n = g.len();
            for j in 0..n {
                let (label, f) = &mut g[(j + round) % n];
                t.time(label, f)?;
            }
        }
    }
    Ok(t)
}

/// Durations per label, in the order first seen.
#[derive(Default)]
struct Timings(Vec<(String, Vec<Duration>)>);

impl Timings {
    fn time<T, E: Into<Box<dyn Error>>>(
        &mut self,
        label: &str,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Res<()> {
        let t = Instant::now();
        let out = f().map_err(Into::into)?;
        let d = t.elapsed();
        std::hint::black_box(out);
        match self.0.iter_mut().find(|(l, _)| *l == label) {
            Some((_, v)) => v.push(d),
            None => self.0.push((label.to_string(), vec![d])),
        }
        Ok(())
    }

    fn print(&mut self) {
        println!("{:<46} {:>9} {:>9}", "", "p50 ms", "p95 ms");
        for (label, v) in &mut self.0 {
            v.sort();
            let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
            println!(
                "{label:<46} {:>9.2} {:>9.2}",
                p(0.5).as_secs_f64() * 1e3,
                p(0.95).as_secs_f64() * 1e3
            );
        }
    }
}

/// Resident memory of this process: all, and the file-backed part (mapped page cache).
struct Rss {
    all: i64,
    file: i64,
}

impl Rss {
    fn now() -> Rss {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| -> i64 {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse().ok())
                .unwrap_or(0)
        };
        Rss {
            all: kb("VmRSS:") * 1024,
            file: kb("RssFile:") * 1024,
        }
    }

    fn minus(&self, before: &Rss) -> String {
        let mib = |b: i64| b as f64 / (1 << 20) as f64;
        format!(
            "{:>7.1} / {:>7.1}",
            mib(self.all - before.all),
            mib(self.file - before.file)
        )
    }
}
