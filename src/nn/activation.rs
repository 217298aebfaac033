//! Element-wise activations and their derivatives expressed through the output y = f(x).

use ndarray::{Array2, ArrayView2, Zip};
use serde::{Deserialize, Serialize};

/// A unit's non-linearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// f(x) = x (the paper's "expert" units).
    #[default]
    Linear,
    /// f(x) = tanh(x) (the paper's gater hidden layer).
    Tanh,
    /// f(x) = max(0, x).
    Relu,
}

impl Activation {
    /// Applies f in place.
    pub fn apply(self, x: &mut Array2<f32>) {
        match self {
            Activation::Linear => {}
            Activation::Tanh => x.mapv_inplace(super::math::tanh),
            Activation::Relu => x.mapv_inplace(|v| v.max(0.0)),
        }
    }

    /// f(x) for one value.
    #[inline]
    pub fn value(self, x: f32) -> f32 {
        match self {
            Activation::Linear => x,
            Activation::Tanh => super::math::tanh(x),
            Activation::Relu => x.max(0.0),
        }
    }

    /// f'(x) written as a function of y = f(x): 1, 1 − y², 1[y > 0].
    #[inline]
    pub fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// grad ← grad ⊙ f'(x), with f'(x) computed from the stored output y.
    pub fn backprop_inplace(self, output: ArrayView2<f32>, grad: &mut Array2<f32>) {
        if self == Activation::Linear {
            return;
        }
        Zip::from(grad)
            .and(output)
            .for_each(|g, &y| *g *= self.derivative_from_output(y));
    }
}
