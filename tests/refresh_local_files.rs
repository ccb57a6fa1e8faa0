//! The local side of a hostile or broken endpoint (issue 11): a listing that comes
//! back empty does not wipe the cache, formula cells stay inert in CSV, refreshes
//! take turns, a damaged cache is named with advice, and no permission is changed.
//! Each drives the real binary against `sim serve` on loopback, some through a
//! rewriting proxy.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use common::refresh::{SimProcess, Workspace, WorldFlags};

/// What the proxy does to `/users` answers.
const PASS: u8 = 0;
const FORMULA: u8 = 1;
const EMPTY: u8 = 2;

/// The simulator behind a proxy that rewrites `GET /v1.0/users` as `mode` says (and,
/// with `FORMULA`, gives alerts incident ids of one and two digits).
struct Proxy {
    url: String,
    mode: Arc<AtomicU8>,
    _proxy: common::proxy::Proxy,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let mode = Arc::new(AtomicU8::new(PASS));
        let m = mode.clone();
        let rewrite = move |path: &str, _: &str, status: u16, bytes: &mut Vec<u8>| {
            if !(200..300).contains(&status) {
                return;
            }
            let mode = m.load(Ordering::SeqCst);
            if path == "/v1.0/security/alerts_v2" && mode == FORMULA {
                // Incident ids of one and two digits, for the numeric sort.
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                if let Some(list) = v["value"].as_array_mut() {
                    for (i, a) in list.iter_mut().enumerate() {
                        a["incidentId"] = ((i * 7) % 23 + 1).to_string().into();
                    }
                }
                *bytes = serde_json::to_vec(&v).unwrap();
            }
            if path == "/v1.0/users" {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                match mode {
                    EMPTY => {
                        v["value"] = serde_json::json!([]);
                        v.as_object_mut().unwrap().remove("@odata.nextLink");
                    }
                    FORMULA => {
                        v["value"][0]["displayName"] = "=cmd|' /c calc'!A0".into();
                    }
                    _ => {}
                }
                *bytes = serde_json::to_vec(&v).unwrap();
            }
        };
        let proxy = common::proxy::Proxy::start(
            upstream,
            Arc::new(|_: &str, _: &str| false),
            Arc::new(rewrite),
        );
        Proxy {
            url: proxy.url.clone(),
            mode,
            _proxy: proxy,
        }
    }
}

/// A workspace whose profile reaches the simulator through `proxy`.
fn workspace_via(tag: &str, sim: &SimProcess, proxy: &Proxy) -> Workspace {
    let mut ws = Workspace::new(tag);
    ws.add_profile_via("sim", sim, &proxy.url);
    ws
}

#[test]
fn an_emptied_user_listing_keeps_the_cache_and_formula_cells_stay_inert() {
    let world = WorldFlags::small(1101);
    let sim = SimProcess::start(&world, &[]);
    let proxy = Proxy::start(&sim.url);
    let ws = workspace_via("shrink", &sim, &proxy);

    // A display name an attacker chose, as a formula.
    proxy.mode.store(FORMULA, Ordering::SeqCst);
    ws.refresh(&[]).expect_ok("first refresh");
    let users = ws.count("users", &[]);
    assert_eq!(users, u64::from(world.users), "every user cached");

    // CSV from the CLI: guarded by default, raw on request.
    let csv = ws.ok(&["query", "users", "--format", "csv", "--columns", "Name"]);
    assert!(csv.contains("'=cmd|"), "{csv}");
    assert!(!csv.lines().any(|l| l.starts_with("=cmd")), "{csv}");
    let raw = ws.ok(&["query", "users", "--format", "csv-raw", "--columns", "Name"]);
    assert!(raw.lines().any(|l| l.starts_with("=cmd|")), "{raw}");

    // Numbers sort by value in the CLI, as in the console.
    let out = ws.ok(&[
        "query",
        "alerts",
        "--sort",
        "Incident:desc",
        "--format",
        "csv",
        "--columns",
        "Incident",
    ]);
    let counts: Vec<u64> = out.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(
        counts.iter().any(|c| *c >= 10) && counts.iter().any(|c| *c < 10),
        "one- and two-digit ids: {counts:?}"
    );

    // The endpoint now answers `/users` with an empty page.
    proxy.mode.store(EMPTY, Ordering::SeqCst);
    let r = ws.refresh(&[]);
    assert_eq!(r.code, Some(3), "a held shrink is not a clean exit: {r:#?}");
    assert!(r.stderr.contains("users"), "{r:#?}");
    assert!(r.stderr.contains("--accept-shrink"), "{r:#?}");
    assert!(r.stdout.contains("kept as cached"), "{r:#?}");
    assert_eq!(ws.count("users", &[]), users, "the cache kept its users");

    // Asked explicitly, the shrink is applied and the summary says what went.
    let out = ws
        .refresh(&["--accept-shrink"])
        .expect_ok("accepted shrink");
    assert!(
        out.contains(&format!(
            "removed from the cache by directory: {users} users"
        )),
        "{out}"
    );
    assert_eq!(ws.count("users", &[]), 0);
}

#[test]
fn refreshes_take_turns_and_a_damaged_or_empty_cache_is_named() {
    let world = WorldFlags::small(1102);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("locks");
    ws.add_sim_profile("sim", &sim);
    let cache = ws.cache_file("sim");

    // A cache directory the user made read-only for others stays as it is.
    std::fs::create_dir_all(&ws.cache_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ws.cache_dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    }
    ws.refresh(&[]).expect_ok("first refresh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ws.cache_dir)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o750,
            "no silent chmod of the cache directory"
        );
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Another refresh holds the lock: --no-wait names its pid and fails.
    let mut lock_name = cache.as_os_str().to_owned();
    lock_name.push(".refresh.lock");
    {
        use std::io::Write;
        let mut held = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&lock_name)
            .unwrap();
        held.lock().unwrap();
        write!(held, "424242").unwrap();
        let r = ws.refresh(&["--no-wait"]);
        assert!(!r.ok && r.code.is_some_and(|c| c != 0), "{r:#?}");
        assert!(r.stderr.contains("pid 424242"), "{r:#?}");
        // Reading is not blocked by a running refresh.
        assert!(ws.count("emails", &[]) > 0);
        // The holder dies without clearing the file: the next refresh checks the
        // cache first and succeeds on a sound one.
        held.unlock().unwrap();
    }
    ws.refresh(&["--no-wait"])
        .expect_ok("refresh after the holder died");

    // One page in the middle of the file damaged: refresh and query say which file
    // and what to do, exit non-zero, and leave the file as it was.
    let mut bytes = std::fs::read(&cache).unwrap();
    let page = 16_384;
    let at = (bytes.len() / page / 2) * page;
    for (i, b) in bytes[at..at + page].iter_mut().enumerate() {
        *b = (i * 31 + 7) as u8;
    }
    std::fs::write(&cache, &bytes).unwrap();
    let r = ws.refresh(&[]);
    assert!(!r.ok, "{r:#?}");
    assert!(r.stderr.contains(&cache.display().to_string()), "{r:#?}");
    assert!(
        r.stderr.contains("whalewatch refresh") && r.stderr.contains("move it aside"),
        "{r:#?}"
    );
    assert_eq!(std::fs::read(&cache).unwrap(), bytes, "left untouched");

    // An empty and a one-byte cache file.
    for content in [&b""[..], &b"x"[..]] {
        std::fs::write(&cache, content).unwrap();
        let r = ws.run(&["query", "tags"]);
        assert!(!r.ok, "{r:#?}");
        assert!(!r.stderr.contains("no such table"), "{r:#?}");
        assert!(r.stderr.contains(&cache.display().to_string()), "{r:#?}");
        assert!(r.stderr.contains("whalewatch refresh"), "{r:#?}");
        assert_eq!(std::fs::read(&cache).unwrap(), content, "left untouched");
    }
}

/// Read-only cache file and directory: `refresh` names the right path and problem and
/// changes no permission; `query` still reads. Root ignores file modes, so this runs
/// only as an ordinary user (as CI does).
#[cfg(unix)]
#[test]
fn a_read_only_cache_is_reported_and_still_readable() {
    use std::os::unix::fs::PermissionsExt;
    if effective_uid() == 0 {
        eprintln!("skipped: root ignores file modes");
        return;
    }
    let world = WorldFlags::small(1103);
    let sim = SimProcess::start(&world, &[]);
    let mut ws = Workspace::new("readonly");
    ws.add_sim_profile("sim", &sim);
    ws.refresh(&[]).expect_ok("first refresh");
    let emails = ws.count("emails", &[]);
    let cache = ws.cache_file("sim");
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    set(&cache, 0o400);
    let r = ws.refresh(&[]);
    assert!(!r.ok, "{r:#?}");
    assert!(r.stderr.contains("not writable"), "{r:#?}");
    assert!(r.stderr.contains(&cache.display().to_string()), "{r:#?}");
    assert!(
        !r.stderr.contains("cannot create the cache directory"),
        "{r:#?}"
    );
    assert_eq!(ws.count("emails", &[]), emails, "still readable");
    assert_eq!(mode(&cache), 0o400, "no silent chmod");
    set(&cache, 0o600);

    set(&ws.cache_dir, 0o500);
    let r = ws.refresh(&[]);
    assert!(!r.ok, "{r:#?}");
    assert!(r.stderr.contains("not writable"), "{r:#?}");
    assert!(
        r.stderr.contains(&ws.cache_dir.display().to_string()),
        "{r:#?}"
    );
    assert!(!r.stderr.contains("readonly database"), "{r:#?}");
    assert_eq!(ws.count("emails", &[]), emails, "still readable");
    assert_eq!(mode(&ws.cache_dir), 0o500, "no silent chmod");
    set(&ws.cache_dir, 0o700);
}

/// The effective user id, from `/proc` (no libc call needed in this test).
#[cfg(unix)]
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}
