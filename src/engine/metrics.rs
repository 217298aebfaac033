//! What a lane reports: one record type per kind of measurement.

use serde::{Deserialize, Serialize};

/// A point that can absorb the point recorded right after it (how a history halves its
/// resolution, see [`crate::history::series`]).
pub trait Merge: Clone {
    /// Folds `newer` (the following point) into `self`.
    fn merge(&mut self, newer: &Self);
}

/// Training metrics of one step (or the average of `count` consecutive steps once the recorder
/// has reduced the resolution of a long run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct StepPoint {
    /// Global step reached (1-based: the step just taken).
    pub step: u64,
    /// Raw steps averaged into this point.
    pub count: u32,
    /// Batch-mean cross-entropy.
    pub cross_entropy: f32,
    /// Sparsity penalty Ω.
    pub sparsity_penalty: f32,
    /// Minibatch accuracy.
    pub accuracy: f32,
    /// Fraction of gates not exactly zero.
    pub firing_rate: f32,
    /// λ of the sparsity penalty.
    pub sparsity_weight: f32,
    /// Main-path multiply-adds per step if every expert were computed.
    pub dense_main_macs: f64,
    /// Main-path multiply-adds per step for the active experts only.
    pub active_main_macs: f64,
    /// Gater multiply-adds per step.
    pub gater_macs: f64,
    /// Measured wall time of the step, in seconds (not reproducible, unlike everything else).
    pub seconds: f32,
}

/// Held-out loss and error with the deterministic test-time gates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalPoint {
    /// Step at which it was measured.
    pub step: u64,
    /// Points averaged into this one.
    pub count: u32,
    /// Mean cross-entropy.
    pub loss: f32,
    /// Error rate.
    pub error: f32,
    /// Fraction of test-time gates that fire.
    pub firing_rate: f32,
}

/// The estimator-variance probe: K gate resamples on a fixed minibatch at the current
/// parameters, gradient of the gate layer (W₂, b₂) each time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ProbePoint {
    /// Step at which it was measured.
    pub step: u64,
    /// Points averaged into this one.
    pub count: u32,
    /// Mean over coordinates of the per-coordinate sample variance across the K resamples.
    pub variance: f64,
    /// Squared norm of the mean gradient (the signal).
    pub signal: f64,
}

impl ProbePoint {
    /// Signal-to-noise ratio ‖E ĝ‖² / mean per-coordinate variance (∞ for a noiseless gate).
    pub fn snr(&self) -> f64 {
        if self.variance > 0.0 {
            self.signal / self.variance
        } else {
            f64::INFINITY
        }
    }
}

/// Firing rate of every gate unit averaged over a window of steps, quantised to 0..=255.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HeatRow {
    /// Last step of the window.
    pub step: u64,
    /// Rows averaged into this one.
    pub count: u32,
    /// Per gate unit: round(255 × firing rate).
    pub rates: Vec<u8>,
}

/// Firing rate of every gate unit for every class, over the steps since the previous snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ClassFiring {
    /// Last step of the window.
    pub step: u64,
    /// Number of classes.
    pub classes: usize,
    /// Number of gate units.
    pub units: usize,
    /// classes × units, row-major: round(255 × rate); 0 for a class not seen in the window.
    pub rates: Vec<u8>,
}

/// Where a lane is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LaneStatus {
    /// Training.
    #[default]
    Running,
    /// Its loss or parameters became NaN or infinite at this step; it stopped.
    Diverged {
        /// The step.
        step: u64,
    },
    /// Stopped by the user at this step.
    Stopped {
        /// The step.
        step: u64,
    },
    /// Reached the planned number of steps.
    Done,
}

impl LaneStatus {
    /// True while the lane trains.
    pub fn is_running(self) -> bool {
        self == LaneStatus::Running
    }

    /// Short text for tables.
    pub fn label(self) -> String {
        match self {
            LaneStatus::Running => "running".into(),
            LaneStatus::Diverged { step } => format!("diverged at step {step}"),
            LaneStatus::Stopped { step } => format!("stopped at step {step}"),
            LaneStatus::Done => "done".into(),
        }
    }
}

fn weighted(a: f32, wa: u32, b: f32, wb: u32) -> f32 {
    ((a as f64 * wa as f64 + b as f64 * wb as f64) / (wa + wb).max(1) as f64) as f32
}

fn weighted64(a: f64, wa: u32, b: f64, wb: u32) -> f64 {
    (a * wa as f64 + b * wb as f64) / (wa + wb).max(1) as f64
}

impl Merge for StepPoint {
    fn merge(&mut self, newer: &Self) {
        let (a, b) = (self.count, newer.count);
        self.cross_entropy = weighted(self.cross_entropy, a, newer.cross_entropy, b);
        self.sparsity_penalty = weighted(self.sparsity_penalty, a, newer.sparsity_penalty, b);
        self.accuracy = weighted(self.accuracy, a, newer.accuracy, b);
        self.firing_rate = weighted(self.firing_rate, a, newer.firing_rate, b);
        self.sparsity_weight = newer.sparsity_weight;
        self.dense_main_macs = weighted64(self.dense_main_macs, a, newer.dense_main_macs, b);
        self.active_main_macs = weighted64(self.active_main_macs, a, newer.active_main_macs, b);
        self.gater_macs = weighted64(self.gater_macs, a, newer.gater_macs, b);
        self.seconds = weighted(self.seconds, a, newer.seconds, b);
        self.step = newer.step;
        self.count = a + b;
    }
}

impl Merge for EvalPoint {
    fn merge(&mut self, newer: &Self) {
        let (a, b) = (self.count, newer.count);
        self.loss = weighted(self.loss, a, newer.loss, b);
        self.error = weighted(self.error, a, newer.error, b);
        self.firing_rate = weighted(self.firing_rate, a, newer.firing_rate, b);
        self.step = newer.step;
        self.count = a + b;
    }
}

impl Merge for ProbePoint {
    fn merge(&mut self, newer: &Self) {
        let (a, b) = (self.count, newer.count);
        self.variance = weighted64(self.variance, a, newer.variance, b);
        self.signal = weighted64(self.signal, a, newer.signal, b);
        self.step = newer.step;
        self.count = a + b;
    }
}

impl Merge for HeatRow {
    fn merge(&mut self, newer: &Self) {
        let (a, b) = (self.count, newer.count);
        if self.rates.len() == newer.rates.len() {
            for (x, &y) in self.rates.iter_mut().zip(&newer.rates) {
                *x = weighted(*x as f32, a, y as f32, b).round() as u8;
            }
        } else {
            self.rates = newer.rates.clone();
        }
        self.step = newer.step;
        self.count = a + b;
    }
}
