//! The race engine: lanes (one estimator training one copy of the network each) advancing in
//! parallel on rayon, and the metrics they report (kept by [`crate::history`]).
//! Nothing here draws or prints: results leave as [`EngineEvent`]s over a channel.

pub mod checkpoint;
pub mod error;
pub mod lane;
pub mod metrics;
pub mod protocol;
pub mod race;
mod runner;
mod scheduler;
mod trajectory;
pub mod updater;

pub use crate::net::MainPathChoice;
pub use checkpoint::{LaneCheckpoint, LaneState, RaceCheckpoint};
pub use error::{RaceError, RestoreError};
pub use lane::{Evaluation, Lane, ProbeBuffers, ProbeReading, StepStats};
pub use metrics::{
    ClassFiring, EvalPoint, HeatRow, LaneStatus, ProbePoint, StepPoint, TrajectoryPoint,
};
pub use protocol::{Control, EngineEvent, LaneInfo, RaceInfo};
pub use race::{Race, RaceHandle};
pub use updater::Updater;
