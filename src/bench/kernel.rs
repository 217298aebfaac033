//! Speed of the dense products: the largest layer's forward product and weight gradient as the
//! engine calls them (the layer's own buffers, layouts and bias), against plain products of the
//! same shapes on fresh row-major arrays and against a large square product, all with the same
//! library in the same run; and the core's peak rate of fused multiply-adds, which bounds them
//! all.

use ndarray::{Array1, Array2, ShapeBuilder};
use rand::Rng as _;
use serde::Serialize;

use super::timing::{Budget, interleaved};
use crate::nn::{Dense, DenseGrad, matmul_into};
use crate::seed::rng_for;

/// GFLOP/s of the dense products.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelResult {
    /// Which layer is the largest ("experts", "gates" or "gater hidden").
    pub layer: String,
    /// Its products, e.g. "32×784·784×2000".
    pub shape: String,
    /// Forward product + weight gradient as the layer computes them.
    pub layer_gflops: f64,
    /// The same two products on plain row-major arrays.
    pub plain_gflops: f64,
    /// Side of the square product.
    pub square: usize,
    /// A square product of that side.
    pub square_gflops: f64,
    /// Fused multiply-adds on registers alone ([`fma_peak`]); None on CPUs without them.
    pub peak_gflops: Option<f64>,
}

/// The core's peak GFLOP/s: independent chains of vector fused multiply-adds on registers
/// (2 FLOPs per lane each), with no memory access, enough chains to keep every FMA unit busy
/// (24 of 16 floats on AVX-512, 12 of 8 floats on AVX2 + FMA). None on other CPUs.
pub fn fma_peak(budget: Budget) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::nn::simd::{SimdLevel, simd_level};
        const ITERATIONS: usize = 100_000;
        // The kernel with its number of chains and of lanes per chain.
        let (kernel, chains, lanes): (unsafe fn(usize) -> f32, usize, usize) = match simd_level() {
            SimdLevel::Avx512 => (x86::chains_avx512, 24, 16),
            SimdLevel::Avx2 => (x86::chains_avx2, 12, 8),
            SimdLevel::Portable => return None,
        };
        let mut run = || {
            // SAFETY: the CPU supports the instruction set of the kernel chosen above.
            let sum = unsafe { kernel(std::hint::black_box(ITERATIONS)) };
            std::hint::black_box(sum);
        };
        let [seconds] = interleaved(budget, &mut [&mut run]);
        Some((2 * ITERATIONS * chains * lanes) as f64 / seconds / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = budget;
        None
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// `n` rounds of 24 independent 16-float chains v ← v·a + b; returns a sum of the chains.
    #[target_feature(enable = "avx512f")]
    pub(super) fn chains_avx512(n: usize) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999), _mm512_set1_ps(0.001));
        let mut v = [_mm512_setzero_ps(); 24];
        for _ in 0..n {
            for x in v.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        _mm512_reduce_add_ps(
            v.into_iter()
                .fold(_mm512_setzero_ps(), |s, x| _mm512_add_ps(s, x)),
        )
    }

    /// `n` rounds of 12 independent 8-float chains v ← v·a + b; returns a sum of the chains.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn chains_avx2(n: usize) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999), _mm256_set1_ps(0.001));
        let mut v = [_mm256_setzero_ps(); 12];
        for _ in 0..n {
            for x in v.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let s = v
            .into_iter()
            .fold(_mm256_setzero_ps(), |s, x| _mm256_add_ps(s, x));
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), s) };
        lanes.iter().sum()
    }

    /// [`chains_avx512`] on a CPU known to support it (tests).
    #[cfg(test)]
    pub(super) fn chains_avx512_checked(n: usize) -> f32 {
        assert!(is_x86_feature_detected!("avx512f"));
        // SAFETY: checked above.
        unsafe { chains_avx512(n) }
    }

    /// [`chains_avx2`] on a CPU known to support it (tests).
    #[cfg(test)]
    pub(super) fn chains_avx2_checked(n: usize) -> f32 {
        assert!(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"));
        // SAFETY: checked above.
        unsafe { chains_avx2(n) }
    }
}

fn random(rows: usize, cols: usize, f: bool, seed: &str) -> Array2<f32> {
    let mut rng = rng_for(7, seed);
    let mut a = Array2::zeros((rows, cols).set_f(f));
    a.mapv_inplace(|_: f32| rng.random_range(-1.0f32..1.0));
    a
}

/// Measures the largest of the network's three weight matrices (inputs × experts, gater hidden ×
/// experts, inputs × gater hidden) at batch `batch`, and a `square`-sided product.
pub fn measure(
    batch: usize,
    inputs: usize,
    hidden: usize,
    experts: usize,
    budget: Budget,
    square: usize,
) -> KernelResult {
    let (name, d, n) = [
        ("experts", inputs, experts),
        ("gates", hidden, experts),
        ("gater hidden", inputs, hidden),
    ]
    .into_iter()
    .max_by_key(|&(_, d, n)| d * n)
    .expect("three layers");
    let flops = 4.0 * (batch * d * n) as f64;

    // The layer as the engine holds it: column-major weights and batch × units buffers.
    let mut layer = Dense {
        w: random(d, n, true, "bench/kernel/w"),
        b: Array1::zeros(n),
    };
    layer.make_column_major();
    let mut grad = DenseGrad::zeros_like(&layer);
    let x = random(batch, d, false, "bench/kernel/x");
    let mut y = Array2::zeros((batch, n).f());
    let dy = random(batch, n, true, "bench/kernel/dy");
    let mut run_layer = || {
        layer.forward_into(x.view(), &mut y);
        layer.param_grad_into(x.view(), dy.view(), 1.0, &mut grad);
    };

    // Plain row-major operands of the same two products.
    let pw = random(d, n, false, "bench/kernel/pw");
    let px = random(batch, d, false, "bench/kernel/px");
    let pxt = random(d, batch, false, "bench/kernel/pxt");
    let pdy = random(batch, n, false, "bench/kernel/pdy");
    let mut py = Array2::<f32>::zeros((batch, n));
    let mut pg = Array2::<f32>::zeros((d, n));
    let mut run_plain = || {
        matmul_into(px.view(), pw.view(), py.view_mut(), 1.0, false);
        matmul_into(pxt.view(), pdy.view(), pg.view_mut(), 1.0, false);
    };
    let [layer_s, plain_s] = interleaved(budget, &mut [&mut run_layer, &mut run_plain]);

    let a = random(square, square, false, "bench/kernel/a");
    let b = random(square, square, false, "bench/kernel/b");
    let mut c = Array2::<f32>::zeros((square, square));
    let mut run_square = || matmul_into(a.view(), b.view(), c.view_mut(), 1.0, false);
    let square_budget = Budget {
        rounds: budget.rounds,
        reps: 1,
    };
    let [square_s] = interleaved(square_budget, &mut [&mut run_square]);
    KernelResult {
        layer: name.to_string(),
        shape: format!("{batch}×{d}·{d}×{n}"),
        layer_gflops: flops / layer_s / 1e9,
        plain_gflops: flops / plain_s / 1e9,
        square,
        square_gflops: 2.0 * (square as f64).powi(3) / square_s / 1e9,
        peak_gflops: fma_peak(budget),
    }
}

#[cfg(test)]
mod tests {
    /// The chains do the multiply-adds the peak counts: after n rounds each lane holds
    /// 1 − 0.999ⁿ (from v ← 0.999·v + 0.001, v₀ = 0), summed over every chain and lane.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_fma_chains_compute_what_the_peak_counts() {
        use crate::nn::simd::{SimdLevel, simd_level};
        let lane = 1.0 - 0.999f64.powi(50);
        let level = simd_level();
        if level == SimdLevel::Avx512 {
            let sum = super::x86::chains_avx512_checked(50);
            assert!((sum as f64 - 24.0 * 16.0 * lane).abs() < 1e-3, "{sum}");
        }
        if level != SimdLevel::Portable {
            let sum = super::x86::chains_avx2_checked(50);
            assert!((sum as f64 - 12.0 * 8.0 * lane).abs() < 1e-3, "{sum}");
        }
        let budget = super::Budget { rounds: 1, reps: 1 };
        match super::fma_peak(budget) {
            Some(peak) => assert!(peak.is_finite() && peak > 0.0),
            None => assert_eq!(level, SimdLevel::Portable),
        }
    }
}
