//! `gradrace bench`: what conditional computation really saves on this machine, measured
//! single-threaded in one run on an experiment's shapes.
//!
//! Three measurements, each against its dense reference in the same run ([`timing`]):
//! - the conditional layer (main path: experts, gates, softmax layer) forward + backward with
//!   the gated kernels at firing rates 1–100% against the dense-masked layer;
//! - every lane's training throughput with the main path the engine picks, against the same lane
//!   computing every expert (the dense-masked path); the gate biases are first shifted so that
//!   gated lanes fire at the experiment's sparsity target, as a trained lane does;
//! - the dense kernel's GFLOP/s on the experiment's largest layer, against plain products with
//!   the same library.
//!
//! The measuring code returns a [`BenchReport`]; [`BenchReport::table`] renders it as text and
//! serde as JSON. Nothing here prints.

pub mod error;
pub mod kernel;
pub mod lanes;
pub mod layer;
pub mod timing;

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::Experiment;
use crate::data::DataSplit;
use crate::nn::simd::simd_level;

pub use error::BenchError;
pub use kernel::KernelResult;
pub use lanes::LaneResult;
pub use layer::{LayerOption, LayerResult};
pub use timing::Budget;

/// How long to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BenchSettings {
    /// Rounds and repetitions of the layer measurements.
    pub layer: Budget,
    /// Rounds and training steps per round of the lane measurements.
    pub lanes: Budget,
    /// Rounds and repetitions of the kernel measurements.
    pub kernel: Budget,
    /// Side of the square reference product.
    pub square: usize,
}

impl BenchSettings {
    /// The full measurement (about a minute per lane on the paper's experiment).
    pub fn full() -> Self {
        BenchSettings {
            layer: Budget {
                rounds: 7,
                reps: 10,
            },
            lanes: Budget {
                rounds: 5,
                reps: 20,
            },
            kernel: Budget {
                rounds: 7,
                reps: 10,
            },
            square: 1024,
        }
    }

    /// A quick look (seconds): fewer rounds and repetitions.
    pub fn quick() -> Self {
        BenchSettings {
            layer: Budget { rounds: 2, reps: 3 },
            lanes: Budget { rounds: 2, reps: 4 },
            kernel: Budget { rounds: 2, reps: 3 },
            square: 512,
        }
    }
}

/// Everything `gradrace bench` measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Experiment name.
    pub experiment: String,
    /// Examples per minibatch.
    pub batch: usize,
    /// Input dimension.
    pub inputs: usize,
    /// Gater hidden units.
    pub gater_hidden: usize,
    /// Experts.
    pub experts: usize,
    /// Classes.
    pub classes: usize,
    /// Vector instruction set of the gated kernels.
    pub simd: String,
    /// Library of the dense products.
    pub dense_library: String,
    /// Threads used (always 1).
    pub threads: usize,
    /// Measurement budget.
    pub settings: BenchSettings,
    /// Conditional layer, gated kernels vs dense, by firing rate.
    pub layer: Vec<LayerResult>,
    /// Other ways to organise the gated kernels, at the experiment's sparsity target.
    pub layer_options: Vec<LayerOption>,
    /// Training throughput of every lane.
    pub lanes: Vec<LaneResult>,
    /// Dense kernel speed.
    pub kernel: KernelResult,
}

/// Firing rates of the layer measurement.
pub const FIRING_RATES: [f32; 6] = [0.01, 0.05, 0.10, 0.25, 0.50, 1.0];

/// Runs every measurement for `experiment` on `data` (single-threaded, one thing at a time).
/// `progress` is told what is being measured (the CLI shows it on stderr).
pub fn run(
    experiment: &Experiment,
    data: &DataSplit,
    settings: BenchSettings,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, BenchError> {
    if data.train.len() < experiment.training.batch_size {
        return Err(BenchError::TooFewExamples {
            examples: data.train.len(),
            batch: experiment.training.batch_size,
        });
    }
    let batch = experiment.training.batch_size;
    let shapes = layer::Shapes {
        batch,
        inputs: data.train.input_dim(),
        experts: experiment.network.experts,
        classes: crate::data::CLASSES,
        activation: experiment.network.expert_activation,
    };
    progress("conditional layer");
    let layer = layer::sweep(&shapes, &FIRING_RATES, settings.layer, experiment.seed);
    let layer_options = layer::options(
        &shapes,
        experiment.training.sparsity_target,
        settings.layer,
        experiment.seed,
    );
    let mut lanes = Vec::new();
    for spec in &experiment.lanes {
        progress(&format!("lane {}", spec.name));
        lanes.push(lanes::measure(experiment, spec, data, settings.lanes)?);
    }
    progress("dense kernel");
    let kernel = kernel::measure(
        batch,
        data.train.input_dim(),
        experiment.network.gater_hidden,
        experiment.network.experts,
        settings.kernel,
        settings.square,
    );
    Ok(BenchReport {
        experiment: experiment.name.clone(),
        batch,
        inputs: data.train.input_dim(),
        gater_hidden: experiment.network.gater_hidden,
        experts: experiment.network.experts,
        classes: crate::data::CLASSES,
        simd: simd_level().name().to_string(),
        dense_library: "gemm 0.19 (pure Rust, run-time CPU dispatch)".to_string(),
        threads: 1,
        settings,
        layer,
        layer_options,
        lanes,
        kernel,
    })
}

fn ms(seconds: f64) -> String {
    format!("{:.3}", seconds * 1e3)
}

impl BenchReport {
    /// The report as aligned text tables.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "gradrace bench — {}: batch {}, {} inputs → {} experts → {} classes, gater {} hidden; \
             1 thread, gated kernels {}, dense products {}",
            self.experiment,
            self.batch,
            self.inputs,
            self.experts,
            self.classes,
            self.gater_hidden,
            self.simd,
            self.dense_library
        );
        let _ = writeln!(
            out,
            "\nConditional layer (experts + gates + softmax layer), forward + backward, per minibatch:"
        );
        let rows: Vec<Vec<String>> = self
            .layer
            .iter()
            .map(|r| {
                vec![
                    format!("{:.0}%", 100.0 * r.firing_rate),
                    format!("{:.1}%", 100.0 * r.experts_used),
                    ms(r.dense_seconds),
                    ms(r.sparse_seconds),
                    format!("{:.2}×", r.speedup),
                    ms(r.floor_seconds),
                    format!("{:.2}×", r.speedup_cap),
                ]
            })
            .collect();
        out.push_str(&render(
            &[
                "firing",
                "experts used",
                "dense ms",
                "gated ms",
                "speedup",
                "floor ms",
                "cap",
            ],
            1,
            &rows,
        ));
        let _ = writeln!(
            out,
            "floor: one pass reading the used experts' weights and one writing their gradient, the \
             least memory traffic of the gated kernels; cap = dense / floor"
        );
        let _ = writeln!(
            out,
            "\nWays to organise the gated kernels at {:.0}% firing:",
            100.0 * self.layer_options.first().map_or(0.0, |o| o.firing_rate)
        );
        let rows: Vec<Vec<String>> = self
            .layer_options
            .iter()
            .map(|o| {
                vec![
                    o.name.clone(),
                    ms(o.dense_seconds),
                    ms(o.sparse_seconds),
                    format!("{:.2}×", o.speedup),
                ]
            })
            .collect();
        out.push_str(&render(
            &["option", "dense ms", "gated ms", "speedup"],
            1,
            &rows,
        ));
        let _ = writeln!(
            out,
            "\nTraining throughput (gated lanes start at the sparsity target; speedup vs the same \
             lane computing every expert):"
        );
        let rows: Vec<Vec<String>> = self
            .lanes
            .iter()
            .map(|l| {
                vec![
                    l.lane.clone(),
                    l.estimator.clone(),
                    format!("{:.1}%", 100.0 * l.firing_rate),
                    format!("{:.0}%", 100.0 * l.experts_used),
                    l.main_path.clone(),
                    format!("{:.0}", l.evaluations_per_step),
                    ms(l.seconds_per_step),
                    format!("{:.0}", l.examples_per_second),
                    ms(l.dense_seconds_per_step),
                    format!("{:.2}×", l.speedup),
                    format!("{:.2}×", l.ideal_speedup),
                ]
            })
            .collect();
        out.push_str(&render(
            &[
                "lane",
                "estimator",
                "firing",
                "experts used",
                "main path",
                "evals",
                "ms/step",
                "examples/s",
                "every expert ms",
                "speedup",
                "ideal",
            ],
            2,
            &rows,
        ));
        let k = &self.kernel;
        let _ = writeln!(out, "\nDense kernel ({}):", self.dense_library);
        let of_peak = |gflops: f64| {
            k.peak_gflops
                .map_or("—".to_string(), |p| format!("{:.0}%", 100.0 * gflops / p))
        };
        let of_square = |gflops: f64| format!("{:.0}%", 100.0 * gflops / k.square_gflops);
        let mut rows = vec![
            vec![
                format!("layer {} forward + ∂W", k.layer),
                k.shape.clone(),
                format!("{:.1}", k.layer_gflops),
                of_square(k.layer_gflops),
                of_peak(k.layer_gflops),
            ],
            vec![
                "plain product, same shapes".into(),
                k.shape.clone(),
                format!("{:.1}", k.plain_gflops),
                of_square(k.plain_gflops),
                of_peak(k.plain_gflops),
            ],
            vec![
                "plain square product".into(),
                format!("{0}×{0}×{0}", k.square),
                format!("{:.1}", k.square_gflops),
                "100%".into(),
                of_peak(k.square_gflops),
            ],
        ];
        if let Some(peak) = k.peak_gflops {
            rows.push(vec![
                "FMA peak (registers only)".into(),
                "—".into(),
                format!("{peak:.1}"),
                of_square(peak),
                "100%".into(),
            ]);
        }
        out.push_str(&render(
            &["product", "shape", "GFLOP/s", "of square", "of peak"],
            1,
            &rows,
        ));
        let _ = writeln!(
            out,
            "layer kernel / plain product of the same shapes: {:.0}%",
            100.0 * k.layer_gflops / k.plain_gflops
        );
        out
    }
}

/// An aligned table under a rule: the first `left` columns left-aligned, the others
/// right-aligned.
fn render(header: &[&str], left: usize, rows: &[Vec<String>]) -> String {
    crate::report::aligned(header, left, true, rows)
}
