//! The console's session log and saved views from the command line: the real binary
//! over a cache refreshed from `whalewatch sim serve` on loopback. `journal --session`
//! prints what the console appended; `tui --replay` and `tui --open` check their
//! input before they need a terminal, naming the file or the views that exist.

mod common;

use common::refresh::{SimProcess, Workspace, WorldFlags};
use serde_json::Value;
use whalewatch::ui::session_log::{self, Entry, EntryKind};

fn entry(secs: i64, kind: EntryKind, line: &str, run: &[&str]) -> Entry {
    Entry {
        at: chrono::DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap(),
        kind,
        line: line.into(),
        run: run.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn journal_session_prints_the_console_s_log_and_replay_and_open_check_their_input() {
    let sim = SimProcess::start(&WorldFlags::small(811), &[]);
    let mut ws = Workspace::new("console-session");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&[]).expect_ok("refresh");

    // Nothing recorded yet.
    let md = ws.ok(&["journal", "--session", "--profile", "sim"]);
    assert!(md.contains("no console session recorded"), "{md}");

    // What the console appends (the same library call its effects make).
    let log = session_log::path(&ws.cache_dir, "sim");
    let hostile = "Emails subject:\"\u{1b}]0;pwned\u{7}\" [tag: all] [all time]";
    let entries = [
        entry(
            0,
            EntryKind::View,
            "Emails [tag: all] [all time]",
            &["notag", "range all", "emails"],
        ),
        entry(5, EntryKind::Command, "range 7d", &["range 7d"]),
        entry(
            9,
            EntryKind::View,
            hostile,
            &["notag", "range 7d", "emails"],
        ),
    ];
    session_log::append(&log, &entries).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let json: Value = serde_json::from_str(&ws.ok(&[
        "journal",
        "--session",
        "--profile",
        "sim",
        "--format",
        "json",
    ]))
    .unwrap();
    let lines: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, [entries[0].line.as_str(), "range 7d", hostile]);
    let md = ws.ok(&["journal", "--session", "--profile", "sim"]);
    assert!(md.contains("| command | range 7d |"), "{md}");
    assert!(!md.contains('\u{1b}'), "escapes reach the terminal: {md:?}");

    // `tui --replay`: a file that is not a session log is refused with its line.
    let bad = ws.dir.path().join("notes.txt");
    std::fs::write(&bad, "just notes\n").unwrap();
    let r = ws.run(&["tui", "--profile", "sim", "--replay", bad.to_str().unwrap()]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("notes.txt:1: not a session log entry"),
        "{}",
        r.stderr
    );
    // A real log passes the check (and then wants a terminal).
    let r = ws.run(&["tui", "--profile", "sim", "--replay", log.to_str().unwrap()]);
    assert!(!r.ok);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);

    // `tui --open NAME`: an unknown name lists the saved ones.
    let settings = whalewatch::ui::settings::path(&ws.cache_dir, "sim");
    let view = whalewatch::ui::settings::SavedView {
        pane: "emails".into(),
        filter: "threat:phish".into(),
        ..Default::default()
    };
    whalewatch::ui::settings::save_view(&settings, "phish", &view).unwrap();
    let r = ws.run(&["tui", "--profile", "sim", "--open", "fish"]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("no saved view `fish`") && r.stderr.contains("saved: phish"),
        "{}",
        r.stderr
    );
    let r = ws.run(&["tui", "--profile", "sim", "--open", "phish"]);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);
}
