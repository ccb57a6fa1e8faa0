#![allow(dead_code)]
//! The real binary in a pseudo-terminal, for the console's end-to-end tests: keys go
//! in as the bytes a terminal sends, everything the program writes is kept byte for
//! byte, and a `vt100` parser keeps the screen as an analyst would see it.
//!
//! Synchronisation is by waiting for text on the parsed screen (or for the process
//! to exit) up to a generous deadline — never by sleeping a fixed time.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::common::refresh::TempDir;

/// How long any one wait may take before the test fails: long enough for a loaded
/// two-core machine building other things.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The terminal-restoring sequences the console writes when it leaves.
pub const LEAVE_ALTERNATE_SCREEN: &[u8] = b"\x1b[?1049l";
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

/// The synchronized-update markers (DEC 2026) the console wraps each frame in.
const BEGIN_FRAME: &[u8] = b"\x1b[?2026h";
const END_FRAME: &[u8] = b"\x1b[?2026l";

/// `whalewatch demo` over a small world, running in a pseudo-terminal.
pub struct Console {
    master: Option<Box<dyn MasterPty + Send>>,
    input: Option<File>,
    child: Box<dyn Child + Send + Sync>,
    chunks: Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    /// Every byte the program wrote, in order.
    pub bytes: Vec<u8>,
    pub screen: vt100::Parser<Seen>,
    pub exit: Option<portable_pty::ExitStatus>,
    /// Inside a synchronized update (a frame being drawn).
    in_frame: bool,
    /// Taken by [`Console::into_dir`].
    _dir: Option<TempDir>,
}

/// What the parsed terminal was asked to do besides drawing: a terminal would act
/// on each of these, so the tests check that only the console's own ones happen.
#[derive(Debug, Default)]
pub struct Seen {
    /// Window and icon titles set (OSC 0/1/2).
    pub titles: Vec<String>,
    /// Clipboard writes (OSC 52), base64 as sent.
    pub clipboard: Vec<String>,
    /// Bells (BEL outside any sequence).
    pub bells: usize,
    /// OSC sequences vt100 does not handle (OSC 8 hyperlinks, ...).
    pub other_osc: Vec<String>,
}

impl vt100::Callbacks for Seen {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(String::from_utf8_lossy(name).into_owned());
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles
            .push(String::from_utf8_lossy(title).into_owned());
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        self.clipboard
            .push(String::from_utf8_lossy(data).into_owned());
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        let p: Vec<String> = params
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        self.other_osc.push(p.join(";"));
    }
}

/// A key as the terminal sends it.
pub enum Key<'a> {
    Text(&'a str),
    Enter,
    Esc,
    PageDown,
}

impl Key<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Key::Text(s) => s.as_bytes(),
            Key::Enter => b"\r",
            Key::Esc => b"\x1b",
            Key::PageDown => b"\x1b[6~",
        }
    }
}

/// Duplicates `fd` into a `File` the caller owns.
fn dup(fd: RawFd) -> File {
    // SAFETY: `fd` is an open descriptor owned by the pty; `dup` returns a new one
    // (checked) that the File then owns alone.
    let new = unsafe { libc::dup(fd) };
    assert!(new >= 0, "dup: {}", std::io::Error::last_os_error());
    unsafe { File::from_raw_fd(new) }
}

/// Whether `fd` has something to read within `ms` milliseconds.
fn readable(fd: RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n > 0 && p.revents != 0
}

impl Console {
    /// Starts `whalewatch demo --seed 5 --days 7 --users 300 --emails-per-day 600`
    /// (plus `extra`) in a 160×48 pseudo-terminal, with its config and caches in a
    /// fresh temp dir.
    pub fn demo(extra: &[&str]) -> Console {
        let mut args = vec![
            "demo",
            "--seed",
            "5",
            "--days",
            "7",
            "--users",
            "300",
            "--emails-per-day",
            "600",
        ];
        args.extend_from_slice(extra);
        Console::spawn_in(TempDir::new("console"), &args)
    }

    /// Starts `whalewatch` with `args` in a 160×48 pseudo-terminal, with its config
    /// and caches in `dir` (see [`Console::env`]).
    pub fn spawn_in(dir: TempDir, args: &[&str]) -> Console {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 48,
                cols: 160,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_whalewatch"));
        cmd.args(args);
        cmd.env_clear();
        for (k, v) in Console::env(dir.path()) {
            cmd.env(k, v);
        }
        cmd.cwd(dir.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn whalewatch");
        // Only the child keeps the slave open, so the master sees it go.
        drop(pair.slave);
        let master = pair.master;
        let fd = master.as_raw_fd().expect("the master's fd");
        let input = dup(fd);
        let mut output = dup(fd);
        let (tx, chunks) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            // Polls with a timeout so that `close` can stop this thread (and close its
            // descriptor) while the program is still running.
            while !stopping.load(Ordering::Relaxed) {
                if !readable(fd_of(&output), 50) {
                    continue;
                }
                match output.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Console {
            master: Some(master),
            input: Some(input),
            child,
            chunks,
            stop,
            reader: Some(reader),
            bytes: Vec::new(),
            screen: vt100::Parser::new_with_callbacks(48, 160, 0, Seen::default()),
            exit: None,
            in_frame: false,
            _dir: Some(dir),
        }
    }

    /// The whole environment the program runs with: its config and caches in `dir`.
    pub fn env(dir: &Path) -> Vec<(String, std::ffi::OsString)> {
        let mut env = vec![
            ("HOME".to_owned(), dir.as_os_str().to_owned()),
            ("TERM".to_owned(), "xterm-256color".into()),
            ("LANG".to_owned(), "C.UTF-8".into()),
            (
                "WHALEWATCH_CONFIG".to_owned(),
                dir.join("config.toml").into_os_string(),
            ),
            (
                "WHALEWATCH_CACHE_DIR".to_owned(),
                dir.join("cache").into_os_string(),
            ),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH".to_owned(), path));
        }
        env
    }

    /// The temp dir the program's config and cache live in.
    pub fn dir(&self) -> &Path {
        self._dir.as_ref().expect("the temp dir").path()
    }

    /// Hands over the temp dir once the program has exited, to run another one on
    /// the same config and cache.
    pub fn into_dir(mut self) -> TempDir {
        self._dir.take().expect("the temp dir")
    }

    fn feed(&mut self, chunk: &[u8]) {
        let from = self.bytes.len().saturating_sub(BEGIN_FRAME.len());
        self.bytes.extend_from_slice(chunk);
        self.screen.process(chunk);
        // Like a terminal that honours synchronized updates, the tests look at the
        // screen only between frames, never at half a frame.
        let tail = &self.bytes[from..];
        let last = |m: &[u8]| tail.windows(m.len()).rposition(|w| w == m);
        match (last(BEGIN_FRAME), last(END_FRAME)) {
            (Some(b), Some(e)) => self.in_frame = b > e,
            (Some(_), None) => self.in_frame = true,
            (None, Some(_)) => self.in_frame = false,
            (None, None) => {}
        }
    }

    /// Takes in output for at most `d`; false when the program's output ended.
    fn pump(&mut self, d: Duration) -> bool {
        match self.chunks.recv_timeout(d) {
            Ok(c) => {
                self.feed(&c);
                while let Ok(c) = self.chunks.try_recv() {
                    self.feed(&c);
                }
                true
            }
            Err(RecvTimeoutError::Timeout) => true,
            Err(RecvTimeoutError::Disconnected) => false,
        }
    }

    /// The screen as text, one line per row.
    pub fn text(&self) -> String {
        self.screen.screen().contents()
    }

    /// Waits until `cond` holds for the parsed screen; panics with the screen after
    /// the deadline.
    pub fn wait_screen(&mut self, what: &str, mut cond: impl FnMut(&vt100::Screen) -> bool) {
        let end = Instant::now() + DEADLINE;
        loop {
            if !self.in_frame && cond(self.screen.screen()) {
                return;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; the screen:\n{}", self.text());
            }
            if !self.pump(Duration::from_millis(100)) {
                assert!(
                    cond(self.screen.screen()),
                    "the program ended while waiting for {what}; exit {:?}; the screen:\n{}",
                    self.child.try_wait(),
                    self.text()
                );
                return;
            }
        }
    }

    /// Waits until `cond` holds for the screen's text.
    pub fn wait_until(&mut self, what: &str, mut cond: impl FnMut(&str) -> bool) {
        self.wait_screen(what, |s| cond(&s.contents()));
    }

    /// Whether the program has exited.
    pub fn child_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits until `text` shows on the screen.
    pub fn wait_for(&mut self, text: &str) {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text));
    }

    /// Waits until the output holds `needle` at or after byte `from`.
    pub fn wait_for_bytes(&mut self, from: usize, needle: &[u8]) {
        let end = Instant::now() + DEADLINE;
        while !contains(&self.bytes[from.min(self.bytes.len())..], needle) {
            assert!(
                Instant::now() < end,
                "timed out waiting for {:?} in the output",
                String::from_utf8_lossy(needle)
            );
            assert!(
                self.pump(Duration::from_millis(100)),
                "the program ended before writing {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }

    /// Sends keys.
    pub fn press(&mut self, keys: &[Key<'_>]) {
        let input = self.input.as_mut().expect("the terminal is open");
        for k in keys {
            input.write_all(k.bytes()).expect("write to the terminal");
        }
        input.flush().expect("flush");
    }

    /// Types `text` (each character a key).
    pub fn type_text(&mut self, text: &str) {
        self.press(&[Key::Text(text)]);
    }

    /// Resizes the terminal (the program gets SIGWINCH) and the parsed screen.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.master
            .as_ref()
            .expect("the terminal is open")
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
        self.screen.screen_mut().set_size(rows, cols);
    }

    /// Sends `signal` to the program.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.process_id().expect("a pid") as libc::pid_t;
        // SAFETY: plain kill(2) on our own child.
        let r = unsafe { libc::kill(pid, signal) };
        assert_eq!(r, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for the program to exit, taking in all it writes, and returns whether it
    /// exited successfully.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                // Take the rest of the output: the reader ends at EOF/EIO.
                while self.pump(Duration::from_millis(100)) {
                    if self.reader.as_ref().is_none_or(|r| r.is_finished())
                        && self.chunks.try_recv().is_err()
                    {
                        break;
                    }
                }
                self.exit = Some(s.clone());
                return s;
            }
            assert!(
                Instant::now() < end,
                "the program did not exit; the screen:\n{}",
                self.text()
            );
            self.pump(Duration::from_millis(100));
        }
    }

    /// Closes the terminal (the master side): the program sees a hangup and EOF.
    /// Output after this point is lost with the terminal.
    pub fn close(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        while let Ok(c) = self.chunks.try_recv() {
            self.feed(&c);
        }
        self.input = None;
        self.master = None;
    }

    /// Waits for the program to exit without reading (after `close`).
    pub fn wait_exit_closed(&mut self) -> portable_pty::ExitStatus {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s;
            }
            assert!(Instant::now() < end, "the program did not exit");
            // Nothing to read any more: poll the exit status.
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }
}

fn fd_of(f: &File) -> RawFd {
    use std::os::fd::AsRawFd;
    f.as_raw_fd()
}

impl Drop for Console {
    fn drop(&mut self) {
        if self.exit.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Whether `hay` contains `needle`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}
