//! Bad input gets a message a user can act on, a non-zero exit, and leaves files
//! alone: a broken config, a damaged cache, a tenant that is not there.

mod common;

use common::refresh::{SimProcess, Workspace, WorldFlags};

#[test]
fn a_broken_config_names_the_file_and_the_line() {
    let ws = Workspace::new("badconfig");
    std::fs::create_dir_all(ws.config.parent().unwrap()).unwrap();
    let text = "default_profile = \"sim\"\n\n[profiles.sim\ntenant = \"x\"\n";
    std::fs::write(&ws.config, text).unwrap();
    let path = ws.config.display().to_string();
    for args in [
        vec!["refresh"],
        vec!["query", "emails", "--count"],
        vec!["profile", "list"],
        vec!["profile", "show"],
        vec!["login"],
        vec![
            "profile",
            "add",
            "other",
            "--tenant",
            "t",
            "--client-id",
            "c",
            "--client-secret-env",
            "V",
        ],
    ] {
        let r = ws.run(&args);
        assert!(!r.ok && r.code.is_some_and(|c| c != 0), "{args:?}: {r:?}");
        assert!(r.stderr.contains(&path), "{args:?} names the file: {r:?}");
        assert!(
            r.stderr.contains("line 3"),
            "{args:?} names the line: {r:?}"
        );
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
    assert_eq!(
        std::fs::read_to_string(&ws.config).unwrap(),
        text,
        "left as it was"
    );
    assert!(!ws.cache_dir.exists(), "nothing was created");
}

#[test]
fn a_damaged_cache_is_refused_with_advice_and_left_untouched() {
    let world = WorldFlags::small(601);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("badcache");
    ws.add_sim_profile("sim", &sim);
    std::fs::create_dir_all(&ws.cache_dir).unwrap();
    let cache = ws.cache_file("sim");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&cache, &garbage).unwrap();

    for args in [
        vec!["query", "emails", "--count"],
        vec!["query", "tags"],
        vec!["refresh", "--hunting-calls-per-minute", "100000"],
    ] {
        let r = ws.run(&args);
        assert!(!r.ok, "{args:?}: {r:?}");
        assert!(r.stderr.contains("damaged"), "{args:?}: {r:?}");
        assert!(
            r.stderr.contains(&cache.display().to_string()),
            "{args:?} names the file: {r:?}"
        );
        assert!(
            r.stderr.contains("whalewatch refresh") && r.stderr.contains("rebuild"),
            "{args:?} says how to rebuild: {r:?}"
        );
        assert_eq!(
            std::fs::read(&cache).unwrap(),
            garbage,
            "{args:?} modified the damaged cache"
        );
    }

    // Moving it aside, as the message says, and refreshing rebuilds it.
    std::fs::rename(&cache, ws.cache_dir.join("sim.sqlite.damaged")).unwrap();
    ws.refresh(&[]).expect_ok("rebuild");
    let stats = world.stats();
    assert_eq!(
        ws.count("emails", &[]),
        stats["tables"]["EmailEvents"].as_u64().unwrap()
    );
}

#[test]
fn a_refresh_against_a_stopped_tenant_fails_clearly_and_keeps_the_cache() {
    let world = WorldFlags::small(602);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("stopped");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&[]).expect_ok("first refresh");
    let before = ws.dump("sim");
    let emails = ws.count("emails", &[]);

    // A port nobody listens on: bind one, then let it go.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{port}");
    let secret = ws.secret.clone();
    ws.ok(&[
        "profile",
        "add",
        "sim",
        "--tenant",
        &sim.tenant,
        "--client-id",
        &sim.client_id,
        "--client-secret-env",
        common::refresh::SECRET_VAR,
        "--login-url",
        &dead,
        "--graph-url",
        &dead,
    ]);
    ws.secret = secret;
    let r = ws.refresh(&[]);
    assert!(!r.ok && r.code.is_some_and(|c| c != 0), "{r:?}");
    let err = r.stderr.to_lowercase();
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) || err.contains("127.0.0.1"),
        "names the host: {r:?}"
    );
    assert!(
        err.contains("connect") || err.contains("network") || err.contains("reach"),
        "says it is a network problem: {r:?}"
    );
    assert!(!r.stderr.contains(&sim.client_secret), "{r:?}");
    assert_eq!(ws.dump("sim"), before, "the cache is intact");
    assert_eq!(ws.count("emails", &[]), emails, "and still readable");
}
