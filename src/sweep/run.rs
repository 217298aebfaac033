//! Racing one run of a sweep: the run's experiment on the sweep's data, headless, its lanes on
//! the race's own rayon pool, its history saved as the run's session when the race ends —
//! finished, or stopped by a [`StopSignal`] (then the session records the stopped lanes, and the
//! run is raced again next time). Which signals give the stop is the caller's business.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::Sender;

use std::path::Path;

use super::SweepError;
use super::directory::clear_session;
use crate::config::Experiment;
use crate::data::DataSplit;
use crate::engine::{Control, EngineEvent, LaneStatus, Race};
use crate::history::Recorder;
use crate::session::clock::now_iso8601;
use crate::session::{DataFingerprint, SessionContext, save};

/// Tells every running race to stop; races started after it stop at once.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    races: Mutex<Vec<(u64, Sender<Control>)>>,
    next: std::sync::atomic::AtomicU64,
}

impl StopSignal {
    /// A signal not yet given.
    pub fn new() -> Arc<Self> {
        Arc::new(StopSignal::default())
    }

    /// Stops every running race, and every race started later.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for (_, race) in self.races.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = race.send(Control::Stop);
        }
    }

    /// Whether [`StopSignal::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn register(&self, commands: Sender<Control>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut races = self.races.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_stopped() {
            let _ = commands.send(Control::Stop);
        }
        races.push((id, commands));
        id
    }

    fn unregister(&self, id: u64) {
        self.races
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _)| *i != id);
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every lane reached its last step (or diverged); the session is saved.
    Done {
        /// Seconds it took.
        seconds: f64,
        /// Lanes that diverged.
        diverged: usize,
    },
    /// Stopped before the end; the session (if any) records where.
    Stopped {
        /// The furthest step reached.
        step: u64,
    },
}

/// The work of `experiment` in lane-steps (lanes × seeds × steps) on a training set of `train`
/// examples.
pub fn work(experiment: &Experiment, train: usize) -> u64 {
    (experiment.lanes.len() * experiment.seed_list().len()) as u64 * experiment.total_steps(train)
}

/// Races `experiment` (run `id`) on `data` with `threads` threads (0: one per core) and saves
/// its session to `path` (with a checkpoint when `checkpoint`), calling `progress` with the
/// lane-steps done so far as the race advances.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    experiment: &Experiment,
    id: &str,
    path: &Path,
    data: Arc<DataSplit>,
    threads: usize,
    checkpoint: bool,
    stop: &StopSignal,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    clear_session(path)?;
    let context = SessionContext {
        experiment: experiment.clone(),
        data: DataFingerprint::of(&data),
        created: now_iso8601(),
    };
    let race = Race::new(experiment, data, threads).map_err(|source| SweepError::Race {
        id: id.to_string(),
        source: Box::new(source),
    })?;
    let handle = race.spawn();
    let registration = stop.register(handle.commands.clone());
    let mut recorder = Recorder::new();
    for event in handle.events.iter() {
        let steps = matches!(event, EngineEvent::Steps { .. });
        let finished = event == EngineEvent::Finished;
        recorder.apply(event);
        if steps {
            progress(recorder.lanes.iter().map(|l| l.last_step()).sum());
        }
        if finished {
            break;
        }
    }
    stop.unregister(registration);
    drop(handle.events);
    let mut race = handle
        .thread
        .join()
        .map_err(|_| SweepError::Crashed { id: id.to_string() })?;
    if recorder.info.is_none() {
        return Ok(Outcome::Stopped { step: 0 });
    }
    let state = checkpoint.then(|| race.checkpoint());
    save(path, &context, &recorder, state.as_ref()).map_err(|source| SweepError::Save {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let stopped = recorder
        .lanes
        .iter()
        .any(|l| matches!(l.status, LaneStatus::Stopped { .. } | LaneStatus::Running));
    if stopped || !recorder.finished {
        return Ok(Outcome::Stopped {
            step: recorder.step(),
        });
    }
    Ok(Outcome::Done {
        seconds: started.elapsed().as_secs_f64(),
        diverged: recorder
            .lanes
            .iter()
            .filter(|l| matches!(l.status, LaneStatus::Diverged { .. }))
            .count(),
    })
}
