//! Logistic noise in bulk, ℓ = ln u − ln(1 − u) for u uniform on (0, 1), so that
//! P(a + ℓ > 0) = σ(a): the noise of the binary Concrete (Gumbel-sigmoid) relaxation and of
//! Gumbel-Rao's conditional draws.

use rand::RngCore;

use super::bernoulli::{CHUNK, fill_uniforms};
use super::gaussian::ln;

/// Smallest distance to 0 and to 1 of a uniform fed to [`logit`]: 2⁻²⁴, the resolution of the
/// uniforms (which can round to exactly 1), so that ln never sees 0 and |ℓ| ≤ 24 ln 2 ≈ 16.6.
const EDGE: f32 = 1.0 / 16_777_216.0;

/// logit(v) = ln v − ln(1 − v), with v kept within [2⁻²⁴, 1 − 2⁻²⁴] (branch-free, vectorises).
#[inline(always)]
pub fn logit(v: f32) -> f32 {
    let v = v.clamp(EDGE, 1.0 - EDGE);
    ln(v) - ln(1.0 - v)
}

/// Fills `out` with independent standard logistic samples: the uniforms of [`fill_uniforms`]
/// through [`logit`], [`CHUNK`] at a time (a whole chunk's worth for the last, shorter one).
pub fn fill_logistic<R: RngCore + ?Sized>(rng: &mut R, out: &mut [f32]) {
    let mut u = [0.0f32; CHUNK];
    for chunk in out.chunks_mut(CHUNK) {
        fill_uniforms(rng, &mut u);
        for (l, &u) in chunk.iter_mut().zip(&u) {
            *l = logit(u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::math::sigmoid64;
    use crate::seed::rng_for;

    /// P(ℓ ≤ x) = σ(x): the empirical distribution function at a few points within 4 standard
    /// errors of a Bernoulli frequency, over 200,000 draws; mean 0 and variance π²/3 within 4
    /// standard errors.
    #[test]
    fn the_noise_has_the_logistic_distribution() {
        let n = 200_000;
        let mut l = vec![0.0f32; n];
        fill_logistic(&mut rng_for(5, "logistic"), &mut l);
        for x in [-3.0f64, -1.0, 0.0, 0.5, 2.0] {
            let below = l.iter().filter(|&&v| f64::from(v) <= x).count() as f64 / n as f64;
            let p = sigmoid64(x);
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (below - p).abs() < 4.0 * se,
                "P(ℓ ≤ {x}) = {below}, σ = {p}"
            );
        }
        let mean = l.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        let var = std::f64::consts::PI.powi(2) / 3.0;
        assert!(mean.abs() < 4.0 * (var / n as f64).sqrt(), "mean {mean}");
        let v = l
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        // The logistic's fourth central moment is 7π⁴/15 (excess kurtosis 6/5).
        let mu4 = 7.0 * std::f64::consts::PI.powi(4) / 15.0;
        assert!(
            (v - var).abs() < 4.0 * ((mu4 - var * var) / n as f64).sqrt(),
            "variance {v}"
        );
        assert!(l.iter().all(|v| v.is_finite()));
        assert!(logit(1.0).is_finite() && logit(0.0).is_finite());
    }
}
