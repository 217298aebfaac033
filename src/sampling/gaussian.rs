//! Standard normal noise in bulk, for the estimators that add Gaussian noise to every gate.
//!
//! A lane draws one N(0, 1) sample per gate and step: 64,000 at the paper's shapes. rand_distr's
//! ziggurat, one f64 sample at a time, cost about 4.5 ns each here, a tenth of a gated training
//! step. [`fill_standard_normal`] uses the Box–Muller transform instead, on 64 random words at
//! a time, with branch-free f32 approximations of ln, sin and cos that the compiler vectorises
//! (about 2 ns a sample here, drawing the random words included):
//!
//! z₁ = r cos θ, z₂ = r sin θ, with r = √(−2 ln u₁), θ = 2π u₂,
//!
//! for u₁ ∈ [2⁻³², 1] from 31 random bits and u₂ ∈ [0, 1) from 24 random bits of one 64-bit
//! word. z₁ and z₂ are independent standard normals (exactly so for exact u₁, u₂, ln, sin and
//! cos); the only departures are the resolution of u₁, which bounds |z| by √(64 ln 2) ≈ 6.66
//! (a standard normal exceeds it with probability 3·10⁻¹¹), and the f32 rounding of the
//! approximations (ln within 4 units in the last place, sin and cos within 2 f32 epsilons,
//! tested below).
//!
//! The numbers depend only on the random stream: the vector variants perform the same IEEE
//! operations in the same order as the portable code (no fused multiply-adds), so every CPU
//! gives bit-identical noise.

use ndarray::{Array2, ArrayView2, Zip};
use rand::RngCore;

use crate::nn::math::horner;

/// Random words per block: each gives two samples.
const WORDS: usize = 64;

/// Fills `out` with independent N(0, 1) samples drawn from `rng`: block by block, 64 random
/// words for each 128 samples (a partial last block draws a whole block and uses its start), so
/// that the samples of a shorter fill are the start of those of a longer one.
pub fn fill_standard_normal<R: RngCore + ?Sized>(rng: &mut R, out: &mut [f32]) {
    let mut words = [0u64; WORDS];
    let mut chunks = out.chunks_exact_mut(2 * WORDS);
    for chunk in &mut chunks {
        words.iter_mut().for_each(|w| *w = rng.next_u64());
        transform(&words, chunk.try_into().expect("a whole block"));
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let mut block = [0.0f32; 2 * WORDS];
        words.iter_mut().for_each(|w| *w = rng.next_u64());
        transform(&words, &mut block);
        rest.copy_from_slice(&block[..rest.len()]);
    }
}

/// Standard normal samples one at a time, drawn [`fill_standard_normal`]'s way a few blocks
/// ahead: for loops that need one sample per element in an order of their own (an ndarray
/// `Zip`). The samples a stream hands out are those of one `fill_standard_normal` call over
/// as many of them (the stream draws 256 at a time; what it has not handed out when dropped is
/// discarded).
pub struct NormalStream<'r, R: RngCore + ?Sized> {
    rng: &'r mut R,
    buffer: [f32; STREAM_BUFFER],
    next: usize,
}

/// Samples a [`NormalStream`] draws at a time.
const STREAM_BUFFER: usize = 4 * WORDS;

impl<'r, R: RngCore + ?Sized> NormalStream<'r, R> {
    /// A stream drawing from `rng`.
    pub fn new(rng: &'r mut R) -> Self {
        NormalStream {
            rng,
            buffer: [0.0; STREAM_BUFFER],
            next: STREAM_BUFFER,
        }
    }

    /// The random stream the samples come from, for the other draws of the same loop.
    pub fn rng(&mut self) -> &mut R {
        self.rng
    }

    /// The next N(0, 1) sample.
    #[inline]
    pub fn sample(&mut self) -> f32 {
        if self.next == self.buffer.len() {
            fill_standard_normal(self.rng, &mut self.buffer);
            self.next = 0;
        }
        let z = self.buffer[self.next];
        self.next += 1;
        z
    }
}

/// Gate by gate, `gate(a, z)` → (h, ∂h/∂a) with a fresh N(0, 1) sample z for each gate:
/// writes `h` and `local` from the pre-activations `a` (all three of one shape). The samples
/// are those of a [`NormalStream`] visiting the gates in memory order when the three arrays
/// share one contiguous layout (the lanes' buffers do: then the loop runs on plain slices, 256
/// gates at a time, and vectorises), in ndarray's `Zip` order otherwise.
pub fn gates_with_noise<R: RngCore + ?Sized>(
    rng: &mut R,
    a: ArrayView2<f32>,
    h: &mut Array2<f32>,
    local: &mut Array2<f32>,
    gate: impl Fn(f32, f32) -> (f32, f32),
) {
    if let Some((a, h, local)) = super::same_layout_slices(a, h, local) {
        let mut noise = [0.0f32; STREAM_BUFFER];
        for ((a, h), local) in a
            .chunks(STREAM_BUFFER)
            .zip(h.chunks_mut(STREAM_BUFFER))
            .zip(local.chunks_mut(STREAM_BUFFER))
        {
            // A whole buffer each time, as a stream draws it.
            fill_standard_normal(rng, &mut noise);
            for (((&a, h), local), &z) in a.iter().zip(h).zip(local).zip(&noise) {
                (*h, *local) = gate(a, z);
            }
        }
    } else {
        let mut normals = NormalStream::new(rng);
        Zip::from(h).and(local).and(a).for_each(|h, local, &a| {
            (*h, *local) = gate(a, normals.sample());
        });
    }
}

crate::nn::simd::vectorised!(transform, transform_avx512, transform_avx2, transform_body, (
    words: &[u64; WORDS],
    out: &mut [f32; 2 * WORDS]
));

/// Box–Muller on a block: `out[k]` = r_k cos θ_k and `out[WORDS + k]` = r_k sin θ_k for the
/// k-th word.
#[inline(always)]
fn transform_body(words: &[u64; WORDS], out: &mut [f32; 2 * WORDS]) {
    let (cosines, sines) = out.split_at_mut(WORDS);
    for ((&word, c), s) in words.iter().zip(cosines).zip(sines) {
        let (u1, turn) = uniforms(word);
        let r = (-2.0 * ln(u1)).sqrt();
        let (sin, cos) = sin_cos_turns(turn);
        *c = r * cos;
        *s = r * sin;
    }
}

/// The two uniforms of a word: u₁ = (31 low bits + ½)·2⁻³¹ ∈ [2⁻³², 1] (never 0), and u₂ as
/// its 24 high bits, in units of 2⁻²⁴ (u₂ ∈ [0, 1)).
#[inline(always)]
fn uniforms(word: u64) -> (f32, i32) {
    const TWO_POW_MINUS_31: f32 = 1.0 / 2_147_483_648.0;
    let low = ((word as u32) >> 1) as i32;
    let u1 = low as f32 * TWO_POW_MINUS_31 + 0.5 * TWO_POW_MINUS_31;
    (u1.min(1.0), (word >> 40) as i32)
}

/// Natural logarithm of a positive, normal, finite f32: x = m·2ᵉ with m ∈ [√½, √2), then
/// ln m = f − f²/2 + f³·P(f) with f = m − 1 and the minimax polynomial P of degree 8 of the
/// Cephes library, and ln x = ln m + e·ln 2 with ln 2 split in two parts for accuracy.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    const P: [f32; 9] = [
        7.037_683_6e-2,
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_4e-1,
        -2.499_999_4e-1,
        3.333_333e-1,
    ];
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 126;
    // Mantissa in [½, 1).
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m < SQRT_HALF;
    let e = (exponent - i32::from(small)) as f32;
    let f = if small { m + m - 1.0 } else { m - 1.0 };
    let z = f * f;
    let mut y = horner(f, &P) * f * z;
    y += e * LN2_LOW;
    y += -0.5 * z;
    f + y + e * LN2_HIGH
}

/// (sin 2πt, cos 2πt) for t = `turn`·2⁻²⁴ ∈ [0, 1) (`turn` < 2²⁴): t = q/4 + s with q the
/// nearest whole number of quarter turns and |s| ≤ 1/8 (found in integer arithmetic, exactly),
/// the minimax polynomials of the Cephes library for sin and cos of x = 2πs ∈ [−π/4, π/4],
/// then the rotation by q quarter turns. Integer arithmetic keeps the loop vectorised (a
/// float-to-integer cast is not).
#[inline(always)]
pub fn sin_cos_turns(turn: i32) -> (f32, f32) {
    const QUARTER: i32 = 1 << 22;
    const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;
    let q = (turn + QUARTER / 2) >> 22;
    let x = (turn - q * QUARTER) as f32 * (TWO_POW_MINUS_24 * std::f32::consts::TAU);
    let z = x * x;
    let sin = ((-1.951_529_6e-4 * z + 8.332_161e-3) * z - 1.666_665_5e-1) * z * x + x;
    let cos = ((2.443_315_7e-5 * z - 1.388_731_6e-3) * z + 4.166_664_6e-2) * z * z - 0.5 * z + 1.0;
    // Rotation by q quarter turns: (sin, cos) → (cos, −sin) → (−sin, −cos) → (−cos, sin).
    let swap = q & 1 == 1;
    let (s, c) = if swap { (cos, sin) } else { (sin, cos) };
    let negate_sin = q & 2 == 2;
    let negate_cos = (q + 1) & 2 == 2;
    (
        if negate_sin { -s } else { s },
        if negate_cos { -c } else { c },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;

    /// Units in the last place between an f32 and the exact value.
    fn ulps(got: f32, exact: f64) -> f64 {
        let spacing = f64::from(f32::EPSILON) * exact.abs().max(f64::from(f32::MIN_POSITIVE));
        (f64::from(got) - exact).abs() / spacing
    }

    #[test]
    fn ln_is_within_a_few_ulps_over_the_range_of_u1() {
        let mut worst: f64 = 0.0;
        // Every power of two from 2⁻³² to 1 and a fine grid in between.
        for e in -32..=0 {
            for k in 0..2000 {
                let x = (2f64.powi(e) * (1.0 + k as f64 / 2000.0)).min(1.0) as f32;
                let exact = f64::from(x).ln();
                let err = if exact.abs() < 1e-3 {
                    // Near x = 1 bound the absolute error instead.
                    (f64::from(ln(x)) - exact).abs() / f64::from(f32::EPSILON)
                } else {
                    ulps(ln(x), exact)
                };
                worst = worst.max(err);
            }
        }
        assert!(worst <= 4.0, "worst error {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn sin_and_cos_of_turns_are_within_a_few_ulps_of_the_unit_circle() {
        let mut worst: f64 = 0.0;
        // Every 2⁸-th turn value and the last ones.
        for turn in (0..1 << 24).step_by(1 << 8).chain((1 << 24) - 300..1 << 24) {
            let (s, c) = sin_cos_turns(turn);
            let angle = std::f64::consts::TAU * f64::from(turn) / f64::from(1 << 24);
            // Absolute error in units of f32 epsilon (values are at most 1 in magnitude).
            let es = (f64::from(s) - angle.sin()).abs() / f64::from(f32::EPSILON);
            let ec = (f64::from(c) - angle.cos()).abs() / f64::from(f32::EPSILON);
            worst = worst.max(es).max(ec);
        }
        assert!(worst <= 2.0, "worst error {worst} × f32 epsilon");
    }

    #[test]
    fn every_variant_gives_the_same_bits() {
        let mut rng = rng_for(7, "gaussian/variants");
        let words: [u64; WORDS] = std::array::from_fn(|_| rng.next_u64());
        let mut portable = [0.0f32; 2 * WORDS];
        transform_body(&words, &mut portable);
        let mut dispatched = [0.0f32; 2 * WORDS];
        transform(&words, &mut dispatched);
        assert_eq!(portable.map(f32::to_bits), dispatched.map(f32::to_bits));
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut avx2 = [0.0f32; 2 * WORDS];
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { transform_avx2(&words, &mut avx2) };
            assert_eq!(portable.map(f32::to_bits), avx2.map(f32::to_bits));
        }
    }

    #[test]
    fn extreme_words_give_finite_samples_within_the_bound() {
        for word in [0u64, 1, u64::MAX, 0xffff_ffff, 0xffff_ffff_0000_0000] {
            let mut words = [word; WORDS];
            words[1] = !word;
            let mut out = [0.0f32; 2 * WORDS];
            transform_body(&words, &mut out);
            assert!(
                out.iter().all(|v| v.is_finite() && v.abs() <= 6.7),
                "{word:#x}"
            );
        }
    }

    #[test]
    fn a_shorter_fill_gives_the_start_of_a_longer_one() {
        for (short, long) in [
            (1usize, 2 * WORDS),
            (7, 300),
            (2 * WORDS, 2 * WORDS + 7),
            (300, 301),
        ] {
            let mut a = rng_for(3, "gaussian/stream");
            let mut b = a.clone();
            let mut x = vec![0.0f32; short];
            let mut y = vec![0.0f32; long];
            fill_standard_normal(&mut a, &mut x);
            fill_standard_normal(&mut b, &mut y);
            assert_eq!(x[..], y[..short], "{short} vs {long}");
            // 64 words per started block of 128 samples.
            let mut c = rng_for(3, "gaussian/stream");
            (0..WORDS * short.div_ceil(2 * WORDS)).for_each(|_| {
                c.next_u64();
            });
            assert_eq!(a.next_u64(), c.next_u64());
        }
    }

    #[test]
    fn a_stream_hands_out_the_samples_of_one_fill() {
        let mut a = rng_for(5, "gaussian/one-by-one");
        let mut b = a.clone();
        let mut stream = NormalStream::new(&mut a);
        let one_by_one: Vec<f32> = (0..1000).map(|_| stream.sample()).collect();
        let mut filled = vec![0.0f32; 1000];
        fill_standard_normal(&mut b, &mut filled);
        assert_eq!(one_by_one, filled);
    }

    #[test]
    fn gates_with_noise_gives_the_same_gates_for_any_layout() {
        use ndarray::ShapeBuilder;
        let gate = |a: f32, z: f32| ((a + z).max(0.0), f32::from(a + z > 0.0));
        let (batch, units) = (7, 90);
        let pre = |column_major: bool| {
            Array2::from_shape_fn((batch, units).set_f(column_major), |(b, i)| {
                (b as f32 - 3.0) * 0.1 + i as f32 * 0.01
            })
        };
        // Column-major everywhere (the lanes' layout) against the Zip path on mixed layouts.
        let a = pre(true);
        let (mut h, mut local) = (pre(true), pre(true));
        let mut rng = rng_for(11, "gaussian/gates");
        gates_with_noise(&mut rng, a.view(), &mut h, &mut local, gate);
        let (mut h2, mut local2) = (pre(true), pre(false));
        let mut rng2 = rng_for(11, "gaussian/gates");
        gates_with_noise(&mut rng2, a.view(), &mut h2, &mut local2, gate);
        assert_eq!(h, h2);
        assert_eq!(local, local2);
        assert_eq!(rng.next_u64(), rng2.next_u64());
        // And the samples are the stream's, in memory order.
        let mut rng3 = rng_for(11, "gaussian/gates");
        let mut z = vec![0.0f32; batch * units];
        fill_standard_normal(&mut rng3, &mut z);
        let flat = a.t().iter().copied().collect::<Vec<f32>>();
        let expected: Vec<f32> = flat.iter().zip(&z).map(|(&a, &z)| gate(a, z).0).collect();
        assert_eq!(h.t().iter().copied().collect::<Vec<f32>>(), expected);
    }

    /// Φ, the standard normal distribution function, from the complementary error function
    /// (Numerical Recipes' erfc approximation, relative error below 1.2e-7).
    fn normal_cdf(x: f64) -> f64 {
        let z = x.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.5 * z);
        let poly = -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77))))))));
        let erfc = t * poly.exp();
        if x >= 0.0 {
            1.0 - 0.5 * erfc
        } else {
            0.5 * erfc
        }
    }

    #[test]
    fn samples_are_standard_normal() {
        const N: usize = 1 << 20;
        let mut rng = rng_for(2013, "gaussian/statistics");
        let mut z = vec![0.0f32; N];
        fill_standard_normal(&mut rng, &mut z);
        let n = N as f64;
        let mean = z.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = z
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        // Standard errors: 1/√n for the mean, √(2/n) for the variance; 5 of them.
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
        // Kolmogorov–Smirnov against Φ: the 0.1% critical value of √n·D is 1.95.
        let mut sorted: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
        sorted.sort_by(f64::total_cmp);
        let d = sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = normal_cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(n.sqrt() * d < 1.95, "KS statistic √n·D = {}", n.sqrt() * d);
        // Tails: the count beyond 3σ is binomial; 5 standard errors.
        let p3 = 2.0 * (1.0 - normal_cdf(3.0));
        let beyond = z.iter().filter(|v| v.abs() > 3.0).count() as f64;
        let se = (n * p3 * (1.0 - p3)).sqrt();
        assert!((beyond - n * p3).abs() < 5.0 * se, "{beyond} beyond 3σ");
        // The cosine and sine of one word are uncorrelated: correlation within 5/√pairs.
        let pairs: Vec<(f64, f64)> = z
            .chunks_exact(2 * WORDS)
            .flat_map(|b| (0..WORDS).map(move |k| (f64::from(b[k]), f64::from(b[WORDS + k]))))
            .collect();
        let m = pairs.len() as f64;
        let corr = pairs.iter().map(|(a, b)| a * b).sum::<f64>() / m;
        assert!(corr.abs() < 5.0 / m.sqrt(), "correlation {corr}");
    }
}
