//! The SGD step of the gater without momentum, fused with its backward pass, and its sparse
//! form for estimators whose ∂L/∂a vanishes where the gate is off.
//!
//! With a = z W₂ + b₂ (z the gater's hidden layer, B × H) and δ = ∂L/∂a (B × N):
//! ∂L/∂z = δ W₂ᵀ, ∂L/∂W₂ = zᵀ δ, ∂L/∂b₂ = Σ_b δ_b. Without momentum the step
//! W₂ ← W₂ − η zᵀ δ is accumulated straight into W₂ (after ∂L/∂z used the old W₂), so that
//! ∂L/∂W₂ is never written to memory, and likewise W₁ ← W₁ − η xᵀ ∂L/∂(x W₁ + b₁).
//!
//! For the rectifier-type estimators (∂h/∂a = 0 where h = 0, and an L1 penalty on h) δ is
//! exactly zero at every gate that is off, so the gate layer's backward pass is conditional
//! computation too: unit i's incoming weights W₂[:, i] are read once, used for
//! ∂L/∂z_b += δ_bi W₂[:, i] over the examples b with δ_bi ≠ 0, updated with
//! W₂[:, i] −= η Σ_b δ_bi z_b and clipped to the max norm while in cache. Units with δ = 0 for
//! the whole minibatch are not touched.

use ndarray::ArrayView2;

use super::gated::{Activations, FusedStep, GatedNet, Gradients};
use super::plan::SPARSE_CROSSOVER;
use super::routes::ExpertRoutes;
use crate::nn::dense::clip_norm;
use crate::nn::simd::backprop_and_update;

/// How one fused gater step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaterStep {
    /// (example, unit) pairs whose ∂L/∂a entered the gate layer's backward pass: the non-zero
    /// ones with the sparse form, all B × N with the dense one.
    pub backward_entries: usize,
    /// The sparse form ran.
    pub sparse: bool,
}

impl GatedNet {
    /// SGD without momentum of the gater from ∂L/∂a in `grads.dgate_pre`, fused with the
    /// gater's backward pass (see the [module](self) documentation): ∂L/∂z = δ W₂ᵀ,
    /// W₂ ← W₂ − η zᵀ δ, b₂ ← b₂ − η Σ_b δ_b, then through f and W₁ ← W₁ − η xᵀ ∂L/∂(x W₁ + b₁),
    /// b₁ likewise, then the max-norm constraint on the incoming weights of both layers.
    ///
    /// With `sparse_allowed` and at most [`SPARSE_CROSSOVER`] of δ non-zero, the gate
    /// layer takes the sparse form, which clips only the units it updated unless
    /// `step.clip_all`. The gradient buffers `grads.gater_gates` and `grads.gater_hidden` are
    /// not written.
    pub fn step_gater(
        &mut self,
        x: ArrayView2<f32>,
        acts: &Activations,
        grads: &mut Gradients,
        step: FusedStep,
        sparse_allowed: bool,
    ) -> GaterStep {
        let FusedStep {
            learning_rate,
            max_norm,
            clip_all,
        } = step;
        let (batch, units) = grads.dgate_pre.dim();
        let may_be_sparse = sparse_allowed && self.gater_gates.is_column_major();
        // Count first (a vectorised scan): routing a dense δ, as the sigmoid-type estimators'
        // is, would cost more than the count.
        let nonzero = match grads.dgate_pre.as_slice_memory_order() {
            Some(d) => d.iter().filter(|&&v| v != 0.0).count(),
            None => grads.dgate_pre.iter().filter(|&&v| v != 0.0).count(),
        };
        let sparse = may_be_sparse && nonzero as f32 <= SPARSE_CROSSOVER * (batch * units) as f32;
        if sparse {
            grads.gate_layer.routes.build(grads.dgate_pre.view());
            self.step_gate_layer_sparse(acts, grads, learning_rate, max_norm, clip_all);
        } else {
            self.gater_gates
                .input_grad_into(grads.dgate_pre.view(), &mut grads.dgater_hidden);
            self.gater_gates.sgd_step_from(
                acts.gater_hidden.view(),
                grads.dgate_pre.view(),
                learning_rate,
                max_norm,
            );
        }
        if let Some(c) = max_norm
            && clip_all
            && sparse
        {
            self.gater_gates.clip_incoming_norms(c);
        }

        self.gater_activation
            .backprop_inplace(acts.gater_hidden.view(), &mut grads.dgater_hidden);
        self.gater_hidden
            .sgd_step_from(x, grads.dgater_hidden.view(), learning_rate, max_norm);
        GaterStep {
            backward_entries: if sparse { nonzero } else { batch * units },
            sparse,
        }
    }

    /// The gate layer's part of [`Self::step_gater`] for a sparse δ, routed into
    /// `grads.gate_layer.routes`: fills
    /// `grads.dgater_hidden` with ∂L/∂z and updates W₂, b₂ unit by unit over the routed
    /// non-zero δ (clipping each updated unit unless `clip_all`, left to the caller).
    fn step_gate_layer_sparse(
        &mut self,
        acts: &Activations,
        grads: &mut Gradients,
        learning_rate: f32,
        max_norm: Option<f32>,
        clip_all: bool,
    ) {
        let z = acts.gater_hidden.view();
        let (batch, hidden) = z.dim();
        // `step_gater` routed δ.
        let scratch = &mut grads.gate_layer;
        // z and ∂L/∂z example by example (rows contiguous).
        scratch.z_rows.resize(batch * hidden, 0.0);
        for (k, column) in z.columns().into_iter().enumerate() {
            for (b, &v) in column.iter().enumerate() {
                scratch.z_rows[b * hidden + k] = v;
            }
        }
        scratch.dz_rows.clear();
        scratch.dz_rows.resize(batch * hidden, 0.0);
        let z_rows = &scratch.z_rows;
        let dz_rows = &mut scratch.dz_rows;
        let routes: &ExpertRoutes = &scratch.routes;
        let w = self
            .gater_gates
            .w
            .as_slice_memory_order_mut()
            .expect("column-major (checked by the caller)");
        for i in 0..routes.units() {
            let (examples, deltas) = routes.unit(i);
            if examples.is_empty() {
                continue;
            }
            let col = &mut w[i * hidden..(i + 1) * hidden];
            backprop_and_update(col, dz_rows, z_rows, examples, deltas, -learning_rate);
            self.gater_gates.b[i] += deltas.iter().map(|d| d * -learning_rate).sum::<f32>();
            if let Some(c) = max_norm
                && !clip_all
            {
                clip_norm(col, c);
            }
        }
        for (k, mut column) in grads.dgater_hidden.columns_mut().into_iter().enumerate() {
            for (b, v) in column.iter_mut().enumerate() {
                *v = dz_rows[b * hidden + k];
            }
        }
    }
}

/// Scratch of the sparse gate-layer step, kept in [`Gradients`] so that no step allocates.
#[derive(Debug, Clone, Default)]
pub struct GateLayerScratch {
    routes: ExpertRoutes,
    z_rows: Vec<f32>,
    dz_rows: Vec<f32>,
}

impl GateLayerScratch {
    /// Room for a batch of `batch` over `units` gates and `hidden` gater units.
    pub fn with_capacity(batch: usize, units: usize, hidden: usize) -> Self {
        GateLayerScratch {
            routes: ExpertRoutes::with_capacity(batch, units),
            z_rows: Vec::with_capacity(batch * hidden),
            dz_rows: Vec::with_capacity(batch * hidden),
        }
    }
}
