//! Measuring an estimator: M independent estimates ĝ of a gradient, their mean and per-coordinate
//! variance, and how far the mean is from a reference gradient g — the bias, the variance and
//! their sum, the mean squared error, each with its standard error.
//!
//! With m the mean of the M estimates and Σ their covariance (one estimate's):
//! - total variance tr Σ = Σ_i Var(ĝ_i), estimated by the sum of the per-coordinate sample
//!   variances;
//! - squared bias ‖E ĝ − g‖², estimated without the noise of the two means:
//!   ‖m − ḡ‖² − tr Σ / M − tr Σ_g / N for a reference ḡ averaged over N estimates of its own
//!   (tr Σ_g = 0 for an exact g); relative bias √(squared bias) / ‖g‖, with a standard error
//!   that holds where the bias is lost in the noise ([`BiasVariance::of`]);
//! - cosine(E ĝ, g), estimated as m·ḡ over the norms with the noise of both means removed;
//! - mean squared error of one estimate E‖ĝ − g‖² = squared bias + tr Σ, and of an average of
//!   M′ estimates, squared bias + tr Σ / M′ (so the table can say how it falls with M′, and per
//!   main-path evaluation: an estimate costs K evaluations);
//! - signal-to-noise ratio ‖E ĝ‖² / tr Σ: both sums run over every coordinate, so it does not
//!   grow with the layer's size (the mean-per-coordinate variance in the denominator did).

use serde::{Deserialize, Serialize};

/// Running sums of estimates, coordinate by coordinate (in f64), shifted by the first estimate
/// (the sums are of ĝ − ĝ₁, so that the variance of a coordinate that never changes comes out
/// exactly 0 instead of the rounding left by subtracting two large sums), and the estimates
/// themselves when asked to keep them (for the jackknife standard error of the bias).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    /// Estimates added.
    pub count: u64,
    /// The first estimate, per coordinate.
    shift: Vec<f64>,
    /// Σ (ĝ − shift) per coordinate.
    sum: Vec<f64>,
    /// Σ (ĝ − shift)² per coordinate.
    sum_squares: Vec<f64>,
    /// Every estimate, when kept.
    kept: Option<Vec<Vec<f32>>>,
}

impl Estimates {
    /// Sums that also keep every estimate: [`BiasVariance::of`] then takes the bias's standard
    /// error by the jackknife over the estimates, which holds when the noise is shared across
    /// coordinates (the score-function estimators broadcast one loss to every gate of an
    /// example). For a few estimates at a time: memory grows with their number.
    pub fn keeping_samples() -> Self {
        Estimates {
            kept: Some(Vec::new()),
            ..Estimates::default()
        }
    }

    /// Adds one estimate (its coordinates in any fixed order).
    pub fn add<'a>(&mut self, estimate: impl IntoIterator<Item = &'a f32>) {
        if self.count == 0 {
            self.shift.clear();
            self.shift
                .extend(estimate.into_iter().map(|&g| f64::from(g)));
            self.sum = vec![0.0; self.shift.len()];
            self.sum_squares = vec![0.0; self.shift.len()];
        } else {
            let mut n = 0;
            let sums = self.sum.iter_mut().zip(self.sum_squares.iter_mut());
            for ((&g, a), (s1, s2)) in estimate.into_iter().zip(&self.shift).zip(sums) {
                let d = f64::from(g) - a;
                *s1 += d;
                *s2 += d * d;
                n += 1;
            }
            debug_assert_eq!(n, self.sum.len(), "estimates of one shape");
        }
        self.count += 1;
    }

    /// [`Self::add`] of a slice (kept when asked to).
    pub fn add_slice(&mut self, estimate: &[f32]) {
        self.add(estimate);
        if let Some(kept) = &mut self.kept {
            kept.push(estimate.to_vec());
        }
    }

    /// [`Self::add`] of an owned estimate, kept (when asked to) without a copy.
    pub fn add_vec(&mut self, estimate: Vec<f32>) {
        self.add(&estimate);
        if let Some(kept) = &mut self.kept {
            kept.push(estimate);
        }
    }

    /// Adds every estimate of `other` (of the same shape, or either empty): the sums of two
    /// groups of estimates, as if they had been added one by one to one (up to f64 rounding).
    /// The estimates stay kept only when both groups kept theirs.
    pub fn merge(&mut self, other: &Estimates) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            let kept = self.kept.is_some() && other.kept.is_some();
            *self = other.clone();
            if !kept {
                self.kept = None;
            }
            return;
        }
        debug_assert_eq!(self.sum.len(), other.sum.len(), "estimates of one shape");
        let n = other.count as f64;
        for i in 0..self.sum.len() {
            // other's sums about self's shift: Σ(ĝ − a) = Σ(ĝ − b) + n(b − a), and
            // Σ(ĝ − a)² = Σ(ĝ − b)² + 2(b − a)Σ(ĝ − b) + n(b − a)².
            let delta = other.shift[i] - self.shift[i];
            self.sum[i] += other.sum[i] + n * delta;
            self.sum_squares[i] +=
                other.sum_squares[i] + 2.0 * delta * other.sum[i] + n * delta * delta;
        }
        self.count += other.count;
        match (&mut self.kept, &other.kept) {
            (Some(mine), Some(theirs)) => mine.extend(theirs.iter().cloned()),
            _ => self.kept = None,
        }
    }

    /// The jackknife over the kept estimates of the squared-bias estimate against `gradient`,
    /// D = ‖m − ḡ‖² − tr Σ / M − `reference_noise`, leaving each estimate out in turn: its
    /// standard error √((M − 1)/M Σ (D₋ⱼ − D̄)²), or None when fewer than three estimates were
    /// kept. Each D₋ⱼ is one pass over the coordinates, from the sums less estimate j.
    fn jackknife_squared_bias(&self, gradient: &[f64], reference_noise: f64) -> Option<f64> {
        let kept = self.kept.as_ref().filter(|k| k.len() >= 3)?;
        let m = kept.len() as f64;
        let n = m - 1.0;
        let (per_n, per_n1) = (1.0 / n, 1.0 / (n - 1.0));
        let len = self.dims();
        let kept: Vec<&[f32]> = kept.iter().map(|g| &g[..len]).collect();
        let (shift, sum, squares, r) =
            (&self.shift, &self.sum, &self.sum_squares, &gradient[..len]);
        // One pass over the coordinates for every D₋ⱼ at once (the sums are read once).
        let (mut raw, mut variance) = (vec![0.0f64; kept.len()], vec![0.0f64; kept.len()]);
        for i in 0..len {
            let (a, s1, s2, r) = (shift[i], sum[i], squares[i], r[i]);
            for ((g, raw), variance) in kept.iter().zip(&mut raw).zip(&mut variance) {
                let d = f64::from(g[i]) - a;
                let (s, s2) = (s1 - d, s2 - d * d);
                let off = a + s * per_n - r;
                *raw += off * off;
                *variance += ((s2 - s * s * per_n) * per_n1).max(0.0);
            }
        }
        let values: Vec<f64> = raw
            .iter()
            .zip(&variance)
            .map(|(raw, variance)| raw - variance * per_n - reference_noise)
            .collect();
        let mean = values.iter().sum::<f64>() / m;
        Some(((m - 1.0) / m * values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt())
    }

    /// Coordinates per estimate.
    pub fn dims(&self) -> usize {
        self.sum.len()
    }

    /// The mean estimate.
    pub fn mean(&self) -> Vec<f64> {
        let n = self.count.max(1) as f64;
        self.shift
            .iter()
            .zip(&self.sum)
            .map(|(a, s)| a + s / n)
            .collect()
    }

    /// The per-coordinate sample variance of one estimate (0 with fewer than two).
    pub fn variances(&self) -> Vec<f64> {
        if self.count < 2 {
            return vec![0.0; self.sum.len()];
        }
        let n = self.count as f64;
        self.sum
            .iter()
            .zip(&self.sum_squares)
            .map(|(s1, s2)| ((s2 - s1 * s1 / n) / (n - 1.0)).max(0.0))
            .collect()
    }

    /// tr Σ, the total variance of one estimate.
    pub fn total_variance(&self) -> f64 {
        self.variances().iter().sum()
    }
}

/// The jackknife standard error of the mean per-coordinate variance V = (1/D) Σᵢ s²ᵢ of K
/// estimates of D coordinates, stored one after the other in `samples` (K·D values); NaN with
/// fewer than three. With dₖᵢ = gₖᵢ − g₁ᵢ (shifted by the first estimate, as [`Estimates`]),
/// Sᵢ = Σₖ dₖᵢ, aⱼ = Σᵢ d²ⱼᵢ and bⱼ = Σᵢ Sᵢ dⱼᵢ, leaving estimate j out gives
/// V₋ⱼ = [Σₖ aₖ − aⱼ − (Σᵢ S²ᵢ − 2bⱼ + aⱼ)/(K − 1)] / ((K − 2) D), and the standard error is
/// √((K − 1)/K Σⱼ (V₋ⱼ − V̄)²): three passes over the estimates, whatever the noise's structure.
pub fn mean_variance_se(samples: &[f32], k: usize) -> f64 {
    if k < 3 || samples.is_empty() || !samples.len().is_multiple_of(k) {
        return f64::NAN;
    }
    let d = samples.len() / k;
    let first = &samples[..d];
    let shifted = |j: usize| {
        samples[j * d..(j + 1) * d]
            .iter()
            .zip(first)
            .map(|(&g, &a)| f64::from(g) - f64::from(a))
    };
    let mut sum = vec![0.0f64; d];
    for j in 1..k {
        for (s, v) in sum.iter_mut().zip(shifted(j)) {
            *s += v;
        }
    }
    let (a, b): (Vec<f64>, Vec<f64>) = (0..k)
        .map(|j| {
            shifted(j)
                .zip(&sum)
                .fold((0.0, 0.0), |(a, b), (v, s)| (a + v * v, b + s * v))
        })
        .unzip();
    let total_a: f64 = a.iter().sum();
    let total_s2: f64 = sum.iter().map(|s| s * s).sum();
    let kf = k as f64;
    let left_out: Vec<f64> = a
        .iter()
        .zip(&b)
        .map(|(a, b)| {
            (total_a - a - (total_s2 - 2.0 * b + a) / (kf - 1.0)) / ((kf - 2.0) * d as f64)
        })
        .collect();
    let mean = left_out.iter().sum::<f64>() / kf;
    ((kf - 1.0) / kf * left_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt()
}

/// The 95% interval of a variance `v` measured with standard error `se`, symmetric on the log
/// scale (a variance is positive and its error roughly proportional to it):
/// v·exp(±1.96·se/v). None when either is not a positive finite number (a noiseless lane, or a
/// session saved before the standard error was measured).
pub fn variance_interval(v: f64, se: f64) -> Option<(f64, f64)> {
    let ok = |x: f64| x.is_finite() && x > 0.0;
    if !ok(v) || !ok(se) {
        return None;
    }
    let spread = (1.96 * se / v).exp();
    Some((v / spread, v * spread))
}

/// A gradient to measure estimates against: exact, or itself the mean of estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The gradient ḡ.
    pub gradient: Vec<f64>,
    /// Per coordinate, the variance of ḡ_i (Var(ĝ_i)/N for a mean of N estimates; empty for an
    /// exact gradient).
    pub noise: Vec<f64>,
}

impl Reference {
    /// An exact gradient.
    pub fn exact(gradient: Vec<f64>) -> Self {
        Reference {
            gradient,
            noise: Vec::new(),
        }
    }

    /// The mean of `estimates` (of an unbiased estimator).
    pub fn estimated(estimates: &Estimates) -> Self {
        let n = estimates.count.max(1) as f64;
        Reference {
            gradient: estimates.mean(),
            noise: estimates.variances().iter().map(|v| v / n).collect(),
        }
    }

    /// tr Σ_ḡ, the variance the reference's own noise adds to ‖m − ḡ‖².
    pub fn total_noise(&self) -> f64 {
        self.noise.iter().sum()
    }
}

/// Bias and variance of an estimator against a reference (see the [module](self)
/// documentation), with standard errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BiasVariance {
    /// Estimates measured, M.
    pub samples: u64,
    /// √(squared bias) / ‖g‖ (0 when the noise accounts for all of ‖m − ḡ‖²).
    pub relative_bias: f64,
    /// Its standard error.
    pub relative_bias_se: f64,
    /// cosine(E ĝ, g) (see the [module](self) documentation).
    pub cosine: f64,
    /// tr Σ, the total variance of one estimate.
    pub total_variance: f64,
    /// tr Σ / dims.
    pub variance_per_coordinate: f64,
    /// Squared bias ‖E ĝ − g‖² (noise removed, at least 0).
    pub squared_bias: f64,
    /// E‖ĝ − g‖² of one estimate: squared bias + total variance.
    pub mse: f64,
    /// ‖E ĝ‖², estimated as ‖m‖² − tr Σ / M (at least 0).
    pub signal: f64,
    /// ‖E ĝ‖² / tr Σ (∞ for a noiseless estimator).
    pub snr: f64,
    /// ‖ḡ‖.
    pub reference_norm: f64,
}

impl BiasVariance {
    /// The measurement of `estimates` against `reference`.
    ///
    /// With d = m − ḡ and s_i = Var(m_i) + Var(ḡ_i) (the noise of coordinate i of d), the squared
    /// bias is estimated by D = ‖d‖² − Σ s_i. Its standard error: by the jackknife over the
    /// estimates when they were kept ([`Estimates::keeping_samples`]), with the reference's
    /// share √(4 Σ d_i² Var(ḡ_i) + 2 Σ Var(ḡ_i)²) added in quadrature; otherwise
    /// √(4 Σ d_i² s_i + 2 Σ s_i²), which assumes the coordinates' noises independent and the
    /// variances well estimated (many estimates). The relative bias √D / ‖g‖ takes the standard
    /// error SE(D) / (2 √max(D, SE(D)) ‖g‖), which stays finite where the bias is lost in the
    /// noise.
    pub fn of(estimates: &Estimates, reference: &Reference) -> Self {
        // D = ‖m − ḡ‖² − tr Σ / M − tr Σ_ḡ.
        let jackknife_se =
            estimates.jackknife_squared_bias(&reference.gradient, reference.total_noise());
        let m = estimates.mean();
        let var = estimates.variances();
        let n = estimates.count.max(1) as f64;
        let total_variance: f64 = var.iter().sum();
        let g = &reference.gradient;
        let noise = |i: usize| var[i] / n + reference.noise.get(i).copied().unwrap_or(0.0);
        let (mut raw, mut spread, mut d_var, mut reference_var) = (0.0f64, 0.0, 0.0, 0.0);
        for (i, (m, g)) in m.iter().zip(g).enumerate() {
            let (d, s) = (m - g, noise(i));
            let r = reference.noise.get(i).copied().unwrap_or(0.0);
            raw += d * d;
            spread += s;
            d_var += 4.0 * d * d * s + 2.0 * s * s;
            reference_var += 4.0 * d * d * r + 2.0 * r * r;
        }
        let squared_bias = (raw - spread).max(0.0);
        // The jackknife sees only the estimates' noise; the reference's, independent of it,
        // adds its own share.
        let d_se = jackknife_se.map_or(d_var.sqrt(), |j| (j * j + reference_var).sqrt());
        let g_norm = g.iter().map(|g| g * g).sum::<f64>().sqrt();
        let m_norm2 = m.iter().map(|m| m * m).sum::<f64>();
        // m·ḡ estimates E ĝ·g without bias (independent estimates); the norms are inflated
        // by the noise of the means, removed where it leaves them positive.
        let dot: f64 = m.iter().zip(g).map(|(m, g)| m * g).sum();
        let clean = |raw: f64, noise: f64| if raw > noise { raw - noise } else { raw };
        let (m_clean, g_clean) = (
            clean(m_norm2, total_variance / n),
            clean(g_norm * g_norm, reference.total_noise()),
        );
        let cosine = if m_clean > 0.0 && g_clean > 0.0 {
            (dot / (m_clean.sqrt() * g_clean.sqrt())).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let ratio = |x: f64| if g_norm > 0.0 { x / g_norm } else { f64::NAN };
        let signal = (m_norm2 - total_variance / n).max(0.0);
        BiasVariance {
            samples: estimates.count,
            relative_bias: ratio(squared_bias.sqrt()),
            relative_bias_se: ratio(if d_se > 0.0 {
                d_se / (2.0 * squared_bias.max(d_se).sqrt())
            } else {
                0.0
            }),
            cosine,
            total_variance,
            variance_per_coordinate: total_variance / var.len().max(1) as f64,
            squared_bias,
            mse: squared_bias + total_variance,
            signal,
            snr: if total_variance > 0.0 {
                signal / total_variance
            } else {
                f64::INFINITY
            },
            reference_norm: g_norm,
        }
    }

    /// E‖ḡ_M − g‖² for the mean ḡ_M of `m` estimates: squared bias + tr Σ / m.
    pub fn mse_of_mean(&self, m: f64) -> f64 {
        self.squared_bias + self.total_variance / m.max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;
    use rand::Rng as _;

    #[test]
    fn the_interval_is_symmetric_on_the_log_scale() {
        let (lo, hi) = variance_interval(2.0, 0.5).unwrap();
        assert!((lo * hi - 4.0).abs() < 1e-12);
        assert!((hi / 2.0 - (1.96f64 * 0.25).exp()).abs() < 1e-12);
        assert_eq!(variance_interval(0.0, 0.1), None);
        assert_eq!(variance_interval(1.0, 0.0), None);
        assert_eq!(variance_interval(1.0, f64::NAN), None);
    }

    /// The closed form of the leave-one-out variances equals computing them one by one.
    #[test]
    fn the_mean_variance_jackknife_matches_leaving_each_estimate_out() {
        let (k, d) = (6, 37);
        let mut rng = rng_for(4, "mean-variance-se");
        let samples: Vec<f32> = (0..k * d)
            .map(|i| 3.0 + (i % d) as f32 + rng.random_range(-1.0f32..1.0))
            .collect();
        let mean_variance = |rows: &[usize]| {
            let n = rows.len() as f64;
            (0..d)
                .map(|i| {
                    let v: Vec<f64> = rows
                        .iter()
                        .map(|&j| f64::from(samples[j * d + i]))
                        .collect();
                    let m = v.iter().sum::<f64>() / n;
                    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
                })
                .sum::<f64>()
                / d as f64
        };
        let left_out: Vec<f64> = (0..k)
            .map(|j| mean_variance(&(0..k).filter(|&r| r != j).collect::<Vec<_>>()))
            .collect();
        let mean = left_out.iter().sum::<f64>() / k as f64;
        let kf = k as f64;
        let by_hand =
            ((kf - 1.0) / kf * left_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt();
        let se = mean_variance_se(&samples, k);
        assert!((se - by_hand).abs() <= 1e-9 * by_hand, "{se} vs {by_hand}");
        assert!(mean_variance_se(&samples[..2 * d], 2).is_nan());
    }

    /// Independent N(0, 1) coordinates: the jackknife variance of the mean per-coordinate
    /// variance V has expectation 2/((K − 2) D) exactly — (K − 1)/(K − 2) times the true
    /// Var(V) = 2/((K − 1) D), conservative as the Efron–Stein inequality says. The mean over
    /// 400 repetitions must match it within 4 of its standard errors, and lie above the truth.
    #[test]
    fn the_mean_variance_jackknife_has_its_expected_size() {
        let (k, d, reps) = (8usize, 50usize, 400usize);
        let mut rng = rng_for(5, "mean-variance-se");
        let normal = rand_distr::StandardNormal;
        let v: Vec<f64> = (0..reps)
            .map(|_| {
                let samples: Vec<f32> = (0..k * d).map(|_| rng.sample(normal)).collect();
                mean_variance_se(&samples, k).powi(2)
            })
            .collect();
        let n = reps as f64;
        let mean = v.iter().sum::<f64>() / n;
        let se = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        let expected = 2.0 / ((k as f64 - 2.0) * d as f64);
        let truth = 2.0 / ((k as f64 - 1.0) * d as f64);
        assert!(
            (mean - expected).abs() <= 4.0 * se,
            "mean jackknife variance {mean} vs {expected} (SE {se})"
        );
        assert!(mean > truth, "{mean} vs the true variance {truth}");
    }

    /// Noise shared by every coordinate (as a score-function estimator's: one loss per
    /// example): over 400 repetitions of 8 estimates, the jackknife's standard error of the
    /// squared-bias estimate D is conservative — by the Efron–Stein inequality it overestimates
    /// the variance on average; here at least 0.9 and at most twice the observed spread (the
    /// spread itself known to about 4%) — while the formula for independent coordinates falls
    /// far below it.
    #[test]
    fn the_jackknife_sees_noise_shared_across_coordinates() {
        let (dims, m, reps) = (200, 8, 400);
        let reference = Reference::exact(vec![0.0; dims]);
        let mut rng = rng_for(3, "jackknife");
        let (mut ds, mut jack, mut independent) = (Vec::new(), 0.0, 0.0);
        for _ in 0..reps {
            let (mut kept, mut plain) = (Estimates::keeping_samples(), Estimates::default());
            for _ in 0..m {
                let shared: f32 = rng.random_range(-1.0..1.0);
                let g: Vec<f32> = (0..dims)
                    .map(|_| 0.1 + shared + 0.05 * rng.random_range(-1.0f32..1.0))
                    .collect();
                kept.add_slice(&g);
                plain.add_slice(&g);
            }
            let b = BiasVariance::of(&kept, &reference);
            // The unclipped D (the bias is clipped at 0, which would narrow the spread).
            let d =
                kept.mean().iter().map(|m| m * m).sum::<f64>() - kept.total_variance() / m as f64;
            ds.push(d);
            assert!(b.squared_bias >= 0.0);
            jack += kept.jackknife_squared_bias(&[0.0; 200], 0.0).unwrap();
            let v = plain.variances();
            let mean = plain.mean();
            independent += mean
                .iter()
                .zip(&v)
                .map(|(d, v)| 4.0 * d * d * v / m as f64 + 2.0 * (v / m as f64).powi(2))
                .sum::<f64>()
                .sqrt();
        }
        let n = reps as f64;
        let mean_d = ds.iter().sum::<f64>() / n;
        let spread = (ds.iter().map(|d| (d - mean_d).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let (jack, independent) = (jack / n, independent / n);
        let ratio = jack / spread;
        assert!(
            (0.9..2.0).contains(&ratio),
            "jackknife {jack} vs spread {spread}"
        );
        assert!(
            independent < 0.3 * spread,
            "independent formula {independent} vs {spread}"
        );
    }

    /// A noiseless estimator against a reference that is itself the mean of N = 4 estimates
    /// with Gaussian noise of variance σ² per coordinate: all the noise of the squared-bias
    /// estimate D is the reference's, which the jackknife over the (identical) estimates cannot
    /// see. With v = σ²/N and b the offset per coordinate, D = Σ (b − e_i)² − Σ v̂_i has
    /// variance Σ (4b²v + 2v² + 2v²/(N − 1)) (e_i ~ N(0, v), v̂_i a sample variance over N);
    /// the reported √(4 Σ d_i² v̂_i + 2 Σ v̂_i²) plugs in d_i² and v̂_i, whose expectation is
    /// Σ (4(b² + v)v + 2v²(1 + 2/(N − 1))): conservative by a known factor. Over 400
    /// repetitions the mean reported standard error over the observed spread of D matches
    /// that factor's square root within 4 standard errors of the spread (each 1/√(2·399)
    /// relative).
    #[test]
    fn the_reference_noise_counts_in_the_standard_error_of_the_bias() {
        let (dims, reps, n_ref, sigma, offset) = (50, 400, 4, 0.3f64, 0.2f64);
        let mut rng = rng_for(11, "reference noise");
        let truth: Vec<f32> = (0..dims).map(|i| (i as f32 * 0.37).sin()).collect();
        let lane: Vec<f32> = truth.iter().map(|g| g + offset as f32).collect();
        let (mut ds, mut reported) = (Vec::new(), 0.0);
        let mut noise = vec![0.0f32; dims];
        for _ in 0..reps {
            let mut reference = Estimates::default();
            for _ in 0..n_ref {
                crate::sampling::gaussian::fill_standard_normal(&mut rng, &mut noise);
                let g: Vec<f32> = truth
                    .iter()
                    .zip(&noise)
                    .map(|(g, z)| g + sigma as f32 * z)
                    .collect();
                reference.add_slice(&g);
            }
            let reference = Reference::estimated(&reference);
            let mut kept = Estimates::keeping_samples();
            for _ in 0..8 {
                kept.add_slice(&lane);
            }
            let b = BiasVariance::of(&kept, &reference);
            let d = kept
                .mean()
                .iter()
                .zip(&reference.gradient)
                .map(|(m, g)| (m - g).powi(2))
                .sum::<f64>()
                - reference.total_noise();
            ds.push(d);
            // Back from the relative bias's standard error to D's (the bias stands out here).
            reported += b.relative_bias_se * 2.0 * b.squared_bias.sqrt() * b.reference_norm;
        }
        let n = reps as f64;
        let mean = ds.iter().sum::<f64>() / n;
        let spread = (ds.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let ratio = reported / n / spread;
        let (v, b2, k) = (
            sigma * sigma / n_ref as f64,
            offset * offset,
            n_ref as f64 - 1.0,
        );
        let truth_var = 4.0 * b2 * v + 2.0 * v * v + 2.0 * v * v / k;
        let plugged = 4.0 * (b2 + v) * v + 2.0 * v * v * (1.0 + 2.0 / k);
        let expected = (plugged / truth_var).sqrt();
        let tolerance = 4.0 * expected / (2.0 * (n - 1.0)).sqrt();
        assert!(
            (ratio - expected).abs() < tolerance,
            "reported/observed {ratio}, expected {expected} ± {tolerance}"
        );
    }

    /// Estimates with a known mean and spread: the bias, variance and SNR come out as built.
    #[test]
    fn a_known_spread_and_offset_are_measured() {
        let mut e = Estimates::default();
        // Coordinate 0: 2, 3, 4 (mean 3, sample variance 1); coordinate 1: constant 1.
        for v in [2.0f32, 3.0, 4.0] {
            e.add(&[v, 1.0]);
        }
        assert_eq!(e.mean(), vec![3.0, 1.0]);
        assert_eq!(e.variances(), vec![1.0, 0.0]);
        let exact = Reference::exact(vec![3.0, 0.0]);
        let b = BiasVariance::of(&e, &exact);
        // ‖m − g‖² = 1, minus tr Σ / M = 1/3.
        assert!((b.squared_bias - 2.0 / 3.0).abs() < 1e-12);
        assert!((b.relative_bias - (2.0f64 / 3.0).sqrt() / 3.0).abs() < 1e-12);
        assert!((b.total_variance - 1.0).abs() < 1e-12);
        assert!((b.mse - 5.0 / 3.0).abs() < 1e-12);
        assert!((b.mse_of_mean(10.0) - (2.0 / 3.0 + 0.1)).abs() < 1e-12);
        // m·g = 9 over ‖m‖ = √(10 − 1/3) (noise removed) and ‖g‖ = 3.
        assert!((b.cosine - 3.0 / (10.0f64 - 1.0 / 3.0).sqrt()).abs() < 1e-12);
        // ‖m‖² − tr Σ / M over tr Σ.
        assert!((b.snr - (10.0 - 1.0 / 3.0)).abs() < 1e-12);
        // Against itself, estimated: no bias once both noises are removed.
        let own = Reference::estimated(&e);
        assert_eq!(BiasVariance::of(&e, &own).squared_bias, 0.0);
    }

    /// Merged groups give the sums of one group; a coordinate that never changes has variance
    /// exactly 0, however large its value.
    #[test]
    fn merged_groups_and_constant_coordinates() {
        let values = [0.3f32, -1.7, 2.25, 0.0, 5.5, -0.125, 1.0];
        let (mut all, mut a, mut b) = (
            Estimates::default(),
            Estimates::default(),
            Estimates::default(),
        );
        for (k, &v) in values.iter().enumerate() {
            let estimate = [v, 1234.567];
            all.add(&estimate);
            if k < 3 { &mut a } else { &mut b }.add(&estimate);
        }
        a.merge(&b);
        assert_eq!(a.count, all.count);
        for (x, y) in a.mean().iter().zip(all.mean()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        for (x, y) in a.variances().iter().zip(all.variances()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        assert_eq!(a.variances()[1], 0.0);
        assert_eq!(all.variances()[1], 0.0);
        let mut empty = Estimates::default();
        empty.merge(&all);
        assert_eq!(empty, all);
    }
}
