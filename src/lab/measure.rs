//! Measuring an estimator: M independent estimates ĝ of a gradient, their mean and per-coordinate
//! variance, and how far the mean is from a reference gradient g — the bias, the variance and
//! their sum, the mean squared error, each with its standard error.
//!
//! With m the mean of the M estimates and Σ their covariance (one estimate's):
//! - total variance tr Σ = Σ_i Var(ĝ_i), estimated by the sum of the per-coordinate sample
//!   variances;
//! - squared bias ‖E ĝ − g‖², estimated without the noise of the two means:
//!   ‖m − ḡ‖² − tr Σ / M − tr Σ_g / N for a reference ḡ averaged over N estimates of its own
//!   (tr Σ_g = 0 for an exact g); relative bias √(squared bias) / ‖g‖;
//! - cosine(m, ḡ);
//! - mean squared error of one estimate E‖ĝ − g‖² = squared bias + tr Σ, and of an average of
//!   M′ estimates, squared bias + tr Σ / M′ (so the table can say how it falls with M′, and per
//!   main-path evaluation: an estimate costs K evaluations);
//! - signal-to-noise ratio ‖E ĝ‖² / tr Σ: both sums run over every coordinate, so it does not
//!   grow with the layer's size (the mean-per-coordinate variance in the denominator did).

use serde::{Deserialize, Serialize};

/// Running sums of estimates, coordinate by coordinate (in f64), shifted by the first estimate
/// (the sums are of ĝ − ĝ₁, so that the variance of a coordinate that never changes comes out
/// exactly 0 instead of the rounding left by subtracting two large sums).
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
}

impl Estimates {
    /// Adds one estimate (its coordinates in any fixed order).
    pub fn add<'a>(&mut self, estimate: impl IntoIterator<Item = &'a f32>) {
        let mut n = 0;
        for (i, &g) in estimate.into_iter().enumerate() {
            let g = f64::from(g);
            if i == self.sum.len() {
                self.shift.push(g);
                self.sum.push(0.0);
                self.sum_squares.push(0.0);
            }
            let d = g - self.shift[i];
            self.sum[i] += d;
            self.sum_squares[i] += d * d;
            n += 1;
        }
        debug_assert_eq!(n, self.sum.len(), "estimates of one shape");
        self.count += 1;
    }

    /// Adds every estimate of `other` (of the same shape, or either empty): the sums of two
    /// groups of estimates, as if they had been added one by one to one (up to f64 rounding).
    pub fn merge(&mut self, other: &Estimates) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
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

/// A gradient to measure estimates against: exact, or itself the mean of estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The gradient ḡ.
    pub gradient: Vec<f64>,
    /// tr Σ_g / N, the variance its own noise adds to ‖m − ḡ‖² (0 for an exact gradient).
    pub noise: f64,
}

impl Reference {
    /// An exact gradient.
    pub fn exact(gradient: Vec<f64>) -> Self {
        Reference {
            gradient,
            noise: 0.0,
        }
    }

    /// The mean of `estimates` (of an unbiased estimator).
    pub fn estimated(estimates: &Estimates) -> Self {
        Reference {
            gradient: estimates.mean(),
            noise: estimates.total_variance() / estimates.count.max(1) as f64,
        }
    }
}

/// Bias and variance of an estimator against a reference (see the [module](self)
/// documentation); standard errors by the delta method from the per-coordinate ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BiasVariance {
    /// Estimates measured, M.
    pub samples: u64,
    /// √(squared bias) / ‖g‖ (0 when the noise accounts for all of ‖m − ḡ‖²).
    pub relative_bias: f64,
    /// Its standard error.
    pub relative_bias_se: f64,
    /// cosine(m, ḡ).
    pub cosine: f64,
    /// tr Σ, the total variance of one estimate.
    pub total_variance: f64,
    /// tr Σ / dims.
    pub variance_per_coordinate: f64,
    /// Squared bias ‖E ĝ − g‖² (noise removed, at least 0).
    pub squared_bias: f64,
    /// E‖ĝ − g‖² of one estimate: squared bias + total variance.
    pub mse: f64,
    /// ‖m‖² / tr Σ (∞ for a noiseless estimator).
    pub snr: f64,
    /// ‖ḡ‖.
    pub reference_norm: f64,
}

impl BiasVariance {
    /// The measurement of `estimates` against `reference`.
    pub fn of(estimates: &Estimates, reference: &Reference) -> Self {
        let m = estimates.mean();
        let var = estimates.variances();
        let n = estimates.count.max(1) as f64;
        let total_variance: f64 = var.iter().sum();
        let g = &reference.gradient;
        let diff: Vec<f64> = m.iter().zip(g).map(|(m, g)| m - g).collect();
        let raw = diff.iter().map(|d| d * d).sum::<f64>();
        let squared_bias = (raw - total_variance / n - reference.noise).max(0.0);
        let g_norm = g.iter().map(|g| g * g).sum::<f64>().sqrt();
        let m_norm2 = m.iter().map(|m| m * m).sum::<f64>();
        let dot: f64 = m.iter().zip(g).map(|(m, g)| m * g).sum();
        let cosine = if m_norm2 > 0.0 && g_norm > 0.0 {
            dot / (m_norm2.sqrt() * g_norm)
        } else {
            0.0
        };
        // SE of ‖m − ḡ‖ (delta method): √(Σ d_i² Var(m_i)) / ‖d‖, with Var(m_i) = var_i / M
        // plus the reference's share.
        let distance = raw.sqrt();
        let ref_share = reference.noise / g.len().max(1) as f64;
        let se_distance = if distance > 0.0 {
            (diff
                .iter()
                .zip(&var)
                .map(|(d, v)| d * d * (v / n + ref_share))
                .sum::<f64>())
            .sqrt()
                / distance
        } else {
            0.0
        };
        let ratio = |x: f64| if g_norm > 0.0 { x / g_norm } else { f64::NAN };
        BiasVariance {
            samples: estimates.count,
            relative_bias: ratio(squared_bias.sqrt()),
            relative_bias_se: ratio(se_distance),
            cosine,
            total_variance,
            variance_per_coordinate: total_variance / var.len().max(1) as f64,
            squared_bias,
            mse: squared_bias + total_variance,
            snr: if total_variance > 0.0 {
                (m_norm2 - total_variance / n).max(0.0) / total_variance
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
        assert!((b.cosine - 3.0 / 10f64.sqrt()).abs() < 1e-12);
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
