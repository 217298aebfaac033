//! How the main path computes one evaluation: the gated kernels or the dense products, where
//! ∂L/∂h is needed, and in which order the kernels go. A plan is decided once per evaluation,
//! from the gates drawn, and passed explicitly to the forward and backward passes.

use crate::estimators::{GateEstimator, GateGradient};

/// Gate firing rate up to which the lanes use the gated kernels (above it, the dense products
/// are faster). `gradrace bench` measures the conditional layer at 1–100% firing: on the
/// AVX-512 machine this was tuned on, at batch 32 and the paper's shapes, the gated kernels are
/// about 1.2× ahead at 20% and even with the dense products at 25%, where every expert is used
/// by some example and the kernels do a quarter of the dense work at a fraction of the dense
/// products' efficiency.
pub const SPARSE_CROSSOVER: f32 = 0.2;

/// Which main path a lane computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MainPathChoice {
    /// The gated kernels when the gates fire at most [`SPARSE_CROSSOVER`] of the time, the
    /// dense path otherwise.
    #[default]
    Auto,
    /// Always every expert, masked by the gates (the "dense-masked" reference).
    Dense,
    /// Always the gated kernels when the lane has gates.
    Sparse,
}

/// Loop order of the gated kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparseOrder {
    /// Expert by expert, over the examples routed to it (the default, cache-friendly).
    ByExpert,
    /// Example by example, over the experts that example uses.
    ByExample,
}

/// How the main path is computed for one minibatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MainPlan {
    /// Compute only the experts whose gate is on.
    pub sparse: bool,
    /// Where the backward pass computes ∂L/∂h (into `Gradients::dgates`).
    pub gate_gradient: GateGradient,
    /// Loop order of the gated kernels.
    pub order: SparseOrder,
}

impl Default for MainPlan {
    /// The dense main path with ∂L/∂h everywhere: correct for every estimator.
    fn default() -> Self {
        MainPlan {
            sparse: false,
            gate_gradient: GateGradient::Everywhere,
            order: SparseOrder::ByExpert,
        }
    }
}

impl MainPlan {
    /// Whether the gated forward pass can apply a held-back SGD step of the experts as it goes
    /// ([`GatedNet::forward_main_applying`](super::GatedNet::forward_main_applying)): only the expert-by-expert order takes each expert's products
    /// straight from its weights, and with ∂L/∂h everywhere the forward pass is dense.
    pub(crate) fn applies_deferred_steps(self) -> bool {
        self.sparse
            && self.gate_gradient != GateGradient::Everywhere
            && self.order == SparseOrder::ByExpert
    }

    /// The plan of an evaluation of `estimator`'s gates firing at `firing_rate`: the gated
    /// kernels when the rate is at most [`SPARSE_CROSSOVER`] (or always, or never, as `choice`
    /// says), ∂L/∂h only where the estimator reads it.
    pub fn choose(estimator: &dyn GateEstimator, choice: MainPathChoice, firing_rate: f32) -> Self {
        let sparse = estimator.is_gated()
            && match choice {
                MainPathChoice::Auto => firing_rate <= SPARSE_CROSSOVER,
                MainPathChoice::Dense => false,
                MainPathChoice::Sparse => true,
            };
        MainPlan::for_estimator(estimator, sparse)
    }

    /// The plan for `estimator`'s gates: gated kernels when `sparse`, ∂L/∂h only where the
    /// estimator reads it.
    pub fn for_estimator(estimator: &dyn GateEstimator, sparse: bool) -> Self {
        let gate_gradient = if estimator.is_gated() {
            estimator.reads()
        } else {
            GateGradient::Skip
        };
        MainPlan {
            sparse,
            gate_gradient,
            order: SparseOrder::ByExpert,
        }
    }
}
