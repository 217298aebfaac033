//! Small vector kernels of the gated (sparse) main path: several dot products that share one
//! vector, and several scaled vectors summed into one.
//!
//! Each kernel is one portable body compiled three times — for AVX-512, for AVX2 and for the
//! x86-64 baseline — and the widest the CPU supports is picked at run time, so a plain
//! `cargo build` runs fast on any x86-64 machine. The bodies use plain multiplies and adds
//! (no fused multiply-add) in 16 fixed lanes reduced in a fixed order, so every variant returns
//! bit-identical results: a run does not depend on which CPU it ran on.

use std::sync::OnceLock;

/// Lanes of the accumulators (one AVX-512 register of f32).
const LANES: usize = 16;

/// The instruction set the kernels run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimdLevel {
    /// 512-bit vectors.
    Avx512,
    /// 256-bit vectors.
    Avx2,
    /// Whatever the compilation target guarantees.
    Portable,
}

impl SimdLevel {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Avx512 => "avx512",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Portable => "portable",
        }
    }
}

/// The widest instruction set of this CPU the kernels can use (detected once).
pub fn simd_level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(detect)
}

#[cfg(target_arch = "x86_64")]
fn detect() -> SimdLevel {
    if std::arch::is_x86_feature_detected!("avx512f") {
        SimdLevel::Avx512
    } else if std::arch::is_x86_feature_detected!("avx2") {
        SimdLevel::Avx2
    } else {
        SimdLevel::Portable
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> SimdLevel {
    SimdLevel::Portable
}

/// Σ of 16 lanes in a fixed pairwise order.
#[inline(always)]
fn reduce(acc: &[f32; LANES]) -> f32 {
    let mut v = *acc;
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            v[l] += v[l + width];
        }
        width /= 2;
    }
    v[0]
}

#[inline(always)]
fn dots_body<const R: usize>(w: &[f32], xs: &[&[f32]; R]) -> [f32; R] {
    let n = w.len();
    for x in xs {
        assert!(x.len() >= n, "dots: vector shorter than the shared one");
    }
    let chunks = n / LANES;
    let mut acc = [[0.0f32; LANES]; R];
    for c in 0..chunks {
        let base = c * LANES;
        let wc: &[f32; LANES] = w[base..base + LANES].try_into().expect("chunk");
        for r in 0..R {
            let xc: &[f32; LANES] = xs[r][base..base + LANES].try_into().expect("chunk");
            for l in 0..LANES {
                acc[r][l] += wc[l] * xc[l];
            }
        }
    }
    let mut out = [0.0f32; R];
    for r in 0..R {
        let mut s = reduce(&acc[r]);
        for i in chunks * LANES..n {
            s += w[i] * xs[r][i];
        }
        out[r] = s;
    }
    out
}

#[inline(always)]
fn axpys_body<const R: usize>(out: &mut [f32], coef: [f32; R], xs: &[&[f32]; R], accumulate: bool) {
    let n = out.len();
    for x in xs {
        assert!(x.len() >= n, "axpys: input shorter than the output");
    }
    let chunks = n / LANES;
    for c in 0..chunks {
        let base = c * LANES;
        let oc: &mut [f32; LANES] = (&mut out[base..base + LANES]).try_into().expect("chunk");
        let mut acc = if accumulate { *oc } else { [0.0f32; LANES] };
        for r in 0..R {
            let xc: &[f32; LANES] = xs[r][base..base + LANES].try_into().expect("chunk");
            for l in 0..LANES {
                acc[l] += coef[r] * xc[l];
            }
        }
        *oc = acc;
    }
    for i in chunks * LANES..n {
        let mut s = if accumulate { out[i] } else { 0.0 };
        for r in 0..R {
            s += coef[r] * xs[r][i];
        }
        out[i] = s;
    }
}

macro_rules! dispatch {
    ($body:ident, $avx512:ident, $avx2:ident, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        fn $avx512<const R: usize>($($arg: $ty),*) -> $ret {
            $body::<R>($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2<const R: usize>($($arg: $ty),*) -> $ret {
            $body::<R>($($arg),*)
        }
    };
}

dispatch!(dots_body, dots_avx512, dots_avx2, (w: &[f32], xs: &[&[f32]; R]) -> [f32; R]);
dispatch!(axpys_body, axpys_avx512, axpys_avx2,
    (out: &mut [f32], coef: [f32; R], xs: &[&[f32]; R], accumulate: bool) -> ());

/// R dot products sharing one vector: out_r = Σ_i w_i · xs_r[i] over i < w.len().
pub fn dots<const R: usize>(w: &[f32], xs: &[&[f32]; R]) -> [f32; R] {
    match simd_level() {
        // SAFETY: the CPU supports the instruction set the variant was compiled for.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { dots_avx512::<R>(w, xs) },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { dots_avx2::<R>(w, xs) },
        _ => dots_body::<R>(w, xs),
    }
}

/// out ← (accumulate ? out : 0) + Σ_r coef_r · xs_r (element-wise over out.len()).
pub fn axpys<const R: usize>(out: &mut [f32], coef: [f32; R], xs: &[&[f32]; R], accumulate: bool) {
    match simd_level() {
        // SAFETY: the CPU supports the instruction set the variant was compiled for.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { axpys_avx512::<R>(out, coef, xs, accumulate) },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { axpys_avx2::<R>(out, coef, xs, accumulate) },
        _ => axpys_body::<R>(out, coef, xs, accumulate),
    }
}

/// Dot products of `w` with `count` vectors `x(0), …, x(count − 1)`, written to `out[0..count]`,
/// four at a time.
pub fn dots_with<'a>(w: &[f32], count: usize, x: impl Fn(usize) -> &'a [f32], out: &mut [f32]) {
    let mut k = 0;
    while k + 4 <= count {
        let r = dots::<4>(w, &[x(k), x(k + 1), x(k + 2), x(k + 3)]);
        out[k..k + 4].copy_from_slice(&r);
        k += 4;
    }
    match count - k {
        3 => out[k..k + 3].copy_from_slice(&dots::<3>(w, &[x(k), x(k + 1), x(k + 2)])),
        2 => out[k..k + 2].copy_from_slice(&dots::<2>(w, &[x(k), x(k + 1)])),
        1 => out[k] = dots::<1>(w, &[x(k)])[0],
        _ => {}
    }
}

/// out ← Σ_k coef[k] · x(k) over k < count (out ← 0 when count = 0), four at a time.
pub fn weighted_sum<'a>(
    out: &mut [f32],
    count: usize,
    coef: &[f32],
    x: impl Fn(usize) -> &'a [f32],
) {
    if count == 0 {
        out.fill(0.0);
        return;
    }
    let mut k = 0;
    while k < count {
        let acc = k > 0;
        match count - k {
            1 => axpys::<1>(out, [coef[k]], &[x(k)], acc),
            2 => axpys::<2>(out, [coef[k], coef[k + 1]], &[x(k), x(k + 1)], acc),
            3 => axpys::<3>(
                out,
                [coef[k], coef[k + 1], coef[k + 2]],
                &[x(k), x(k + 1), x(k + 2)],
                acc,
            ),
            _ => axpys::<4>(
                out,
                [coef[k], coef[k + 1], coef[k + 2], coef[k + 3]],
                &[x(k), x(k + 1), x(k + 2), x(k + 3)],
                acc,
            ),
        }
        k += 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn kernels_match_scalar_sums_and_every_level_agrees() {
        for n in [0usize, 1, 15, 16, 17, 100, 784] {
            let w = data(n, 1);
            let xs: Vec<Vec<f32>> = (0..7).map(|s| data(n, 10 + s)).collect();
            let mut out = vec![0.0f32; 7];
            dots_with(&w, 7, |k| &xs[k], &mut out);
            for k in 0..7 {
                let exact: f64 = w.iter().zip(&xs[k]).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
                assert!((out[k] as f64 - exact).abs() < 1e-4 * (n as f64 + 1.0), "dot n={n} k={k}");
            }
            let portable = dots_body::<4>(&w, &[&xs[0], &xs[1], &xs[2], &xs[3]]);
            assert_eq!(portable, dots::<4>(&w, &[&xs[0], &xs[1], &xs[2], &xs[3]]));

            let coef: Vec<f32> = (0..7).map(|k| k as f32 * 0.5 - 1.0).collect();
            let mut sum = vec![9.0f32; n];
            weighted_sum(&mut sum, 7, &coef, |k| &xs[k]);
            for i in 0..n {
                let exact: f64 = (0..7).map(|k| coef[k] as f64 * xs[k][i] as f64).sum();
                assert!((sum[i] as f64 - exact).abs() < 1e-5, "axpy n={n} i={i}");
            }
            let mut portable = vec![1.0f32; n];
            let mut dispatched = portable.clone();
            axpys_body::<3>(&mut portable, [0.5, -2.0, 3.0], &[&xs[0], &xs[1], &xs[2]], true);
            axpys::<3>(&mut dispatched, [0.5, -2.0, 3.0], &[&xs[0], &xs[1], &xs[2]], true);
            assert_eq!(portable, dispatched);
            weighted_sum(&mut sum, 0, &coef, |k| &xs[k]);
            assert!(sum.iter().all(|&v| v == 0.0));
        }
    }
}
