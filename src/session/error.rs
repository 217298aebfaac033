//! Errors of reading and writing sessions: [`SessionError`], what the user sees (the file,
//! positioned where possible, and whether it is bad input or a failed write), and the typed
//! problems inside a document or a checkpoint that its message tells.

use std::fmt;

use crate::config::InvalidSetting;
use crate::engine::checkpoint::LAYERS;
use crate::file_error::FileError;
use crate::net::sparsity::{L1_LAMBDA_MAX, L1_LAMBDA_MIN};

/// A session that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The file is missing, unreadable, not a session, damaged or from a newer gradrace (bad
    /// input).
    #[error(transparent)]
    BadFile(FileError),
    /// Writing the file failed (disk full, permissions, ...).
    #[error(transparent)]
    Write(FileError),
    /// The session writer had stopped when a save was asked for, and had saved nothing.
    #[error("the session writer has stopped")]
    WriterStopped,
    /// The session writer stopped while a save was waited for, and had saved nothing.
    #[error("the session writer stopped before saving")]
    WriterStoppedBeforeSaving,
    /// The race ended before a save it was asked for, and nothing had been saved.
    #[error("the race ended before saving")]
    RaceEndedBeforeSaving,
}

impl SessionError {
    /// A problem with the content of `file`.
    pub fn bad(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError::BadFile(FileError::new(file, message))
    }

    /// A failed write of `file`.
    pub fn write(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError::Write(FileError::new(file, message))
    }

    /// The same error at 1-based (line, column) of its file (no change for an error that is not
    /// about a file).
    pub fn at(self, position: (usize, usize)) -> Self {
        match self {
            SessionError::BadFile(e) => SessionError::BadFile(e.at(position)),
            SessionError::Write(e) => SessionError::Write(e.at(position)),
            other => other,
        }
    }

    /// What is wrong, without the file and position.
    pub fn message(&self) -> String {
        match self {
            SessionError::BadFile(e) | SessionError::Write(e) => e.message.clone(),
            other => other.to_string(),
        }
    }

    /// The 1-based (line, column) of the problem in its file, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            SessionError::BadFile(e) | SessionError::Write(e) => e.position,
            _ => None,
        }
    }
}

/// A save of a race that has not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the race has not started: nothing to save")]
pub struct NothingToSave;

/// A data set that is not the one a session's race trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DataMismatch {
    /// A set has another number of examples.
    #[error("the {part} set has {now} examples, the session's had {then}")]
    Examples {
        /// "training" or "held-out".
        part: &'static str,
        /// Examples in the data set given.
        now: usize,
        /// Examples in the session's.
        then: usize,
    },
    /// A set has the same size but other content.
    #[error(
        "the {part} set's content differs from the session's (fingerprint {now:016x}, the \
         session's {then:016x})"
    )]
    Content {
        /// "training" or "held-out".
        part: &'static str,
        /// Fingerprint of the data set given.
        now: u64,
        /// Fingerprint of the session's.
        then: u64,
    },
}

/// A packed column that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    /// The text is not base64.
    #[error("packed column is not valid base64: {0}")]
    NotBase64(#[source] base64::DecodeError),
    /// The bytes do not make whole values.
    #[error(
        "packed column has {bytes} bytes, not a whole number of {width}-byte {type_name} values"
    )]
    PartialValue {
        /// Decoded bytes.
        bytes: usize,
        /// Bytes per value.
        width: usize,
        /// The values' type.
        type_name: &'static str,
    },
}

/// A lane's history in a session document that is inconsistent in itself: its columns, its
/// series (their downsampling state: [`crate::history::series::PartsError`]), its class firing
/// snapshot. The columns and series are checked while the document is parsed, so their
/// messages get the position; the snapshot after (see [`DocumentError::Lane`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// Columns of one series have different lengths.
    #[error("column `{column}` has {len} values, column `{first}` has {first_len}")]
    ColumnLengths {
        /// The column that differs.
        column: &'static str,
        /// Its length.
        len: usize,
        /// The first column.
        first: &'static str,
        /// Its length.
        first_len: usize,
    },
    /// Heat rows to save have different widths.
    #[error("heat rows of different widths ({width} and {units} units)")]
    HeatWidths {
        /// The width of a row that differs from the first.
        width: usize,
        /// The first row's width.
        units: usize,
    },
    /// The heat rows' rates do not fill their rows.
    #[error("{rates} firing rates for {rows} rows of {units} units")]
    HeatRates {
        /// Firing rates.
        rates: usize,
        /// Rows.
        rows: usize,
        /// Units per row.
        units: usize,
    },
    /// The class firing snapshot's rates do not fill its classes × units.
    #[error("class firing: {rates} rates for {classes} classes × {units} units")]
    ClassFiring {
        /// Rates.
        rates: usize,
        /// Classes.
        classes: usize,
        /// Gate units.
        units: usize,
    },
    /// A point of a series stands for no raw point.
    #[error("a point covering 0 raw points")]
    EmptyPoint,
    /// A point no later than the one before it (or at step 0).
    #[error(
        "point {index} is at step {step}, after step {previous}: steps must start at 1 and \
         increase"
    )]
    StepOrder {
        /// Position of the point in its series.
        index: usize,
        /// Its step.
        step: u64,
        /// The step of the point before it (0 for the first).
        previous: u64,
    },
    /// A value that the engine never records.
    #[error("point {index}: `{column}` = {value} must be {promise}")]
    BrokenPromise {
        /// Position of the point in its series.
        index: usize,
        /// The column.
        column: &'static str,
        /// Its value there.
        value: f64,
        /// What its values always are.
        promise: super::format::Promise,
    },
    /// A series' points stand for more raw points than a series counts.
    #[error("the points cover {total} raw points, more than the {limit} a series can hold")]
    TooManyRawPoints {
        /// Raw points covered.
        total: u64,
        /// The most a series may cover.
        limit: u64,
    },
}

/// Which lane of a checkpoint record an error is about: `checkpoint.lanes[INDEX] ("NAME")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointLane {
    /// Position in the checkpoint's lanes.
    pub index: usize,
    /// The lane's name.
    pub name: String,
}

impl fmt::Display for CheckpointLane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checkpoint.lanes[{}] (\"{}\")", self.index, self.name)
    }
}

/// A checkpoint record (the document's part of a checkpoint) that does not fit the session it
/// is in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    /// Not one checkpoint lane per lane history.
    #[error("checkpoint: {lanes} lanes, the session has {histories}")]
    LaneCount {
        /// Lanes in the checkpoint.
        lanes: usize,
        /// Lane histories in the session.
        histories: usize,
    },
    /// A checkpoint lane where the history of another lane is.
    #[error("{lane}: the history there is \"{history}\"")]
    LaneName {
        /// The checkpoint's lane.
        lane: CheckpointLane,
        /// The name of the history at its position.
        history: String,
    },
    /// An adaptive L1 λ outside the bounds it is kept in.
    #[error("{lane}.l1.lambda = {lambda} must be in [{L1_LAMBDA_MIN:e}, {L1_LAMBDA_MAX}]")]
    L1Lambda {
        /// The lane.
        lane: CheckpointLane,
        /// Its λ.
        lambda: f32,
    },
    /// Layers other than the network's four, in another order.
    #[error("{lane}.layers: {names:?}, expected {LAYERS:?}")]
    Layers {
        /// The lane.
        lane: CheckpointLane,
        /// Its layers' names.
        names: Vec<String>,
    },
    /// Firing counters above the examples counted, or too large to go on counting.
    #[error("{lane}: firing counters exceed the examples counted (or {limit})")]
    Counters {
        /// The lane.
        lane: CheckpointLane,
        /// The largest count a resumed race can go on from.
        limit: u32,
    },
    /// Firing counters of the wrong lengths.
    #[error(
        "{lane}: firing counters of {unit_fired} / {class_fired} / {class_seen} values for \
         {units} units and {classes} classes"
    )]
    CounterLengths {
        /// The lane.
        lane: CheckpointLane,
        /// Values of `unit_fired`.
        unit_fired: usize,
        /// Values of `class_fired`.
        class_fired: usize,
        /// Values of `class_seen`.
        class_seen: usize,
        /// Gate units of the race.
        units: usize,
        /// Classes of the race.
        classes: usize,
    },
    /// A lane's `class_seen` without one count per class.
    #[error("checkpoint lane \"{lane}\": class_seen has {values} values, expected {expected}")]
    ClassSeen {
        /// The lane's name.
        lane: String,
        /// Values of `class_seen`.
        values: usize,
        /// Classes.
        expected: usize,
    },
}

/// A session document whose parts do not fit together (each part is consistent in itself).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    /// The experiment has a setting out of range.
    #[error("experiment: {0}")]
    Experiment(#[source] InvalidSetting),
    /// Not one history per lane of the experiment.
    #[error("lanes: {histories} histories for the experiment's {lanes} lanes")]
    LaneCount {
        /// Lane histories.
        histories: usize,
        /// Lanes of the experiment.
        lanes: usize,
    },
    /// A lane's history where the experiment has another lane.
    #[error("lanes[{index}]: history of \"{history}\" where the experiment has \"{expected}\"")]
    LaneName {
        /// Position of the history.
        index: usize,
        /// Its lane's name.
        history: String,
        /// The experiment's lane there.
        expected: String,
    },
    /// The race's shapes are not those of the experiment and data.
    #[error(
        "race: {inputs} inputs, {gater_hidden} gater units, {experts} experts do not match the \
         experiment and data ({data_inputs}, {experiment_gater_hidden}, {experiment_experts})"
    )]
    RaceShape {
        /// The race's inputs.
        inputs: usize,
        /// The race's gater hidden units.
        gater_hidden: usize,
        /// The race's experts.
        experts: usize,
        /// The data's inputs.
        data_inputs: usize,
        /// The experiment's gater hidden units.
        experiment_gater_hidden: usize,
        /// The experiment's experts.
        experiment_experts: usize,
    },
    /// A lane's history is inconsistent in itself.
    #[error("lanes[{index}] (\"{name}\"): {problem}")]
    Lane {
        /// Position of the history.
        index: usize,
        /// Its lane's name.
        name: String,
        /// What is wrong.
        #[source]
        problem: RecordError,
    },
    /// A lane's heat rows are not as wide as the race has experts.
    #[error(
        "lanes[{index}] (\"{name}\").heat: rows of {units} units, the race has {experts} experts"
    )]
    HeatWidth {
        /// Position of the history.
        index: usize,
        /// Its lane's name.
        name: String,
        /// Units per row.
        units: usize,
        /// The race's experts.
        experts: usize,
    },
    /// A lane's class firing snapshot is not classes × experts of the race.
    #[error(
        "lanes[{index}] (\"{name}\").class_firing: {classes} classes × {units} units, the race \
         has {race_classes} × {race_experts}"
    )]
    ClassFiringShape {
        /// Position of the history.
        index: usize,
        /// Its lane's name.
        name: String,
        /// The snapshot's classes.
        classes: usize,
        /// The snapshot's units.
        units: usize,
        /// The race's classes.
        race_classes: usize,
        /// The race's experts.
        race_experts: usize,
    },
    /// The checkpoint does not fit the session.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// A checkpoint sidecar that is not the one the session names, or that is damaged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SidecarError {
    /// Not a sidecar at all.
    #[error("not a gradrace checkpoint file (wrong magic bytes)")]
    WrongMagic,
    /// A sidecar layout this gradrace does not read.
    #[error("checkpoint file format {found}, this gradrace reads format {reads}")]
    Version {
        /// The file's layout version.
        found: u32,
        /// The version this gradrace reads.
        reads: u32,
    },
    /// The sidecar of another save.
    #[error(
        "the checkpoint file belongs to another save (id {found:016x}, the session expects \
         {expected:016x})"
    )]
    OtherSave {
        /// The file's id.
        found: u64,
        /// The session's.
        expected: u64,
    },
    /// Not the size the session recorded.
    #[error(
        "the checkpoint file has {bytes} bytes, the session recorded {expected} (truncated or \
         replaced)"
    )]
    Size {
        /// The file's size.
        bytes: usize,
        /// The size recorded.
        expected: u64,
    },
    /// Not the number of values the session recorded.
    #[error("the checkpoint file holds {values} values, the session expects {expected}")]
    ValueCount {
        /// Values the file says it holds.
        values: u64,
        /// Values recorded.
        expected: u64,
    },
    /// The checksum does not match.
    #[error(
        "the checkpoint file is damaged (CRC-32 {crc:08x}, stored {stored:08x}, the session \
         recorded {expected:08x})"
    )]
    Damaged {
        /// The checksum of the content.
        crc: u32,
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum recorded in the session.
        expected: u32,
    },
    /// Fewer values than the layer shapes need.
    #[error("the checkpoint file holds fewer values than the layer shapes need")]
    TooFewValues,
    /// More values than the layer shapes need.
    #[error("the checkpoint file holds {extra} values more than the layer shapes need")]
    ExtraValues {
        /// Values left over.
        extra: usize,
    },
    /// A layer shape too large to address.
    #[error("layer shape {inputs}×{outputs} is too large")]
    ShapeTooLarge {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
    },
    /// Values that do not make a matrix of the layer's shape.
    #[error("bad layer shape {inputs}×{outputs}: {problem}")]
    BadShape {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
        /// What ndarray said.
        #[source]
        problem: ndarray::ShapeError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_show_file_and_position_and_keep_their_kind() {
        let e = SessionError::bad("runs/a.ron", "not a gradrace session: the file is empty");
        assert_eq!(
            e.to_string(),
            "runs/a.ron: not a gradrace session: the file is empty"
        );
        let e = e.at((1, 1));
        assert_eq!(
            e.to_string(),
            "runs/a.ron:1:1: not a gradrace session: the file is empty"
        );
        assert!(matches!(e, SessionError::BadFile(_)));
        assert_eq!(e.position(), Some((1, 1)));
        assert_eq!(e.message(), "not a gradrace session: the file is empty");
        let w = SessionError::write("runs/a.ron", "No space left on device");
        assert!(matches!(w, SessionError::Write(_)));
        assert_eq!(w.to_string(), "runs/a.ron: No space left on device");
        let stopped = SessionError::WriterStopped.at((2, 3));
        assert_eq!(stopped.position(), None);
        assert_eq!(stopped.message(), "the session writer has stopped");
    }

    #[test]
    fn messages_name_the_part_and_the_numbers() {
        let lane = CheckpointLane {
            index: 1,
            name: "sts".into(),
        };
        assert_eq!(
            CheckpointError::L1Lambda { lane, lambda: 2.0 }.to_string(),
            format!(
                "checkpoint.lanes[1] (\"sts\").l1.lambda = 2 must be in [{L1_LAMBDA_MIN:e}, \
                 {L1_LAMBDA_MAX}]"
            )
        );
        let e = DocumentError::Lane {
            index: 0,
            name: "unbiased".into(),
            problem: RecordError::ColumnLengths {
                column: "count",
                len: 3,
                first: "step",
                first_len: 2,
            },
        };
        assert_eq!(
            e.to_string(),
            "lanes[0] (\"unbiased\"): column `count` has 3 values, column `step` has 2"
        );
        assert_eq!(
            SidecarError::OtherSave {
                found: 0xab,
                expected: 0xcd
            }
            .to_string(),
            "the checkpoint file belongs to another save (id 00000000000000ab, the session \
             expects 00000000000000cd)"
        );
        assert_eq!(
            DataMismatch::Examples {
                part: "held-out",
                now: 10,
                then: 12
            }
            .to_string(),
            "the held-out set has 10 examples, the session's had 12"
        );
    }
}
