//! The sparsity penalties that push the gates towards the target firing rate s.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::estimators::GateEstimator;

/// Smallest/largest mean firing probability fed to the logarithms.
const RATE_FLOOR: f32 = 1e-6;

/// The cross-entropy sparsity penalty of sigmoid-type gates,
/// Ω = −λ Σ_i [ s log q̄_i + (1 − s) log(1 − q̄_i) ], q̄_i = (1/B) Σ_b q(a_bi),
/// with q the estimator's firing probability. Adds ∂Ω/∂a_bi = −λ [s/q̄_i − (1−s)/(1−q̄_i)] q'(a_bi)/B
/// to `da` and returns Ω. Does nothing (and returns 0) for estimators without a firing probability.
/// Allocates its scratch space; the training step uses [`firing_rate_penalty_into`].
pub fn firing_rate_penalty(
    estimator: &dyn GateEstimator,
    a: ArrayView2<f32>,
    target: f32,
    weight: f32,
    da: &mut Array2<f32>,
) -> f32 {
    firing_rate_penalty_into(estimator, a, target, weight, da, &mut Vec::new())
}

/// [`firing_rate_penalty`] with caller-owned scratch space (grown once, then reused).
pub fn firing_rate_penalty_into(
    estimator: &dyn GateEstimator,
    a: ArrayView2<f32>,
    target: f32,
    weight: f32,
    da: &mut Array2<f32>,
    scratch: &mut Vec<f32>,
) -> f32 {
    let batch = a.nrows();
    if batch == 0 || weight == 0.0 || estimator.firing_probability(0.0).is_none() {
        return 0.0;
    }
    let inv_b = 1.0 / batch as f32;
    // A unit's penalty and the coefficient of q'(a_bi) in its gradient, from its q(a_bi).
    let unit = |q: &[f32]| {
        let mean = q.iter().map(|&q| q * inv_b).sum::<f32>();
        let m = mean.clamp(RATE_FLOOR, 1.0 - RATE_FLOOR);
        let penalty = -weight * (target * m.ln() + (1.0 - target) * (1.0 - m).ln());
        let coef = -weight * (target / m - (1.0 - target) / (1.0 - m)) * inv_b;
        (penalty, coef)
    };
    let mut penalty = 0.0f32;
    // Column-major a and ∂a (the lanes' buffers): q and q' of every gate in one call.
    if let (Some(a_all), Some(da_all)) = (
        a.reversed_axes().to_slice(),
        da.view_mut().reversed_axes().into_slice(),
    ) {
        scratch.clear();
        scratch.resize(2 * a_all.len(), 0.0);
        let (q_all, dq_all) = scratch.split_at_mut(a_all.len());
        estimator.firing_probabilities(a_all, q_all, dq_all);
        for ((q, dq), da) in q_all
            .chunks(batch)
            .zip(dq_all.chunks(batch))
            .zip(da_all.chunks_mut(batch))
        {
            let (p, coef) = unit(q);
            penalty += p;
            for (d, &g) in da.iter_mut().zip(dq) {
                *d += coef * g;
            }
        }
        return penalty;
    }
    // Otherwise one unit at a time: q and q' in the first two thirds of the scratch, and a copy
    // of the unit's column of a in the last when it is not contiguous.
    scratch.clear();
    scratch.resize(3 * batch, 0.0);
    let (q, rest) = scratch.split_at_mut(batch);
    let (dq, column_copy) = rest.split_at_mut(batch);
    for (column, mut dcol) in a.columns().into_iter().zip(da.columns_mut()) {
        let values = match column.as_slice() {
            Some(values) => values,
            None => {
                // A row-major a (the lanes' buffers are column-major): copy the column.
                column_copy
                    .iter_mut()
                    .zip(column.iter())
                    .for_each(|(c, &v)| *c = v);
                &column_copy[..]
            }
        };
        estimator.firing_probabilities(values, q, dq);
        let (p, coef) = unit(q);
        penalty += p;
        for (d, &g) in dcol.iter_mut().zip(dq.iter()) {
            *d += coef * g;
        }
    }
    penalty
}

/// Smallest λ of the adaptive L1 penalty, as in the authors' code. Without a floor, λ fell
/// (×0.9 a step while the gates fired below target) into the subnormal range, where at
/// 5.6e-45 (4 ulps) ×1.1 and ×0.9 both round back to the same value: λ could never rise
/// again, and the lane lost its target for the rest of the run. From the floor, 1.1ⁿ brings
/// λ back to any working value within a few hundred steps.
pub const L1_LAMBDA_MIN: f32 = 1e-13;

/// Largest λ of the adaptive L1 penalty, as in the authors' code: ∂Ω/∂h_bi = λ ≤ 1 for every
/// gate, a push that silences any gate within a few steps at the paper's learning rate.
pub const L1_LAMBDA_MAX: f32 = 1.0;

/// The L1 penalty of rectifier gates, summed over the minibatch as in the authors' code:
/// Ω = λ Σ_b Σ_i h_bi, so ∂Ω/∂h_bi = λ for every gate (the cross-entropy beside it is the
/// batch mean). λ adapts after every step: multiplied by 1 + r when the firing rate is above
/// s + tolerance, by 1 − r when below s − tolerance, then clipped to
/// [[`L1_LAMBDA_MIN`], [`L1_LAMBDA_MAX`]] (paper: start 1e-5, r = 0.1, tolerance 0.01).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveL1 {
    /// Current λ.
    pub lambda: f32,
    /// Target firing rate s.
    pub target: f32,
    /// Dead band around the target.
    pub tolerance: f32,
    /// Relative change r of λ per step.
    pub rate: f32,
}

impl AdaptiveL1 {
    /// The paper's schedule for target `s` starting at λ = `initial` (clipped to the bounds).
    pub fn new(target: f32, initial: f32) -> Self {
        AdaptiveL1 {
            lambda: initial.clamp(L1_LAMBDA_MIN, L1_LAMBDA_MAX),
            target,
            tolerance: 0.01,
            rate: 0.1,
        }
    }

    /// Ω = λ Σ_b Σ_i h_bi for gates `h`; adds ∂Ω/∂h_bi = λ to `dh`.
    pub fn apply(&self, h: ArrayView2<f32>, dh: &mut Array2<f32>) -> f32 {
        let g = self.lambda;
        dh.mapv_inplace(|v| v + g);
        self.lambda * h.sum()
    }

    /// Adapts λ to the firing rate observed in the last step, within the bounds.
    pub fn adapt(&mut self, firing_rate: f32) {
        if firing_rate > self.target + self.tolerance {
            self.lambda *= 1.0 + self.rate;
        } else if firing_rate < self.target - self.tolerance {
            self.lambda *= 1.0 - self.rate;
        }
        self.lambda = self.lambda.clamp(L1_LAMBDA_MIN, L1_LAMBDA_MAX);
    }

    /// This state as saved by a gradrace whose L1 term was the minibatch *mean*
    /// (Ω = λ Σ_i mean_b h_bi, session format 1), for a minibatch of `batch`: the same
    /// gradient per gate with the summed term needs λ / B; then clipped to the bounds.
    pub fn from_mean_form(self, batch: usize) -> Self {
        AdaptiveL1 {
            lambda: (self.lambda / batch.max(1) as f32).clamp(L1_LAMBDA_MIN, L1_LAMBDA_MAX),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::ShapeBuilder;

    use super::*;
    use crate::estimators::SigmoidGate;
    use proptest::prelude::*;

    #[test]
    fn lambda_at_a_bound_moves_away_after_one_step() {
        let mut l1 = AdaptiveL1::new(0.1, 0.0);
        assert_eq!(l1.lambda, L1_LAMBDA_MIN, "the start is clipped too");
        l1.adapt(0.1 + 0.011);
        assert!(
            l1.lambda > L1_LAMBDA_MIN,
            "rises from the floor: {}",
            l1.lambda
        );
        let mut l1 = AdaptiveL1::new(0.1, 5.0);
        assert_eq!(l1.lambda, L1_LAMBDA_MAX);
        l1.adapt(0.1 - 0.011);
        assert!(
            l1.lambda < L1_LAMBDA_MAX,
            "falls from the ceiling: {}",
            l1.lambda
        );
        // Inside the dead band nothing changes; beyond the bounds it stays at the bound.
        let mut l1 = AdaptiveL1::new(0.1, L1_LAMBDA_MIN);
        l1.adapt(0.1);
        assert_eq!(l1.lambda, L1_LAMBDA_MIN);
        l1.adapt(0.0);
        assert_eq!(l1.lambda, L1_LAMBDA_MIN);
    }

    #[test]
    fn the_old_mean_form_converts_to_the_same_gradient_per_gate() {
        let old = AdaptiveL1 {
            lambda: 3.2e-4,
            ..AdaptiveL1::new(0.1, 1e-5)
        };
        assert!((old.from_mean_form(32).lambda - 1e-5).abs() < 1e-12);
        // A λ that had sunk into the subnormal range comes back to the floor.
        let sunk = AdaptiveL1 {
            lambda: 5.6e-45,
            ..old
        };
        assert_eq!(sunk.from_mean_form(32).lambda, L1_LAMBDA_MIN);
    }

    #[test]
    fn the_summed_penalty_and_its_gradient() {
        let l1 = AdaptiveL1::new(0.1, 0.5);
        let h = ndarray::array![[0.0f32, 2.0], [1.0, 0.0], [0.5, 0.5]];
        let mut dh = Array2::from_elem((3, 2), 0.25f32);
        let omega = l1.apply(h.view(), &mut dh);
        assert_eq!(omega, 0.5 * 4.0);
        assert!(dh.iter().all(|&g| g == 0.75));
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(2026))]
        /// Whatever the firing rates, λ stays within the bounds and the next step above the
        /// dead band raises it (unless at the ceiling), the next below lowers it (unless at the
        /// floor): no sequence of updates leaves it unable to move.
        #[test]
        fn no_sequence_of_updates_leaves_lambda_stuck(
            initial in prop_oneof![Just(1e-5f32), Just(0.0), Just(1e-45), 1e-20f32..10.0],
            rates in proptest::collection::vec(prop_oneof![0.0f32..0.3, Just(0.111), Just(0.089)], 1..3000),
        ) {
            let mut l1 = AdaptiveL1::new(0.1, initial);
            for r in rates {
                l1.adapt(r);
                prop_assert!((L1_LAMBDA_MIN..=L1_LAMBDA_MAX).contains(&l1.lambda));
                let (mut up, mut down) = (l1, l1);
                up.adapt(0.2);
                down.adapt(0.0);
                prop_assert!(up.lambda > l1.lambda || l1.lambda == L1_LAMBDA_MAX);
                prop_assert!(down.lambda < l1.lambda || l1.lambda == L1_LAMBDA_MIN);
            }
        }
    }

    /// The whole-array pass (column-major a and ∂a, as in the lanes) and the unit-by-unit pass
    /// (any other layout) give the same bits, penalty and gradient.
    #[test]
    fn every_layout_gives_the_same_penalty_and_gradient() {
        let gate = SigmoidGate { noise_std: 0.0 };
        let (batch, units) = (5, 7);
        let a = Array2::from_shape_fn((batch, units), |(b, i)| (b as f32 - 2.0) * 0.9 - i as f32);
        let run = |a_column_major: bool, da_column_major: bool| {
            let mut a_own = Array2::zeros((batch, units).set_f(a_column_major));
            a_own.assign(&a);
            let mut da = Array2::from_elem((batch, units).set_f(da_column_major), 0.25);
            let p = firing_rate_penalty(&gate, a_own.view(), 0.1, 0.3, &mut da);
            (
                p.to_bits(),
                da.mapv(f32::to_bits).as_standard_layout().to_owned(),
            )
        };
        let whole = run(true, true);
        assert_ne!(
            whole.1,
            Array2::from_elem((batch, units), 0.25f32.to_bits())
        );
        for (a_f, da_f) in [(false, false), (true, false), (false, true)] {
            assert_eq!(
                run(a_f, da_f),
                whole,
                "a column-major {a_f}, ∂a column-major {da_f}"
            );
        }
    }
}
