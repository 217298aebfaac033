//! Random draws in bulk for the gates: uniforms and Bernoulli gates ([`bernoulli`]), standard
//! normal noise ([`gaussian`]), logistic noise ([`logistic`]), Gamma (and so Beta) noise
//! ([`gamma`]). Every sampler gives the same numbers for the same random stream on every CPU, so
//! that lanes are reproducible bit for bit. The gates are visited in the memory order of their
//! arrays (row-major order when the arrays' layouts differ): which random number goes to which
//! gate depends on the layout, so a lane keeps one.

pub mod bernoulli;
pub mod gamma;
pub mod gaussian;
pub mod logistic;

use ndarray::{Array2, ArrayView2};

/// `a`, `h` and `aux` (one shape) as slices in their common memory order, when they share one
/// contiguous layout (the lanes' buffers do); None otherwise.
pub(crate) fn same_layout_slices<'a>(
    a: ArrayView2<'a, f32>,
    h: &'a mut Array2<f32>,
    aux: &'a mut Array2<f32>,
) -> Option<(&'a [f32], &'a mut [f32], &'a mut [f32])> {
    if a.strides() != h.strides() || a.strides() != aux.strides() {
        return None;
    }
    Some((
        a.to_slice_memory_order()?,
        h.as_slice_memory_order_mut()?,
        aux.as_slice_memory_order_mut()?,
    ))
}

/// Runs `f` on `a`, `h` and `aux` (one shape) as slices of one memory order: the arrays' own
/// memory when they share one contiguous layout ([`same_layout_slices`]), otherwise row-major
/// copies, whose results are then written back.
pub(crate) fn on_slices(
    a: ArrayView2<f32>,
    h: &mut Array2<f32>,
    aux: &mut Array2<f32>,
    f: impl FnOnce(&[f32], &mut [f32], &mut [f32]),
) {
    if let Some((a, h, aux)) = same_layout_slices(a, h, aux) {
        f(a, h, aux);
    } else {
        let a = a.as_standard_layout();
        let mut h_rows = Array2::zeros(a.raw_dim());
        let mut aux_rows = Array2::zeros(a.raw_dim());
        f(
            a.as_slice().expect("standard layout"),
            h_rows.as_slice_mut().expect("standard layout"),
            aux_rows.as_slice_mut().expect("standard layout"),
        );
        h.assign(&h_rows);
        aux.assign(&aux_rows);
    }
}
