//! The event loop: terminal events, task results and signals become [`Msg`]s;
//! `update` applies them; the frame is redrawn once per batch, in one buffered
//! write wrapped in a synchronized update — and not at all while nothing happens.
//!
//! Start-up draws before the email index exists: the tags, the newest page of mail
//! and the newest alerts are read first ([`data::load_first`]); then the index
//! (mapped from its column file) and the rest ([`data::load_quick`]) load on worker
//! threads side by side and are swapped in as each arrives.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossterm::event::{Event, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use super::action::Action;
use super::commands::Keymap;
use super::data;
use super::effects::{Effects, RefreshTarget};
use super::screen::{Screen, scroll_region_from_env};
use super::state::{Session, State};
use super::terminal::TerminalGuard;
use super::theme::{Palette, Theme};
use super::update::{Msg, update};

/// How the console starts.
pub struct Options {
    pub session: Session,
    pub cache_path: PathBuf,
    /// Where the console keeps per-profile choices (the email grid's columns).
    pub settings_path: PathBuf,
    /// Where the prompt history (filters, command lines) is kept for this profile.
    pub history_path: PathBuf,
    pub keymap: Keymap,
    /// A command line to open (`--view`).
    pub view: Option<String>,
    /// A tag to narrow every pane to (`--tag`).
    pub tag: Option<String>,
    /// Command lines to run before the first frame, after `view` (`--range`, `--open`).
    pub startup: Vec<String>,
    /// A session log to step through (`--replay FILE`): each key runs the next entry.
    pub replay: Option<Vec<super::session_log::Entry>>,
    /// The profiles `:profile` can switch to (empty: this console cannot switch).
    pub profiles: Vec<String>,
    /// Builds the tenant client, after the first frame; `Err` says why the
    /// session works offline.
    pub connect: Option<Connect>,
    /// Start a refresh at once (`whalewatch tui` refreshes in the background).
    pub refresh_on_start: bool,
}

/// How long the analyst pauses in normal mode before which-key lists the keys.
pub const WHICH_KEY_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

/// Builds what a background refresh needs (called once, after the first frame); the
/// error says why the tenant cannot be reached and what to do about it.
pub type Connect = Box<dyn FnOnce() -> Result<RefreshTarget, String> + Send>;

/// When the process started (set by `main`), so the `first frame` log event times the
/// first frame from the start of the process, not of the console.
pub static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Returns the memory the process's allocator holds freed to the system (set by
/// `main`, which knows the allocator): called once the loads are in, when the old
/// snapshot and the loaders' scratch have been freed and the console may idle.
pub static RELEASE_FREED_MEMORY: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Calls [`RELEASE_FREED_MEMORY`], when set.
pub fn release_freed_memory() {
    if let Some(release) = RELEASE_FREED_MEMORY.get() {
        let t = Instant::now();
        release();
        tracing::debug!(
            elapsed_ms = t.elapsed().as_secs_f64() * 1e3,
            "freed memory returned"
        );
    }
}

/// Bytes written to the terminal, counted for the status of `--stats`.
pub static BYTES_WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Collects a frame and writes it in one go: ratatui's per-draw `flush` is held
/// back so the frame's bytes leave inside one synchronized update. Clones share the
/// buffer, so the loop can add the synchronized-update markers and OSC 52 writes.
#[derive(Clone, Default)]
pub struct FrameWriter {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl FrameWriter {
    /// Sends everything buffered to the terminal in one write.
    pub fn commit(&self) -> io::Result<()> {
        let mut buf = self
            .buf
            .lock()
            .map_err(|_| io::Error::other("frame buffer poisoned"))?;
        // Classic codes for the 16 standard colours (`WHALEWATCH_COLORS=16`).
        let bytes = super::theme::classic_sgr(&buf);
        let mut out = io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
        BYTES_WRITTEN.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        buf.clear();
        Ok(())
    }
}

impl FrameWriter {
    /// Takes what is buffered (tests read a frame's bytes).
    #[cfg(test)]
    pub fn take(&self) -> Vec<u8> {
        self.buf
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl Write for FrameWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let mut buf = self
            .buf
            .lock()
            .map_err(|_| io::Error::other("frame buffer poisoned"))?;
        buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type Term = Screen<FrameWriter>;

/// Draws one frame inside a synchronized update, as one write (rows a table
/// scrolled are moved by the terminal inside it: [`Screen`]).
fn draw(term: &mut Term, out: &mut FrameWriter, state: &State, theme: &Theme) -> io::Result<()> {
    crossterm::queue!(out, BeginSynchronizedUpdate)?;
    term.draw(|f| super::views::draw(f, state, theme))?;
    crossterm::queue!(out, EndSynchronizedUpdate)?;
    out.commit()
}

/// Runs the console until the analyst quits, a signal arrives or stdin closes.
/// Returns the profile the analyst switched to (`:profile NAME`), whose console the
/// caller opens next.
pub async fn run(opts: Options) -> anyhow::Result<Option<String>> {
    let started = PROCESS_START.get().copied().unwrap_or_else(Instant::now);
    let first = data::load_first(&opts.cache_path)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut state = State::new(
        opts.session.clone(),
        first,
        opts.keymap.clone(),
        chrono::Utc::now(),
    );
    super::settings::apply(&mut state, &opts.settings_path);
    let history_problem = match super::prompt::History::load(&opts.history_path) {
        Ok(h) => {
            state.history = h;
            None
        }
        Err(e) => Some(e.to_string()),
    };
    state.profiles = opts.profiles.clone();
    if let Some(t) = &opts.tag {
        update(&mut state, Msg::Action(Action::SetTag(Some(t.clone()))));
    }
    if let Some(v) = &opts.view {
        update(&mut state, Msg::Action(Action::Run(v.clone())));
    }
    for line in &opts.startup {
        update(&mut state, Msg::Action(Action::Run(line.clone())));
    }
    if let Some(entries) = opts.replay.clone() {
        let n = entries.len();
        state.replay = Some(super::session_log::Replay { entries, pos: 0 });
        update(
            &mut state,
            Msg::Notice(super::state::Notice {
                text: format!("replaying {n} entries: any key runs the next · q quits"),
                error: false,
            }),
        );
    }

    let guard = TerminalGuard::enter()?;
    let theme = Theme::new(Palette::from_env());
    let mut out = FrameWriter::default();
    let mut term = Screen::new(CrosstermBackend::new(out.clone()), scroll_region_from_env())?;
    // Without scroll regions each scrolled row is rewritten: scroll half pages.
    state.scroll_jump = !term.scroll_region();
    let size = term.size()?;
    update(
        &mut state,
        Msg::Action(Action::Resize(size.width, size.height)),
    );
    draw(&mut term, &mut out, &state, &theme)?;
    let first_frame = started.elapsed();
    // The figure README's start-up row quotes (`--log-file`, level info).
    tracing::info!(
        first_frame_ms = first_frame.as_secs_f64() * 1e3,
        bytes_written = BYTES_WRITTEN.load(Ordering::Relaxed),
        "first frame"
    );

    // The index and the rest start loading now: the tenant client's TLS set-up
    // below must not hold them back.
    let mut effects = Effects::new(
        tx.clone(),
        opts.cache_path.clone(),
        opts.settings_path.clone(),
        None,
        &state.session,
    )
    .with_history_path(opts.history_path.clone());
    effects.load_rest();
    let refresh = match opts.connect {
        Some(connect) => match connect() {
            Ok(target) => Some(target),
            Err(why) => {
                state.refresh.unavailable = Some(why.clone());
                update(
                    &mut state,
                    Msg::Notice(super::state::Notice {
                        text: format!("working offline from the cache: {why}"),
                        error: false,
                    }),
                );
                None
            }
        },
        None => None,
    };
    state.session.can_refresh = refresh.is_some();
    if let Some(why) = history_problem {
        update(
            &mut state,
            Msg::Notice(super::state::Notice {
                text: why,
                error: true,
            }),
        );
    }
    effects.set_refresh(refresh);
    // The views before this point had no log to go to: log the current one next.
    state.logged_view = None;
    state.log.clear();
    effects.flush_on_start();
    if opts.refresh_on_start && state.session.can_refresh {
        for e in update(&mut state, Msg::Action(Action::Refresh)) {
            effects.run(e, &out);
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut events = read_events(stop.clone());
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // When the analyst stops typing after a key that did nothing, which-key shows.
    let mut pause_at: Option<tokio::time::Instant> = None;
    // Ages on screen are measured from now: the clock ticks every second, and a tick
    // redraws only when the text it moves changed (`42s old` → `43s old`; past a
    // minute, once a minute), so an idle console still writes next to nothing.
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    // The start-up figures README quotes (`--log-file`): when the drawn frame first
    // had the index, and when it had everything.
    let (mut index_logged, mut all_logged) = (false, false);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !state.quit {
        let mut batch: Vec<Msg> = Vec::new();
        let shown = super::views::chrome::ticking(&state);
        let pause = async {
            match pause_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = clock.tick() => batch.push(Msg::Tick(chrono::Utc::now())),
            ev = events.recv() => match ev {
                Some(Some(m)) => batch.push(m),
                Some(None) => {}
                // A closed or broken stdin: nobody can type any more.
                None => break,
            },
            Some(m) = rx.recv() => batch.push(m),
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            _ = pause => {
                pause_at = None;
                batch.push(Msg::Pause);
            }
        }
        // Drain whatever else is already waiting, then draw once.
        while let Ok(ev) = events.try_recv() {
            batch.extend(ev);
        }
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        if batch.iter().any(|m| matches!(m, Msg::Key(_))) {
            pause_at = Some(tokio::time::Instant::now() + WHICH_KEY_PAUSE);
        }
        let only_ticks = batch.iter().all(|m| matches!(m, Msg::Tick(_)));
        // Freed pages go back to the system once the loads are in, and when the
        // analyst pauses (what a key's work freed: a pane's tables, a filter's rows).
        let release = batch.iter().any(|m| matches!(m, Msg::Pause))
            || batch
                .iter()
                .any(|m| matches!(m, Msg::Loaded(_) | Msg::Emails(_) | Msg::Recipients(_)));
        for m in batch {
            for e in update(&mut state, m) {
                effects.run(e, &out);
            }
            effects.log(std::mem::take(&mut state.log));
            if state.quit {
                break;
            }
        }
        if !state.quit && (!only_ticks || super::views::chrome::ticking(&state) != shown) {
            draw(&mut term, &mut out, &state, &theme)?;
            if !index_logged && let Some(ix) = &state.data.emails {
                index_logged = true;
                tracing::info!(
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    rows = ix.len(),
                    everything_else_loaded = state.data.complete,
                    "index usable"
                );
            }
            if !all_logged && state.data.fully_loaded() {
                all_logged = true;
                tracing::info!(
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    "everything loaded"
                );
            }
        }
        // Drawn first: the frame does not wait for the allocator.
        if release && state.data.fully_loaded() {
            release_freed_memory();
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(term);
    drop(guard);
    tracing::info!(
        first_frame_ms = first_frame.as_secs_f64() * 1e3,
        bytes_written = BYTES_WRITTEN.load(Ordering::Relaxed),
        "console closed"
    );
    // Background work (a refresh, the index build) must not hold the exit.
    effects.shutdown();
    Ok(state.switch_to.take())
}

/// Reads terminal events on their own thread (crossterm's reads block), until `stop`
/// or until stdin fails — then the channel closes, which ends the console.
fn read_events(stop: Arc<AtomicBool>) -> mpsc::UnboundedReceiver<Option<Msg>> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match crossterm::event::poll(std::time::Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => match crossterm::event::read() {
                    Ok(ev) => {
                        if tx.send(msg_of(ev)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Err(_) => return,
            }
        }
    });
    rx
}

/// The message a terminal event carries.
fn msg_of(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Paste(s) => Some(Msg::Paste(s)),
        Event::Resize(w, h) => Some(Msg::Action(Action::Resize(w, h))),
        _ => None,
    }
}
