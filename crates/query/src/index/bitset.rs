//! A fixed-length set of row ids as 64-bit words: the result of every filter, and the
//! precomputed flags (priority recipient, clicked, zapped) and tag memberships.

/// A set of row ids `0..len`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitset {
    words: Vec<u64>,
    len: usize,
}

impl Bitset {
    /// The empty set over `len` rows.
    pub fn new(len: usize) -> Bitset {
        Bitset {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Every row of `len`.
    pub fn full(len: usize) -> Bitset {
        let mut b = Bitset {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        b.trim();
        b
    }

    /// The set of the rows for which `pred` holds, built a word at a time.
    pub fn from_fn(len: usize, mut pred: impl FnMut(usize) -> bool) -> Bitset {
        let mut words = Vec::with_capacity(len.div_ceil(64));
        let mut base = 0;
        while base < len {
            let end = (base + 64).min(len);
            let mut w = 0u64;
            for i in base..end {
                w |= u64::from(pred(i)) << (i - base);
            }
            words.push(w);
            base = end;
        }
        Bitset { words, len }
    }

    /// The set of the given rows (ids `>= len` are ignored).
    pub fn from_rows(len: usize, rows: impl IntoIterator<Item = u32>) -> Bitset {
        let mut b = Bitset::new(len);
        for r in rows {
            if (r as usize) < len {
                b.insert(r as usize);
            }
        }
        b
    }

    /// The set over `len` rows with these words; `None` unless there is one word per
    /// 64 rows and no bit past `len` (a damaged column file).
    pub fn from_words(words: Vec<u64>, len: usize) -> Option<Bitset> {
        let b = Bitset { words, len };
        let mut trimmed = b.clone();
        trimmed.trim();
        (b.words.len() == len.div_ceil(64) && trimmed == b).then_some(b)
    }

    /// Rows the set ranges over (not how many it holds: see [`Bitset::count`]).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set ranges over no rows at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The words, least significant bit first.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Adds row `i`.
    pub fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Whether row `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// How many rows the set holds.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// `self ∩ other`, in place.
    pub fn and_with(&mut self, other: &Bitset) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    /// `self ∪ other`, in place.
    pub fn or_with(&mut self, other: &Bitset) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    /// The complement, in place.
    pub fn negate(&mut self) {
        for w in &mut self.words {
            *w = !*w;
        }
        self.trim();
    }

    /// `|self ∩ other|` without building it.
    pub fn count_and(&self, other: &Bitset) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// The rows in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let t = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(k * 64 + t)
            })
        })
    }

    /// Calls `f` for every row in ascending order; faster than [`Bitset::iter`] on
    /// dense sets because full words skip the bit search.
    #[inline]
    pub fn for_each(&self, mut f: impl FnMut(usize)) {
        for (k, &w) in self.words.iter().enumerate() {
            let base = k * 64;
            if w == u64::MAX {
                for i in base..base + 64 {
                    f(i);
                }
                continue;
            }
            let mut w = w;
            while w != 0 {
                f(base + w.trailing_zeros() as usize);
                w &= w - 1;
            }
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    /// Clears bits past `len` in the last word.
    fn trim(&mut self) {
        let rem = self.len % 64;
        if rem != 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << rem) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra_respects_the_length() {
        let mut a = Bitset::from_fn(130, |i| i % 3 == 0);
        assert_eq!(a.count(), 44);
        let b = Bitset::full(130);
        assert_eq!(b.count(), 130);
        assert_eq!(a.count_and(&b), 44);
        a.negate();
        assert_eq!(a.count(), 86);
        assert!(!a.contains(130) && !a.contains(129) && a.contains(128));
        let rows: Vec<usize> = a.iter().take(3).collect();
        assert_eq!(rows, vec![1, 2, 4]);
        let mut n = 0;
        b.for_each(|_| n += 1);
        assert_eq!(n, 130);
        let mut c = Bitset::from_rows(130, [5, 7, 500]);
        c.or_with(&Bitset::from_rows(130, [6]));
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![5, 6, 7]);
        c.and_with(&Bitset::from_rows(130, [6, 7]));
        assert_eq!(c.count(), 2);
    }
}
