//! Expansion: a sweep's runs, in order — every point of the list (or the base alone) crossed
//! with every combination of the grid, the first grid axis varying slowest — each the base
//! experiment with the fixed settings, the point's and the combination's values applied, and
//! validated like an experiment file. A value out of range is reported at its place in the sweep
//! file, with the run it made.

use super::axis::{Axis, Role, Value};
use super::file::{Assignment, Position, Sweep};
use crate::config::{Experiment, validate_experiment};
use crate::file_error::FileError;

/// The most runs a sweep may have.
pub const MAX_RUNS: usize = 100_000;

/// One run of a sweep: one race, saved as one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its place in the sweep (0-based; the Slurm array index).
    pub index: usize,
    /// Index and a digest of its experiment, e.g. `007-3fa9c2d1`: the same run in every
    /// expansion of the same sweep file.
    pub id: String,
    /// The values of the varied axes (list point first, then the grid).
    pub values: Vec<(&'static Axis, Value)>,
    /// The experiment it races.
    pub experiment: Experiment,
}

impl Run {
    /// `axis=value` for every varied axis.
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(a, v)| format!("{}={v}", a.name))
            .collect();
        if parts.is_empty() {
            "(the base experiment)".into()
        } else {
            parts.join(" ")
        }
    }

    /// The value this run gives `axis`, if it varies it.
    pub fn value(&self, axis: &Axis) -> Option<&Value> {
        self.values.iter().find(|(a, _)| *a == axis).map(|(_, v)| v)
    }

    /// The session file name: `run-007.ron` (`width` digits at least).
    pub fn file_name(&self, width: usize) -> String {
        format!("run-{:0width$}.ron", self.index)
    }

    /// Lane races of the run: lanes × seeds.
    pub fn lane_runs(&self) -> usize {
        self.experiment.lanes.len() * self.experiment.seed_list().len()
    }
}

/// Digits of the run numbers of a sweep of `runs` runs (3 at least).
pub fn index_width(runs: usize) -> usize {
    runs.saturating_sub(1).to_string().len().max(3)
}

/// The runs of `sweep`.
pub fn expand(sweep: &Sweep) -> Result<Vec<Run>, FileError> {
    let grid_at = sweep.grid.first().and_then(|g| g.at);
    let combos = sweep
        .grid
        .iter()
        .try_fold(1usize, |n, g| n.checked_mul(g.values.len()))
        .filter(|n| n.saturating_mul(sweep.list.len().max(1)) <= MAX_RUNS)
        .ok_or_else(|| {
            let sizes: Vec<String> = sweep
                .grid
                .iter()
                .map(|g| g.values.len().to_string())
                .collect();
            sweep.file_error(
                grid_at,
                format!(
                    "the sweep has more than {MAX_RUNS} runs ({} list points × {} grid values)",
                    sweep.list.len().max(1),
                    sizes.join(" × ")
                ),
            )
        })?;
    let no_point = Vec::new();
    let points: Vec<&Vec<Assignment>> = if sweep.list.is_empty() {
        vec![&no_point]
    } else {
        sweep.list.iter().collect()
    };
    let total = points.len() * combos;
    let width = index_width(total);
    let mut runs = Vec::with_capacity(total);
    for point in points {
        for combo in 0..combos {
            // Mixed radix, the last axis fastest.
            let mut rest = combo;
            let mut picks = vec![0; sweep.grid.len()];
            for (k, g) in sweep.grid.iter().enumerate().rev() {
                picks[k] = rest % g.values.len();
                rest /= g.values.len();
            }
            let mut applied: Vec<(&'static Axis, &Value, Position)> = Vec::new();
            applied.extend(sweep.set.iter().map(|a| (a.axis, &a.value, a.at)));
            applied.extend(point.iter().map(|a| (a.axis, &a.value, a.at)));
            for (g, &k) in sweep.grid.iter().zip(&picks) {
                let (v, at) = &g.values[k];
                applied.push((g.axis, v, *at));
            }
            let fixed = sweep.set.len();
            let run = build(sweep, runs.len(), width, &applied, fixed)?;
            runs.push(run);
        }
    }
    Ok(runs)
}

/// Run `index`: the base with `applied` (the first `fixed` of them from `set`).
fn build(
    sweep: &Sweep,
    index: usize,
    width: usize,
    applied: &[(&'static Axis, &Value, Position)],
    fixed: usize,
) -> Result<Run, FileError> {
    let values: Vec<(&'static Axis, Value)> = applied[fixed..]
        .iter()
        .map(|(a, v, _)| (*a, (*v).clone()))
        .collect();
    let mut run = Run {
        index,
        id: String::new(),
        values,
        experiment: sweep.base.clone(),
    };
    let label = run.label();
    let e = &mut run.experiment;
    // The lanes first, so that settings of every lane reach only the run's lanes.
    let mut order: Vec<&(&'static Axis, &Value, Position)> = applied.iter().collect();
    order.sort_by_key(|(a, _, _)| a.role != Role::Lanes);
    for (axis, value, at) in order {
        axis.apply(e, value)
            .map_err(|message| sweep.file_error(*at, format!("{} {message}", axis.name)))?;
    }
    e.name = format!("{}-{:0width$}", sweep.name, index);
    e.description = if e.description.is_empty() {
        label.clone()
    } else {
        format!("{} — {label}", e.description)
    };
    validate_experiment(e).map_err(|invalid| {
        let culprit = applied.iter().rev().find(|(a, _, _)| {
            a.reported_as == (invalid.field, invalid.lane.is_some())
                || (a.role == Role::Lanes && invalid.field == "reference_lane")
        });
        let at = culprit
            .map(|c| c.2)
            .unwrap_or_else(|| sweep.grid.first().and_then(|g| g.at));
        // The axis' name, unless the message begins with it already.
        let prefix = culprit
            .filter(|(a, _, _)| !invalid.message.starts_with(a.name))
            .map_or(String::new(), |(a, _, _)| format!("{}: ", a.name));
        sweep.file_error(
            at,
            format!("{prefix}{} (run {index}: {label})", invalid.message),
        )
    })?;
    let digest = crc32fast::hash(
        ron::to_string(&run.experiment)
            .unwrap_or_default()
            .as_bytes(),
    );
    run.id = format!("{index:0width$}-{digest:08x}");
    Ok(run)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Length;
    use crate::sweep::file::parse;

    fn sweep(text: &str) -> Sweep {
        parse(text, "s.sweep.ron", Path::new(".")).unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_the_first_axis_slowest() {
        let s = sweep(
            r#"Sweep(name: "g", experiment: "quick", set: {"steps": 50},
                grid: {"lane": ["sts", "dense"], "training.learning_rate": [0.05, 0.2], "seed": [1, 2, 3]})"#,
        );
        let runs = expand(&s).unwrap();
        assert_eq!(runs.len(), 12);
        assert_eq!(
            runs[0].label(),
            "lane=sts training.learning_rate=0.05 seed=1"
        );
        assert_eq!(
            runs[1].label(),
            "lane=sts training.learning_rate=0.05 seed=2"
        );
        assert_eq!(
            runs[3].label(),
            "lane=sts training.learning_rate=0.2 seed=1"
        );
        assert_eq!(
            runs[11].label(),
            "lane=dense training.learning_rate=0.2 seed=3"
        );
        let r = &runs[4];
        assert_eq!(r.experiment.training.length, Length::Steps(50));
        assert_eq!(r.experiment.training.learning_rate, 0.2);
        assert_eq!(r.experiment.seed_list(), [2]);
        assert_eq!(r.experiment.lanes.len(), 1);
        assert_eq!(r.experiment.name, "g-004");
        assert!(r.id.starts_with("004-") && r.id.len() == 12, "{}", r.id);
        // The same file expands to the same ids; a different value gives a different digest.
        let again = expand(&s).unwrap();
        assert_eq!(runs, again);
        let other = expand(&sweep(
            r#"Sweep(name: "g", experiment: "quick", set: {"steps": 51},
                grid: {"lane": ["sts", "dense"], "training.learning_rate": [0.05, 0.2], "seed": [1, 2, 3]})"#,
        ))
        .unwrap();
        assert_ne!(runs[4].id, other[4].id);
        assert_eq!(runs[4].id[..4], other[4].id[..4]);
    }

    #[test]
    fn a_list_is_crossed_with_the_grid() {
        let s = sweep(
            r#"Sweep(name: "l", experiment: "quick",
                list: [{"lane": "unbiased", "lane.gater_learning_rate": 0.001},
                       {"lane": ["sts", "dense"]}],
                grid: {"seed": [4, 5]})"#,
        );
        let runs = expand(&s).unwrap();
        let labels: Vec<String> = runs.iter().map(Run::label).collect();
        assert_eq!(
            labels,
            [
                "lane=unbiased lane.gater_learning_rate=0.001 seed=4",
                "lane=unbiased lane.gater_learning_rate=0.001 seed=5",
                "lane=sts+dense seed=4",
                "lane=sts+dense seed=5",
            ]
        );
        assert_eq!(runs[0].experiment.lanes[0].gater_learning_rate, Some(0.001));
        assert_eq!(runs[2].lane_runs(), 2);
        // Without axes: the base experiment, once.
        let one = expand(&sweep(r#"Sweep(name: "b", experiment: "quick")"#)).unwrap();
        assert_eq!(
            (one.len(), one[0].label().as_str()),
            (1, "(the base experiment)")
        );
    }

    #[test]
    fn out_of_range_values_are_reported_where_they_are_written() {
        let cases = [
            (
                "Sweep(name: \"g\", experiment: \"quick\",\n grid: {\"training.learning_rate\": [0.1, -0.1]})",
                "s.sweep.ron:2:41: training.learning_rate = -0.1 must be > 0 (run 1: training.learning_rate=-0.1)",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"lane\": [\"sts\"], \"lane.momentum\": [0.5, 1.5]})",
                "s.sweep.ron:1:86: lane.momentum: lane \"sts\": momentum = 1.5 must be in [0, 1) (run 1: lane=sts lane.momentum=1.5)",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", set: {\"steps\": 0})",
                "s.sweep.ron:1:54: steps: training.length = Steps(0) must be at least 1",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", list: [{\"training.batch_size\": 1.5}])",
                "s.sweep.ron:1:70: training.batch_size takes a whole number, not 1.5",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"lane\": [\"sts\", \"st\"]})",
                "s.sweep.ron:1:62: lane takes lanes of experiment \"quick\" (straight-through, sts, noisy-rectifier, unbiased, dense), not \"st\"",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"lane.sparsity_weight\": [2.0]})",
                "s.sweep.ron:1:71: lane.sparsity_weight: lane \"noisy-rectifier\": sparsity_weight = 2 is the start of the adaptive L1",
            ),
        ];
        for (text, expected) in cases {
            let e = expand(&sweep(text)).unwrap_err().to_string();
            assert!(
                e.starts_with(expected),
                "{text}\n got: {e}\nwant: {expected}"
            );
        }
    }
}
