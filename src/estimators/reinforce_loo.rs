//! REINFORCE with the leave-one-out baseline (Kool, van Hoof & Welling, "Buy 4 REINFORCE
//! Samples, Get a Baseline for Free!", 2019).
//!
//! Forward: K gate vectors per example, b_k ~ Bernoulli(p) independently, p = σ(a); f is
//! evaluated for each. Estimator: each draw's score function, baselined by the mean loss of the
//! other K − 1 draws,
//!
//! ĝ = (1/K) Σ_k (f(b_k) − (1/(K−1)) Σ_{j≠k} f(b_j)) (b_k − p) = (1/(K−1)) Σ_k (f(b_k) − f̄)(b_k − p),
//!
//! with f̄ the mean of the K losses. The baseline of draw k does not depend on b_k, so ĝ is
//! unbiased for ∂E[f]/∂a; the loss is only broadcast to the gates, nothing is back-propagated
//! through h. Draw 0 trains the main path (the experts and the softmax layer).

use ndarray::{Array2, ArrayView2, Axis, Zip};

use super::{Evaluations, GateEstimator, GateGradient, GateSample, spec::Family};
use crate::sampling::bernoulli::sigmoid_bernoulli;
use crate::seed::Rng;

/// REINFORCE with the leave-one-out baseline over K draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReinforceLeaveOneOut {
    /// Draws K per example and step (≥ 2).
    pub samples: usize,
}

impl GateEstimator for ReinforceLeaveOneOut {
    fn family(&self) -> Family {
        Family::ReinforceLeaveOneOut
    }

    fn describe(&self) -> String {
        format!("reinforce leave-one-out (K={})", self.samples)
    }

    fn draws(&self) -> usize {
        self.samples
    }

    /// The losses alone: nothing is back-propagated through the gates.
    fn reads(&self) -> GateGradient {
        GateGradient::Skip
    }

    /// h_k = 1[u_k < σ(a)] for each draw k, independent uniforms; aux = p = σ(a).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        for draw in draws {
            sigmoid_bernoulli(a, rng, &mut draw.h, &mut draw.aux);
        }
    }

    /// da_bi = Σ_k (f_k,b − f̄_b)(h_k,bi − p_bi) / ((K − 1) B).
    fn gate_gradient(&self, draws: &[GateSample], evals: &Evaluations<'_>, da: &mut Array2<f32>) {
        let losses = evals.all_losses();
        let (k, batch) = losses.dim();
        let mean = losses
            .mean_axis(Axis(0))
            .expect("at least one draw evaluated");
        let scale = 1.0 / ((k.max(2) - 1) as f32 * batch.max(1) as f32);
        da.fill(0.0);
        for (draw, f) in draws.iter().zip(losses.rows()) {
            let centred = (&f - &mean).mapv(|v| v * scale);
            let centred = centred.insert_axis(Axis(1));
            Zip::from(&mut *da)
                .and(&draw.h)
                .and(&draw.aux)
                .and_broadcast(&centred)
                .for_each(|g, &h, &p, &c| *g += c * (h - p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// With two draws the estimate is ½(f₀ − f₁)(h₀ − p) + ½(f₁ − f₀)(h₁ − p), over B.
    #[test]
    fn two_draws_give_the_leave_one_out_formula() {
        let est = ReinforceLeaveOneOut { samples: 2 };
        let p = array![[0.25f32, 0.5], [0.75, 0.1]];
        let draws = [
            GateSample {
                h: array![[1.0f32, 0.0], [1.0, 1.0]],
                aux: p.clone(),
            },
            GateSample {
                h: array![[0.0f32, 0.0], [1.0, 0.0]],
                aux: p.clone(),
            },
        ];
        let losses = array![[2.0f32, 1.0], [0.5, 3.0]];
        let no_gradient = Array2::<f32>::zeros((0, 0));
        let evals = Evaluations::new(losses.view(), no_gradient.view(), &[]);
        let mut da = Array2::zeros((2, 2));
        est.gate_gradient(&draws, &evals, &mut da);
        for b in 0..2 {
            for i in 0..2 {
                let (f0, f1) = (losses[[0, b]], losses[[1, b]]);
                let want = (0.5 * (f0 - f1) * (draws[0].h[[b, i]] - p[[b, i]])
                    + 0.5 * (f1 - f0) * (draws[1].h[[b, i]] - p[[b, i]]))
                    / 2.0;
                assert!((da[[b, i]] - want).abs() < 1e-6, "({b}, {i})");
            }
        }
    }
}
