//! The response parsers a hostile endpoint can reach, and a mutator of documented payloads.
//! Shared by the proptest suite (`tests/parsers_fuzz.rs`) and the long-running harness
//! (`examples/fuzz_parsers.rs`) through `#[path]`, so both drive the same code.

use whalewatch::model::batch::RowBatch;
use whalewatch::model::directory::DirectoryObject;
use whalewatch::model::email::{EmailEvent, PostDeliveryEvent};
use whalewatch::model::hunting::HuntingRows;
use whalewatch::model::json::replace_lone_surrogates;
use whalewatch::model::{Alert, AnalyzedEmail, HuntingResult, Incident, User};
use whalewatch::tenant::auth::TokenResponse;
use whalewatch::tenant::auth::device_code::DeviceCodeChallenge;
use whalewatch::tenant::error::{Endpoint, IdentityError, from_graph_response};
use whalewatch::tenant::http::parse_page;

/// The documented payloads (and one synthetic users page), embedded so the harness
/// needs no files at run time.
pub const CORPUS: &[&str] = &[
    include_str!("../fixtures/graph-alerts_v2-list.response.json"),
    include_str!("../fixtures/graph-alerts_v2-get.response.json"),
    include_str!("../fixtures/graph-alerts_v2-comment.response.json"),
    include_str!("../fixtures/graph-incidents-list.response.json"),
    include_str!("../fixtures/graph-v1-analyzedEmails-list.response.json"),
    include_str!("../fixtures/graph-runHuntingQuery.response.json"),
    include_str!("../fixtures/graph-runHuntingQuery-timespan.response.json"),
    include_str!("../fixtures/token-client-credentials.response.json"),
    include_str!("../fixtures/token-device-code.response.json"),
    include_str!("../fixtures/token-error.response.json"),
    include_str!("../fixtures/graph-error-429.json"),
    include_str!("../fixtures/graph-error-generic.json"),
    include_str!("../fixtures/graph-users-list.synthetic.json"),
];

/// How many parsers [`feed`] can drive.
pub const TARGETS: usize = 14;

/// Feeds `bytes` to parser number `target` (mod [`TARGETS`]) the way the client does:
/// errors are fine, a panic or a hang is the bug. Returns whether it parsed.
pub fn feed(target: usize, bytes: &[u8]) -> bool {
    match target % TARGETS {
        0 => parse_page::<Alert>(bytes).is_ok(),
        1 => parse_page::<Incident>(bytes).is_ok(),
        2 => parse_page::<User>(bytes).is_ok(),
        3 => parse_page::<DirectoryObject>(bytes).is_ok(),
        4 => parse_page::<AnalyzedEmail>(bytes).is_ok(),
        5 => serde_json::from_slice::<Alert>(bytes).is_ok(),
        6 => RowBatch::parse::<EmailEvent>(bytes).is_ok(),
        7 => RowBatch::parse::<PostDeliveryEvent>(bytes).is_ok(),
        8 => HuntingRows::<EmailEvent>::from_slice(bytes).is_ok(),
        9 => serde_json::from_slice::<HuntingResult>(bytes).is_ok(),
        10 => serde_json::from_slice::<TokenResponse>(bytes).is_ok(),
        11 => serde_json::from_slice::<DeviceCodeChallenge>(bytes).is_ok(),
        12 => {
            let e = from_graph_response(Endpoint::new("GET", "/users"), 400, None, bytes);
            !e.to_string().is_empty()
        }
        _ => {
            let mut repaired = bytes.to_vec();
            replace_lone_surrogates(&mut repaired);
            assert_eq!(repaired.len(), bytes.len(), "repair keeps offsets");
            let e = IdentityError::from_body("contoso", "app", 400, &repaired);
            !e.to_string().is_empty()
        }
    }
}

/// A small, fast PRNG (xorshift64*), so a run is reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (0 is remapped: xorshift has no zero state).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Fragments a hostile endpoint likes: lone surrogates, nulls where collections go,
/// numbers no type holds, broken times, deep nesting, keys in other cases.
const INSERTS: &[&str] = &[
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\u0000",
    "null",
    "[null]",
    "{}",
    "[]",
    "1e999999",
    "-99999999999999999999999",
    "18446744073709551616",
    "\"2026-13-45T99:99:99Z\"",
    "\"\"",
    "\"Id\"",
    "\"ID\"",
    "\"value\":null",
    "\"@odata.nextLink\":\"http://evil.example/x\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "\u{feff}",
    "\\",
    "\"",
    ",",
    ":",
];

/// A mutated copy of a corpus entry: 1–4 of bit flips, truncation, deletion,
/// duplication, splices from another entry, and hostile inserts.
pub fn mutate(rng: &mut Rng) -> Vec<u8> {
    let mut b = CORPUS[rng.below(CORPUS.len())].as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 => b.truncate(at),
            2 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(256)).min(b.len());
                let piece = b[at.min(end)..end].to_vec();
                b.splice(at..at, piece);
            }
            4 => {
                let other = CORPUS[rng.below(CORPUS.len())].as_bytes();
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(512)).min(other.len());
                b.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let insert = INSERTS[rng.below(INSERTS.len())].as_bytes();
                b.splice(at..at, insert.iter().copied());
            }
        }
    }
    b
}
