//! Coming back to the demo: `whalewatch demo` on a machine that has the demo cache
//! reopens it at once (no new tenant, no refresh on the way in) with its simulated
//! tenant running again, so `r` works; without the simulator, the demo profile's
//! console, `refresh` and `query --remote` say to run `whalewatch demo`. The real
//! binary in a pseudo-terminal, synchronised on what the screen shows.

mod common;
mod pty;

use pty::Console;

/// The figure the status bar shows: `… 4,200 emails indexed …`.
fn emails_indexed(c: &Console) -> Option<u64> {
    let text = c.text();
    let (head, _) = text.split_once(" emails indexed")?;
    let n = head.rsplit(' ').next()?;
    n.replace(',', "").parse().ok()
}

/// Runs `whalewatch args` to completion in `dir`'s environment: (success, stderr).
fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_whalewatch"))
        .args(args)
        .env_clear()
        .envs(Console::env(dir))
        .current_dir(dir)
        .output()
        .expect("run whalewatch");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const WHAT_TO_DO: &str =
    "the demo tenant runs only inside `whalewatch demo`; run `whalewatch demo` to reopen";

#[test]
fn the_demo_reopens_its_cache_with_refresh_and_the_profile_alone_says_how() {
    // First run: a new tenant, refreshed into the demo cache.
    let mut c = Console::demo(&[]);
    c.wait_for("emails indexed");
    let first = emails_indexed(&c).expect("a count of emails");
    assert!(contains(&c, "generating a synthetic tenant"));
    c.type_text("q");
    assert!(c.wait_exit().success());
    let dir = c.into_dir();

    // The profile alone: the console opens from the cache, and `r` says what to do.
    let mut c = Console::spawn_in(dir, &["--profile", "demo"]);
    c.wait_for("emails indexed");
    c.type_text("r");
    c.wait_for("refresh needs the tenant: profile `demo`: the demo tenant runs only");
    assert!(!c.text().contains("whalewatch login"), "{}", c.text());
    c.type_text("q");
    assert!(c.wait_exit().success());
    let dir = c.into_dir();

    // So do the commands that need the tenant.
    for args in [
        &[
            "--profile",
            "demo",
            "query",
            "emails",
            "--remote",
            "--limit",
            "1",
        ][..],
        &["--profile", "demo", "refresh"][..],
    ] {
        let (ok, stderr) = run(dir.path(), args);
        assert!(!ok, "{args:?} succeeded without the tenant");
        assert!(stderr.contains(WHAT_TO_DO), "{args:?}: {stderr}");
    }

    // `whalewatch demo` again: the same cache, reopened, and `r` refreshes it from
    // the regenerated tenant — the same world, so nothing changes.
    let mut c = Console::spawn_in(
        dir,
        &[
            "demo",
            "--seed",
            "5",
            "--days",
            "7",
            "--users",
            "300",
            "--emails-per-day",
            "600",
        ],
    );
    c.wait_for("emails indexed");
    assert!(contains(&c, "reopening the demo cache"));
    assert!(!contains(&c, "generating a synthetic tenant"));
    assert!(
        !contains(&c, "Exchange snapshot imported"),
        "the reopened cache was rebuilt"
    );
    assert_eq!(emails_indexed(&c), Some(first));
    c.type_text("r");
    c.wait_for("refreshed ");
    assert!(
        !c.text().contains("refresh needs the tenant"),
        "{}",
        c.text()
    );
    c.wait_until("the cache reloaded", |s| s.contains("emails indexed"));
    assert_eq!(emails_indexed(&c), Some(first), "the same world");
    c.type_text("q");
    assert!(c.wait_exit().success());
}

/// Whether the program wrote `text` (before the console, on stderr, too).
fn contains(c: &Console, text: &str) -> bool {
    pty::contains(&c.bytes, text.as_bytes())
}
