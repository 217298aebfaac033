//! What several commands share: resolving an experiment and its data set, claiming and planning
//! where a race is saved, stopping it on signals, and the end of a race (leaderboard, final
//! save). No command imports another.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::Sender;

use super::console::{note, report};
use super::{CliError, SaveArgs};
use crate::config::builtin::resolve;
use crate::config::{DataSpec, Experiment};
use crate::data::{DataSource, DataSplit, load};
use crate::engine::Control;
use crate::history::Recorder;
use crate::report::race_leaderboard;
use crate::session::{
    LockError, SessionContext, SessionLock, SessionWriter, WriterOptions, describe_io,
};
use crate::tui::Stop;

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
    /// The session's lock, held until the race's last save is written.
    pub lock: SessionLock,
}

/// A place to save a race, checked and locked.
pub struct Claim {
    /// The session document.
    pub path: PathBuf,
    /// Its lock: no other gradrace writes it while this is held.
    pub lock: SessionLock,
}

/// Claims the session file of `args` for a race writing `default` unless `--out` says otherwise
/// (None with `--no-save`): checks that it can be written, creates its directory and takes the
/// session's lock, so that a bad or busy location fails before anything is trained. A lock left
/// by a gradrace that did not end cleanly is taken over, with a note.
pub fn claim(args: &SaveArgs, default: PathBuf) -> Result<Option<Claim>, CliError> {
    if args.no_save {
        return Ok(None);
    }
    let path = args.out.clone().unwrap_or(default);
    let what = if args.out.is_some() {
        format!("--out {}", path.display())
    } else {
        format!("cannot save to {}", path.display())
    };
    if path.file_name().is_none() || path.is_dir() {
        return Err(CliError::BadInput(format!("{what}: not a file name")));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The first part of the path that exists must be a directory.
    if let Some(existing) = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .find(|a| a.symlink_metadata().is_ok())
        && !existing.is_dir()
    {
        return Err(CliError::BadInput(format!(
            "{what}: {} is not a directory",
            existing.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::BadInput(format!(
            "{what}: cannot create the directory {}: {}",
            dir.display(),
            describe_io(&e)
        ))
    })?;
    let lock = SessionLock::acquire(&path).map_err(|e| match e {
        LockError::Held { .. } => CliError::BadInput(e.to_string()),
        LockError::Io { error, .. } => CliError::BadInput(format!(
            "{what}: cannot write in {}: {}; choose another place with --out FILE (or --no-save)",
            dir.display(),
            describe_io(&error)
        )),
    })?;
    if let Some(h) = lock.stale() {
        note!(
            "gradrace: note: {} was being saved by {h}, which ended without finishing (killed or \
             crashed); what is on disk is its last complete save",
            path.display()
        );
    }
    Ok(Some(Claim { path, lock }))
}

/// The save plan of a claimed session file: autosave and checkpoint as `args` say, the sidecar
/// of a session resumed in place replaced.
pub fn save_plan(
    args: &SaveArgs,
    claim: Option<Claim>,
    context: SessionContext,
    replaces_sidecar: Option<PathBuf>,
) -> Option<SavePlan> {
    let Claim { path, lock } = claim?;
    let replaces_sidecar = replaces_sidecar.filter(|_| !args.no_checkpoint);
    Some(SavePlan {
        path,
        context,
        options: WriterOptions {
            autosave: (args.autosave > 0).then(|| Duration::from_secs(args.autosave)),
            checkpoint: !args.no_checkpoint,
            replaces_sidecar,
            write_hook: None,
        },
        lock,
    })
}

/// Stops the race of `commands` on SIGINT, SIGTERM or SIGHUP (Ctrl-C elsewhere), recording the
/// first signal's number; the returned guard stops listening when dropped.
pub struct StopSignals {
    first: std::sync::Arc<std::sync::atomic::AtomicI32>,
    #[cfg(unix)]
    handle: Option<signal_hook::iterator::Handle>,
}

impl StopSignals {
    /// Listens (a failure to listen is not an error: the signals then end the process as they
    /// would anyway).
    pub fn listen(commands: Sender<Control>) -> StopSignals {
        use std::sync::atomic::{AtomicI32, Ordering};
        let first = std::sync::Arc::new(AtomicI32::new(0));
        let seen = std::sync::Arc::clone(&first);
        let on_signal = move |number: i32| {
            let _ = seen.compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
            let _ = commands.send(Control::Stop);
        };
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let handle = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
                .ok()
                .map(|mut signals| {
                    let handle = signals.handle();
                    let _ = std::thread::Builder::new()
                        .name("gradrace-signals".into())
                        .spawn(move || {
                            for number in signals.forever() {
                                on_signal(number);
                            }
                        });
                    handle
                });
            StopSignals { first, handle }
        }
        #[cfg(not(unix))]
        {
            // A second handler cannot be installed in the same process (tests).
            let _ = ctrlc::set_handler(move || on_signal(2));
            StopSignals { first }
        }
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Stop> {
        let n = self.first.load(std::sync::atomic::Ordering::SeqCst);
        (n != 0).then_some(Stop::Signal(n))
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(h) = &self.handle {
            h.close();
        }
    }
}

/// The end of a race for every consumer: the leaderboard on stdout, then the final save (waited
/// for) and where it went on stderr. A final save that failed, or that holds the history without
/// the checkpoint asked for, is an error (exit code 1) saying what was saved.
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
            Some(Ok(saved)) if saved.checkpoint_error.is_some() => {
                return Err(CliError::CheckpointNotSaved(Box::new(saved)));
            }
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

/// The sessions given to `replay`, `table`, `export` or `plot`, labelled. An experiment given
/// instead of a session stands for its latest saved race, and which file that is goes to
/// standard error.
pub fn load_sessions(
    files: &[PathBuf],
    read: &super::ReadArgs,
) -> Result<crate::export::Sessions, CliError> {
    use crate::export::sessions::LoadError;
    let options = crate::session::LoadOptions {
        ignore_checksum: read.ignore_checksum,
    };
    let (sessions, resolved) = crate::export::Sessions::load_given(files, &read.labels, options)
        .map_err(|e| match e {
            LoadError::Session(e) => CliError::Session(e),
            other => CliError::BadInput(other.to_string()),
        })?;
    for r in resolved {
        super::console::note!(
            "gradrace: {} is an experiment: reading its latest saved race, {}",
            r.given,
            r.session.display()
        );
    }
    Ok(sessions)
}

/// An export's failure to write as a command error: bad input for a directory that cannot be
/// used as asked, a failure otherwise.
pub fn output_error(e: crate::export::OutputError) -> CliError {
    if e.is_bad_input() {
        CliError::BadInput(e.to_string())
    } else {
        CliError::Runtime(e.to_string())
    }
}
