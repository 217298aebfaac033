//! The serialisable description of an estimator (as written in experiment files) and the
//! factory that builds it.

use serde::{Deserialize, Serialize};

use super::{
    Baseline, BetaNoise, GateEstimator, NoGates, NoisyRectifier, RectifierNoise, SigmoidGate,
    StochasticTimesSmooth, StraightThrough, StraightThroughVariant, StsBernoulli, UnbiasedBinary,
};

/// The paper's estimator families and its reference lanes (the paper's "baselines": dense,
/// sigmoid gates; "baseline" in gradrace names only the unbiased estimator's L̄).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Stochastic binary neuron with the unbiased estimator.
    Unbiased,
    /// Stochastic times smooth.
    StochasticTimesSmooth,
    /// Noise injection into rectifiers (and the noiseless rectifier reference lane).
    NoisyRectifier,
    /// Straight-through.
    StraightThrough,
    /// Deterministic sigmoid gates (reference lane).
    Sigmoid,
    /// No gates (reference lane).
    Dense,
}

impl Family {
    /// Short name used on screen.
    pub fn short_name(self) -> &'static str {
        match self {
            Family::Unbiased => "unbiased",
            Family::StochasticTimesSmooth => "sts",
            Family::NoisyRectifier => "rectifier",
            Family::StraightThrough => "straight-through",
            Family::Sigmoid => "sigmoid",
            Family::Dense => "dense",
        }
    }
}

/// An estimator option outside its allowed range, e.g. `noise.keep = 1.5 must be in (0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{field} = {value} must be {allowed}")]
pub struct InvalidOption {
    /// The option as written in experiment files, e.g. `noise.keep`.
    pub field: &'static str,
    /// Its value.
    pub value: f32,
    /// The allowed range, e.g. `in (0, 1]`.
    pub allowed: &'static str,
}

/// An estimator and its options, as written in an experiment file, e.g.
/// `StraightThrough(variant: Identity)` or `Unbiased(baseline: OptimalPerUnit)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum EstimatorSpec {
    /// Stochastic binary neuron, unbiased estimator.
    Unbiased {
        /// The baseline subtracted from the loss.
        #[serde(default)]
        baseline: Baseline,
    },
    /// Stochastic times smooth.
    StochasticTimesSmooth {
        /// Distribution of the binary factor.
        #[serde(default)]
        bernoulli: StsBernoulli,
        /// Beta noise before the sigmoid in training.
        #[serde(default)]
        beta_noise: Option<BetaNoise>,
    },
    /// Rectifier gate with injected noise (`None` noise: the rectifier baseline).
    NoisyRectifier {
        /// The injected noise.
        #[serde(default)]
        noise: RectifierNoise,
    },
    /// Straight-through.
    StraightThrough {
        /// Backward rule.
        #[serde(default)]
        variant: StraightThroughVariant,
    },
    /// Deterministic sigmoid gates, with optional Gaussian noise in training.
    Sigmoid {
        /// Noise standard deviation (0: none).
        #[serde(default)]
        noise_std: f32,
    },
    /// The dense net with no gates.
    Dense,
}

impl EstimatorSpec {
    /// The names of the estimator kinds, as accepted in experiment files.
    pub const NAMES: [&'static str; 6] = [
        "Unbiased",
        "StochasticTimesSmooth",
        "NoisyRectifier",
        "StraightThrough",
        "Sigmoid",
        "Dense",
    ];

    /// The family.
    pub fn family(&self) -> Family {
        match self {
            EstimatorSpec::Unbiased { .. } => Family::Unbiased,
            EstimatorSpec::StochasticTimesSmooth { .. } => Family::StochasticTimesSmooth,
            EstimatorSpec::NoisyRectifier { .. } => Family::NoisyRectifier,
            EstimatorSpec::StraightThrough { .. } => Family::StraightThrough,
            EstimatorSpec::Sigmoid { .. } => Family::Sigmoid,
            EstimatorSpec::Dense => Family::Dense,
        }
    }

    /// Whether the lane's firing rate, the share of gates that are exactly zero, is held to the
    /// sparsity target: false for the dense baseline (no gates) and the sigmoid gates, which are
    /// never exactly zero (their penalty targets the mean gate value instead).
    pub fn targets_firing_rate(&self) -> bool {
        !matches!(self.family(), Family::Sigmoid | Family::Dense)
    }

    /// Checks the options; the error names the offending field and its allowed range.
    pub fn validate(&self) -> Result<(), InvalidOption> {
        let invalid = |field, value, allowed| {
            Err(InvalidOption {
                field,
                value,
                allowed,
            })
        };
        match *self {
            EstimatorSpec::StochasticTimesSmooth {
                beta_noise: Some(n),
                ..
            } => {
                if !(n.mode > 0.0 && n.mode < 1.0) {
                    return invalid("beta_noise.mode", n.mode, "in (0, 1)");
                }
                if !(n.beta > 1.0 && n.beta.is_finite()) {
                    return invalid("beta_noise.beta", n.beta, "> 1");
                }
                Ok(())
            }
            EstimatorSpec::NoisyRectifier { noise } => match noise {
                RectifierNoise::Gaussian { std } if !(std >= 0.0 && std.is_finite()) => {
                    invalid("noise.std", std, "≥ 0")
                }
                RectifierNoise::Logistic { scale } if !(scale > 0.0 && scale.is_finite()) => {
                    invalid("noise.scale", scale, "> 0")
                }
                RectifierNoise::Multiplicative { keep } if !(keep > 0.0 && keep <= 1.0) => {
                    invalid("noise.keep", keep, "in (0, 1]")
                }
                _ => Ok(()),
            },
            EstimatorSpec::Sigmoid { noise_std }
                if !(noise_std >= 0.0 && noise_std.is_finite()) =>
            {
                invalid("noise_std", noise_std, "≥ 0")
            }
            _ => Ok(()),
        }
    }

    /// Builds the estimator.
    pub fn build(&self) -> Box<dyn GateEstimator> {
        match *self {
            EstimatorSpec::Unbiased { baseline } => Box::new(UnbiasedBinary::new(baseline)),
            EstimatorSpec::StochasticTimesSmooth {
                bernoulli,
                beta_noise,
            } => Box::new(StochasticTimesSmooth::new(bernoulli, beta_noise)),
            EstimatorSpec::NoisyRectifier { noise } => Box::new(NoisyRectifier::new(noise)),
            EstimatorSpec::StraightThrough { variant } => Box::new(StraightThrough::new(variant)),
            EstimatorSpec::Sigmoid { noise_std } => Box::new(SigmoidGate { noise_std }),
            EstimatorSpec::Dense => Box::new(NoGates),
        }
    }
}
