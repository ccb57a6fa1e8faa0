//! `kill -9` a refresh part-way, run it again, and the cache is exactly what an
//! uninterrupted refresh leaves; a refresh with nothing new transfers next to
//! nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::refresh::{
    KillOnDrop, SimProcess, Summary, Workspace, WorldFlags, dump, dump_diff, wait_until,
};

/// Small windows: each hunting table is fetched (and committed) in many pieces, so
/// a kill lands between two commits of the same table.
const WINDOW_ROWS: &str = "100";

/// Where to kill: right after the progress line containing this text appears.
/// Chosen to land inside the directory write, inside `EmailEvents` and inside the
/// post-delivery events (which rewrite `email_events` rows).
const KILL_POINTS: &[&str] = &[
    "refresh: directory",
    "refresh: hunting:EmailEvents:",
    "refresh: hunting:EmailPostDeliveryEvents:",
];

#[cfg(unix)]
#[test]
fn a_refresh_killed_at_any_point_converges_to_the_uninterrupted_cache() {
    let world = WorldFlags::small(301);
    // Every request answered 25 ms late: after a kill point's progress line, the
    // rest of the refresh takes far longer than the test needs to kill it.
    let sim = SimProcess::start(&world, &["--faults", "slow:1", "--slow-ms", "25"]);

    let mut reference = Workspace::new("resume-ref");
    reference.add_sim_profile("sim", &sim);
    let first = reference
        .refresh(&["--window-rows", WINDOW_ROWS])
        .expect_ok("uninterrupted refresh");
    let want = reference.dump("sim");
    let first = Summary::parse(&first);

    for (i, point) in KILL_POINTS.iter().enumerate() {
        let mut ws = Workspace::new(&format!("resume-kill{i}"));
        ws.add_sim_profile("sim", &sim);
        let mut child = KillOnDrop(
            ws.command(&[
                "refresh",
                "--hunting-calls-per-minute",
                "100000",
                "--window-rows",
                WINDOW_ROWS,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("refresh starts"),
        );
        let stderr = child.0.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the kill point: a progress line, and the cache file on disk.
        let mut seen = Vec::new();
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|e| panic!("no progress line `{point}` ({e}); saw {seen:#?}"));
            let hit = line.starts_with(point);
            seen.push(line);
            if hit {
                break;
            }
        }
        assert!(
            wait_until(Duration::from_secs(30), || ws.cache_file("sim").exists()),
            "the cache file appears once a refresh runs"
        );
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the refresh ended before the kill point {point}; saw {seen:#?}"
        );
        // SIGKILL: no destructor, no flush, no signal handler.
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
        }
        let partial = dump(&ws.cache_file("sim"));
        assert!(
            partial != want,
            "the kill at {point} interrupted nothing; pick an earlier point"
        );

        let out = ws
            .refresh(&["--window-rows", WINDOW_ROWS])
            .expect_ok("refresh after the kill");
        let got = ws.dump("sim");
        assert!(
            got == want,
            "after a kill at `{point}` the cache differs from an uninterrupted refresh:\n{}\n{out}",
            dump_diff(&want, &got)
        );
    }

    // A second refresh of the reference: nothing new, next to nothing received.
    let out = reference
        .refresh(&["--window-rows", WINDOW_ROWS])
        .expect_ok("second refresh");
    let second = Summary::parse(&out);
    assert_eq!(
        reference.dump("sim"),
        want,
        "a second refresh changes nothing"
    );
    for row in &second.rows {
        assert_eq!(
            (row.new, row.updated),
            (0, 0),
            "{}: nothing is new on a second refresh\n{out}",
            row.source
        );
    }
    let hunting = |s: &Summary| -> u64 {
        s.rows
            .iter()
            .filter(|r| r.source.starts_with("hunting:"))
            .map(|r| r.received)
            .sum()
    };
    let (before, after) = (hunting(&first), hunting(&second));
    assert!(before > 1000, "{before}");
    // Only the overlap window (an hour before each watermark) is read again.
    assert!(
        after * 20 < before,
        "a second refresh re-read {after} of {before} hunting rows\n{out}"
    );
}
