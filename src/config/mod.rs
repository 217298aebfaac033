//! Experiment definitions: the RON files in `experiments/`, their validation with positioned
//! errors, and the resolved settings each lane trains with.

pub mod builtin;
pub mod experiment;
pub mod lane;
pub mod load;

pub use experiment::{
    DataSpec, Experiment, LaneSpec, Length, MetricsSpec, SameTrajectorySpec, Seeds, TrainingSpec,
};
pub use lane::{GaterReduction, LaneSettings};
pub use load::{ConfigError, InvalidSetting, parse_experiment, validate_experiment};
