//! The interactive consumer: the race in the dashboard, saved through the session writer (on `s`,
//! every autosave interval and at the end), then the final leaderboard and where the session
//! went, printed on the restored screen.

use super::common::{SavePlan, finish};
use super::console::note;
use super::{CliError, Ended};
use crate::engine::Race;
use crate::history::Recorder;
use crate::session::SessionWriter;
use crate::tui::{self, LiveOptions};

/// Runs `race` in the dashboard, continuing `recorder` (the history so far: empty for a new
/// race, the loaded one for a resumed race), and saves it according to `plan`. Returns the
/// history when the user has left and the race has ended, and what stopped it (`q` on a running
/// race, a signal).
pub fn run_saving(
    race: Race,
    recorder: Recorder,
    plan: Option<SavePlan>,
) -> Result<(Recorder, Ended), CliError> {
    let (handle, writer, lock) = match plan {
        Some(p) => {
            let (h, w) = SessionWriter::start(race, p.context, recorder.clone(), p.path, p.options);
            (h, Some(w), Some(p.lock))
        }
        None => (race.spawn(), None, None),
    };
    let options = LiveOptions {
        saver: writer.as_ref().map(SessionWriter::saver),
        history: recorder,
    };
    let end = match tui::run_live(handle, options) {
        Ok(end) => end,
        Err(e) => {
            // The dashboard failed (its terminal may be gone) but the race ran: its session is
            // saved before the failure is reported.
            if let Some(w) = writer {
                saved_after_failure(w);
            }
            drop(lock);
            return Err(e.into());
        }
    };
    let recorder = finish(end.recorder, writer)?;
    // Released once the last save is written (and on every way out before).
    drop(lock);
    Ok((recorder, Ended::from_stop(end.stopped)))
}

/// Waits for the last save of a race whose dashboard failed, and says on standard error where
/// it went (or why it could not be written); the dashboard's failure is the command's error.
fn saved_after_failure(writer: SessionWriter) {
    match writer.finish() {
        Some(Ok(saved)) => note!("gradrace: {}", saved.describe()),
        Some(Err(e)) => note!("gradrace: the session could not be saved: {e}"),
        None => {}
    }
}
