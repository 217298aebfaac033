//! Small vector kernels of the gated (sparse) main path: several dot products that share one
//! vector, and several scaled vectors summed into one.
//!
//! Each kernel exists with AVX-512 intrinsics, with AVX2 + FMA intrinsics and as a portable
//! body; the widest the CPU supports is picked once at run time, so a plain `cargo build` runs
//! fast on any x86-64 machine. All of them accumulate in 16 lanes reduced in a fixed order, so
//! results are deterministic on a given machine (like the dense products, the last bits may
//! differ between instruction sets).

use std::sync::OnceLock;

/// Lanes of the accumulators (one AVX-512 register of f32).
const LANES: usize = 16;

/// Independent accumulator sets of the dot products: chunk c of 16 lanes goes to set c mod 4,
/// so that four fused multiply-add chains run at once instead of one waiting on the latency
/// of the previous (the gated kernels take dot products of one to four vectors at a time).
const SETS: usize = 4;

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
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
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
    // Chunk c accumulates into set c mod SETS, as the intrinsic kernels do.
    let mut acc = [[[0.0f32; LANES]; R]; SETS];
    for c in 0..chunks {
        let base = c * LANES;
        let set = &mut acc[c % SETS];
        let wc: &[f32; LANES] = w[base..base + LANES].try_into().expect("chunk");
        for r in 0..R {
            let xc: &[f32; LANES] = xs[r][base..base + LANES].try_into().expect("chunk");
            for l in 0..LANES {
                set[r][l] += wc[l] * xc[l];
            }
        }
    }
    let mut out = [0.0f32; R];
    for r in 0..R {
        let mut lanes = [0.0f32; LANES];
        for l in 0..LANES {
            lanes[l] = (acc[0][r][l] + acc[1][r][l]) + (acc[2][r][l] + acc[3][r][l]);
        }
        let mut s = reduce(&lanes);
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

/// Defines `$name`, which runs `$body` compiled for the widest instruction set of the CPU:
/// `$avx512` (AVX-512F), `$avx2` (AVX2) or the baseline. For bodies written as plain loops
/// that the compiler vectorises; without fused multiply-adds in the body, every variant
/// performs the same IEEE operations and gives the same bits.
macro_rules! vectorised {
    ($name:ident, $avx512:ident, $avx2:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            match $crate::nn::simd::simd_level() {
                // SAFETY: the CPU supports the instruction set the variant was compiled for.
                #[cfg(target_arch = "x86_64")]
                $crate::nn::simd::SimdLevel::Avx512 => unsafe { $avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                $crate::nn::simd::SimdLevel::Avx2 => unsafe { $avx2($($arg),*) },
                _ => $body($($arg),*),
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        fn $avx512($($arg: $ty),*) {
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2($($arg: $ty),*) {
            $body($($arg),*)
        }
    };
}
pub(crate) use vectorised;

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The kernels with explicit 512-bit and 256-bit intrinsics: one accumulator register (or
    //! register pair) of 16 lanes per output, fused multiply-adds.
    use std::arch::x86_64::*;

    use super::{LANES, SETS, reduce};

    /// [`super::backprop_and_update`] for one instruction set: `$width` floats per vector
    /// through the given load, store, fused multiply-add and broadcast intrinsics, and the
    /// scalar body on the elements after the last full vector.
    macro_rules! backprop_and_update_kernel {
        ($name:ident, $feature:literal, $width:expr, $load:ident, $store:ident, $fmadd:ident,
         $set1:ident) => {
            #[target_feature(enable = $feature)]
            pub(super) fn $name(
                col: &mut [f32],
                dz: &mut [f32],
                z: &[f32],
                rows: &[u32],
                delta: &[f32],
                scale: f32,
            ) {
                const WIDTH: usize = $width;
                let n = col.len();
                let chunks = n / WIDTH;
                // SAFETY: the caller checked that every row r has (r + 1)·n ≤ dz.len(),
                // z.len(), and every access is at r·n + c·WIDTH + WIDTH − 1 < r·n + n.
                unsafe {
                    for c in 0..chunks {
                        let w = $load(col.as_ptr().add(c * WIDTH));
                        let mut acc = w;
                        for (&row, &d) in rows.iter().zip(delta) {
                            let at = row as usize * n + c * WIDTH;
                            let p = dz.as_mut_ptr().add(at);
                            $store(p, $fmadd($set1(d), w, $load(p)));
                            acc = $fmadd($set1(d * scale), $load(z.as_ptr().add(at)), acc);
                        }
                        $store(col.as_mut_ptr().add(c * WIDTH), acc);
                    }
                }
                let done = chunks * WIDTH;
                super::backprop_and_update_body::<true>(
                    &mut col[done..],
                    dz,
                    z,
                    rows,
                    delta,
                    scale,
                    n,
                    done,
                );
            }
        };
    }

    backprop_and_update_kernel!(
        backprop_and_update_avx512,
        "avx512f",
        LANES,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps,
        _mm512_set1_ps
    );
    backprop_and_update_kernel!(
        backprop_and_update_avx2,
        "avx2,fma",
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps,
        _mm256_set1_ps
    );

    /// [`super::axpys`] for one instruction set: `$width` floats per vector through the given
    /// load, store, fused multiply-add, broadcast and zero intrinsics, then the elements after
    /// the last full vector one by one.
    macro_rules! axpys_kernel {
        ($name:ident, $feature:literal, $width:expr, $load:ident, $store:ident, $fmadd:ident,
         $set1:ident, $zero:ident) => {
            #[target_feature(enable = $feature)]
            pub(super) fn $name<const R: usize>(
                out: &mut [f32],
                coef: [f32; R],
                xs: &[&[f32]; R],
                accumulate: bool,
            ) {
                const WIDTH: usize = $width;
                let n = out.len();
                for x in xs {
                    assert!(x.len() >= n, "axpys: input shorter than the output");
                }
                let chunks = n / WIDTH;
                let cv = coef.map(|c| $set1(c));
                // SAFETY: every load and store touches WIDTH floats below chunks·WIDTH ≤ n of
                // slices at least n long.
                unsafe {
                    for c in 0..chunks {
                        let o = out.as_mut_ptr().add(c * WIDTH);
                        let mut acc = if accumulate { $load(o) } else { $zero() };
                        for r in 0..R {
                            let xv = $load(xs[r].as_ptr().add(c * WIDTH));
                            acc = $fmadd(cv[r], xv, acc);
                        }
                        $store(o, acc);
                    }
                }
                for i in chunks * WIDTH..n {
                    let mut s = if accumulate { out[i] } else { 0.0 };
                    for r in 0..R {
                        s += coef[r] * xs[r][i];
                    }
                    out[i] = s;
                }
            }
        };
    }

    axpys_kernel!(
        axpys_avx512,
        "avx512f",
        LANES,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps,
        _mm512_set1_ps,
        _mm512_setzero_ps
    );
    axpys_kernel!(
        axpys_avx2,
        "avx2,fma",
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps,
        _mm256_set1_ps,
        _mm256_setzero_ps
    );

    #[target_feature(enable = "avx512f")]
    pub(super) fn dots_avx512<const R: usize>(w: &[f32], xs: &[&[f32]; R]) -> [f32; R] {
        let n = w.len();
        for x in xs {
            assert!(x.len() >= n, "dots: vector shorter than the shared one");
        }
        let chunks = n / LANES;
        let mut acc = [[_mm512_setzero_ps(); R]; SETS];
        // SAFETY: every load reads 16 floats at offset c·16 + 15 < chunks·16 ≤ n of slices at
        // least n long.
        unsafe {
            let step = |c: usize, set: &mut [__m512; R]| {
                let wv = _mm512_loadu_ps(w.as_ptr().add(c * LANES));
                for r in 0..R {
                    let xv = _mm512_loadu_ps(xs[r].as_ptr().add(c * LANES));
                    set[r] = _mm512_fmadd_ps(wv, xv, set[r]);
                }
            };
            let mut c = 0;
            while c + SETS <= chunks {
                for (s, set) in acc.iter_mut().enumerate() {
                    step(c + s, set);
                }
                c += SETS;
            }
            for (s, set) in acc.iter_mut().enumerate().take(chunks - c) {
                step(c + s, set);
            }
        }
        let mut out = [0.0f32; R];
        for r in 0..R {
            let sum = _mm512_add_ps(
                _mm512_add_ps(acc[0][r], acc[1][r]),
                _mm512_add_ps(acc[2][r], acc[3][r]),
            );
            let mut lanes = [0.0f32; LANES];
            // SAFETY: `lanes` holds 16 floats.
            unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), sum) };
            let mut s = reduce(&lanes);
            for i in chunks * LANES..n {
                s += w[i] * xs[r][i];
            }
            out[r] = s;
        }
        out
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn dots_avx2<const R: usize>(w: &[f32], xs: &[&[f32]; R]) -> [f32; R] {
        let n = w.len();
        for x in xs {
            assert!(x.len() >= n, "dots: vector shorter than the shared one");
        }
        let chunks = n / LANES;
        // (low, high) 8-float halves of each set's 16-lane accumulators.
        let mut acc = [[(_mm256_setzero_ps(), _mm256_setzero_ps()); R]; SETS];
        // SAFETY: as in the 512-bit kernel, two 8-float halves per chunk.
        unsafe {
            let step = |c: usize, set: &mut [(__m256, __m256); R]| {
                let p = c * LANES;
                let (w0, w1) = (
                    _mm256_loadu_ps(w.as_ptr().add(p)),
                    _mm256_loadu_ps(w.as_ptr().add(p + 8)),
                );
                for r in 0..R {
                    let x0 = _mm256_loadu_ps(xs[r].as_ptr().add(p));
                    let x1 = _mm256_loadu_ps(xs[r].as_ptr().add(p + 8));
                    set[r] = (
                        _mm256_fmadd_ps(w0, x0, set[r].0),
                        _mm256_fmadd_ps(w1, x1, set[r].1),
                    );
                }
            };
            let mut c = 0;
            while c + SETS <= chunks {
                for (s, set) in acc.iter_mut().enumerate() {
                    step(c + s, set);
                }
                c += SETS;
            }
            for (s, set) in acc.iter_mut().enumerate().take(chunks - c) {
                step(c + s, set);
            }
        }
        let mut out = [0.0f32; R];
        for r in 0..R {
            let add = |a: (__m256, __m256), b: (__m256, __m256)| {
                (_mm256_add_ps(a.0, b.0), _mm256_add_ps(a.1, b.1))
            };
            let (lo, hi) = add(add(acc[0][r], acc[1][r]), add(acc[2][r], acc[3][r]));
            let mut lanes = [0.0f32; LANES];
            // SAFETY: `lanes` holds 16 floats.
            unsafe {
                _mm256_storeu_ps(lanes.as_mut_ptr(), lo);
                _mm256_storeu_ps(lanes.as_mut_ptr().add(8), hi);
            }
            let mut s = reduce(&lanes);
            for i in chunks * LANES..n {
                s += w[i] * xs[r][i];
            }
            out[r] = s;
        }
        out
    }
}

/// R dot products sharing one vector: out_r = Σ_i w_i · xs_r[i] over i < w.len().
pub fn dots<const R: usize>(w: &[f32], xs: &[&[f32]; R]) -> [f32; R] {
    match simd_level() {
        // SAFETY: the CPU supports the instruction set the variant was compiled for.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { x86::dots_avx512::<R>(w, xs) },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { x86::dots_avx2::<R>(w, xs) },
        _ => dots_body::<R>(w, xs),
    }
}

/// out ← (accumulate ? out : 0) + Σ_r coef_r · xs_r (element-wise over out.len()).
pub fn axpys<const R: usize>(out: &mut [f32], coef: [f32; R], xs: &[&[f32]; R], accumulate: bool) {
    match simd_level() {
        // SAFETY: the CPU supports the instruction set the variant was compiled for.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { x86::axpys_avx512::<R>(out, coef, xs, accumulate) },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { x86::axpys_avx2::<R>(out, coef, xs, accumulate) },
        _ => axpys_body::<R>(out, coef, xs, accumulate),
    }
}

/// One unit's step in a layer whose input rows are `rows[k]` of the row-major matrices `z` and
/// `dz` (rows of length `col.len()`), with the unit's incoming weight vector `col`:
///
/// dz[rows[k]] += delta[k] · col (for every k, with col as it was on entry), then
/// col ← col + Σ_k (delta[k] · scale) · z[rows[k]] (summed in order k = 0, 1, …).
///
/// Back-propagation to the layer's input and the SGD step of the unit (scale = −η) in one
/// pass over `col`, 16 elements at a time, instead of one pass per example.
pub fn backprop_and_update(
    col: &mut [f32],
    dz: &mut [f32],
    z: &[f32],
    rows: &[u32],
    delta: &[f32],
    scale: f32,
) {
    let n = col.len();
    assert_eq!(delta.len(), rows.len());
    if let Some(&last) = rows.iter().max() {
        let end = (last as usize + 1) * n;
        assert!(
            end <= dz.len() && end <= z.len(),
            "row outside the matrices"
        );
    }
    match simd_level() {
        // SAFETY: the CPU supports the instruction set the variant was compiled for.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe {
            x86::backprop_and_update_avx512(col, dz, z, rows, delta, scale)
        },
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { x86::backprop_and_update_avx2(col, dz, z, rows, delta, scale) },
        _ => backprop_and_update_body::<false>(col, dz, z, rows, delta, scale, n, 0),
    }
}

/// [`backprop_and_update`] element by element, on `col` = elements `offset..` of rows of length
/// `stride`; `FMA` fuses the multiply-adds (only where the CPU has the instruction). The vector
/// variants run it on the elements after their last full vector.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backprop_and_update_body<const FMA: bool>(
    col: &mut [f32],
    dz: &mut [f32],
    z: &[f32],
    rows: &[u32],
    delta: &[f32],
    scale: f32,
    stride: usize,
    offset: usize,
) {
    let madd = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
    for (i, w) in col.iter_mut().enumerate() {
        let old = *w;
        let mut acc = old;
        for (&row, &d) in rows.iter().zip(delta) {
            let at = row as usize * stride + offset + i;
            dz[at] = madd(d, old, dz[at]);
            acc = madd(d * scale, z[at], acc);
        }
        *w = acc;
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

/// out ← (accumulate ? out : 0) + Σ_k coef[k] · x(k) over k < count, four at a time.
pub fn weighted_sum<'a>(
    out: &mut [f32],
    count: usize,
    coef: &[f32],
    x: impl Fn(usize) -> &'a [f32],
    accumulate: bool,
) {
    if count == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let mut k = 0;
    while k < count {
        let acc = accumulate || k > 0;
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
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn backprop_and_update_matches_the_two_steps_it_fuses() {
        for n in [1usize, 15, 16, 17, 400] {
            let rows = [4u32, 0, 2];
            let delta = [0.5f32, -1.5, 2.0];
            let scale = -0.1f32;
            let z = data(5 * n, 3);
            let dz0 = data(5 * n, 4);
            let col0 = data(n, 5);
            let (mut col, mut dz) = (col0.clone(), dz0.clone());
            backprop_and_update(&mut col, &mut dz, &z, &rows, &delta, scale);
            let (mut portable_col, mut portable_dz) = (col0.clone(), dz0.clone());
            backprop_and_update_body::<false>(
                &mut portable_col,
                &mut portable_dz,
                &z,
                &rows,
                &delta,
                scale,
                n,
                0,
            );
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                let (mut avx2_col, mut avx2_dz) = (col0.clone(), dz0.clone());
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe {
                    x86::backprop_and_update_avx2(
                        &mut avx2_col,
                        &mut avx2_dz,
                        &z,
                        &rows,
                        &delta,
                        scale,
                    )
                };
                assert!(
                    avx2_col
                        .iter()
                        .zip(&col)
                        .all(|(a, b)| (a - b).abs() <= 1e-6)
                );
                assert!(avx2_dz.iter().zip(&dz).all(|(a, b)| (a - b).abs() <= 1e-6));
            }
            for i in 0..n {
                let update: f64 = (0..3)
                    .map(|k| (delta[k] * scale) as f64 * z[rows[k] as usize * n + i] as f64)
                    .sum();
                let expected = col0[i] as f64 + update;
                assert!((col[i] as f64 - expected).abs() < 1e-5, "col n={n} i={i}");
                assert!((col[i] - portable_col[i]).abs() <= 1e-6);
            }
            for b in 0..5 {
                let k = rows.iter().position(|&r| r as usize == b);
                for i in 0..n {
                    let expected =
                        dz0[b * n + i] as f64 + k.map_or(0.0, |k| delta[k] as f64 * col0[i] as f64);
                    assert!(
                        (dz[b * n + i] as f64 - expected).abs() < 1e-5,
                        "dz n={n} b={b}"
                    );
                    assert!((dz[b * n + i] - portable_dz[b * n + i]).abs() <= 1e-6);
                }
            }
        }
    }

    #[test]
    fn kernels_match_scalar_sums_and_the_portable_bodies() {
        for n in [0usize, 1, 15, 16, 17, 100, 784] {
            let w = data(n, 1);
            let xs: Vec<Vec<f32>> = (0..7).map(|s| data(n, 10 + s)).collect();
            let mut out = vec![0.0f32; 7];
            dots_with(&w, 7, |k| &xs[k], &mut out);
            for k in 0..7 {
                let exact: f64 = w
                    .iter()
                    .zip(&xs[k])
                    .map(|(a, b)| (*a as f64) * (*b as f64))
                    .sum();
                assert!(
                    (out[k] as f64 - exact).abs() < 1e-4 * (n as f64 + 1.0),
                    "dot n={n} k={k}"
                );
            }
            let portable = dots_body::<4>(&w, &[&xs[0], &xs[1], &xs[2], &xs[3]]);
            let dispatched = dots::<4>(&w, &[&xs[0], &xs[1], &xs[2], &xs[3]]);
            for (p, d) in portable.iter().zip(&dispatched) {
                assert!(
                    (p - d).abs() <= 1e-5 * (n as f32 + 1.0),
                    "n={n}: {p} vs {d}"
                );
            }

            let coef: Vec<f32> = (0..7).map(|k| k as f32 * 0.5 - 1.0).collect();
            let mut sum = vec![9.0f32; n];
            weighted_sum(&mut sum, 7, &coef, |k| &xs[k], false);
            for i in 0..n {
                let exact: f64 = (0..7).map(|k| coef[k] as f64 * xs[k][i] as f64).sum();
                assert!((sum[i] as f64 - exact).abs() < 1e-5, "axpy n={n} i={i}");
            }
            let mut portable = vec![1.0f32; n];
            let mut dispatched = portable.clone();
            axpys_body::<3>(
                &mut portable,
                [0.5, -2.0, 3.0],
                &[&xs[0], &xs[1], &xs[2]],
                true,
            );
            axpys::<3>(
                &mut dispatched,
                [0.5, -2.0, 3.0],
                &[&xs[0], &xs[1], &xs[2]],
                true,
            );
            for (p, d) in portable.iter().zip(&dispatched) {
                assert!((p - d).abs() <= 1e-5, "n={n}: {p} vs {d}");
            }
            // The variants below the widest one this CPU has are tested directly.
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                let three = [&xs[0][..], &xs[1][..], &xs[2][..]];
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                let d = unsafe { x86::dots_avx2::<3>(&w, &three) };
                let p = dots_body::<3>(&w, &three);
                for (p, d) in p.iter().zip(&d) {
                    assert!((p - d).abs() <= 1e-5 * (n as f32 + 1.0), "avx2 dots n={n}");
                }
                let mut avx2 = vec![1.0f32; n];
                // SAFETY: as above.
                unsafe { x86::axpys_avx2::<3>(&mut avx2, [0.5, -2.0, 3.0], &three, true) };
                for (p, d) in portable.iter().zip(&avx2) {
                    assert!((p - d).abs() <= 1e-5, "avx2 axpys n={n}: {p} vs {d}");
                }
            }
            let mut again = sum.clone();
            weighted_sum(&mut again, 7, &coef, |k| &xs[k], true);
            for i in 0..n {
                assert!(
                    (again[i] - 2.0 * sum[i]).abs() <= 1e-5,
                    "accumulate n={n} i={i}"
                );
            }
            weighted_sum(&mut sum, 0, &coef, |k| &xs[k], false);
            assert!(sum.iter().all(|&v| v == 0.0));
        }
    }
}
