//! Stochastic gradient descent with momentum.

use serde::{Deserialize, Serialize};

use super::dense::{Dense, DenseGrad};

/// Learning rate and momentum of one group of parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdSettings {
    /// Step size η.
    pub learning_rate: f32,
    /// Momentum μ (0 for plain SGD).
    pub momentum: f32,
}

/// SGD with classical momentum for one dense layer: v ← μ v − η g, θ ← θ + v.
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    /// Velocity, shaped like the layer.
    pub velocity: DenseGrad,
}

impl Sgd {
    /// Zero velocity for `layer`.
    pub fn new(layer: &Dense) -> Self {
        Sgd {
            velocity: DenseGrad::zeros_like(layer),
        }
    }

    /// Applies one update with gradient `grad`. Without momentum the update is θ ← θ − η g and
    /// the velocity is neither read nor written (it stays zero), which halves the memory traffic
    /// of the step.
    pub fn step(&mut self, layer: &mut Dense, grad: &DenseGrad, s: SgdSettings) {
        let (eta, mu) = (s.learning_rate, s.momentum);
        if mu == 0.0 {
            ndarray::Zip::from(&mut layer.w)
                .and(&grad.w)
                .for_each(|w, &g| *w -= eta * g);
            ndarray::Zip::from(&mut layer.b)
                .and(&grad.b)
                .for_each(|b, &g| *b -= eta * g);
            return;
        }
        ndarray::Zip::from(&mut layer.w)
            .and(&mut self.velocity.w)
            .and(&grad.w)
            .for_each(|w, v, &g| {
                *v = mu * *v - eta * g;
                *w += *v;
            });
        ndarray::Zip::from(&mut layer.b)
            .and(&mut self.velocity.b)
            .and(&grad.b)
            .for_each(|b, v, &g| {
                *v = mu * *v - eta * g;
                *b += *v;
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn momentum_accumulates() {
        let mut layer = Dense {
            w: array![[1.0f32]],
            b: array![0.0f32],
        };
        let grad = DenseGrad {
            w: array![[1.0f32]],
            b: array![2.0f32],
        };
        let mut opt = Sgd::new(&layer);
        let s = SgdSettings {
            learning_rate: 0.1,
            momentum: 0.5,
        };
        opt.step(&mut layer, &grad, s);
        assert!((layer.w[[0, 0]] - 0.9).abs() < 1e-6);
        opt.step(&mut layer, &grad, s);
        // v = 0.5·(−0.1) − 0.1 = −0.15
        assert!((layer.w[[0, 0]] - 0.75).abs() < 1e-6);
        assert!((layer.b[0] + 0.5).abs() < 1e-6);
    }
}
