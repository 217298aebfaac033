//! Merging a sweep: every done run's session read back, each lane's latest held-out error
//! grouped by setting (the values of the varied axes other than the lane and the seed) and
//! estimator (the lane), and summarised over the seeds x₁…xₙ as a mean with its Student-t 95%
//! interval, x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n ([`MeanInterval`]); the best setting of an estimator is the
//! one with the lowest mean (the first such on a tie). The table depends only on the runs'
//! results — not on where, when or how fast they ran — so a sweep raced here and on Slurm gives
//! the same bytes.

use super::axis::{Axis, Role};
use super::directory::{RunStatus, SweepDir};
use super::expand::Run;
use super::file::Sweep;
use super::table::{Cell, LaneResult, Table};
use crate::stats::MeanInterval;

/// Merges the runs of `sweep` found in `dir`.
pub fn collect(sweep: &Sweep, runs: &[Run], dir: &SweepDir) -> Table {
    let axes: Vec<&'static Axis> = sweep.varied_axes();
    let setting_axes: Vec<&'static Axis> = axes
        .iter()
        .copied()
        .filter(|a| a.role == Role::Setting)
        .collect();
    let mut lanes = Vec::new();
    let mut missing = Vec::new();
    for run in runs {
        let session = match dir.status(run) {
            RunStatus::Done(s) => s,
            RunStatus::Missing => {
                missing.push((run.index, "not raced yet".to_string()));
                continue;
            }
            RunStatus::Redo(why) => {
                missing.push((run.index, why));
                continue;
            }
        };
        let shown = |a: &Axis| run.value(a).map_or(String::new(), ToString::to_string);
        let values: Vec<String> = axes.iter().map(|a| shown(a)).collect();
        let setting: Vec<String> = setting_axes
            .iter()
            .map(|a| run.value(a).map_or("(base)".into(), ToString::to_string))
            .collect();
        let r = &session.recorder;
        let race_seed = r.info.as_ref().map_or(0, |i| i.seed);
        for (h, s) in r.lanes.iter().zip(r.summaries()) {
            lanes.push(LaneResult {
                run: run.index,
                id: run.id.clone(),
                values: values.clone(),
                setting: setting.clone(),
                lane: h.info.name.clone(),
                estimator: s.estimator.clone(),
                seed: h.info.seed_or(race_seed),
                steps: s.steps,
                status: s.status_label(),
                heldout_error: s.heldout_error,
                heldout_loss: s.heldout_loss,
                train_loss: s.train_loss,
                firing_rate: s.firing_rate,
                compute_saved: s.compute_saved,
                seconds_per_step: s.seconds_per_step,
            });
        }
    }
    let mut settings: Vec<Vec<String>> = Vec::new();
    let mut estimators: Vec<String> = Vec::new();
    // Settings in the order of the runs, whether or not they are done yet.
    for run in runs {
        let setting: Vec<String> = setting_axes
            .iter()
            .map(|a| run.value(a).map_or("(base)".into(), ToString::to_string))
            .collect();
        if !settings.contains(&setting) {
            settings.push(setting);
        }
        for l in &run.experiment.lanes {
            if !estimators.contains(&l.name) {
                estimators.push(l.name.clone());
            }
        }
    }
    let mut cells: Vec<Vec<Option<Cell>>> = settings
        .iter()
        .map(|setting| {
            estimators
                .iter()
                .map(|lane| {
                    let errors: Vec<f64> = lanes
                        .iter()
                        .filter(|l| l.setting == *setting && l.lane == *lane)
                        .filter_map(|l| l.heldout_error.map(f64::from))
                        .collect();
                    MeanInterval::of(&errors).map(|error| Cell { error, best: false })
                })
                .collect()
        })
        .collect();
    // The best setting of each estimator: the lowest mean (the first on a tie).
    for e in 0..estimators.len() {
        let means = cells
            .iter()
            .enumerate()
            .filter_map(|(s, row)| row[e].map(|c| (s, c.error.mean)));
        let best = means.fold(None, |best: Option<(usize, f64)>, (s, m)| match best {
            Some((_, b)) if b <= m => best,
            _ => Some((s, m)),
        });
        if let Some((s, _)) = best
            && let Some(c) = cells[s][e].as_mut()
        {
            c.best = true;
        }
    }
    Table {
        sweep: sweep.name.clone(),
        axes: axes.iter().map(|a| a.name).collect(),
        setting_axes: setting_axes.iter().map(|a| a.name).collect(),
        settings,
        estimators,
        cells,
        lanes,
        missing,
    }
}
