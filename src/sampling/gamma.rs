//! Gamma(α, 1) samples for α ≥ 1 by the method of Marsaglia and Tsang (2000), in bulk.
//!
//! With d = α − 1/3 and c = 1/√(9d): draw x ~ N(0, 1) and u ~ U(0, 1), let v = (1 + c x)³;
//! accept d·v when v > 0 and u < 1 − 0.0331 x⁴ (the squeeze) or ln u < x²/2 + d(1 − v + ln v);
//! otherwise draw again. The squeeze decides about nine candidates in ten (it fails with
//! probability E\[min(1, 0.0331 x⁴)\] ≈ 0.0331·E\[x⁴\] ≈ 0.1).
//!
//! rand_distr's `Gamma` runs the same method one f64 sample at a time, with a branch per test.
//! Here a block of 128 candidates is drawn and squeezed at once in a loop the compiler
//! vectorises; the undecided ones are gathered and take the logarithmic test, with the
//! branch-free [`ln`] of the Gaussian module, in a second vectorised loop; the accepted ones
//! are kept in order (compress stores with AVX-512). That makes the stochastic-times-smooth
//! lane's Beta noise, two Gamma draws per gate and step, about three times cheaper. Like the
//! normals, the candidates are computed with the same IEEE operations in the same order on
//! every CPU (no fused multiply-adds), so the samples depend only on the random stream.

use rand::RngCore;

use super::gaussian::{fill_standard_normal, ln};
use crate::nn::simd::{SimdLevel, simd_level};

/// Candidates per round of [`MarsagliaTsang::fill`]: one block of normals.
const BLOCK: usize = 128;

/// A Gamma(α, 1) distribution with α ≥ 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarsagliaTsang {
    d: f32,
    c: f32,
}

impl MarsagliaTsang {
    /// Gamma(`shape`, 1); `None` unless 1 ≤ shape < ∞.
    pub fn new(shape: f32) -> Option<Self> {
        (shape.is_finite() && shape >= 1.0).then(|| {
            let d = shape - 1.0 / 3.0;
            MarsagliaTsang {
                d,
                c: 1.0 / (9.0 * d).sqrt(),
            }
        })
    }

    /// Fills `out` with independent Gamma(α, 1) samples from `rng`. Round by round: 128
    /// normals ([`fill_standard_normal`]) and 128 uniforms u = (k + ½)·2⁻²⁴ from 24 random bits
    /// (two per random word) make 128 candidates; the squeeze runs on all of them, the
    /// logarithmic test on those it left undecided (about one in ten), and the accepted values
    /// are appended in order. The last round's accepted values beyond `out.len()` are dropped.
    pub fn fill<R: RngCore + ?Sized>(&self, rng: &mut R, out: &mut [f32]) {
        let mut normals = [0.0f32; BLOCK];
        let mut words = [0u64; BLOCK / 2];
        let mut round = Round::default();
        let iota: [u32; BLOCK] = std::array::from_fn(|j| j as u32);
        let mut positions = [0u32; BLOCK + 16];
        let mut undecided_x = [0.0f32; BLOCK + 16];
        let mut undecided_u = [0.0f32; BLOCK + 16];
        let mut verdicts = [REFUSE; BLOCK];
        let mut accepted = [0.0f32; BLOCK + 16];
        let mut filled = 0;
        while filled < out.len() {
            fill_standard_normal(rng, &mut normals);
            words.iter_mut().for_each(|w| *w = rng.next_u64());
            squeeze(*self, &normals, &words, &mut round);
            // The undecided candidates, gathered for the logarithmic test; then its verdicts
            // go back to their places.
            let m = select(&round.verdict, UNDECIDED, &iota, &mut positions);
            select(&round.verdict, UNDECIDED, &normals, &mut undecided_x);
            select(&round.verdict, UNDECIDED, &round.u, &mut undecided_u);
            log_test(
                *self,
                &undecided_x[..m],
                &undecided_u[..m],
                &mut verdicts[..m],
            );
            for (&j, &verdict) in positions[..m].iter().zip(&verdicts[..m]) {
                round.verdict[j as usize % BLOCK] = verdict;
            }
            let k = select(&round.verdict, ACCEPT, &round.value, &mut accepted);
            let take = k.min(out.len() - filled);
            out[filled..filled + take].copy_from_slice(&accepted[..take]);
            filled += take;
        }
    }
}

/// Verdicts on a candidate.
const REFUSE: u8 = 0;
const ACCEPT: u8 = 1;
const UNDECIDED: u8 = 2;

/// The candidates of one round: uniform u, value d·v and verdict.
struct Round {
    u: [f32; BLOCK],
    value: [f32; BLOCK],
    verdict: [u8; BLOCK],
}

impl Default for Round {
    fn default() -> Self {
        Round {
            u: [0.0; BLOCK],
            value: [0.0; BLOCK],
            verdict: [REFUSE; BLOCK],
        }
    }
}

crate::nn::simd::vectorised!(squeeze, squeeze_avx512, squeeze_avx2, squeeze_body, (
    gamma: MarsagliaTsang,
    normals: &[f32; BLOCK],
    words: &[u64; BLOCK / 2],
    round: &mut Round
));

crate::nn::simd::vectorised!(log_test, log_test_avx512, log_test_avx2, log_test_body, (
    gamma: MarsagliaTsang,
    x: &[f32],
    u: &[f32],
    verdict: &mut [u8]
));

/// The `src` entries whose `verdict` is `wanted`, in order, written to the start of `out`
/// (whose last 16 entries are room for the full-width stores); returns how many. With
/// AVX-512, 16 at a time by compress stores; otherwise one by one without a branch.
fn select<T: Copy>(
    verdict: &[u8; BLOCK],
    wanted: u8,
    src: &[T; BLOCK],
    out: &mut [T; BLOCK + 16],
) -> usize {
    const { assert!(std::mem::size_of::<T>() == 4) };
    #[cfg(target_arch = "x86_64")]
    if simd_level() == SimdLevel::Avx512 {
        // SAFETY: the CPU has AVX-512F; T is 4 bytes wide (checked above).
        return unsafe {
            select_avx512(
                verdict,
                wanted,
                src.as_ptr().cast(),
                out.as_mut_ptr().cast(),
            )
        };
    }
    let mut k = 0;
    for (&v, &x) in verdict.iter().zip(src) {
        // k ≤ the current position, so the write stays in bounds.
        out[k] = x;
        k += usize::from(v == wanted);
    }
    k
}

/// [`select`] on 4-byte entries with compress stores.
///
/// # Safety
/// The CPU has AVX-512F, `src` points to `BLOCK` entries and `out` to `BLOCK + 16`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn select_avx512(
    verdict: &[u8; BLOCK],
    wanted: u8,
    src: *const u32,
    out: *mut u32,
) -> usize {
    use std::arch::x86_64::*;
    let want = _mm512_set1_epi32(i32::from(wanted));
    let mut k = 0;
    for j in (0..BLOCK).step_by(16) {
        // SAFETY: reads 16 verdicts and 16 entries at j < BLOCK; writes 16 entries at
        // k ≤ j, below BLOCK + 16.
        unsafe {
            let v = _mm512_cvtepu8_epi32(_mm_loadu_si128(verdict.as_ptr().add(j).cast()));
            let m = _mm512_cmpeq_epi32_mask(v, want);
            let x = _mm512_loadu_si512(src.add(j).cast());
            _mm512_storeu_si512(out.add(k).cast(), _mm512_maskz_compress_epi32(m, x));
            k += m.count_ones() as usize;
        }
    }
    k
}

/// The squeeze on one round: candidate j takes normal j and the uniform of bits 8–31 of word
/// j (j < 64) or bits 40–63 of word j − 64; with t = 1 + c x and v = t³ its value is d·v and
/// its verdict [`REFUSE`] when t ≤ 0, [`ACCEPT`] when u < 1 − 0.0331 x⁴, [`UNDECIDED`]
/// otherwise.
#[inline(always)]
fn squeeze_body(
    gamma: MarsagliaTsang,
    normals: &[f32; BLOCK],
    words: &[u64; BLOCK / 2],
    round: &mut Round,
) {
    const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;
    let MarsagliaTsang { d, c } = gamma;
    for (half, shift) in [(0, 8), (1, 40)] {
        let at = half * (BLOCK / 2)..(half + 1) * (BLOCK / 2);
        let x = &normals[at.clone()];
        let u = &mut round.u[at.clone()];
        let value = &mut round.value[at.clone()];
        let verdict = &mut round.verdict[at];
        for ((((&x, u), value), verdict), &word) in
            x.iter().zip(u).zip(value).zip(verdict).zip(words)
        {
            *u = (((word >> shift) & 0x00ff_ffff) as i32 as f32 + 0.5) * TWO_POW_MINUS_24;
            let t = 1.0 + c * x;
            let v = t * t * t;
            let x2 = x * x;
            let squeezed = if *u < 1.0 - 0.0331 * (x2 * x2) {
                ACCEPT
            } else {
                UNDECIDED
            };
            *value = d * v;
            *verdict = if t > 0.0 { squeezed } else { REFUSE };
        }
    }
}

/// The logarithmic test on candidates the squeeze left undecided (normal x, uniform u, v > 0):
/// [`ACCEPT`] when ln u < x²/2 + d(1 − v + ln v), [`REFUSE`] otherwise, with the branch-free
/// [`ln`] (the same IEEE operations on every CPU).
#[inline(always)]
fn log_test_body(gamma: MarsagliaTsang, x: &[f32], u: &[f32], verdict: &mut [u8]) {
    let MarsagliaTsang { d, c } = gamma;
    for ((&x, &u), verdict) in x.iter().zip(u).zip(verdict) {
        let t = 1.0 + c * x;
        let v = t * t * t;
        *verdict = if ln(u) < 0.5 * (x * x) + d * (1.0 - v + ln(v)) {
            ACCEPT
        } else {
            REFUSE
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;
    use rand_distr::{Distribution, Gamma};

    /// Two-sample Kolmogorov–Smirnov statistic of sorted samples.
    fn ks(a: &[f64], b: &[f64]) -> f64 {
        let (mut i, mut j, mut d) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            if a[i] <= b[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
        }
        d
    }

    #[test]
    fn samples_follow_the_gamma_distribution() {
        const N: usize = 1 << 18;
        // The shapes of the paper's Beta noise (α ≈ 5.33, β = 40), the edge α = 1, and one more.
        for shape in [1.0f32, 2.5, 5.333_333, 40.0] {
            let gamma = MarsagliaTsang::new(shape).expect("valid shape");
            let mut rng = rng_for(17, &format!("gamma/{shape}"));
            let mut samples = vec![0.0f32; N];
            gamma.fill(&mut rng, &mut samples);
            let mut ours: Vec<f64> = samples.iter().map(|&g| f64::from(g)).collect();
            assert!(ours.iter().all(|&g| g > 0.0 && g.is_finite()));
            // Mean and variance are both α: within 5 standard errors (√(α/n) for the mean,
            // √((μ₄ − α²)/n) with μ₄ = 3α² + 6α for the variance).
            let (n, a) = (N as f64, f64::from(shape));
            let mean = ours.iter().sum::<f64>() / n;
            let var = ours.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(
                (mean - a).abs() < 5.0 * (a / n).sqrt(),
                "α {a}: mean {mean}"
            );
            let se_var = ((3.0 * a * a + 6.0 * a - a * a) / n).sqrt();
            assert!((var - a).abs() < 5.0 * se_var, "α {a}: variance {var}");
            // Against rand_distr's sampler: two-sample KS, 0.1% critical value 1.95·√(2/n).
            let reference = Gamma::new(f64::from(shape), 1.0).expect("valid");
            let mut rng = rng_for(18, &format!("gamma/reference/{shape}"));
            let mut theirs: Vec<f64> = (0..N).map(|_| reference.sample(&mut rng)).collect();
            ours.sort_by(f64::total_cmp);
            theirs.sort_by(f64::total_cmp);
            let d = ks(&ours, &theirs);
            assert!(d < 1.95 * (2.0 / n).sqrt(), "α {a}: KS distance {d}");
        }
    }

    /// Every instruction-set variant gives the same values and verdicts, so the samples
    /// depend only on the random stream.
    #[test]
    fn kernels_are_identical_on_every_instruction_set() {
        type Squeeze = unsafe fn(MarsagliaTsang, &[f32; BLOCK], &[u64; BLOCK / 2], &mut Round);
        type LogTest = unsafe fn(MarsagliaTsang, &[f32], &[f32], &mut [u8]);
        let mut variants: Vec<(Squeeze, LogTest)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                variants.push((squeeze_avx512, log_test_avx512));
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                variants.push((squeeze_avx2, log_test_avx2));
            }
        }
        let fingerprint = |r: &Round| {
            let bits = |a: &[f32; BLOCK]| a.map(f32::to_bits);
            (bits(&r.u), bits(&r.value), r.verdict)
        };
        let mut rng = rng_for(19, "gamma/kernels");
        let mut undecided_seen = 0;
        for shape in [1.0f32, 5.333_333, 40.0] {
            let gamma = MarsagliaTsang::new(shape).expect("valid shape");
            for _ in 0..50 {
                let mut normals = [0.0f32; BLOCK];
                fill_standard_normal(&mut rng, &mut normals);
                let words: [u64; BLOCK / 2] = std::array::from_fn(|_| rng.next_u64());
                let mut portable = Round::default();
                squeeze_body(gamma, &normals, &words, &mut portable);
                let mut verdicts = [REFUSE; BLOCK];
                log_test_body(gamma, &normals, &portable.u, &mut verdicts);
                undecided_seen += portable.verdict.iter().filter(|&&v| v == UNDECIDED).count();
                for &(squeeze, log_test) in &variants {
                    let mut wide = Round::default();
                    // SAFETY: the CPU has the variant's instruction set (checked above).
                    unsafe { squeeze(gamma, &normals, &words, &mut wide) };
                    assert!(fingerprint(&wide) == fingerprint(&portable));
                    let mut wide_verdicts = [REFUSE; BLOCK];
                    // SAFETY: as above.
                    unsafe { log_test(gamma, &normals, &portable.u, &mut wide_verdicts) };
                    assert_eq!(wide_verdicts, verdicts);
                }
            }
        }
        assert!(undecided_seen > 0);
    }

    /// The compress-store selection keeps exactly the wanted entries, in order, as the
    /// portable loop does.
    #[test]
    fn select_keeps_the_wanted_entries_in_order() {
        let mut rng = rng_for(20, "gamma/select");
        for _ in 0..20 {
            let verdict: [u8; BLOCK] = std::array::from_fn(|_| (rng.next_u32() % 3) as u8);
            let src: [u32; BLOCK] = std::array::from_fn(|j| j as u32 * 7 + 1);
            for wanted in [REFUSE, ACCEPT, UNDECIDED] {
                let expected: Vec<u32> = (0..BLOCK)
                    .filter(|&j| verdict[j] == wanted)
                    .map(|j| src[j])
                    .collect();
                let mut out = [0u32; BLOCK + 16];
                let k = select(&verdict, wanted, &src, &mut out);
                assert_eq!(&out[..k], &expected[..]);
            }
        }
        let none = [REFUSE; BLOCK];
        let mut out = [0.0f32; BLOCK + 16];
        assert_eq!(select(&none, ACCEPT, &[1.0; BLOCK], &mut out), 0);
        assert_eq!(select(&none, REFUSE, &[1.0; BLOCK], &mut out), BLOCK);
    }

    #[test]
    fn shapes_below_one_or_not_finite_are_refused() {
        for shape in [0.99f32, 0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(MarsagliaTsang::new(shape).is_none(), "{shape}");
        }
    }
}
