//! A refresh through a fault storm (throttling, server errors, truncated bodies,
//! tokens rejected as expired) ends with exactly the cache a fault-free refresh of
//! the same world has, and its summary reports the retries.

mod common;

use common::refresh::{SimProcess, Summary, Workspace, WorldFlags, dump_diff, request_log};

const FAULTS: &str = "429:0.1,500:0.03,503:0.02,truncate:0.02,expire-token:0.02";

#[test]
fn a_refresh_through_faults_ends_with_the_fault_free_cache() {
    let world = WorldFlags::small(202);

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
    // Small windows: many hunting calls, so every fault kind is drawn (the draw is
    // a function of the seed and the request's sequence number: reproducible).
    let out = faulty
        .refresh(&["--window-rows", "50"])
        .expect_ok("refresh through faults");
    let summary = Summary::parse(&out);
    let got = faulty.dump("sim");
    assert!(got == want, "caches differ:\n{}", dump_diff(&want, &got));

    // What the simulator injected, from its request log.
    let log = request_log(&faulty_sim.url);
    let faults = |kind: &str, on_token: bool| -> u64 {
        log.iter()
            .filter(|r| {
                r["fault"] == kind && r["path"].as_str().unwrap().ends_with("/token") == on_token
            })
            .count() as u64
    };
    for kind in [
        "Throttle",
        "ServerError",
        "Unavailable",
        "Truncate",
        "ExpireToken",
    ] {
        assert!(
            faults(kind, false) > 0,
            "no {kind} fault drawn on Graph: pick another seed"
        );
    }
    assert!(
        faults("Throttle", true) + faults("ServerError", true) + faults("Unavailable", true) > 0,
        "no fault drawn on the token endpoint: pick another seed"
    );
    // Every Graph fault is one retry; 429 and 503 are throttling; each rejected
    // token is one renewal. The summary reports exactly that.
    let retried = ["Throttle", "ServerError", "Unavailable", "Truncate"]
        .iter()
        .map(|k| faults(k, false))
        .sum::<u64>();
    assert_eq!(summary.total("retries"), retried, "{out}");
    assert_eq!(
        summary.total("throttled"),
        faults("Throttle", false) + faults("Unavailable", false),
        "{out}"
    );
    assert_eq!(
        summary.total("token renewals"),
        faults("ExpireToken", false),
        "{out}"
    );
    let graph_requests = log
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/v1.0/"))
        .count() as u64;
    assert_eq!(summary.total("requests"), graph_requests, "{out}");
    assert!(summary.total("retries") > 0);
}
