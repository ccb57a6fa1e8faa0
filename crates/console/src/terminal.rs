//! The terminal is a resource with a guard. Entering records every mode it turns on
//! (raw mode, the alternate screen, bracketed paste, a hidden cursor); leaving undoes
//! exactly those — from `Drop`, from the panic hook, and on SIGTERM/SIGHUP — so an
//! analyst's shell is never left in raw mode, whatever happened.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::{cursor, event, execute, terminal};

/// Modes the guard turned on, so restoring undoes only those.
#[derive(Debug, Default, Clone, Copy)]
struct Modes {
    raw: bool,
    alternate: bool,
    paste: bool,
    cursor_hidden: bool,
}

static ACTIVE: Mutex<Option<Modes>> = Mutex::new(None);
static HOOKED: AtomicBool = AtomicBool::new(false);

/// Undoes the recorded modes. Safe to call more than once and from any thread.
pub fn restore() {
    let modes = ACTIVE.lock().ok().and_then(|mut m| m.take());
    let Some(m) = modes else { return };
    let mut out = io::stdout();
    if m.paste {
        let _ = execute!(out, event::DisableBracketedPaste);
    }
    if m.alternate {
        let _ = execute!(out, terminal::LeaveAlternateScreen);
    }
    if m.cursor_hidden {
        let _ = execute!(out, cursor::Show);
    }
    if m.raw {
        let _ = terminal::disable_raw_mode();
    }
    let _ = out.flush();
}

/// Owns the terminal's special modes while the console runs.
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, chaining a panic hook that restores
    /// the terminal before the panic message is printed.
    pub fn enter() -> io::Result<TerminalGuard> {
        if !HOOKED.swap(true, Ordering::SeqCst) {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        }
        let mut modes = Modes::default();
        let result = (|| {
            terminal::enable_raw_mode()?;
            modes.raw = true;
            execute!(io::stdout(), terminal::EnterAlternateScreen)?;
            modes.alternate = true;
            execute!(io::stdout(), event::EnableBracketedPaste)?;
            modes.paste = true;
            execute!(io::stdout(), cursor::Hide)?;
            modes.cursor_hidden = true;
            Ok(())
        })();
        if let Ok(mut a) = ACTIVE.lock() {
            *a = Some(modes);
        }
        match result {
            Ok(()) => Ok(TerminalGuard { _private: () }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
