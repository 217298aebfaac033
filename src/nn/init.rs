//! Parameter initialisation.

use ndarray::Array2;
use rand::Rng as _;

use crate::seed::Rng;

/// Glorot (Xavier) uniform initialisation: W_ij ~ U(−r, r), r = √(6 / (fan_in + fan_out)).
pub fn glorot_uniform(fan_in: usize, fan_out: usize, rng: &mut Rng) -> Array2<f32> {
    let r = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    Array2::from_shape_simple_fn((fan_in, fan_out), || rng.random_range(-r..=r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;

    #[test]
    fn glorot_bounds_and_spread() {
        let w = glorot_uniform(300, 100, &mut rng_for(1, "init"));
        let r = (6.0f32 / 400.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= r));
        // Uniform(−r, r) has variance r²/3; 30,000 draws pin it to within a few percent.
        let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        let expect = r * r / 3.0;
        // sd of the variance estimate: sqrt((E[v⁴] − E[v²]²)/n) with E[v⁴] = r⁴/5.
        let se = ((r.powi(4) / 5.0 - expect * expect) / w.len() as f32).sqrt();
        assert!((var - expect).abs() < 4.0 * se, "{var} vs {expect} ± {se}");
    }
}
