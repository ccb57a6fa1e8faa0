//! Signing in, three ways, against `whalewatch sim serve`: the device-code flow end
//! to end (`whalewatch login`, then `refresh` on the cached token), a certificate
//! assertion, and a wrong client secret that gets a clear message.

mod common;

use std::path::PathBuf;

use common::refresh::{SECRET_VAR, SimProcess, Workspace, WorldFlags, login_and_decide};
use serde_json::Value;

fn certificate_fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/refresh-test-certificate.pem"
    ))
}

fn add_profile(ws: &Workspace, sim: &SimProcess, name: &str, auth: &[&str]) {
    let mut args = vec![
        "profile",
        "add",
        name,
        "--tenant",
        &sim.tenant,
        "--client-id",
        &sim.client_id,
        "--login-url",
        &sim.url,
        "--graph-url",
        &sim.url,
    ];
    args.extend_from_slice(auth);
    ws.ok(&args);
}

#[cfg(unix)]
#[test]
fn device_code_login_then_refresh_on_the_cached_token() {
    let world = WorldFlags::small(401);
    let stats = world.stats();
    let sim = SimProcess::start(&world, &["--devicecode-interval", "1"]);
    let ws = Workspace::new("devicecode");
    add_profile(&ws, &sim, "analyst", &["--auth", "device-code"]);

    // Before login, refresh says what to do.
    let r = ws.refresh(&[]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("whalewatch login --profile analyst"),
        "{r:?}"
    );

    let login = login_and_decide(&ws, &sim, "analyst", "approve");
    assert!(login.ok, "{login:#?}");
    assert!(
        login.stderr.contains(&format!("{}/devicelogin", sim.url)),
        "login prints the verification URL: {login:#?}"
    );
    assert!(login.stdout.contains("signed in"), "{login:#?}");

    let token_file = ws.cache_dir.join("analyst.json");
    assert_eq!(common::refresh::mode(&token_file), 0o600, "token file");
    assert_eq!(common::refresh::mode(&ws.cache_dir), 0o700, "its directory");
    let saved: Value = serde_json::from_slice(&std::fs::read(&token_file).unwrap()).unwrap();
    assert_eq!(saved["tenant"], sim.tenant.as_str());
    assert!(
        saved["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    let out = ws
        .refresh(&[])
        .expect_ok("refresh with the device-code token");
    assert!(out.contains("hunting:EmailEvents"), "{out}");
    assert_eq!(
        ws.count("emails", &[]),
        stats["tables"]["EmailEvents"].as_u64().unwrap()
    );
    assert_eq!(ws.count("users", &[]), stats["users"].as_u64().unwrap());
    assert_eq!(
        common::refresh::mode(&token_file),
        0o600,
        "still owner-only"
    );

    // A declined sign-in says so, and fails.
    let declined = login_and_decide(&ws, &sim, "analyst", "decline");
    assert!(!declined.ok, "{declined:#?}");
    assert!(declined.stderr.contains("declined"), "{declined:#?}");

    // login is for device-code profiles only.
    ws.ok(&[
        "profile",
        "add",
        "app",
        "--tenant",
        &sim.tenant,
        "--client-id",
        &sim.client_id,
        "--client-secret-env",
        SECRET_VAR,
        "--login-url",
        &sim.url,
        "--graph-url",
        &sim.url,
    ]);
    let r = ws.run(&["login", "--profile", "app"]);
    assert!(!r.ok && r.stderr.contains("needs no login"), "{r:?}");
}

#[test]
fn a_certificate_assertion_is_accepted_and_refresh_works() {
    let world = WorldFlags::small(402);
    let stats = world.stats();
    let sim = SimProcess::start(&world, &[]);
    // No secret anywhere in this workspace: only the assertion can sign in.
    let ws = Workspace::new("certificate");
    let pem = certificate_fixture();
    add_profile(
        &ws,
        &sim,
        "cert",
        &[
            "--auth",
            "certificate",
            "--certificate",
            pem.to_str().unwrap(),
        ],
    );
    let shown = ws.ok(&["profile", "show"]);
    assert!(shown.contains("auth: certificate"), "{shown}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    ws.refresh(&[]).expect_ok("refresh with a certificate");
    assert_eq!(ws.count("alerts", &[]), stats["alerts"].as_u64().unwrap());
    assert_eq!(
        ws.count("emails", &[]),
        stats["tables"]["EmailEvents"].as_u64().unwrap()
    );

    // A PEM without its key: the message says what the file must hold.
    let cert_only = ws.dir.path().join("cert-only.pem");
    let text = std::fs::read_to_string(&pem).unwrap();
    let end = "-----END CERTIFICATE-----";
    let cut = text.find(end).unwrap() + end.len();
    std::fs::write(&cert_only, &text[..cut]).unwrap();
    add_profile(
        &ws,
        &sim,
        "nokey",
        &[
            "--auth",
            "certificate",
            "--certificate",
            cert_only.to_str().unwrap(),
        ],
    );
    let r = ws.run(&["refresh", "--profile", "nokey"]);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("PRIVATE KEY") && r.stderr.contains("cert-only.pem"),
        "{r:?}"
    );
}

#[test]
fn a_wrong_secret_gets_a_clear_message_without_the_secret() {
    let world = WorldFlags::small(403);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("wrongsecret");
    ws.add_sim_profile("sim", &sim);
    let wrong = "Wr0ng~Secret.Value-4711";
    ws.secret = Some(wrong.to_string());
    let r = ws.refresh(&[]);
    assert!(!r.ok, "{r:?}");
    assert_ne!(r.code, Some(0));
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("client secret"),
        "names the client secret: {r:?}"
    );
    assert!(
        all.contains("wrong") || all.contains("invalid"),
        "says it is wrong: {r:?}"
    );
    assert!(
        !all.contains(wrong),
        "the wrong secret is not echoed: {r:?}"
    );
    assert!(
        !all.contains(&sim.client_secret),
        "the real secret is not echoed: {r:?}"
    );
    assert!(
        !ws.cache_file("sim").exists() || ws.count("emails", &[]) == 0,
        "nothing was fetched"
    );

    // An unset variable: the message names it and says the secret never goes in the config.
    ws.secret = None;
    let r = ws.refresh(&[]);
    assert!(!r.ok);
    assert!(r.stderr.contains(SECRET_VAR), "{r:?}");
}
