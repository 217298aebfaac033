//! The recorder: the append-only history of every lane of a race, built from engine events (live)
//! or loaded from a session (replay). Memory stays bounded: each series halves its resolution
//! when full.

use serde::{Deserialize, Serialize};

use super::series::Downsampled;
use crate::engine::{
    ClassFiring, EngineEvent, EvalPoint, HeatRow, LaneInfo, LaneStatus, ProbePoint, RaceInfo,
    StepPoint, TrajectoryPoint,
};

/// Stored step points per lane before the resolution halves.
pub const STEP_CAPACITY: usize = 8192;
/// Stored heat rows per lane before the resolution halves.
pub const HEAT_CAPACITY: usize = 1024;
/// Stored evaluations and probes per lane before the resolution halves.
pub const SPARSE_CAPACITY: usize = 4096;

/// Something that happened to a lane, with the step at which it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneEvent {
    /// Step.
    pub step: u64,
    /// What happened.
    pub status: LaneStatus,
}

/// What happened to the whole race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaceEventKind {
    /// Paused by the user.
    Paused,
    /// Continued after a pause.
    Continued,
    /// Every lane had ended.
    Finished,
    /// Continued from a saved checkpoint.
    Resumed,
}

/// A race event with the furthest step reached when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaceEvent {
    /// Step.
    pub step: u64,
    /// What happened.
    pub kind: RaceEventKind,
}

/// The whole history of one lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneHistory {
    /// Name, estimator, settings.
    pub info: LaneInfo,
    /// Training metrics.
    pub steps: Downsampled<StepPoint>,
    /// Held-out evaluations.
    pub evals: Downsampled<EvalPoint>,
    /// Estimator-variance probes.
    pub probes: Downsampled<ProbePoint>,
    /// Same-trajectory probes (at the reference lane's parameters).
    pub trajectory: Downsampled<TrajectoryPoint>,
    /// Per-unit firing rates over time.
    pub heat: Downsampled<HeatRow>,
    /// The latest per-class firing snapshot.
    pub class_firing: Option<ClassFiring>,
    /// Current status.
    pub status: LaneStatus,
    /// Status changes.
    pub events: Vec<LaneEvent>,
}

impl LaneHistory {
    /// An empty history for `info`.
    pub fn new(info: LaneInfo) -> Self {
        LaneHistory {
            info,
            steps: Downsampled::new(STEP_CAPACITY),
            evals: Downsampled::new(SPARSE_CAPACITY),
            probes: Downsampled::new(SPARSE_CAPACITY),
            trajectory: Downsampled::new(SPARSE_CAPACITY),
            heat: Downsampled::new(HEAT_CAPACITY),
            class_firing: None,
            status: LaneStatus::Running,
            events: Vec::new(),
        }
    }

    /// Last step recorded.
    pub fn last_step(&self) -> u64 {
        self.steps.last().map_or(0, |p| p.step)
    }

    /// Averages of the step points covering (about) the last `raw_steps` steps.
    pub fn recent(&self, raw_steps: u64) -> Option<StepPoint> {
        self.view_until(u64::MAX).recent(raw_steps)
    }

    /// The leaderboard line of this lane (see [`super::LaneView::summary`]).
    pub fn summary(&self, batch_size: usize) -> LaneSummary {
        self.view_until(u64::MAX).summary(batch_size)
    }
}

/// One leaderboard row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneSummary {
    /// Lane name.
    pub name: String,
    /// Estimator description.
    pub estimator: String,
    /// Steps taken.
    pub steps: u64,
    /// Cross-entropy over the last ~50 steps.
    pub train_loss: Option<f32>,
    /// Latest held-out error.
    pub heldout_error: Option<f32>,
    /// Latest held-out loss.
    pub heldout_loss: Option<f32>,
    /// Training firing rate over the last [`super::view::FIRING_WINDOW`] steps.
    pub firing_rate: Option<f32>,
    /// The firing rate has strayed from the lane's target (see [`super::view::OffTarget`]).
    #[serde(default)]
    pub off_target: bool,
    /// The training loss has run far above where it started while staying finite (see
    /// [`super::view::BlowUp`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub blowing_up: bool,
    /// Share of the main path's multiply-adds skipped.
    pub compute_saved: Option<f32>,
    /// Share saved after paying for the gater.
    pub net_compute_saved: Option<f32>,
    /// Measured seconds per step over the last ~50 steps.
    pub seconds_per_step: Option<f32>,
    /// Training examples per second over the last ~50 steps.
    pub examples_per_second: Option<f32>,
    /// Status.
    pub status: LaneStatus,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl LaneSummary {
    /// The status for tables: the lane's status, then "blowing up" when its loss has run away
    /// and "off target" when its firing rate has strayed from the target.
    pub fn status_label(&self) -> String {
        let mut label = self.status.label();
        if self.blowing_up {
            label.push_str(", blowing up");
        }
        if self.off_target {
            label.push_str(", off target");
        }
        label
    }
}

/// The history of a whole race.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Recorder {
    /// The race (None until it started).
    pub info: Option<RaceInfo>,
    /// One history per lane.
    pub lanes: Vec<LaneHistory>,
    /// True while the race is paused.
    pub paused: bool,
    /// True once every lane has ended.
    pub finished: bool,
    /// Pauses, continuations, ends and resumptions, in order.
    pub events: Vec<RaceEvent>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    /// Folds one engine event into the history.
    pub fn apply(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Started { info, lanes } => {
                self.info = Some(info);
                self.lanes = lanes.into_iter().map(LaneHistory::new).collect();
                self.finished = false;
            }
            EngineEvent::Steps { lane, points } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    points.into_iter().for_each(|p| h.steps.push(p));
                }
            }
            EngineEvent::Eval { lane, point } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.evals.push(point);
                }
            }
            EngineEvent::Probe { lane, point } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.probes.push(point);
                }
            }
            EngineEvent::Trajectory { lane, point } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.trajectory.push(point);
                }
            }
            EngineEvent::Heat { lane, row } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.heat.push(row);
                }
            }
            EngineEvent::ClassFiring { lane, snapshot } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.class_firing = Some(snapshot);
                }
            }
            EngineEvent::Status { lane, status } => {
                if let Some(h) = self.lanes.get_mut(lane) {
                    h.status = status;
                    let step = h.last_step();
                    h.events.push(LaneEvent { step, status });
                }
            }
            EngineEvent::Paused(p) => {
                if p != self.paused {
                    let kind = if p {
                        RaceEventKind::Paused
                    } else {
                        RaceEventKind::Continued
                    };
                    self.note(kind);
                }
                self.paused = p;
            }
            EngineEvent::Finished => {
                self.finished = true;
                self.paused = false;
                self.note(RaceEventKind::Finished);
            }
            EngineEvent::Resumed { info, lanes } => {
                let same = self.lanes.len() == lanes.len()
                    && self.lanes.iter().zip(&lanes).all(|(h, l)| {
                        h.info.name == l.name && h.info.seed_or(info.seed) == l.seed_or(info.seed)
                    });
                if same {
                    for (h, l) in self.lanes.iter_mut().zip(lanes) {
                        h.info = l;
                    }
                } else {
                    // Not the history of this race: start a new one rather than mix them.
                    self.lanes = lanes.into_iter().map(LaneHistory::new).collect();
                }
                self.info = Some(info);
                self.finished = false;
                self.paused = false;
                self.note(RaceEventKind::Resumed);
            }
            // The state of the engine, not history: saved by the session writer.
            EngineEvent::Checkpoint { .. } => {}
        }
    }

    fn note(&mut self, kind: RaceEventKind) {
        let step = self.step();
        self.events.push(RaceEvent { step, kind });
    }

    /// The furthest step any lane has reached.
    pub fn step(&self) -> u64 {
        self.lanes
            .iter()
            .map(LaneHistory::last_step)
            .max()
            .unwrap_or(0)
    }

    /// The lanes grouped by name — a lane over its seeds — as indices into [`Self::lanes`], in
    /// the order the names first appear, each group in recorded (seed) order.
    pub fn lanes_by_name(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, h) in self.lanes.iter().enumerate() {
            match groups
                .iter_mut()
                .find(|g| self.lanes[g[0]].info.name == h.info.name)
            {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        groups
    }

    /// How a lane is named in text: its name in a race of one seed, "name (seed s)" in a race
    /// of several, where each name stands once per seed.
    pub fn lane_label(&self, lane: &LaneHistory) -> String {
        match &self.info {
            Some(info) if info.seeds.len() > 1 => {
                format!("{} (seed {})", lane.info.name, lane.info.seed_or(info.seed))
            }
            _ => lane.info.name.clone(),
        }
    }

    /// Leaderboard rows, in lane order.
    pub fn summaries(&self) -> Vec<LaneSummary> {
        let batch = self.info.as_ref().map_or(1, |i| i.batch_size);
        self.lanes.iter().map(|l| l.summary(batch)).collect()
    }
}
