//! Scalar functions shared by the layers and the estimators.

/// A polynomial by Horner's rule, coefficients from the highest degree down:
/// (((c₀ x + c₁) x + c₂) x + …), one multiply and one add per coefficient, unfused (so the
/// result is the same on every CPU).
#[inline(always)]
pub fn horner<'a>(x: f32, highest_first: impl IntoIterator<Item = &'a f32>) -> f32 {
    let mut coefficients = highest_first.into_iter();
    let first = coefficients.next().copied().unwrap_or(0.0);
    coefficients.fold(first, |p, &c| p * x + c)
}

/// Logistic sigmoid σ(x) = 1 / (1 + e^(−x)), evaluated without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// σ(a_k + shift) for every k, written to `p[k]`: 1 / (1 + e^(−x)) with the branch-free
/// [`exp`], so that the loop vectorises (the scalar [`sigmoid`] calls the C library's `expf`
/// per element). Where e^(−x) would overflow it saturates at about 1.7e38, so σ(x) for
/// x < −88 is about 6e-39 instead of smaller (an absolute error below 1e-38).
pub fn sigmoids_into(a: &[f32], shift: f32, p: &mut [f32]) {
    sigmoids(a, shift, p);
}

crate::nn::simd::vectorised!(sigmoids, sigmoids_avx512, sigmoids_avx2, sigmoids_body, (
    a: &[f32],
    shift: f32,
    p: &mut [f32]
));

#[inline(always)]
fn sigmoids_body(a: &[f32], shift: f32, p: &mut [f32]) {
    for (p, &a) in p.iter_mut().zip(a) {
        *p = sigmoid_branch_free(a + shift);
    }
}

/// σ(x) = 1 / (1 + e^(−x)) through the branch-free [`exp`], for loops that should vectorise
/// (the element of [`sigmoids_into`]; the same saturation below x = −88).
#[inline(always)]
pub fn sigmoid_branch_free(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// e^x for f32, branch-free so that loops over it vectorise (the C library's `expf` is a call
/// per element): x is clamped to [−87.3, 88.3] (beyond, e^x is not a normal f32), written
/// x = n ln 2 + r with n the nearest integer to x/ln 2 and |r| ≤ ln 2 / 2 (ln 2 in two parts,
/// so that r is exact to f32 precision), e^r from the minimax polynomial of the Cephes
/// library, and 2ⁿ built from its bits. The error is within 2 units in the last place (tested
/// against f64 below). NaN gives NaN.
#[inline]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5·2²³ rounds to the nearest integer, which then sits in the low mantissa bits.
    const ROUNDER: f32 = 12_582_912.0;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    let c = x.clamp(-87.3, 88.3);
    let shifted = c * LOG2E + ROUNDER;
    let n = shifted - ROUNDER;
    let n_int = (shifted.to_bits() & 0x007f_ffff) as i32 - 0x0040_0000;
    let r = c - n * LN2_HIGH - n * LN2_LOW;
    let er = horner(r, &P) * r * r + r + 1.0;
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    let y = er * scale;
    if x.is_nan() { x } else { y }
}

/// tanh(x) for f32 as a ratio of two polynomials, x·P(x²)/Q(x²) with P of degree 6 and Q of
/// degree 3, on x clamped to ±9 (beyond it tanh rounds to ±1 in f32), and x itself for
/// |x| < 0.0004 (where tanh x = x in f32). The coefficients are the rational minimax fit the
/// Eigen library uses for f32; the error is at most 8 units in the last place, a relative
/// error below 1e-6 (tested against f64 below). Branch-free, so loops over it vectorise, unlike
/// the C library's `tanhf`, which cost about 20 ns a call here and 7% of a training step.
#[inline]
pub fn tanh(x: f32) -> f32 {
    const CLAMP: f32 = 9.0;
    const TINY: f32 = 0.0004;
    const P: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const Q: [f32; 4] = [4.893_525e-3, 2.268_434_7e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let c = x.clamp(-CLAMP, CLAMP);
    let x2 = c * c;
    let p = horner(x2, P.iter().rev());
    let q = horner(x2, Q.iter().rev());
    let y = c * p / q;
    if x.abs() < TINY { x } else { y }
}

/// softplus(x) = log(1 + e^x), the expectation of a rectifier under logistic noise.
#[inline]
pub fn softplus(x: f32) -> f32 {
    if x > 20.0 { x } else { x.exp().ln_1p() }
}

/// softplus in f64, for oracles and tests.
#[inline]
pub fn softplus64(x: f64) -> f64 {
    if x > 35.0 { x } else { x.exp().ln_1p() }
}

/// σ in f64, for oracles and tests.
#[inline]
pub fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised σ gives the same bits with every instruction set (no fused
    /// multiply-adds in its body).
    #[test]
    fn sigmoids_are_identical_on_every_instruction_set() {
        let a: Vec<f32> = (0..1000).map(|k| (k as f32 - 500.0) * 0.173).collect();
        let mut portable = vec![0.0f32; a.len()];
        sigmoids_body(&a, 0.25, &mut portable);
        let mut dispatched = vec![0.0f32; a.len()];
        sigmoids_into(&a, 0.25, &mut dispatched);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&portable), bits(&dispatched));
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = vec![0.0f32; a.len()];
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { sigmoids_avx2(&a, 0.25, &mut avx2) };
            assert_eq!(bits(&portable), bits(&avx2));
        }
    }

    #[test]
    fn tanh_is_within_a_few_ulp_of_the_exact_value() {
        let mut worst_ulp = 0.0f64;
        let mut x = -12.0f32;
        while x <= 12.0 {
            let exact = (x as f64).tanh();
            let got = tanh(x) as f64;
            // One unit in the last place of the exact value, in f32.
            let ulp =
                ((exact.abs() as f32).next_up() as f64 - exact.abs()).max(f32::MIN_POSITIVE as f64);
            worst_ulp = worst_ulp.max((got - exact).abs() / ulp);
            x += 1.0e-3 * (1.0 + x.abs());
        }
        for &x in &[0.0f32, -0.0, 1e-30, -3e-5, 3.9e-4, 4.1e-4] {
            let exact = (x as f64).tanh();
            assert!((tanh(x) as f64 - exact).abs() <= 2.0 * f32::EPSILON as f64 * exact.abs());
        }
        // The approximation's stated accuracy: 8 units in the last place (relative error below
        // 1e-6); the grid's worst case is about 6.6.
        assert!(worst_ulp <= 8.0, "worst error {worst_ulp} ulp");
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_exact_value() {
        let mut worst_ulp = 0.0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let exact = (x as f64).exp();
            let ulp = (exact as f32).next_up() as f64 - exact as f32 as f64;
            worst_ulp = worst_ulp.max((exp(x) as f64 - exact).abs() / ulp);
            x += 1.0e-3 * (1.0 + x.abs());
        }
        assert!(worst_ulp <= 2.0, "worst error {worst_ulp} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(-1000.0) >= 0.0 && exp(-1000.0) < 1e-37);
        assert!(exp(1000.0).is_finite() && exp(1000.0) > 1e38);
    }

    #[test]
    fn vectorised_sigmoids_match_the_scalar_sigmoid() {
        let a: Vec<f32> = (0..20_000).map(|k| -100.0 + k as f32 * 0.01).collect();
        for shift in [0.0f32, 0.25] {
            let mut p = vec![0.0f32; a.len()];
            sigmoids_into(&a, shift, &mut p);
            for (&a, &p) in a.iter().zip(&p) {
                let exact = sigmoid64(f64::from(a + shift));
                assert!(
                    (f64::from(p) - exact).abs() <= 4.0 * f64::from(f32::EPSILON) * exact + 1e-38,
                    "σ({a} + {shift}) = {p}, exact {exact}"
                );
            }
        }
    }

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(-200.0) >= 0.0 && sigmoid(200.0) <= 1.0);
        for &x in &[-5.0f32, -0.3, 0.7, 3.0] {
            assert!((sigmoid(x) + sigmoid(-x) - 1.0).abs() < 1e-6);
        }
        assert!((softplus(0.0) - 2f32.ln()).abs() < 1e-6);
        assert!((softplus(30.0) - 30.0).abs() < 1e-6);
    }
}
