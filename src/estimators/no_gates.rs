//! Reference lane: the dense network, with no gater and every expert on (h ≡ 1).

use ndarray::ArrayView2;

use super::{Evaluations, GateEstimator, GateGradient, GateSample, SparsityForm, spec::Family};
use crate::seed::Rng;

/// No gates at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoGates;

impl GateEstimator for NoGates {
    fn family(&self) -> Family {
        Family::Dense
    }

    fn describe(&self) -> String {
        "dense (no gates)".into()
    }

    fn is_gated(&self) -> bool {
        false
    }

    fn reads(&self) -> GateGradient {
        GateGradient::Skip
    }

    /// h = 1, aux = 0.
    fn sample(&self, _a: ArrayView2<f32>, _rng: &mut Rng, draws: &mut [GateSample]) {
        for out in draws {
            out.h.fill(1.0);
            out.aux.fill(0.0);
        }
    }

    /// There is no gater to train: da = 0.
    fn gate_gradient(
        &self,
        _draws: &[GateSample],
        _evals: &Evaluations<'_>,
        da: &mut ndarray::Array2<f32>,
    ) {
        da.fill(0.0);
    }

    fn test_gate(&self, _a: f32) -> f32 {
        1.0
    }

    fn sparsity(&self) -> SparsityForm {
        SparsityForm::None
    }

    fn firing_probability(&self, _a: f32) -> Option<(f32, f32)> {
        None
    }
}
