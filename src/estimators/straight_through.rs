//! Family 4: the straight-through estimator.
//!
//! Forward as the stochastic binary neuron: p = σ(a), h = 1[u < p]. Backward copies the gradient:
//! ∂L/∂a := ∂L/∂h (identity), or ∂L/∂a := ∂L/∂h · σ'(a) = ∂L/∂h · p(1 − p) (sigmoid-adjusted).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{GateEstimator, GateSample, spec::Family};
use crate::sampling::bernoulli::sigmoid_bernoulli;
use crate::seed::Rng;

/// The backward rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StraightThroughVariant {
    /// ∂L/∂a := ∂L/∂h (the paper found it better).
    #[default]
    Identity,
    /// ∂L/∂a := ∂L/∂h · p(1 − p).
    SigmoidAdjusted,
}

/// The straight-through estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StraightThrough {
    /// Backward rule.
    pub variant: StraightThroughVariant,
}

impl StraightThrough {
    /// The estimator with `variant`.
    pub fn new(variant: StraightThroughVariant) -> Self {
        StraightThrough { variant }
    }
}

impl GateEstimator for StraightThrough {
    fn family(&self) -> Family {
        Family::StraightThrough
    }

    fn describe(&self) -> String {
        match self.variant {
            StraightThroughVariant::Identity => "straight-through (identity)".into(),
            StraightThroughVariant::SigmoidAdjusted => "straight-through (σ'-adjusted)".into(),
        }
    }

    /// h = 1[u < σ(a)]; aux = the pretended ∂h/∂a: 1, or p(1 − p) (the gates drawn in bulk by
    /// [`sigmoid_bernoulli`], which leaves p in aux).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        sigmoid_bernoulli(a, rng, &mut out.h, &mut out.aux);
        match self.variant {
            StraightThroughVariant::SigmoidAdjusted => out.aux.mapv_inplace(|p| p * (1.0 - p)),
            StraightThroughVariant::Identity => out.aux.fill(1.0),
        }
    }
}
