//! Training throughput of one lane: the lane as the engine runs it (gated kernels whenever the
//! gates are sparse enough) against the same lane computing every expert, stepping through the
//! same minibatches, interleaved.
//!
//! A freshly initialised gater fires about half its gates; a trained one fires at the sparsity
//! target. So that the measurement shows the trained regime without training for minutes, the
//! gate biases are first shifted by one common amount, found by bisection, so that the lane's
//! training-time gates fire at the target on the first minibatch. The firing rate measured while
//! timing is reported next to the times.

use ndarray::Array2;
use serde::Serialize;

use super::error::BenchError;
use super::timing::{Budget, interleaved};
use crate::config::{Experiment, LaneSettings, LaneSpec};
use crate::data::{CLASSES, DataSplit, MinibatchSchedule};
use crate::engine::{Lane, MainPathChoice, StepStats};
use crate::estimators::{GateGradient, GateSample};
use crate::net::GatedNet;
use crate::seed::{derive_seed, rng_for};

/// One lane's throughput.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaneResult {
    /// Lane name.
    pub lane: String,
    /// Estimator description.
    pub estimator: String,
    /// Shift added to every gate bias so that the lane starts at the sparsity target (0 when
    /// the gates cannot emit exact zeros).
    pub gate_bias_shift: f32,
    /// Mean fraction of gates exactly non-zero over the timed steps.
    pub firing_rate: f32,
    /// Mean fraction of the experts at least one example of the minibatch fired over the
    /// timed steps (1 for steps on the dense path): the gated kernels stream the weights of
    /// each of them, so at equal firing rates the lane whose gates concentrate on fewer
    /// experts moves less memory.
    pub experts_used: f32,
    /// Which main path the engine used: "gated", "gated, every expert forward", "dense" or a
    /// mix.
    pub main_path: String,
    /// Fraction of timed steps that used the gated kernels.
    pub gated_steps: f32,
    /// Main-path evaluations (forward passes) per step: the number of gate vectors the
    /// estimator draws.
    pub evaluations_per_step: f32,
    /// Seconds per training step as the engine runs the lane.
    pub seconds_per_step: f64,
    /// Examples per second as the engine runs the lane.
    pub examples_per_second: f64,
    /// Seconds per training step computing every expert.
    pub dense_seconds_per_step: f64,
    /// dense / engine seconds per step.
    pub speedup: f64,
    /// The same ratio in counted multiply-adds of the whole step (gater included).
    pub ideal_speedup: f64,
}

/// Fraction of the `batch` × units gates that `settings`' estimator fires on `net`'s first
/// gate pre-activations shifted by `shift`, with a fixed noise stream.
struct Calibration {
    gate_pre: Array2<f32>,
    shifted: Array2<f32>,
    draws: Vec<GateSample>,
    seed: u64,
}

impl Calibration {
    fn new(net: &GatedNet, x: ndarray::ArrayView2<f32>, seed: u64) -> Self {
        let mut acts = net.activations(x.nrows());
        net.forward_gater(x, &mut acts);
        let gate_pre = acts.gate_pre;
        Calibration {
            shifted: gate_pre.clone(),
            draws: Vec::new(),
            gate_pre,
            seed,
        }
    }

    fn rate(&mut self, settings: &LaneSettings, shift: f32) -> f32 {
        let estimator = settings.estimator.build();
        self.shifted.assign(&self.gate_pre);
        self.shifted.mapv_inplace(|a| a + shift);
        let mut rng = rng_for(self.seed, "bench/calibrate");
        let (batch, units) = self.shifted.dim();
        self.draws
            .resize_with(estimator.draws(), || GateSample::zeros(batch, units));
        estimator.sample(self.shifted.view(), &mut rng, &mut self.draws);
        self.draws[0].firing_rate()
    }

    /// The shift that makes the firing rate `target` (bisection; common random numbers make the
    /// rate monotone in the shift), or 0 when no shift in ±30 reaches it.
    fn shift_for(&mut self, settings: &LaneSettings, target: f32) -> f32 {
        let (mut lo, mut hi) = (-30.0f32, 30.0f32);
        if !settings.estimator.build().is_gated()
            || self.rate(settings, lo) > target
            || self.rate(settings, hi) < target
        {
            return 0.0;
        }
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if self.rate(settings, mid) > target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }
}

/// Measures lane `spec` of `experiment` on `data`.
pub fn measure(
    experiment: &Experiment,
    spec: &LaneSpec,
    data: &DataSplit,
    budget: Budget,
) -> Result<LaneResult, BenchError> {
    let batch = experiment.training.batch_size;
    let seed = experiment.seed;
    let inputs = data.train.input_dim();
    let mut net = GatedNet::init(
        inputs,
        CLASSES,
        &experiment.network,
        &mut rng_for(seed, "init"),
    );
    let settings = experiment.lane_settings(spec);
    let mut schedule =
        MinibatchSchedule::new(data.train.len(), batch, derive_seed(seed, "minibatches"));
    let steps = (budget.rounds + 1) * budget.reps.max(1);
    let batches: Vec<(Array2<f32>, Vec<u8>)> = (0..steps as u64)
        .map(|step| {
            let mut x = crate::nn::aligned::aligned_zeros(batch, inputs, false);
            let mut y = Vec::with_capacity(batch);
            data.train
                .gather_into(schedule.batch_at(step), &mut x, &mut y);
            (x, y)
        })
        .collect();

    let shift = Calibration::new(&net, batches[0].0.view(), seed)
        .shift_for(&settings, settings.sparsity_target);
    net.gater_gates.b.mapv_inplace(|b| b + shift);
    let units = net.units();
    let lane_rng = rng_for(seed, &format!("lane/{}", spec.name));
    let mut engine = Lane::new(net.clone(), settings, lane_rng.clone());
    let mut dense = Lane::new(net, settings, lane_rng);
    dense.set_main_path(MainPathChoice::Dense);
    let estimator = engine.estimator().describe();

    let mut stats: Vec<StepStats> = Vec::with_capacity(steps);
    let (mut next_engine, mut next_dense) = (0usize, 0usize);
    let mut run_engine = || {
        let (x, y) = &batches[next_engine % batches.len()];
        next_engine += 1;
        stats.push(engine.train_step(x.view(), y));
    };
    let mut run_dense = || {
        let (x, y) = &batches[next_dense % batches.len()];
        next_dense += 1;
        dense.train_step(x.view(), y);
    };
    let [engine_s, dense_s] = interleaved(budget, &mut [&mut run_engine, &mut run_dense]);

    // The timed steps are those after the warm-up round.
    let timed = &stats[budget.reps.max(1).min(stats.len())..];
    if timed.is_empty() || timed.iter().any(|s| !s.cross_entropy.is_finite()) {
        return Err(BenchError::Diverged {
            lane: spec.name.clone(),
        });
    }
    let n = timed.len() as f64;
    let firing_rate = (timed.iter().map(|s| s.firing_rate as f64).sum::<f64>() / n) as f32;
    let gated_steps = (timed.iter().filter(|s| s.gated_kernels).count() as f64 / n) as f32;
    let units = units.max(1) as f64;
    let experts_used =
        (timed.iter().map(|s| s.experts_used as f64).sum::<f64>() / (n * units)) as f32;
    let dense_macs: f64 = timed
        .iter()
        .map(|s| (s.dense_main_macs + s.gater_macs) as f64)
        .sum();
    let done_macs: f64 = timed
        .iter()
        .map(|s| (s.active_main_macs + s.gater_macs) as f64)
        .sum();
    let everywhere = engine_estimator(&settings).reads() == GateGradient::Everywhere;
    let main_path = if gated_steps == 1.0 {
        if everywhere {
            "gated, every expert forward".to_string()
        } else {
            "gated".to_string()
        }
    } else if gated_steps == 0.0 {
        "dense".to_string()
    } else {
        format!("{:.0}% gated", 100.0 * gated_steps)
    };
    Ok(LaneResult {
        lane: spec.name.clone(),
        estimator,
        gate_bias_shift: shift,
        firing_rate,
        experts_used,
        main_path,
        gated_steps,
        evaluations_per_step: (timed.iter().map(|s| f64::from(s.evaluations)).sum::<f64>() / n)
            as f32,
        seconds_per_step: engine_s,
        examples_per_second: batch as f64 / engine_s,
        dense_seconds_per_step: dense_s,
        speedup: dense_s / engine_s,
        ideal_speedup: dense_macs / done_macs.max(1.0),
    })
}

fn engine_estimator(settings: &LaneSettings) -> Box<dyn crate::estimators::GateEstimator> {
    settings.estimator.build()
}
