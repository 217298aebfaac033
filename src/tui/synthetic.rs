//! A deterministic synthetic race history built from fixed formulas (no training): the
//! "fixed recorded history" the panel tests and the rendering benchmark draw. Every number is a
//! function of (lane, step), so a test can say where a value must appear.

use crate::config::LaneSettings;
use crate::engine::{
    ClassFiring, EngineEvent, EvalPoint, HeatRow, LaneInfo, LaneStatus, ProbePoint, RaceInfo,
    StepPoint, TrajectoryPoint,
};
use crate::estimators::EstimatorSpec;
use crate::history::Recorder;

/// Steps between heat rows.
pub const HEAT_EVERY: u64 = 10;
/// Steps between variance probes.
pub const PROBE_EVERY: u64 = 100;
/// Steps between held-out evaluations.
pub const EVAL_EVERY: u64 = 250;

/// Lane names and estimators, cycled (twelve distinct ones).
const LANES: [(&str, &str); 12] = [
    ("straight-through", "straight-through (identity)"),
    ("sts", "stochastic times smooth (√p)"),
    ("noisy-rectifier", "noisy rectifier (gaussian σ=1)"),
    ("unbiased", "unbiased (optimal per-unit baseline)"),
    ("dense", "dense (no gates)"),
    ("sigmoid", "deterministic sigmoid"),
    ("sigmoid-noise", "sigmoid + gaussian noise"),
    ("rectifier", "rectifier (no noise)"),
    ("st-sigmoid", "straight-through (σ')"),
    ("sts-p", "stochastic times smooth (p)"),
    ("unbiased-mean", "unbiased (mean baseline)"),
    ("unbiased-none", "unbiased (no baseline)"),
];

fn spec(index: usize) -> EstimatorSpec {
    match index % LANES.len() {
        0 | 8 => EstimatorSpec::StraightThrough {
            variant: Default::default(),
        },
        1 | 9 => EstimatorSpec::StochasticTimesSmooth {
            bernoulli: Default::default(),
            beta_noise: None,
        },
        2 | 7 => EstimatorSpec::NoisyRectifier {
            noise: Default::default(),
        },
        4 => EstimatorSpec::Dense,
        5 | 6 => EstimatorSpec::Sigmoid { noise_std: 0.0 },
        _ => EstimatorSpec::Unbiased {
            baseline: Default::default(),
        },
    }
}

/// The name of synthetic lane `index` (a suffix tells repeated names apart).
pub fn lane_name(index: usize) -> String {
    let base = LANES[index % LANES.len()].0;
    match index / LANES.len() {
        0 => base.to_string(),
        k => format!("{base}-{}", k + 1),
    }
}

/// A reproducible value in [0, 1) from two integers (a hash, for noise).
fn jitter(a: u64, b: u64) -> f64 {
    let mut x = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The same-trajectory probe of lane `lane` at `step` against a reference gradient of norm 1:
/// relative bias 10^(−1.5 + 0.2·lane − step/4000) (standard error a tenth of it), noise
/// √tr Σ / ‖g‖ = 10^(0.5 − 0.3·lane + step/4000), the bias orthogonal to g (cosine
/// 1/√(1 + bias²)), signal 1.
pub fn trajectory(lane: usize, step: u64) -> TrajectoryPoint {
    let bias = 10f64.powf(-1.5 + 0.2 * lane as f64 - step as f64 / 4000.0);
    let noise = 10f64.powf(0.5 - 0.3 * lane as f64 + step as f64 / 4000.0);
    TrajectoryPoint {
        step,
        count: 1,
        cosine: 1.0 / (1.0 + bias * bias).sqrt(),
        relative_bias: bias,
        relative_bias_se: bias / 10.0,
        total_variance: noise * noise,
        signal: 1.0,
        reference_norm: 1.0,
    }
}

/// Training loss of lane `lane` at `step`: 2.3·e^(−step/τ) + floor, τ and floor by lane, with
/// ±10% noise.
pub fn loss(lane: usize, step: u64) -> f32 {
    let tau = 300.0 + 150.0 * lane as f64;
    let floor = 0.05 + 0.03 * lane as f64;
    let clean = 2.3 * (-(step as f64) / tau).exp() + floor;
    (clean * (0.9 + 0.2 * jitter(lane as u64, step))) as f32
}

/// Held-out error of lane `lane` at `step`.
pub fn error(lane: usize, step: u64) -> f32 {
    (0.9 * (-(step as f64) / (400.0 + 100.0 * lane as f64)).exp() + 0.02 + 0.01 * lane as f64)
        as f32
}

/// Firing rate of gate unit `unit` of lane `lane` at `step`: units with a low index fire more.
pub fn unit_rate(lane: usize, unit: usize, units: usize, step: u64) -> f64 {
    let base = 1.0 - unit as f64 / units.max(1) as f64;
    let sharpen = 1.0 + step as f64 / 500.0 + lane as f64 * 0.1;
    base.powf(sharpen)
}

/// The events of a race of `lanes` lanes over `steps` steps with `units` gates, as the engine
/// would send them (every lane runs to the end; lane 4 is the dense reference lane).
pub fn events(lanes: usize, steps: u64, units: usize) -> Vec<EngineEvent> {
    seeded_events(lanes, 1, steps, units)
}

/// [`events`] with every lane run once per seed (seeds 1, 2, …; runs seed by seed, as the engine
/// orders them): seed k's training loss and held-out error are seed 1's times 1 + 0.1·(k − 1).
pub fn seeded_events(lanes: usize, seeds: usize, steps: u64, units: usize) -> Vec<EngineEvent> {
    let seeds = seeds.max(1);
    let info = RaceInfo {
        experiment: "synthetic".into(),
        description: "formulas, not training".into(),
        data: "digits".into(),
        train_examples: 8000,
        heldout_examples: 2000,
        input_dim: 784,
        gater_hidden: 200,
        experts: units,
        classes: 10,
        batch_size: 32,
        total_steps: steps,
        steps_per_epoch: 250,
        seed: 1,
        seeds: (1..=seeds as u64).collect(),
        sparsity_target: 0.1,
        reference_lane: (lanes > 0).then(|| lane_name(0)),
    };
    let infos = (0..seeds * lanes)
        .map(|run| {
            let i = run % lanes;
            let spec = spec(i);
            LaneInfo {
                name: lane_name(i),
                estimator: LANES[i % LANES.len()].1.to_string(),
                family: spec.family(),
                settings: LaneSettings::paper(spec),
                seed: Some((run / lanes) as u64 + 1),
            }
        })
        .collect();
    let mut out = vec![EngineEvent::Started { info, lanes: infos }];
    for run in 0..seeds * lanes {
        let lane = run % lanes;
        let by_seed = 1.0 + 0.1 * (run / lanes) as f32;
        let loss = |lane, step| by_seed * loss(lane, step);
        let error = |lane, step| by_seed * error(lane, step);
        let dense = spec(lane) == EstimatorSpec::Dense;
        let points = (1..=steps)
            .map(|step| {
                let firing = if dense { 1.0 } else { 0.1 + 0.02 * lane as f32 };
                StepPoint {
                    step,
                    count: 1,
                    cross_entropy: loss(lane, step),
                    sparsity_penalty: 0.01,
                    accuracy: 1.0 - error(lane, step),
                    firing_rate: firing,
                    sparsity_weight: 0.1,
                    dense_main_macs: 32.0 * 784.0 * units as f64,
                    active_main_macs: 32.0 * 784.0 * units as f64 * firing as f64,
                    gater_macs: if dense {
                        0.0
                    } else {
                        32.0 * (784.0 * 200.0 + 200.0 * units as f64)
                    },
                    seconds: 0.001 * (1.0 + lane as f32),
                    evaluations: 1.0,
                    backward_passes: 1.0,
                }
            })
            .collect();
        out.push(EngineEvent::Steps { lane: run, points });
        for step in 1..=steps {
            if step % HEAT_EVERY == 0 || step == steps {
                let rates = (0..units)
                    .map(|u| (255.0 * unit_rate(lane, u, units, step)).round() as u8)
                    .collect();
                out.push(EngineEvent::Heat {
                    lane: run,
                    row: HeatRow {
                        step,
                        count: 1,
                        rates,
                    },
                });
            }
            if step % PROBE_EVERY == 0 && !dense {
                let variance = 10f64.powf(-2.0 - lane as f64 * 0.5 - step as f64 / 2000.0);
                out.push(EngineEvent::Probe {
                    lane: run,
                    point: ProbePoint {
                        step,
                        count: 1,
                        variance,
                        signal: variance * (1.0 + lane as f64),
                        variance_se: 0.2 * variance,
                    },
                });
                out.push(EngineEvent::Trajectory {
                    lane: run,
                    point: trajectory(lane, step),
                });
            }
            if step % EVAL_EVERY == 0 || step == steps {
                out.push(EngineEvent::Eval {
                    lane: run,
                    point: EvalPoint {
                        step,
                        count: 1,
                        loss: loss(lane, step),
                        error: error(lane, step),
                        firing_rate: 0.1,
                    },
                });
                let rates = (0..10 * units)
                    .map(|k| {
                        let (class, unit) = (k / units, k % units);
                        // Each class lights up its own tenth of the units.
                        let own = unit * 10 / units.max(1) == class;
                        if own { 230 } else { 10 }
                    })
                    .collect();
                out.push(EngineEvent::ClassFiring {
                    lane: run,
                    snapshot: ClassFiring {
                        step,
                        classes: 10,
                        units,
                        rates,
                    },
                });
            }
        }
        out.push(EngineEvent::Status {
            lane: run,
            status: LaneStatus::Done,
        });
    }
    out.push(EngineEvent::Finished);
    out
}

/// A finished synthetic race of `lanes` lanes, each run with `seeds` seeds (64 gate units).
pub fn seeded(lanes: usize, seeds: usize, steps: u64) -> Recorder {
    let mut r = Recorder::new();
    for e in seeded_events(lanes, seeds, steps, 64) {
        r.apply(e);
    }
    r
}

/// The recorder after [`events`]`(lanes, steps, units)`.
pub fn race(lanes: usize, steps: u64, units: usize) -> Recorder {
    let mut r = Recorder::new();
    for e in events(lanes, steps, units) {
        r.apply(e);
    }
    r
}

/// Makes lane `lane` of `recorder` run away: its training loss is `loss` from step `from` on
/// (and its held-out error 90%), finite — as a lane held there by the max-norm constraint.
pub fn run_away(recorder: &mut Recorder, lane: usize, from: u64, loss: f32) {
    let h = &mut recorder.lanes[lane];
    let mut steps = crate::history::Downsampled::new(h.steps.capacity());
    for p in h.steps.iter() {
        let mut p = *p;
        if p.step >= from {
            p.cross_entropy = loss;
        }
        steps.push(p);
    }
    h.steps = steps;
    let mut evals = crate::history::Downsampled::new(h.evals.capacity());
    for e in h.evals.iter() {
        let mut e = *e;
        if e.step >= from {
            e.error = 0.9;
            e.loss = loss;
        }
        evals.push(e);
    }
    h.evals = evals;
}

/// A finished synthetic race with 64 gate units.
pub fn recorder(lanes: usize, steps: u64) -> Recorder {
    race(lanes, steps, 64)
}
