//! Stochastic gradient descent with momentum.

use serde::{Deserialize, Serialize};

use ndarray::{ArrayView2, Zip, s};

use super::dense::{ColumnMajorSlice, Dense, DenseGrad, column_block};
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
    /// cache ([`Dense::update_columns`]): the same numbers in one pass over W instead of two.
    pub fn step_clipped(
        &mut self,
        layer: &mut Dense,
        grad: &DenseGrad,
        s: SgdSettings,
        max_norm: Option<f32>,
    ) {
        let (eta, mu, d) = (s.learning_rate, s.momentum, layer.inputs());
        let fused = max_norm.is_some()
            && match (self.velocity.w.t_mut_slice(), grad.w.t_slice()) {
                (Some(v), Some(g)) => layer.update_columns(max_norm, |j, w| {
                    let g = &g[j * d..(j + 1) * d];
                    if mu == 0.0 {
                        w.iter_mut().zip(g).for_each(|(w, &g)| *w -= eta * g);
                    } else {
                        let v = &mut v[j * d..(j + 1) * d];
                        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
                            momentum_update(w, v, g, eta, mu);
                        }
                    }
                }),
                _ => false,
            };
        if fused {
            self.step_bias(layer, grad, s);
            return;
        }
        self.step(layer, grad, s);
        if let Some(c) = max_norm {
            layer.clip_incoming_norms(c);
        }
    }

    /// The momentum step of a layer from its input and ∂L/∂(output) `delta`, without a gradient
    /// buffer: v ← μ v − η inputᵀ δ as one product (C ← γC + sAB), v_b ← μ v_b − η Σ_b δ_b,
    /// θ ← θ + v, then the max norm per column (block by block of columns while they are in
    /// cache when the layer and its velocity are column-major: [`Dense::step_column_blocks`]).
    /// Without momentum, θ ← θ − η inputᵀ δ straight into the weights
    /// ([`Dense::sgd_step_from`]).
    pub fn step_from(
        &mut self,
        layer: &mut Dense,
        input: ArrayView2<f32>,
        delta: ArrayView2<f32>,
        s: SgdSettings,
        max_norm: Option<f32>,
    ) {
        let (eta, mu, d) = (s.learning_rate, s.momentum, layer.inputs());
        if mu == 0.0 {
            layer.sgd_step_from(input, delta, eta, max_norm);
            return;
        }
        Zip::from(&mut layer.b)
            .and(&mut self.velocity.b)
            .and(delta.columns())
            .for_each(|b, v, col| momentum_update(b, v, col.sum(), eta, mu));
        if let Some(velocity) = self.velocity.w.t_mut_slice() {
            // Block by block: v ← μ v − η inputᵀ δ on the block's columns, then θ ← θ + v and
            // the max norm while both are in cache.
            let fused = layer.step_column_blocks(max_norm, |columns, w| {
                let v = &mut velocity[columns.start * d..columns.end * d];
                let product = column_block(v, d, columns.len());
                let delta = delta.slice(s![.., columns]);
                matmul_scaled_into(input.t(), delta, product, Some(mu), -eta);
                w.iter_mut().zip(v.iter()).for_each(|(w, &v)| *w += v);
            });
            if fused {
                return;
            }
        }
        matmul_scaled_into(input.t(), delta, self.velocity.w.view_mut(), Some(mu), -eta);
        layer.w += &self.velocity.w;
        if let Some(c) = max_norm {
            layer.clip_incoming_norms(c);
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

    /// The step from (input, δ), block by block of columns with the max norm on each block,
    /// gives the bits of the whole product followed by the clip of every column, with and
    /// without momentum; a row-major layer (one product, then the clip) gives the same numbers
    /// to rounding.
    #[test]
    fn blocked_step_from_matches_the_whole_product_then_the_clip() {
        use crate::nn::dense::STEP_BLOCK;
        use crate::nn::{matmul_into, matmul_scaled_into};
        use ndarray::{Array1, Array2, ShapeBuilder};
        let (batch, d, n) = (6, 23, 2 * STEP_BLOCK + 37);
        let value = |k: usize, scale: f32| ((k * 7919) % 101) as f32 / 50.0 * scale - scale;
        let input = Array2::from_shape_fn((batch, d), |(b, i)| value(b * d + i, 1.0));
        let delta = Array2::from_shape_fn((batch, n).f(), |(b, j)| value(b * 31 + j * 7, 1.5));
        let w = Array2::from_shape_fn((d, n).f(), |(i, j)| value(i * n + j, 0.5));
        let layer = Dense {
            w,
            b: Array1::from_shape_fn(n, |j| value(j, 0.1)),
        };
        let max_norm = 1.4;
        for momentum in [0.0f32, 0.5] {
            let s = SgdSettings {
                learning_rate: 0.2,
                momentum,
            };
            let (mut blocked, mut opt) = (layer.clone(), Sgd::new(&layer));
            let (mut whole, mut velocity) = (layer.clone(), Array2::zeros((d, n).f()));
            let mut row_major = Dense {
                w: layer.w.as_standard_layout().into_owned(),
                b: layer.b.clone(),
            };
            let mut row_opt = Sgd::new(&row_major);
            for step in 0..3 {
                opt.step_from(&mut blocked, input.view(), delta.view(), s, Some(max_norm));
                row_opt.step_from(
                    &mut row_major,
                    input.view(),
                    delta.view(),
                    s,
                    Some(max_norm),
                );
                if momentum == 0.0 {
                    matmul_into(input.t(), delta.view(), whole.w.view_mut(), -0.2, true);
                } else {
                    let v = velocity.view_mut();
                    matmul_scaled_into(input.t(), delta.view(), v, Some(momentum), -0.2);
                    whole.w += &velocity;
                }
                whole.clip_incoming_norms(max_norm);
                let clipped = blocked
                    .w
                    .columns()
                    .into_iter()
                    .filter(|c| (c.dot(c).sqrt() - max_norm).abs() < 1e-4);
                assert!(clipped.count() > 0, "some columns are clipped");
                for (j, (a, b)) in blocked.w.iter().zip(whole.w.iter()).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "μ {momentum} step {step} at {j}");
                }
                for (a, b) in blocked.w.iter().zip(row_major.w.iter()) {
                    assert!((a - b).abs() <= 1e-5, "row-major μ {momentum}: {a} vs {b}");
                }
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
