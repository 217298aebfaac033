//! The typed form of an experiment file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::lane::{GaterReduction, LaneSettings};
use crate::estimators::EstimatorSpec;
use crate::net::NetConfig;
use crate::nn::Activation;

/// Where the digits come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DataSpec {
    /// The 10,000 MNIST digits compiled into the binary (8,000 train / 2,000 held-out).
    #[default]
    Embedded,
    /// A directory with the four standard IDX files (e.g. `/usr/share/datasets/fashion-mnist`).
    Directory(PathBuf),
}

/// How long the race runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Length {
    /// This many passes over the training set.
    Epochs(u64),
    /// This many minibatch steps.
    Steps(u64),
}

/// Settings shared by every lane unless a lane overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// Minibatch size (paper: 32).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Race length.
    pub length: Length,
    /// Learning rate of the main path (and of the gater, except for the unbiased estimator's
    /// paper default of 0.001). Paper: 0.1.
    #[serde(default = "default_lr")]
    pub learning_rate: f32,
    /// Max norm of incoming weight vectors (paper: 2).
    #[serde(default = "default_max_norm")]
    pub max_norm: Option<f32>,
    /// Target fraction of gates that fire (paper: 0.1).
    #[serde(default = "default_target")]
    pub sparsity_target: f32,
}

fn default_batch() -> usize {
    32
}
fn default_lr() -> f32 {
    0.1
}
fn default_max_norm() -> Option<f32> {
    Some(2.0)
}
fn default_target() -> f32 {
    0.1
}

/// How often the race measures what it records.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// Held-out evaluation every this many steps (0: only at the end).
    #[serde(default = "default_eval_every")]
    pub eval_every: u64,
    /// Estimator-variance probe every this many steps (0: never).
    #[serde(default = "default_probe_every")]
    pub probe_every: u64,
    /// Gate resamples K per probe.
    #[serde(default = "default_probe_samples")]
    pub probe_samples: usize,
    /// Examples in the fixed probe minibatch.
    #[serde(default = "default_probe_batch")]
    pub probe_batch: usize,
    /// A heat row (firing rate of every gate unit, averaged) every this many steps (0: no heat
    /// rows and no per-class firing).
    #[serde(default = "default_heat_every")]
    pub heat_every: u64,
    /// Steps each lane advances between two looks at the controls.
    #[serde(default = "default_chunk")]
    pub chunk_steps: u64,
}

// The defaults keep the metrics within about 5% of the training time (`cargo bench --bench
// race`): a held-out pass over 2,000 examples costs about 25 training steps, a probe with K = 8
// about 5.
fn default_eval_every() -> u64 {
    1000
}
fn default_probe_every() -> u64 {
    500
}
fn default_probe_samples() -> usize {
    8
}
fn default_probe_batch() -> usize {
    32
}
fn default_heat_every() -> u64 {
    25
}
fn default_chunk() -> u64 {
    10
}

impl Default for MetricsSpec {
    fn default() -> Self {
        MetricsSpec {
            eval_every: default_eval_every(),
            probe_every: default_probe_every(),
            probe_samples: default_probe_samples(),
            probe_batch: default_probe_batch(),
            heat_every: default_heat_every(),
            chunk_steps: default_chunk(),
        }
    }
}

/// One lane of the race: a name, an estimator and optional overrides of the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneSpec {
    /// Unique lane name (shown everywhere, and the seed label of the lane's gate noise).
    pub name: String,
    /// The estimator and its options.
    pub estimator: EstimatorSpec,
    /// Main-path learning rate.
    #[serde(default)]
    pub learning_rate: Option<f32>,
    /// Gater learning rate.
    #[serde(default)]
    pub gater_learning_rate: Option<f32>,
    /// Momentum.
    #[serde(default)]
    pub momentum: Option<f32>,
    /// Sparsity weight λ (initial λ for rectifiers).
    #[serde(default)]
    pub sparsity_weight: Option<f32>,
    /// Mean or sum over the minibatch for the gater's gradient.
    #[serde(default)]
    pub gater_reduction: Option<GaterReduction>,
    /// Expert non-linearity for this lane.
    #[serde(default)]
    pub expert_activation: Option<Activation>,
}

/// A whole experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Short name (used in session file names).
    pub name: String,
    /// One line saying what the experiment shows.
    #[serde(default)]
    pub description: String,
    /// The data set.
    #[serde(default)]
    pub data: DataSpec,
    /// Seed of every random stream of the race (the first seed when there are several).
    #[serde(default)]
    pub seed: u64,
    /// Seeds to run every lane with: a count (`seeds: 5`: `seed`, `seed` + 1, …) or a list
    /// (`seeds: [1, 2, 7]`); absent: `seed` alone.
    #[serde(default)]
    pub seeds: Option<Seeds>,
    /// Network sizes.
    pub network: NetConfig,
    /// Optimisation settings shared by the lanes.
    pub training: TrainingSpec,
    /// Measurement intervals.
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// The same-trajectory probe (none when absent).
    #[serde(default)]
    pub same_trajectory: Option<SameTrajectorySpec>,
    /// The lanes.
    pub lanes: Vec<LaneSpec>,
}

/// The seeds of a race (see [`Experiment::seeds`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    /// `seed`, `seed` + 1, … : this many.
    Count(usize),
    /// These seeds.
    List(Vec<u64>),
}

/// The same-trajectory probe: at every probe step (`metrics.probe_every`), every lane's
/// estimator is measured at the parameters of one reference lane — on the probe minibatch,
/// `metrics.probe_samples` estimates each — against a reference gradient estimated there, so
/// that lanes differ by their estimators alone, not by their trajectories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SameTrajectorySpec {
    /// The lane whose parameters every estimator is measured at (a lane with gates).
    pub reference_lane: String,
    /// Estimates of the reference gradient per probe point (DisARM, unbiased; two evaluations
    /// each).
    #[serde(default = "default_reference_samples")]
    pub reference_samples: usize,
}

fn default_reference_samples() -> usize {
    32
}

impl LaneSpec {
    /// A lane with no overrides.
    pub fn new(name: impl Into<String>, estimator: EstimatorSpec) -> Self {
        LaneSpec {
            name: name.into(),
            estimator,
            learning_rate: None,
            gater_learning_rate: None,
            momentum: None,
            sparsity_weight: None,
            gater_reduction: None,
            expert_activation: None,
        }
    }
}

impl Experiment {
    /// The seeds every lane runs with, in order: `seed` alone, `seed` to `seed` + n − 1 for a
    /// count, or the list.
    pub fn seed_list(&self) -> Vec<u64> {
        match &self.seeds {
            None => vec![self.seed],
            Some(Seeds::Count(n)) => (0..*n as u64).map(|k| self.seed.wrapping_add(k)).collect(),
            Some(Seeds::List(list)) => list.clone(),
        }
    }

    /// The runs of the race, in order: every lane for the first seed, then every lane for the
    /// next, …, as (seed, lane).
    pub fn runs(&self) -> impl Iterator<Item = (u64, &LaneSpec)> + '_ {
        self.seed_list()
            .into_iter()
            .flat_map(move |seed| self.lanes.iter().map(move |lane| (seed, lane)))
    }

    /// Keeps the lanes for which `keep` holds; the same-trajectory probe goes with its reference
    /// lane (returns true when it went).
    pub fn retain_lanes(&mut self, keep: impl Fn(&LaneSpec) -> bool) -> bool {
        self.lanes.retain(|l| keep(l));
        let orphan = self
            .same_trajectory
            .as_ref()
            .is_some_and(|t| !self.lanes.iter().any(|l| l.name == t.reference_lane));
        if orphan {
            self.same_trajectory = None;
        }
        orphan
    }

    /// The settings lane `spec` trains with: the paper's defaults for its family, the
    /// experiment's shared settings, then the lane's own overrides.
    pub fn lane_settings(&self, spec: &LaneSpec) -> LaneSettings {
        let mut s = LaneSettings::paper(spec.estimator);
        let t = &self.training;
        s.learning_rate = t.learning_rate;
        if !spec.estimator.family().has_own_gater_learning_rate() {
            s.gater_learning_rate = t.learning_rate;
        }
        s.max_norm = t.max_norm;
        s.sparsity_target = t.sparsity_target;
        s.expert_activation = self.network.expert_activation;
        if let Some(v) = spec.learning_rate {
            s.learning_rate = v;
        }
        if let Some(v) = spec.gater_learning_rate {
            s.gater_learning_rate = v;
        }
        if let Some(v) = spec.momentum {
            s.momentum = v;
        }
        if let Some(v) = spec.sparsity_weight {
            s.sparsity_weight = v;
        }
        if let Some(v) = spec.gater_reduction {
            s.gater_reduction = v;
        }
        if let Some(v) = spec.expert_activation {
            s.expert_activation = v;
        }
        s
    }

    /// Total number of steps for a training set of `train_len` examples.
    pub fn total_steps(&self, train_len: usize) -> u64 {
        match self.training.length {
            Length::Steps(n) => n,
            Length::Epochs(e) => e * (train_len / self.training.batch_size.max(1)).max(1) as u64,
        }
    }
}
