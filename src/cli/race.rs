//! `gradrace race`: resolve the experiment, apply the command-line overrides, load the data and
//! run the race with the dashboard (stdout a terminal, no `--headless`) or headless. After the
//! dashboard closes, the final leaderboard is printed on the restored screen.

use std::io::IsTerminal;
use std::sync::Arc;

use super::{CliError, RaceArgs, headless};
use crate::config::builtin::resolve;
use crate::config::{DataSpec, Experiment, Length};
use crate::data::{DataSource, DataSplit, load};
use crate::engine::Race;
use crate::report::leaderboard;

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

/// Runs `gradrace race`.
pub fn run(args: &RaceArgs) -> Result<(), CliError> {
    let experiment = experiment_for(args)?;
    let data = Arc::new(data_for(&experiment)?);
    let race = Race::new(&experiment, data, args.threads).map_err(CliError::Runtime)?;
    let interactive = !args.headless && std::io::stdout().is_terminal();
    if !interactive {
        return headless::run(race);
    }
    let handle = race.spawn();
    let recorder = crate::tui::run_live(handle, crate::tui::LiveOptions::default())?;
    if let Some(info) = &recorder.info {
        println!(
            "{} — {} — {} steps\n",
            info.experiment,
            info.data,
            recorder.step()
        );
    }
    print!("{}", leaderboard(&recorder.summaries()));
    Ok(())
}
