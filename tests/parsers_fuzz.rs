//! Every response parser a hostile endpoint can reach, fed arbitrary bytes and mutated
//! documented payloads: errors are expected, panics are bugs. The long run (millions of
//! executions) is `examples/fuzz_parsers.rs`; this keeps a few hundred cases in CI.

#[path = "parsers_fuzz/targets.rs"]
mod targets;

use proptest::prelude::*;
use targets::{CORPUS, Rng, TARGETS, feed, mutate};

#[test]
fn every_documented_payload_parses_somewhere() {
    for (i, body) in CORPUS.iter().enumerate() {
        let parsed = (0..TARGETS).filter(|t| feed(*t, body.as_bytes())).count();
        assert!(parsed > 0, "corpus entry {i} parses with no parser");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_payloads_never_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let input = mutate(&mut rng);
        for t in 0..TARGETS {
            feed(t, &input);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for t in 0..TARGETS {
            feed(t, &bytes);
        }
    }
}
