//! A small deterministic PRNG (xoshiro256** seeded through SplitMix64).
//!
//! The simulator promises that the same `--seed` and `--now` give a byte-identical
//! world on every platform and every build, so it owns its generator instead of
//! depending on a crate whose stream may change between versions. Each part of the
//! world draws from its own named stream, so changing one generator does not shift
//! every number in the others.

/// A seeded random stream.
#[derive(Debug, Clone)]
pub struct SimRng {
    s: [u64; 4],
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, to turn a stream label into seed material.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

impl SimRng {
    /// The stream named `label` of world `seed`.
    pub fn new(seed: u64, label: &str) -> Self {
        let mut st = seed ^ fnv1a(label.as_bytes()).rotate_left(17);
        SimRng {
            s: [
                splitmix(&mut st),
                splitmix(&mut st),
                splitmix(&mut st),
                splitmix(&mut st),
            ],
        }
    }

    /// A sub-stream, e.g. one per day, so days can be generated independently.
    pub fn fork(&self, index: u64) -> Self {
        let mut st = self.s[0] ^ index.wrapping_mul(0xA076_1D64_78BD_642F) ^ self.s[3];
        SimRng {
            s: [
                splitmix(&mut st),
                splitmix(&mut st),
                splitmix(&mut st),
                splitmix(&mut st),
            ],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n`; `n == 0` yields 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given relative weights (all-zero weights give 0).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < u64::from(*w) {
                return i;
            }
            x -= u64::from(*w);
        }
        0
    }

    /// A random GUID-shaped identifier (version-4 layout).
    pub fn guid(&mut self) -> Guid {
        let v = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        Guid((v & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62))
    }

    /// `n` random bytes as lowercase hex.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n * 2);
        while s.len() < n * 2 {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n * 2);
        s
    }
}

/// A 128-bit identifier printed as `8-4-4-4-12` lowercase hex, like Entra object IDs
/// and network message IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u128);

impl Guid {
    /// Parses the `8-4-4-4-12` form (any case).
    pub fn parse(s: &str) -> Option<Guid> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || s.len() != 36 {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Guid)
    }
}

impl std::fmt::Display for Guid {
    /// Written by hand: result serialisation prints millions of message ids.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 36];
        let mut nibble = 0;
        for (i, b) in buf.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                *b = b'-';
                continue;
            }
            *b = HEX[((self.0 >> (124 - 4 * nibble)) & 0xF) as usize];
            nibble += 1;
        }
        f.write_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_labels_differ() {
        let a: Vec<u64> = (0..4).map(|_| SimRng::new(7, "mail").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SimRng::new(7, "mail").next_u64(),
            SimRng::new(7, "users").next_u64()
        );
        assert_ne!(
            SimRng::new(7, "mail").next_u64(),
            SimRng::new(8, "mail").next_u64()
        );
    }

    #[test]
    fn below_stays_in_range_and_weighted_respects_zero() {
        let mut r = SimRng::new(1, "t");
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            assert_ne!(r.weighted(&[0, 3, 0, 1]), 0);
        }
    }

    #[test]
    fn guid_prints_version_four_layout() {
        let g = SimRng::new(3, "g").guid().to_string();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"), "{g}");
        assert_eq!(Guid::parse(&g).map(|p| p.to_string()), Some(g.clone()));
        assert_eq!(
            Guid::parse(&g.to_uppercase()).map(|p| p.to_string()),
            Some(g)
        );
        assert_eq!(Guid::parse("not-a-guid"), None);
    }
}
