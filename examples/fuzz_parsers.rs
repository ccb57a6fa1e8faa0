//! A fuzz harness for the response parsers that works on stable Rust (no libFuzzer):
//! mutates the documented payloads in `tests/fixtures/graph` and feeds them to every
//! Graph, identity and hunting parser (see `tests/parsers_fuzz/targets.rs`).
//!
//! ```text
//! cargo run --release --example fuzz_parsers -- [EXECUTIONS] [SEED] [THREADS]
//! ```
//!
//! One execution is one input through one parser. A panic prints the seed, the
//! iteration and the input (also written to `fuzz-crash-<seed>-<n>.bin`) and exits 1; a
//! parser that makes no progress for 60 s is reported as a hang and exits 2.

#[path = "../tests/parsers_fuzz/targets.rs"]
mod targets;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use targets::{Rng, TARGETS, feed, mutate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| {
        args.get(i)
            .map(|a| a.replace('_', "").parse::<u64>())
            .transpose()
            .unwrap_or_else(|e| {
                eprintln!("usage: fuzz_parsers [EXECUTIONS] [SEED] [THREADS] ({e})");
                std::process::exit(64)
            })
            .unwrap_or(default)
    };
    let total = arg(0, 1_000_000);
    let seed = arg(1, 1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = arg(2, cores).max(1);
    // Panics are reported by the harness with the input, not by the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let done = Arc::new(AtomicU64::new(0));
    let parsed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (done, parsed) = (done.clone(), parsed.clone());
            let share = total / threads + u64::from(t < total % threads);
            std::thread::spawn(move || {
                let thread_seed = seed.wrapping_add(t.wrapping_mul(0x1000_0000_0000));
                let mut rng = Rng::new(thread_seed);
                let mut n = 0u64;
                while n < share {
                    let input = mutate(&mut rng);
                    // Each input goes through every parser: that is TARGETS executions.
                    for target in 0..TARGETS {
                        if n == share {
                            break;
                        }
                        match std::panic::catch_unwind(|| feed(target, &input)) {
                            Ok(true) => {
                                parsed.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(false) => {}
                            Err(e) => crash(thread_seed, n, target, &input, &e),
                        }
                        n += 1;
                        if n.is_multiple_of(4096) {
                            done.fetch_add(4096, Ordering::Relaxed);
                        }
                    }
                }
                done.fetch_add(n % 4096, Ordering::Relaxed);
            })
        })
        .collect();
    let mut last = (0, Instant::now());
    while done.load(Ordering::Relaxed) < total {
        std::thread::sleep(Duration::from_millis(500));
        let now = done.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(60) {
            eprintln!("HANG: no progress for 60 s at {now} executions (seed {seed})");
            std::process::exit(2);
        }
        if workers.iter().all(|w| w.is_finished()) {
            break;
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{n} executions ({} parsed) over {TARGETS} parsers in {secs:.1}s ({:.0}/s), seed {seed}, {threads} threads: no crash, no hang",
        parsed.load(Ordering::Relaxed),
        n as f64 / secs.max(1e-9)
    );
}

fn crash(seed: u64, n: u64, target: usize, input: &[u8], e: &(dyn std::any::Any + Send)) -> ! {
    let why = e
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let file = format!("fuzz-crash-{seed}-{n}.bin");
    let _ = std::fs::write(&file, input);
    eprintln!(
        "CRASH in parser {target} (thread seed {seed}, execution {n}): {why}\ninput saved to {file}:\n{}",
        String::from_utf8_lossy(input)
    );
    std::process::exit(1);
}
