//! What a sweep will cost: every run's lane-steps, and its time — from the per-lane seconds per
//! step that `gradrace bench --json` measured on this kind of machine when such a file is at
//! hand (scaled by the multiply-adds of the run's network and batch against the benched ones),
//! else from a rough rate. Evaluations and probes are counted in training-step equivalents (a
//! held-out pass of 2,000 examples costs about 25 steps at batch 32; see `MetricsSpec`).

use std::path::{Path, PathBuf};

use super::expand::Run;
use crate::config::Experiment;

/// Multiply-adds per second of a training step (forward and backward) on one core, for
/// estimates without bench figures: the paper's network takes about 5 ms a step at batch 32.
const ROUGH_MACS_PER_SECOND: f64 = 1.8e10;
/// Fixed cost of a step without bench figures (small networks are not free).
const ROUGH_STEP_OVERHEAD: f64 = 30e-6;

/// Per-lane seconds per step measured by `gradrace bench --json`, with the shapes measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchFigures {
    /// The file read.
    pub file: PathBuf,
    /// Multiply-adds of one forward pass of the benched network at its batch size.
    pub macs: f64,
    /// (lane name, seconds per step).
    pub lanes: Vec<(String, f64)>,
}

/// Multiply-adds of one dense forward pass of `e`'s network at its batch size.
fn macs(e: &Experiment, inputs: usize, classes: usize) -> f64 {
    let n = &e.network;
    let per_example = inputs * n.gater_hidden
        + n.gater_hidden * n.experts
        + inputs * n.experts
        + n.experts * classes;
    (e.training.batch_size * per_example) as f64
}

/// Reads the output of `gradrace bench --json`.
pub fn read_bench(path: &Path) -> Result<BenchFigures, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("not JSON from `gradrace bench --json`: {e}"))?;
    let num = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("no {k:?} (not the output of `gradrace bench --json`)"))
    };
    let (batch, inputs, hidden, experts, classes) = (
        num("batch")?,
        num("inputs")?,
        num("gater_hidden")?,
        num("experts")?,
        num("classes")?,
    );
    let lanes = v
        .get("lanes")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| {
                    Some((
                        l.get("lane")?.as_str()?.to_string(),
                        l.get("seconds_per_step")?.as_f64()?,
                    ))
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if lanes.is_empty() {
        return Err("no lanes with seconds_per_step".into());
    }
    Ok(BenchFigures {
        file: path.to_path_buf(),
        macs: batch * (inputs * hidden + hidden * experts + inputs * experts + experts * classes),
        lanes,
    })
}

/// The estimated cost of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCost {
    /// Lanes × seeds × steps.
    pub lane_steps: u64,
    /// Estimated seconds on one core.
    pub seconds: f64,
    /// Whether every lane's figure came from the bench file.
    pub measured: bool,
}

/// The data a cost is estimated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    /// Training examples.
    pub train: usize,
    /// Held-out examples.
    pub heldout: usize,
    /// Inputs per example.
    pub inputs: usize,
    /// Classes.
    pub classes: usize,
}

/// The estimated cost of `run` on data of `shape`, with `bench` figures when given.
pub fn run_cost(run: &Run, shape: DataShape, bench: Option<&BenchFigures>) -> RunCost {
    let e = &run.experiment;
    let steps = e.total_steps(shape.train);
    let seeds = e.seed_list().len();
    let m = &e.metrics;
    let batch = e.training.batch_size.max(1) as f64;
    // Evaluations (a forward pass over the held-out set, about a third of a step per batch) and
    // probes (K resamples of a gater gradient on the probe batch, about half a step each).
    let evals = steps.checked_div(m.eval_every).map_or(1, |n| n + 1);
    let eval_steps = evals as f64 * (shape.heldout as f64 / batch) / 3.0;
    let probes = steps.checked_div(m.probe_every).unwrap_or(0);
    let probe_steps = probes as f64 * m.probe_samples as f64 * (m.probe_batch as f64 / batch) * 0.5;
    let step_equivalents = steps as f64 + eval_steps + probe_steps;
    let run_macs = macs(e, shape.inputs, shape.classes);
    let mut seconds = 0.0;
    let mut measured = true;
    for lane in &e.lanes {
        let per_step = match bench {
            Some(b) => {
                let (s, found) = match b.lanes.iter().find(|(n, _)| *n == lane.name) {
                    Some((_, s)) => (*s, true),
                    None => (
                        b.lanes.iter().map(|l| l.1).sum::<f64>() / b.lanes.len() as f64,
                        false,
                    ),
                };
                measured &= found;
                s * run_macs / b.macs.max(1.0)
            }
            None => {
                measured = false;
                let draws = f64::from(lane.estimator.build().draws() as u32).max(1.0);
                ROUGH_STEP_OVERHEAD + run_macs * (1.0 + draws) / ROUGH_MACS_PER_SECOND / 2.0
            }
        };
        seconds += per_step * step_equivalents * seeds as f64;
    }
    RunCost {
        lane_steps: (e.lanes.len() * seeds) as u64 * steps,
        seconds,
        measured,
    }
}

/// A duration for people: `850 ms`, `12 s`, `3 min 20 s`, `2 h 05 min`.
pub fn human(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.0} s")
    } else if seconds < 3600.0 {
        format!(
            "{} min {:02} s",
            (seconds / 60.0) as u64,
            seconds as u64 % 60
        )
    } else {
        format!(
            "{} h {:02} min",
            (seconds / 3600.0) as u64,
            (seconds as u64 % 3600) / 60
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::sweep::{expand, file::parse};

    const SHAPE: DataShape = DataShape {
        train: 8000,
        heldout: 2000,
        inputs: 784,
        classes: 10,
    };

    #[test]
    fn bench_figures_scale_with_the_network_and_the_length() {
        let s = parse(
            r#"Sweep(name: "c", experiment: "quick", set: {"lane": "dense"},
                grid: {"steps": [1000, 2000], "network.experts": [1000]})"#,
            "c.sweep.ron",
            Path::new("."),
        )
        .unwrap();
        let runs = expand(&s).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bench.json");
        std::fs::write(
            &file,
            r#"{"batch": 32, "inputs": 784, "gater_hidden": 200, "experts": 1000, "classes": 10,
                "lanes": [{"lane": "dense", "seconds_per_step": 0.002}]}"#,
        )
        .unwrap();
        let bench = read_bench(&file).unwrap();
        let a = run_cost(&runs[0], SHAPE, Some(&bench));
        let b = run_cost(&runs[1], SHAPE, Some(&bench));
        assert!(a.measured && a.lane_steps == 1000);
        // 1000 steps + 5 evaluations of 2000/32/3 steps + 5 probes of 8 × 0.5: 1124.2 steps.
        assert!((a.seconds - 0.002 * 1124.17).abs() < 0.01, "{a:?}");
        assert!(b.seconds > 1.9 * a.seconds && b.seconds < 2.0 * a.seconds);
        let rough = run_cost(&runs[0], SHAPE, None);
        assert!(
            !rough.measured && rough.seconds > 0.5 && rough.seconds < 10.0,
            "{rough:?}"
        );
        assert!(read_bench(&dir.path().join("missing.json")).is_err());
        assert_eq!(human(0.25), "250 ms");
        assert_eq!(human(200.0), "3 min 20 s");
        assert_eq!(human(7500.0), "2 h 05 min");
    }
}
