//! Scalar functions shared by the layers and the estimators.

/// Logistic sigmoid σ(x) = 1 / (1 + e^(−x)), evaluated without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// softplus(x) = log(1 + e^x), the expectation of a rectifier under logistic noise.
#[inline]
pub fn softplus(x: f32) -> f32 {
    if x > 20.0 { x } else { x.exp().ln_1p() }
}

/// softplus in f64, for oracles and tests.
#[inline]
pub fn softplus64(x: f64) -> f64 {
    if x > 35.0 { x } else { x.exp().ln_1p() }
}

/// σ in f64, for oracles and tests.
#[inline]
pub fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_and_symmetric() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(-200.0) >= 0.0 && sigmoid(200.0) <= 1.0);
        for &x in &[-5.0f32, -0.3, 0.7, 3.0] {
            assert!((sigmoid(x) + sigmoid(-x) - 1.0).abs() < 1e-6);
        }
        assert!((softplus(0.0) - 2f32.ln()).abs() < 1e-6);
        assert!((softplus(30.0) - 30.0).abs() < 1e-6);
    }
}
