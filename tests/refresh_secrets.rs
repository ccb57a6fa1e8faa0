//! `ls -l` as an auditor would: the cache and token files are owner-only, and no
//! secret or token appears in any file or in anything the commands print — only
//! the token file holds tokens.

mod common;

use std::path::Path;

use common::refresh::{
    Run, SECRET_VAR, SimProcess, Workspace, WorldFlags, files_under, login_and_decide, mode,
};
use serde_json::Value;

#[cfg(unix)]
#[test]
fn caches_and_tokens_are_owner_only_and_secrets_appear_nowhere_else() {
    let world = WorldFlags::small(501);
    let sim = SimProcess::start(&world, &["--devicecode-interval", "1"]);
    let mut ws = Workspace::new("secrets");
    let mut printed: Vec<(String, Run)> = Vec::new();

    // A client-secret profile and a device-code one, both used.
    let added = ws.add_sim_profile("app", &sim);
    assert!(added.contains("saved"));
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
    printed.push(("login".into(), login));

    for profile in ["app", "analyst"] {
        for args in [
            vec!["refresh", "--profile", profile],
            vec!["refresh", "--profile", profile],
            vec!["query", "emails", "--profile", profile, "--limit", "50"],
            vec!["query", "alerts", "--profile", profile, "--format", "json"],
            vec!["query", "users", "--profile", profile, "--format", "csv"],
            vec!["query", "tags", "--profile", profile, "--format", "jsonl"],
            vec!["profile", "show", profile],
            vec!["profile", "list"],
        ] {
            let r = ws.run(&args);
            assert!(r.ok, "{args:?}: {r:#?}");
            printed.push((args.join(" "), r));
        }
    }
    // A failing sign-in prints nothing secret either.
    ws.secret = Some(format!("{}-but-wrong", sim.client_secret));
    let r = ws.run(&["refresh", "--profile", "app"]);
    assert!(!r.ok);
    printed.push(("refresh with a wrong secret".into(), r));
    ws.secret = Some(sim.client_secret.clone());

    // Owner-only files.
    let cache_file = ws.cache_file("app");
    let token_file = ws.cache_dir.join("analyst.json");
    assert_eq!(mode(&ws.cache_dir), 0o700, "cache directory");
    assert_eq!(mode(&cache_file), 0o600, "cache file");
    assert_eq!(mode(&ws.cache_file("analyst")), 0o600, "cache file");
    assert_eq!(mode(&token_file), 0o600, "token file");
    for f in files_under(&ws.cache_dir) {
        assert_eq!(mode(&f), 0o600, "{} (WAL and friends too)", f.display());
    }
    assert_eq!(mode(&ws.config), 0o600, "config file");

    // What the token file holds is what must appear nowhere else.
    let saved: Value = serde_json::from_slice(&std::fs::read(&token_file).unwrap()).unwrap();
    let access = saved["access_token"].as_str().expect("an access token");
    let refresh = saved["refresh_token"].as_str().expect("a refresh token");
    assert!(access.len() > 20 && refresh.len() > 10);
    let secrets: Vec<(&str, &str)> = vec![
        ("client secret", sim.client_secret.as_str()),
        ("access token", access),
        ("refresh token", refresh),
        (
            "secret variable's value in the wrong-secret run",
            "-but-wrong",
        ),
    ];

    for (what, run) in &printed {
        for (name, s) in &secrets {
            assert!(
                !run.stdout.contains(s) && !run.stderr.contains(s),
                "`{what}` printed the {name}: {run:#?}"
            );
        }
        // No bearer token of any kind (the simulator's are JWTs).
        assert!(
            !run.stdout.contains("eyJ") && !run.stderr.contains("eyJ"),
            "`{what}` printed something JWT-like: {run:#?}"
        );
    }
    let config_text = std::fs::read_to_string(&ws.config).unwrap();
    assert!(
        config_text.contains(SECRET_VAR),
        "the config names the variable"
    );

    let mut checked = 0;
    for dir in [ws.cache_dir.as_path(), ws.config.parent().unwrap()] {
        for f in files_under(dir) {
            if f == token_file {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap();
            for (name, s) in &secrets {
                assert!(
                    !contains(&bytes, s.as_bytes()),
                    "{} holds the {name}",
                    f.display()
                );
            }
            assert!(
                !contains(&bytes, b"eyJ"),
                "{} holds something JWT-like",
                f.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "config and both caches were checked");
    assert!(
        !Path::new(&ws.cache_dir).join("app.json").exists(),
        "client-secret profiles keep no token file"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
