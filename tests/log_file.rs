//! `--log-file` and `WHALEWATCH_LOG`: a debug log of full refreshes (client secret and
//! device code) against `whalewatch sim serve` has levels, a span per source and hunting
//! window with its time, is owner-only, and holds no secret, token or header.

mod common;

use common::refresh::{SimProcess, Workspace, WorldFlags, login_and_decide, mode};
use serde_json::Value;

#[cfg(unix)]
#[test]
fn a_debug_log_of_a_full_refresh_has_timings_and_no_secret() {
    let sim = SimProcess::start(&WorldFlags::small(502), &["--devicecode-interval", "1"]);
    let mut ws = Workspace::new("logfile");
    ws.add_sim_profile("app", &sim);
    ws.ok(&[
        "profile",
        "add",
        "analyst",
        "--tenant",
        &sim.tenant,
        "--client-id",
        &sim.client_id,
        "--auth",
        "device-code",
        "--login-url",
        &sim.url,
        "--graph-url",
        &sim.url,
    ]);
    let login = login_and_decide(&ws, &sim, "analyst", "approve");
    assert!(login.ok, "{login:#?}");

    let log = ws.dir.path().join("refresh.log");
    let log_arg = log.to_str().unwrap();
    let mut stderr_logs = String::new();
    for profile in ["app", "analyst"] {
        let run = |extra: &[&str]| {
            let mut args = vec![
                "refresh",
                "--profile",
                profile,
                "--hunting-calls-per-minute",
                "100000",
            ];
            args.extend_from_slice(extra);
            let out = ws
                .command(&args)
                .env("WHALEWATCH_LOG", "debug")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:#?}");
            String::from_utf8(out.stderr).unwrap()
        };
        // To the file: nothing of it on stderr.
        let stderr = run(&["--log-file", log_arg]);
        assert!(!stderr.contains("DEBUG"), "logged to stderr too: {stderr}");
        // Without --log-file, a command that is not the console logs to stderr.
        stderr_logs.push_str(&run(&[]));
    }

    // The index build's phases, from a query that builds it.
    let out = ws
        .command(&[
            "query",
            "emails",
            "--profile",
            "app",
            "--limit",
            "5",
            "--log-file",
            log_arg,
        ])
        .env("WHALEWATCH_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:#?}");

    assert_eq!(mode(&log), 0o600, "the log file is owner-only");
    let text = std::fs::read_to_string(&log).unwrap();
    for wanted in [
        " INFO ",
        " DEBUG ",
        "refresh started",
        "source{source=\"directory\"}: ",
        "source{source=\"alerts\"}: ",
        "source{source=hunting:EmailEvents}: ",
        "window{table=\"EmailEvents\"",
        "window fetched rows=",
        "index build",
        "columns loaded",
        "time.busy=",
        "refresh finished",
    ] {
        assert!(text.contains(wanted), "no {wanted:?} in the log:\n{text}");
    }
    assert!(stderr_logs.contains("window fetched"), "{stderr_logs}");

    let token_file = ws.cache_dir.join("analyst.json");
    let saved: Value = serde_json::from_slice(&std::fs::read(&token_file).unwrap()).unwrap();
    let access = saved["access_token"].as_str().unwrap();
    let refresh = saved["refresh_token"].as_str().unwrap();
    for (what, logged) in [("the log file", &text), ("stderr", &stderr_logs)] {
        for (name, s) in [
            ("client secret", sim.client_secret.as_str()),
            ("access token", access),
            ("refresh token", refresh),
            ("JWT prefix", "eyJ"),
            ("form field", "client_secret"),
            ("header", "Authorization: Bearer"),
        ] {
            assert!(!logged.contains(s), "{what} holds the {name}");
        }
        assert!(
            !logged.to_ascii_lowercase().contains("bearer "),
            "{what} holds a bearer"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_log_file_others_can_read_or_a_bad_filter_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new("logfile-refused");
    let log = ws.dir.path().join("open.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = ws.run(&["--log-file", log.to_str().unwrap(), "profile", "list"]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("open.log") && r.stderr.contains("chmod 600"),
        "{r:#?}"
    );
    assert_eq!(mode(&log), 0o644, "its mode is left alone");

    let out = ws
        .command(&["profile", "list"])
        .env("WHALEWATCH_LOG", "whalewatch=loud")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("WHALEWATCH_LOG"),
        "{stderr}"
    );
}
