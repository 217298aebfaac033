//! Statistics over seeds: the mean of a lane's results over its seeds with a confidence interval
//! from Student's t distribution, and the paired comparison of two lanes seed by seed (each seed
//! gives both lanes the same initial parameters and minibatches, so their difference cancels
//! what the seed alone decides).

use serde::{Deserialize, Serialize};

/// The mean of n values with its 95% confidence interval from Student's t distribution:
/// x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n, s the sample standard deviation. With one value: no interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanInterval {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); None with one value.
    pub std: Option<f64>,
    /// Half-width of the 95% confidence interval; None with one value.
    pub half_width: Option<f64>,
}

impl MeanInterval {
    /// The mean and interval of `values` (None when there are none, or one is not finite).
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(MeanInterval {
                n,
                mean,
                std: None,
                half_width: None,
            });
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = var.sqrt();
        Some(MeanInterval {
            n,
            mean,
            std: Some(std),
            half_width: Some(t_quantile_975(n - 1) * std / (n as f64).sqrt()),
        })
    }

    /// The interval's bounds (the mean twice with one value).
    pub fn bounds(&self) -> (f64, f64) {
        let h = self.half_width.unwrap_or(0.0);
        (self.mean - h, self.mean + h)
    }

    /// Whether the interval excludes `value` (false with one value: no interval).
    pub fn excludes(&self, value: f64) -> bool {
        self.half_width
            .is_some_and(|h| (self.mean - value).abs() > h)
    }
}

/// The paired comparison of lane A against reference lane B over the seeds both ran: the mean
/// difference A − B with its 95% t interval over the per-seed differences.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// The differences' mean and interval.
    pub difference: MeanInterval,
    /// Whether the interval excludes 0 (a difference the seeds cannot explain, at 95%).
    pub significant: bool,
}

impl PairedDifference {
    /// A − B over the seeds present in both (pairs of (seed, value)); None without a common
    /// seed.
    pub fn of(a: &[(u64, f64)], b: &[(u64, f64)]) -> Option<Self> {
        let diffs: Vec<f64> = a
            .iter()
            .filter_map(|(seed, x)| b.iter().find(|(s, _)| s == seed).map(|(_, y)| x - y))
            .collect();
        let difference = MeanInterval::of(&diffs)?;
        Some(PairedDifference {
            difference,
            significant: difference.excludes(0.0),
        })
    }
}

/// The 0.975 quantile of Student's t distribution with `df` degrees of freedom: exact table
/// values to three decimals up to 30, then the Cornish–Fisher expansion in 1/df (error below
/// 0.001 from 30 on), tending to the normal 1.960.
pub fn t_quantile_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let (z, v) = (1.959_963_985_f64, df as f64);
            let z3 = z.powi(3);
            let z5 = z.powi(5);
            z + (z3 + z) / (4.0 * v) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-computed example: 2.1, 2.5, 1.9, 2.4, 2.6 — mean 2.3, s² = 0.085 (Σ(x − x̄)² =
    /// 0.34 over 4), s = 0.29155, t₀.₉₇₅,₄ = 2.776, half-width 2.776 · 0.29155 / √5 = 0.36196.
    #[test]
    fn the_interval_of_a_hand_computed_example() {
        let m = MeanInterval::of(&[2.1, 2.5, 1.9, 2.4, 2.6]).unwrap();
        assert_eq!(m.n, 5);
        assert!((m.mean - 2.3).abs() < 1e-12);
        assert!((m.std.unwrap() - 0.085f64.sqrt()).abs() < 1e-12);
        assert!((m.half_width.unwrap() - 0.361_96).abs() < 1e-4);
        assert!(m.excludes(1.9) && !m.excludes(2.0));
        let one = MeanInterval::of(&[3.0]).unwrap();
        assert_eq!((one.half_width, one.bounds()), (None, (3.0, 3.0)));
        assert!(!one.excludes(0.0));
        assert!(MeanInterval::of(&[]).is_none() && MeanInterval::of(&[1.0, f64::NAN]).is_none());
    }

    /// Where pairing matters: two lanes whose results move together with the seed (a large
    /// common seed effect) and differ by a small constant. Unpaired, the intervals overlap and
    /// say nothing; paired, the difference is exact and clearly non-zero.
    #[test]
    fn pairing_sees_a_difference_the_unpaired_intervals_miss() {
        let seed_effect = [0.0, 2.0, -1.5, 3.0, 1.0];
        let a: Vec<(u64, f64)> = (0..5)
            .map(|s| (s, 10.0 + seed_effect[s as usize] + 0.31))
            .collect();
        let b: Vec<(u64, f64)> = (0..5)
            .map(|s| (s, 10.0 + seed_effect[s as usize] + 0.01 * s as f64))
            .collect();
        let ia = MeanInterval::of(&a.iter().map(|p| p.1).collect::<Vec<_>>()).unwrap();
        let ib = MeanInterval::of(&b.iter().map(|p| p.1).collect::<Vec<_>>()).unwrap();
        let (a_lo, a_hi) = ia.bounds();
        let (b_lo, b_hi) = ib.bounds();
        assert!(a_lo < b_hi && b_lo < a_hi, "unpaired intervals overlap");
        let p = PairedDifference::of(&a, &b).unwrap();
        assert!(p.significant, "{p:?}");
        assert!((p.difference.mean - (0.31 - 0.02)).abs() < 1e-12);
        // Seeds missing on one side are left out.
        let short = &b[..2];
        assert_eq!(PairedDifference::of(&a, short).unwrap().difference.n, 2);
    }

    #[test]
    fn t_quantiles_are_the_table_and_tend_to_the_normal() {
        assert_eq!(t_quantile_975(1), 12.706);
        assert_eq!(t_quantile_975(4), 2.776);
        // t₀.₉₇₅ with 40, 60 and 120 degrees of freedom: 2.021, 2.000, 1.980.
        assert!((t_quantile_975(40) - 2.021).abs() < 1e-3);
        assert!((t_quantile_975(60) - 2.000).abs() < 1e-3);
        assert!((t_quantile_975(120) - 1.980).abs() < 1e-3);
        assert!((t_quantile_975(1_000_000) - 1.96).abs() < 1e-3);
    }
}
