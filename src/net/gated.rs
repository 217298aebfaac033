//! The gated network: parameters, forward pass and hand-written backward pass.

use ndarray::{Array1, Array2, ArrayView2, ShapeBuilder, Zip};
use serde::{Deserialize, Serialize};

use super::deferred::DeferredExpertStep;
use super::gate_layer::GateLayerScratch;
use super::gated_kernels;
use super::plan::MainPlan;
use super::routes::ExpertRoutes;
use crate::estimators::{GateGradient, GateSample};
use crate::nn::{Activation, Dense, DenseGrad, Sgd, SgdSettings, SoftmaxCrossEntropy};
use crate::seed::Rng;

/// Sizes and non-linearities of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetConfig {
    /// Hidden units of the gater path (paper: 400).
    pub gater_hidden: usize,
    /// Non-linearity of the gater's hidden layer (paper: tanh).
    #[serde(default = "default_gater_activation")]
    pub gater_activation: Activation,
    /// Expert units of the main path, one gate each (paper: 2000).
    pub experts: usize,
    /// Non-linearity of the experts (paper: linear).
    #[serde(default)]
    pub expert_activation: Activation,
}

fn default_gater_activation() -> Activation {
    Activation::Tanh
}

impl NetConfig {
    /// The paper's network: 400 tanh gater units, 2000 linear experts.
    pub fn paper() -> Self {
        NetConfig {
            gater_hidden: 400,
            gater_activation: Activation::Tanh,
            experts: 2000,
            expert_activation: Activation::Linear,
        }
    }
}

/// Parameters of the gated network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatedNet {
    /// Gater hidden layer, inputs × gater_hidden.
    pub gater_hidden: Dense,
    /// Gate pre-activations, gater_hidden × experts.
    pub gater_gates: Dense,
    /// Main path, inputs × experts.
    pub experts: Dense,
    /// Softmax layer, experts × classes.
    pub output: Dense,
    /// Gater hidden non-linearity.
    pub gater_activation: Activation,
    /// Expert non-linearity.
    pub expert_activation: Activation,
}

/// Everything the forward pass computes for one minibatch, kept for the backward pass.
#[derive(Debug, Clone)]
pub struct Activations {
    /// z, batch × gater_hidden.
    pub gater_hidden: Array2<f32>,
    /// a, the gate pre-activations, batch × experts.
    pub gate_pre: Array2<f32>,
    /// H, the expert outputs, batch × experts.
    pub experts: Array2<f32>,
    /// c = H ⊙ h, batch × experts.
    pub conditional: Array2<f32>,
    /// Softmax inputs, batch × classes.
    pub logits: Array2<f32>,
    /// Probabilities and per-example losses.
    pub loss: SoftmaxCrossEntropy,
    /// Which examples use which expert (filled by the gated kernels).
    pub routes: ExpertRoutes,
    /// H of the routed (example, expert) pairs, in route order (filled by the gated kernels).
    pub route_experts: Vec<f32>,
}

/// Settings of an SGD step without momentum fused with the backward pass
/// ([`GatedNet::step_experts`], [`GatedNet::step_gater`]): θ ← θ − η ∂L/∂θ, then the max-norm
/// constraint on the incoming weight vector of every unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedStep {
    /// η.
    pub learning_rate: f32,
    /// The max norm of each unit's incoming weights, if any.
    pub max_norm: Option<f32>,
    /// Clip every unit, not only those the sparse kernels updated: true until every unit has
    /// been clipped once (later steps leave the norms of the units they do not touch as they
    /// were, within the limit).
    pub clip_all: bool,
}

/// Parameter gradients of the whole network plus the intermediate gradients of the backward pass.
#[derive(Debug, Clone)]
pub struct Gradients {
    /// ∂/∂(gater hidden layer).
    pub gater_hidden: DenseGrad,
    /// ∂/∂(gate layer).
    pub gater_gates: DenseGrad,
    /// ∂/∂(experts).
    pub experts: DenseGrad,
    /// ∂/∂(softmax layer).
    pub output: DenseGrad,
    /// ∂L/∂logits.
    pub dlogits: Array2<f32>,
    /// ∂L/∂c.
    pub dconditional: Array2<f32>,
    /// ∂L/∂(expert pre-activation).
    pub dexperts: Array2<f32>,
    /// ∂L/∂h, what back-propagating estimators consume.
    pub dgates: Array2<f32>,
    /// ∂L/∂a, the estimator's output plus the sparsity penalty's exact gradient.
    pub dgate_pre: Array2<f32>,
    /// ∂L/∂(gater hidden pre-activation).
    pub dgater_hidden: Array2<f32>,
    /// ∂L/∂H of the routed (example, expert) pairs, in route order (gated kernels).
    pub route_dexperts: Vec<f32>,
    /// Scratch: one expert's weight gradient (the fused momentum step of the gated kernels).
    pub expert_column: Vec<f32>,
    /// Scratch of the sparse gate-layer step ([`GatedNet::step_gater`]).
    pub gate_layer: GateLayerScratch,
}

impl GatedNet {
    /// Glorot-uniform weights, zero biases, all drawn from `rng` in a fixed order.
    pub fn init(input_dim: usize, classes: usize, config: &NetConfig, rng: &mut Rng) -> Self {
        let gater_hidden = Dense::glorot(input_dim, config.gater_hidden, rng);
        let gater_gates = Dense::glorot(config.gater_hidden, config.experts, rng);
        let experts = Dense::glorot(input_dim, config.experts, rng);
        let output = Dense::glorot(config.experts, classes, rng);
        let mut net = GatedNet {
            gater_hidden,
            gater_gates,
            experts,
            output,
            gater_activation: config.gater_activation,
            expert_activation: config.expert_activation,
        };
        net.use_fast_layout();
        net
    }

    /// Stores the weights in the layout the kernels are fastest with (values unchanged): the
    /// gater's and the experts' weights column-major, so that each unit's incoming weight
    /// vector is contiguous (the gated kernels load expert i's weights as one vector); the
    /// softmax layer row-major, so that each expert's outgoing weights are contiguous.
    /// Deserialised networks come back row-major: call this before training them.
    pub fn use_fast_layout(&mut self) {
        self.gater_hidden.make_column_major();
        self.gater_gates.make_column_major();
        self.experts.make_column_major();
        if !self.output.w.is_standard_layout() {
            self.output.w = self.output.w.as_standard_layout().into_owned();
        }
        crate::nn::aligned::realign(&mut self.output.w);
    }

    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        self.experts.inputs()
    }

    /// Number of experts (= gates).
    pub fn units(&self) -> usize {
        self.experts.outputs()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.output.outputs()
    }

    /// Number of gater hidden units.
    pub fn gater_hidden_units(&self) -> usize {
        self.gater_hidden.outputs()
    }

    /// Total number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.gater_hidden.len() + self.gater_gates.len() + self.experts.len() + self.output.len()
    }

    /// True when every parameter is finite.
    pub fn is_finite(&self) -> bool {
        self.gater_hidden.is_finite()
            && self.gater_gates.is_finite()
            && self.experts.is_finite()
            && self.output.is_finite()
    }

    /// Zeroed activation buffers for a batch of `batch`. The batch × units buffers are
    /// column-major (the B values of one unit adjacent), the layout the matrix products of this
    /// small-batch network are fastest with; the routing buffers are sized for every gate on,
    /// so no step allocates.
    pub fn activations(&self, batch: usize) -> Activations {
        let n = self.units();
        let units = |k: usize| Array2::zeros((batch, k).f());
        Activations {
            gater_hidden: units(self.gater_hidden_units()),
            gate_pre: units(n),
            experts: units(n),
            conditional: units(n),
            logits: Array2::zeros((batch, self.classes())),
            loss: SoftmaxCrossEntropy::new(batch, self.classes()),
            routes: ExpertRoutes::with_capacity(batch, n),
            route_experts: Vec::with_capacity(batch * n),
        }
    }

    /// Zeroed gate buffers for a batch of `batch` (layouts as in [`Self::activations`]).
    pub fn gate_sample(&self, batch: usize) -> GateSample {
        let n = self.units();
        GateSample {
            h: Array2::zeros((batch, n).f()),
            aux: Array2::zeros((batch, n).f()),
        }
    }

    /// Zeroed gradient buffers for a batch of `batch` (layouts as in [`Self::activations`]).
    pub fn gradients(&self, batch: usize) -> Gradients {
        let n = self.units();
        let units = |k: usize| Array2::zeros((batch, k).f());
        Gradients {
            gater_hidden: DenseGrad::zeros_like(&self.gater_hidden),
            gater_gates: DenseGrad::zeros_like(&self.gater_gates),
            experts: DenseGrad::zeros_like(&self.experts),
            output: DenseGrad::zeros_like(&self.output),
            dlogits: Array2::zeros((batch, self.classes())),
            dconditional: units(n),
            dexperts: units(n),
            dgates: units(n),
            dgate_pre: units(n),
            dgater_hidden: units(self.gater_hidden_units()),
            route_dexperts: Vec::with_capacity(batch * n),
            expert_column: Vec::with_capacity(self.input_dim()),
            gate_layer: GateLayerScratch::with_capacity(batch, n, self.gater_hidden_units()),
        }
    }

    /// Gater path: z = f(x W₁ + b₁), a = z W₂ + b₂.
    pub fn forward_gater(&self, x: ArrayView2<f32>, acts: &mut Activations) {
        self.gater_hidden.forward_into(x, &mut acts.gater_hidden);
        self.gater_activation.apply(&mut acts.gater_hidden);
        self.gater_gates
            .forward_into(acts.gater_hidden.view(), &mut acts.gate_pre);
    }

    /// Main path and classifier given the gates `h`: H = g(x Wₑ + bₑ), c = H ⊙ h,
    /// logits = c Wₒ + bₒ, softmax cross-entropy. Returns the batch-mean loss.
    ///
    /// With `plan.sparse` the gated kernels compute only the experts whose gate is on (see
    /// [`gated_kernels`](super::gated_kernels)): then `acts.experts` holds H only where h ≠ 0 (0
    /// elsewhere) unless the plan needs ∂L/∂h everywhere. Otherwise every expert is computed
    /// and masked. The backward pass must be given the same `h` and `plan`.
    pub fn forward_main(
        &self,
        x: ArrayView2<f32>,
        labels: &[u8],
        h: ArrayView2<f32>,
        acts: &mut Activations,
        plan: MainPlan,
    ) -> f32 {
        if !(plan.sparse && gated_kernels::forward(self, x, h, acts, plan)) {
            self.forward_main_dense(x, h, acts);
        }
        acts.loss.forward(acts.logits.view(), labels)
    }

    /// [`Self::forward_main`] for a network whose experts owe the SGD step held in `deferred`
    /// (see [`Self::defer_step_experts`]): the gated kernels apply it expert by expert just
    /// before using each expert's weights; the dense path applies it first. Either way the step
    /// is applied on return, and the results are the bits of applying it and then calling
    /// [`Self::forward_main`].
    pub fn forward_main_applying(
        &mut self,
        x: ArrayView2<f32>,
        labels: &[u8],
        h: ArrayView2<f32>,
        acts: &mut Activations,
        plan: MainPlan,
        deferred: &mut DeferredExpertStep,
    ) -> f32 {
        if !deferred.is_pending() {
            return self.forward_main(x, labels, h, acts, plan);
        }
        if !(plan.sparse && gated_kernels::forward_applying(self, x, h, acts, plan, deferred)) {
            deferred.apply(&mut self.experts);
            self.forward_main_dense(x, h, acts);
        }
        acts.loss.forward(acts.logits.view(), labels)
    }

    /// The dense main path: every expert computed, then masked by the gates.
    fn forward_main_dense(&self, x: ArrayView2<f32>, h: ArrayView2<f32>, acts: &mut Activations) {
        acts.routes.clear();
        self.experts.forward_into(x, &mut acts.experts);
        self.expert_activation.apply(&mut acts.experts);
        Zip::from(&mut acts.conditional)
            .and(&acts.experts)
            .and(h)
            .for_each(|c, &e, &h| *c = e * h);
        self.output
            .forward_into(acts.conditional.view(), &mut acts.logits);
    }

    /// Backward pass of the batch-mean loss through the classifier and the main path:
    /// ∂L/∂logits = (p − y)/B, ∂L/∂c = ∂L/∂logits Wₒᵀ, ∂L/∂H = ∂L/∂c ⊙ h, ∂L/∂h = ∂L/∂c ⊙ H,
    /// and the parameter gradient of the softmax layer. The experts' weight gradient is left to
    /// whoever needs it: the SGD steps apply it straight from ∂L/∂H without writing it
    /// ([`Self::step_experts`], [`Self::momentum_step_experts`]), [`Self::expert_gradient`]
    /// writes it.
    ///
    /// Takes the gates `h` and the `plan` the forward pass was given: the gated kernels touch
    /// only the routed (example, expert) pairs and write ∂L/∂h only where the plan asks (0 at
    /// gates that are off with [`GateGradient::WhereOn`], not at all with
    /// [`GateGradient::Skip`]).
    pub fn backward_main(
        &self,
        x: ArrayView2<f32>,
        labels: &[u8],
        h: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
    ) {
        if plan.sparse && gated_kernels::backward(self, x, labels, acts, grads, plan) {
            return;
        }
        let batch = labels.len();
        acts.loss
            .backward_into(labels, 1.0 / batch as f32, &mut grads.dlogits);
        self.output.param_grad_into(
            acts.conditional.view(),
            grads.dlogits.view(),
            1.0,
            &mut grads.output,
        );
        self.output
            .input_grad_into(grads.dlogits.view(), &mut grads.dconditional);
        if plan.gate_gradient == GateGradient::Skip {
            Zip::from(&mut grads.dexperts)
                .and(&grads.dconditional)
                .and(h)
                .for_each(|de, &dc, &h| *de = dc * h);
        } else {
            Zip::from(&mut grads.dexperts)
                .and(&mut grads.dgates)
                .and(&grads.dconditional)
                .and(h)
                .and(&acts.experts)
                .for_each(|de, dh, &dc, &h, &e| {
                    *de = dc * h;
                    *dh = dc * e;
                });
        }
        self.expert_activation
            .backprop_inplace(acts.experts.view(), &mut grads.dexperts);
    }

    /// ∂L/∂Wₑ and ∂L/∂bₑ into `grads.experts`, after [`Self::backward_main`] ran with the same
    /// `plan`: xᵀ ∂L/∂H (the gated kernels: expert by expert over the routed examples, exact
    /// zeros for experts no example uses).
    pub fn expert_gradient(
        &self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
    ) {
        if plan.sparse && acts.routes.units() == self.units() {
            gated_kernels::expert_gradient(self, x, acts, grads, plan);
        } else {
            self.experts
                .param_grad_into(x, grads.dexperts.view(), 1.0, &mut grads.experts);
        }
    }

    /// The SGD step of the experts without momentum, after [`Self::backward_main`] ran with
    /// `plan`: Wₑ ← Wₑ − η xᵀ ∂L/∂H, bₑ ← bₑ − η Σ_b ∂L/∂H_b, then the
    /// max-norm constraint. The dense path accumulates the product straight into Wₑ and clips
    /// every column; the gated kernels update, and clip, only the experts some example used
    /// (see [`FusedStep::clip_all`]). ∂L/∂Wₑ is never written to memory.
    pub fn step_experts(
        &mut self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
        step: FusedStep,
    ) {
        let sparse = plan.sparse
            && gated_kernels::step_experts(
                self,
                x,
                acts,
                grads,
                step.learning_rate,
                if step.clip_all { None } else { step.max_norm },
                None,
            );
        if !sparse {
            self.experts
                .sgd_step_from(x, grads.dexperts.view(), step.learning_rate, step.max_norm);
        }
        if let Some(c) = step.max_norm
            && step.clip_all
            && sparse
        {
            self.experts.clip_incoming_norms(c);
        }
    }

    /// [`Self::step_experts`] on the gated path, with the experts' weights left one step behind:
    /// the biases are updated, and the weights' step is held in `deferred` for the next gated
    /// forward pass ([`Self::forward_main_applying`]), which applies it column by column while
    /// each column is in cache. Until then, whoever reads Wₑ must first call
    /// [`DeferredExpertStep::apply`]. Returns false, doing nothing, when the step cannot be
    /// deferred (dense plan, the first step's clip of every column, a step already pending, or
    /// layouts the kernels do not take) or would gain nothing (a plan whose forward pass
    /// computes every expert, or goes example by example): call [`Self::step_experts`] then.
    pub fn defer_step_experts(
        &mut self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
        step: FusedStep,
        deferred: &mut DeferredExpertStep,
    ) -> bool {
        plan.applies_deferred_steps()
            && !step.clip_all
            && !deferred.is_pending()
            && gated_kernels::step_experts(
                self,
                x,
                acts,
                grads,
                step.learning_rate,
                step.max_norm,
                Some(deferred),
            )
    }

    /// The momentum SGD step of the experts (with `optimiser`'s velocity) after
    /// [`Self::backward_main`] ran with `plan`, then the max-norm
    /// constraint on every column. With the gated kernels each column's gradient is used as it
    /// is formed and never written to memory; otherwise ∂L/∂Wₑ is computed into
    /// `grads.experts` and [`Sgd::step_clipped`] applies it.
    #[allow(clippy::too_many_arguments)]
    pub fn momentum_step_experts(
        &mut self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
        optimiser: &mut Sgd,
        settings: SgdSettings,
        max_norm: Option<f32>,
    ) {
        let fused = plan.sparse
            && gated_kernels::momentum_step_experts(
                self,
                x,
                acts,
                grads,
                &mut optimiser.velocity,
                settings,
                max_norm,
            );
        if fused {
            return;
        }
        self.expert_gradient(x, acts, grads, plan);
        optimiser.step_clipped(&mut self.experts, &grads.experts, settings, max_norm);
    }

    /// Backward pass through the gater from ∂L/∂a in `grads.dgate_pre`:
    /// ∂L/∂W₂ = zᵀ ∂L/∂a, ∂L/∂z = ∂L/∂a W₂ᵀ, then through f and ∂L/∂W₁ = xᵀ ∂L/∂(x W₁ + b₁).
    pub fn backward_gater(&self, x: ArrayView2<f32>, acts: &Activations, grads: &mut Gradients) {
        self.gater_gates.param_grad_into(
            acts.gater_hidden.view(),
            grads.dgate_pre.view(),
            1.0,
            &mut grads.gater_gates,
        );
        self.gater_gates
            .input_grad_into(grads.dgate_pre.view(), &mut grads.dgater_hidden);
        self.gater_activation
            .backprop_inplace(acts.gater_hidden.view(), &mut grads.dgater_hidden);
        self.gater_hidden.param_grad_into(
            x,
            grads.dgater_hidden.view(),
            1.0,
            &mut grads.gater_hidden,
        );
    }

    /// The gater's momentum SGD step from ∂L/∂a in `grads.dgate_pre`, fused with its backward
    /// pass: ∂L/∂z = δ W₂ᵀ (with W₂ as it was), then [`Sgd::step_from`] for the gate layer
    /// (v₂ ← μ v₂ − η zᵀ δ in one product, θ₂ ← θ₂ + v₂, max norm), through f, and the same for
    /// the hidden layer with x. The gradients `grads.gater_gates` and `grads.gater_hidden` are
    /// not written.
    #[allow(clippy::too_many_arguments)]
    pub fn momentum_step_gater(
        &mut self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        hidden: &mut Sgd,
        gates: &mut Sgd,
        settings: SgdSettings,
        max_norm: Option<f32>,
    ) {
        self.gater_gates
            .input_grad_into(grads.dgate_pre.view(), &mut grads.dgater_hidden);
        gates.step_from(
            &mut self.gater_gates,
            acts.gater_hidden.view(),
            grads.dgate_pre.view(),
            settings,
            max_norm,
        );
        self.gater_activation
            .backprop_inplace(acts.gater_hidden.view(), &mut grads.dgater_hidden);
        hidden.step_from(
            &mut self.gater_hidden,
            x,
            grads.dgater_hidden.view(),
            settings,
            max_norm,
        );
    }

    /// Per-example losses of the main path for fixed gates `h` (allocating; used by oracles).
    pub fn losses_for_gates(
        &self,
        x: ArrayView2<f32>,
        labels: &[u8],
        h: ArrayView2<f32>,
    ) -> Array1<f32> {
        let mut acts = self.activations(labels.len());
        self.forward_main(x, labels, h, &mut acts, MainPlan::default());
        acts.loss.losses
    }
}
