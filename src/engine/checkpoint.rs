//! Checkpoints: the complete state of a race between two chunks, from which it continues exactly
//! as if it had never stopped.
//!
//! What a lane's future depends on: its parameters, the momentum velocities of its four layers
//! (when it trains with momentum: with μ = 0 the update v ← μv − ηg forgets v, see
//! [`LaneState::velocities`]),
//! the estimator's moving-average baselines, the adaptive L1 penalty's λ, the state of its gate
//! noise generator and its step count (the minibatch order is a function of the seed and the
//! global step; probes draw from per-step generators; evaluation is deterministic). What the race
//! keeps beside each lane: its status and the firing counters of the heat row and the per-class
//! snapshot being accumulated.

use std::fmt;

use crate::data::CLASSES;
use crate::estimators::BaselineState;
use crate::net::{AdaptiveL1, GatedNet};
use crate::nn::{Dense, DenseGrad};
use crate::seed::Rng;

use super::metrics::LaneStatus;

/// Names of the four layers, in the order of [`LaneState::velocities`] and of the parameters in a
/// checkpoint file.
pub const LAYERS: [&str; 4] = ["gater_hidden", "gater_gates", "experts", "output"];

/// The training state of one lane.
#[derive(Clone, PartialEq)]
pub struct LaneState {
    /// Parameters.
    pub net: GatedNet,
    /// Momentum velocities of the layers named in [`LAYERS`], in that order; None for a lane
    /// trained without momentum. With μ = 0 the next velocity is 0·v − ηg: the old velocity only
    /// decides the sign of a zero (and only where g = 0), and adding a zero of either sign leaves
    /// every weight unchanged since no weight is ever −0 (initial weights are drawn non-zero or
    /// +0, and x + y = −0 only when x = y = −0). So these lanes resume exactly without their
    /// velocities, and their checkpoints are half the size and take half the time to copy.
    pub velocities: Option<[DenseGrad; 4]>,
    /// The estimator's moving-average baselines (None for stateless estimators).
    pub baseline: Option<BaselineState>,
    /// The adaptive L1 penalty (rectifier lanes).
    pub l1: Option<AdaptiveL1>,
    /// The gate noise generator.
    pub rng: Rng,
    /// Training steps taken.
    pub steps: u64,
}

/// One lane of a race checkpoint: the lane's training state and what the race accumulates for it.
#[derive(Clone, PartialEq)]
pub struct LaneCheckpoint {
    /// Lane name (checked against the experiment on resume).
    pub name: String,
    /// The seed the lane runs with (checked likewise).
    pub seed: u64,
    /// Training state.
    pub state: LaneState,
    /// Status when the checkpoint was taken.
    pub status: LaneStatus,
    /// Per gate unit: examples in which it fired since the last heat row.
    pub unit_fired: Vec<u32>,
    /// Examples counted into `unit_fired`.
    pub heat_steps: u32,
    /// Per class and gate unit (row-major): examples in which the unit fired since the last
    /// per-class snapshot.
    pub class_fired: Vec<u32>,
    /// Per class: examples seen since the last per-class snapshot.
    pub class_seen: [u32; CLASSES],
}

/// The state of every lane of a race, taken between two chunks.
#[derive(Clone, PartialEq)]
pub struct RaceCheckpoint {
    /// One entry per lane, in the race's lane order.
    pub lanes: Vec<LaneCheckpoint>,
}

impl RaceCheckpoint {
    /// The furthest step any lane has reached.
    pub fn step(&self) -> u64 {
        self.lanes.iter().map(|l| l.state.steps).max().unwrap_or(0)
    }

    /// Number of `f32` values of parameters and velocities over all lanes.
    pub fn tensor_values(&self) -> usize {
        self.lanes
            .iter()
            .map(|l| {
                l.state.net.parameter_count()
                    + l.state.velocities.as_ref().map_or(0, |v| {
                        v.iter().map(|v| v.w.len() + v.b.len()).sum::<usize>()
                    })
            })
            .sum()
    }
}

// Printing megabytes of parameters helps nobody: a checkpoint shows its shape.
impl fmt::Debug for RaceCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceCheckpoint")
            .field("lanes", &self.lanes)
            .finish()
    }
}

impl fmt::Debug for LaneCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaneCheckpoint")
            .field("name", &self.name)
            .field("steps", &self.state.steps)
            .field("status", &self.status)
            .field("parameters", &self.state.net.parameter_count())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LaneState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaneState")
            .field("steps", &self.steps)
            .field("parameters", &self.net.parameter_count())
            .finish_non_exhaustive()
    }
}

/// Copies `src` into `dst`, reusing `dst`'s memory when the shapes agree.
pub fn copy_dense(dst: &mut Dense, src: &Dense) {
    if dst.w.dim() == src.w.dim() && dst.b.dim() == src.b.dim() {
        dst.w.assign(&src.w);
        dst.b.assign(&src.b);
    } else {
        *dst = src.clone();
    }
}

/// Copies `src` into `dst`, reusing `dst`'s memory when the shapes agree.
pub fn copy_grad(dst: &mut DenseGrad, src: &DenseGrad) {
    if dst.w.dim() == src.w.dim() && dst.b.dim() == src.b.dim() {
        dst.w.assign(&src.w);
        dst.b.assign(&src.b);
    } else {
        *dst = src.clone();
    }
}
