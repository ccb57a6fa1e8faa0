//! Columns of the index: dictionary-encoded strings (one copy of each distinct value,
//! a small code per row, as narrow as the dictionary allows) and whole numbers with a
//! null sentinel.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use super::bitset::Bitset;
use super::buf::Buf;

/// A fast, non-cryptographic hasher for interning (FxHash's mixing step).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.add(v);
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The distinct values of a string column, each stored once in one arena.
/// Invariant (checked by every constructor): `bytes` is UTF-8 and every `ends`
/// value is a char boundary of it, in ascending order.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    bytes: Buf<u8>,
    ends: Buf<u32>,
    /// Each code's position in value order, computed on first use (see [`Dict::ranks`]).
    ranks: OnceLock<Vec<u32>>,
}

impl Dict {
    /// A dictionary over `bytes` with the given value ends; `None` unless `bytes` is
    /// UTF-8 and the ends ascend along char boundaries (a damaged column file).
    pub(crate) fn from_parts(bytes: Buf<u8>, ends: Buf<u32>) -> Option<Dict> {
        let text = std::str::from_utf8(&bytes).ok()?;
        let mut last = 0usize;
        for &e in ends.iter() {
            let e = e as usize;
            if e < last || !text.is_char_boundary(e) {
                return None;
            }
            last = e;
        }
        Some(Dict {
            bytes,
            ends,
            ranks: OnceLock::new(),
        })
    }

    /// The arena and the value ends (what a column file stores).
    pub(crate) fn parts(&self) -> (&Buf<u8>, &Buf<u32>) {
        (&self.bytes, &self.ends)
    }

    /// How many distinct values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The value of `code`.
    #[inline]
    pub fn get(&self, code: u32) -> &str {
        let i = code as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let bytes = &self.bytes[start..self.ends[i] as usize];
        // SAFETY: `bytes` is UTF-8 cut at char boundaries (the invariant above).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Every value with its code.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(|c| (c, self.get(c)))
    }

    /// The code of `value` (exact), by a scan: for occasional lookups (pivots, anchors).
    pub fn find(&self, value: &str) -> Option<u32> {
        self.iter().find(|(_, v)| *v == value).map(|(c, _)| c)
    }

    /// Which codes satisfy `pred`: the predicate runs once per distinct value.
    pub fn matching(&self, mut pred: impl FnMut(&str) -> bool) -> Vec<bool> {
        self.iter().map(|(_, v)| pred(v)).collect()
    }

    /// Each code's position when the values are in `str` order (`ranks()[a] <
    /// ranks()[b]` exactly when `get(a) < get(b)`), sorted once on first use and kept:
    /// a frequency table breaks ties between thousands of values by value with one
    /// integer compare instead of a string compare each.
    pub fn ranks(&self) -> &[u32] {
        self.ranks.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.len() as u32).collect();
            order.sort_unstable_by(|a, b| self.get(*a).cmp(self.get(*b)));
            let mut ranks = vec![0u32; order.len()];
            for (rank, &code) in order.iter().enumerate() {
                ranks[code as usize] = rank as u32;
            }
            ranks
        })
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.heap_bytes()
            + self.ends.heap_bytes()
            + self
                .ranks
                .get()
                .map_or(0, |r| r.capacity() * size_of::<u32>())
    }
}

/// Builds a [`Dict`] and row codes while rows stream in.
#[derive(Debug, Default)]
pub struct Interner {
    /// Keyed by the bytes as read, so a repeated value is never checked for UTF-8
    /// again: only a new distinct value is (and replaced where invalid).
    map: FxMap<Box<[u8]>, u32>,
    bytes: String,
    ends: Vec<u32>,
}

impl Interner {
    /// The code of `s`, adding it when new.
    #[inline]
    pub fn intern(&mut self, s: &str) -> u32 {
        self.intern_bytes(s.as_bytes())
    }

    /// The code of the value read as `b`, adding it when new (invalid UTF-8
    /// replaced, as everywhere the cache is read).
    #[inline]
    pub fn intern_bytes(&mut self, b: &[u8]) -> u32 {
        if let Some(&c) = self.map.get(b) {
            return c;
        }
        let text = String::from_utf8_lossy(b);
        if let std::borrow::Cow::Owned(t) = &text {
            // Invalid UTF-8: one code for the replaced text however it was read.
            if let Some(&c) = self.map.get(t.as_bytes()) {
                self.map.insert(b.into(), c);
                return c;
            }
            self.map.insert(t.as_bytes().into(), self.ends.len() as u32);
        }
        let c = self.ends.len() as u32;
        self.bytes.push_str(&text);
        self.ends.push(self.bytes.len() as u32);
        self.map.insert(b.into(), c);
        c
    }

    /// The code of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s.as_bytes()).copied()
    }

    /// The value of `code` (interned before).
    #[inline]
    pub fn value(&self, code: u32) -> &str {
        let i = code as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    /// Distinct values so far.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The finished dictionary (the lookup map is dropped).
    pub fn finish(mut self) -> Dict {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        Dict {
            bytes: Buf::from(self.bytes.into_bytes()),
            ends: Buf::from(self.ends),
            ranks: OnceLock::new(),
        }
    }
}

/// Row codes, stored as narrow as the dictionary allows.
#[derive(Debug, Clone)]
pub enum Codes {
    /// Up to 256 distinct values.
    U8(Buf<u8>),
    /// Up to 65,536.
    U16(Buf<u16>),
    /// More.
    U32(Buf<u32>),
}

impl Codes {
    /// Narrows `codes` for a dictionary of `distinct` values.
    pub fn narrow(codes: Vec<u32>, distinct: usize) -> Codes {
        if distinct <= 1 << 8 {
            Codes::U8(Buf::from(
                codes.into_iter().map(|c| c as u8).collect::<Vec<_>>(),
            ))
        } else if distinct <= 1 << 16 {
            Codes::U16(Buf::from(
                codes.into_iter().map(|c| c as u16).collect::<Vec<_>>(),
            ))
        } else {
            let mut codes = codes;
            codes.shrink_to_fit();
            Codes::U32(Buf::from(codes))
        }
    }

    /// The code of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Codes::U8(v) => u32::from(v[i]),
            Codes::U16(v) => u32::from(v[i]),
            Codes::U32(v) => v[i],
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows whose code is marked in `hit`.
    pub fn select(&self, hit: &[bool]) -> Bitset {
        fn go<T: Copy + Into<u32>>(v: &[T], hit: &[bool]) -> Bitset {
            Bitset::from_fn(v.len(), |i| hit[v[i].into() as usize])
        }
        match self {
            Codes::U8(v) => go(v.as_slice(), hit),
            Codes::U16(v) => go(v.as_slice(), hit),
            Codes::U32(v) => go(v.as_slice(), hit),
        }
    }

    /// Adds one to `counts[code]` for every row of `rows`: a plain loop over the
    /// codes for every run of full words of the set (every row, when the set is
    /// all rows), a bit walk for the others.
    pub fn count_into(&self, rows: &Bitset, counts: &mut [u32]) {
        fn go<T: Copy + Into<u32>>(v: &[T], rows: &Bitset, counts: &mut [u32]) {
            // One thread: a helper halves the loop on an idle machine, but on a busy
            // one it waits for a core longer than the whole count takes.
            let words = rows.words();
            let mut k = 0;
            while k < words.len() {
                let w = words[k];
                if w == u64::MAX {
                    let run = words[k..].iter().take_while(|&&w| w == u64::MAX).count();
                    let (from, to) = (k * 64, ((k + run) * 64).min(v.len()));
                    count_slice(&v[from..to], counts);
                    k += run;
                    continue;
                }
                let base = k * 64;
                let mut w = w;
                while w != 0 {
                    counts[v[base + w.trailing_zeros() as usize].into() as usize] += 1;
                    w &= w - 1;
                }
                k += 1;
            }
        }
        match self {
            Codes::U8(v) => go(v.as_slice(), rows, counts),
            Codes::U16(v) => go(v.as_slice(), rows, counts),
            Codes::U32(v) => go(v.as_slice(), rows, counts),
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.heap_bytes(),
            Codes::U16(v) => v.heap_bytes(),
            Codes::U32(v) => v.heap_bytes(),
        }
    }
}

/// Adds one to `counts[code]` for every code of `v`. Rows of one message sit
/// together and often share a value, and an increment that waits for the previous
/// one to the same counter stalls the loop: four interleaved counter arrays keep
/// four increments in flight, summed at the end.
fn count_slice<T: Copy + Into<u32>>(v: &[T], counts: &mut [u32]) {
    const LANES: usize = 4;
    let n = counts.len();
    if v.len() < 4 * LANES * n {
        // Few rows per value: the extra arrays would cost more than they save.
        for c in v {
            counts[(*c).into() as usize] += 1;
        }
        return;
    }
    let mut lanes = vec![0u32; LANES * n];
    let (l0, rest) = lanes.split_at_mut(n);
    let (l1, rest) = rest.split_at_mut(n);
    let (l2, l3) = rest.split_at_mut(n);
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        l0[c[0].into() as usize] += 1;
        l1[c[1].into() as usize] += 1;
        l2[c[2].into() as usize] += 1;
        l3[c[3].into() as usize] += 1;
    }
    for c in chunks.remainder() {
        l0[(*c).into() as usize] += 1;
    }
    for (i, out) in counts.iter_mut().enumerate() {
        *out += l0[i] + l1[i] + l2[i] + l3[i];
    }
}

/// A dictionary-encoded string column. SQLite `NULL` and the empty string are the
/// same value, as in Kusto (whose strings are never null).
#[derive(Debug, Clone)]
pub struct StrColumn {
    /// Distinct values.
    pub dict: Dict,
    /// One code per row.
    pub codes: Codes,
}

impl StrColumn {
    /// The value of row `i`.
    #[inline]
    pub fn value(&self, i: usize) -> &str {
        self.dict.get(self.codes.get(i))
    }

    /// The rows whose value satisfies `pred` (evaluated once per distinct value).
    pub fn select(&self, pred: impl FnMut(&str) -> bool) -> Bitset {
        let hit = self.dict.matching(pred);
        if !hit.iter().any(|&h| h) {
            return Bitset::new(self.codes.len());
        }
        if hit.iter().all(|&h| h) {
            return Bitset::full(self.codes.len());
        }
        self.codes.select(&hit)
    }

    /// Rows per code over `rows`.
    pub fn counts(&self, rows: &Bitset) -> Vec<u32> {
        let mut counts = vec![0u32; self.dict.len()];
        self.codes.count_into(rows, &mut counts);
        counts
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.dict.heap_bytes() + self.codes.heap_bytes()
    }
}

/// Builds a [`StrColumn`] row by row.
#[derive(Debug, Default)]
pub struct StrBuilder {
    interner: Interner,
    codes: Vec<u32>,
}

impl StrBuilder {
    /// A builder sized for `rows` rows and `distinct` values, so neither the codes
    /// nor the interning map grow (and rehash) while rows stream in.
    pub fn with_capacity(rows: usize, distinct: usize) -> StrBuilder {
        StrBuilder {
            interner: Interner {
                map: FxMap::with_capacity_and_hasher(distinct, Default::default()),
                ..Interner::default()
            },
            codes: Vec::with_capacity(rows),
        }
    }

    /// Appends one row's value (`None`: null, stored as the empty string).
    #[inline]
    pub fn push(&mut self, v: Option<&str>) {
        self.push_bytes(v.map(str::as_bytes));
    }

    /// Appends one row's value as read from the cache, unchecked: UTF-8 is checked
    /// once per distinct value ([`Interner::intern_bytes`]), not once per row.
    #[inline]
    pub fn push_bytes(&mut self, v: Option<&[u8]>) {
        let v = v.unwrap_or(b"");
        // Recipients of one message are adjacent and share most values: a compare
        // with the previous row is cheaper than a hash.
        if let Some(&last) = self.codes.last()
            && self.interner.value(last).as_bytes() == v
        {
            self.codes.push(last);
            return;
        }
        let c = self.interner.intern_bytes(v);
        self.codes.push(c);
    }

    /// The code of `s`, if some row has it.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.interner.get(s)
    }

    /// The value of `code` (a code of some row so far).
    pub fn value(&self, code: u32) -> &str {
        self.interner.value(code)
    }

    /// The codes so far, one per row.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Distinct values so far.
    pub fn distinct(&self) -> usize {
        self.interner.len()
    }

    /// The finished column.
    pub fn finish(self) -> StrColumn {
        let dict = self.interner.finish();
        let codes = Codes::narrow(self.codes, dict.len());
        StrColumn { dict, codes }
    }
}

/// A column of whole numbers; `None` (SQL `NULL`, a missing JSON key) never matches a
/// comparison.
#[derive(Debug, Clone)]
pub enum IntColumn {
    /// Every value fits in an `i32` (`i32::MIN` is null).
    Narrow(Buf<i32>),
    /// Wider values (`i64::MIN` is null).
    Wide(Buf<i64>),
}

impl IntColumn {
    /// From values with `None` for null.
    pub fn from_values(values: Vec<Option<i64>>) -> IntColumn {
        match values
            .iter()
            .map(|&v| IntColumn::narrow_value(v))
            .collect::<Option<Vec<_>>>()
        {
            Some(narrow) => IntColumn::Narrow(Buf::from(narrow)),
            None => IntColumn::Wide(Buf::from(
                values
                    .into_iter()
                    .map(IntColumn::wide_value)
                    .collect::<Vec<_>>(),
            )),
        }
    }

    /// `v` as a narrow column stores it; `None` when it does not fit.
    pub(crate) fn narrow_value(v: Option<i64>) -> Option<i32> {
        match v {
            None => Some(i32::MIN),
            Some(x) if x > i64::from(i32::MIN) && x <= i64::from(i32::MAX) => Some(x as i32),
            Some(_) => None,
        }
    }

    /// `v` as a wide column stores it.
    pub(crate) fn wide_value(v: Option<i64>) -> i64 {
        v.map_or(i64::MIN, |x| x.max(i64::MIN + 1))
    }

    /// The value of row `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            IntColumn::Narrow(v) => Some(v[i]).filter(|&x| x != i32::MIN).map(i64::from),
            IntColumn::Wide(v) => Some(v[i]).filter(|&x| x != i64::MIN),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        match self {
            IntColumn::Narrow(v) => v.len(),
            IntColumn::Wide(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows whose value is not null and satisfies `pred`.
    pub fn select(&self, pred: impl Fn(i64) -> bool) -> Bitset {
        match self {
            IntColumn::Narrow(v) => Bitset::from_fn(v.len(), |i| {
                let x = v[i];
                x != i32::MIN && pred(i64::from(x))
            }),
            IntColumn::Wide(v) => Bitset::from_fn(v.len(), |i| {
                let x = v[i];
                x != i64::MIN && pred(x)
            }),
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            IntColumn::Narrow(v) => v.heap_bytes(),
            IntColumn::Wide(v) => v.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_checked_for_utf8_once_per_value_and_invalid_ones_are_replaced() {
        let mut b = StrBuilder::default();
        b.push_bytes(Some(b"ok"));
        b.push_bytes(Some(b"ok"));
        b.push_bytes(Some(b"bad\xff"));
        b.push_bytes(None);
        b.push_bytes(Some("bad\u{fffd}".as_bytes()));
        b.push_bytes(Some(b"bad\xfe"));
        b.push(Some("ok"));
        assert_eq!(b.lookup("ok"), Some(0));
        let col = b.finish();
        let values: Vec<&str> = (0..7).map(|r| col.value(r)).collect();
        assert_eq!(
            values,
            [
                "ok",
                "ok",
                "bad\u{fffd}",
                "",
                "bad\u{fffd}",
                "bad\u{fffd}",
                "ok"
            ]
        );
        // One dictionary entry per text: the replaced spellings share one.
        assert_eq!(col.dict.len(), 3);
        assert_eq!(col.codes.get(2), col.codes.get(5));
    }

    #[test]
    fn counts_over_full_runs_partial_words_and_the_tail_equal_a_plain_count() {
        // 3 values over 1,000 rows: the interleaved counters run (rows ≥ 16 × values);
        // 300 values: the plain loop does.
        for distinct in [3u32, 300] {
            let rows = 1_000;
            let codes: Vec<u32> = (0..rows).map(|r| (r * 7 / 5) % distinct).collect();
            let col = Codes::narrow(codes.clone(), distinct as usize);
            // Every row; then a set with full words, partial words and a ragged end.
            let all = Bitset::full(rows as usize);
            let some = Bitset::from_fn(rows as usize, |r| r < 300 || r % 3 == 0 || r > 900);
            for set in [all, some] {
                let mut got = vec![0u32; distinct as usize];
                col.count_into(&set, &mut got);
                let mut want = vec![0u32; distinct as usize];
                set.for_each(|r| want[codes[r] as usize] += 1);
                assert_eq!(got, want, "{distinct} values");
            }
        }
    }

    #[test]
    fn ranks_order_codes_by_value() {
        let mut b = StrBuilder::default();
        for v in ["pear", "apple", "", "Zebra", "äpfel", "apple"] {
            b.push(Some(v));
        }
        let dict = b.finish().dict;
        let mut by_rank: Vec<(u32, &str)> = dict
            .iter()
            .map(|(c, v)| (dict.ranks()[c as usize], v))
            .collect();
        by_rank.sort();
        let values: Vec<&str> = by_rank.into_iter().map(|(_, v)| v).collect();
        assert_eq!(values, ["", "Zebra", "apple", "pear", "äpfel"]);
    }

    #[test]
    fn a_dictionary_from_a_file_must_be_utf8_cut_at_char_boundaries() {
        let bytes = || Buf::from("aé".as_bytes().to_vec());
        assert!(Dict::from_parts(bytes(), Buf::from(vec![1, 3])).is_some());
        assert!(
            Dict::from_parts(bytes(), Buf::from(vec![2, 3])).is_none(),
            "inside é"
        );
        assert!(
            Dict::from_parts(bytes(), Buf::from(vec![3, 1])).is_none(),
            "descending"
        );
        assert!(
            Dict::from_parts(bytes(), Buf::from(vec![4])).is_none(),
            "past the end"
        );
        assert!(Dict::from_parts(Buf::from(vec![0xff]), Buf::from(vec![1])).is_none());
    }
}
