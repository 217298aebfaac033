//! What the engine and its consumers say to each other: the race's and the lanes' identity,
//! the controls a running race obeys, and the events it reports. The dashboard, the headless
//! runner, the session writer and the recorder all speak this protocol and nothing else.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::checkpoint::RaceCheckpoint;
use super::metrics::{
    ClassFiring, EvalPoint, HeatRow, LaneStatus, ProbePoint, StepPoint, TrajectoryPoint,
};
use crate::config::LaneSettings;
use crate::estimators::Family;

/// What the race is, for every consumer (dashboard, headless, sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceInfo {
    /// Experiment name.
    pub experiment: String,
    /// Experiment description.
    pub description: String,
    /// Data set name.
    pub data: String,
    /// Training examples.
    pub train_examples: usize,
    /// Held-out examples.
    pub heldout_examples: usize,
    /// Input dimension.
    pub input_dim: usize,
    /// Gater hidden units.
    pub gater_hidden: usize,
    /// Experts (= gates).
    pub experts: usize,
    /// Classes.
    pub classes: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Planned steps.
    pub total_steps: u64,
    /// Steps per epoch.
    pub steps_per_epoch: u64,
    /// Seed (the first, when the lanes run with several).
    pub seed: u64,
    /// Every seed the lanes run with, in order (empty in sessions written before races had
    /// several seeds: `seed` alone).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Target firing rate.
    pub sparsity_target: f32,
    /// The lane whose parameters the same-trajectory probe measures every estimator at.
    #[serde(default)]
    pub reference_lane: Option<String>,
}

/// One lane's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneInfo {
    /// Lane name.
    pub name: String,
    /// Estimator description, e.g. "straight-through (identity)".
    pub estimator: String,
    /// Estimator family.
    pub family: Family,
    /// The settings it trains with.
    pub settings: LaneSettings,
    /// The seed it runs with (None in sessions written before races had several seeds: the
    /// race's seed).
    #[serde(default)]
    pub seed: Option<u64>,
}

impl LaneInfo {
    /// The seed the lane runs with, `race_seed` when the lane does not say.
    pub fn seed_or(&self, race_seed: u64) -> u64 {
        self.seed.unwrap_or(race_seed)
    }
}

/// A control sent to a running race.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Control {
    /// Stop advancing until `Resume` or `Step`.
    Pause,
    /// Continue.
    Resume,
    /// Advance every lane by exactly one step, then stay paused.
    Step,
    /// End every lane now.
    Stop,
    /// Limit the race to this many steps per second (None: as fast as possible).
    SetPace(Option<f64>),
    /// Take a checkpoint between two chunks and send it as [`EngineEvent::Checkpoint`] with this
    /// request number (also while paused). Events are ordered, so a consumer that has applied
    /// every event before the checkpoint holds exactly the history that goes with it.
    Checkpoint(u64),
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The race begins.
    Started {
        /// The race.
        info: RaceInfo,
        /// The lanes, in order.
        lanes: Vec<LaneInfo>,
    },
    /// Training metrics of consecutive steps of one lane.
    Steps {
        /// Lane index.
        lane: usize,
        /// One point per step.
        points: Vec<StepPoint>,
    },
    /// A held-out evaluation.
    Eval {
        /// Lane index.
        lane: usize,
        /// The result.
        point: EvalPoint,
    },
    /// An estimator-variance probe.
    Probe {
        /// Lane index.
        lane: usize,
        /// The result.
        point: ProbePoint,
    },
    /// A same-trajectory probe: the lane's estimator at the reference lane's parameters.
    Trajectory {
        /// Lane index.
        lane: usize,
        /// The result.
        point: TrajectoryPoint,
    },
    /// Per-unit firing rates over the last window.
    Heat {
        /// Lane index.
        lane: usize,
        /// The row.
        row: HeatRow,
    },
    /// Per-class firing rates since the previous snapshot.
    ClassFiring {
        /// Lane index.
        lane: usize,
        /// The snapshot.
        snapshot: ClassFiring,
    },
    /// A lane changed status (diverged, stopped, done).
    Status {
        /// Lane index.
        lane: usize,
        /// New status.
        status: LaneStatus,
    },
    /// The race was paused (true) or resumed (false).
    Paused(bool),
    /// Every lane has ended.
    Finished,
    /// The race continues from a checkpoint (sent instead of `Started`): consumers keep the
    /// history they loaded with the checkpoint and append to it.
    Resumed {
        /// The race (its planned length may differ from the checkpointed one).
        info: RaceInfo,
        /// The lanes, in order.
        lanes: Vec<LaneInfo>,
    },
    /// The complete state of the race after every event sent before this one.
    Checkpoint {
        /// The number of the [`Control::Checkpoint`] that asked for it; `None` for the
        /// checkpoint sent after `Finished` when [`Race::set_final_checkpoint`](super::Race::set_final_checkpoint) is on.
        request: Option<u64>,
        /// The state.
        checkpoint: Arc<RaceCheckpoint>,
    },
}
