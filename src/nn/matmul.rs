//! The dense matrix product behind every layer: C ← γ·C + s·A·B on ndarray views of any layout.
//!
//! It calls the pure-Rust `gemm` crate single-threaded (no rayon, so results never depend on
//! thread scheduling). `gemm` picks its AVX-512, AVX2+FMA or portable micro-kernels at run
//! time; on the AVX-512 machines this project targets it reaches MKL-class speed on the paper's
//! shapes, where ndarray's default backend (matrixmultiply without its `avx512` feature) reaches
//! about half. `gradrace bench` prints the GFLOP/s it reaches on the current machine.
//!
//! Layout matters for the small-batch products of this network: the kernels are fastest when
//! the output is column-major ("expert-major": the B values of one unit are adjacent), which is
//! why the gated network stores its batch × units buffers and its weights column-major.

use ndarray::{ArrayView2, ArrayViewMut2};

/// C ← (accumulate ? C : 0) + scale · A·B, with A m × k, B k × n and C m × n (any strides).
///
/// Panics when the shapes do not agree (a programming error, never a data error).
pub fn matmul_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    c: ArrayViewMut2<f32>,
    scale: f32,
    accumulate: bool,
) {
    matmul_scaled_into(a, b, c, accumulate.then_some(1.0), scale);
}

/// C ← γ·C + scale · A·B when `c_scale` is Some(γ), C ← scale · A·B when it is None (C is then
/// not read), in one product: the momentum step's v ← μ v − η xᵀδ without a gradient buffer.
///
/// Panics when the shapes do not agree (a programming error, never a data error).
pub fn matmul_scaled_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut c: ArrayViewMut2<f32>,
    c_scale: Option<f32>,
    scale: f32,
) {
    let accumulate = c_scale.is_some();
    let gamma = c_scale.unwrap_or(0.0);
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul: inner dimensions {k} and {k2} differ");
    assert_eq!(
        c.dim(),
        (m, n),
        "matmul: output is {:?}, expected {m}×{n}",
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        match c_scale {
            None => c.fill(0.0),
            Some(g) if g != 1.0 => c.mapv_inplace(|v| g * v),
            Some(_) => {}
        }
        return;
    }
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the three views are valid for their shapes and strides (ndarray guarantees it),
    // `c` is borrowed mutably so it aliases neither `a` nor `b`, and gemm reads and writes only
    // the m × n, m × k and k × n elements those strides describe.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            gamma,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    fn naive(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|k| a[[i, k]] * b[[k, j]]).sum()
        })
    }

    /// C ← γ·C + s·A·B in one product, in both layouts of C, and with an empty inner
    /// dimension.
    #[test]
    fn scaled_product_scales_the_output_it_reads() {
        let a = Array2::from_shape_fn((5, 8), |(i, j)| ((i * 8 + j) % 7) as f32 * 0.5 - 1.5);
        let b = Array2::from_shape_fn((8, 6), |(i, j)| ((i * 6 + j) % 5) as f32 * 0.25 - 0.5);
        let ab = naive(&a, &b);
        for f in [false, true] {
            let start = Array2::from_shape_fn((5, 6).set_f(f), |(i, j)| (i + 2 * j) as f32);
            let mut c = start.clone();
            matmul_scaled_into(a.view(), b.view(), c.view_mut(), Some(0.5), -0.1);
            let expect = &start * 0.5 - &ab * 0.1;
            let err = (&c - &expect).iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(err < 1e-5, "layout f={f}: max error {err}");
        }
        let empty_a = Array2::<f32>::zeros((5, 0));
        let empty_b = Array2::<f32>::zeros((0, 6));
        let mut c = Array2::from_elem((5, 6), 2.0f32);
        matmul_scaled_into(empty_a.view(), empty_b.view(), c.view_mut(), Some(0.5), 3.0);
        assert!(c.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn matches_naive_product_in_every_layout() {
        let a = Array2::from_shape_fn((7, 19), |(i, j)| ((i * 19 + j) % 11) as f32 * 0.25 - 1.0);
        let b = Array2::from_shape_fn((19, 23), |(i, j)| ((i * 23 + j) % 13) as f32 * 0.5 - 3.0);
        let expect = naive(&a, &b);
        for f in [false, true] {
            let mut c = Array2::<f32>::zeros((7, 23).set_f(f));
            c.fill(5.0);
            matmul_into(a.view(), b.view(), c.view_mut(), 1.0, false);
            let err = (&c - &expect).iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(err < 1e-3, "layout f={f}: max error {err}");
            // Accumulate with a scale, through transposed views.
            let bt = b.t().to_owned();
            matmul_into(a.view(), bt.t(), c.view_mut(), -2.0, true);
            let err = (&c + &expect).iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(err < 1e-3, "accumulate f={f}: max error {err}");
        }
        let mut empty = Array2::<f32>::ones((3, 2));
        matmul_into(
            Array2::zeros((3, 0)).view(),
            Array2::zeros((0, 2)).view(),
            empty.view_mut(),
            1.0,
            false,
        );
        assert!(empty.iter().all(|&v| v == 0.0));
    }
}
