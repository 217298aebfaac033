//! The gated network's main path as a per-example loss of the gates: for fixed parameters and
//! a fixed minibatch, f(b) = cross-entropy(softmax((H ⊙ b) Wₒ + bₒ), y) with H = g(x Wₑ + bₑ).
//! This is what the estimators evaluate ([`GateLoss`]), outside the training step: in the
//! variance probe, for the training step's extra draws, and in the estimator tests.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::gated::{Activations, GatedNet, Gradients};
use super::gated_kernels::evaluation_macs;
use super::plan::{MainPathChoice, MainPlan};
use crate::estimators::{GateEstimator, GateGradient, GateLoss};

/// The forward and backward buffers of [`MainPathLoss`], kept between evaluations.
#[derive(Debug, Default)]
pub struct LossBuffers {
    acts: Option<Activations>,
    grads: Option<Gradients>,
}

impl LossBuffers {
    fn sized(&mut self, net: &GatedNet, batch: usize) -> (&mut Activations, &mut Gradients) {
        let fits = self.acts.as_ref().is_some_and(|a| {
            a.logits.dim() == (batch, net.classes()) && a.gate_pre.ncols() == net.units()
        });
        if !fits {
            self.acts = Some(net.activations(batch));
            self.grads = Some(net.gradients(batch));
        }
        (
            self.acts.as_mut().expect("sized above"),
            self.grads.as_mut().expect("sized above"),
        )
    }
}

/// f(b) of the main path of `net` on the minibatch (x, labels), computed with the gated kernels
/// or the dense products as `choice` and each draw's firing rate say (see [`MainPlan::choose`]).
/// Counts the multiply-adds and backward passes it did.
pub struct MainPathLoss<'a> {
    net: &'a GatedNet,
    x: ArrayView2<'a, f32>,
    labels: &'a [u8],
    estimator: &'a dyn GateEstimator,
    choice: MainPathChoice,
    buffers: &'a mut LossBuffers,
    /// Main-path multiply-adds done so far.
    pub macs: u64,
    /// Backward passes taken so far.
    pub backward_passes: u32,
}

impl<'a> MainPathLoss<'a> {
    /// The loss of `net`'s main path on (x, labels) for `estimator`'s gates, in `buffers`.
    pub fn new(
        net: &'a GatedNet,
        x: ArrayView2<'a, f32>,
        labels: &'a [u8],
        estimator: &'a dyn GateEstimator,
        choice: MainPathChoice,
        buffers: &'a mut LossBuffers,
    ) -> Self {
        MainPathLoss {
            net,
            x,
            labels,
            estimator,
            choice,
            buffers,
            macs: 0,
            backward_passes: 0,
        }
    }
}

impl GateLoss for MainPathLoss<'_> {
    /// The forward pass (per-example cross-entropy) and, unless `reads` is
    /// [`GateGradient::Skip`], the backward pass down to ∂L/∂h.
    fn evaluate(
        &mut self,
        h: ArrayView2<f32>,
        reads: GateGradient,
        mut losses: ArrayViewMut1<f32>,
        mut gate_gradient: ArrayViewMut2<f32>,
    ) {
        let (net, x, labels) = (self.net, self.x, self.labels);
        let (acts, grads) = self.buffers.sized(net, labels.len());
        let active = h.iter().filter(|&&v| v != 0.0).count();
        let rate = active as f32 / h.len().max(1) as f32;
        let plan = MainPlan {
            gate_gradient: reads,
            ..MainPlan::choose(self.estimator, self.choice, rate)
        };
        net.forward_main(x, labels, h, acts, plan);
        losses.assign(&acts.loss.losses);
        let backward = reads != GateGradient::Skip;
        if backward {
            net.backward_main(x, labels, h, acts, grads, plan);
            gate_gradient.assign(&grads.dgates);
            self.backward_passes += 1;
        }
        let (b, n, d, c) = (
            labels.len() as u64,
            net.units() as u64,
            net.input_dim() as u64,
            net.classes() as u64,
        );
        self.macs += evaluation_macs(plan, active as u64, b, n, d, c, backward);
    }
}
