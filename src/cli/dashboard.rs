//! The interactive consumer: the race in the dashboard, saved through the session writer (on `s`,
//! every autosave interval and at the end), then the final leaderboard and where the session
//! went, printed on the restored screen.

use super::CliError;
use super::common::{SavePlan, finish};
use crate::engine::Race;
use crate::history::Recorder;
use crate::session::SessionWriter;
use crate::tui::{self, LiveOptions};

/// Runs `race` in the dashboard, continuing `recorder` (the history so far: empty for a new
/// race, the loaded one for a resumed race), and saves it according to `plan`. Returns the
/// history when the user has left and the race has ended.
pub fn run_saving(
    race: Race,
    recorder: Recorder,
    plan: Option<SavePlan>,
) -> Result<Recorder, CliError> {
    let (handle, writer) = match plan {
        Some(p) => {
            let (h, w) = SessionWriter::start(race, p.context, recorder.clone(), p.path, p.options);
            (h, Some(w))
        }
        None => (race.spawn(), None),
    };
    let options = LiveOptions {
        saver: writer.as_ref().map(SessionWriter::saver),
        history: recorder,
    };
    let recorder = tui::run_live(handle, options)?;
    finish(recorder, writer)
}
