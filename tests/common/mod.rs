//! Helpers shared by the integration tests: Monte-Carlo summaries with standard errors.
#![allow(dead_code)]

/// Running mean and variance (Welford), in f64.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    m2: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Unbiased sample variance.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// Standard error of the mean.
    pub fn standard_error(&self) -> f64 {
        (self.variance() / self.n as f64).sqrt()
    }
}

/// Asserts |observed mean − expected| ≤ 4 standard errors + `floor` (the floor covers f32
/// rounding of the simulated quantities, far below the statistical tolerance).
pub fn assert_within_4_se(m: &Moments, expected: f64, floor: f64, what: &str) {
    let tol = 4.0 * m.standard_error() + floor;
    assert!(
        (m.mean - expected).abs() <= tol,
        "{what}: Monte-Carlo mean {} vs exact {} (tolerance {tol}, SE {}, n {})",
        m.mean,
        expected,
        m.standard_error(),
        m.n
    );
}

/// 4-SE check for a Bernoulli frequency with the SE from the exact probability.
pub fn assert_frequency(hits: u64, n: u64, p: f64, what: &str) {
    let f = hits as f64 / n as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (f - p).abs() <= 4.0 * se + 1e-12,
        "{what}: frequency {f} vs probability {p} (4 SE = {})",
        4.0 * se
    );
}
pub mod cli;
pub mod race;
pub mod tmux;
