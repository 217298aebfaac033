//! The sweep's directory, `<out-dir>/<sweep name>/`, and which of its runs are done.
//!
//! ```text
//! plan.ron              the runs as last executed or submitted (what Slurm tasks race)
//! state.ron             how the sweep was last executed (locally, or Slurm options) and its jobs
//! run-000.ron …         one session per run (no checkpoint unless asked for)
//! table.txt table.md    the merged table (setting × estimator)
//! table.csv runs.csv    the same in long form, and every lane of every run
//! slurm/submit-N.sh     job scripts; slurm/logs/JOB_TASK.{out,err} their logs
//! progress/run-000      a running task's "step total", for the follower's progress bars
//! ```
//!
//! A run is done when its session loads, holds exactly the run's experiment, and its race
//! finished with every lane done (or diverged): sessions are saved atomically, so there are no
//! half-written ones, but an interrupted run's session — its lanes stopped — is raced again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SweepError;
use super::expand::{Run, index_width};
use super::slurm::SlurmOptions;
use crate::config::Experiment;
use crate::engine::LaneStatus;
use crate::session::Session;
use crate::session::atomic::write_atomically;

/// Version of `plan.ron` and `state.ron`.
pub const FORMAT: u32 = 1;

/// A sweep's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepDir {
    /// `<out-dir>/<sweep name>`, absolute.
    pub root: PathBuf,
    /// Digits of the run numbers.
    pub width: usize,
}

/// Where a run stands.
#[derive(Debug)]
pub enum RunStatus {
    /// No session yet.
    Missing,
    /// Raced to the end: its session.
    Done(Box<Session>),
    /// A session that is not a finished race of this run: why.
    Redo(String),
}

impl RunStatus {
    /// True when done.
    pub fn is_done(&self) -> bool {
        matches!(self, RunStatus::Done(_))
    }
}

/// One run as the plan records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Index (the Slurm array index).
    pub index: usize,
    /// Stable id.
    pub id: String,
    /// `axis=value …`.
    pub label: String,
    /// Session file name in the sweep's directory.
    pub session: String,
    /// The experiment to race.
    pub experiment: Experiment,
}

/// `plan.ron`: the runs of a sweep as expanded when it was last executed or submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT`].
    pub format: u32,
    /// The sweep's name.
    pub sweep: String,
    /// The sweep file it was expanded from.
    pub file: String,
    /// Every run.
    pub runs: Vec<PlannedRun>,
}

/// How a sweep was last executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Backend {
    /// On this machine.
    Local,
    /// As Slurm job arrays with these options.
    Slurm(SlurmOptions),
}

/// One job array submitted for the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Slurm's job id.
    pub id: u64,
    /// The job script.
    pub script: String,
    /// The runs (array indices) it races.
    pub runs: Vec<usize>,
    /// When (UTC).
    pub submitted: String,
}

/// `state.ron`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct State {
    /// [`FORMAT`] (0 before anything was written).
    pub format: u32,
    /// How the sweep was last executed.
    pub backend: Option<Backend>,
    /// Every job submitted, oldest first.
    pub jobs: Vec<Job>,
}

impl SweepDir {
    /// The directory of sweep `name` with `runs` runs under `out_dir` (made absolute, so that
    /// job scripts work from any directory).
    pub fn new(out_dir: &Path, name: &str, runs: usize) -> Self {
        let out = std::path::absolute(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
        SweepDir {
            root: out.join(name),
            width: index_width(runs),
        }
    }

    /// Creates the directory (and its parents).
    pub fn create(&self) -> Result<(), SweepError> {
        std::fs::create_dir_all(&self.root).map_err(|e| SweepError::io(&self.root, e))
    }

    /// The session of `run`.
    pub fn session(&self, run: &Run) -> PathBuf {
        self.root.join(run.file_name(self.width))
    }

    /// `plan.ron`.
    pub fn plan_path(&self) -> PathBuf {
        self.root.join("plan.ron")
    }

    /// `state.ron`.
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.ron")
    }

    /// `slurm/`.
    pub fn slurm_dir(&self) -> PathBuf {
        self.root.join("slurm")
    }

    /// `slurm/logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.slurm_dir().join("logs")
    }

    /// A task's log (`out` or `err`) for job `job`, array index `index`.
    pub fn log(&self, job: u64, index: usize, kind: &str) -> PathBuf {
        self.logs_dir().join(format!("{job}_{index}.{kind}"))
    }

    /// The progress file of run `index`.
    pub fn progress_path(&self, index: usize) -> PathBuf {
        self.root
            .join("progress")
            .join(format!("run-{index:0w$}", w = self.width))
    }

    /// Where `run` stands (see the module comment).
    pub fn status(&self, run: &Run) -> RunStatus {
        let path = self.session(run);
        if !path.exists() {
            return RunStatus::Missing;
        }
        let session = match Session::load(&path) {
            Ok(s) => s,
            Err(e) => return RunStatus::Redo(format!("unreadable: {e}")),
        };
        if session.context.experiment != run.experiment {
            return RunStatus::Redo("a race of other settings (the sweep file changed)".into());
        }
        let r = &session.recorder;
        let ended = |s: LaneStatus| matches!(s, LaneStatus::Done | LaneStatus::Diverged { .. });
        if !r.finished || r.lanes.is_empty() || !r.lanes.iter().all(|l| ended(l.status)) {
            return RunStatus::Redo(format!("interrupted at step {}", r.step()));
        }
        RunStatus::Done(Box::new(session))
    }

    /// Writes `plan.ron` for `runs` of the sweep `name` read from `file`.
    pub fn write_plan(&self, name: &str, file: &str, runs: &[Run]) -> Result<(), SweepError> {
        let plan = Plan {
            format: FORMAT,
            sweep: name.to_string(),
            file: file.to_string(),
            runs: runs
                .iter()
                .map(|r| PlannedRun {
                    index: r.index,
                    id: r.id.clone(),
                    label: r.label(),
                    session: r.file_name(self.width),
                    experiment: r.experiment.clone(),
                })
                .collect(),
        };
        self.write_ron(
            &self.plan_path(),
            &plan,
            "the runs of the sweep (written by gradrace)",
        )
    }

    /// Reads `plan.ron`.
    pub fn read_plan(&self) -> Result<Plan, SweepError> {
        let plan: Plan = self.read_ron(&self.plan_path())?;
        if plan.format != FORMAT {
            return Err(SweepError::record(
                &self.plan_path(),
                format!("plan format {} (this gradrace reads {FORMAT})", plan.format),
            ));
        }
        Ok(plan)
    }

    /// Reads `state.ron` (the default when there is none yet).
    pub fn read_state(&self) -> Result<State, SweepError> {
        if !self.state_path().exists() {
            return Ok(State::default());
        }
        self.read_ron(&self.state_path())
    }

    /// Writes `state.ron`.
    pub fn write_state(&self, state: &State) -> Result<(), SweepError> {
        let mut state = state.clone();
        state.format = FORMAT;
        self.write_ron(
            &self.state_path(),
            &state,
            "how the sweep was executed (written by gradrace)",
        )
    }

    /// Writes `text` to `name` in the directory, atomically.
    pub fn write_file(&self, name: &str, text: &str) -> Result<PathBuf, SweepError> {
        let path = self.root.join(name);
        write_text(&path, text)?;
        Ok(path)
    }

    fn write_ron<T: Serialize>(
        &self,
        path: &Path,
        value: &T,
        what: &str,
    ) -> Result<(), SweepError> {
        let pretty = ron::ser::PrettyConfig::new().struct_names(true);
        let body =
            ron::ser::to_string_pretty(value, pretty).map_err(|e| SweepError::record(path, e))?;
        write_text(path, &format!("// {what}\n{body}\n"))
    }

    fn read_ron<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<T, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
        ron::from_str(&text).map_err(|e| SweepError::record(path, e))
    }
}

/// Removes the session at `path` and its checkpoint, if any (before racing its run again).
pub fn clear_session(path: &Path) -> Result<(), SweepError> {
    if let Ok(s) = Session::load(path)
        && let Some(sidecar) = s.sidecar_path()
    {
        let _ = std::fs::remove_file(sidecar);
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SweepError::io(path, e)),
        _ => Ok(()),
    }
}

/// Writes `text` to `path` atomically, creating its directory.
pub fn write_text(path: &Path, text: &str) -> Result<(), SweepError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SweepError::io(dir, e))?;
    }
    write_atomically(path, |w| w.write_all(text.as_bytes())).map_err(|e| SweepError::io(path, e))
}
