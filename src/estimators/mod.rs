//! The gradient estimators for stochastic (or hard) gates compared by the paper, one file per
//! family, all behind one trait, [`GateEstimator`].
//!
//! A gate sees its pre-activation a (one per example and gate unit, computed by the gater). In
//! training the estimator draws the gate values h = f(a, z) and later turns ∂L/∂h (from backprop
//! through the main path) and the per-example losses L_b into an estimate of ∂L/∂a, from which
//! the gater learns. At test time every gated lane uses a deterministic gate, keeping only the
//! fraction of gates with the largest pre-activations that the sparsity target asks for.
//!
//! Convention: the gradient an estimator writes is that of the *batch-mean* loss
//! L = (1/B) Σ_b L_b, so it is directly comparable between estimators.

pub mod no_gates;
pub mod noisy_rectifier;
pub mod sigmoid;
pub mod spec;
pub mod stochastic_times_smooth;
pub mod straight_through;
pub mod unbiased;

use ndarray::{Array2, ArrayView1, ArrayView2, Zip};

use crate::seed::Rng;

pub use no_gates::NoGates;
pub use noisy_rectifier::{NoisyRectifier, RectifierNoise};
pub use sigmoid::SigmoidGate;
pub use spec::{EstimatorSpec, Family};
pub use stochastic_times_smooth::{BetaNoise, StochasticTimesSmooth, StsBernoulli};
pub use straight_through::{StraightThrough, StraightThroughVariant};
pub use unbiased::{Baseline, BaselineState, UnbiasedBinary};

/// q = σ(a), dq/da = σ(a)(1 − σ(a)) over a slice, vectorised: the firing probability of the
/// estimators whose gate fires with probability σ(a).
pub(crate) fn sigmoid_firing_probabilities(a: &[f32], q: &mut [f32], dq: &mut [f32]) {
    crate::nn::math::sigmoids_into(a, 0.0, q);
    for (dq, &q) in dq.iter_mut().zip(q.iter()) {
        *dq = q * (1.0 - q);
    }
}

/// One draw of the gates of a minibatch, with what the gradient needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSample {
    /// Gate values h, batch × gate units. Exact zeros mark experts that need not be computed.
    pub h: Array2<f32>,
    /// Per-gate quantity the estimator's gradient uses: the local derivative ∂h/∂a of the sampled
    /// path for the back-propagating estimators, the firing probability p for the unbiased one.
    pub aux: Array2<f32>,
}

impl GateSample {
    /// Zeroed buffers for `batch` examples and `units` gates.
    pub fn zeros(batch: usize, units: usize) -> Self {
        GateSample {
            h: Array2::zeros((batch, units)),
            aux: Array2::zeros((batch, units)),
        }
    }

    /// Reshapes the buffers when the batch or the number of units changed.
    pub fn ensure_shape(&mut self, batch: usize, units: usize) {
        if self.h.dim() != (batch, units) {
            *self = GateSample::zeros(batch, units);
        }
    }

    /// Number of gates that are not exactly zero.
    pub fn active(&self) -> usize {
        let nonzero = |v: &&f32| **v != 0.0;
        match self.h.as_slice_memory_order() {
            Some(h) => h.iter().filter(nonzero).count(),
            None => self.h.iter().filter(nonzero).count(),
        }
    }

    /// Fraction of gates that are not exactly zero.
    pub fn firing_rate(&self) -> f32 {
        if self.h.is_empty() {
            0.0
        } else {
            self.active() as f32 / self.h.len() as f32
        }
    }
}

/// How the sparsity target s is enforced for an estimator's gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparsityForm {
    /// −λ Σ_i [s log q̄_i + (1 − s) log(1 − q̄_i)], q̄_i the minibatch mean of the gate's firing
    /// probability q(a) (see [`GateEstimator::firing_probability`]).
    FiringRateCrossEntropy,
    /// λ Σ_i mean_b h_bi, with λ adapted to keep the firing rate within s ± 0.01.
    L1Adaptive,
    /// No gates, no penalty.
    None,
}

/// A gradient estimator for a layer of gates.
pub trait GateEstimator: Send + Sync {
    /// The paper's family this estimator belongs to.
    fn family(&self) -> Family;

    /// Short human-readable description including the variant, e.g. `"sts (b~Bern(√p))"`.
    fn describe(&self) -> String;

    /// False only for the dense baseline, which has no gater at all (h ≡ 1).
    fn is_gated(&self) -> bool {
        true
    }

    /// False for estimators that never use ∂L/∂h (the unbiased estimator only broadcasts L).
    fn uses_backprop(&self) -> bool {
        true
    }

    /// True when the estimator reads ∂L/∂h at gates that are off (h = 0). ∂L/∂h_i = ∂L/∂c_i · H_i
    /// needs the expert's output H_i, so for such an estimator the main path must compute every
    /// expert in the forward pass even where its gate is 0 (only the backward pass into the
    /// experts stays sparse). False when the estimator's local derivative ∂h/∂a is 0 wherever
    /// h = 0 (stochastic times smooth, rectifiers), so ∂L/∂h is needed only where the gate is on.
    /// Straight-through copies ∂L/∂h to ∂L/∂a at every gate, so it needs it everywhere. The
    /// default is the safe answer, true; irrelevant when [`Self::uses_backprop`] is false.
    fn needs_gate_gradient_when_off(&self) -> bool {
        true
    }

    /// Draws training-time gates for pre-activations `a` into `out` (already shaped like `a`).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, out: &mut GateSample);

    /// Writes the estimate of ∂L/∂a for the batch-mean loss, given the sample, ∂L/∂h (of the
    /// batch-mean loss) and the per-example losses L_b.
    ///
    /// The default is the chain rule through the sampled path, da = ∂L/∂h ⊙ aux, for the
    /// back-propagating estimators whose `aux` holds their own ∂h/∂a.
    fn gate_gradient(
        &self,
        sample: &GateSample,
        dl_dh: ArrayView2<f32>,
        _losses: ArrayView1<f32>,
        da: &mut Array2<f32>,
    ) {
        chain_through_local_derivative(dl_dh, &sample.aux, da);
    }

    /// Updates internal state (moving-average baselines) after a training step.
    fn observe(&mut self, _sample: &GateSample, _losses: ArrayView1<f32>) {}

    /// Deterministic test-time gate value for pre-activation `a` (noise replaced by its mean).
    fn test_gate(&self, a: f32) -> f32;

    /// How sparsity is encouraged.
    fn sparsity(&self) -> SparsityForm;

    /// The gate's firing probability q(a) = P(h ≠ 0) and dq/da, used by the cross-entropy
    /// sparsity penalty (`None` for estimators whose sparsity is not of that form).
    fn firing_probability(&self, a: f32) -> Option<(f32, f32)>;

    /// [`Self::firing_probability`] over a slice: `q[k]`, `dq[k]` = q(a[k]), dq/da(a[k]) (0 for
    /// estimators without a firing probability). One call per unit of the penalty instead of
    /// one dynamic call per gate; the sigmoid-type estimators override it with a loop that
    /// vectorises (equal to the scalar form within a few units in the last place).
    fn firing_probabilities(&self, a: &[f32], q: &mut [f32], dq: &mut [f32]) {
        for ((&a, q), dq) in a.iter().zip(q).zip(dq) {
            (*q, *dq) = self.firing_probability(a).unwrap_or((0.0, 0.0));
        }
    }

    /// Baseline state to checkpoint (empty for stateless estimators).
    fn baseline_state(&self) -> Option<BaselineState> {
        None
    }

    /// Restores checkpointed baseline state.
    fn restore_baseline_state(&mut self, _state: BaselineState) {}
}

/// da ← ∂L/∂h ⊙ (∂h/∂a), the chain rule through the sampled path used by every back-propagating
/// estimator; `local` holds the estimator's own ∂h/∂a.
pub(crate) fn chain_through_local_derivative(
    dl_dh: ArrayView2<f32>,
    local: &Array2<f32>,
    da: &mut Array2<f32>,
) {
    Zip::from(da)
        .and(dl_dh)
        .and(local)
        .for_each(|d, &g, &l| *d = g * l);
}

/// Test-time gates: h = test_gate(a) for the `target_rate` fraction of (example, unit) pairs with
/// the largest pre-activations, 0 elsewhere; with `None`, the deterministic gate everywhere.
pub fn deterministic_gates(
    estimator: &dyn GateEstimator,
    a: ArrayView2<f32>,
    target_rate: Option<f32>,
    out: &mut Array2<f32>,
) {
    if !estimator.is_gated() {
        out.fill(1.0);
        return;
    }
    let threshold = match target_rate {
        Some(rate) => firing_threshold(a, rate),
        None => f32::NEG_INFINITY,
    };
    Zip::from(out).and(a).for_each(|h, &x| {
        *h = if x >= threshold {
            estimator.test_gate(x)
        } else {
            0.0
        }
    });
}

/// The smallest pre-activation among the ⌈rate · count⌉ largest ones (+∞ when none may fire).
///
/// An exact order statistic (the same value as sorting by [`f32::total_cmp`]) found by radix
/// selection: a histogram of the top 16 bits of order-preserving integer keys picks the bucket
/// that holds it, then a selection within that bucket — two passes over `a` instead of a sort
/// or a comparison-based selection over a copy of it.
pub fn firing_threshold(a: ArrayView2<f32>, rate: f32) -> f32 {
    let n = a.len();
    let keep = ((rate.clamp(0.0, 1.0) as f64) * n as f64).round() as usize;
    if keep == 0 || n == 0 {
        return f32::INFINITY;
    }
    // The wanted value is the idx-th smallest (from 0).
    let idx = n - keep;
    // The order of the values does not matter: read them in memory order.
    let owned;
    let values = match a.as_slice_memory_order() {
        Some(slice) => slice,
        None => {
            owned = a.as_standard_layout().into_owned();
            owned.as_slice_memory_order().expect("standard layout")
        }
    };
    let mut counts = vec![0u32; 1 << 16];
    for &v in values {
        counts[(order_key(v) >> 16) as usize] += 1;
    }
    let mut below = 0usize;
    let mut bucket = 0u32;
    for (b, &c) in counts.iter().enumerate() {
        if below + c as usize > idx {
            bucket = b as u32;
            break;
        }
        below += c as usize;
    }
    let mut keys: Vec<u32> = values
        .iter()
        .map(|&v| order_key(v))
        .filter(|k| k >> 16 == bucket)
        .collect();
    let (_, nth, _) = keys.select_nth_unstable(idx - below);
    from_order_key(*nth)
}

/// An integer key of `v` whose unsigned order is [`f32::total_cmp`]'s order: negative values
/// have every bit flipped, others only the sign bit.
fn order_key(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// The inverse of [`order_key`].
fn from_order_key(key: u32) -> f32 {
    f32::from_bits(if key >> 31 == 1 {
        key & 0x7fff_ffff
    } else {
        !key
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn threshold_is_the_order_statistic_of_a_sort() {
        let values = [
            3.5f32,
            -0.0,
            0.0,
            -7.25,
            f32::INFINITY,
            1e-30,
            -1e-30,
            2.0,
            2.0,
            -f32::INFINITY,
            65504.0,
            -3.0,
        ];
        for (len, seed) in [(12usize, 0usize), (7, 3), (1, 5), (12, 9)] {
            let v: Vec<f32> = (0..len)
                .map(|i| values[(i * 7 + seed) % values.len()])
                .collect();
            let a = Array2::from_shape_vec((1, len), v.clone()).unwrap();
            for rate in [0.01f32, 0.1, 0.25, 0.5, 0.9, 1.0] {
                let keep = ((rate as f64) * len as f64).round() as usize;
                let got = firing_threshold(a.view(), rate);
                if keep == 0 {
                    assert_eq!(got, f32::INFINITY);
                    continue;
                }
                let mut sorted = v.clone();
                sorted.sort_by(f32::total_cmp);
                let want = sorted[len - keep];
                assert_eq!(got.to_bits(), want.to_bits(), "len {len} rate {rate}");
            }
        }
        for v in values {
            assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
        }
        // Column-major input (memory order differs from logical order).
        let a = Array2::from_shape_fn(ndarray::ShapeBuilder::f((40, 30)), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f32
        });
        let mut sorted: Vec<f32> = a.iter().copied().collect();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(firing_threshold(a.view(), 0.1), sorted[1200 - 120]);
    }

    #[test]
    fn threshold_keeps_requested_fraction() {
        let a = Array2::from_shape_fn((10, 20), |(i, j)| (i * 20 + j) as f32 * 0.37 - 11.0);
        let st = StraightThrough::new(StraightThroughVariant::Identity);
        let mut h = Array2::zeros(a.raw_dim());
        deterministic_gates(&st, a.view(), Some(0.1), &mut h);
        assert_eq!(h.iter().filter(|&&v| v != 0.0).count(), 20);
        assert!(h.iter().all(|&v| v == 0.0 || v == 1.0));
        deterministic_gates(&st, a.view(), Some(0.0), &mut h);
        assert!(h.iter().all(|&v| v == 0.0));
        let dense = NoGates;
        deterministic_gates(&dense, array![[-3.0f32]].view(), Some(0.1), &mut h);
        assert!(h.iter().all(|&v| v == 1.0));
    }
}
