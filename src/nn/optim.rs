//! Stochastic gradient descent with momentum.

use serde::{Deserialize, Serialize};

use ndarray::{ArrayView2, Zip};

use super::dense::{Dense, DenseGrad, clip_norm};
use super::matmul::matmul_scaled_into;

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
        } else {
            ndarray::Zip::from(&mut layer.w)
                .and(&mut self.velocity.w)
                .and(&grad.w)
                .for_each(|w, v, &g| momentum_update(w, v, g, eta, mu));
        }
        self.step_bias(layer, grad, s);
    }

    /// [`Self::step`] followed by the max-norm constraint on every incoming weight vector
    /// ([`Dense::clip_incoming_norms`]) when `max_norm` is given. With column-major weights,
    /// gradient and velocity, each column is clipped right after its update, while it is in
    /// cache: the same numbers in one pass over W instead of two.
    pub fn step_clipped(
        &mut self,
        layer: &mut Dense,
        grad: &DenseGrad,
        s: SgdSettings,
        max_norm: Option<f32>,
    ) {
        let d = layer.inputs();
        let columns = d > 0
            && layer.is_column_major()
            && grad.w.t().is_standard_layout()
            && self.velocity.w.t().is_standard_layout();
        let (Some(c), true) = (max_norm, columns) else {
            self.step(layer, grad, s);
            if let Some(c) = max_norm {
                layer.clip_incoming_norms(c);
            }
            return;
        };
        let (eta, mu) = (s.learning_rate, s.momentum);
        let w = layer.w.as_slice_memory_order_mut().expect("column-major");
        let v = self
            .velocity
            .w
            .as_slice_memory_order_mut()
            .expect("column-major");
        let g = grad.w.as_slice_memory_order().expect("column-major");
        for ((w, v), g) in w
            .chunks_exact_mut(d)
            .zip(v.chunks_exact_mut(d))
            .zip(g.chunks_exact(d))
        {
            if mu == 0.0 {
                w.iter_mut().zip(g).for_each(|(w, &g)| *w -= eta * g);
            } else {
                for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
                    momentum_update(w, v, g, eta, mu);
                }
            }
            clip_norm(w, c);
        }
        self.step_bias(layer, grad, s);
    }

    /// The momentum step of a layer from its input and ∂L/∂(output) `delta`, without a gradient
    /// buffer: v ← μ v − η inputᵀ δ as one product (C ← γC + sAB), v_b ← μ v_b − η Σ_b δ_b,
    /// θ ← θ + v, then the max norm per column (fused when the layer is column-major). Without
    /// momentum, θ ← θ − η inputᵀ δ straight into the weights ([`Dense::sgd_step_from`]).
    pub fn step_from(
        &mut self,
        layer: &mut Dense,
        input: ArrayView2<f32>,
        delta: ArrayView2<f32>,
        s: SgdSettings,
        max_norm: Option<f32>,
    ) {
        let (eta, mu) = (s.learning_rate, s.momentum);
        if mu == 0.0 {
            layer.sgd_step_from(input, delta, eta);
            if let Some(c) = max_norm {
                layer.clip_incoming_norms(c);
            }
            return;
        }
        matmul_scaled_into(input.t(), delta, self.velocity.w.view_mut(), Some(mu), -eta);
        Zip::from(&mut self.velocity.b)
            .and(&mut layer.b)
            .and(delta.columns())
            .for_each(|v, b, col| {
                *v = mu * *v - eta * col.sum();
                *b += *v;
            });
        let d = layer.inputs();
        let columns = d > 0 && layer.is_column_major() && self.velocity.w.t().is_standard_layout();
        match (max_norm, columns) {
            (Some(c), true) => {
                let w = layer.w.as_slice_memory_order_mut().expect("column-major");
                let v = self
                    .velocity
                    .w
                    .as_slice_memory_order()
                    .expect("column-major");
                for (w, v) in w.chunks_exact_mut(d).zip(v.chunks_exact(d)) {
                    w.iter_mut().zip(v).for_each(|(w, &v)| *w += v);
                    clip_norm(w, c);
                }
            }
            _ => {
                layer.w += &self.velocity.w;
                if let Some(c) = max_norm {
                    layer.clip_incoming_norms(c);
                }
            }
        }
    }

    /// The biases' part of the step.
    fn step_bias(&mut self, layer: &mut Dense, grad: &DenseGrad, s: SgdSettings) {
        let (eta, mu) = (s.learning_rate, s.momentum);
        if mu == 0.0 {
            ndarray::Zip::from(&mut layer.b)
                .and(&grad.b)
                .for_each(|b, &g| *b -= eta * g);
        } else {
            ndarray::Zip::from(&mut layer.b)
                .and(&mut self.velocity.b)
                .and(&grad.b)
                .for_each(|b, v, &g| momentum_update(b, v, g, eta, mu));
        }
    }
}

/// v ← μ v − η g, θ ← θ + v.
#[inline(always)]
pub(crate) fn momentum_update(theta: &mut f32, v: &mut f32, g: f32, eta: f32, mu: f32) {
    *v = mu * *v - eta * g;
    *theta += *v;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The fused step and clip gives the bits of the step followed by the clip, for
    /// column-major and row-major layers, with and without momentum.
    #[test]
    fn step_clipped_matches_step_then_clip() {
        use ndarray::{Array1, Array2, ShapeBuilder};
        for column_major in [true, false] {
            for momentum in [0.0f32, 0.5] {
                let (d, n) = (37, 9);
                let value = |k: usize, scale: f32| ((k * 7919) % 101) as f32 / 50.0 * scale - scale;
                let layer = Dense {
                    w: Array2::from_shape_fn((d, n).set_f(column_major), |(i, j)| {
                        value(i * n + j, 1.0)
                    }),
                    b: Array1::from_shape_fn(n, |j| value(j, 0.1)),
                };
                let grad = DenseGrad {
                    w: Array2::from_shape_fn((d, n).set_f(column_major), |(i, j)| {
                        value(i * 3 + j * 5, 2.0)
                    }),
                    b: Array1::from_shape_fn(n, |j| value(j * 3, 1.0)),
                };
                let s = SgdSettings {
                    learning_rate: 0.3,
                    momentum,
                };
                let (mut a, mut b) = (layer.clone(), layer.clone());
                let (mut oa, mut ob) = (Sgd::new(&layer), Sgd::new(&layer));
                for _ in 0..3 {
                    oa.step(&mut a, &grad, s);
                    a.clip_incoming_norms(2.0);
                    ob.step_clipped(&mut b, &grad, s, Some(2.0));
                }
                let bits = |l: &Dense| {
                    let w: Vec<u32> = l.w.iter().map(|v| v.to_bits()).collect();
                    let b: Vec<u32> = l.b.iter().map(|v| v.to_bits()).collect();
                    (w, b)
                };
                assert_eq!(bits(&a), bits(&b), "{column_major} {momentum}");
                assert_eq!(oa.velocity, ob.velocity);
                // Some columns were clipped, so the test sees the constraint act.
                let clipped = (0..n)
                    .filter(|&j| {
                        let norm = b.w.column(j).iter().map(|v| v * v).sum::<f32>().sqrt();
                        (norm - 2.0).abs() < 1e-4
                    })
                    .count();
                assert!(clipped > 0);
            }
        }
    }

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
