//! The live dashboard (ratatui + crossterm on a tokio event loop) and its replay mode.
//!
//! [`run_live`] shows a running race and returns its history when the user leaves;
//! [`run_replay`] shows a recorded race with a timeline. Both draw the same panels from the
//! same state ([`App`]); the panels read a view of the [`Recorder`] limited to the replay
//! cursor, so they cannot tell the two modes apart.

pub mod app;
pub mod chart;
pub mod error;
pub mod event_loop;
pub mod heatgrid;
pub mod keys;
pub mod lanechart;
pub mod layout;
pub mod panels;
pub mod plot;
pub mod seeds;
pub mod synthetic;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod xaxis;

use std::time::Instant;

use crossterm::event::EventStream;

pub use app::App;
pub use error::TuiError;
pub use event_loop::{EngineLink, Exit, Stop};
pub use panels::draw;
pub use timeline::Timeline;

use crate::engine::{Control, RaceHandle};
use crate::history::Recorder;
use crate::session::Saver;

/// Options of a live dashboard.
#[derive(Default)]
pub struct LiveOptions {
    /// Called on `s` with the history so far; what it saved (or why not) is shown in the status
    /// line. Without one, `s` says that nothing was saved.
    pub saver: Option<Saver>,
    /// The history before this run (a resumed race's); empty for a new race.
    pub history: Recorder,
}

impl std::fmt::Debug for LiveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveOptions")
            .field("saver", &self.saver.as_ref().map(|_| "…"))
            .field("history_step", &self.history.step())
            .finish()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, TuiError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(TuiError::EventLoop)
}

/// Runs `f` on the terminal (taken over for the call, given back on every way out).
fn with_terminal<T>(
    f: impl FnOnce(&mut terminal::Tui) -> Result<T, TuiError>,
) -> Result<T, TuiError> {
    let mut tui = terminal::enter().map_err(TuiError::Open)?;
    let guard = terminal::Guard;
    let out = f(&mut tui);
    drop(guard);
    // The guard has shown the cursor already. ratatui's `Terminal` shows it again when dropped
    // and reports a failure with `eprintln!`, which panics when standard error is the same
    // vanished terminal; such a terminal is not dropped (its buffers go with the process).
    if tui.show_cursor().is_err() {
        std::mem::forget(tui);
    }
    out
}

/// How a live dashboard ended.
#[derive(Debug)]
pub struct LiveEnd {
    /// The race's history.
    pub recorder: Recorder,
    /// What stopped the race before its end (None: it ended on its own).
    pub stopped: Option<Stop>,
}

/// Shows the race of `handle` until the user quits (a race still running is stopped first,
/// and the engine's `Finished` awaited), and returns its history and what stopped it.
pub fn run_live(handle: RaceHandle, options: LiveOptions) -> Result<LiveEnd, TuiError> {
    let RaceHandle {
        commands,
        events,
        thread,
    } = handle;
    let stop = commands.clone();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = stop.send(Control::Stop);
            return Err(e);
        }
    };
    let mut app = App::live(Instant::now());
    app.recorder = options.history;
    let mut saver = options.saver;
    let outcome = with_terminal(|tui| {
        rt.block_on(async {
            let signals = event_loop::stop_signals().ok();
            event_loop::run(
                tui,
                &mut app,
                Some(EngineLink { commands, events }),
                &mut saver,
                EventStream::new(),
                signals,
            )
            .await
        })
    });
    // Nothing left on the runtime needs waiting for: the engine-event forwarder ends on its own
    // once the loop has gone, and the terminal's reader thread is crossterm's.
    rt.shutdown_background();
    let stopped = match outcome {
        Ok(Exit::Done) => {
            thread.join().map_err(|_| TuiError::EngineCrashed)?;
            None
        }
        Ok(Exit::Stopped(why)) => {
            thread.join().map_err(|_| TuiError::EngineCrashed)?;
            Some(why)
        }
        Ok(Exit::Abandoned(why)) => {
            let _ = stop.send(Control::Stop);
            Some(why)
        }
        Err(e) => {
            // The terminal failed (or vanished): the race is stopped and its end awaited, so
            // that whoever saves it (a session writer) saves all of it.
            let _ = stop.send(Control::Stop);
            let _ = thread.join();
            return Err(e);
        }
    };
    if !app.recorder.finished && app.recorder.lanes.is_empty() && app.recorder.info.is_none() {
        return Err(TuiError::EngineStoppedEarly);
    }
    Ok(LiveEnd {
        recorder: app.recorder,
        stopped,
    })
}

/// Shows a recorded race with a timeline (play/pause, speed ×0.25–×64, seek) until the user
/// quits (None) or a signal ends it. Read-only: the engine keys do nothing.
pub fn run_replay(recorder: Recorder) -> Result<Option<Stop>, TuiError> {
    let rt = runtime()?;
    let mut app = App::replay(recorder, Instant::now());
    let mut saver = None;
    let outcome = with_terminal(|tui| {
        rt.block_on(async {
            let signals = event_loop::stop_signals().ok();
            event_loop::run(tui, &mut app, None, &mut saver, EventStream::new(), signals).await
        })
    });
    rt.shutdown_background();
    outcome.map(|exit| match exit {
        Exit::Done => None,
        Exit::Stopped(why) | Exit::Abandoned(why) => Some(why),
    })
}
