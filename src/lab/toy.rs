//! The one-gate toy problem with an exact answer, used by the ARM, DisARM and RELAX papers:
//! f(b) = (b − t)² for a single gate b ~ Bernoulli(p), p = σ(a). E[f] = p(1 − t)² + (1 − p)t²,
//! so the exact gradient with respect to the logit is (1 − 2t)·p(1 − p) — tiny for t near ½,
//! where a noisy estimator's sign is often wrong.
//!
//! A minibatch of B examples of the toy is B independent copies of the gate (all with the same
//! logit), so one estimate over a large batch is B samples of the estimator.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use crate::estimators::{GateGradient, GateLoss};

/// f(b) = (b − t)², one gate per example.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadraticToy {
    /// The target t.
    pub target: f32,
}

impl QuadraticToy {
    /// The exact gradient (1 − 2t)·p(1 − p) of E[f] at firing probability `p`.
    pub fn exact_gradient(&self, p: f64) -> f64 {
        (1.0 - 2.0 * f64::from(self.target)) * p * (1.0 - p)
    }

    /// f(1) − f(0) = 1 − 2t.
    pub fn difference(&self) -> f64 {
        1.0 - 2.0 * f64::from(self.target)
    }

    /// Variance of one REINFORCE estimate without a baseline, ĝ = f(b)(b − p), over the two
    /// outcomes: p·f(1)²(1 − p)² + (1 − p)·f(0)²p² − g².
    pub fn variance_reinforce(&self, p: f64) -> f64 {
        let t = f64::from(self.target);
        let (f1, f0) = ((1.0 - t).powi(2), t * t);
        p * f1 * f1 * (1.0 - p).powi(2) + (1.0 - p) * f0 * f0 * p * p
            - self.exact_gradient(p).powi(2)
    }

    /// Variance of REINFORCE leave-one-out with K = 2: ĝ = ½(f(b₁) − f(b₂))(b₁ − b₂) is
    /// ½(1 − 2t) when the draws differ (probability 2p(1 − p)), 0 otherwise.
    pub fn variance_rloo2(&self, p: f64) -> f64 {
        let d = self.difference();
        0.25 * d * d * 2.0 * p * (1.0 - p) - self.exact_gradient(p).powi(2)
    }

    /// Variance of ARM, ĝ = (f(b̃) − f(b))(u − ½): the pair differs for u within m = min(p, 1 − p)
    /// of either end, so E[ĝ²] = (1 − 2t)² · 2∫₀^m (u − ½)² du = (1 − 2t)² · ⅔(⅛ − (½ − m)³).
    pub fn variance_arm(&self, p: f64) -> f64 {
        let (d, m) = (self.difference(), p.min(1.0 - p));
        d * d * (2.0 / 3.0) * (0.125 - (0.5 - m).powi(3)) - self.exact_gradient(p).powi(2)
    }

    /// Variance of DisARM, ĝ = ½(f(b̃) − f(b))(−1)^b 1[b ≠ b̃] σ(|a|): ½(1 − 2t)(1 − m) with
    /// probability 2m, m = min(p, 1 − p) (σ(|a|) = 1 − m), 0 otherwise.
    pub fn variance_disarm(&self, p: f64) -> f64 {
        let (d, m) = (self.difference(), p.min(1.0 - p));
        0.25 * d * d * (1.0 - m).powi(2) * 2.0 * m - self.exact_gradient(p).powi(2)
    }
}

impl GateLoss for QuadraticToy {
    /// f(h) = (h − t)² per example (the gate is column 0; further columns are ignored), and
    /// ∂f/∂h = 2(h − t)/B of the batch-mean loss.
    fn evaluate(
        &mut self,
        h: ArrayView2<f32>,
        reads: GateGradient,
        mut losses: ArrayViewMut1<f32>,
        mut gate_gradient: ArrayViewMut2<f32>,
    ) {
        let t = self.target;
        let inv_b = 1.0 / h.nrows().max(1) as f32;
        Zip::from(&mut losses)
            .and(h.column(0))
            .for_each(|l, &h| *l = (h - t) * (h - t));
        if reads != GateGradient::Skip {
            gate_gradient.fill(0.0);
            Zip::from(gate_gradient.column_mut(0))
                .and(h.column(0))
                .for_each(|g, &h| *g = 2.0 * (h - t) * inv_b);
        }
    }
}
