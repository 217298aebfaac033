//! Training settings of a lane. Defaults follow the paper's Appendix A and the authors' released
//! code (see `PAPER.md`).

use serde::{Deserialize, Serialize};

use crate::estimators::{ConcreteVariant, EstimatorSpec, Family};
use crate::nn::Activation;

/// How the estimator's gradient for the gater is reduced over the minibatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GaterReduction {
    /// Gradient of the batch-mean loss.
    #[default]
    Mean,
    /// Gradient of the batch-summed loss (B times the mean): what the authors' code does for
    /// the unbiased estimator, with its gater learning rate of 0.001.
    Sum,
}

/// Everything that decides how one lane trains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LaneSettings {
    /// The gate estimator.
    pub estimator: EstimatorSpec,
    /// SGD learning rate of the main path and classifier.
    pub learning_rate: f32,
    /// SGD learning rate of the gater.
    pub gater_learning_rate: f32,
    /// Momentum (all parameters).
    pub momentum: f32,
    /// Target firing rate s.
    pub sparsity_target: f32,
    /// λ of the cross-entropy sparsity penalty, or the initial λ of the adaptive L1 penalty.
    pub sparsity_weight: f32,
    /// Mean or sum over the minibatch for the gater's gradient.
    pub gater_reduction: GaterReduction,
    /// Max norm of every unit's incoming weight vector (None: no constraint).
    pub max_norm: Option<f32>,
    /// Non-linearity of the experts (overrides the network's).
    pub expert_activation: Activation,
}

impl LaneSettings {
    /// The paper's settings for `estimator`: lr 0.1, max-norm 2, target 10%; the unbiased
    /// estimator's gater learns at 0.001 with a summed gradient and λ = 1; straight-through
    /// λ = 0.1; STS λ = 0.001 and momentum 0.5; rectifiers start the adaptive L1 at 1e-5. The
    /// paper gives no λ for the sigmoid reference lanes: 0.01, between STS's and
    /// straight-through's, keeps their mean gate near the target without dominating the loss.
    ///
    /// The later estimators (no paper settings for this network): REINFORCE leave-one-out, ARM
    /// and DisARM as the unbiased estimator but with the gater at 0.01 (summed) — their lower
    /// variance takes the larger step, which beat 0.001 and 0.03 on the embedded digits; the
    /// straight-through-type ones (binary Concrete, Gumbel-Rao, ReinMax) as straight-through;
    /// the relaxed binary Concrete, whose gates are never exactly zero, as the sigmoid gates.
    pub fn paper(estimator: EstimatorSpec) -> Self {
        let family = estimator.family();
        let (gater_lr, reduction) = match family {
            Family::Unbiased => (0.001, GaterReduction::Sum),
            Family::ReinforceLeaveOneOut | Family::Arm | Family::DisArm => {
                (0.01, GaterReduction::Sum)
            }
            _ => (0.1, GaterReduction::Mean),
        };
        let relaxed = matches!(
            estimator,
            EstimatorSpec::BinaryConcrete {
                variant: ConcreteVariant::Relaxed,
                ..
            }
        );
        let sparsity_weight = match family {
            Family::Unbiased | Family::ReinforceLeaveOneOut | Family::Arm | Family::DisArm => 1.0,
            Family::BinaryConcrete if relaxed => 0.01,
            Family::StraightThrough
            | Family::BinaryConcrete
            | Family::GumbelRao
            | Family::ReinMax => 0.1,
            Family::StochasticTimesSmooth => 0.001,
            Family::Sigmoid => 0.01,
            Family::NoisyRectifier => 1e-5,
            Family::Dense => 0.0,
        };
        LaneSettings {
            estimator,
            learning_rate: 0.1,
            gater_learning_rate: gater_lr,
            momentum: if family == Family::StochasticTimesSmooth {
                0.5
            } else {
                0.0
            },
            sparsity_target: 0.1,
            sparsity_weight,
            gater_reduction: reduction,
            max_norm: Some(2.0),
            expert_activation: Activation::Linear,
        }
    }
}
