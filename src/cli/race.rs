//! `gradrace race`: resolve the experiment, apply the command-line overrides, load the data and
//! run the race with the dashboard (stdout a terminal, no `--headless`) or headless. After the
//! dashboard closes, the final leaderboard is printed on the restored screen.

use std::io::IsTerminal;
use std::sync::Arc;

use std::path::PathBuf;
use std::time::Duration;

use super::headless::SavePlan;
use super::{CliError, RaceArgs, SaveArgs, dashboard, headless};
use crate::config::builtin::resolve;
use crate::config::{DataSpec, Experiment, Length};
use crate::data::{DataSource, DataSplit, load};
use crate::engine::{Race, Recorder};
use crate::session::clock::now_iso8601;
use crate::session::{DataFingerprint, SessionContext, WriterOptions, default_path};

/// The experiment after the command-line overrides.
pub fn experiment_for(args: &RaceArgs) -> Result<Experiment, CliError> {
    let mut e = resolve(&args.experiment).map_err(|e| CliError::BadInput(e.to_string()))?;
    if let Some(dir) = &args.data {
        e.data = DataSpec::Directory(dir.clone());
    }
    if let Some(seed) = args.seed {
        e.seed = seed;
    }
    if let Some(steps) = args.steps {
        if steps == 0 {
            return Err(CliError::BadInput("--steps must be at least 1".into()));
        }
        e.training.length = Length::Steps(steps);
    }
    if let Some(epochs) = args.epochs {
        if epochs == 0 {
            return Err(CliError::BadInput("--epochs must be at least 1".into()));
        }
        e.training.length = Length::Epochs(epochs);
    }
    if let Some(wanted) = &args.lanes {
        let known: Vec<&str> = e.lanes.iter().map(|l| l.name.as_str()).collect();
        if let Some(bad) = wanted.iter().find(|w| !known.contains(&w.as_str())) {
            return Err(CliError::BadInput(format!(
                "--lanes: experiment \"{}\" has no lane \"{bad}\" (its lanes: {})",
                e.name,
                known.join(", ")
            )));
        }
        e.lanes.retain(|l| wanted.contains(&l.name));
    }
    Ok(e)
}

/// Loads the experiment's data set.
pub fn data_for(e: &Experiment) -> Result<DataSplit, CliError> {
    let source = match &e.data {
        DataSpec::Embedded => DataSource::Embedded,
        DataSpec::Directory(d) => DataSource::Directory(d.clone()),
    };
    load(&source).map_err(|err| CliError::BadInput(err.to_string()))
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

/// Runs `gradrace race`.
pub fn run(args: &RaceArgs) -> Result<(), CliError> {
    let experiment = experiment_for(args)?;
    let data = Arc::new(data_for(&experiment)?);
    let context = SessionContext {
        experiment: experiment.clone(),
        data: DataFingerprint::of(&data),
        created: now_iso8601(),
    };
    let plan = save_plan(&args.save, default_path(&experiment.name), context, None)?;
    let race = Race::new(&experiment, data, args.run.threads).map_err(CliError::Runtime)?;
    let interactive = !args.run.headless && std::io::stdout().is_terminal();
    if !interactive {
        return headless::run_saving(race, Recorder::new(), plan).map(|_| ());
    }
    dashboard::run_saving(race, Recorder::new(), plan).map(|_| ())
}
