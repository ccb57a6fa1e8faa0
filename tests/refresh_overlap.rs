//! A refresh reads the tenant-wide posture sources (Conditional Access, risky users,
//! Secure Score) beside the hunting pull, not after it: other endpoints, other quotas.
//! The sources about the priority accounts wait for the tags, which name them.

mod common;

use common::refresh::{SimProcess, Workspace, WorldFlags, request_log};

#[test]
fn tenant_wide_posture_sources_are_read_during_the_hunting_pull() {
    let world = WorldFlags::small_now(303);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("overlap");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&[]).expect_ok("refresh");

    // The simulator logs each request as it answers it.
    let log = request_log(&sim.url);
    let paths: Vec<&str> = log.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let first = |endpoint: &str| {
        paths
            .iter()
            .position(|p| *p == endpoint)
            .unwrap_or_else(|| panic!("{endpoint} not read: {paths:?}"))
    };
    let hunting = "/v1.0/security/runHuntingQuery";
    let last_hunting = paths
        .iter()
        .rposition(|p| *p == hunting)
        .expect("hunting calls");
    let hunting_calls = paths.iter().filter(|p| **p == hunting).count();
    assert!(
        hunting_calls >= 12,
        "a count and a window per table: {paths:?}"
    );
    // Risky users share Conditional Access's quota (1 request a second): in a world
    // this small the hunting pull may be over before their slot comes.
    for endpoint in [
        "/v1.0/identity/conditionalAccess/policies",
        "/v1.0/security/secureScores",
    ] {
        assert!(
            first(endpoint) < last_hunting,
            "{endpoint} waited for the hunting pull: {paths:?}"
        );
    }
    for endpoint in [
        "/v1.0/reports/authenticationMethods/userRegistrationDetails",
        "/v1.0/auditLogs/signIns",
    ] {
        assert!(
            first(endpoint) > last_hunting,
            "{endpoint} is read for the priority accounts the tags name, after the mail: {paths:?}"
        );
    }
}
