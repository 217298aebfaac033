//! The race engine: lanes (one estimator training one copy of the network each) advancing in
//! parallel on rayon, the metrics they report, and the recorder that keeps their history.
//! Nothing here draws or prints: results leave as [`EngineEvent`]s over a channel.

pub mod checkpoint;
pub mod lane;
pub mod metrics;
pub mod race;
pub mod recorder;
pub mod series;
pub mod view;

pub use checkpoint::{LaneCheckpoint, LaneState, RaceCheckpoint};
pub use lane::{Evaluation, Lane, MainPathChoice, ProbeBuffers, StepStats};
pub use metrics::{ClassFiring, EvalPoint, HeatRow, LaneStatus, ProbePoint, StepPoint};
pub use race::{Command, EngineEvent, LaneInfo, Race, RaceHandle, RaceInfo};
pub use recorder::{LaneHistory, LaneSummary, RaceEvent, RaceEventKind, Recorder};
pub use series::{Downsampled, Prefix};
pub use view::{FIRING_WINDOW, LaneView, OffTarget, RaceView};
