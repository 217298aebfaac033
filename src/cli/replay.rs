//! `gradrace replay FILE…`: a saved race, read-only and without its data set. On a terminal, the
//! dashboard with a timeline; with `--summary`, the leaderboard alone; with `--text` (or when
//! stdout is not a terminal) the race's description, the leaderboard, every declared training
//! metric of every lane over its last steps, held-out error over time for every lane and every
//! lane's status changes. Several sessions are shown as one race: every lane prefixed with its
//! session's label (`A/straight-through`), the sessions listed with what sets them apart.

use std::io::IsTerminal;

use super::common::load_sessions;
use super::{CliError, Ended, ReplayArgs, console};
use crate::export::Sessions;
use crate::history::FIRING_WINDOW;
use crate::report::{
    eval_timeline, lane_events, probe_table, race_leaderboard, recent_metrics, trajectory_table,
};
use crate::session::Session;

/// Rows of the text timeline.
const TIMELINE_ROWS: usize = 30;

/// The text replay of `session` (everything but the leaderboard when `summary`).
pub fn text(session: &Session, summary: bool) -> String {
    text_of(&Sessions::of(vec![session.clone()], &[]), summary)
}

/// The text replay of `sessions` as one race (the leaderboard alone when `summary`).
pub fn text_of(sessions: &Sessions, summary: bool) -> String {
    let r = &sessions.merged;
    let mut out = String::new();
    if let Some(info) = &r.info {
        let status = if r.finished { "ended" } else { "in progress" };
        out.push_str(&format!(
            "{} — {} — step {} of {} ({status})\n",
            info.experiment,
            info.data,
            r.step(),
            info.total_steps
        ));
    }
    if sessions.several() {
        out.push_str(&format!("{} sessions as one race:\n", sessions.parts.len()));
        for l in sessions.legend() {
            out.push_str(&format!("  {l}\n"));
        }
        let differences = sessions.differences();
        if !differences.is_empty() {
            out.push_str(&format!(
                "The sessions differ: {}; lanes of different sessions are not a controlled \
                 comparison.\n",
                differences.join("; ")
            ));
        }
    }
    if !summary {
        for (label, session) in &sessions.parts {
            let c = &session.context;
            let seeds = crate::export::sessions::seed_text(&c.experiment.seed_list());
            out.push_str(&format!(
                "{}started {}, saved {} by gradrace {}; {seeds}; {}\n",
                if sessions.several() {
                    format!("{label}: ")
                } else {
                    String::new()
                },
                c.created,
                session.saved,
                session.gradrace,
                if session.checkpoint.is_some() {
                    "resumable (checkpoint saved)"
                } else {
                    "replay only (no checkpoint)"
                }
            ));
        }
    }
    out.push('\n');
    out.push_str(&race_leaderboard(r));
    if !summary {
        out.push_str(&format!(
            "\nTraining metrics over the last {FIRING_WINDOW} steps\n\n"
        ));
        out.push_str(&recent_metrics(r));
        if let Some(t) = probe_table(r) {
            out.push_str(
                "\nEstimator variance (latest probe, each lane at its own parameters)\n\n",
            );
            out.push_str(&t);
        }
        if let Some(t) = trajectory_table(r) {
            out.push_str("\nSame-trajectory probe (latest)\n\n");
            out.push_str(&t);
        }
        out.push_str("\nHeld-out error over the race\n\n");
        out.push_str(&eval_timeline(r, TIMELINE_ROWS));
        let events = lane_events(r);
        if !events.is_empty() {
            out.push_str("\nEvents\n\n");
            out.push_str(&events);
        }
    }
    out
}

/// Runs `gradrace replay`: the dashboard with a timeline when stdout is a terminal (unless
/// `--summary` or `--text`), the text replay otherwise.
pub fn run(args: &ReplayArgs) -> Result<Ended, CliError> {
    let sessions = load_sessions(&args.files, &args.read)?;
    if !args.summary && !args.text && std::io::stdout().is_terminal() {
        let stopped = crate::tui::run_replay(sessions.merged)?;
        return Ok(Ended::from_stop(stopped));
    }
    console::report(&text_of(&sessions, args.summary))?;
    Ok(Ended::Completed)
}
