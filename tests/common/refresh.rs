//! Helpers for the refresh tests: the real binary driven as a user would drive it
//! (a config file and a cache directory in a temp dir, the secret in an environment
//! variable), `sim serve` as a child process, and cache dumps to compare.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_whalewatch");

/// The reference time of every refresh-test world (a fixed past instant: a first
/// refresh reads everything the service keeps, so the wall clock does not matter).
pub const NOW: &str = "2026-11-01T00:00:00Z";

/// The variable the profiles read their client secret from.
pub const SECRET_VAR: &str = "WHALEWATCH_TEST_CLIENT_SECRET";

/// The flags that define a world.
#[derive(Debug, Clone, Copy)]
pub struct WorldFlags {
    pub seed: u64,
    pub users: u32,
    pub days: u32,
    pub emails_per_day: u32,
    /// The world's `--now` in Unix seconds; `None`: [`NOW`].
    pub now: Option<i64>,
}

impl WorldFlags {
    /// A small world: a few thousand rows over three days.
    pub fn small(seed: u64) -> WorldFlags {
        WorldFlags {
            seed,
            users: 80,
            days: 3,
            emails_per_day: 400,
            now: None,
        }
    }

    /// A small world whose clock is this machine's: for sources the client reads with
    /// absolute times from its own clock (posture's sign-ins and message traces), the
    /// tenant's "now" must be the client's, as it is with a real tenant.
    pub fn small_now(seed: u64) -> WorldFlags {
        WorldFlags {
            now: Some(chrono::Utc::now().timestamp()),
            ..WorldFlags::small(seed)
        }
    }

    pub fn args(&self) -> Vec<String> {
        vec![
            "--seed".into(),
            self.seed.to_string(),
            "--now".into(),
            match self.now {
                Some(t) => chrono::DateTime::from_timestamp(t, 0)
                    .expect("a valid time")
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                None => NOW.into(),
            },
            "--users".into(),
            self.users.to_string(),
            "--days".into(),
            self.days.to_string(),
            "--emails-per-day".into(),
            self.emails_per_day.to_string(),
        ]
    }

    /// `sim stats` of this world: the ground truth.
    pub fn stats(&self) -> Value {
        let out = plain_command(&["sim", "stats"], &self.args())
            .output()
            .expect("sim stats runs");
        let text = success(&out, "sim stats");
        serde_json::from_str(&text).expect("sim stats prints JSON")
    }

    /// `sim vips` of this world: the priority accounts, one per line.
    pub fn vips(&self) -> String {
        let out = plain_command(&["sim", "vips"], &self.args())
            .output()
            .expect("sim vips runs");
        success(&out, "sim vips")
    }
}

/// A command for the binary with no proxy settings (everything is loopback).
fn plain_command(args: &[&str], more: &[String]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).args(more).stdin(Stdio::null());
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "WHALEWATCH_CONFIG",
        "WHALEWATCH_CACHE_DIR",
        "WHALEWATCH_LOG",
    ] {
        c.env_remove(v);
    }
    c
}

/// Stdout of a successful run; panics with stderr otherwise.
pub fn success(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "ww-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kills and reaps the child when dropped, so a failing assertion leaks nothing.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `whalewatch sim serve` on a free loopback port.
pub struct SimProcess {
    pub child: KillOnDrop,
    pub url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
}

impl SimProcess {
    /// Starts the simulator over `world` with extra `sim serve` flags. Hunting quota is
    /// lifted unless `extra` sets it: the tests refresh the same server many times.
    pub fn start(world: &WorldFlags, extra: &[&str]) -> SimProcess {
        let mut args: Vec<String> = world.args();
        args.extend(["--listen".to_string(), "127.0.0.1:0".to_string()]);
        if !extra.contains(&"--hunting-quota") {
            args.extend(["--hunting-quota".to_string(), "100000".to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = KillOnDrop(
            plain_command(&["sim", "serve"], &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("sim serve starts"),
        );
        let out = child.0.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(out);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the server never blocks on a full pipe.
            let mut sink = String::new();
            while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        let banner = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("a banner line from sim serve");
        assert!(banner.starts_with("whalewatch-sim "), "banner {banner:?}");
        let field = |key: &str| -> String {
            banner
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("banner lacks {key}: {banner}"))
                .to_string()
        };
        SimProcess {
            url: field("url"),
            tenant: field("tenant"),
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            child,
        }
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(o: Output) -> Run {
        Run {
            ok: o.status.success(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Stdout; panics with the whole run when it failed.
    pub fn expect_ok(self, what: &str) -> String {
        assert!(self.ok, "{what} failed: {self:#?}");
        self.stdout
    }
}

/// A user's machine: a config file and a cache directory, both in a temp dir.
pub struct Workspace {
    pub dir: TempDir,
    pub config: PathBuf,
    pub cache_dir: PathBuf,
    /// The value of [`SECRET_VAR`] every command gets (unset when `None`).
    pub secret: Option<String>,
}

impl Workspace {
    pub fn new(tag: &str) -> Workspace {
        let dir = TempDir::new(tag);
        let config = dir.path().join("config").join("config.toml");
        let cache_dir = dir.path().join("cache");
        Workspace {
            dir,
            config,
            cache_dir,
            secret: None,
        }
    }

    /// A command with `WHALEWATCH_CONFIG`, `WHALEWATCH_CACHE_DIR` and the secret set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = plain_command(args, &[]);
        c.env("WHALEWATCH_CONFIG", &self.config)
            .env("WHALEWATCH_CACHE_DIR", &self.cache_dir);
        match &self.secret {
            Some(s) => c.env(SECRET_VAR, s),
            None => c.env_remove(SECRET_VAR),
        };
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).output().expect("the binary runs"))
    }

    /// Stdout of a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).expect_ok(&args.join(" "))
    }

    /// `profile add NAME` with a client secret, pointing at `sim`.
    pub fn add_sim_profile(&mut self, name: &str, sim: &SimProcess) -> String {
        let url = sim.url.clone();
        self.add_profile_via(name, sim, &url)
    }

    /// `profile add NAME` for `sim`'s tenant, reaching it through `url` (a proxy).
    pub fn add_profile_via(&mut self, name: &str, sim: &SimProcess, url: &str) -> String {
        self.secret = Some(sim.client_secret.clone());
        self.ok(&[
            "profile",
            "add",
            name,
            "--tenant",
            &sim.tenant,
            "--client-id",
            &sim.client_id,
            "--client-secret-env",
            SECRET_VAR,
            "--login-url",
            url,
            "--graph-url",
            url,
        ])
    }

    /// Appends TOML to the config file (tags, say).
    pub fn append_config(&self, toml: &str) {
        let mut text = std::fs::read_to_string(&self.config).expect("config exists");
        text.push('\n');
        text.push_str(toml);
        std::fs::write(&self.config, text).expect("config written");
    }

    /// A refresh with the hunting pacer lifted (the simulator's quota is lifted too).
    pub fn refresh(&self, extra: &[&str]) -> Run {
        let mut args = vec!["refresh", "--hunting-calls-per-minute", "100000"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `query ENTITY --count [extra]`.
    pub fn count(&self, entity: &str, extra: &[&str]) -> u64 {
        let mut args = vec!["query", entity, "--count"];
        args.extend_from_slice(extra);
        let out = self.ok(&args);
        out.trim()
            .parse()
            .unwrap_or_else(|_| panic!("query {entity} --count printed {out:?}"))
    }

    /// The profile's cache file.
    pub fn cache_file(&self, profile: &str) -> PathBuf {
        self.cache_dir.join(format!("{profile}.sqlite"))
    }

    /// The cache's contents, without the refresh times in `sync_state`.
    pub fn dump(&self, profile: &str) -> String {
        dump(&self.cache_file(profile))
    }
}

/// A cache's contents without `sync_state` (whose times differ between runs).
pub fn dump(path: &Path) -> String {
    let cache = whalewatch::cache::Cache::open_read_only(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut out = Vec::new();
    cache
        .dump_except(&["sync_state"], &mut out)
        .expect("dump the cache");
    String::from_utf8(out).expect("UTF-8 dump")
}

/// Lines that differ between two dumps (for a readable failure).
pub fn dump_diff(a: &str, b: &str) -> String {
    use std::collections::BTreeSet;
    let a: BTreeSet<&str> = a.lines().collect();
    let b: BTreeSet<&str> = b.lines().collect();
    let mut out = String::new();
    for l in a.difference(&b).take(5) {
        out.push_str(&format!("- {}\n", &l[..l.len().min(300)]));
    }
    for l in b.difference(&a).take(5) {
        out.push_str(&format!("+ {}\n", &l[..l.len().min(300)]));
    }
    out.push_str(&format!(
        "({} lines only in the first, {} only in the second)\n",
        a.difference(&b).count(),
        b.difference(&a).count()
    ));
    out
}

/// One row of the refresh summary on stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub source: String,
    pub received: u64,
    pub new: u64,
    pub updated: u64,
    pub same: u64,
    pub calls: u64,
}

/// The refresh summary: per-source rows and the totals line's counters.
#[derive(Debug, Clone)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    pub total_line: String,
}

impl Summary {
    pub fn parse(stdout: &str) -> Summary {
        let mut lines = stdout.lines();
        let header = lines.next().unwrap_or_default();
        assert!(
            header.split_whitespace().collect::<Vec<_>>()
                == [
                    "source", "received", "new", "updated", "same", "calls", "seconds"
                ],
            "unexpected summary header in {stdout}"
        );
        let mut rows = Vec::new();
        let mut total_line = String::new();
        for l in lines {
            if l.starts_with("total:") {
                total_line = l.to_string();
                continue;
            }
            // `hunting: N rows in C calls …` (no source has a space after its colon).
            if l.starts_with("warning:") || l.starts_with("rejected:") || l.starts_with("hunting: ")
            {
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 7, "summary row {l:?}");
            let n = |i: usize| -> u64 { f[i].parse().unwrap_or_else(|_| panic!("{l:?}")) };
            rows.push(SummaryRow {
                source: f[0].to_string(),
                received: n(1),
                new: n(2),
                updated: n(3),
                same: n(4),
                calls: n(5),
            });
        }
        assert!(!total_line.is_empty(), "no totals line in {stdout}");
        Summary { rows, total_line }
    }

    /// A counter of the totals line: `requests`, `retries`, `throttled`, `token renewals`.
    pub fn total(&self, what: &str) -> u64 {
        let words: Vec<&str> = self.total_line.split([',', ';']).map(str::trim).collect();
        words
            .iter()
            .find_map(|w| {
                let (num, rest) = w.split_once(' ')?;
                rest.starts_with(what).then(|| num.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no `{what}` in {:?}", self.total_line))
    }

    pub fn row(&self, source: &str) -> &SummaryRow {
        self.rows
            .iter()
            .find(|r| r.source == source)
            .unwrap_or_else(|| panic!("no source {source} in {:?}", self.rows))
    }
}

/// Polls `cond` until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The permission bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The user code `whalewatch login` prints on stderr (`code: XXXX   url: ...`).
pub fn user_code_of(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("code: ")?;
    rest.split_whitespace().next().map(str::to_string)
}

/// Runs `whalewatch login` for `profile`, waits for the code it prints, and has the
/// simulator `decide` it (`approve` or `decline`) as the analyst would in a browser.
/// Returns the finished run (its stderr holds every line login printed).
pub fn login_and_decide(ws: &Workspace, sim: &SimProcess, profile: &str, decide: &str) -> Run {
    let mut child = KillOnDrop(
        ws.command(&["login", "--profile", profile])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("login starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            if let Some(code) = user_code_of(&line) {
                let _ = tx.send(code);
            }
        }
        all
    });
    let code = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("login prints a user code");
    let url = format!("{}/_sim/devicecode/{decide}", sim.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
            .post(&url)
            .json(&serde_json::json!({ "user_code": code }))
            .send()
            .await
            .expect("the simulator answers")
            .status()
    });
    assert!(status.is_success(), "{decide} {code}: {status}");
    let deadline = Instant::now() + Duration::from_secs(120);
    let exit = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "login did not finish");
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        ok: exit.success(),
        code: exit.code(),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// The simulator's log of the requests it served, with the fault injected into each.
pub fn request_log(base: &str) -> Vec<serde_json::Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let v: serde_json::Value = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("{base}/_sim/requests"))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("a JSON request log");
        v.as_array().expect("an array").clone()
    })
}
