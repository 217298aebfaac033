//! Binary stochastic gates drawn in bulk: b = 1\[u < p\] with u uniform on (0, 1), for the
//! estimators whose gates fire with probability p = σ(a) (unbiased, straight-through) and for
//! the binary factor of stochastic times smooth.
//!
//! A gate is a coin flip the branch predictor cannot learn, and σ through the C library's `expf`
//! is a call per gate: at the paper's 64,000 gates a step, drawing them one at a time cost about
//! 8% of an unbiased lane's step. Here the gates are visited in memory order, [`CHUNK`] at a
//! time: σ of the chunk in one vectorised loop, its uniforms from half as many random words,
//! then the comparisons in a loop without branches.

use ndarray::{Array2, ArrayView2};
use rand::RngCore;

use super::on_slices;
use crate::nn::math::sigmoids_into;

/// Gates per chunk.
pub const CHUNK: usize = 256;

/// Fills `u` (of even length n) with uniforms on (0, 1), two from each of n/2 random words:
/// u = (k + ½)·2⁻²⁴ for 24 random bits k, `u[j]` from bits 8–31 of word j and `u[n/2 + j]`
/// from bits 40–63. u is never 0; it is exactly 1 with probability 2⁻²⁴ (k + ½ rounds to 2²⁴
/// in f32 for k = 2²⁴ − 1, and to k + 1 or k, evenly, above 2²³), and u < p has probability p
/// to within 2⁻²⁴.
pub fn fill_uniforms<R: RngCore + ?Sized>(rng: &mut R, u: &mut [f32]) {
    const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;
    assert!(u.len().is_multiple_of(2), "an even number of uniforms");
    let (low, high) = u.split_at_mut(u.len() / 2);
    for (low, high) in low.iter_mut().zip(high) {
        let word = rng.next_u64();
        let bits = |shift: u32| ((word >> shift) & 0x00ff_ffff) as i32 as f32;
        *low = (bits(8) + 0.5) * TWO_POW_MINUS_24;
        *high = (bits(40) + 0.5) * TWO_POW_MINUS_24;
    }
}

/// Gates that fire with probability σ(a): p = σ(a) into `p` and h = 1\[u < p\] into `h`, with
/// the uniforms of [`fill_uniforms`] drawn [`CHUNK`] at a time (a whole chunk's worth for the
/// last, shorter one), over the gates in memory order when `a`, `h` and `p` share one
/// contiguous layout, in row-major order otherwise.
pub fn sigmoid_bernoulli<R: RngCore + ?Sized>(
    a: ArrayView2<f32>,
    rng: &mut R,
    h: &mut Array2<f32>,
    p: &mut Array2<f32>,
) {
    on_slices(a, h, p, |a, h, p| {
        let mut u = [0.0f32; CHUNK];
        for ((a, h), p) in a
            .chunks(CHUNK)
            .zip(h.chunks_mut(CHUNK))
            .zip(p.chunks_mut(CHUNK))
        {
            sigmoids_into(a, 0.0, p);
            fill_uniforms(rng, &mut u);
            for ((h, &p), &u) in h.iter_mut().zip(p.iter()).zip(&u) {
                *h = f32::from(u8::from(u < p));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;

    #[test]
    fn uniforms_are_inside_the_open_interval_and_use_each_word_twice() {
        let mut rng = rng_for(3, "uniforms");
        let mut u = [0.0f32; 2 * CHUNK];
        fill_uniforms(&mut rng, &mut u);
        assert!(u.iter().all(|&u| u > 0.0 && u < 1.0));
        let mut again = rng_for(3, "uniforms");
        let word = again.next_u64();
        assert_eq!(
            u[0],
            (((word >> 8) & 0xff_ffff) as f32 + 0.5) / 16_777_216.0
        );
        assert_eq!(
            u[CHUNK],
            (((word >> 40) & 0xff_ffff) as f32 + 0.5) / 16_777_216.0
        );
        // 2·CHUNK uniforms: mean ½ within 4 standard errors (1/√12 per draw).
        let mean = u.iter().map(|&u| f64::from(u)).sum::<f64>() / u.len() as f64;
        let se = (1.0 / 12.0f64).sqrt() / (u.len() as f64).sqrt();
        assert!((mean - 0.5).abs() < 4.0 * se, "{mean}");
    }

    #[test]
    fn gates_are_zero_or_one_with_p_the_sigmoid_whatever_the_layout() {
        use ndarray::ShapeBuilder;
        let (batch, units) = (7, 90);
        let a = Array2::from_shape_fn((batch, units), |(b, i)| {
            (b as f32 - 3.0) * 0.7 + i as f32 * 0.01
        });
        let draw = |a_column_major: bool, out_column_major: bool| {
            let mut a_own = Array2::zeros((batch, units).set_f(a_column_major));
            a_own.assign(&a);
            let mut h = Array2::zeros((batch, units).set_f(out_column_major));
            let mut p = Array2::zeros((batch, units).set_f(out_column_major));
            sigmoid_bernoulli(a_own.view(), &mut rng_for(9, "gates"), &mut h, &mut p);
            (h, p)
        };
        let (h, p) = draw(true, true);
        for ((&h, &p), &a) in h.iter().zip(&p).zip(&a) {
            assert!(h == 0.0 || h == 1.0);
            assert!((p - crate::nn::math::sigmoid(a)).abs() < 1e-6);
        }
        // Other layouts are drawn on row-major copies: the same gates for each of them.
        let rows = draw(false, false);
        assert_eq!(rows.1, p);
        assert_eq!(draw(false, true), rows);
        assert_eq!(draw(true, false), rows);
    }
}
