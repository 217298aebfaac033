//! Sweeps: a grid of races — estimators × settings × seeds — run on this machine or as a Slurm
//! job array, and merged back into one table.
//!
//! - [`file`]: the sweep file (a base experiment, fixed settings, a grid, a list of points),
//!   read with the position of every value; [`outline`] finds those positions; [`axis`] is the
//!   table of what can be varied.
//! - [`expand`]: the runs, each an experiment validated like an experiment file.
//! - [`directory`]: the sweep's directory — one session per run (`run-NNN.ron`), the plan the
//!   tasks read, what has been submitted — and which runs are done.
//! - [`cost`]: what the runs will cost, from `gradrace bench` figures when present.
//! - [`run`]: racing one run headless and saving its session; [`local`] runs the missing runs on
//!   this machine's cores; [`slurm`] writes, submits and follows a job array.
//! - [`collect`]: the runs' sessions merged into the sweep's [`table`] (setting × estimator,
//!   mean ± 95% CI over seeds), written as text, Markdown and CSV.
//!
//! Nothing here prints: progress goes to observers, text to the caller (`cli::sweep`).

pub mod axis;
pub mod collect;
pub mod cost;
pub mod directory;
pub mod expand;
pub mod file;
pub mod local;
pub mod outline;
pub mod run;
pub mod slurm;
pub mod table;

pub use directory::{RunStatus, SweepDir};
pub use expand::{Run, expand};
pub use file::{Sweep, load};

use std::path::{Path, PathBuf};

use crate::data::DataError;
use crate::engine::RaceError;
use crate::file_error::FileError;
use crate::session::SessionError;

pub use slurm::SlurmError;

/// What can go wrong with a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file (or its base experiment) has a problem (bad input).
    #[error(transparent)]
    File(#[from] FileError),
    /// The data set cannot be loaded (bad input).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A file or directory of the sweep's directory cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// `plan.ron` or `state.ron` is not what this gradrace wrote.
    #[error("{}: {message}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The table could not be written as CSV.
    #[error("writing the table as CSV failed: {0}")]
    Csv(#[from] csv::Error),
    /// Slurm refused or failed.
    #[error(transparent)]
    Slurm(#[from] SlurmError),
    /// A run's race could not be set up.
    #[error("run {id}: {source}")]
    Race {
        /// The run's id.
        id: String,
        /// Why.
        #[source]
        source: Box<RaceError>,
    },
    /// A run's training engine panicked.
    #[error("run {id}: the training engine crashed")]
    Crashed {
        /// The run's id.
        id: String,
    },
    /// A run's session could not be saved.
    #[error("{}: saving the run's session failed: {source}", path.display())]
    Save {
        /// The session file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<SessionError>,
    },
}

impl SweepError {
    /// True for problems with what the user gave (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, SweepError::File(_) | SweepError::Data(_))
    }

    /// An I/O problem with `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        SweepError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `path` (a record of the sweep's directory) holds something else than expected.
    pub fn record(path: &Path, message: impl std::fmt::Display) -> Self {
        SweepError::Record {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}
