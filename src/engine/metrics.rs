//! What a lane reports: one record type per kind of measurement.

use serde::{Deserialize, Serialize};

/// A point that can absorb the point recorded right after it (how a history halves its
/// resolution, see [`crate::history::series`]).
pub trait Merge: Clone {
    /// Folds `newer` (the following point) into `self`.
    fn merge(&mut self, newer: &Self);
}

/// One scalar a lane reports, as declared with its point type: what the session file, the text
/// replay, exports and the charts know of it.
#[derive(Debug, Clone, Copy)]
pub struct Metric<P> {
    /// The field's name: the column name in sessions and exports.
    pub name: &'static str,
    /// What it is, for people: axis titles and table headers.
    pub label: &'static str,
    /// Its unit ("" for a pure number).
    pub unit: &'static str,
    /// How points merge when a history halves its resolution.
    pub merge: MergeRule,
    /// The value of a point, as f64.
    pub value: fn(&P) -> f64,
}

/// How two neighbouring points of a series become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRule {
    /// The mean of the two, weighted by the raw points each covers.
    Mean,
    /// The newer point's value (a state, such as the adaptive λ).
    Last,
}

/// The weighted mean of two values covering `wa` and `wb` raw points, computed in f64.
pub trait WeightedMean: Copy {
    /// (a·wa + b·wb) / (wa + wb).
    fn weighted(a: Self, wa: u32, b: Self, wb: u32) -> Self;
}

impl WeightedMean for f32 {
    fn weighted(a: f32, wa: u32, b: f32, wb: u32) -> f32 {
        ((a as f64 * wa as f64 + b as f64 * wb as f64) / (wa + wb).max(1) as f64) as f32
    }
}

impl WeightedMean for f64 {
    fn weighted(a: f64, wa: u32, b: f64, wb: u32) -> f64 {
        (a * wa as f64 + b * wb as f64) / (wa + wb).max(1) as f64
    }
}

/// A point type with its scalar metrics declared once (see [`declare_points`]).
pub trait Metrics: Sized + 'static {
    /// Every scalar of the point, in declaration order.
    const METRICS: &'static [Metric<Self>];

    /// The step of the point (the last raw step it covers).
    fn step(&self) -> u64;

    /// The raw points merged into it.
    fn count(&self) -> u32;

    /// The declared metric called `name`.
    fn metric(name: &str) -> Option<&'static Metric<Self>> {
        Self::METRICS.iter().find(|m| m.name == name)
    }
}

/// Declares a point type of scalar metrics: the struct (with `step` and `count` first), its
/// [`Merge`] (each field by its [`MergeRule`]) and its [`Metrics`] table. Used with the field
/// lists of [`step_metrics`], [`eval_metrics`] and [`probe_metrics`], which the session format
/// expands into its columns as well.
macro_rules! declare_points {
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
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
        pub struct $point {
            /// The step it was measured at (the last raw step it covers).
            pub step: u64,
            /// Raw points merged into this one.
            pub count: u32,
            $(
                $(#[$fdoc])*
                pub $field: $t,
            )*
        }

        impl Merge for $point {
            fn merge(&mut self, newer: &Self) {
                let (a, b) = (self.count, newer.count);
                $(
                    self.$field = match MergeRule::$merge {
                        MergeRule::Mean => WeightedMean::weighted(self.$field, a, newer.$field, b),
                        MergeRule::Last => newer.$field,
                    };
                )*
                self.step = newer.step;
                self.count = a + b;
            }
        }

        impl Metrics for $point {
            const METRICS: &'static [Metric<$point>] = &[
                $(
                    Metric {
                        name: stringify!($field),
                        label: $label,
                        unit: $unit,
                        merge: MergeRule::$merge,
                        value: |p: &$point| p.$field as f64,
                    },
                )*
            ];

            fn step(&self) -> u64 {
                self.step
            }

            fn count(&self) -> u32 {
                self.count
            }
        }
    };
}

/// The training metrics of one step, declared once: expanded into [`StepPoint`] here and into
/// the session format's columns (`session::format`). A field that older sessions lack gives its
/// `older` value to every point loaded from them. To add a metric: a line here, and the code
/// that computes it (the lane runner).
macro_rules! step_metrics {
    ($then:ident) => {
        $then! {
            /// Training metrics of one step (or the average of `count` consecutive steps once the
            /// recorder has reduced the resolution of a long run).
            StepPoint / StepColumns {
                /// Batch-mean cross-entropy.
                cross_entropy: f32 => Mean, "training loss", "nats";
                /// Sparsity penalty Ω.
                sparsity_penalty: f32 => Mean, "sparsity penalty", "";
                /// Minibatch accuracy.
                accuracy: f32 => Mean, "minibatch accuracy", "fraction";
                /// Fraction of gates not exactly zero.
                firing_rate: f32 => Mean, "firing rate", "fraction";
                /// λ of the sparsity penalty (the newest: it is a state, adapted step by step).
                sparsity_weight: f32 => Last, "sparsity weight λ", "";
                /// Main-path multiply-adds per step if every expert were computed.
                dense_main_macs: f64 => Mean, "dense main-path multiply-adds", "per step";
                /// Main-path multiply-adds per step actually done, over every evaluation.
                active_main_macs: f64 => Mean, "main-path multiply-adds done", "per step";
                /// Gater multiply-adds per step.
                gater_macs: f64 => Mean, "gater multiply-adds", "per step";
                /// Measured wall time of the step (not reproducible, unlike everything else).
                seconds: f32 => Mean, "time per step", "s";
                /// Main-path forward passes (evaluations of the loss) per step.
                evaluations: f32 => Mean, "main-path evaluations", "per step", older: 1.0;
                /// Main-path backward passes per step.
                backward_passes: f32 => Mean, "main-path backward passes", "per step", older: 1.0;
            }
        }
    };
}

/// The held-out metrics of an evaluation, declared once (see [`step_metrics`]).
macro_rules! eval_metrics {
    ($then:ident) => {
        $then! {
            /// Held-out loss and error with the deterministic test-time gates.
            EvalPoint / EvalColumns {
                /// Mean cross-entropy.
                loss: f32 => Mean, "held-out loss", "nats";
                /// Error rate.
                error: f32 => Mean, "held-out error", "fraction";
                /// Fraction of test-time gates that fire.
                firing_rate: f32 => Mean, "test-time firing rate", "fraction";
            }
        }
    };
}

/// The estimator-variance probe's metrics, declared once (see [`step_metrics`]).
macro_rules! probe_metrics {
    ($then:ident) => {
        $then! {
            /// The estimator-variance probe: K gate resamples on a fixed minibatch at the current
            /// parameters, gradient of the gate layer (W₂, b₂) each time.
            ProbePoint / ProbeColumns {
                /// Mean over coordinates of the per-coordinate sample variance across the K
                /// resamples.
                variance: f64 => Mean, "estimator variance", "per coordinate";
                /// Squared norm of the mean gradient (the signal).
                signal: f64 => Mean, "squared norm of the mean gradient", "";
                /// Jackknife standard error of `variance` over the K resamples (NaN in sessions
                /// saved before it was measured).
                variance_se: f64 => Mean, "standard error of the estimator variance",
                    "per coordinate", older: f64::NAN;
            }
        }
    };
}

/// The same-trajectory probe's metrics, declared once (see [`step_metrics`]).
macro_rules! trajectory_metrics {
    ($then:ident) => {
        $then! {
            /// The same-trajectory probe of one lane's estimator: `metrics.probe_samples`
            /// estimates of ∂L/∂a on the probe minibatch at the reference lane's parameters,
            /// against the reference gradient there (see [`crate::lab::measure`]).
            TrajectoryPoint / TrajectoryColumns {
                /// cosine(E ĝ, g).
                cosine: f64 => Mean, "cosine to the reference gradient", "";
                /// ‖E ĝ − g‖ / ‖g‖, the noise of both means removed.
                relative_bias: f64 => Mean, "relative bias", "of ‖g‖";
                /// Its standard error.
                relative_bias_se: f64 => Mean, "standard error of the relative bias", "of ‖g‖";
                /// tr Σ, the total variance of one estimate.
                total_variance: f64 => Mean, "total variance", "tr Σ";
                /// ‖E ĝ‖², the noise of the mean removed (the signal of the SNR).
                signal: f64 => Mean, "squared norm of the mean estimate", "";
                /// ‖g‖ of the reference gradient.
                reference_norm: f64 => Mean, "norm of the reference gradient", "";
            }
        }
    };
}

pub(crate) use {eval_metrics, probe_metrics, step_metrics, trajectory_metrics};

step_metrics!(declare_points);
eval_metrics!(declare_points);
probe_metrics!(declare_points);
trajectory_metrics!(declare_points);

impl TrajectoryPoint {
    /// The measurement of a lane's estimates (see [`crate::lab::BiasVariance`]).
    pub fn of(step: u64, m: &crate::lab::BiasVariance) -> Self {
        TrajectoryPoint {
            step,
            count: 1,
            cosine: m.cosine,
            relative_bias: m.relative_bias,
            relative_bias_se: m.relative_bias_se,
            total_variance: m.total_variance,
            signal: m.signal,
            reference_norm: m.reference_norm,
        }
    }

    /// Signal-to-noise ratio ‖E ĝ‖² / tr Σ: both sums run over every coordinate, so it does not
    /// grow with the layer's size (∞ for a noiseless estimator).
    pub fn snr(&self) -> f64 {
        if self.total_variance > 0.0 {
            self.signal / self.total_variance
        } else {
            f64::INFINITY
        }
    }

    /// √tr Σ / ‖g‖: the noise of one estimate relative to the reference gradient's size (the
    /// y of the bias–variance picture, as the relative bias is its x).
    pub fn relative_noise(&self) -> f64 {
        self.total_variance.sqrt() / self.reference_norm
    }
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
    WeightedMean::weighted(a, wa, b, wb)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Declared metrics merge by their rule: means weighted by the raw points each side covers,
    /// states (λ) by the newer value.
    #[test]
    fn points_merge_by_their_declared_rules() {
        let mut a = StepPoint {
            step: 10,
            count: 3,
            cross_entropy: 1.0,
            sparsity_weight: 0.5,
            evaluations: 2.0,
            ..StepPoint::default()
        };
        let b = StepPoint {
            step: 11,
            count: 1,
            cross_entropy: 5.0,
            sparsity_weight: 0.25,
            evaluations: 2.0,
            ..StepPoint::default()
        };
        a.merge(&b);
        assert_eq!((a.step, a.count), (11, 4));
        assert_eq!(a.cross_entropy, 2.0);
        assert_eq!(a.sparsity_weight, 0.25);
        assert_eq!(a.evaluations, 2.0);
        let names: Vec<&str> = StepPoint::METRICS.iter().map(|m| m.name).collect();
        assert_eq!(names[0], "cross_entropy");
        let lambda = StepPoint::metric("sparsity_weight").unwrap();
        assert_eq!(lambda.merge, MergeRule::Last);
        assert_eq!((lambda.value)(&a), 0.25);
        assert!(EvalPoint::metric("error").is_some() && ProbePoint::metric("signal").is_some());
    }
}
