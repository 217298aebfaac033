//! Small races for the session tests: a reduced network on part of the embedded digits, with
//! measurement intervals that do not divide each other (so heat rows, evaluations and probes are
//! caught half-accumulated by checkpoints).
#![allow(dead_code)]

use std::sync::Arc;

use gradrace::config::{Experiment, Length, MetricsSpec, builtin::resolve};
use gradrace::data::{DataSplit, embedded};
use gradrace::engine::{
    ClassFiring, EngineEvent, EvalPoint, HeatRow, ProbePoint, RaceCheckpoint, StepPoint,
    TrajectoryPoint,
};
use gradrace::history::{LaneHistory, Recorder};
use gradrace::session::{DataFingerprint, SessionContext};

/// The quick experiment's five lanes (straight-through, STS with momentum, noisy rectifier with
/// adaptive L1, unbiased with baselines, dense) on a 784 → 12 → 40 network, `steps` long.
pub fn experiment(steps: u64) -> Experiment {
    let mut e = resolve("quick").unwrap();
    e.network.gater_hidden = 12;
    e.network.experts = 40;
    e.training.length = Length::Steps(steps);
    e.metrics = MetricsSpec {
        eval_every: 20,
        probe_every: 15,
        probe_samples: 4,
        probe_batch: 16,
        heat_every: 7,
        chunk_steps: 8,
    };
    e
}

/// The zoo's lanes (every estimator, `experiments/zoo.ron`) on the network and intervals of
/// [`experiment`], `steps` long, with the binary Concrete's temperature on a schedule.
pub fn zoo_experiment(steps: u64) -> Experiment {
    let mut e = experiment(steps);
    let mut zoo = resolve("zoo").unwrap();
    for lane in &mut zoo.lanes {
        if let gradrace::estimators::EstimatorSpec::BinaryConcrete { temperature, .. } =
            &mut lane.estimator
        {
            *temperature = Some(gradrace::estimators::Temperature::Exponential {
                start: 1.0,
                rate: 0.01,
                floor: 0.5,
            });
        }
    }
    e.lanes = zoo.lanes;
    e
}

/// 1,500 training and 400 held-out digits of the embedded set.
pub fn data() -> Arc<DataSplit> {
    let all = embedded();
    let train: Vec<usize> = (0..1500).collect();
    let heldout: Vec<usize> = (0..400).collect();
    Arc::new(DataSplit {
        name: "embedded subset".into(),
        train: all.train.subset(&train, "embedded subset train"),
        heldout: all.heldout.subset(&heldout, "embedded subset held-out"),
    })
}

/// The session context of `e` on `data`.
pub fn context(e: &Experiment, data: &DataSplit) -> SessionContext {
    SessionContext {
        experiment: e.clone(),
        data: DataFingerprint::of(data),
        created: "2025-01-01T00:00:00Z".into(),
    }
}

/// Every metric series of every lane with the measured wall time (`seconds`) zeroed, the one
/// thing that is not reproducible.
pub type Metrics = (
    Vec<StepPoint>,
    Vec<EvalPoint>,
    Vec<ProbePoint>,
    Vec<HeatRow>,
    Option<ClassFiring>,
    (u64, u64, u64, u64),
    Vec<TrajectoryPoint>,
);

pub fn metrics(r: &Recorder) -> Vec<Metrics> {
    r.lanes
        .iter()
        .map(|h: &LaneHistory| {
            (
                h.steps
                    .iter()
                    .map(|p| StepPoint { seconds: 0.0, ..*p })
                    .collect(),
                h.evals.to_vec(),
                h.probes.to_vec(),
                h.heat.to_vec(),
                h.class_firing.clone(),
                (
                    h.steps.stride(),
                    h.steps.filled(),
                    h.heat.stride(),
                    h.heat.filled(),
                ),
                h.trajectory.to_vec(),
            )
        })
        .collect()
}

/// Asserts that two checkpoints hold bit-identical state.
pub fn assert_same_state(a: &RaceCheckpoint, b: &RaceCheckpoint) {
    assert_eq!(a.lanes.len(), b.lanes.len());
    for (x, y) in a.lanes.iter().zip(&b.lanes) {
        let bits = |s: &gradrace::engine::LaneState| -> Vec<u32> {
            let n = &s.net;
            [&n.gater_hidden, &n.gater_gates, &n.experts, &n.output]
                .iter()
                .flat_map(|l| l.w.iter().chain(l.b.iter()))
                .chain(
                    s.velocities
                        .iter()
                        .flatten()
                        .flat_map(|v| v.w.iter().chain(v.b.iter())),
                )
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(x.name, y.name);
        assert_eq!(x.state.velocities.is_some(), y.state.velocities.is_some());
        assert!(
            bits(&x.state) == bits(&y.state),
            "lane {}: parameters differ",
            x.name
        );
        assert_eq!(x.state.steps, y.state.steps, "lane {}", x.name);
        assert_eq!(x.state.rng, y.state.rng, "lane {}", x.name);
        assert_eq!(x.state.l1, y.state.l1, "lane {}", x.name);
        assert_eq!(x.state.baseline, y.state.baseline, "lane {}", x.name);
        assert_eq!(x.unit_fired, y.unit_fired, "lane {}", x.name);
        assert_eq!(x.heat_steps, y.heat_steps, "lane {}", x.name);
        assert_eq!(x.class_fired, y.class_fired, "lane {}", x.name);
        assert_eq!(x.class_seen, y.class_seen, "lane {}", x.name);
    }
}

/// Applies every event to `r`.
pub fn apply_all(r: &mut Recorder, events: Vec<EngineEvent>) {
    for e in events {
        r.apply(e);
    }
}
