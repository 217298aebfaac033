//! Fully connected layer y = x W + b, with W stored as (inputs × outputs) so that column j is the
//! incoming weight vector of unit j.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, Zip, s};
use serde::{Deserialize, Serialize};

use super::init::glorot_uniform;
use super::matmul::matmul_into;
use super::simd::dots;
use crate::seed::Rng;

/// A dense layer's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Weights, inputs × outputs.
    pub w: Array2<f32>,
    /// Biases, one per output unit.
    pub b: Array1<f32>,
}

/// Gradient of a loss with respect to a dense layer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseGrad {
    /// ∂L/∂W, inputs × outputs.
    pub w: Array2<f32>,
    /// ∂L/∂b.
    pub b: Array1<f32>,
}

impl DenseGrad {
    /// A zero gradient shaped like `layer`, in the same memory layout (so that the optimiser
    /// walks both in one contiguous pass).
    pub fn zeros_like(layer: &Dense) -> Self {
        DenseGrad {
            w: Array2::zeros(layer.w.dim().set_f(layer.is_column_major())),
            b: Array1::zeros(layer.b.raw_dim()),
        }
    }

    /// Sets every entry to zero.
    pub fn clear(&mut self) {
        self.w.fill(0.0);
        self.b.fill(0.0);
    }
}

impl Dense {
    /// Glorot-uniform weights and zero biases.
    pub fn glorot(inputs: usize, outputs: usize, rng: &mut Rng) -> Self {
        Dense {
            w: glorot_uniform(inputs, outputs, rng),
            b: Array1::zeros(outputs),
        }
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.w.nrows()
    }

    /// Number of output units.
    pub fn outputs(&self) -> usize {
        self.w.ncols()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.w.len() + self.b.len()
    }

    /// True when the layer has no parameters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when W is stored column-major: each unit's incoming weight vector is contiguous.
    pub fn is_column_major(&self) -> bool {
        self.w.ncols() > 1 && self.w.t().is_standard_layout()
    }

    /// Stores W column-major (same values), so that each unit's incoming weight vector is
    /// contiguous: what the gated kernels and the max-norm constraint walk.
    pub fn make_column_major(&mut self) {
        if !self.w.t().is_standard_layout() {
            let (inputs, outputs) = self.w.dim();
            let mut w = super::aligned::aligned_zeros(inputs, outputs, true);
            w.assign(&self.w);
            self.w = w;
        }
        super::aligned::realign(&mut self.w);
    }

    /// The SGD step without momentum for the batch's inputs `input` (B × inputs) and
    /// ∂L/∂(pre-activation) `delta` (B × outputs): W ← W − η inputᵀ δ, b ← b − η Σ_b δ_b, then
    /// with `max_norm` c the constraint w_j ← w_j · min(1, c / ‖w_j‖) on every column. The
    /// product is accumulated straight into W, so ∂L/∂W is never written to memory; with
    /// column-major weights it runs block by block of columns, each clipped while it is in
    /// cache ([`Self::step_column_blocks`]).
    pub fn sgd_step_from(
        &mut self,
        input: ArrayView2<f32>,
        delta: ArrayView2<f32>,
        eta: f32,
        max_norm: Option<f32>,
    ) {
        let d = self.inputs();
        let blocked = self.step_column_blocks(max_norm, |columns, w| {
            let w = column_block(w, d, columns.len());
            matmul_into(input.t(), delta.slice(s![.., columns]), w, -eta, true);
        });
        if !blocked {
            matmul_into(input.t(), delta, self.w.view_mut(), -eta, true);
            if let Some(c) = max_norm {
                self.clip_incoming_norms(c);
            }
        }
        ndarray::Zip::from(&mut self.b)
            .and(delta.columns())
            .for_each(|b, col| *b -= eta * col.sum());
    }

    /// For column-major weights: `step(columns, w)` on consecutive blocks of at most
    /// [`STEP_BLOCK`] columns, `w` holding the block's incoming weight vectors one after the
    /// other, then with `max_norm` c the constraint w_j ← w_j · min(1, c / ‖w_j‖) on each
    /// column of the block while it is still in cache, which saves the constraint a second pass
    /// over W from memory. A step that is one product over all columns (θ ← θ − η inputᵀ δ)
    /// gives the same bits block by block: each column's sum runs over the same batch in the
    /// same order (tested in `nn::optim`). Returns false, touching nothing, for weights in
    /// another layout.
    pub fn step_column_blocks(
        &mut self,
        max_norm: Option<f32>,
        mut step: impl FnMut(Range<usize>, &mut [f32]),
    ) -> bool {
        let (d, n) = (self.inputs(), self.outputs());
        let Some(all) = self.w.t_mut_slice() else {
            return false;
        };
        for start in (0..n).step_by(STEP_BLOCK) {
            let end = (start + STEP_BLOCK).min(n);
            let block = &mut all[start * d..end * d];
            step(start..end, block);
            if let Some(c) = max_norm
                && d > 0
            {
                block.chunks_exact_mut(d).for_each(|w| clip_norm(w, c));
            }
        }
        true
    }

    /// y ← x W + b (y must be batch × outputs).
    pub fn forward_into(&self, x: ArrayView2<f32>, y: &mut Array2<f32>) {
        // Broadcast b column by column: contiguous for the column-major activation buffers
        // (ndarray's row-wise broadcast strides through them).
        Zip::from(y.columns_mut())
            .and(&self.b)
            .for_each(|mut column, &b| column.fill(b));
        matmul_into(x, self.w.view(), y.view_mut(), 1.0, true);
    }

    /// y = x W + b, allocating.
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut y = Array2::zeros((x.nrows(), self.outputs()));
        self.forward_into(x, &mut y);
        y
    }

    /// Parameter gradient: ∂L/∂W = xᵀ dy, ∂L/∂b = Σ_batch dy (written into `grad`, scaled by
    /// `scale`).
    pub fn param_grad_into(
        &self,
        x: ArrayView2<f32>,
        dy: ArrayView2<f32>,
        scale: f32,
        grad: &mut DenseGrad,
    ) {
        matmul_into(x.t(), dy, grad.w.view_mut(), scale, false);
        Zip::from(&mut grad.b)
            .and(dy.columns())
            .for_each(|b, col| *b = scale * col.sum());
    }

    /// Input gradient: ∂L/∂x = dy Wᵀ (dx must be batch × inputs).
    pub fn input_grad_into(&self, dy: ArrayView2<f32>, dx: &mut Array2<f32>) {
        matmul_into(dy, self.w.t(), dx.view_mut(), 1.0, false);
    }

    /// Rescales every incoming weight vector (column of W) whose L2 norm exceeds `max_norm` to
    /// norm `max_norm`: w_j ← w_j · min(1, c / ‖w_j‖).
    pub fn clip_incoming_norms(&mut self, max_norm: f32) {
        if self.update_columns(Some(max_norm), |_, _| {}) {
            return;
        }
        for mut col in self.w.columns_mut() {
            let norm = col.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > max_norm {
                let s = max_norm / norm;
                col.mapv_inplace(|v| v * s);
            }
        }
    }

    /// For column-major weights: `update(j, w_j)` on every incoming weight vector w_j (column j
    /// of W, contiguous), then, with `max_norm`, w_j ← w_j · min(1, c / ‖w_j‖) while the column
    /// is in cache — one pass over W for an update and its constraint. Returns false, touching
    /// nothing, for weights in another layout.
    pub fn update_columns(
        &mut self,
        max_norm: Option<f32>,
        mut update: impl FnMut(usize, &mut [f32]),
    ) -> bool {
        let d = self.inputs();
        let Some(all) = self.w.t_mut_slice() else {
            return false;
        };
        if d == 0 {
            return true;
        }
        for (j, column) in all.chunks_exact_mut(d).enumerate() {
            update(j, column);
            if let Some(c) = max_norm {
                clip_norm(column, c);
            }
        }
        true
    }

    /// True when every parameter is finite.
    pub fn is_finite(&self) -> bool {
        let w = self.w.as_slice_memory_order();
        let b = self.b.as_slice_memory_order();
        match (w, b) {
            (Some(w), Some(b)) => all_finite(w) && all_finite(b),
            _ => self.w.iter().chain(self.b.iter()).all(|v| v.is_finite()),
        }
    }
}

/// True when no value is infinite or NaN: Σ v·0 is 0 for finite values and NaN as soon as one
/// is not, a sum without branches that the compiler vectorises (the race checks every lane's
/// parameters after each chunk).
pub fn all_finite(values: &[f32]) -> bool {
    let mut acc = [0.0f32; 16];
    let mut chunks = values.chunks_exact(16);
    for chunk in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v * 0.0;
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| v * 0.0).sum();
    (acc.iter().sum::<f32>() + tail) == 0.0
}

/// Columns per block of [`Dense::step_column_blocks`]: at the paper's 784 inputs, 256 columns
/// of W are 800 KB, 1.6 MB with the velocity of a momentum step, inside the 2 MB L2 cache of a
/// core of the machines this was tuned on, so the constraint reads them from there rather than
/// from memory. Smaller blocks cost more calls of the product, each of which packs the batch's
/// inputs again (128 columns gained less on the paper's expert layer).
pub const STEP_BLOCK: usize = 256;

/// The `columns` consecutive incoming weight vectors of `d` inputs in `block`, as a d × columns
/// column-major matrix.
pub(crate) fn column_block(block: &mut [f32], d: usize, columns: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((d, columns).f(), block).expect("a block of whole columns")
}

/// w ← w · min(1, c / ‖w‖) for one contiguous incoming weight vector.
pub fn clip_norm(w: &mut [f32], max_norm: f32) {
    let norm = dots::<1>(w, &[w])[0].sqrt();
    if norm > max_norm {
        let s = max_norm / norm;
        w.iter_mut().for_each(|v| *v *= s);
    }
}

/// Column-major storage as one slice, column after column.
pub(crate) trait ColumnMajorSlice {
    fn t_slice(&self) -> Option<&[f32]>;
    fn t_mut_slice(&mut self) -> Option<&mut [f32]>;
}

impl ColumnMajorSlice for Array2<f32> {
    fn t_slice(&self) -> Option<&[f32]> {
        if self.t().is_standard_layout() {
            self.as_slice_memory_order()
        } else {
            None
        }
    }

    fn t_mut_slice(&mut self) -> Option<&mut [f32]> {
        if self.t().is_standard_layout() {
            self.as_slice_memory_order_mut()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finite_finds_any_infinity_or_nan() {
        let mut v = vec![1.5f32; 37];
        assert!(all_finite(&v));
        assert!(all_finite(&[]));
        for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            for at in [0, 15, 16, 36] {
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
                v[at] = -2.0;
            }
        }
        v[3] = f32::MAX;
        assert!(all_finite(&v));
    }
    use crate::seed::rng_for;
    use ndarray::array;

    #[test]
    fn forward_matches_hand_computation() {
        let layer = Dense {
            w: array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            b: array![0.5, -0.5],
        };
        let x = array![[1.0, 0.0, -1.0]];
        assert_eq!(layer.forward(x.view()), array![[-3.5, -4.5]]);
    }

    #[test]
    fn max_norm_clips_only_long_columns() {
        let mut layer = Dense {
            w: array![[3.0, 0.1], [4.0, 0.1]],
            b: array![0.0, 0.0],
        };
        layer.clip_incoming_norms(2.0);
        assert!((layer.w[[0, 0]] - 1.2).abs() < 1e-6);
        assert!((layer.w[[1, 0]] - 1.6).abs() < 1e-6);
        assert_eq!(layer.w[[0, 1]], 0.1);
    }

    #[test]
    fn backward_matches_finite_differences() {
        // L = Σ r ⊙ (x W + b) for a fixed random r: ∂L/∂W = xᵀ r, ∂L/∂x = r Wᵀ.
        let mut rng = rng_for(3, "dense-fd");
        let layer = Dense::glorot(5, 4, &mut rng);
        let x = crate::nn::init::glorot_uniform(3, 5, &mut rng);
        let r = crate::nn::init::glorot_uniform(3, 4, &mut rng);
        let loss = |l: &Dense, x: &Array2<f32>| -> f64 {
            let y = l.forward(x.view());
            y.iter()
                .zip(r.iter())
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let mut g = DenseGrad::zeros_like(&layer);
        layer.param_grad_into(x.view(), r.view(), 1.0, &mut g);
        let mut dx = Array2::zeros(x.raw_dim());
        layer.input_grad_into(r.view(), &mut dx);
        let eps = 1e-2f32; // L is linear in every parameter, so central differences are exact up to rounding
        for i in 0..5 {
            for j in 0..4 {
                let mut p = layer.clone();
                p.w[[i, j]] += eps;
                let mut m = layer.clone();
                m.w[[i, j]] -= eps;
                let fd = (loss(&p, &x) - loss(&m, &x)) / (2.0 * eps as f64);
                assert!((fd - g.w[[i, j]] as f64).abs() < 1e-3, "dW[{i},{j}]");
            }
        }
        for j in 0..4 {
            let mut p = layer.clone();
            p.b[j] += eps;
            let mut m = layer.clone();
            m.b[j] -= eps;
            let fd = (loss(&p, &x) - loss(&m, &x)) / (2.0 * eps as f64);
            assert!((fd - g.b[j] as f64).abs() < 1e-3, "db[{j}]");
        }
        for b in 0..3 {
            for i in 0..5 {
                let mut xp = x.clone();
                xp[[b, i]] += eps;
                let mut xm = x.clone();
                xm[[b, i]] -= eps;
                let fd = (loss(&layer, &xp) - loss(&layer, &xm)) / (2.0 * eps as f64);
                assert!((fd - dx[[b, i]] as f64).abs() < 1e-3, "dx[{b},{i}]");
            }
        }
    }
}
