//! How commands end, with the exit code each way gets: 0 a command that ran to its end, 130
//! a race stopped with Ctrl-C or `q` (or anything stopped by SIGINT), 128 + N after signal N
//! (143 after SIGTERM, 129 after SIGHUP) — once the session is saved; 2 for bad input
//! (experiment file, data directory, session file, arguments, a place to save that cannot be
//! used or is in use), 1 for a failure at run time (a save that failed or lacks its
//! checkpoint, among others: it takes precedence over the signal's code).

use crate::bench::BenchError;
use crate::config::ConfigError;
use crate::data::DataError;
use crate::session::{SavedSession, SessionError};
use crate::sweep::SweepError;
use crate::tui::{Stop, TuiError};

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It ran to its end (a race: every lane done or diverged).
    Completed,
    /// It was stopped before its end (and its session saved).
    Stopped(Stop),
}

impl Ended {
    /// The ending of a race stopped by `stop`, if anything stopped it.
    pub fn from_stop(stop: Option<Stop>) -> Ended {
        stop.map_or(Ended::Completed, Ended::Stopped)
    }

    /// The process exit code: 0, 130 after `q`/Ctrl-C, 128 + N after signal N.
    pub fn exit_code(self) -> u8 {
        match self {
            Ended::Completed => 0,
            Ended::Stopped(Stop::Key) => 130,
            Ended::Stopped(Stop::Signal(n)) => u8::try_from(128 + n.clamp(0, 127)).unwrap_or(255),
        }
    }
}

/// A failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input is wrong, as the command line found (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// Something failed while running, as the command line found (exit code 1).
    #[error("{0}")]
    Runtime(String),
    /// The experiment file cannot be used (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data set cannot be loaded (exit code 2).
    #[error(transparent)]
    Data(#[from] DataError),
    /// A session file cannot be read (exit code 2) or written (exit code 1).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The race's final save failed (exit code 1).
    #[error("saving the session failed: {0}")]
    Save(#[source] SessionError),
    /// The race's final save holds the history but not the checkpoint asked for (exit code 1).
    #[error("{}", checkpoint_not_saved(.0))]
    CheckpointNotSaved(Box<SavedSession>),
    /// The dashboard failed (exit code 1).
    #[error(transparent)]
    Dashboard(#[from] TuiError),
    /// A measurement of `gradrace bench` failed (exit code 1).
    #[error(transparent)]
    Bench(#[from] BenchError),
    /// A sweep's file is wrong (exit code 2), or its execution failed (exit code 1).
    #[error(transparent)]
    Sweep(Box<SweepError>),
    /// The command's result could not be written (exit code 1).
    #[error("cannot write to standard output: {0}")]
    Output(#[source] std::io::Error),
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> Self {
        CliError::Sweep(Box::new(e))
    }
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_)
            | CliError::Config(_)
            | CliError::Data(_)
            | CliError::Session(SessionError::BadFile(_)) => 2,
            CliError::Sweep(e) => {
                if e.is_bad_input() {
                    2
                } else {
                    1
                }
            }
            CliError::Runtime(_)
            | CliError::Session(_)
            | CliError::Save(_)
            | CliError::CheckpointNotSaved(_)
            | CliError::Dashboard(_)
            | CliError::Bench(_)
            | CliError::Output(_) => 1,
        }
    }
}

/// What was saved, what was not and why, and how to get a resumable save.
fn checkpoint_not_saved(saved: &SavedSession) -> String {
    let Some(e) = &saved.checkpoint_error else {
        return format!("{} was saved", saved.path.display());
    };
    let path = saved.path.display();
    let how = if e.storage_full() {
        format!(
            "free at least {:.1} MB on that device, or save to one with room (--out FILE)",
            e.bytes as f64 / 1e6
        )
    } else {
        "make the directory writable, or save elsewhere (--out FILE)".to_string()
    };
    format!(
        "the checkpoint was not saved: {}. The history was: {path} (step {}, {:.1} MB), which \
         `gradrace replay {path}` shows but `gradrace resume` cannot continue. For a resumable \
         save, {how}; --no-checkpoint saves the history alone without trying.",
        e.why(),
        saved.step,
        saved.bytes as f64 / 1e6,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_error::FileError;

    #[test]
    fn bad_input_exits_with_2_and_failures_with_1() {
        let bad_file = SessionError::bad("a.ron", "not a gradrace session: the file is empty");
        let failed_write = SessionError::write("a.ron", "No space left on device");
        let config = ConfigError(FileError::new("e.ron", "name must not be empty").at((2, 5)));
        let cases = [
            (CliError::BadInput("--steps must be at least 1".into()), 2),
            (CliError::Config(config), 2),
            (CliError::Session(bad_file.clone()), 2),
            (CliError::Session(failed_write.clone()), 1),
            (CliError::Save(bad_file), 1),
            (CliError::Runtime("the training engine crashed".into()), 1),
            (CliError::Dashboard(TuiError::EngineCrashed), 1),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e}");
        }
        assert_eq!(
            CliError::Save(failed_write).to_string(),
            "saving the session failed: a.ron: No space left on device"
        );
        assert_eq!(
            CliError::from(ConfigError(
                FileError::new("e.ron", "name must not be empty").at((2, 5))
            ))
            .to_string(),
            "e.ron:2:5: name must not be empty"
        );
    }
}
