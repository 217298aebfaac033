//! The SGD step of a lane, as Appendix A has it: for every layer θ ← θ − η ∂L/∂θ (with momentum
//! μ: v ← μv − η ∂L/∂θ, θ ← θ + v), the gater with its own learning rate, then the max-norm
//! constraint on the incoming weight vector of every unit.
//!
//! The [`Updater`] owns everything the step needs beyond the gradients: the velocities, which
//! units have been clipped once, and — its private detail — the experts' update held back for
//! the next forward pass. Without momentum a gated step does not apply its update of Wₑ at once:
//! the next step's forward pass applies it column by column while each column is in cache for
//! its own products ([`GatedNet::forward_main_applying`]), the same arithmetic in one pass over
//! the experts' weights instead of two. The updater keeps the invariant that this is invisible:
//! its training forward pass ([`Updater::forward_main`]) applies what is held, and
//! [`Updater::catch_up`] applies it before anyone else reads the parameters.

use ndarray::ArrayView2;

use crate::config::LaneSettings;
use crate::net::{
    Activations, DeferredExpertStep, FusedStep, GatedNet, GaterStep, Gradients, MainPlan,
};
use crate::nn::{DenseGrad, Sgd, SgdSettings};

/// The optimiser of one lane (see the [module](self) documentation).
#[derive(Debug, Clone)]
pub struct Updater {
    /// η and μ of the experts and the softmax layer.
    main: SgdSettings,
    /// η and μ of the gater.
    gater: SgdSettings,
    /// The max norm of every unit's incoming weights.
    max_norm: Option<f32>,
    /// Velocities of the gater's hidden layer, the gate layer, the experts and the softmax layer
    /// (used only with momentum).
    optimisers: [Sgd; 4],
    /// Hold each gated step's update of the experts' weights for the next forward pass.
    hold_expert_steps: bool,
    /// The gate layer may take its sparse step when ∂L/∂a is mostly zero.
    sparse_gater: bool,
    /// Every incoming weight vector of the experts and the gater has been clipped once (after
    /// that, the sparse steps clip only the vectors they change).
    columns_clipped: bool,
    /// The experts' update held back, if any.
    held: DeferredExpertStep,
}

impl Updater {
    /// The optimiser of a lane training `net` with `settings`: zero velocities, nothing clipped
    /// yet, the experts' updates held back for the next forward pass, the gate layer's sparse
    /// step allowed.
    pub fn new(net: &GatedNet, settings: &LaneSettings) -> Self {
        Updater {
            main: SgdSettings {
                learning_rate: settings.learning_rate,
                momentum: settings.momentum,
            },
            gater: SgdSettings {
                learning_rate: settings.gater_learning_rate,
                momentum: settings.momentum,
            },
            max_norm: settings.max_norm,
            optimisers: [
                Sgd::new(&net.gater_hidden),
                Sgd::new(&net.gater_gates),
                Sgd::new(&net.experts),
                Sgd::new(&net.output),
            ],
            hold_expert_steps: true,
            sparse_gater: true,
            columns_clipped: false,
            held: DeferredExpertStep::default(),
        }
    }

    /// With `on` (the default), a gated step without momentum holds its update of the experts'
    /// weights for the next forward pass; the results are the same bits either way. Turning it
    /// off applies what is held to `net`.
    pub fn set_hold_expert_steps(&mut self, on: bool, net: &mut GatedNet) {
        self.hold_expert_steps = on;
        if !on {
            self.catch_up(net);
        }
    }

    /// Whether the gate layer may take its sparse step (false for a lane that computes
    /// everything densely, the reference the gated kernels are measured against).
    pub fn set_sparse_gater(&mut self, allowed: bool) {
        self.sparse_gater = allowed;
    }

    /// Whether `net` is up to date (no update held back).
    pub fn is_current(&self) -> bool {
        !self.held.is_pending()
    }

    /// Applies the update held back, if any, so that `net` is up to date.
    pub fn catch_up(&mut self, net: &mut GatedNet) {
        self.held.apply(&mut net.experts);
    }

    /// The training step's forward pass of the main path (see [`GatedNet::forward_main`]),
    /// applying the experts' update held back from the previous step as it reads each expert's
    /// weights. Returns the batch-mean loss.
    pub fn forward_main(
        &mut self,
        net: &mut GatedNet,
        x: ArrayView2<f32>,
        labels: &[u8],
        h: ArrayView2<f32>,
        acts: &mut Activations,
        plan: MainPlan,
    ) -> f32 {
        net.forward_main_applying(x, labels, h, acts, plan, &mut self.held)
    }

    /// One SGD step of every layer from the backward pass of the main path (run with `plan`,
    /// its ∂L/∂H and ∂L/∂Wₒ in `grads`) and, for a lane with gates, ∂L/∂a in `grads.dgate_pre`;
    /// then the max norm. Without momentum the steps are fused with the backward passes (no
    /// weight gradient is written) and the gater's step reports how it went.
    pub fn step(
        &mut self,
        net: &mut GatedNet,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        plan: MainPlan,
        gated: bool,
    ) -> Option<GaterStep> {
        let (main, gater, max_norm) = (self.main, self.gater, self.max_norm);
        let [o_hidden, o_gates, o_experts, o_output] = &mut self.optimisers;
        // Experts: Wₑ ← Wₑ − η xᵀ ∂L/∂H (or the momentum step), then the max norm.
        if main.momentum != 0.0 {
            net.momentum_step_experts(x, acts, grads, plan, o_experts, main, max_norm);
        } else {
            let step = FusedStep {
                learning_rate: main.learning_rate,
                max_norm,
                clip_all: !self.columns_clipped,
            };
            let held = self.hold_expert_steps
                && net.defer_step_experts(x, acts, grads, plan, step, &mut self.held);
            if !held {
                net.step_experts(x, acts, grads, plan, step);
            }
        }
        // Softmax layer.
        o_output.step(&mut net.output, &grads.output, main);
        // Gater: backward from ∂L/∂a and its step, fused.
        let mut gater_step = None;
        if gated && gater.momentum == 0.0 {
            let step = FusedStep {
                learning_rate: gater.learning_rate,
                max_norm,
                clip_all: !self.columns_clipped,
            };
            gater_step = Some(net.step_gater(x, acts, grads, step, self.sparse_gater));
        } else if gated {
            net.momentum_step_gater(x, acts, grads, o_hidden, o_gates, gater, max_norm);
        }
        self.columns_clipped = true;
        if let Some(c) = max_norm {
            net.output.clip_incoming_norms(c);
        }
        gater_step
    }

    /// The velocities of the four layers (gater hidden, gate layer, experts, softmax layer),
    /// when the lane trains with momentum.
    pub fn velocities(&self) -> Option<[DenseGrad; 4]> {
        (self.main.momentum != 0.0).then(|| self.optimisers.clone().map(|o| o.velocity))
    }

    /// Copies the velocities into `into` (reusing its memory), or clears it without momentum.
    pub fn velocities_into(&self, into: &mut Option<[DenseGrad; 4]>) {
        if self.main.momentum == 0.0 {
            *into = None;
            return;
        }
        match into {
            Some(v) => {
                for (d, o) in v.iter_mut().zip(&self.optimisers) {
                    super::checkpoint::copy_grad(d, &o.velocity);
                }
            }
            None => *into = self.velocities(),
        }
    }

    /// Continues from a checkpoint taken after `steps` steps, with its `velocities` (None: the
    /// lane trains without momentum, and zero velocities give the same steps); what was held
    /// back was meant for the weights the checkpoint replaces.
    pub fn restore(&mut self, velocities: Option<[DenseGrad; 4]>, steps: u64) {
        self.held.discard();
        // Every column has been clipped once as soon as one update happened.
        self.columns_clipped = steps > 0;
        match velocities {
            Some(velocities) => {
                for (o, v) in self.optimisers.iter_mut().zip(velocities) {
                    o.velocity = v;
                }
            }
            None => {
                for o in &mut self.optimisers {
                    o.velocity.clear();
                }
            }
        }
    }
}
