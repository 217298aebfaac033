//! The softmax layer's share of the gated main path, visited expert by expert over the routed
//! (example, expert) entries only.
//!
//! With c_bi = H_bi h_bi the conditional layer and Wₒ (units × classes, row-major) the softmax
//! layer's weights, for every expert i and every example b routed to it (h_bi ≠ 0):
//!
//! - forward: logits_b += c_bi Wₒ[i, :];
//! - backward: ∂L/∂Wₒ[i, :] = Σ_b c_bi ∂L/∂logits_b and ∂L/∂c_bi = Wₒ[i, :] · ∂L/∂logits_b.
//!
//! Row i of Wₒ is loaded once per expert and kept in a register while its examples go by.
//! The class dimension is short (10 for the digits), so on AVX-512 one masked 16-lane register
//! holds a whole row; the portable loops compute the same sums.

/// The routed entries of a minibatch, expert by expert: entries `start[i]..start[i + 1]` belong
/// to expert i, entry k to example `example[k]`, with expert output `h[k]` = H_bi and gate
/// `gate[k]` = h_bi.
#[derive(Clone, Copy)]
pub(crate) struct RoutedEntries<'a> {
    pub start: &'a [usize],
    pub example: &'a [u32],
    pub h: &'a [f32],
    pub gate: &'a [f32],
}

impl RoutedEntries<'_> {
    fn units(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Panics unless every entry's arrays and example rows fit `rows` rows of `classes`
    /// values in `len` floats, and `wo` has `units × classes` values: the kernels then index
    /// without checks.
    fn check(&self, classes: usize, rows_len: usize, wo_len: usize) {
        let entries = self.start.last().copied().unwrap_or(0);
        assert!(
            self.start.windows(2).all(|w| w[0] <= w[1]),
            "routes out of order"
        );
        assert!(self.example.len() >= entries && self.h.len() >= entries);
        assert!(self.gate.len() >= entries);
        assert!(
            wo_len >= self.units() * classes,
            "Wₒ smaller than units × classes"
        );
        let rows = rows_len / classes.max(1);
        assert!(
            self.example[..entries].iter().all(|&b| (b as usize) < rows),
            "an entry's example lies outside the minibatch"
        );
    }
}

/// Forward: logits[b, :] += c_bi Wₒ[i, :] for every routed entry (b, i), with c_bi = H_bi h_bi
/// (`logits` row-major, batch × classes).
pub(crate) fn add_to_logits(routes: RoutedEntries, wo: &[f32], classes: usize, logits: &mut [f32]) {
    if classes == 0 {
        return;
    }
    routes.check(classes, logits.len(), wo.len());
    #[cfg(target_arch = "x86_64")]
    if crate::nn::simd::simd_level() == crate::nn::simd::SimdLevel::Avx512 {
        // SAFETY: AVX-512F is present, and `check` bounded every row the kernel touches.
        unsafe { x86::add_to_logits_avx512(routes, wo, classes, logits) };
        return;
    }
    add_to_logits_portable(routes, wo, classes, logits);
}

/// [`add_to_logits`] in plain loops.
fn add_to_logits_portable(routes: RoutedEntries, wo: &[f32], classes: usize, logits: &mut [f32]) {
    for i in 0..routes.units() {
        let wo_i = &wo[i * classes..(i + 1) * classes];
        for k in routes.start[i]..routes.start[i + 1] {
            let b = routes.example[k] as usize;
            let c = routes.h[k] * routes.gate[k];
            for (o, &w) in logits[b * classes..(b + 1) * classes].iter_mut().zip(wo_i) {
                *o += c * w;
            }
        }
    }
}

/// Backward: `gwo[i, :]` = Σ_b c_bi ∂L/∂logits[b, :] for every expert (zeros for an expert no
/// example uses) and, when `dc` is given, `dc[k]` = Wₒ[i, :] · ∂L/∂logits[b, :] for every entry
/// k = (b, i) (`dlogits` row-major, batch × classes; `gwo` row-major, units × classes).
pub(crate) fn backward(
    routes: RoutedEntries,
    wo: &[f32],
    classes: usize,
    dlogits: &[f32],
    gwo: &mut [f32],
    dc: Option<&mut [f32]>,
) {
    if classes == 0 {
        return;
    }
    routes.check(classes, dlogits.len(), wo.len());
    let entries = routes.start.last().copied().unwrap_or(0);
    assert!(
        gwo.len() >= routes.units() * classes,
        "∂Wₒ smaller than units × classes"
    );
    if let Some(dc) = &dc {
        assert!(dc.len() >= entries, "∂L/∂c shorter than the entries");
    }
    #[cfg(target_arch = "x86_64")]
    if crate::nn::simd::simd_level() == crate::nn::simd::SimdLevel::Avx512 {
        // SAFETY: AVX-512F is present, and the checks above bounded every access.
        unsafe { x86::backward_avx512(routes, wo, classes, dlogits, gwo, dc) };
        return;
    }
    backward_portable(routes, wo, classes, dlogits, gwo, dc);
}

/// [`backward`] in plain loops.
fn backward_portable(
    routes: RoutedEntries,
    wo: &[f32],
    classes: usize,
    dlogits: &[f32],
    gwo: &mut [f32],
    mut dc: Option<&mut [f32]>,
) {
    for i in 0..routes.units() {
        let wo_i = &wo[i * classes..(i + 1) * classes];
        let g = &mut gwo[i * classes..(i + 1) * classes];
        g.fill(0.0);
        for k in routes.start[i]..routes.start[i + 1] {
            let b = routes.example[k] as usize;
            let dl = &dlogits[b * classes..(b + 1) * classes];
            let c = routes.h[k] * routes.gate[k];
            for (o, &v) in g.iter_mut().zip(dl) {
                *o += c * v;
            }
            if let Some(dc) = dc.as_deref_mut() {
                dc[k] = wo_i.iter().zip(dl).map(|(w, v)| w * v).sum();
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::RoutedEntries;

    const LANES: usize = 16;

    /// Lanes of chunk `chunk` (16 classes each) that hold one of `classes` classes.
    #[inline(always)]
    fn lanes(chunk: usize, classes: usize) -> __mmask16 {
        let left = classes - chunk * LANES;
        if left >= LANES {
            0xffff
        } else {
            ((1u32 << left) - 1) as __mmask16
        }
    }

    /// [`super::add_to_logits`] with masked 16-lane registers.
    ///
    /// # Safety
    /// The CPU supports AVX-512F, and the routes passed [`RoutedEntries::check`] for `logits`
    /// and `wo`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn add_to_logits_avx512(
        routes: RoutedEntries,
        wo: &[f32],
        classes: usize,
        logits: &mut [f32],
    ) {
        let chunks = classes.div_ceil(LANES);
        for i in 0..routes.units() {
            let (s, e) = (routes.start[i], routes.start[i + 1]);
            for chunk in 0..chunks {
                let m = lanes(chunk, classes);
                let at = chunk * LANES;
                // SAFETY: masked lanes are neither read nor written; the others lie in row i of
                // Wₒ and row b of the logits, both in bounds by the caller's check.
                unsafe {
                    let w = _mm512_maskz_loadu_ps(m, wo.as_ptr().add(i * classes + at));
                    for k in s..e {
                        let b = *routes.example.get_unchecked(k) as usize;
                        let c = routes.h.get_unchecked(k) * routes.gate.get_unchecked(k);
                        let p = logits.as_mut_ptr().add(b * classes + at);
                        let v = _mm512_fmadd_ps(_mm512_set1_ps(c), w, _mm512_maskz_loadu_ps(m, p));
                        _mm512_mask_storeu_ps(p, m, v);
                    }
                }
            }
        }
    }

    /// [`super::backward`] with masked 16-lane registers.
    ///
    /// # Safety
    /// The CPU supports AVX-512F, the routes passed [`RoutedEntries::check`] for `dlogits` and
    /// `wo`, `gwo` holds units × classes values and `dc`, if given, one value per entry.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn backward_avx512(
        routes: RoutedEntries,
        wo: &[f32],
        classes: usize,
        dlogits: &[f32],
        gwo: &mut [f32],
        mut dc: Option<&mut [f32]>,
    ) {
        let chunks = classes.div_ceil(LANES);
        for i in 0..routes.units() {
            let (s, e) = (routes.start[i], routes.start[i + 1]);
            for chunk in 0..chunks {
                let m = lanes(chunk, classes);
                let at = i * classes + chunk * LANES;
                // SAFETY: as in `add_to_logits_avx512`; entry k < entries indexes `dc`.
                unsafe {
                    let w = _mm512_maskz_loadu_ps(m, wo.as_ptr().add(at));
                    let mut acc = _mm512_setzero_ps();
                    for k in s..e {
                        let b = *routes.example.get_unchecked(k) as usize;
                        let c = routes.h.get_unchecked(k) * routes.gate.get_unchecked(k);
                        let dl = _mm512_maskz_loadu_ps(
                            m,
                            dlogits.as_ptr().add(b * classes + chunk * LANES),
                        );
                        acc = _mm512_fmadd_ps(_mm512_set1_ps(c), dl, acc);
                        if let Some(dc) = dc.as_deref_mut() {
                            let part = _mm512_reduce_add_ps(_mm512_mul_ps(w, dl));
                            let slot = dc.get_unchecked_mut(k);
                            *slot = if chunk == 0 { part } else { *slot + part };
                        }
                    }
                    _mm512_mask_storeu_ps(gwo.as_mut_ptr().add(at), m, acc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes of `units` experts over `batch` examples where (b, i) is on when
    /// (b · 7 + i · 3) mod 5 = 0, with expert 2 unused.
    fn fixture(batch: usize, units: usize) -> (Vec<usize>, Vec<u32>, Vec<f32>, Vec<f32>) {
        let (mut start, mut example, mut h, mut gate) = (vec![0], vec![], vec![], vec![]);
        for i in 0..units {
            for b in 0..batch {
                if i != 2 && (b * 7 + i * 3) % 5 == 0 {
                    example.push(b as u32);
                    h.push(((b * 13 + i * 5) % 17) as f32 / 8.0 - 1.0);
                    gate.push(0.5 + ((b + i) % 3) as f32);
                }
            }
            start.push(example.len());
        }
        (start, example, h, gate)
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|j| ((j * 31 + seed * 17) % 23) as f32 / 11.0 - 1.0)
            .collect()
    }

    /// The routed forward and backward (the dispatched kernels and the portable loops) against
    /// the dense products with c zero where the gate is off, for class counts below, at and
    /// above one 16-lane register.
    #[test]
    fn routed_output_layer_matches_the_dense_products() {
        let (batch, units) = (9, 7);
        let (start, example, h, gate) = fixture(batch, units);
        let routes = RoutedEntries {
            start: &start,
            example: &example,
            h: &h,
            gate: &gate,
        };
        for classes in [1, 10, 16, 23] {
            let wo = values(units * classes, 1);
            let dlogits = values(batch * classes, 2);
            let mut c = vec![0.0f32; batch * units];
            for i in 0..units {
                for k in start[i]..start[i + 1] {
                    c[example[k] as usize * units + i] = h[k] * gate[k];
                }
            }
            let mut logits = values(batch * classes, 3);
            let mut expected = logits.clone();
            for b in 0..batch {
                for o in 0..classes {
                    for i in 0..units {
                        expected[b * classes + o] += c[b * units + i] * wo[i * classes + o];
                    }
                }
            }
            let start_logits = logits.clone();
            for portable in [false, true] {
                logits.copy_from_slice(&start_logits);
                if portable {
                    add_to_logits_portable(routes, &wo, classes, &mut logits);
                } else {
                    add_to_logits(routes, &wo, classes, &mut logits);
                }
                for (a, e) in logits.iter().zip(&expected) {
                    assert!(
                        (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                        "{classes}: {a} vs {e}"
                    );
                }

                let mut gwo = vec![f32::NAN; units * classes];
                let mut dc = vec![f32::NAN; example.len()];
                if portable {
                    backward_portable(routes, &wo, classes, &dlogits, &mut gwo, Some(&mut dc));
                } else {
                    backward(routes, &wo, classes, &dlogits, &mut gwo, Some(&mut dc));
                }
                for i in 0..units {
                    for o in 0..classes {
                        let e: f32 = (0..batch)
                            .map(|b| c[b * units + i] * dlogits[b * classes + o])
                            .sum();
                        let a = gwo[i * classes + o];
                        assert!(
                            (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                            "{classes}: {a} vs {e}"
                        );
                    }
                    for k in start[i]..start[i + 1] {
                        let b = example[k] as usize;
                        let e: f32 = (0..classes)
                            .map(|o| wo[i * classes + o] * dlogits[b * classes + o])
                            .sum();
                        assert!((dc[k] - e).abs() <= 1e-5 * (1.0 + e.abs()), "{dc:?} vs {e}");
                    }
                }
                // The unused expert's gradient is written as zeros, not left as it was.
                assert!(gwo[2 * classes..3 * classes].iter().all(|&v| v == 0.0));
            }
        }
    }
}
