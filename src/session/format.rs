//! The session file format, version 2: the RON document's types and their conversion from and to
//! the recorder and the checkpoint.
//!
//! Each metric series is stored column by column (one [`Column`] per field) together with the
//! state of its downsampling (`capacity`, `stride`, `filled`), so that a loaded history continues
//! exactly as the original would have. Consistency checks that concern one value (a column, a
//! series, a snapshot) run while the document is parsed, so their errors carry the line and
//! column; checks across parts of the document run after parsing and name the part.

use serde::de::{self, Deserializer};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

use super::column::Column;
use super::error::{DataMismatch, RecordError};
use crate::config::Experiment;
use crate::data::DataSplit;
use crate::engine::metrics::{eval_metrics, probe_metrics, step_metrics, trajectory_metrics};
use crate::engine::{
    ClassFiring, EvalPoint, HeatRow, LaneInfo, LaneStatus, ProbePoint, RaceInfo, StepPoint,
    TrajectoryPoint,
};
use crate::estimators::BaselineState;
use crate::history::recorder::LaneEvent;
use crate::history::series::Merge;
use crate::history::{Downsampled, LaneHistory, LaneSummary, RaceEvent};
use crate::net::AdaptiveL1;
use crate::nn::Activation;
use crate::seed::Rng;

/// The format version this gradrace writes.
pub const FORMAT: u32 = 2;

/// Name of the document's top-level struct (also how a session file is recognised).
pub const DOCUMENT: &str = "GradraceSession";

/// The data set a race trained on, to tell whether another copy is the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFingerprint {
    /// Name of the split.
    pub name: String,
    /// Pixels per example.
    pub input_dim: usize,
    /// The training set.
    pub train: SetFingerprint,
    /// The held-out set.
    pub heldout: SetFingerprint,
}

/// Size and content hash of one data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFingerprint {
    /// Number of examples.
    pub examples: usize,
    /// `Dataset::fingerprint()` (FNV-1a 64 of sizes, grey levels and labels).
    pub fnv1a: u64,
}

impl DataFingerprint {
    /// The fingerprint of `split`.
    pub fn of(split: &DataSplit) -> Self {
        DataFingerprint {
            name: split.name.clone(),
            input_dim: split.train.input_dim(),
            train: SetFingerprint {
                examples: split.train.len(),
                fnv1a: split.train.fingerprint(),
            },
            heldout: SetFingerprint {
                examples: split.heldout.len(),
                fnv1a: split.heldout.fingerprint(),
            },
        }
    }

    /// Ok when `other` has the same content (names may differ), else what differs.
    pub fn check_same(&self, other: &DataFingerprint) -> Result<(), DataMismatch> {
        for (part, a, b) in [
            ("training", self.train, other.train),
            ("held-out", self.heldout, other.heldout),
        ] {
            if a.examples != b.examples {
                return Err(DataMismatch::Examples {
                    part,
                    now: b.examples,
                    then: a.examples,
                });
            }
            if a.fnv1a != b.fnv1a {
                return Err(DataMismatch::Content {
                    part,
                    now: b.fnv1a,
                    then: a.fnv1a,
                });
            }
        }
        Ok(())
    }
}

/// A point type stored column by column.
pub trait PointColumns: Sized {
    /// The point.
    type Point: Merge;
    /// The columns of `points`.
    fn from_points(points: &[&Self::Point]) -> Result<Self, RecordError>;
    /// The points, or which columns disagree.
    fn into_points(self) -> Result<Vec<Self::Point>, RecordError>;
    /// Raw points merged into `p`.
    fn count(p: &Self::Point) -> u32;
    /// The step of `p`.
    fn step(p: &Self::Point) -> u64;
    /// What the engine promises of the values of `p` that `p` breaks: (column, value, promise).
    fn broken_promise(p: &Self::Point) -> Option<(&'static str, f64, Promise)>;
}

/// What the engine promises of a metric's values, checked when a session is read so that a
/// damaged or edited history is refused instead of shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    /// A finite number (a step whose loss is not finite marks its lane diverged and is not
    /// recorded).
    Finite,
    /// A fraction, in [0, 1].
    Fraction,
    /// A finite count or measurement, ≥ 0.
    NonNegative,
}

impl Promise {
    /// True when `v` keeps the promise.
    pub fn kept(self, v: f64) -> bool {
        match self {
            Promise::Finite => v.is_finite(),
            Promise::Fraction => (0.0..=1.0).contains(&v),
            Promise::NonNegative => v.is_finite() && v >= 0.0,
        }
    }
}

impl std::fmt::Display for Promise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Promise::Finite => "finite",
            Promise::Fraction => "a fraction in [0, 1]",
            Promise::NonNegative => "finite and ≥ 0",
        })
    }
}

/// The promises of a point type's metrics, by column name (metrics without a promise may take
/// any value, NaN included: a diverging lane's held-out loss or variance, say).
pub trait Promises {
    /// The promise of column `name`, if any.
    fn promise(name: &str) -> Option<Promise>;
}

impl Promises for StepPoint {
    fn promise(name: &str) -> Option<Promise> {
        match name {
            "cross_entropy" => Some(Promise::Finite),
            "accuracy" | "firing_rate" => Some(Promise::Fraction),
            "sparsity_weight" | "dense_main_macs" | "active_main_macs" | "gater_macs"
            | "seconds" | "evaluations" | "backward_passes" => Some(Promise::NonNegative),
            _ => None,
        }
    }
}

impl Promises for EvalPoint {
    fn promise(name: &str) -> Option<Promise> {
        match name {
            "error" | "firing_rate" => Some(Promise::Fraction),
            _ => None,
        }
    }
}

impl Promises for ProbePoint {
    fn promise(_: &str) -> Option<Promise> {
        None
    }
}

/// Nothing is promised: a diverged lane's estimates, or a reference gradient of norm 0, give
/// NaN.
impl Promises for TrajectoryPoint {
    fn promise(_: &str) -> Option<Promise> {
        None
    }
}

/// The length shared by columns of (name, length), or the first column that differs.
fn same_lengths(lengths: &[(&'static str, usize)]) -> Result<usize, RecordError> {
    let n = lengths.first().map_or(0, |l| l.1);
    match lengths.iter().find(|l| l.1 != n) {
        Some(&(column, len)) => Err(RecordError::ColumnLengths {
            column,
            len,
            first: lengths[0].0,
            first_len: n,
        }),
        None => Ok(n),
    }
}

/// The session columns of a point type declared in [`crate::engine::metrics`]: `step` and
/// `count`, then one column per declared metric. A metric declared with an `older` value may be
/// missing (or empty) in files written before it existed: every loaded point then takes that
/// value.
macro_rules! point_columns {
    (
        $(#[$doc:meta])*
        $point:ident / $columns:ident {
            $(
                $(#[$fdoc:meta])*
                $field:ident: $t:ty => $merge:ident, $label:literal, $unit:literal
                $(, older: $older:expr)?;
            )*
        }
    ) => {
        #[doc = concat!("One column per field of [`", stringify!($point), "`].")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $columns {
            /// The step of each point.
            pub step: Column<u64>,
            /// Raw points merged into each point.
            pub count: Column<u32>,
            $(
                $(#[$fdoc])*
                #[serde(default)]
                pub $field: Column<$t>,
            )*
        }

        impl PointColumns for $columns {
            type Point = $point;

            fn from_points(points: &[&$point]) -> Result<Self, RecordError> {
                Ok($columns {
                    step: Column(points.iter().map(|p| p.step).collect()),
                    count: Column(points.iter().map(|p| p.count).collect()),
                    $($field: Column(points.iter().map(|p| p.$field).collect()),)*
                })
            }

            fn into_points(self) -> Result<Vec<$point>, RecordError> {
                let $columns { step, count, $($field),* } = self;
                let n = step.0.len();
                $(
                    let older: Option<$t> = None $(.or(Some($older)))?;
                    let $field: Vec<$t> = match older {
                        Some(v) if $field.0.is_empty() => vec![v; n],
                        _ => $field.0,
                    };
                )*
                same_lengths(&[
                    ("step", n),
                    ("count", count.0.len()),
                    $((stringify!($field), $field.len()),)*
                ])?;
                Ok((0..n)
                    .map(|i| $point {
                        step: step.0[i],
                        count: count.0[i],
                        $($field: $field[i],)*
                    })
                    .collect())
            }

            fn count(p: &$point) -> u32 {
                p.count
            }

            fn step(p: &$point) -> u64 {
                p.step
            }

            fn broken_promise(p: &$point) -> Option<(&'static str, f64, Promise)> {
                $(
                    if let Some(promise) = <$point as Promises>::promise(stringify!($field))
                        && !promise.kept(p.$field as f64)
                    {
                        return Some((stringify!($field), p.$field as f64, promise));
                    }
                )*
                None
            }
        }
    };
}

step_metrics!(point_columns);
eval_metrics!(point_columns);
probe_metrics!(point_columns);
trajectory_metrics!(point_columns);

/// Heat rows: steps, counts, and every row's `units` firing rates one after the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatColumns {
    /// Last step of each row's window.
    pub step: Column<u64>,
    /// Raw rows merged into each row.
    pub count: Column<u32>,
    /// Gate units per row.
    pub units: usize,
    /// rows × units firing rates, round(255 × rate), row after row.
    pub rates: Column<u8>,
}

impl PointColumns for HeatColumns {
    type Point = HeatRow;

    fn from_points(points: &[&HeatRow]) -> Result<Self, RecordError> {
        let units = points.first().map_or(0, |r| r.rates.len());
        if let Some(r) = points.iter().find(|r| r.rates.len() != units) {
            return Err(RecordError::HeatWidths {
                width: r.rates.len(),
                units,
            });
        }
        Ok(HeatColumns {
            step: Column(points.iter().map(|r| r.step).collect()),
            count: Column(points.iter().map(|r| r.count).collect()),
            units,
            rates: Column(
                points
                    .iter()
                    .flat_map(|r| r.rates.iter().copied())
                    .collect(),
            ),
        })
    }

    fn into_points(self) -> Result<Vec<HeatRow>, RecordError> {
        let n = same_lengths(&[("step", self.step.0.len()), ("count", self.count.0.len())])?;
        if n.checked_mul(self.units) != Some(self.rates.0.len()) {
            return Err(RecordError::HeatRates {
                rates: self.rates.0.len(),
                rows: n,
                units: self.units,
            });
        }
        let rows = self.rates.0.chunks(self.units.max(1));
        Ok((0..n)
            .zip(rows.chain(std::iter::repeat(&[][..])))
            .map(|(i, rates)| HeatRow {
                step: self.step.0[i],
                count: self.count.0[i],
                rates: rates.to_vec(),
            })
            .collect())
    }

    fn count(p: &HeatRow) -> u32 {
        p.count
    }

    fn step(p: &HeatRow) -> u64 {
        p.step
    }

    fn broken_promise(_: &HeatRow) -> Option<(&'static str, f64, Promise)> {
        // Rates are bytes: every value is a rate.
        None
    }
}

/// Highest total of raw points a loaded series may represent (merging counts must not overflow).
const MAX_RAW_POINTS: u64 = (u32::MAX / 2) as u64;

/// A downsampled series as stored: its downsampling state and its visible points (the last one
/// partial when `filled` > 0).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesRecord<C> {
    capacity: usize,
    stride: u64,
    filled: u64,
    points: C,
}

/// A [`Downsampled`] series written column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<C: PointColumns>(pub Downsampled<C::Point>);

impl<C: PointColumns + Serialize> Serialize for Series<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let points: Vec<&C::Point> = self.0.iter().collect();
        SeriesRecord {
            capacity: self.0.capacity(),
            stride: self.0.stride(),
            filled: self.0.filled(),
            points: C::from_points(&points).map_err(ser::Error::custom)?,
        }
        .serialize(serializer)
    }
}

impl<'de, C: PointColumns + Deserialize<'de>> Deserialize<'de> for Series<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = SeriesRecord::<C>::deserialize(deserializer)?;
        let points = r.points.into_points().map_err(de::Error::custom)?;
        let mut total = 0u64;
        let mut previous = 0u64;
        for (index, p) in points.iter().enumerate() {
            let c = C::count(p);
            if c == 0 {
                return Err(de::Error::custom(RecordError::EmptyPoint));
            }
            total += u64::from(c);
            // Steps count from 1 and every point is later than the one before it.
            let step = C::step(p);
            if step <= previous {
                return Err(de::Error::custom(RecordError::StepOrder {
                    index,
                    step,
                    previous,
                }));
            }
            previous = step;
            if let Some((column, value, promise)) = C::broken_promise(p) {
                return Err(de::Error::custom(RecordError::BrokenPromise {
                    index,
                    column,
                    value,
                    promise,
                }));
            }
        }
        if total > MAX_RAW_POINTS {
            return Err(de::Error::custom(RecordError::TooManyRawPoints {
                total,
                limit: MAX_RAW_POINTS,
            }));
        }
        Downsampled::from_parts(r.capacity, r.stride, points, r.filled)
            .map(Series)
            .map_err(de::Error::custom)
    }
}

/// The per-class firing snapshot, rates packed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassFiringRecord {
    /// Last step of the window.
    pub step: u64,
    /// Number of classes.
    pub classes: usize,
    /// Number of gate units.
    pub units: usize,
    /// classes × units, row-major.
    pub rates: Column<u8>,
}

impl From<&ClassFiring> for ClassFiringRecord {
    fn from(c: &ClassFiring) -> Self {
        ClassFiringRecord {
            step: c.step,
            classes: c.classes,
            units: c.units,
            rates: Column(c.rates.clone()),
        }
    }
}

impl ClassFiringRecord {
    fn into_snapshot(self) -> Result<ClassFiring, RecordError> {
        if self.classes.checked_mul(self.units) != Some(self.rates.0.len()) {
            return Err(RecordError::ClassFiring {
                rates: self.rates.0.len(),
                classes: self.classes,
                units: self.units,
            });
        }
        Ok(ClassFiring {
            step: self.step,
            classes: self.classes,
            units: self.units,
            rates: self.rates.0,
        })
    }
}

/// The history of one lane.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRecord {
    /// Name, estimator, settings.
    pub info: LaneInfo,
    /// Status when saved.
    pub status: LaneStatus,
    /// Status changes (diverged, stopped, done, running again), with their steps.
    pub events: Vec<LaneEvent>,
    /// Training metrics.
    pub steps: Series<StepColumns>,
    /// Held-out evaluations.
    pub evals: Series<EvalColumns>,
    /// Estimator-variance probes.
    pub probes: Series<ProbeColumns>,
    /// Per-unit firing rates over time.
    pub heat: Series<HeatColumns>,
    /// Same-trajectory probes (absent in older sessions).
    #[serde(default = "empty_series")]
    pub trajectory: Series<TrajectoryColumns>,
    /// The latest per-class firing snapshot.
    pub class_firing: Option<ClassFiringRecord>,
}

fn empty_series<C: PointColumns>() -> Series<C> {
    Series(Downsampled::new(crate::history::recorder::SPARSE_CAPACITY))
}

impl LaneRecord {
    /// The record of `h`.
    pub fn of(h: &LaneHistory) -> Self {
        LaneRecord {
            info: h.info.clone(),
            status: h.status,
            events: h.events.clone(),
            steps: Series(h.steps.clone()),
            evals: Series(h.evals.clone()),
            probes: Series(h.probes.clone()),
            heat: Series(h.heat.clone()),
            trajectory: Series(h.trajectory.clone()),
            class_firing: h.class_firing.as_ref().map(ClassFiringRecord::from),
        }
    }

    /// The history, or what is inconsistent in it.
    pub fn into_history(self) -> Result<LaneHistory, RecordError> {
        Ok(LaneHistory {
            info: self.info,
            steps: self.steps.0,
            evals: self.evals.0,
            probes: self.probes.0,
            heat: self.heat.0,
            trajectory: self.trajectory.0,
            class_firing: self
                .class_firing
                .map(ClassFiringRecord::into_snapshot)
                .transpose()?,
            status: self.status,
            events: self.events,
        })
    }
}

/// Where the checkpoint's parameters are and how to verify them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarRef {
    /// File name, in the session file's directory.
    pub file: String,
    /// Random id written in both files, pairing them.
    pub id: u64,
    /// Number of `f32` values.
    pub values: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// CRC-32 of the file without its last four bytes.
    pub crc32: u32,
}

/// Shape of one layer of a checkpointed network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerShape {
    /// Layer name (see `engine::checkpoint::LAYERS`).
    pub name: String,
    /// Inputs.
    pub inputs: usize,
    /// Output units.
    pub outputs: usize,
}

/// Moving-average baselines of the unbiased estimator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRecord {
    /// Minibatches observed.
    pub observed: u64,
    /// Moving average of the minibatch mean loss.
    pub mean_loss: f32,
    /// Per unit: moving average of mean_b (h − p)² L.
    pub numerator: Column<f32>,
    /// Per unit: moving average of mean_b (h − p)².
    pub denominator: Column<f32>,
}

impl From<&BaselineState> for BaselineRecord {
    fn from(b: &BaselineState) -> Self {
        BaselineRecord {
            observed: b.observed,
            mean_loss: b.mean_loss,
            numerator: Column(b.numerator.clone()),
            denominator: Column(b.denominator.clone()),
        }
    }
}

impl From<BaselineRecord> for BaselineState {
    fn from(b: BaselineRecord) -> Self {
        BaselineState {
            observed: b.observed,
            mean_loss: b.mean_loss,
            numerator: b.numerator.0,
            denominator: b.denominator.0,
        }
    }
}

/// The small part of one lane's checkpoint (the tensors are in the sidecar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneStateRecord {
    /// Lane name.
    pub name: String,
    /// The seed the lane runs with (absent in sessions written before races had several
    /// seeds: the race's seed).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Steps taken.
    pub steps: u64,
    /// Status when the checkpoint was taken.
    pub status: LaneStatus,
    /// Layer shapes, in sidecar order.
    pub layers: Vec<LayerShape>,
    /// Whether the sidecar holds this lane's velocities (lanes with momentum).
    pub velocities: bool,
    /// Gater hidden non-linearity.
    pub gater_activation: Activation,
    /// Expert non-linearity.
    pub expert_activation: Activation,
    /// Gate noise generator state.
    pub rng: Rng,
    /// Adaptive L1 penalty state.
    pub l1: Option<AdaptiveL1>,
    /// Estimator baselines.
    pub baseline: Option<BaselineRecord>,
    /// Examples counted into the heat row being accumulated.
    pub heat_steps: u32,
    /// Per unit: firings in the heat row being accumulated.
    pub unit_fired: Column<u32>,
    /// Per class: examples seen for the class snapshot being accumulated.
    pub class_seen: Column<u32>,
    /// Per class and unit: firings for the class snapshot being accumulated.
    pub class_fired: Column<u32>,
}

/// A checkpoint: the sidecar reference and every lane's small state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRecord {
    /// The tensors.
    pub sidecar: SidecarRef,
    /// One entry per lane, in lane order.
    pub lanes: Vec<LaneStateRecord>,
}

/// The whole session document, format 2 (format 1 has the same fields; see `migrate`).
#[derive(Serialize, Deserialize)]
#[serde(rename = "GradraceSession", deny_unknown_fields)]
pub struct SessionFile {
    /// Format version ([`FORMAT`]).
    pub format: u32,
    /// Version of the gradrace that wrote it.
    pub gradrace: String,
    /// When the race started (UTC, ISO 8601).
    pub created: String,
    /// When this file was written (UTC, ISO 8601).
    pub saved: String,
    /// Experiment name.
    pub experiment_name: String,
    /// The data set.
    pub data: DataFingerprint,
    /// The race.
    pub race: RaceInfo,
    /// True once every lane had ended.
    pub finished: bool,
    /// Pauses, continuations, ends and resumptions of the race, with their steps.
    pub events: Vec<RaceEvent>,
    /// The leaderboard when saved (informative; recomputed from the histories on load).
    pub leaderboard: Vec<LaneSummary>,
    /// The full experiment, with command-line overrides applied (seed included).
    pub experiment: Experiment,
    /// Every lane's history.
    pub lanes: Vec<LaneRecord>,
    /// The state to resume from (absent when saved without one).
    pub checkpoint: Option<CheckpointRecord>,
    /// `crc32:` and the CRC-32 of the file's text without these eight digits (see
    /// [`super::checksum`]); absent in documents written before checksums.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "plain_string::serialize",
        deserialize_with = "plain_string::deserialize"
    )]
    pub checksum: Option<String>,
}

/// An optional string written as a plain string (`"…"`, not `Some("…")`) and absent when None.
mod plain_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.as_deref().unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        String::deserialize(d).map(Some)
    }
}

/// The first fields of any version of the document, read leniently to tell versions apart.
#[derive(Deserialize)]
#[serde(rename = "GradraceSession")]
pub struct SessionHeader {
    /// Format version.
    pub format: u32,
    /// Writer's version.
    #[serde(default)]
    pub gradrace: String,
}

/// What `gradrace sessions` shows, read leniently (any format version with these fields).
#[derive(Deserialize)]
#[serde(rename = "GradraceSession")]
pub struct SessionListing {
    /// Format version.
    pub format: u32,
    /// When the race started.
    #[serde(default)]
    pub created: String,
    /// When the file was written.
    #[serde(default)]
    pub saved: String,
    /// Experiment name.
    #[serde(default)]
    pub experiment_name: String,
    /// The race.
    pub race: RaceInfo,
    /// The leaderboard.
    #[serde(default)]
    pub leaderboard: Vec<LaneSummary>,
    /// Present when the session was saved with a checkpoint.
    #[serde(default)]
    pub checkpoint: Option<ListingCheckpoint>,
}

/// The checkpoint record as listed: where its sidecar is and how to check it.
#[derive(Deserialize)]
pub struct ListingCheckpoint {
    /// The sidecar reference.
    pub sidecar: ListingSidecar,
}

/// [`SidecarRef`] read leniently.
#[derive(Deserialize)]
pub struct ListingSidecar {
    /// File name, in the session file's directory.
    pub file: String,
    /// Random id written in both files.
    pub id: u64,
    /// Number of `f32` values.
    pub values: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// CRC-32 of the file without its last four bytes.
    pub crc32: u32,
}
