//! What a race has measured: the recorder that folds engine events into every lane's history,
//! the bounded series it keeps them in, and read-only views of it up to a step. The dashboard,
//! sessions and reports all read it; live and replayed races fill it alike.

pub mod merge;
pub mod recorder;
pub mod series;
pub mod view;

pub use merge::merge;
pub use recorder::{LaneEvent, LaneHistory, LaneSummary, RaceEvent, RaceEventKind, Recorder};
pub use series::{Downsampled, Merge, Prefix};
pub use view::{BlowUp, Budget, FIRING_WINDOW, LaneView, OffTarget, RaceView};
