//! DisARM / U2G (Dong, Mnih & Tucker, "DisARM: An Antithetic Gradient Estimator for Binary
//! Latent Variables", NeurIPS 2020; Yin et al., "Probabilistic Best Subset Selection via
//! Gradient-Based Optimization", 2020): ARM with the uniform integrated out.
//!
//! The same antithetic pair as [`super::arm`]: b = 1[u < p] (draw 0, which trains the main path)
//! and b̃ = 1[u > 1 − p] (draw 1). Conditioning ARM's (u − ½) on the pair of gate values gives
//!
//! ĝ_bi = ½ (f(b̃_b) − f(b_b)) (−1)^{b_bi} 1[b̃_bi ≠ b_bi] σ(|a_bi|) / B,
//!
//! unbiased, and by the law of total variance never noisier than ARM, coordinate by
//! coordinate. Nothing is back-propagated through the gates.

use ndarray::{Array2, ArrayView2, Zip};

use super::arm::{antithetic_pair, loss_differences};
use super::{Evaluations, GateEstimator, GateGradient, GateSample, spec::Family};
use crate::seed::Rng;

/// The DisARM estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisArm;

impl GateEstimator for DisArm {
    fn family(&self) -> Family {
        Family::DisArm
    }

    fn describe(&self) -> String {
        "disarm (antithetic pair)".into()
    }

    fn draws(&self) -> usize {
        2
    }

    /// The losses alone.
    fn reads(&self) -> GateGradient {
        GateGradient::Skip
    }

    /// b = 1[u < p] (draw 0), b̃ = 1[u > 1 − p] (draw 1, whose aux keeps σ(|a|)).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let [first, second] = draws else {
            panic!("DisARM draws two gate vectors");
        };
        antithetic_pair(a, rng, first, second);
    }

    /// da_bi = ½ (f(b̃_b) − f(b_b)) (1 − 2 b_bi) |b̃_bi − b_bi| σ(|a_bi|) / B.
    fn gate_gradient(&self, draws: &[GateSample], evals: &Evaluations<'_>, da: &mut Array2<f32>) {
        let d = loss_differences(evals, 0.5 / evals.losses(0).len().max(1) as f32);
        Zip::from(da)
            .and(&draws[0].h)
            .and(&draws[1].h)
            .and(&draws[1].aux)
            .and_broadcast(&d)
            .for_each(|g, &b, &b_anti, &s, &d| {
                *g = d * (1.0 - 2.0 * b) * (b_anti - b).abs() * s;
            });
    }
}
