//! The conditional-computation network of the paper (Appendix A).
//!
//! ```text
//!            ┌─ gater path: x → tanh(x W₁ + b₁) = z → a = z W₂ + b₂ → gates h = f(a, noise)
//!  x (784) ──┤
//!            └─ main path:  x → H = g(x Wₑ + bₑ)   (one "expert" unit per gate)
//!  conditional layer: c = H ⊙ h  →  logits = c Wₒ + bₒ  →  softmax cross-entropy
//! ```
//! A gate at exactly 0 means its expert need not be computed at all.

pub mod deferred;
pub mod gate_layer;
pub mod gate_loss;
pub mod gated;
pub mod gated_kernels;
pub mod plan;
mod routed_output;
pub mod routes;
pub mod sparsity;

pub use deferred::DeferredExpertStep;
pub use gate_layer::GaterStep;
pub use gated::{Activations, FusedStep, GatedNet, Gradients, NetConfig};
pub use plan::{MainPathChoice, MainPlan, SPARSE_CROSSOVER, SparseOrder};
pub use routes::ExpertRoutes;
pub use sparsity::{AdaptiveL1, firing_rate_penalty, firing_rate_penalty_into};
