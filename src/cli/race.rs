//! `gradrace race`: resolve the experiment, apply the command-line overrides, load the data and
//! run the race with the dashboard (stdout a terminal, no `--headless`) or headless. After the
//! dashboard closes, the final leaderboard is printed on the restored screen.

use std::io::IsTerminal;
use std::sync::Arc;

use super::common::{self, claim, data_for, save_plan};
use super::console::note;
use super::{CliError, Ended, RaceArgs, dashboard, headless};
use crate::config::{Experiment, Length, Seeds};
use crate::engine::Race;
use crate::history::Recorder;
use crate::session::clock::now_iso8601;
use crate::session::{DataFingerprint, SessionContext, default_path};

/// The experiment after the command-line overrides.
fn experiment_for(args: &RaceArgs) -> Result<Experiment, CliError> {
    let mut e = common::experiment(&args.experiment, args.data.as_deref())?;
    if let Some(seed) = args.seed {
        e.seed = seed;
        // A list of seeds gives way to the one asked for (a count counts from it).
        if matches!(e.seeds, Some(Seeds::List(_))) {
            e.seeds = None;
        }
    }
    if let Some(n) = args.seeds {
        if !(1..=1000).contains(&n) {
            return Err(CliError::BadInput(format!(
                "--seeds {n}: must be in 1..=1000"
            )));
        }
        e.seeds = Some(Seeds::Count(n));
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
        let reference = e.same_trajectory.clone();
        if e.retain_lanes(|l| wanted.contains(&l.name))
            && let Some(t) = reference
        {
            note!(
                "gradrace: no same-trajectory probe: its reference lane \"{}\" is not raced",
                t.reference_lane
            );
        }
    }
    Ok(e)
}

/// Runs `gradrace race`.
pub fn run(args: &RaceArgs) -> Result<Ended, CliError> {
    let experiment = experiment_for(args)?;
    // Where it is saved is checked and locked before the data is loaded.
    let claim = claim(&args.save, default_path(&experiment.name))?;
    let data = Arc::new(data_for(&experiment)?);
    let context = SessionContext {
        experiment: experiment.clone(),
        data: DataFingerprint::of(&data),
        created: now_iso8601(),
    };
    let plan = save_plan(&args.save, claim, context, None);
    let race = Race::new(&experiment, data, args.run.threads)
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let interactive = !args.run.headless && std::io::stdout().is_terminal();
    let (_, ended) = if interactive {
        dashboard::run_saving(race, Recorder::new(), plan)?
    } else {
        headless::run_saving(race, Recorder::new(), plan)?
    };
    Ok(ended)
}
