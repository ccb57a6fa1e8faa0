//! `whalewatch completions SHELL` and `whalewatch man`, run as the real binary: each
//! prints a script (or a roff page) generated from the clap definitions to stdout.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_whalewatch");

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        // No profile, no cache: these commands need neither.
        .env("HOME", "/nonexistent-whalewatch-home")
        .env_remove("WHALEWATCH_PROFILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = run(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty");
        for sub in ["refresh", "query", "remediate", "completions", "man"] {
            assert!(script.contains(sub), "{shell}: no `{sub}` in\n{script}");
        }
        assert!(script.contains("whalewatch"), "{shell}");
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bash") && err.contains("powershell"), "{err}");
}

#[test]
fn man_is_roff_with_a_title_and_the_subcommands() {
    let page = run(&["man"]);
    assert!(page.starts_with(".ie") || page.contains("\n.TH "), "{page}");
    assert!(page.contains(".TH whalewatch"), "{page}");
    assert!(
        page.contains("refresh") && page.contains("completions"),
        "{page}"
    );
}
