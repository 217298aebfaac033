//! Matrices whose data start on a 64-byte boundary (a cache line, one AVX-512 vector).
//!
//! The allocator aligns large blocks to 16 bytes only; with rows or columns whose length in
//! bytes is a multiple of 64 (784 or 400 floats), every vector load of the gated kernels would
//! then straddle two cache lines. ndarray cannot ask for an alignment, so these helpers allocate
//! 15 floats more and start the array inside its buffer where the address is a multiple of 64.
//! (A clone gets a fresh buffer and may lose the alignment: [`realign`] restores it.)

use ndarray::{Array1, Array2, Order, s};

/// Bytes of the alignment.
pub const ALIGN: usize = 64;

/// Zeros of `rows` × `cols`, column-major when `column_major`, starting on a 64-byte boundary.
pub fn aligned_zeros(rows: usize, cols: usize, column_major: bool) -> Array2<f32> {
    let n = rows * cols;
    let spare = ALIGN / std::mem::size_of::<f32>() - 1;
    let buffer = Array1::<f32>::zeros(n + spare);
    let misalignment = buffer.as_ptr() as usize % ALIGN;
    let skip = if misalignment == 0 {
        0
    } else {
        (ALIGN - misalignment) / std::mem::size_of::<f32>()
    };
    let data = buffer.slice_move(s![skip..skip + n]);
    let order = if column_major {
        Order::ColumnMajor
    } else {
        Order::RowMajor
    };
    let out = data
        .into_shape_with_order(((rows, cols), order))
        .expect("a contiguous buffer of rows · cols values");
    debug_assert!(n == 0 || (out.as_ptr() as usize).is_multiple_of(ALIGN));
    out
}

/// True when `a`'s data start on a 64-byte boundary.
pub fn is_aligned(a: &Array2<f32>) -> bool {
    (a.as_ptr() as usize).is_multiple_of(ALIGN)
}

/// Moves `a`'s values into an aligned matrix of the same layout (row- or column-major) when they
/// do not start on a 64-byte boundary; values unchanged.
pub fn realign(a: &mut Array2<f32>) {
    if is_aligned(a) {
        return;
    }
    let column_major = !a.is_standard_layout() && a.t().is_standard_layout();
    let (rows, cols) = a.dim();
    let mut out = aligned_zeros(rows, cols, column_major);
    out.assign(a);
    *a = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ShapeBuilder;

    #[test]
    fn aligned_matrices_keep_shape_layout_and_values() {
        for column_major in [false, true] {
            for (r, c) in [(0, 0), (1, 1), (3, 5), (32, 784)] {
                let a = aligned_zeros(r, c, column_major);
                assert_eq!(a.dim(), (r, c));
                assert!(is_aligned(&a) || r * c == 0);
                if r > 1 && c > 1 {
                    assert_eq!(a.t().is_standard_layout(), column_major);
                }
                let mut b = Array2::from_shape_fn((r, c).set_f(column_major), |(i, j)| {
                    (i * 1000 + j) as f32
                });
                let want = b.clone();
                realign(&mut b);
                assert!(is_aligned(&b) || r * c == 0);
                assert_eq!(b, want);
                if r > 1 && c > 1 {
                    assert_eq!(b.t().is_standard_layout(), column_major);
                }
            }
        }
    }
}
