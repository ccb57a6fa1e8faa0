//! A refresh through a fault storm (throttling, server errors, truncated bodies,
//! tokens rejected as expired) ends with exactly the cache a fault-free refresh of
//! the same world has, and its summary reports the retries.

mod common;

use common::refresh::{SimProcess, Summary, Workspace, WorldFlags, dump_diff};

const FAULTS: &str = "429:0.1,500:0.03,503:0.02,truncate:0.02,expire-token:0.02";

#[test]
fn a_refresh_through_faults_ends_with_the_fault_free_cache() {
    let world = WorldFlags::small(201);

    let clean_sim = SimProcess::start(&world, &[]);
    let mut clean = Workspace::new("faults-clean");
    clean.add_sim_profile("sim", &clean_sim);
    let clean_out = clean.refresh(&[]).expect_ok("fault-free refresh");
    let clean_summary = Summary::parse(&clean_out);
    assert_eq!(clean_summary.total("retries"), 0, "{clean_out}");
    let want = clean.dump("sim");
    assert!(want.lines().count() > 1000, "a non-trivial cache");

    let faulty_sim =
        SimProcess::start(&world, &["--faults", FAULTS, "--fault-retry-after", "0.01"]);
    let mut faulty = Workspace::new("faults-storm");
    faulty.add_sim_profile("sim", &faulty_sim);
    // Small windows: many hunting calls, so every fault kind is drawn.
    let out = faulty
        .refresh(&["--window-rows", "200"])
        .expect_ok("refresh through faults");
    let summary = Summary::parse(&out);
    let got = faulty.dump("sim");
    assert!(got == want, "caches differ:\n{}", dump_diff(&want, &got));

    assert!(summary.total("retries") > 0, "{out}");
    assert!(summary.total("throttled") > 0, "{out}");
    assert!(summary.total("token renewals") > 0, "{out}");
    assert!(
        summary.total("requests") > clean_summary.total("requests"),
        "retried requests are counted: {out}\nvs\n{clean_out}"
    );
}
