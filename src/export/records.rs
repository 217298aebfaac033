//! What an export holds, whatever the file format: every declared scalar of every recorded
//! point (the field lists of [`crate::engine::metrics`], so a metric declared there is exported
//! with no change here), each written in the type it is recorded in and with the x-axes of its
//! step, and the per-kind records beside it.
//!
//! Numbers are written with Rust's shortest round-trip formatting *of their recorded type*: an
//! `f32` field as the shortest decimal that reads back as the same `f32` (`0.1`, not
//! `0.10000000149011612`), an `f64` field as the shortest for its `f64`. Reading a value back in
//! its type gives the recorded bits. Values that are not finite are written as `NaN`, `inf` and
//! `-inf` in CSV and as `null` in JSON, which has no other way to write them.

use crate::engine::metrics::{
    Metrics, eval_metrics, probe_metrics, step_metrics, trajectory_metrics,
};
use crate::engine::{EvalPoint, ProbePoint, StepPoint, TrajectoryPoint};
use crate::history::LaneHistory;

/// A recorded number, in its recorded type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A single-precision value.
    F32(f32),
    /// A double-precision value.
    F64(f64),
    /// A count or a step.
    U64(u64),
}

impl From<f32> for Num {
    fn from(v: f32) -> Self {
        Num::F32(v)
    }
}

impl From<f64> for Num {
    fn from(v: f64) -> Self {
        Num::F64(v)
    }
}

impl From<u64> for Num {
    fn from(v: u64) -> Self {
        Num::U64(v)
    }
}

impl Num {
    /// The value as f64 (exact for every recorded type but counts above 2⁵³).
    pub fn as_f64(self) -> f64 {
        match self {
            Num::F32(v) => f64::from(v),
            Num::F64(v) => v,
            Num::U64(v) => v as f64,
        }
    }

    /// Shortest round-trip text of the value in its type; `NaN`, `inf`, `-inf` when not finite.
    pub fn text(self) -> String {
        match self {
            Num::F32(v) => v.to_string(),
            Num::F64(v) => v.to_string(),
            Num::U64(v) => v.to_string(),
        }
    }

    /// The value as a JSON number (`null` when not finite).
    pub fn json(self) -> String {
        let finite = match self {
            Num::F32(v) => v.is_finite(),
            Num::F64(v) => v.is_finite(),
            Num::U64(_) => true,
        };
        if finite { self.text() } else { "null".into() }
    }
}

/// A point type whose declared metrics are exported with their recorded types.
pub trait Exported: Metrics {
    /// The kind of record, as written in the files: "step", "eval", "probe", "trajectory".
    const KIND: &'static str;
    /// The recorded type of each declared metric ("f32", "f64"), in declaration order.
    const TYPES: &'static [&'static str];
    /// The declared metrics' values in their recorded types, in declaration order.
    fn numbers(&self) -> Vec<Num>;
    /// The series of this kind in a lane's history.
    fn series(h: &LaneHistory) -> Vec<&Self>;
}

/// Implements [`Exported`] from a field list of [`crate::engine::metrics`].
macro_rules! exported {
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
        impl Exported for $point {
            const KIND: &'static str = kind_of(stringify!($point));
            const TYPES: &'static [&'static str] = &[$(stringify!($t)),*];
            fn numbers(&self) -> Vec<Num> {
                vec![$(Num::from(self.$field)),*]
            }
            fn series(h: &LaneHistory) -> Vec<&Self> {
                series_of!(h, $point)
            }
        }
    };
}

macro_rules! series_of {
    ($h:ident, StepPoint) => {
        $h.steps.iter().collect()
    };
    ($h:ident, EvalPoint) => {
        $h.evals.iter().collect()
    };
    ($h:ident, ProbePoint) => {
        $h.probes.iter().collect()
    };
    ($h:ident, TrajectoryPoint) => {
        $h.trajectory.iter().collect()
    };
}

/// The record kind of a point type's name.
const fn kind_of(point: &str) -> &'static str {
    match point.as_bytes() {
        b"StepPoint" => "step",
        b"EvalPoint" => "eval",
        b"ProbePoint" => "probe",
        b"TrajectoryPoint" => "trajectory",
        _ => "other",
    }
}

step_metrics!(exported);
eval_metrics!(exported);
probe_metrics!(exported);
trajectory_metrics!(exported);

/// One line of the data dictionary: a declared metric of a kind of record.
#[derive(Debug, Clone, PartialEq)]
pub struct DictionaryEntry {
    /// "step", "eval", "probe", "trajectory".
    pub kind: &'static str,
    /// The column and metric name.
    pub metric: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Its unit ("" for a pure number).
    pub unit: &'static str,
    /// Its recorded type: "f32" or "f64".
    pub ty: &'static str,
    /// How points merge when the history halves its resolution: "mean" or "last".
    pub merge: &'static str,
}

fn entries<P: Exported>() -> impl Iterator<Item = DictionaryEntry> {
    P::METRICS
        .iter()
        .zip(P::TYPES)
        .map(|(m, ty)| DictionaryEntry {
            kind: P::KIND,
            metric: m.name,
            label: m.label,
            unit: m.unit,
            ty,
            merge: match m.merge {
                crate::engine::metrics::MergeRule::Mean => "mean",
                crate::engine::metrics::MergeRule::Last => "last",
            },
        })
}

/// Every declared metric of every kind of record, in declaration order.
pub fn dictionary() -> Vec<DictionaryEntry> {
    entries::<StepPoint>()
        .chain(entries::<EvalPoint>())
        .chain(entries::<ProbePoint>())
        .chain(entries::<TrajectoryPoint>())
        .collect()
}

/// The x-axes of a record: where in training it was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axes {
    /// Training steps (minibatches) taken.
    pub step: u64,
    /// Training examples seen: step × batch size.
    pub examples: u64,
    /// Main-path evaluations (minibatch forward passes) so far: the running sum of the step
    /// series' `evaluations` × `count`.
    pub evaluations: f64,
    /// Measured training seconds so far: the running sum of `seconds` × `count`.
    pub seconds: f64,
}

/// The x-axes of a lane's records: cumulative sums over its step series.
#[derive(Debug, Clone)]
pub struct Timeline {
    batch: u64,
    /// (step, evaluations so far, seconds so far, evaluations per step, seconds per step) at
    /// the end of each step point.
    ends: Vec<(u64, f64, f64, f64, f64)>,
}

impl Timeline {
    /// The timeline of `h` at batch size `batch`.
    pub fn of(h: &LaneHistory, batch: usize) -> Timeline {
        let (mut evals, mut secs) = (0.0f64, 0.0f64);
        let ends = h
            .steps
            .iter()
            .map(|p| {
                let (e, s) = (f64::from(p.evaluations), f64::from(p.seconds));
                evals += e * f64::from(p.count);
                secs += s * f64::from(p.count);
                (p.step, evals, secs, e, s)
            })
            .collect();
        Timeline {
            batch: batch as u64,
            ends,
        }
    }

    /// The axes at `step`: at the end of the step point recorded there, exactly; inside a
    /// merged step point (a long run's downsampled history), the running sums interpolated at
    /// that point's mean rates; after the last point, its sums.
    pub fn at(&self, step: u64) -> Axes {
        let examples = step.saturating_mul(self.batch);
        let i = self.ends.partition_point(|e| e.0 < step);
        let (evaluations, seconds) = match self.ends.get(i) {
            Some(&(s, e, t, _, _)) if s == step => (e, t),
            Some(&(s, e, t, per_e, per_t)) => {
                let back = (s - step) as f64;
                ((e - back * per_e).max(0.0), (t - back * per_t).max(0.0))
            }
            None => self.ends.last().map_or((0.0, 0.0), |l| (l.1, l.2)),
        };
        Axes {
            step,
            examples,
            evaluations,
            seconds,
        }
    }
}

/// The columns every record row starts with, after `session, lane, seed`: the step, how many
/// raw records the row stands for, and the x-axes. The running sums are named apart from the
/// step records' per-step `evaluations` and `seconds`, so that no file has two columns of the
/// same name.
pub const AXES_COLUMNS: [&str; 5] = [
    "step",
    "count",
    "examples_seen",
    "evaluations_so_far",
    "seconds_so_far",
];

/// The axes and count as numbers, in the order of [`AXES_COLUMNS`].
pub fn axes_numbers(a: &Axes, count: u32) -> [Num; 5] {
    [
        Num::U64(a.step),
        Num::U64(u64::from(count)),
        Num::U64(a.examples),
        Num::F64(a.evaluations),
        Num::F64(a.seconds),
    ]
}

/// The names of the files an export writes, without extension, with what each holds.
pub const FILES: [(&str, &str); 10] = [
    (
        "metrics",
        "every declared scalar, one row per (session, lane, seed, kind, step, metric)",
    ),
    ("steps", "training metrics, one row per step point"),
    ("evals", "held-out evaluations, one row per evaluation"),
    ("probes", "estimator-variance probes, one row per probe"),
    ("trajectory", "same-trajectory probes, one row per probe"),
    (
        "heat",
        "per-unit firing over time, one row per heat row, units u0… as recorded (0–255)",
    ),
    (
        "class_firing",
        "latest per-class firing, one row per class, units u0… as recorded (0–255)",
    ),
    (
        "lanes",
        "one row per lane and seed: estimator, status, strides",
    ),
    (
        "sessions",
        "one row per session: file, experiment, data set, seeds",
    ),
    (
        "dictionary",
        "one row per declared metric: kind, name, label, unit, recorded type, merge rule",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::Metric;

    fn agree<P: Exported>(p: &P) {
        let n = p.numbers();
        assert_eq!(n.len(), P::METRICS.len());
        assert_eq!(P::TYPES.len(), P::METRICS.len());
        for ((m, v), ty) in P::METRICS.iter().zip(&n).zip(P::TYPES) {
            let m: &Metric<P> = m;
            assert_eq!(v.as_f64().to_bits(), (m.value)(p).to_bits(), "{}", m.name);
            assert!(
                matches!((v, *ty), (Num::F32(_), "f32") | (Num::F64(_), "f64")),
                "{} {ty}",
                m.name
            );
        }
    }

    #[test]
    fn the_exported_numbers_are_the_declared_metrics_in_their_types() {
        let r = crate::tui::synthetic::recorder(2, 300);
        for l in &r.lanes {
            l.steps.iter().for_each(agree);
            l.evals.iter().for_each(agree);
            l.probes.iter().for_each(agree);
        }
        agree(&TrajectoryPoint {
            cosine: 0.5,
            ..TrajectoryPoint::default()
        });
        let d = dictionary();
        let declared = StepPoint::METRICS.len()
            + EvalPoint::METRICS.len()
            + ProbePoint::METRICS.len()
            + TrajectoryPoint::METRICS.len();
        assert_eq!(d.len(), declared);
        let ce = &d[0];
        assert_eq!(
            (ce.kind, ce.metric, ce.ty),
            ("step", "cross_entropy", "f32")
        );
        assert!(
            d.iter()
                .any(|e| e.kind == "trajectory" && e.metric == "cosine")
        );
        assert_eq!(Num::F32(0.1).text(), "0.1");
        assert_eq!(Num::F64(0.1f32 as f64).text(), "0.10000000149011612");
        assert_eq!(Num::F32(f32::NAN).json(), "null");
    }

    #[test]
    fn the_axes_are_running_sums_of_the_step_series() {
        let mut h = LaneHistory::new(crate::tui::synthetic::recorder(1, 1).lanes[0].info.clone());
        for step in 1..=4u64 {
            h.steps.push(StepPoint {
                step,
                count: 1,
                evaluations: 2.0,
                seconds: 0.5,
                ..StepPoint::default()
            });
        }
        let t = Timeline::of(&h, 32);
        let a = t.at(3);
        assert_eq!((a.examples, a.evaluations, a.seconds), (96, 6.0, 1.5));
        assert_eq!(t.at(9).evaluations, 8.0);
        // A merged point covering steps 5–8: interpolated inside it.
        let mut merged = h.clone();
        let mut p = StepPoint {
            step: 6,
            count: 1,
            evaluations: 2.0,
            seconds: 0.5,
            ..StepPoint::default()
        };
        p.merge_from(8);
        merged.steps.push(p);
        let t = Timeline::of(&merged, 32);
        assert_eq!(t.at(8).evaluations, 8.0 + 6.0);
        assert_eq!(t.at(7).evaluations, 8.0 + 4.0);
    }

    trait MergeFrom {
        fn merge_from(&mut self, last: u64);
    }

    impl MergeFrom for StepPoint {
        /// Makes this point cover steps (self.step − 1, last] (count = last − step + 2).
        fn merge_from(&mut self, last: u64) {
            use crate::history::Merge;
            for s in self.step + 1..=last {
                let next = StepPoint { step: s, ..*self };
                let mut next = next;
                next.count = 1;
                self.merge(&next);
            }
        }
    }
}

/// A column of an export file.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// One named column.
    Named(String),
    /// One column per gate unit (`u0`, `u1`, … in CSV; an array `rates` in JSON), `n` of them.
    Units(usize),
}

/// A cell of an export file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// A number in its recorded type.
    Num(Num),
    /// Per-unit values as recorded (0–255).
    Units(&'a [u8]),
}

/// Where the rows of an export file go (a CSV or JSON Lines writer).
pub trait Sink {
    /// Starts the file with its columns.
    fn begin(&mut self, columns: &[Column]) -> std::io::Result<()>;
    /// One row, a cell per column.
    fn row(&mut self, cells: &[Cell<'_>]) -> std::io::Result<()>;
}

fn named(names: &[&str]) -> Vec<Column> {
    names.iter().map(|n| Column::Named(n.to_string())).collect()
}

/// Writes the rows of file `name` (one of [`FILES`]) of `sessions` to `sink`.
pub fn write_file(
    sessions: &super::Sessions,
    name: &str,
    sink: &mut dyn Sink,
) -> std::io::Result<()> {
    match name {
        "metrics" => tidy(sessions, sink),
        "steps" => wide::<StepPoint>(sessions, sink),
        "evals" => wide::<EvalPoint>(sessions, sink),
        "probes" => wide::<ProbePoint>(sessions, sink),
        "trajectory" => wide::<TrajectoryPoint>(sessions, sink),
        "heat" => heat(sessions, sink),
        "class_firing" => class_firing(sessions, sink),
        "lanes" => lanes(sessions, sink),
        "sessions" => session_rows(sessions, sink),
        "dictionary" => dictionary_rows(sink),
        other => Err(std::io::Error::other(format!("no export file {other}"))),
    }
}

/// Every lane of every session: (session label, batch size, race seed, lane).
fn each_lane(sessions: &super::Sessions) -> impl Iterator<Item = (&str, usize, u64, &LaneHistory)> {
    sessions.parts.iter().flat_map(|(label, s)| {
        let info = s.recorder.info.as_ref();
        let batch = info.map_or(1, |i| i.batch_size);
        let seed = info.map_or(0, |i| i.seed);
        s.recorder
            .lanes
            .iter()
            .map(move |h| (label.as_str(), batch, seed, h))
    })
}

const KEY: [&str; 3] = ["session", "lane", "seed"];

fn tidy(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut columns = named(&KEY);
    columns.push(Column::Named("kind".into()));
    columns.extend(named(&AXES_COLUMNS));
    columns.extend(named(&["metric", "value"]));
    sink.begin(&columns)?;
    for (label, batch, race_seed, h) in each_lane(sessions) {
        let t = Timeline::of(h, batch);
        let seed = Num::U64(h.info.seed_or(race_seed));
        tidy_kind::<StepPoint>(label, seed, h, &t, sink)?;
        tidy_kind::<EvalPoint>(label, seed, h, &t, sink)?;
        tidy_kind::<ProbePoint>(label, seed, h, &t, sink)?;
        tidy_kind::<TrajectoryPoint>(label, seed, h, &t, sink)?;
    }
    Ok(())
}

fn tidy_kind<P: Exported>(
    label: &str,
    seed: Num,
    h: &LaneHistory,
    t: &Timeline,
    sink: &mut dyn Sink,
) -> std::io::Result<()> {
    for p in P::series(h) {
        let axes = axes_numbers(&t.at(p.step()), p.count());
        for (m, v) in P::METRICS.iter().zip(p.numbers()) {
            let mut cells = vec![
                Cell::Text(label),
                Cell::Text(&h.info.name),
                Cell::Num(seed),
                Cell::Text(P::KIND),
            ];
            cells.extend(axes.iter().map(|a| Cell::Num(*a)));
            cells.push(Cell::Text(m.name));
            cells.push(Cell::Num(v));
            sink.row(&cells)?;
        }
    }
    Ok(())
}

fn wide<P: Exported>(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut columns = named(&KEY);
    columns.extend(named(&AXES_COLUMNS));
    columns.extend(P::METRICS.iter().map(|m| Column::Named(m.name.into())));
    sink.begin(&columns)?;
    for (label, batch, race_seed, h) in each_lane(sessions) {
        let t = Timeline::of(h, batch);
        let seed = Num::U64(h.info.seed_or(race_seed));
        for p in P::series(h) {
            let mut cells = vec![Cell::Text(label), Cell::Text(&h.info.name), Cell::Num(seed)];
            cells.extend(axes_numbers(&t.at(p.step()), p.count()).map(Cell::Num));
            cells.extend(p.numbers().into_iter().map(Cell::Num));
            sink.row(&cells)?;
        }
    }
    Ok(())
}

fn max_units(sessions: &super::Sessions) -> usize {
    sessions
        .parts
        .iter()
        .filter_map(|(_, s)| s.recorder.info.as_ref().map(|i| i.experts))
        .max()
        .unwrap_or(0)
}

fn heat(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut columns = named(&KEY);
    columns.extend(named(&AXES_COLUMNS));
    columns.push(Column::Units(max_units(sessions)));
    sink.begin(&columns)?;
    for (label, batch, race_seed, h) in each_lane(sessions) {
        let t = Timeline::of(h, batch);
        let seed = Num::U64(h.info.seed_or(race_seed));
        for r in h.heat.iter() {
            let mut cells = vec![Cell::Text(label), Cell::Text(&h.info.name), Cell::Num(seed)];
            cells.extend(axes_numbers(&t.at(r.step), r.count).map(Cell::Num));
            cells.push(Cell::Units(&r.rates));
            sink.row(&cells)?;
        }
    }
    Ok(())
}

fn class_firing(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut columns = named(&KEY);
    columns.extend(named(&["step", "class"]));
    columns.push(Column::Units(max_units(sessions)));
    sink.begin(&columns)?;
    for (label, _, race_seed, h) in each_lane(sessions) {
        let seed = Num::U64(h.info.seed_or(race_seed));
        let Some(c) = &h.class_firing else { continue };
        for (class, rates) in c.rates.chunks(c.units.max(1)).take(c.classes).enumerate() {
            sink.row(&[
                Cell::Text(label),
                Cell::Text(&h.info.name),
                Cell::Num(seed),
                Cell::Num(Num::U64(c.step)),
                Cell::Num(Num::U64(class as u64)),
                Cell::Units(rates),
            ])?;
        }
    }
    Ok(())
}

fn lanes(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    sink.begin(&named(&[
        "session",
        "lane",
        "seed",
        "estimator",
        "family",
        "status",
        "last_step",
        "batch_size",
        "steps_stride",
        "evals_stride",
        "probes_stride",
        "trajectory_stride",
        "heat_stride",
    ]))?;
    for (label, batch, race_seed, h) in each_lane(sessions) {
        let family = format!("{:?}", h.info.family);
        let status = h.status.label();
        sink.row(&[
            Cell::Text(label),
            Cell::Text(&h.info.name),
            Cell::Num(Num::U64(h.info.seed_or(race_seed))),
            Cell::Text(&h.info.estimator),
            Cell::Text(&family),
            Cell::Text(&status),
            Cell::Num(Num::U64(h.last_step())),
            Cell::Num(Num::U64(batch as u64)),
            Cell::Num(Num::U64(h.steps.stride())),
            Cell::Num(Num::U64(h.evals.stride())),
            Cell::Num(Num::U64(h.probes.stride())),
            Cell::Num(Num::U64(h.trajectory.stride())),
            Cell::Num(Num::U64(h.heat.stride())),
        ])?;
    }
    Ok(())
}

fn session_rows(sessions: &super::Sessions, sink: &mut dyn Sink) -> std::io::Result<()> {
    sink.begin(&named(&[
        "session",
        "file",
        "experiment",
        "data",
        "train_examples",
        "heldout_examples",
        "train_fnv1a",
        "heldout_fnv1a",
        "seeds",
        "last_step",
        "total_steps",
        "steps_per_epoch",
        "batch_size",
        "experts",
        "created",
        "saved",
        "gradrace",
    ]))?;
    for (label, s) in &sessions.parts {
        let Some(i) = &s.recorder.info else { continue };
        let file = s.path.display().to_string();
        let seeds = super::sessions::seeds_of(i)
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let d = &s.context.data;
        let (train, heldout) = (
            format!("{:016x}", d.train.fnv1a),
            format!("{:016x}", d.heldout.fnv1a),
        );
        sink.row(&[
            Cell::Text(label),
            Cell::Text(&file),
            Cell::Text(&i.experiment),
            Cell::Text(&i.data),
            Cell::Num(Num::U64(i.train_examples as u64)),
            Cell::Num(Num::U64(i.heldout_examples as u64)),
            Cell::Text(&train),
            Cell::Text(&heldout),
            Cell::Text(&seeds),
            Cell::Num(Num::U64(s.recorder.step())),
            Cell::Num(Num::U64(i.total_steps)),
            Cell::Num(Num::U64(i.steps_per_epoch)),
            Cell::Num(Num::U64(i.batch_size as u64)),
            Cell::Num(Num::U64(i.experts as u64)),
            Cell::Text(&s.context.created),
            Cell::Text(&s.saved),
            Cell::Text(&s.gradrace),
        ])?;
    }
    Ok(())
}

fn dictionary_rows(sink: &mut dyn Sink) -> std::io::Result<()> {
    sink.begin(&named(&[
        "kind", "metric", "label", "unit", "type", "merge",
    ]))?;
    for e in dictionary() {
        sink.row(&[
            Cell::Text(e.kind),
            Cell::Text(e.metric),
            Cell::Text(e.label),
            Cell::Text(e.unit),
            Cell::Text(e.ty),
            Cell::Text(e.merge),
        ])?;
    }
    Ok(())
}
