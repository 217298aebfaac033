//! Family 3: noise injection, the noisy rectifier.
//!
//! Additive noise: h = max(0, a + z) with z zero-mean noise, back-propagated through the sampled
//! path: ∂h/∂a = 1[a + z > 0]. With logistic noise P(h > 0) = σ(a/s) and, for s = 1,
//! E[h] = softplus(a). Multiplicative (dropout-like) noise: h = max(0, a)·z with
//! z ∈ {0, 1/κ}, P(z = 1/κ) = κ, so E[h] = max(0, a) and ∂h/∂a = z·1[a > 0].
//! With no noise this is the rectifier gate of the paper's reference lane ("baseline rectifier").

use ndarray::{ArrayView2, Zip};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::{GateEstimator, GateGradient, GateSample, SparsityForm, spec::Family};
use crate::sampling::gaussian::gates_with_noise;
use crate::seed::Rng;

/// The noise injected into a rectifier gate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RectifierNoise {
    /// No noise: the deterministic rectifier (the paper's reference lane).
    None,
    /// z ~ N(0, std²), added before the rectifier (the paper used std 1.0).
    Gaussian {
        /// Standard deviation.
        std: f32,
    },
    /// z = s·log(u / (1 − u)), u ~ U(0, 1): logistic noise of scale s, added.
    Logistic {
        /// Scale s.
        scale: f32,
    },
    /// h = max(0, a)·z, z = 1/κ with probability κ and 0 otherwise.
    Multiplicative {
        /// Keep probability κ ∈ (0, 1].
        keep: f32,
    },
}

impl Default for RectifierNoise {
    fn default() -> Self {
        RectifierNoise::Gaussian { std: 1.0 }
    }
}

/// The noisy rectifier gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisyRectifier {
    /// The injected noise.
    pub noise: RectifierNoise,
}

impl NoisyRectifier {
    /// A rectifier gate with `noise`.
    pub fn new(noise: RectifierNoise) -> Self {
        NoisyRectifier { noise }
    }
}

impl GateEstimator for NoisyRectifier {
    fn family(&self) -> Family {
        Family::NoisyRectifier
    }

    fn describe(&self) -> String {
        match self.noise {
            RectifierNoise::None => "rectifier (no noise)".into(),
            RectifierNoise::Gaussian { std } => format!("noisy rectifier (Gaussian σ={std})"),
            RectifierNoise::Logistic { scale } => format!("noisy rectifier (logistic s={scale})"),
            RectifierNoise::Multiplicative { keep } => {
                format!("noisy rectifier (multiplicative κ={keep})")
            }
        }
    }

    /// Additive: h = max(0, a + z), aux = 1[a + z > 0]. Multiplicative: h = max(0, a)·z,
    /// aux = z·1[a > 0].
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let GateSample { h, aux } = &mut draws[0];
        let gates = Zip::from(&mut *h).and(&mut *aux).and(a);
        match self.noise {
            RectifierNoise::Gaussian { std } => {
                gates_with_noise(rng, a, h, aux, |x, z| rectify(x + std * z));
            }
            RectifierNoise::Logistic { scale } => gates.for_each(|h, local, &x| {
                // u ∈ (0, 1) strictly, so the logit is finite.
                let u: f32 = rng.random_range(f32::EPSILON..1.0);
                (*h, *local) = rectify(x + scale * (u / (1.0 - u)).ln());
            }),
            RectifierNoise::Multiplicative { keep } => gates.for_each(|h, local, &x| {
                let z = if rng.random::<f32>() < keep {
                    1.0 / keep
                } else {
                    0.0
                };
                *h = x.max(0.0) * z;
                *local = if x > 0.0 { z } else { 0.0 };
            }),
            RectifierNoise::None => gates.for_each(|h, local, &x| (*h, *local) = rectify(x)),
        }
    }

    /// ∂h/∂a is 0 wherever h = 0 (additive: a + z ≤ 0; multiplicative: a ≤ 0 or z = 0).
    fn reads(&self) -> GateGradient {
        GateGradient::WhereOn
    }

    /// max(0, a): noise at its mean (0 additive, 1 multiplicative).
    fn test_gate(&self, a: f32) -> f32 {
        a.max(0.0)
    }

    fn sparsity(&self) -> SparsityForm {
        SparsityForm::L1Adaptive
    }

    fn firing_probability(&self, _a: f32) -> Option<(f32, f32)> {
        None
    }
}

/// (h, ∂h/∂a) = (max(0, s), 1[s > 0]) for the noisy pre-activation s = a + z, as selects
/// rather than a branch (whether a gate fires is a coin flip the branch predictor cannot
/// learn). h is +0 exactly wherever s ≤ 0 (or is NaN).
#[inline(always)]
fn rectify(s: f32) -> (f32, f32) {
    let on = s > 0.0;
    (if on { s } else { 0.0 }, if on { 1.0 } else { 0.0 })
}
