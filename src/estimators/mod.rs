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

pub mod arm;
pub mod concrete;
pub mod disarm;
pub mod gumbel_rao;
pub mod no_gates;
pub mod noisy_rectifier;
pub mod reinforce_loo;
pub mod reinmax;
pub mod sigmoid;
pub mod spec;
pub mod stochastic_times_smooth;
pub mod straight_through;
pub mod temperature;
pub mod unbiased;

use ndarray::{
    Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, ShapeBuilder, Zip,
};

use crate::seed::Rng;

pub use arm::Arm;
pub use concrete::{BinaryConcrete, ConcreteVariant};
pub use disarm::DisArm;
pub use gumbel_rao::GumbelRao;
pub use no_gates::NoGates;
pub use noisy_rectifier::{NoisyRectifier, RectifierNoise};
pub use reinforce_loo::ReinforceLeaveOneOut;
pub use reinmax::ReinMax;
pub use sigmoid::SigmoidGate;
pub use spec::{EstimatorSpec, Family};
pub use stochastic_times_smooth::{BetaNoise, StochasticTimesSmooth, StsBernoulli};
pub use straight_through::{StraightThrough, StraightThroughVariant};
pub use temperature::Temperature;
pub use unbiased::{Baseline, BaselineState, UnbiasedBinary};

/// q = σ(a), dq/da = σ(a)(1 − σ(a)) over a slice, vectorised: the firing probability of the
/// estimators whose gate fires with probability σ(a).
pub(crate) fn sigmoid_firing_probabilities(a: &[f32], q: &mut [f32], dq: &mut [f32]) {
    crate::nn::math::sigmoids_into(a, 0.0, q);
    for (dq, &q) in dq.iter_mut().zip(q.iter()) {
        *dq = q * (1.0 - q);
    }
}

/// One draw of the gates of a minibatch: a gate vector b for every example.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSample {
    /// Gate values h, batch × gate units. Exact zeros mark experts that need not be computed.
    pub h: Array2<f32>,
    /// Per-gate quantity the estimator's gradient uses, its own choice: the local derivative
    /// ∂h/∂a of the sampled path for the back-propagating estimators, the firing probability p
    /// for REINFORCE-type ones.
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

/// What an estimator reads of ∂f/∂h, the gradient of the loss with respect to the gates of a
/// draw (which decides how much of the main path's backward pass is needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateGradient {
    /// Nothing: the estimator uses the losses alone (REINFORCE-type estimators).
    Skip,
    /// ∂f/∂h only where h ≠ 0 (0 elsewhere): the estimator's ∂h/∂a is 0 wherever h = 0
    /// (stochastic times smooth, rectifiers).
    WhereOn,
    /// ∂f/∂h at every gate (straight-through copies it to ∂f/∂a whether the gate fired or not).
    /// With f the main path's loss, ∂f/∂h_i = ∂f/∂c_i · H_i needs every expert's output H_i, so
    /// the main path computes every expert forward even where its gate is 0.
    Everywhere,
}

/// The per-example losses f(b) of every draw of a step (and ∂f/∂h where the estimator reads it):
/// what an estimator receives after the draws it asked for were evaluated. Gradients are of the
/// batch-mean loss.
#[derive(Debug, Clone, Copy)]
pub struct Evaluations<'a> {
    /// f(b_k) for draw k and example b: draws × batch.
    losses: ArrayView2<'a, f32>,
    /// ∂f/∂h of draw 0 (batch × units; unspecified where the estimator does not read it).
    first_gate_gradient: ArrayView2<'a, f32>,
    /// ∂f/∂h of draws 1, 2, … (empty when the estimator does not read them).
    other_gate_gradients: &'a [Array2<f32>],
}

impl<'a> Evaluations<'a> {
    /// The evaluations of several draws: `losses` draws × batch, ∂f/∂h of draw 0 in
    /// `first_gate_gradient` and of the others in `other_gate_gradients` (when read).
    pub fn new(
        losses: ArrayView2<'a, f32>,
        first_gate_gradient: ArrayView2<'a, f32>,
        other_gate_gradients: &'a [Array2<f32>],
    ) -> Self {
        Evaluations {
            losses,
            first_gate_gradient,
            other_gate_gradients,
        }
    }

    /// The evaluation of a single draw: its per-example `losses` and ∂f/∂h.
    pub fn of_one(losses: ArrayView1<'a, f32>, gate_gradient: ArrayView2<'a, f32>) -> Self {
        Evaluations::new(losses.insert_axis(Axis(0)), gate_gradient, &[])
    }

    /// Number of draws evaluated.
    pub fn draws(&self) -> usize {
        self.losses.nrows()
    }

    /// f(b_k) per example for draw `k`.
    pub fn losses(&self, k: usize) -> ArrayView1<'a, f32> {
        self.losses.index_axis_move(Axis(0), k)
    }

    /// Every draw's losses, draws × batch.
    pub fn all_losses(&self) -> ArrayView2<'a, f32> {
        self.losses
    }

    /// ∂f/∂h of draw `k` (batch × units), where the estimator reads it.
    pub fn gate_gradient(&self, k: usize) -> ArrayView2<'a, f32> {
        match k {
            0 => self.first_gate_gradient,
            k => self.other_gate_gradients[k - 1].view(),
        }
    }
}

/// The per-example loss f(b) of a gate vector, for every example of a minibatch at once: what
/// an estimator's draws are evaluated with (the gated network's main path, a toy problem, …).
pub trait GateLoss {
    /// Writes f(b) for each example of the gates `h` (batch × units) into `losses` and, unless
    /// `reads` is [`GateGradient::Skip`], ∂f/∂h of the batch-mean loss into `gate_gradient`
    /// (at least where `reads` asks).
    fn evaluate(
        &mut self,
        h: ArrayView2<f32>,
        reads: GateGradient,
        losses: ArrayViewMut1<f32>,
        gate_gradient: ArrayViewMut2<f32>,
    );
}

/// The draws and evaluations of one estimate, kept between estimates (see [`estimate`]).
#[derive(Debug, Clone, Default)]
pub struct EstimateBuffers {
    /// The estimator's draws of the gates.
    pub draws: Vec<GateSample>,
    /// f(b_k) per example, draws × batch.
    losses: Array2<f32>,
    /// ∂f/∂h of draw 0, when read.
    first_gate_gradient: Array2<f32>,
    /// ∂f/∂h of draws 1, 2, …, when read.
    other_gate_gradients: Vec<Array2<f32>>,
}

impl EstimateBuffers {
    /// Buffers for `draws` draws of gates shaped and laid out like `a` (the samplers draw the
    /// gates in memory order, so the layout decides which random number goes to which gate).
    pub fn fit(&mut self, a: ArrayView2<f32>, draws: usize, reads: GateGradient) {
        let (batch, units) = a.dim();
        let column_major = a.ncols() > 1 && a.strides()[0] == 1;
        let zeros = || Array2::zeros((batch, units).set_f(column_major));
        let fits =
            |d: &GateSample| d.h.dim() == (batch, units) && (d.h.strides()[0] == 1) == column_major;
        if !self.draws.iter().all(fits) {
            self.draws.clear();
        }
        self.draws.resize_with(draws, || GateSample {
            h: zeros(),
            aux: zeros(),
        });
        if self.losses.dim() != (draws, batch) {
            self.losses = Array2::zeros((draws, batch));
        }
        let (first, others) = match reads {
            GateGradient::Skip => (0, 0),
            _ => (1, draws - 1),
        };
        if first == 0 {
            self.first_gate_gradient = Array2::zeros((0, 0));
        } else if self.first_gate_gradient.dim() != (batch, units) {
            self.first_gate_gradient = zeros();
        }
        self.other_gate_gradients
            .retain(|g| g.dim() == (batch, units));
        self.other_gate_gradients.resize_with(others, zeros);
        self.other_gate_gradients.truncate(others);
    }

    /// Evaluates draws `from..` with `f`, keeping their losses (and ∂f/∂h, unless `reads` is
    /// [`GateGradient::Skip`]).
    pub fn evaluate_draws(&mut self, from: usize, f: &mut dyn GateLoss, reads: GateGradient) {
        for k in from..self.draws.len() {
            let gate_gradient = match (reads, k) {
                (GateGradient::Skip, _) => {
                    ArrayViewMut2::from_shape((0, 0), &mut []).expect("empty")
                }
                (_, 0) => self.first_gate_gradient.view_mut(),
                (_, k) => self.other_gate_gradients[k - 1].view_mut(),
            };
            f.evaluate(
                self.draws[k].h.view(),
                reads,
                self.losses.row_mut(k),
                gate_gradient,
            );
        }
    }

    /// Draw 0's losses, when someone else evaluated it.
    pub fn set_first_losses(&mut self, losses: ArrayView1<f32>) {
        self.losses.row_mut(0).assign(&losses);
    }

    /// The evaluations of every draw; draw 0's ∂f/∂h is `first_gate_gradient` when given
    /// (someone else evaluated it), otherwise the one [`Self::evaluate_draws`] wrote.
    pub fn evaluations<'a>(
        &'a self,
        first_gate_gradient: Option<ArrayView2<'a, f32>>,
    ) -> Evaluations<'a> {
        Evaluations::new(
            self.losses.view(),
            first_gate_gradient.unwrap_or(self.first_gate_gradient.view()),
            &self.other_gate_gradients,
        )
    }
}

/// One estimate of ∂L/∂a for pre-activations `a` into `da`: the estimator draws its gate
/// vectors, `f` evaluates each, and the estimator turns the evaluations into the gradient.
pub fn estimate(
    estimator: &dyn GateEstimator,
    a: ArrayView2<f32>,
    rng: &mut Rng,
    f: &mut dyn GateLoss,
    buffers: &mut EstimateBuffers,
    da: &mut Array2<f32>,
) {
    let reads = estimator.reads();
    buffers.fit(a, estimator.draws(), reads);
    estimator.sample(a, rng, &mut buffers.draws);
    buffers.evaluate_draws(0, f, reads);
    let evals = buffers.evaluations(None);
    estimator.gate_gradient(&buffers.draws, &evals, da);
}

/// How the sparsity target s is enforced for an estimator's gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparsityForm {
    /// −λ Σ_i [s log q̄_i + (1 − s) log(1 − q̄_i)], q̄_i the minibatch mean of the gate's firing
    /// probability q(a) (see [`GateEstimator::firing_probability`]).
    FiringRateCrossEntropy,
    /// λ Σ_b Σ_i h_bi, with λ adapted to keep the firing rate within s ± 0.01.
    L1Adaptive,
    /// No gates, no penalty.
    None,
}

/// A gradient estimator for a layer of stochastic (or hard) gates.
///
/// It is written against a per-example loss f(b) of a gate vector b, not against a network: for
/// the pre-activations a of a minibatch it draws one or several gate vectors per example
/// ([`Self::sample`]; draw 0 is the one whose evaluation trains the rest of the model), someone
/// evaluates f for each draw (the losses, and ∂f/∂h where [`Self::reads`] asks), and the
/// estimator turns them into ∂L/∂a ([`Self::gate_gradient`]). The gated network's training
/// step, the variance probe and the exact-gradient tests all drive it this way.
pub trait GateEstimator: Send + Sync {
    /// The family this estimator belongs to.
    fn family(&self) -> Family;

    /// Short human-readable description including the variant, e.g. `"sts (b~Bern(√p))"`.
    fn describe(&self) -> String;

    /// False only for the dense reference lane, which has no gater at all (h ≡ 1).
    fn is_gated(&self) -> bool {
        true
    }

    /// Gate vectors K drawn per example and step, each evaluated once: f is computed K times.
    fn draws(&self) -> usize {
        1
    }

    /// Told before every training step how many steps the lane has taken (and after a
    /// checkpoint is restored): estimators with a schedule (the temperature of the relaxed ones)
    /// follow it.
    fn set_step(&mut self, _step: u64) {}

    /// What the estimator reads of ∂f/∂h for each draw. The default is the safe answer, at
    /// every gate.
    fn reads(&self) -> GateGradient {
        GateGradient::Everywhere
    }

    /// Draws the training-time gates for pre-activations `a` into `draws[0..K]` (each already
    /// shaped like `a`); draw 0 trains the rest of the model.
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]);

    /// Writes the estimate of ∂L/∂a for the batch-mean loss, given the draws and their
    /// evaluations.
    ///
    /// The default is the chain rule through draw 0's sampled path, da = ∂f/∂h ⊙ aux, for the
    /// back-propagating estimators whose `aux` holds their own ∂h/∂a.
    fn gate_gradient(&self, draws: &[GateSample], evals: &Evaluations<'_>, da: &mut Array2<f32>) {
        chain_through_local_derivative(evals.gate_gradient(0), &draws[0].aux, da);
    }

    /// Updates internal state (moving-average baselines) after a training step.
    fn observe(&mut self, _draws: &[GateSample], _evals: &Evaluations<'_>) {}

    /// Deterministic test-time gate value for pre-activation `a` (noise replaced by its mean).
    /// The default is that of a binary gate firing with probability σ(a): 1 (whether it fires is
    /// decided by the threshold that keeps the target share of gates).
    fn test_gate(&self, _a: f32) -> f32 {
        1.0
    }

    /// How sparsity is encouraged; by default the cross-entropy penalty on the firing
    /// probability.
    fn sparsity(&self) -> SparsityForm {
        SparsityForm::FiringRateCrossEntropy
    }

    /// The gate's firing probability q(a) = P(h ≠ 0) and dq/da, used by the cross-entropy
    /// sparsity penalty (`None` for estimators whose sparsity is not of that form). The default
    /// is a binary gate firing with probability σ(a): q = σ(a), dq/da = σ(a)(1 − σ(a)).
    fn firing_probability(&self, a: f32) -> Option<(f32, f32)> {
        let p = crate::nn::math::sigmoid(a);
        Some((p, p * (1.0 - p)))
    }

    /// [`Self::firing_probability`] over a slice: `q[k]`, `dq[k]` = q(a[k]), dq/da(a[k]) (0 for
    /// estimators without a firing probability). One call per unit of the penalty instead of
    /// one dynamic call per gate. The default is the vectorised σ(a) of the default firing
    /// probability (equal to the scalar form within a few units in the last place): an
    /// estimator that overrides [`Self::firing_probability`] overrides this too.
    fn firing_probabilities(&self, a: &[f32], q: &mut [f32], dq: &mut [f32]) {
        sigmoid_firing_probabilities(a, q, dq);
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
