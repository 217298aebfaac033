//! Family 1: the stochastic binary neuron with the unbiased (REINFORCE-type) estimator.
//!
//! Forward: p = σ(a), h = 1[u < p], u ~ U(0, 1), so P(h = 1) = p.
//! Estimator: ĝ_bi = (h_bi − p_bi)(L_b − L̄_i), unbiased for ∂E[L_b]/∂a_bi whatever the constant
//! L̄_i; the loss is only broadcast to the gates, nothing is back-propagated through h.

use ndarray::{Array2, ArrayView2, Zip};
use serde::{Deserialize, Serialize};

use super::{Evaluations, GateEstimator, GateGradient, GateSample, spec::Family};
use crate::sampling::bernoulli::sigmoid_bernoulli;
use crate::seed::Rng;

/// The baseline L̄ subtracted from the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Baseline {
    /// L̄ = 0.
    None,
    /// L̄ = a moving average of the minibatch mean loss (one number for all gates).
    MeanLoss,
    /// The minimum-variance per-unit baseline L̄_i = E[(h_i − p_i)² L] / E[(h_i − p_i)²], each
    /// expectation a moving average.
    #[default]
    OptimalPerUnit,
}

/// Moving averages behind the baselines (checkpointed for exact resume).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BaselineState {
    /// Number of minibatches observed.
    pub observed: u64,
    /// Moving average of the minibatch mean loss.
    pub mean_loss: f32,
    /// Per unit: moving average of mean_b (h_bi − p_bi)² L_b.
    pub numerator: Vec<f32>,
    /// Per unit: moving average of mean_b (h_bi − p_bi)².
    pub denominator: Vec<f32>,
}

/// The unbiased estimator for stochastic binary gates.
#[derive(Debug, Clone, PartialEq)]
pub struct UnbiasedBinary {
    /// Which baseline is subtracted.
    pub baseline: Baseline,
    /// Moving-average decay d: m ← d·m + (1 − d)·batch value.
    pub decay: f32,
    state: BaselineState,
}

impl UnbiasedBinary {
    /// The estimator with `baseline` and the paper's decay 0.9.
    pub fn new(baseline: Baseline) -> Self {
        UnbiasedBinary {
            baseline,
            decay: 0.9,
            state: BaselineState::default(),
        }
    }

    /// The baseline L̄_i in force for unit `i` (0 before anything was observed).
    pub fn baseline_value(&self, i: usize) -> f32 {
        let s = &self.state;
        match self.baseline {
            Baseline::None => 0.0,
            _ if s.observed == 0 => 0.0,
            Baseline::MeanLoss => s.mean_loss,
            Baseline::OptimalPerUnit => {
                let d = s.denominator.get(i).copied().unwrap_or(0.0);
                if d > 1e-12 {
                    s.numerator[i] / d
                } else {
                    s.mean_loss
                }
            }
        }
    }
}

impl GateEstimator for UnbiasedBinary {
    fn family(&self) -> Family {
        Family::Unbiased
    }

    fn describe(&self) -> String {
        let b = match self.baseline {
            Baseline::None => "no baseline",
            Baseline::MeanLoss => "mean-loss baseline",
            Baseline::OptimalPerUnit => "optimal per-unit baseline",
        };
        format!("unbiased ({b})")
    }

    /// The loss is only broadcast to the gates.
    fn reads(&self) -> GateGradient {
        GateGradient::Skip
    }

    /// h = 1[u < σ(a)]; aux = p = σ(a) (drawn in bulk by [`sigmoid_bernoulli`]).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        sigmoid_bernoulli(a, rng, &mut out.h, &mut out.aux);
    }

    /// da_bi = (h_bi − p_bi)(L_b − L̄_i) / B.
    fn gate_gradient(&self, draws: &[GateSample], evals: &Evaluations<'_>, da: &mut Array2<f32>) {
        let (sample, losses) = (&draws[0], evals.losses(0));
        let inv_b = 1.0 / losses.len().max(1) as f32;
        for (i, ((mut d, h), p)) in da
            .columns_mut()
            .into_iter()
            .zip(sample.h.columns())
            .zip(sample.aux.columns())
            .enumerate()
        {
            let baseline = self.baseline_value(i);
            Zip::from(&mut d)
                .and(h)
                .and(p)
                .and(losses)
                .for_each(|d, &h, &p, &loss| *d = (h - p) * (loss - baseline) * inv_b);
        }
    }

    /// m ← d·m + (1 − d)·(batch mean), for the mean loss and, per unit, for (h − p)² L and
    /// (h − p)²; the first minibatch initialises the averages.
    fn observe(&mut self, draws: &[GateSample], evals: &Evaluations<'_>) {
        let (sample, losses) = (&draws[0], evals.losses(0));
        let batch = losses.len();
        if batch == 0 {
            return;
        }
        let units = sample.h.ncols();
        let inv = 1.0 / batch as f32;
        let mean_loss = losses.sum() * inv;
        let s = &mut self.state;
        let first = s.observed == 0 || s.numerator.len() != units;
        let d = if first { 0.0 } else { self.decay };
        if first {
            s.numerator = vec![0.0; units];
            s.denominator = vec![0.0; units];
        }
        s.mean_loss = d * s.mean_loss + (1.0 - d) * mean_loss;
        for (i, (h, p)) in sample
            .h
            .columns()
            .into_iter()
            .zip(sample.aux.columns())
            .enumerate()
        {
            let (mut num, mut den) = (0.0f32, 0.0f32);
            for b in 0..batch {
                let r = (h[b] - p[b]) * (h[b] - p[b]);
                num += r * losses[b];
                den += r;
            }
            s.numerator[i] = d * s.numerator[i] + (1.0 - d) * num * inv;
            s.denominator[i] = d * s.denominator[i] + (1.0 - d) * den * inv;
        }
        s.observed += 1;
    }

    fn baseline_state(&self) -> Option<BaselineState> {
        Some(self.state.clone())
    }

    fn restore_baseline_state(&mut self, state: BaselineState) {
        self.state = state;
    }
}
