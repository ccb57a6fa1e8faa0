//! `cargo bench --bench console`: the console at a million rows. No timing
//! assertions: figures are printed as a table.
//!
//! The world comes from the simulator and reaches the cache through the real
//! pipeline (`whalewatch::ui::fixture::build`: an in-process `SimServer` on loopback,
//! the demo profile's tags, `sync::refresh`). The cache is kept under
//! `target/whalewatch-bench/console-<rows>/` and reused by later runs;
//! `WHALEWATCH_BENCH_ROWS` changes the size (default 1,000,000).
//!
//! Measured, as the console does it (`ui::app`):
//! 1. start to first frame: `data::load_first` + `State::new` + one draw at 200×50
//!    (then `data::load_quick`, the rest, on a worker thread);
//! 2. the email index (`data::load_index`: the column file mapped, the newest-first
//!    order, the whole-mailbox histogram), the figures derived after it (recipient
//!    stats, campaign figures) and swapping each in; then the start-up timeline as
//!    the app runs it — the index and `load_quick` on two threads side by side, each
//!    message applied and drawn as it arrives: start → index usable, start →
//!    everything loaded;
//! 3. keystroke → frame: `update(Msg::Key)` + draw, for `j`, PageDown and `P`;
//! 4. bytes written per cursor move and per page, frames wrapped in synchronized
//!    update as the app writes them (`ui::screen`: rows a scroll moved are moved by
//!    the terminal), and the same without scroll regions
//!    (`WHALEWATCH_SCROLL_REGION=0`: plain cell diff, half-page scroll jumps);
//! 0. first, in the fresh process: resident memory stage by stage (`support/memory.rs`;
//!    `WHALEWATCH_BENCH_MEMORY_ONLY=1` stops after it; `WHALEWATCH_BENCH_KEEP_FREED=1`
//!    leaves out returning freed pages once loaded, as `main` sets it up).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::backend::CrosstermBackend;
use whalewatch::sim::WorldParams;
use whalewatch::ui::action::{Action, Pane};
use whalewatch::ui::commands::Keymap;
use whalewatch::ui::data;
use whalewatch::ui::fixture;
use whalewatch::ui::screen::{Screen, scroll_region_from_env};
use whalewatch::ui::state::{Session, State};
use whalewatch::ui::theme::{Palette, Theme};
use whalewatch::ui::update::{Msg, update};
use whalewatch::ui::views;

#[path = "support/memory.rs"]
mod memory;

// The binary's allocator, so resident memory and timings are the app's.
#[global_allocator]
static GLOBAL: memory::HeapCounter = memory::HeapCounter;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

fn rows() -> u64 {
    std::env::var("WHALEWATCH_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

/// A month of mail for 20,000 users (as `benches/query.rs`), with the demo's tags.
fn params(rows: u64) -> WorldParams {
    let days = 30u32;
    WorldParams {
        seed: 7,
        now: fixture::now(),
        users: ((rows / 50) as u32).clamp(WorldParams::MIN_USERS, 20_000),
        days,
        emails_per_day: rows.div_ceil(u64::from(days)) as u32,
    }
}

/// The cache, built once through the real pipeline and reused afterwards.
fn cache_path() -> PathBuf {
    let rows = rows();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/whalewatch-bench")
        .join(format!("console-{rows}"));
    let done = dir.join("done");
    let path = dir.join("cache");
    if let (true, Ok(p)) = (done.exists(), std::fs::read_to_string(&path)) {
        return PathBuf::from(p);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    eprintln!("building a {rows}-row cache through the simulator (once; reused afterwards) ...");
    let t = Instant::now();
    let built = fixture::build(&dir, params(rows)).expect("fixture cache");
    eprintln!("built in {:.0} s", t.elapsed().as_secs_f64());
    std::fs::write(&path, built.to_string_lossy().as_bytes()).expect("path marker");
    std::fs::write(&done, b"ok").expect("marker");
    built
}

/// A terminal writer that counts bytes and keeps none.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl Counting {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Write for Counting {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(b.len(), Ordering::Relaxed);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type Term = Screen<Counting>;

/// The screen as the app opens it (scroll regions unless `WHALEWATCH_SCROLL_REGION=0`).
fn terminal(out: &Counting) -> Term {
    screen(out, scroll_region_from_env())
}

fn screen(out: &Counting, scroll_region: bool) -> Term {
    Screen::fixed(
        CrosstermBackend::new(out.clone()),
        WIDTH,
        HEIGHT,
        scroll_region,
    )
    .expect("terminal")
}

/// One frame as the app writes it: inside a synchronized update.
fn draw(term: &mut Term, out: &mut Counting, state: &State, theme: &Theme) {
    crossterm::queue!(out, BeginSynchronizedUpdate).expect("queue");
    term.draw(|f| views::draw(f, state, theme)).expect("draw");
    crossterm::queue!(out, EndSynchronizedUpdate).expect("queue");
}

fn session() -> Session {
    Session {
        profile: "bench".into(),
        tenant: "contoso".into(),
        read_only: true,
        can_refresh: false,
        analyst: "analyst@contoso.com".into(),
        assignee: Some("analyst@contoso.com".into()),
        config_path: None,
    }
}

fn keymap() -> Keymap {
    Keymap::new(&BTreeMap::new()).expect("keymap")
}

fn key(code: KeyCode) -> Msg {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, mods))
}

struct Stats {
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        n: times.len(),
        p50: p(0.5),
        p99: p(0.99),
        max: *times.last().expect("ran"),
    }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// `n` keystrokes, each `update` then one frame; their times.
fn keystrokes(
    state: &mut State,
    term: &mut Term,
    out: &mut Counting,
    theme: &Theme,
    n: usize,
    mut msg: impl FnMut(usize) -> Msg,
) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let t = Instant::now();
            let effects = update(state, msg(i));
            draw(term, out, state, theme);
            std::hint::black_box(effects);
            t.elapsed()
        })
        .collect()
}

/// Bytes of the frame after each of `n` keystrokes, split by whether the grid
/// scrolled (a move within the page redraws two rows; a move that scrolls moves
/// every visible row — by the terminal with scroll regions, rewritten without).
fn bytes_per(
    state: &mut State,
    term: &mut Term,
    out: &mut Counting,
    theme: &Theme,
    n: usize,
    code: KeyCode,
) -> (Vec<usize>, Vec<usize>) {
    draw(term, out, state, theme);
    out.take();
    let (mut still, mut scrolled) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let before = state.grid().map_or(0, |g| g.offset);
        update(state, key(code));
        draw(term, out, state, theme);
        let b = out.take();
        if state.grid().map_or(0, |g| g.offset) == before {
            still.push(b);
        } else {
            scrolled.push(b);
        }
    }
    (still, scrolled)
}

fn bytes(v: &[usize]) -> String {
    if v.is_empty() {
        return "—".into();
    }
    let mean = v.iter().sum::<usize>() as f64 / v.len() as f64;
    let mut sorted = v.to_vec();
    sorted.sort_unstable();
    let p = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "mean {mean:.0} B · p50 {} B · p90 {} B · max {} B · {} over 2 KB (n={})",
        p(0.5),
        p(0.9),
        sorted.last().copied().unwrap_or(0),
        v.iter().filter(|&&b| b > 2048).count(),
        v.len()
    )
}

/// The console's start as `ui::app` runs it: the first frame, then the index and
/// `load_quick` on two threads side by side (as `effects::reload`), each message
/// applied and drawn as it arrives. Times from the start to the first frame that had
/// the index, and to the first that had everything.
fn timeline(path: &Path, theme: &Theme) -> (Stats, Stats) {
    let (mut usable, mut everything) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let start = Instant::now();
        let mut state = State::new(
            session(),
            data::load_first(path).expect("load_first"),
            keymap(),
            fixture::now(),
        );
        update(&mut state, Msg::Action(Action::Resize(WIDTH, HEIGHT)));
        update(&mut state, Msg::Action(Action::Pane(Pane::Emails)));
        let mut out = Counting::default();
        let mut term = terminal(&out);
        draw(&mut term, &mut out, &state, theme);
        let (tx, rx) = std::sync::mpsc::channel::<Msg>();
        let (itx, ipath) = (tx.clone(), path.to_path_buf());
        let index = std::thread::spawn(move || {
            let e = data::load_index(&ipath).expect("load_index");
            let ix = e.index.clone();
            let _ = itx.send(Msg::Emails(e));
            let _ = itx.send(Msg::Recipients(data::recipient_data(&ix)));
        });
        let qpath = path.to_path_buf();
        let quick = std::thread::spawn(move || {
            let mut s = data::load_quick(&qpath).expect("load_quick");
            s.index_follows = true;
            let _ = tx.send(Msg::Loaded(Box::new(s)));
        });
        let mut at_index = None;
        while let Ok(m) = rx.recv() {
            update(&mut state, m);
            draw(&mut term, &mut out, &state, theme);
            if at_index.is_none() && state.data.emails.is_some() {
                at_index = Some(start.elapsed());
            }
            if state.data.fully_loaded() {
                everything.push(start.elapsed());
                break;
            }
        }
        usable.push(at_index.expect("the index arrived"));
        index.join().expect("index thread");
        quick.join().expect("quick thread");
    }
    (stats(usable), stats(everything))
}

fn main() {
    let path = cache_path();
    let theme = Theme::new(Palette::Full);
    let mut table: Vec<(String, String)> = Vec::new();

    // As `main` does (`WHALEWATCH_BENCH_KEEP_FREED=1` leaves it out, to measure it).
    if std::env::var_os("WHALEWATCH_BENCH_KEEP_FREED").is_none() {
        let _ = whalewatch::ui::app::RELEASE_FREED_MEMORY.set(whalewatch::release_freed_memory);
    }
    // 0. Resident memory, before anything else touched this process's heap.
    table.extend(memory::stages(&path, &theme));
    if std::env::var_os("WHALEWATCH_BENCH_MEMORY_ONLY").is_some() {
        print_table(&table, rows());
        return;
    }

    // 1. Start to first frame (before the index exists). The first run reads a cold
    // process's caches; later runs show the steady figure.
    let mut first = Vec::new();
    // The first frame reads the newest mail and alerts only (it does not count the
    // table: that is `load_quick`'s job), so the label says what it read.
    let mut first_read = (0, 0);
    for _ in 0..11 {
        let t = Instant::now();
        let first_data = data::load_first(&path).expect("load_first");
        first_read = (first_data.preview.len(), first_data.alerts.items.len());
        let mut state = State::new(session(), first_data, keymap(), fixture::now());
        state.scroll_jump = !scroll_region_from_env();
        update(&mut state, Msg::Action(Action::Resize(WIDTH, HEIGHT)));
        let mut out = Counting::default();
        let mut term = terminal(&out);
        draw(&mut term, &mut out, &state, &theme);
        first.push(t.elapsed());
    }
    let cold = first[0];
    let s = stats(first[1..].to_vec());
    table.push((
        format!(
            "start → first frame (load_first + State::new + draw): newest {} mail rows and {} alerts of a {}-row cache",
            first_read.0,
            first_read.1,
            rows()
        ),
        format!("first {} · p50 {} · max {}", ms(cold), ms(s.p50), ms(s.max)),
    ));
    let mut rest = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        std::hint::black_box(data::load_quick(&path).expect("load_quick"));
        rest.push(t.elapsed());
    }
    table.push((
        "the rest on a worker thread (load_quick: every alert, campaign, user, incident)".into(),
        format!("p50 {}", ms(stats(rest).p50)),
    ));

    // Where the first frame's time goes: load_quick's reads, one by one.
    {
        use whalewatch::cache::Cache;
        use whalewatch::query::index::TagTable;
        use whalewatch::query::index::entities::{
            AlertIndex, CampaignIndex, IncidentIndex, UserIndex,
        };
        let mut parts: Vec<(&str, Vec<Duration>)> = Vec::new();
        let mut time =
            |name: &'static str, d: Duration| match parts.iter_mut().find(|p| p.0 == name) {
                Some(p) => p.1.push(d),
                None => parts.push((name, vec![d])),
            };
        for _ in 0..5 {
            let t = Instant::now();
            let cache = Cache::open_read_only(&path).expect("open");
            time("open the cache", t.elapsed());
            let t = Instant::now();
            let tags = TagTable::load(&cache).expect("tags");
            time("tags", t.elapsed());
            let t = Instant::now();
            let users = UserIndex::load(&cache, &tags).expect("users");
            time("users", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(
                data::PostureData::load(&cache, &users, &tags, fixture::now()).expect("posture"),
            );
            time("posture (every tagged account judged)", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(cache.count("email_events").expect("count"));
            time("count of email rows", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(cache.newest_emails(data::PREVIEW_ROWS).expect("preview"));
            time("newest 500 mail rows (preview)", t.elapsed());
            let t = Instant::now();
            let alerts = AlertIndex::load(&cache).expect("alerts");
            time("alerts", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(IncidentIndex::load(&cache, &alerts).expect("incidents"));
            time("incidents", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(CampaignIndex::load(&cache).expect("campaigns"));
            time("campaigns", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(cache.source_states().expect("sources"));
            time("source states", t.elapsed());
        }
        for (name, v) in parts {
            table.push((
                format!("… load_quick part: {name}"),
                format!("p50 {}", ms(stats(v).p50)),
            ));
        }
        let quick = data::load_quick(&path).expect("load_quick");
        let t = Instant::now();
        let mut state = State::new(session(), quick, keymap(), fixture::now());
        update(&mut state, Msg::Action(Action::Resize(WIDTH, HEIGHT)));
        table.push(("… State::new + resize".into(), ms(t.elapsed())));
        let mut out = Counting::default();
        let mut term = terminal(&out);
        let t = Instant::now();
        draw(&mut term, &mut out, &state, &theme);
        table.push(("… the first draw".into(), ms(t.elapsed())));
    }

    // 2. The index, its parts, and swapping it in (the grids on screen re-evaluate).
    let quick = data::load_quick(&path).expect("load_quick");
    {
        use whalewatch::cache::Cache;
        use whalewatch::query::index::figures::{Audience, campaign_figures};
        use whalewatch::query::index::{Column, EmailIndex, SortKey, schema};
        use whalewatch::query::kql::TimeBin;
        let mut parts: Vec<(&str, Vec<Duration>)> = Vec::new();
        let mut time =
            |name: &'static str, d: Duration| match parts.iter_mut().find(|p| p.0 == name) {
                Some(p) => p.1.push(d),
                None => parts.push((name, vec![d])),
            };
        for _ in 0..5 {
            let t = Instant::now();
            let ix = EmailIndex::open(&Cache::open_read_only(&path).expect("open")).expect("index");
            time("EmailIndex::open (column file mapped)", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(ix.sorted(&ix.all(), SortKey::NEWEST));
            time("newest-first order of every row", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(
                ix.histogram(&ix.all(), TimeBin::Day, Some(Column::Str(schema::THREATS)))
                    .expect("histogram"),
            );
            time("all-rows histogram by day and threat", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(data::recipient_data(&ix));
            time("recipient stats (after the index is sent)", t.elapsed());
            let t = Instant::now();
            std::hint::black_box(
                campaign_figures(&ix, &quick.campaigns, &Audience::everyone()).expect("figures"),
            );
            time("campaign figures (when both halves are in)", t.elapsed());
        }
        for (name, v) in parts {
            table.push((
                format!("… index part: {name}"),
                format!("p50 {}", ms(stats(v).p50)),
            ));
        }
    }
    let mut opens = Vec::new();
    let mut emails = None;
    for _ in 0..3 {
        let t = Instant::now();
        emails = Some(data::load_index(&path).expect("load_index"));
        opens.push(t.elapsed());
    }
    let emails = emails.expect("opened");
    let recipients = data::recipient_data(&emails.index);
    let indexed = emails.index.len();
    let mut state = State::new(session(), quick, keymap(), fixture::now());
    state.scroll_jump = !scroll_region_from_env();
    update(&mut state, Msg::Action(Action::Resize(WIDTH, HEIGHT)));
    update(&mut state, Msg::Action(Action::Pane(Pane::Emails)));
    let t = Instant::now();
    update(&mut state, Msg::Emails(emails));
    let swap = t.elapsed();
    update(&mut state, Msg::Recipients(recipients));
    let b = stats(opens);
    table.push((
        format!("index opened (data::load_index), {indexed} rows, 3 runs"),
        format!("p50 {} · max {}", ms(b.p50), ms(b.max)),
    ));
    table.push((
        "index swapped in: Msg::Emails (the grids on screen re-evaluated)".into(),
        ms(swap),
    ));
    let (usable, everything) = timeline(&path, &theme);
    table.push((
        "start → index usable (first frame, then the index beside load_quick; applied and drawn), 3 runs".into(),
        format!("p50 {} · max {}", ms(usable.p50), ms(usable.max)),
    ));
    table.push((
        "start → everything loaded (both halves, recipient stats, campaign figures; drawn), 3 runs"
            .into(),
        format!("p50 {} · max {}", ms(everything.p50), ms(everything.max)),
    ));

    // 3. Keystroke → frame on the Emails pane over the full index.
    let mut out = Counting::default();
    let mut term = terminal(&out);
    draw(&mut term, &mut out, &state, &theme);
    let grid_rows = state.grid().map_or(0, |g| g.rows.len());
    let j = stats(keystrokes(
        &mut state,
        &mut term,
        &mut out,
        &theme,
        1000,
        |_| key(KeyCode::Char('j')),
    ));
    let pd = stats(keystrokes(
        &mut state,
        &mut term,
        &mut out,
        &theme,
        1000,
        |_| key(KeyCode::PageDown),
    ));
    update(&mut state, Msg::Action(Action::Top));
    let p = stats(keystrokes(
        &mut state,
        &mut term,
        &mut out,
        &theme,
        40,
        |_| key(KeyCode::Char('P')),
    ));
    for (what, s) in [
        (format!("key → frame: j (cursor down), {grid_rows} rows"), j),
        ("key → frame: PageDown".to_string(), pd),
        (
            "key → frame: P (priority-account tag on/off, re-filters the grids on screen)".into(),
            p,
        ),
    ] {
        table.push((
            format!("{what}, n={}", s.n),
            format!("p50 {} · p99 {} · max {}", ms(s.p50), ms(s.p99), ms(s.max)),
        ));
    }

    // What `P` computes besides the grid on screen: the campaign figures narrowed to
    // the tag (each audience once per index; later presses reuse them).
    if let Some(ix) = state.data.emails.clone() {
        use whalewatch::query::index::figures::{Audience, campaign_figures};
        let tag = Audience::tag(whalewatch::config::PRIORITY_ACCOUNT);
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            std::hint::black_box(
                campaign_figures(&ix, &state.data.campaigns, &tag).expect("figures"),
            );
            times.push(t.elapsed());
        }
        table.push((
            "campaign figures narrowed to Priority account (once per index and tag)".into(),
            format!("p50 {}", ms(stats(times).p50)),
        ));
    }

    // 4. Bytes per keystroke at 200×50, with scroll regions and without (as before
    // them: plain cell diff, half-page scroll jumps).
    update(&mut state, Msg::Action(Action::SetTag(None)));
    for scroll_region in [true, false] {
        let mode = if scroll_region {
            "scroll regions"
        } else {
            "WHALEWATCH_SCROLL_REGION=0"
        };
        let mut out = Counting::default();
        let mut term = screen(&out, scroll_region);
        state.scroll_jump = !scroll_region;
        update(&mut state, Msg::Action(Action::Top));
        let (within, scrolling) = bytes_per(
            &mut state,
            &mut term,
            &mut out,
            &theme,
            200,
            KeyCode::Char('j'),
        );
        let all: Vec<usize> = within.iter().chain(&scrolling).copied().collect();
        let (up_within, up_scrolling) = bytes_per(
            &mut state,
            &mut term,
            &mut out,
            &theme,
            200,
            KeyCode::Char('k'),
        );
        let (_, pages) = bytes_per(
            &mut state,
            &mut term,
            &mut out,
            &theme,
            200,
            KeyCode::PageDown,
        );
        table.push((
            format!(
                "bytes per cursor move (j), {WIDTH}×{HEIGHT}, all 200 moves from the top, {mode}"
            ),
            bytes(&all),
        ));
        table.push(("… moves within the page".into(), bytes(&within)));
        table.push((
            "… moves that scroll the grid (j at the bottom of the page)".into(),
            bytes(&scrolling),
        ));
        table.push((
            "… k back up: moves within the page".into(),
            bytes(&up_within),
        ));
        table.push((
            "… k at the top of the page (scrolls)".into(),
            bytes(&up_scrolling),
        ));
        table.push((
            format!("bytes per page (PageDown), {WIDTH}×{HEIGHT}, {mode}"),
            bytes(&pages),
        ));
    }
    state.scroll_jump = !scroll_region_from_env();

    print_table(&table, indexed);
}

fn print_table(table: &[(String, String)], rows: impl std::fmt::Display) {
    println!("\n| console ({rows} rows) | figure |");
    println!("|---|---|");
    for (what, v) in table {
        println!("| {what} | {v} |");
    }
}
