//! Where the console's resident memory goes, stage by stage, at a million rows.
//!
//! Run first in a fresh process (`WHALEWATCH_BENCH_MEMORY_ONLY=1` stops after it):
//! each stage does what the app does (`ui::app`: the first frame, `load_quick` and
//! the index on worker threads, each swapped in and drawn), then reads
//! `/proc/self/status` — `RssAnon` (heap, stacks: this process's own memory) and
//! `RssFile` (mapped files: the column file's pages, shared with every other
//! whalewatch process through the page cache) — and the live heap (bytes allocated
//! and not yet freed, counted by [`HeapCounter`]). Anonymous memory above the live
//! heap is what the allocator keeps after frees.
//!
//! The baseline is the process before it reads anything from the cache: terminal,
//! theme and keymap set up, nothing loaded.

use std::alloc::{GlobalAlloc, Layout};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};

use crossterm::event::KeyCode;
use whalewatch::ui::action::{Action, Pane};
use whalewatch::ui::data;
use whalewatch::ui::fixture;
use whalewatch::ui::state::State;
use whalewatch::ui::theme::Theme;
use whalewatch::ui::update::{Msg, update};

use super::{Counting, HEIGHT, WIDTH, draw, key, keymap, session, terminal};

/// The binary's allocator (mimalloc), counting the bytes live on the heap.
pub struct HeapCounter;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to mimalloc with the caller's arguments unchanged; the
// counter only observes sizes.
unsafe impl GlobalAlloc for HeapCounter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

/// One reading: resident anonymous and file-backed bytes, live heap bytes.
#[derive(Clone, Copy)]
struct Reading {
    anon: u64,
    file: u64,
    heap: u64,
}

fn read() -> Reading {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    };
    Reading {
        anon: kb("RssAnon:"),
        file: kb("RssFile:"),
        heap: LIVE.load(Ordering::Relaxed).max(0) as u64,
    }
}

fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// Runs `f` on a worker thread, as the app runs its loads.
fn on_worker<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("worker"))
}

/// What `ui::app` does once everything is loaded, and at each pause: the allocator
/// returns the pages it holds freed (`app::release_freed_memory`); timed.
fn release_when_loaded(state: &State, rows: &mut Vec<(String, String)>, when: &str) {
    if state.data.fully_loaded() {
        let t = std::time::Instant::now();
        whalewatch::ui::app::release_freed_memory();
        rows.push((
            format!("memory: returning freed pages ({when}; `app::release_freed_memory`)"),
            format!("{:.2} ms", t.elapsed().as_secs_f64() * 1e3),
        ));
    }
}

/// The stages and their readings, as table rows (printed by the caller).
pub fn stages(path: &Path, theme: &Theme) -> Vec<(String, String)> {
    let mut out_rows = Vec::new();
    let mut out = Counting::default();
    let mut term = terminal(&out);
    let keymap = keymap();
    let base = read();
    let mut readings: Vec<(String, Reading)> = vec![("baseline (nothing loaded)".into(), base)];

    let first = data::load_first(path).expect("load_first");
    let mut state = State::new(session(), first, keymap, fixture::now());
    update(&mut state, Msg::Action(Action::Resize(WIDTH, HEIGHT)));
    draw(&mut term, &mut out, &state, theme);
    readings.push(("first frame (load_first)".into(), read()));

    let quick = on_worker(|| data::load_quick(path).expect("load_quick"));
    update(&mut state, Msg::Loaded(Box::new(quick)));
    draw(&mut term, &mut out, &state, theme);
    release_when_loaded(&state, &mut out_rows, "loaded");
    readings.push(("after load_quick (swapped in, drawn)".into(), read()));

    let emails = on_worker(|| data::load_emails(path).expect("load_emails"));
    let rows = emails.index.len() as u64;
    update(&mut state, Msg::Emails(emails));
    draw(&mut term, &mut out, &state, theme);
    release_when_loaded(&state, &mut out_rows, "loaded");
    readings.push(("after the index (Msg::Emails, drawn)".into(), read()));

    for pane in Pane::ALL {
        update(&mut state, Msg::Action(Action::Pane(pane)));
        draw(&mut term, &mut out, &state, theme);
        readings.push((format!("after pane {pane:?}"), read()));
    }
    update(&mut state, Msg::Action(Action::Pane(Pane::Emails)));
    for _ in 0..2 {
        update(&mut state, key(KeyCode::Char('P')));
        draw(&mut term, &mut out, &state, theme);
    }
    readings.push(("after P twice (tag on, off)".into(), read()));
    // A second without keys: the app returns freed pages (`Msg::Pause`).
    update(&mut state, Msg::Pause);
    draw(&mut term, &mut out, &state, theme);
    release_when_loaded(&state, &mut out_rows, "a pause");
    readings.push(("then a pause (freed pages returned)".into(), read()));
    out.take();

    let per_row = |r: &Reading| {
        let above = (r.anon + r.file).saturating_sub(base.anon + base.file);
        above as f64 / rows.max(1) as f64
    };
    for (name, r) in &readings {
        out_rows.push((
            format!("memory: {name}"),
            format!(
                "RssAnon {} · RssFile {} · live heap {} · {:.0} B/row above baseline (anon {:.0} + file {:.0})",
                mb(r.anon),
                mb(r.file),
                mb(r.heap),
                per_row(r),
                r.anon.saturating_sub(base.anon) as f64 / rows.max(1) as f64,
                r.file.saturating_sub(base.file) as f64 / rows.max(1) as f64,
            ),
        ));
    }
    std::hint::black_box(&state);
    out_rows.extend(parts(path));
    out_rows
}

/// The live heap each of `load_quick`'s reads keeps (its result held), one by one.
fn parts(path: &Path) -> Vec<(String, String)> {
    use whalewatch::cache::Cache;
    use whalewatch::query::index::TagTable;
    use whalewatch::query::index::entities::{AlertIndex, CampaignIndex, IncidentIndex, UserIndex};
    let mut out = Vec::new();
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut held = |name: &str, before: u64| {
        out.push((
            format!("memory: live heap kept by {name}"),
            format!("{:+.1} MB", (read().heap as f64 - before as f64) / 1e6),
        ));
    };
    let cache = Cache::open_read_only(path).expect("open");
    let h = read().heap;
    let tags = TagTable::load(&cache).expect("tags");
    held("tags", h);
    let h = read().heap;
    let users = UserIndex::load(&cache, &tags).expect("users");
    held("users", h);
    let h = read().heap;
    let posture = data::PostureData::load(&cache, &users, &tags, fixture::now()).expect("posture");
    held("posture", h);
    let h = read().heap;
    let with_json = AlertIndex::load(&cache).expect("alerts");
    held("alerts with their JSON (as the CLI reads them)", h);
    drop(with_json);
    let h = read().heap;
    let alerts = AlertIndex::load_parsed(&cache, None).expect("alerts");
    held("alerts without their JSON (as the console reads them)", h);
    let h = read().heap;
    let incidents = IncidentIndex::load(&cache, &alerts).expect("incidents");
    held("incidents with their JSON", h);
    let h = read().heap;
    let incidents = incidents.without_raw();
    held("incidents: dropping their JSON", h);
    let h = read().heap;
    let campaigns = CampaignIndex::load(&cache).expect("campaigns");
    held("campaigns", h);
    let h = read().heap;
    let preview = cache.newest_emails(data::PREVIEW_ROWS).expect("preview");
    held("preview", h);
    keep.push(Box::new((
        tags, users, posture, alerts, incidents, campaigns, preview,
    )));
    std::hint::black_box(&keep);
    out
}
