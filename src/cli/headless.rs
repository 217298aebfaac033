//! The headless consumer: one progress bar per lane with live loss and error (on a terminal),
//! a line per evaluation otherwise, and the leaderboard at the end on stdout.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{SavePlan, StopSignals, finish};
use super::console::note;
use super::{CliError, Ended};
use crate::engine::{EngineEvent, Race};
use crate::history::Recorder;
use crate::session::SessionWriter;

fn bar_message(recorder: &Recorder, lane: usize) -> String {
    let h = &recorder.lanes[lane];
    let s = h.summary(recorder.info.as_ref().map_or(1, |i| i.batch_size));
    let loss = s.train_loss.map_or("–".into(), |v| format!("{v:.3}"));
    let err = s
        .heldout_error
        .map_or("–".into(), |v| format!("{:.1}%", 100.0 * v));
    let fire = s
        .firing_rate
        .map_or("–".into(), |v| format!("{:.0}%", 100.0 * v));
    let status = if h.status.is_running() {
        String::new()
    } else {
        format!("  {}", h.status.label())
    };
    format!("loss {loss}  held-out err {err}  firing {fire}{status}")
}

/// Runs `race` to the end without a dashboard and without saving; Ctrl-C or SIGTERM stop it
/// cleanly (the leaderboard is still printed). Says whether a signal stopped it.
pub fn run(race: Race) -> Result<Ended, CliError> {
    run_saving(race, Recorder::new(), None).map(|(_, ended)| ended)
}

/// Runs `race` to the end without a dashboard, continuing `recorder` (the history so far), and
/// saves it according to `plan`: every `autosave` seconds, and at the end — also when Ctrl-C,
/// SIGTERM or SIGHUP stop it. Prints the leaderboard and where the session went; returns the
/// history and whether a signal stopped the race (its exit code, once saved).
pub fn run_saving(
    race: Race,
    recorder: Recorder,
    plan: Option<SavePlan>,
) -> Result<(Recorder, Ended), CliError> {
    let info = race.info().clone();
    let lanes = race.lane_infos();
    let resumed = race.is_resumed();
    let (handle, writer, lock) = match plan {
        Some(p) => {
            let (h, w) = SessionWriter::start(race, p.context, recorder.clone(), p.path, p.options);
            (h, Some(w), Some(p.lock))
        }
        None => (race.spawn(), None, None),
    };
    let status = writer.as_ref().map(SessionWriter::status);
    let signals = StopSignals::listen(handle.commands.clone());

    let on_terminal = std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if on_terminal {
        ProgressDrawTarget::stderr_with_hz(8)
    } else {
        ProgressDrawTarget::hidden()
    });
    note!(
        "gradrace: {} {} on {} ({} train / {} held-out), {} lanes, {} steps of {} examples",
        if resumed { "resuming" } else { "racing" },
        info.experiment,
        info.data,
        info.train_examples,
        info.heldout_examples,
        lanes.len(),
        info.total_steps,
        info.batch_size
    );
    if let Some(w) = &writer {
        note!("gradrace: saving to {}", w.path().display());
    }
    let width = lanes
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(4);
    let style = ProgressStyle::with_template(&format!(
        "{{prefix:>{width}}} [{{bar:28.cyan/blue}}] {{pos:>7}}/{{len:7}} {{msg}}"
    ))
    .expect("valid progress template")
    .progress_chars("█▉▊▋▌▍▎▏ ");
    let mut recorder = recorder;
    let bars: Vec<ProgressBar> = lanes
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let b = multi.add(ProgressBar::new(info.total_steps));
            b.set_style(style.clone());
            b.set_prefix(l.name.clone());
            if let Some(h) = recorder.lanes.get(i) {
                b.set_position(h.last_step());
            }
            b
        })
        .collect();

    let mut saves_seen = 0;
    for event in handle.events.iter() {
        let touched = match &event {
            EngineEvent::Steps { lane, .. }
            | EngineEvent::Eval { lane, .. }
            | EngineEvent::Status { lane, .. } => Some(*lane),
            _ => None,
        };
        let eval = match &event {
            EngineEvent::Eval { lane, point } => Some((*lane, *point)),
            _ => None,
        };
        let finished = event == EngineEvent::Finished;
        recorder.apply(event);
        if let Some(lane) = touched.filter(|l| *l < bars.len() && *l < recorder.lanes.len()) {
            bars[lane].set_position(recorder.lanes[lane].last_step());
            bars[lane].set_message(bar_message(&recorder, lane));
        }
        if let (Some((lane, p)), false) = (eval, on_terminal) {
            note!(
                "[{}] step {}/{}: held-out error {:.2}%, test-time firing {:.1}%",
                lanes[lane].name,
                p.step,
                info.total_steps,
                100.0 * p.error,
                100.0 * p.firing_rate
            );
        }
        if let Some(s) = &status
            && s.saves() > saves_seen
        {
            saves_seen = s.saves();
            let line = match s.last() {
                Some(Ok(saved)) if saved.checkpoint_error.is_some() => Some(format!(
                    "gradrace: warning: {}; the checkpoint is tried again at the next autosave",
                    saved.describe()
                )),
                Some(Ok(saved)) if !on_terminal => Some(format!("gradrace: {}", saved.describe())),
                Some(Err(e)) => Some(format!(
                    "gradrace: warning: saving failed: {e}; the last good save stays, the race \
                     goes on and saving is tried again at the next autosave"
                )),
                _ => None,
            };
            if let Some(line) = line {
                let _ = multi.println(&line);
                if !on_terminal {
                    note!("{line}");
                }
            }
        }
        if finished {
            break;
        }
    }
    for b in &bars {
        b.abandon();
    }
    drop(handle.events);
    handle
        .thread
        .join()
        .map_err(|_| CliError::Runtime("the training engine crashed".into()))?;
    let recorder = finish(recorder, writer)?;
    // Released once the last save is written (and on every way out before).
    drop(lock);
    let ended = Ended::from_stop(signals.received());
    Ok((recorder, ended))
}
