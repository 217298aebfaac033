//! `gradrace resume FILE`: continue a saved race from its checkpoint, exactly as if it had never
//! stopped, appending to its history and saving it again (in place unless `--out` says
//! otherwise).

use std::io::IsTerminal;
use std::sync::Arc;

use super::common::{claim, data_for, save_plan};
use super::console::note;
use super::{CliError, Ended, ResumeArgs, dashboard, headless};
use crate::config::{DataSpec, Length};
use crate::engine::Race;
use crate::session::{DataFingerprint, LoadOptions, Session, SessionContext};

/// Runs `gradrace resume`.
pub fn run(args: &ResumeArgs) -> Result<Ended, CliError> {
    let file = args.file.display().to_string();
    // Where it is saved (the file itself unless --out) is checked and locked first: a second
    // writer of the same session is refused before anything is loaded.
    let claim = claim(&args.save, args.file.clone())?;
    let options = LoadOptions {
        ignore_checksum: args.ignore_checksum,
    };
    let session = Session::load_with(&args.file, options)?;
    let checkpoint = session.load_checkpoint()?;
    let mut experiment = session.context.experiment.clone();
    if let Some(dir) = &args.data {
        experiment.data = DataSpec::Directory(dir.clone());
    }
    if let Some(n) = args.steps {
        if n == 0 {
            return Err(CliError::BadInput("--steps must be at least 1".into()));
        }
        let total = checkpoint.step().checked_add(n).ok_or_else(|| {
            CliError::BadInput(format!("--steps {n} goes beyond the largest step count"))
        })?;
        experiment.training.length = Length::Steps(total);
    }
    let data = Arc::new(data_for(&experiment)?);
    let fingerprint = DataFingerprint::of(&data);
    session.context.data.check_same(&fingerprint).map_err(|m| {
        CliError::BadInput(format!(
            "{file}: the race trained on \"{}\", and {m}; resume needs the same data \
                 (--data DIR names where it is now)",
            session.context.data.name
        ))
    })?;
    let race = Race::resume(&experiment, data, checkpoint, args.run.threads)
        .map_err(|m| CliError::BadInput(format!("{file}: the checkpoint does not fit: {m}")))?;
    if race.is_finished() {
        note!(
            "gradrace: every lane of {file} has ended (step {}); `--steps N` trains N more",
            session.recorder.step()
        );
    }
    let in_place = args.save.out.as_ref().is_none_or(|o| *o == args.file);
    let context = SessionContext {
        experiment,
        data: fingerprint,
        created: session.context.created.clone(),
    };
    let replaces = if in_place {
        session.sidecar_path()
    } else {
        None
    };
    let plan = save_plan(&args.save, claim, context, replaces);
    let (_, ended) = if args.run.headless || !std::io::stdout().is_terminal() {
        headless::run_saving(race, session.recorder, plan)?
    } else {
        dashboard::run_saving(race, session.recorder, plan)?
    };
    Ok(ended)
}
