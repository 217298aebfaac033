//! Saving a running race: the session writer sits between the engine and its consumer (dashboard
//! or headless), keeps its own copy of the history, and writes sessions on its own thread —
//! when asked (`s` in the dashboard), every N seconds (autosave) and when the race ends (finish,
//! quit, Ctrl-C, SIGTERM: all end the race with `Finished`).
//!
//! ```text
//! engine ──events──► writer's relay ──events──► consumer
//!    ▲                  │ applies every event to its Recorder
//!    └─ Checkpoint(n) ──┤ on EngineEvent::Checkpoint: (Recorder copy, checkpoint) ──► file thread
//! ```
//!
//! The engine answers `Control::Checkpoint` between two chunks by copying its state (the only
//! pause it takes) and sending it as an event; since events are ordered, the relay's history at
//! that event is exactly the history that belongs to the checkpoint. Encoding and writing happen
//! on the file thread, one save at a time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, never, select, unbounded};

use super::{SessionContext, SessionError};
use crate::engine::{Control, EngineEvent, Race, RaceCheckpoint, RaceHandle};
use crate::history::Recorder;

/// How a race is saved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriterOptions {
    /// Save every this often while the race changes (None: only on request and at the end).
    pub autosave: Option<Duration>,
    /// Include a checkpoint (parameters and optimiser state) so the race can be resumed.
    pub checkpoint: bool,
    /// The sidecar named by the document that the first save replaces (resuming in place): it is
    /// deleted once no document names it any more.
    pub replaces_sidecar: Option<PathBuf>,
    /// Injected write failures (tests); None in real use.
    pub write_hook: Option<super::WriteHook>,
}

/// A session written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSession {
    /// The document.
    pub path: PathBuf,
    /// The checkpoint sidecar, when saved with one.
    pub sidecar: Option<PathBuf>,
    /// The furthest step in it.
    pub step: u64,
    /// Bytes written (document and sidecar).
    pub bytes: u64,
    /// The checkpoint that was asked for and could not be written: the document holds the
    /// history only (None when the checkpoint was written or not asked for).
    pub checkpoint_error: Option<CheckpointNotSaved>,
}

/// A checkpoint a save could not write; the history was saved without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointNotSaved {
    /// The checkpoint file that could not be written.
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// What kind of failure.
    pub kind: std::io::ErrorKind,
    /// The error.
    pub reason: String,
}

impl CheckpointNotSaved {
    /// True when the device (or the user's quota) was full.
    pub fn storage_full(&self) -> bool {
        matches!(
            self.kind,
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
    }

    /// Why, in words: "no space left for the 27.0 MB checkpoint (…)".
    pub fn why(&self) -> String {
        let size = self.bytes as f64 / 1e6;
        if self.storage_full() {
            format!(
                "no space left on the device for the {size:.1} MB checkpoint ({})",
                self.reason
            )
        } else {
            format!(
                "the {size:.1} MB checkpoint {} could not be written: {}",
                self.file.display(),
                self.reason
            )
        }
    }
}

impl SavedSession {
    /// One line for a status bar or a log: "saved PATH (step N, X MB)", and what was not saved.
    pub fn describe(&self) -> String {
        let what = match (&self.sidecar, &self.checkpoint_error) {
            (Some(_), _) => ", with checkpoint".to_string(),
            (None, Some(e)) => format!(", history only: {}; replayable, not resumable", e.why()),
            (None, None) => String::new(),
        };
        format!(
            "saved {} (step {}, {:.1} MB{what})",
            self.path.display(),
            self.step,
            self.bytes as f64 / 1e6,
        )
    }
}

/// Outcome of one save.
pub type SaveResult = Result<SavedSession, SessionError>;

/// A save function for the dashboard (`s`): given the dashboard's history, saves and says what
/// was written, or why not.
pub type Saver = Box<dyn FnMut(&Recorder) -> SaveResult + Send>;

enum Request {
    Save(u64),
    Finish,
}

enum Job {
    Save {
        request: Option<u64>,
        recorder: Box<Recorder>,
        checkpoint: Option<Arc<RaceCheckpoint>>,
    },
    /// Answer `request` with the latest result (a request the engine ended before answering).
    Repeat { request: u64 },
}

#[derive(Default)]
struct State {
    answers: HashMap<u64, SaveResult>,
    last: Option<SaveResult>,
    final_result: Option<SaveResult>,
    saves: u64,
    done: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// The last save failed or lacks its checkpoint: the next autosave is due even if nothing
    /// changed.
    retry: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn post(&self, request: Option<u64>, result: SaveResult) {
        let mut s = self.lock();
        match request {
            Some(r) => {
                s.answers.insert(r, result.clone());
            }
            None => s.final_result = Some(result.clone()),
        }
        s.last = Some(result);
        s.saves += 1;
        self.changed.notify_all();
    }
}

/// What the writer has done so far, for a status line.
#[derive(Clone)]
pub struct SaveStatus {
    shared: Arc<Shared>,
}

impl SaveStatus {
    /// The latest save's outcome (autosave included).
    pub fn last(&self) -> Option<SaveResult> {
        self.shared.lock().last.clone()
    }

    /// Number of saves attempted so far.
    pub fn saves(&self) -> u64 {
        self.shared.lock().saves
    }
}

/// Saves a running race; see the module comment.
pub struct SessionWriter {
    requests: Sender<Request>,
    shared: Arc<Shared>,
    next: Arc<AtomicU64>,
    relay: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl SessionWriter {
    /// Starts `race` on its engine thread with a writer saving it to `path`; `recorder` is the
    /// history so far (empty for a new race, the loaded one for a resumed race). The returned
    /// handle is the race's, with events passing through the writer first.
    pub fn start(
        mut race: Race,
        context: SessionContext,
        recorder: Recorder,
        path: PathBuf,
        options: WriterOptions,
    ) -> (RaceHandle, SessionWriter) {
        race.set_final_checkpoint(options.checkpoint);
        if options.checkpoint {
            race.prepare_checkpoints();
        }
        let recycler = race.recycler();
        let engine = race.spawn();
        let (ui_tx, ui_rx) = unbounded();
        let (requests, request_rx) = unbounded();
        let (job_tx, job_rx) = unbounded();
        let shared = Arc::new(Shared::default());
        let next = Arc::new(AtomicU64::new(1));

        let file_thread = {
            let shared = Arc::clone(&shared);
            let path = path.clone();
            let mut replaced = options.replaces_sidecar.clone();
            let hook = options.write_hook.clone();
            std::thread::Builder::new()
                .name("gradrace-save".into())
                .spawn(move || {
                    let files = Files {
                        path: &path,
                        context: &context,
                        hook: hook.as_ref(),
                    };
                    write_jobs(&job_rx, &files, &mut replaced, &shared, &recycler)
                })
                .expect("the session thread starts")
        };
        let relay = {
            let shared = Arc::clone(&shared);
            let next = Arc::clone(&next);
            let relay = Relay {
                shared: Arc::clone(&shared),
                events: engine.events,
                commands: Some(engine.commands.clone()),
                consumer: ui_tx,
                requests: request_rx,
                jobs: job_tx,
                recorder,
                options,
                next,
            };
            std::thread::Builder::new()
                .name("gradrace-session".into())
                .spawn(move || {
                    relay.run();
                    let _ = file_thread.join();
                    let mut s = shared.lock();
                    s.done = true;
                    shared.changed.notify_all();
                })
                .expect("the session thread starts")
        };
        let handle = RaceHandle {
            commands: engine.commands,
            events: ui_rx,
            thread: engine.thread,
        };
        (
            handle,
            SessionWriter {
                requests,
                shared,
                next,
                relay: Some(relay),
                path,
            },
        )
    }

    /// The document's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves now (between the engine's next two chunks) and waits for the file to be written.
    /// After the race ended, answers with the save of its end.
    pub fn save_now(&self) -> SaveResult {
        save_via(&self.requests, &self.shared, &self.next)
    }

    /// A save function for the dashboard (`s`, quit): saves now and says what was written, or
    /// why not. The history saved is the writer's own, which matches the checkpoint exactly; the
    /// dashboard's recorder passed in is not needed.
    pub fn saver(&self) -> Saver {
        let requests = self.requests.clone();
        let shared = Arc::clone(&self.shared);
        let next = Arc::clone(&self.next);
        Box::new(move |_: &Recorder| save_via(&requests, &shared, &next))
    }

    /// What the writer has done so far.
    pub fn status(&self) -> SaveStatus {
        SaveStatus {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Waits until the race has ended and its last save is written; returns that save's outcome
    /// (None if nothing was ever saved). Call after the race finished or was stopped.
    pub fn finish(mut self) -> Option<SaveResult> {
        let _ = self.requests.send(Request::Finish);
        if let Some(t) = self.relay.take() {
            let _ = t.join();
        }
        let s = self.shared.lock();
        s.final_result.clone().or_else(|| s.last.clone())
    }
}

impl Drop for SessionWriter {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::Finish);
    }
}

fn save_via(requests: &Sender<Request>, shared: &Shared, next: &AtomicU64) -> SaveResult {
    let id = next.fetch_add(1, Ordering::Relaxed);
    if requests.send(Request::Save(id)).is_err() {
        return shared
            .lock()
            .last
            .clone()
            .unwrap_or(Err(SessionError::WriterStopped));
    }
    let mut s = shared.lock();
    loop {
        if let Some(r) = s.answers.remove(&id) {
            return r;
        }
        if s.done {
            return s
                .last
                .clone()
                .unwrap_or(Err(SessionError::WriterStoppedBeforeSaving));
        }
        s = shared
            .changed
            .wait_timeout(s, Duration::from_millis(200))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

/// The relay thread's state.
struct Relay {
    shared: Arc<Shared>,
    events: Receiver<EngineEvent>,
    commands: Option<Sender<Control>>,
    consumer: Sender<EngineEvent>,
    requests: Receiver<Request>,
    jobs: Sender<Job>,
    recorder: Recorder,
    options: WriterOptions,
    next: Arc<AtomicU64>,
}

impl Relay {
    fn save(&self, request: Option<u64>, checkpoint: Option<Arc<RaceCheckpoint>>) {
        let _ = self.jobs.send(Job::Save {
            request,
            recorder: Box::new(self.recorder.clone()),
            checkpoint,
        });
    }

    fn run(mut self) {
        let mut engine_open = true;
        let mut finishing = false;
        let mut changed = false;
        let mut last_save = Instant::now();
        let mut autosave_pending: Option<u64> = None;
        let mut asked: Vec<u64> = Vec::new();
        let mut final_checkpoint: Option<Arc<RaceCheckpoint>> = None;
        let no_events = never();
        let no_requests = never();
        while engine_open || !finishing {
            let wait = match (self.options.autosave, engine_open) {
                (Some(every), true) => {
                    (last_save + every).saturating_duration_since(Instant::now())
                }
                _ => Duration::from_secs(3600),
            };
            let events = if engine_open {
                &self.events
            } else {
                &no_events
            };
            let requests = if finishing {
                &no_requests
            } else {
                &self.requests
            };
            select! {
                recv(events) -> event => match event {
                    Ok(EngineEvent::Checkpoint { request, checkpoint }) => {
                        if let Some(r) = request {
                            asked.retain(|a| *a != r);
                            if autosave_pending == Some(r) {
                                autosave_pending = None;
                            }
                        } else {
                            final_checkpoint = Some(Arc::clone(&checkpoint));
                        }
                        self.save(request, Some(checkpoint));
                        changed = false;
                        last_save = Instant::now();
                    }
                    Ok(event) => {
                        let finished = event == EngineEvent::Finished;
                        self.recorder.apply(event.clone());
                        let _ = self.consumer.send(event);
                        changed = true;
                        if finished && !self.options.checkpoint {
                            self.save(None, None);
                            changed = false;
                        }
                    }
                    Err(_) => {
                        engine_open = false;
                        // Requests the engine ended before answering get the save of the end.
                        for r in asked.drain(..) {
                            let _ = self.jobs.send(Job::Repeat { request: r });
                        }
                    }
                },
                recv(requests) -> request => match request {
                    Ok(Request::Save(id)) => {
                        let sent = engine_open
                            && self.options.checkpoint
                            && self
                                .commands
                                .as_ref()
                                .is_some_and(|c| c.send(Control::Checkpoint(id)).is_ok());
                        if sent {
                            asked.push(id);
                        } else {
                            self.save(Some(id), final_checkpoint.clone());
                            changed = false;
                        }
                    }
                    Ok(Request::Finish) | Err(_) => {
                        finishing = true;
                        // Let a paused engine whose controller is gone carry on to its end.
                        self.commands = None;
                    }
                },
                default(wait) => {
                    // A failed save (or one without its checkpoint) is tried again at the next
                    // interval, whether or not the race moved since.
                    let retry = self.shared.retry.load(Ordering::Relaxed);
                    if (changed || retry) && autosave_pending.is_none() && engine_open {
                        self.shared.retry.store(false, Ordering::Relaxed);
                        let id = self.next.fetch_add(1, Ordering::Relaxed);
                        let sent = self.options.checkpoint
                            && self
                                .commands
                                .as_ref()
                                .is_some_and(|c| c.send(Control::Checkpoint(id)).is_ok());
                        if sent {
                            autosave_pending = Some(id);
                        } else {
                            self.save(Some(id), None);
                            changed = false;
                        }
                    }
                    last_save = Instant::now();
                }
            }
        }
    }
}

/// Where the file thread writes.
struct Files<'a> {
    path: &'a Path,
    context: &'a SessionContext,
    hook: Option<&'a super::WriteHook>,
}

impl Files<'_> {
    fn save(&self, recorder: &Recorder, checkpoint: Option<&RaceCheckpoint>) -> SaveResult {
        let mut hook = |file: &Path, bytes: u64| match self.hook {
            Some(h) => (h.0)(file, bytes),
            None => Ok(()),
        };
        super::save_with(self.path, self.context, recorder, checkpoint, &mut hook)
    }
}

/// The file thread: writes each job's session, deleting sidecars no document names any more.
///
/// A checkpoint that does not fit on a full device while the previous one is still there (a
/// save needs room for both: the new one is written before the old one may go) is tried once
/// more after the document saved without it has released the previous one, which is deleted.
/// At every moment the document on disk names a complete checkpoint, or none.
fn write_jobs(
    jobs: &Receiver<Job>,
    files: &Files<'_>,
    replaced: &mut Option<PathBuf>,
    shared: &Shared,
    recycler: &Sender<RaceCheckpoint>,
) {
    for job in jobs {
        match job {
            Job::Save {
                request,
                recorder,
                checkpoint,
            } => {
                let mut result = files.save(&recorder, checkpoint.as_deref());
                let full = result.as_ref().is_ok_and(|s| {
                    s.checkpoint_error
                        .as_ref()
                        .is_some_and(CheckpointNotSaved::storage_full)
                });
                if full && let Some(old) = replaced.take() {
                    // The document just written names no checkpoint: the previous one is
                    // named by nothing, and its room may be enough for the new one.
                    let _ = std::fs::remove_file(&old);
                    if let Ok(again) = files.save(&recorder, checkpoint.as_deref()) {
                        result = Ok(again);
                    }
                }
                if let Ok(saved) = &result
                    && saved.sidecar.is_some()
                {
                    if let Some(old) = replaced.take()
                        && Some(&old) != saved.sidecar.as_ref()
                    {
                        let _ = std::fs::remove_file(old);
                    }
                    *replaced = saved.sidecar.clone();
                }
                let incomplete = result
                    .as_ref()
                    .map_or(true, |s| s.checkpoint_error.is_some());
                shared.retry.store(incomplete, Ordering::Relaxed);
                shared.post(request, result);
                // Saved: its memory serves the engine's next checkpoint.
                if let Some(c) = checkpoint.and_then(|c| Arc::try_unwrap(c).ok()) {
                    let _ = recycler.send(c);
                }
            }
            Job::Repeat { request } => {
                let last = shared.lock().last.clone();
                let result = last.unwrap_or(Err(SessionError::RaceEndedBeforeSaving));
                let mut s = shared.lock();
                s.answers.insert(request, result);
                shared.changed.notify_all();
            }
        }
    }
}
