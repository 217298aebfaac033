//! Taking over the terminal and giving it back: raw mode, the alternate screen, mouse capture
//! and a hidden cursor on the way in; all of it undone on the way out, whichever way out it is
//! (quit, Ctrl-C, SIGTERM, an error, or a panic on any thread: a chained panic hook restores
//! the terminal first, so the panic message lands on the normal screen instead of vanishing
//! with the alternate one).

use std::io::{self, Stdout, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The dashboard's terminal.
pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// True while the terminal is taken over.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// True once a panic restored the terminal: the dashboard must not draw again.
static PANICKED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that restores the terminal, then runs the hook
/// that was there before (which prints the message).
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if ACTIVE.load(Ordering::SeqCst) {
                PANICKED.store(true, Ordering::SeqCst);
                let _ = restore();
            }
            previous(info);
        }));
    });
}

/// Takes over the terminal. On failure whatever was done is undone.
pub fn enter() -> io::Result<Tui> {
    install_panic_hook();
    PANICKED.store(false, Ordering::SeqCst);
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let setup = (|| {
        execute!(stdout(), EnterAlternateScreen, EnableMouseCapture, Hide)?;
        let mut t = Terminal::new(CrosstermBackend::new(stdout()))?;
        t.clear()?;
        Ok(t)
    })();
    if setup.is_err() {
        let _ = restore();
    }
    setup
}

/// Gives the terminal back (idempotent: only the first call after [`enter`] does anything).
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let screen = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
    let raw = disable_raw_mode();
    screen.and(raw)
}

/// True when a panic has restored the terminal since [`enter`].
pub fn panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Restores the terminal when dropped (on every return path, and on unwinding).
#[derive(Debug)]
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = restore();
    }
}
