//! Baseline: deterministic sigmoid gates h = σ(a + n), optionally with Gaussian noise n during
//! training. No sampling, no exact zeros in training; ordinary backprop: ∂h/∂a = h(1 − h).

use ndarray::ArrayView2;

use super::{GateEstimator, GateSample, sigmoid_firing_probabilities, spec::Family};
use crate::nn::math::{sigmoid, sigmoid_branch_free};
use crate::sampling::gaussian::gates_with_noise;
use crate::sampling::on_slices;
use crate::seed::Rng;

/// The deterministic sigmoid gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SigmoidGate {
    /// Standard deviation of the Gaussian noise added before the sigmoid in training (0: none).
    pub noise_std: f32,
}

impl GateEstimator for SigmoidGate {
    fn family(&self) -> Family {
        Family::Sigmoid
    }

    fn describe(&self) -> String {
        if self.noise_std > 0.0 {
            format!("sigmoid gates (+ Gaussian noise σ={})", self.noise_std)
        } else {
            "sigmoid gates".into()
        }
    }

    /// h = σ(a + n), aux = h(1 − h).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        let std = self.noise_std;
        if std > 0.0 {
            gates_with_noise(rng, a, &mut out.h, &mut out.aux, |x, z| {
                let h = sigmoid_branch_free(x + std * z);
                (h, h * (1.0 - h))
            });
        } else {
            on_slices(a, &mut out.h, &mut out.aux, sigmoid_firing_probabilities);
        }
    }

    /// σ(a). (The sparsity penalty is the default one, on σ(a): for these gates, never exactly
    /// zero, the gate's mean value plays the role of the firing rate.)
    fn test_gate(&self, a: f32) -> f32 {
        sigmoid(a)
    }
}
