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
//! - [`collect`]: the runs' sessions merged into the sweep's table (setting × estimator, mean ±
//!   95% CI over seeds) and CSV files.
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

pub use directory::{RunStatus, SweepDir};
pub use expand::{Run, expand};
pub use file::{Sweep, load};

use crate::file_error::FileError;

/// What can go wrong with a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file (or its base experiment) has a problem (bad input).
    #[error(transparent)]
    File(#[from] FileError),
    /// The command asked for something impossible (bad input).
    #[error("{0}")]
    BadInput(String),
    /// The data set cannot be loaded (bad input).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A file of the sweep's directory cannot be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Slurm refused or failed.
    #[error("slurm: {0}")]
    Slurm(String),
    /// A run failed while racing.
    #[error("{0}")]
    Run(String),
    /// Interrupted (Ctrl-C, SIGTERM) before every run was done.
    #[error("{0}")]
    Interrupted(String),
}

impl SweepError {
    /// True for problems with what the user gave (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SweepError::File(_) | SweepError::BadInput(_) | SweepError::Data(_)
        )
    }

    /// An I/O problem with `path`.
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        SweepError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}
