//! Gamma(α, 1) samples for α ≥ 1 by the method of Marsaglia and Tsang (2000), drawing its
//! normals from a [`NormalStream`].
//!
//! With d = α − 1/3 and c = 1/√(9d): draw x ~ N(0, 1) and u ~ U[0, 1), let v = (1 + c x)³;
//! accept d·v when v > 0 and u < 1 − 0.0331 x⁴ (the squeeze, taken about 98% of the time for
//! the α of the paper's Beta noise) or ln u < x²/2 + d(1 − v + ln v); otherwise draw again.
//! rand_distr's `Gamma` runs the same method, but on f64 normals from a ziggurat drawn one at a
//! time; here the normals come in vectorised blocks, which makes the stochastic-times-smooth
//! lane's Beta noise (two Gamma draws per gate and step) several times cheaper.

use rand::{Rng as _, RngCore};

use super::gaussian::NormalStream;

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

    /// One sample, with the normals of `normals` and uniforms from its random stream.
    #[inline]
    pub fn sample<R: RngCore + ?Sized>(&self, normals: &mut NormalStream<'_, R>) -> f32 {
        let MarsagliaTsang { d, c } = *self;
        loop {
            let x = normals.sample();
            let t = 1.0 + c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u: f32 = normals.rng().random();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
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
            let mut normals = NormalStream::new(&mut rng);
            let mut ours: Vec<f64> = (0..N)
                .map(|_| f64::from(gamma.sample(&mut normals)))
                .collect();
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

    #[test]
    fn shapes_below_one_or_not_finite_are_refused() {
        for shape in [0.99f32, 0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(MarsagliaTsang::new(shape).is_none(), "{shape}");
        }
    }
}
