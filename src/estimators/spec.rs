//! The serialisable description of an estimator (as written in experiment files) and the
//! factory that builds it.

use serde::{Deserialize, Serialize};

use super::{
    Arm, Baseline, BetaNoise, BinaryConcrete, ConcreteVariant, DisArm, GateEstimator, GumbelRao,
    NoGates, NoisyRectifier, RectifierNoise, ReinMax, ReinforceLeaveOneOut, SigmoidGate,
    StochasticTimesSmooth, StraightThrough, StraightThroughVariant, StsBernoulli, Temperature,
    UnbiasedBinary,
};

/// The paper's estimator families and its reference lanes (the paper's "baselines": dense,
/// sigmoid gates; "baseline" in gradrace names only the unbiased estimator's L̄).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Stochastic binary neuron with the unbiased estimator.
    Unbiased,
    /// REINFORCE with the leave-one-out baseline over K draws (Kool et al. 2019).
    ReinforceLeaveOneOut,
    /// ARM, augment-REINFORCE-merge (Yin & Zhou 2019).
    Arm,
    /// DisARM / U2G (Dong, Mnih & Tucker 2020; Yin et al. 2020).
    DisArm,
    /// Binary Concrete / Gumbel-sigmoid, relaxed or straight-through (Maddison et al. 2017;
    /// Jang et al. 2017).
    BinaryConcrete,
    /// Gumbel-Rao (Paulus et al. 2021).
    GumbelRao,
    /// ReinMax (Liu et al. 2023).
    ReinMax,
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
    /// Whether the family's gater learns at a rate of its own (the REINFORCE-type estimators:
    /// 0.001 on the minibatch sum, as the authors' code has it), not the experiment's rate.
    pub fn has_own_gater_learning_rate(self) -> bool {
        self.is_reinforce_type()
    }

    /// The estimators that only broadcast the loss to the gates (score-function estimators):
    /// the paper's unbiased estimator, REINFORCE leave-one-out, ARM, DisARM.
    pub fn is_reinforce_type(self) -> bool {
        matches!(
            self,
            Family::Unbiased | Family::ReinforceLeaveOneOut | Family::Arm | Family::DisArm
        )
    }

    /// Short name used on screen.
    pub fn short_name(self) -> &'static str {
        match self {
            Family::Unbiased => "unbiased",
            Family::ReinforceLeaveOneOut => "rloo",
            Family::Arm => "arm",
            Family::DisArm => "disarm",
            Family::BinaryConcrete => "concrete",
            Family::GumbelRao => "gumbel-rao",
            Family::ReinMax => "reinmax",
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
    /// REINFORCE with the leave-one-out baseline over `samples` draws.
    ReinforceLeaveOneOut {
        /// Draws K per example and step (2 to 64).
        #[serde(default = "default_loo_samples")]
        samples: usize,
    },
    /// ARM on the antithetic pair of gate vectors (two evaluations).
    Arm,
    /// DisARM on the antithetic pair of gate vectors (two evaluations).
    DisArm,
    /// Binary Concrete (Gumbel-sigmoid), relaxed or straight-through.
    BinaryConcrete {
        /// Relaxed or straight-through.
        #[serde(default)]
        variant: ConcreteVariant,
        /// The temperature's schedule (default: 2/3 relaxed, 1 straight-through).
        #[serde(default)]
        temperature: Option<Temperature>,
    },
    /// Gumbel-Rao: straight-through Gumbel averaged over `samples` conditional noise draws.
    GumbelRao {
        /// Conditional draws M per gate (1 to 1000).
        #[serde(default = "default_rao_samples")]
        samples: usize,
        /// The temperature's schedule.
        #[serde(default)]
        temperature: Temperature,
    },
    /// ReinMax for Bernoulli gates.
    ReinMax {
        /// The temperature's schedule (every τ ≥ 1).
        #[serde(default)]
        temperature: Temperature,
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
    pub const NAMES: [&'static str; 12] = [
        "Unbiased",
        "ReinforceLeaveOneOut",
        "Arm",
        "DisArm",
        "BinaryConcrete",
        "GumbelRao",
        "ReinMax",
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
            EstimatorSpec::ReinforceLeaveOneOut { .. } => Family::ReinforceLeaveOneOut,
            EstimatorSpec::Arm => Family::Arm,
            EstimatorSpec::DisArm => Family::DisArm,
            EstimatorSpec::BinaryConcrete { .. } => Family::BinaryConcrete,
            EstimatorSpec::GumbelRao { .. } => Family::GumbelRao,
            EstimatorSpec::ReinMax { .. } => Family::ReinMax,
            EstimatorSpec::StochasticTimesSmooth { .. } => Family::StochasticTimesSmooth,
            EstimatorSpec::NoisyRectifier { .. } => Family::NoisyRectifier,
            EstimatorSpec::StraightThrough { .. } => Family::StraightThrough,
            EstimatorSpec::Sigmoid { .. } => Family::Sigmoid,
            EstimatorSpec::Dense => Family::Dense,
        }
    }

    /// Whether the lane's firing rate, the share of gates that are not exactly zero, is held to
    /// the sparsity target: false for the dense reference lane (no gates), the sigmoid gates and
    /// the relaxed binary Concrete, which are never exactly zero (their penalty targets the mean
    /// firing probability instead).
    pub fn targets_firing_rate(&self) -> bool {
        !matches!(
            self,
            EstimatorSpec::Sigmoid { .. }
                | EstimatorSpec::Dense
                | EstimatorSpec::BinaryConcrete {
                    variant: ConcreteVariant::Relaxed,
                    ..
                }
        )
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
            EstimatorSpec::ReinforceLeaveOneOut { samples } if !(2..=64).contains(&samples) => {
                invalid("samples", samples as f32, "in 2..=64")
            }
            EstimatorSpec::BinaryConcrete {
                temperature: Some(t),
                ..
            } => t.validate(false),
            EstimatorSpec::GumbelRao {
                samples,
                temperature,
            } => {
                if !(1..=1000).contains(&samples) {
                    return invalid("samples", samples as f32, "in 1..=1000");
                }
                temperature.validate(false)
            }
            EstimatorSpec::ReinMax { temperature } => temperature.validate(true),
            EstimatorSpec::Sigmoid { noise_std }
                if !(noise_std >= 0.0 && noise_std.is_finite()) =>
            {
                invalid("noise_std", noise_std, "≥ 0")
            }
            _ => Ok(()),
        }
    }

    /// The temperature schedule of the estimators that have one (binary Concrete, Gumbel-Rao,
    /// ReinMax), as the estimator is built with it.
    pub fn temperature(&self) -> Option<Temperature> {
        match *self {
            EstimatorSpec::BinaryConcrete {
                variant,
                temperature,
            } => Some(temperature.unwrap_or(concrete_temperature(variant))),
            EstimatorSpec::GumbelRao { temperature, .. }
            | EstimatorSpec::ReinMax { temperature } => Some(temperature),
            _ => None,
        }
    }

    /// Builds the estimator.
    pub fn build(&self) -> Box<dyn GateEstimator> {
        match *self {
            EstimatorSpec::Unbiased { baseline } => Box::new(UnbiasedBinary::new(baseline)),
            EstimatorSpec::ReinforceLeaveOneOut { samples } => {
                Box::new(ReinforceLeaveOneOut { samples })
            }
            EstimatorSpec::Arm => Box::new(Arm),
            EstimatorSpec::DisArm => Box::new(DisArm),
            EstimatorSpec::BinaryConcrete {
                variant,
                temperature,
            } => Box::new(BinaryConcrete::new(
                variant,
                temperature.unwrap_or(concrete_temperature(variant)),
            )),
            EstimatorSpec::GumbelRao {
                samples,
                temperature,
            } => Box::new(GumbelRao::new(samples, temperature)),
            EstimatorSpec::ReinMax { temperature } => Box::new(ReinMax::new(temperature)),
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

/// The binary Concrete's temperature when the experiment file gives none: 2/3 relaxed, 1
/// straight-through.
fn concrete_temperature(variant: ConcreteVariant) -> Temperature {
    match variant {
        ConcreteVariant::Relaxed => Temperature::Constant(2.0 / 3.0),
        ConcreteVariant::StraightThrough => Temperature::Constant(1.0),
    }
}

fn default_loo_samples() -> usize {
    2
}

fn default_rao_samples() -> usize {
    10
}
