//! ReinMax (Liu, Zhou, Zhang & Gao, "Bridging Discrete and Backpropagation: Straight-Through
//! and Beyond", NeurIPS 2023) for a Bernoulli gate, written as the two-class softmax with logits
//! (a, 0) whose first class is the gate.
//!
//! Forward: b ~ Bernoulli(p), p = σ(a), drawn as 1[u < p]. ReinMax's backward rule passes the
//! gradient through π₂ = 2π₁ − ½π₀, with π₀ = softmax(a, 0) and π₁ the softmax at
//! ½(b + softmax((a, 0)/τ)); for the first class, with q = ½(b + σ(a/τ)),
//!
//! ∂h/∂a := 2q(1 − q) − ½p(1 − p),
//!
//! a second-order accurate approximation of the gradient (straight-through is first-order), at
//! the cost of straight-through. Biased. The authors use τ ≥ 1 only.

use ndarray::{ArrayView2, Zip};

use super::temperature::Temperature;
use super::{GateEstimator, GateSample, spec::Family};
use crate::nn::math::sigmoid_branch_free;
use crate::sampling::bernoulli::sigmoid_bernoulli;
use crate::seed::Rng;

/// The ReinMax estimator at temperature τ (following its schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinMax {
    /// The schedule of τ (every value ≥ 1).
    pub temperature: Temperature,
    /// τ at the current step.
    tau: f32,
}

impl ReinMax {
    /// The estimator with `temperature`, at step 0.
    pub fn new(temperature: Temperature) -> Self {
        ReinMax {
            temperature,
            tau: temperature.at(0),
        }
    }
}

impl GateEstimator for ReinMax {
    fn family(&self) -> Family {
        Family::ReinMax
    }

    fn describe(&self) -> String {
        format!("reinmax ({})", self.temperature.describe())
    }

    fn set_step(&mut self, step: u64) {
        self.tau = self.temperature.at(step);
    }

    /// h = 1[u < p] (drawn in bulk); aux = 2q(1 − q) − ½p(1 − p), q = ½(h + σ(a/τ)).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        sigmoid_bernoulli(a, rng, &mut out.h, &mut out.aux);
        let inv_tau = 1.0 / self.tau;
        Zip::from(&mut out.aux)
            .and(&out.h)
            .and(a)
            .for_each(|aux, &b, &a| {
                let p = *aux;
                let q = 0.5 * (b + sigmoid_branch_free(a * inv_tau));
                *aux = 2.0 * q * (1.0 - q) - 0.5 * p * (1.0 - p);
            });
    }
}
