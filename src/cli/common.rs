//! What several commands share: resolving an experiment and its data set, planning where a race
//! is saved, and the end of a race (leaderboard, final save). No command imports another.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::console::{note, report};
use super::{CliError, SaveArgs};
use crate::config::builtin::resolve;
use crate::config::{DataSpec, Experiment};
use crate::data::{DataSource, DataSplit, load};
use crate::history::Recorder;
use crate::report::race_leaderboard;
use crate::session::{SessionContext, SessionWriter, WriterOptions};

/// The experiment named `name` (a file, or a built-in experiment), on the data set in `data`
/// when given.
pub fn experiment(name: &str, data: Option<&Path>) -> Result<Experiment, CliError> {
    let mut e = resolve(name)?;
    if let Some(dir) = data {
        e.data = DataSpec::Directory(dir.to_path_buf());
    }
    Ok(e)
}

/// Loads the experiment's data set.
pub fn data_for(e: &Experiment) -> Result<DataSplit, CliError> {
    let source = match &e.data {
        DataSpec::Embedded => DataSource::Embedded,
        DataSpec::Directory(d) => DataSource::Directory(d.clone()),
    };
    Ok(load(&source)?)
}

/// How a race is saved.
pub struct SavePlan {
    /// The session document to write.
    pub path: PathBuf,
    /// Experiment, data fingerprint, start time.
    pub context: SessionContext,
    /// Autosave, checkpoint, sidecar replaced.
    pub options: WriterOptions,
}

/// The save plan of `args` for a race writing `default` unless `--out` says otherwise; None with
/// `--no-save`. Creates the file's directory so that a bad location fails before training.
pub fn save_plan(
    args: &SaveArgs,
    default: PathBuf,
    context: SessionContext,
    replaces_sidecar: Option<PathBuf>,
) -> Result<Option<SavePlan>, CliError> {
    if args.no_save {
        return Ok(None);
    }
    let path = args.out.clone().unwrap_or(default);
    if path.file_name().is_none() || path.is_dir() {
        return Err(CliError::BadInput(format!(
            "--out {}: not a file name",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::BadInput(format!(
                "cannot create the session directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let replaces_sidecar = replaces_sidecar.filter(|_| !args.no_checkpoint);
    Ok(Some(SavePlan {
        path,
        context,
        options: WriterOptions {
            autosave: (args.autosave > 0).then(|| Duration::from_secs(args.autosave)),
            checkpoint: !args.no_checkpoint,
            replaces_sidecar,
        },
    }))
}

/// The end of a race for every consumer: the leaderboard on stdout, then the final save (waited
/// for) and where it went on stderr.
pub fn finish(recorder: Recorder, writer: Option<SessionWriter>) -> Result<Recorder, CliError> {
    let mut text = String::new();
    if let Some(info) = &recorder.info {
        text = format!(
            "\n{} — {} — {} steps\n\n",
            info.experiment,
            info.data,
            recorder.step()
        );
    }
    text += &race_leaderboard(&recorder);
    // Saved whether or not the leaderboard could be shown.
    let shown = report(&text);
    if let Some(w) = writer {
        match w.finish() {
            Some(Ok(saved)) => {
                note!("gradrace: {}", saved.describe());
                if saved.sidecar.is_some() {
                    note!(
                        "gradrace: replay with `gradrace replay {0}`, continue with `gradrace resume {0}`",
                        saved.path.display()
                    );
                }
            }
            Some(Err(e)) => return Err(CliError::Save(e)),
            None => {}
        }
    }
    shown?;
    Ok(recorder)
}
