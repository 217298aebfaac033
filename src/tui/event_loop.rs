//! The dashboard's event loop (tokio, one thread): terminal input, engine events and a render
//! tick, merged with `select!`. Engine events arrive on the engine's unbounded crossbeam
//! channel and are forwarded into a tokio channel by a blocking task, so the engine never waits
//! for the dashboard. Events only mark the screen dirty; the tick redraws a dirty screen, so
//! redraws are coalesced to at most [`FPS`] per second however fast events come.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use crossterm::event::Event;
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::app::{App, Effect};
use super::error::TuiError;
use super::keys;
use super::panels;
use super::terminal;
use crate::engine::{Control, EngineEvent};
use crate::session::Saver;

/// Most redraws per second.
pub const FPS: u32 = 30;

/// Longest wait for the engine to acknowledge `Stop` after a quit.
pub const STOP_WAIT: Duration = Duration::from_secs(30);

/// Engine events folded into the state between two looks at the input.
const BATCH: usize = 4096;

/// Longest wait of the engine-event forwarder before it checks whether the loop is still there.
const FORWARD_POLL: Duration = Duration::from_millis(50);

/// The live race's channels.
pub struct EngineLink {
    /// Controls for the engine.
    pub commands: Sender<Control>,
    /// The engine's events.
    pub events: Receiver<EngineEvent>,
}

/// What ended a race (or a replay) before its end: the exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `q` or Ctrl-C pressed (or the input closed) while the race was running.
    Key,
    /// A signal (SIGINT, SIGTERM, SIGHUP), by number.
    Signal(i32),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user left; the engine (if any) had finished on its own.
    Done,
    /// The user left a running race, which was stopped and has finished, or a signal ended the
    /// dashboard.
    Stopped(Stop),
    /// The user left without waiting for the stopped engine to finish.
    Abandoned(Stop),
}

async fn next_engine_event(
    rx: &mut Option<mpsc::UnboundedReceiver<EngineEvent>>,
) -> Option<EngineEvent> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_signal(rx: &mut Option<mpsc::UnboundedReceiver<i32>>) -> Option<i32> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// A channel that yields the number of every SIGTERM, SIGINT or SIGHUP (must be called inside
/// the runtime).
#[cfg(unix)]
pub fn stop_signals() -> std::io::Result<mpsc::UnboundedReceiver<i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (term_kind, int_kind, hup_kind) = (
        SignalKind::terminate(),
        SignalKind::interrupt(),
        SignalKind::hangup(),
    );
    let mut term = signal(term_kind)?;
    let mut int = signal(int_kind)?;
    let mut hup = signal(hup_kind)?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let kind = tokio::select! {
                _ = term.recv() => term_kind,
                _ = int.recv() => int_kind,
                _ = hup.recv() => hup_kind,
            };
            if tx.send(kind.as_raw_value()).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// A channel that yields SIGINT's number once per Ctrl-C (must be called inside the runtime).
#[cfg(not(unix))]
pub fn stop_signals() -> std::io::Result<mpsc::UnboundedReceiver<i32>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(2).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// What the loop is doing about leaving.
#[derive(Debug, Default)]
struct Leaving {
    asked: bool,
    stop_sent: Option<Instant>,
    now: bool,
    /// The first stop signal received.
    signal: Option<i32>,
}

impl Leaving {
    /// Why the dashboard ends, if not because the race ended on its own.
    fn stop(&self) -> Option<Stop> {
        match (self.signal, self.stop_sent) {
            (Some(s), _) => Some(Stop::Signal(s)),
            (None, Some(_)) => Some(Stop::Key),
            (None, None) => None,
        }
    }
}

/// Runs the dashboard until the user leaves: draws `app` on `terminal`, reads `input`, folds
/// the events of `engine` (None in a replay) into the state and obeys `signals` (a signal
/// number: "quit").
pub async fn run<B, I>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    engine: Option<EngineLink>,
    saver: &mut Option<Saver>,
    mut input: I,
    mut signals: Option<mpsc::UnboundedReceiver<i32>>,
) -> Result<Exit, TuiError>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let (commands, mut events) = match engine {
        Some(link) => {
            let (tx, rx) = mpsc::unbounded_channel();
            let source = link.events;
            // Ends when the engine's channel closes or, at the latest one poll after, when the
            // loop has returned (the engine's sender may outlive the loop: a session writer
            // holds it until it has written the last save).
            tokio::task::spawn_blocking(move || {
                while !tx.is_closed() {
                    match source.recv_timeout(FORWARD_POLL) {
                        Ok(e) => {
                            if tx.send(e).is_err() {
                                break;
                            }
                        }
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                    }
                }
            });
            (Some(link.commands), Some(rx))
        }
        None => (None, None),
    };
    let send = |c: Control| {
        if let Some(tx) = &commands {
            let _ = tx.send(c);
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut input_open = true;
    let mut leaving = Leaving::default();
    loop {
        tokio::select! {
            ev = input.next(), if input_open => match ev {
                Some(Ok(ev)) => {
                    dirty |= on_input(app, ev, saver, &send, &mut leaving);
                }
                Some(Err(e)) => {
                    return Err(TuiError::Input(e));
                }
                None => {
                    input_open = false;
                    leaving.asked = true;
                }
            },
            ev = next_engine_event(&mut events) => match ev {
                Some(e) => {
                    app.apply(e);
                    if let Some(rx) = &mut events {
                        for _ in 0..BATCH {
                            match rx.try_recv() {
                                Ok(e) => app.apply(e),
                                Err(_) => break,
                            }
                        }
                    }
                    dirty = true;
                }
                None => {
                    // The engine is gone: normally right after `Finished`.
                    events = None;
                    if !app.recorder.finished {
                        app.notify("the training engine stopped unexpectedly", true);
                    }
                    dirty = true;
                }
            },
            s = next_signal(&mut signals) => match s {
                Some(number) => {
                    leaving.asked = true;
                    leaving.signal.get_or_insert(number);
                }
                None => signals = None,
            },
            _ = tick.tick() => {
                if terminal::panicked() {
                    return Err(TuiError::Panicked);
                }
                dirty |= app.tick(Instant::now());
                if dirty {
                    let size = terminal.size().map_err(|e| TuiError::Size(Box::new(e)))?;
                    app.screen = Rect::new(0, 0, size.width, size.height);
                    terminal
                        .draw(|f| panels::draw(f, app))
                        .map_err(|e| TuiError::Draw(Box::new(e)))?;
                    dirty = false;
                }
            },
        }
        if leaving.now {
            return Ok(Exit::Abandoned(leaving.stop().unwrap_or(Stop::Key)));
        }
        if leaving.asked {
            let engine_over = events.is_none() || app.recorder.finished;
            if engine_over {
                return Ok(leaving.stop().map_or(Exit::Done, Exit::Stopped));
            }
            match leaving.stop_sent {
                None => {
                    send(Control::Stop);
                    leaving.stop_sent = Some(Instant::now());
                    if let super::app::Mode::Live(l) = &mut app.mode {
                        l.stopping = true;
                    }
                    dirty = true;
                }
                Some(at) if at.elapsed() > STOP_WAIT => {
                    return Ok(Exit::Abandoned(leaving.stop().unwrap_or(Stop::Key)));
                }
                Some(_) => {}
            }
        }
    }
}

/// Handles one terminal event; returns true when the screen must be redrawn.
fn on_input(
    app: &mut App,
    event: Event,
    saver: &mut Option<Saver>,
    send: &impl Fn(Control),
    leaving: &mut Leaving,
) -> bool {
    match event {
        Event::Key(k) => {
            let Some(action) = keys::dispatch(&k, app.is_replay()) else {
                return false;
            };
            match app.act(action) {
                Some(Effect::Engine(c)) => send(c),
                Some(Effect::Save) => match saver {
                    Some(save) => match save(&app.recorder) {
                        Ok(saved) => app.notify(format!("saved: {}", saved.describe()), false),
                        Err(e) => app.notify(format!("save failed: {e}"), true),
                    },
                    None => app.notify("no session saver is configured: nothing was saved", true),
                },
                Some(Effect::Quit) => {
                    if leaving.stop_sent.is_some() {
                        leaving.now = true;
                    }
                    leaving.asked = true;
                }
                None => {}
            }
            true
        }
        Event::Mouse(m) => app.mouse(m.kind, m.column, m.row),
        Event::Resize(w, h) => {
            app.screen = Rect::new(0, 0, w, h);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Recorder;
    use crate::session::SavedSession;
    use crate::tui::synthetic;
    use crossterm::event::{
        KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
    };
    use ratatui::backend::TestBackend;
    use std::sync::{Arc, Mutex};

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    type Input = mpsc::UnboundedSender<std::io::Result<Event>>;

    fn input_stream() -> (Input, impl Stream<Item = std::io::Result<Event>> + Unpin) {
        let (tx, rx) = mpsc::unbounded_channel();
        let s =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            );
        (tx, Box::pin(s))
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Waits (bounded) until `cond` holds, yielding to the loop.
    async fn until(mut cond: impl FnMut() -> bool) {
        for _ in 0..500 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached within 5 s");
    }

    #[test]
    fn live_keys_reach_the_engine_and_quit_waits_for_finished() {
        let rt = runtime();
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        let (keys_tx, input) = input_stream();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let mut app = App::live(Instant::now());
        let saved = Arc::new(Mutex::new(0));
        let counter = saved.clone();
        let mut saver: Option<Saver> = Some(Box::new(move |r: &Recorder| {
            *counter.lock().unwrap() += 1;
            Ok(SavedSession {
                path: format!("{}-lanes.ron", r.lanes.len()).into(),
                sidecar: None,
                step: 0,
                bytes: 0,
                checkpoint_error: None,
            })
        }));
        // The synthetic race, minus its final `Finished`.
        let mut evs = synthetic::events(3, 200, 16);
        let finished = evs.pop().unwrap();
        for e in evs {
            ev_tx.send(e).unwrap();
        }
        let exit = rt.block_on(async {
            let driver = async {
                keys_tx.send(Ok(key(' '))).unwrap();
                until(|| !cmd_rx.is_empty()).await;
                assert_eq!(cmd_rx.try_recv(), Ok(Control::Pause));
                keys_tx.send(Ok(key('s'))).unwrap();
                until(|| *saved.lock().unwrap() == 1).await;
                keys_tx.send(Ok(key('q'))).unwrap();
                until(|| !cmd_rx.is_empty()).await;
                assert_eq!(cmd_rx.try_recv(), Ok(Control::Stop));
                ev_tx.send(finished).unwrap();
            };
            let looped = run(
                &mut terminal,
                &mut app,
                Some(EngineLink {
                    commands: cmd_tx,
                    events: ev_rx,
                }),
                &mut saver,
                input,
                None,
            );
            let (r, ()) = tokio::join!(looped, driver);
            r
        });
        // `q` stopped a running race.
        assert_eq!(exit.unwrap(), Exit::Stopped(Stop::Key));
        assert_eq!(app.recorder.lanes.len(), 3);
        assert_eq!(app.recorder.step(), 200);
        assert_eq!(
            app.current_notice().unwrap().text,
            "saved: saved 3-lanes.ron (step 0, 0.0 MB)"
        );
        let screen = crate::tui::panels::test_support::text(terminal.backend().buffer());
        assert!(screen.contains("Leaderboard"), "{screen}");
    }

    #[test]
    fn a_replay_without_saver_says_so_and_clicks_focus_lanes() {
        let rt = runtime();
        let (keys_tx, input) = input_stream();
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
        let mut app = App::replay(synthetic::recorder(5, 300), Instant::now());
        let mut saver = None;
        let (sig_tx, sig_rx) = mpsc::unbounded_channel();
        let exit = rt.block_on(async {
            let driver = async {
                // Wait for the first frame, then click the fourth leaderboard row.
                tokio::time::sleep(Duration::from_millis(100)).await;
                keys_tx
                    .send(Ok(Event::Key(KeyEvent::new(
                        KeyCode::Tab,
                        KeyModifiers::NONE,
                    ))))
                    .unwrap();
                keys_tx
                    .send(Ok(Event::Key(KeyEvent::new(
                        KeyCode::Home,
                        KeyModifiers::NONE,
                    ))))
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                sig_tx.send(15).unwrap();
            };
            let looped = run(
                &mut terminal,
                &mut app,
                None,
                &mut saver,
                input,
                Some(sig_rx),
            );
            let (r, ()) = tokio::join!(looped, driver);
            r
        });
        // SIGTERM closed the replay.
        assert_eq!(exit.unwrap(), Exit::Stopped(Stop::Signal(15)));
        assert_eq!(app.until(), 0);
        // A click on a leaderboard row (rows sorted by error = lane order in the synthetic race).
        let areas = crate::tui::layout::areas(app.screen, &app).unwrap();
        let board = areas.get(crate::tui::layout::Panel::Leaderboard).unwrap();
        let y = board.y + 2 + 3;
        let mut leaving = Leaving::default();
        let redraw = on_input(
            &mut app,
            Event::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column: board.x + 5,
                row: y,
                modifiers: KeyModifiers::NONE,
            }),
            &mut saver,
            &|_| {},
            &mut leaving,
        );
        assert!(redraw);
        assert_eq!(app.focus, 3);
        on_input(
            &mut app,
            Event::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE)),
            &mut saver,
            &|_| {},
            &mut leaving,
        );
        // 's' is not bound in a replay; in a live race without saver it says so.
        assert!(app.current_notice().is_none());
        let mut live = App::live(Instant::now());
        on_input(&mut live, key('s'), &mut saver, &|_| {}, &mut leaving);
        assert!(
            live.current_notice()
                .unwrap()
                .text
                .contains("no session saver")
        );
    }
}
