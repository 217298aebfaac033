//! Gumbel-Rao (Paulus, Maddison & Krause, "Rao-Blackwellizing the Straight-Through
//! Gumbel-Softmax Gradient Estimator", ICLR 2021), for a binary gate.
//!
//! Forward as straight-through Gumbel: b = 1[a + ℓ > 0] ~ Bernoulli(p), p = σ(a), drawn as
//! 1[u < p]. Backward: the straight-through Gumbel derivative y(1 − y)/τ, y = σ((a + ℓ)/τ),
//! averaged over M logistic noises drawn conditionally on the sampled b — ℓ = ln v − ln(1 − v)
//! with v ~ U(1 − p, 1) when b = 1 and v ~ U(0, 1 − p) when b = 0, exactly the noises that give
//! that b. Rao-Blackwellising the single draw lowers the variance of straight-through Gumbel at
//! the cost of M cheap draws and the same single evaluation of f; biased like it.

use ndarray::ArrayView2;

use super::temperature::Temperature;
use super::{GateEstimator, GateSample, spec::Family};
use crate::nn::math::{sigmoid_branch_free, sigmoids_into};
use crate::sampling::bernoulli::{CHUNK, fill_uniforms};
use crate::sampling::logistic::logit;
use crate::sampling::on_slices;
use crate::seed::Rng;

/// The Gumbel-Rao estimator with M conditional draws at temperature τ (following its
/// schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GumbelRao {
    /// Conditional noise draws M per gate.
    pub samples: usize,
    /// The schedule of τ.
    pub temperature: Temperature,
    /// τ at the current step.
    tau: f32,
}

impl GumbelRao {
    /// The estimator with `samples` draws and `temperature`, at step 0.
    pub fn new(samples: usize, temperature: Temperature) -> Self {
        GumbelRao {
            samples,
            temperature,
            tau: temperature.at(0),
        }
    }
}

impl GateEstimator for GumbelRao {
    fn family(&self) -> Family {
        Family::GumbelRao
    }

    fn describe(&self) -> String {
        format!(
            "gumbel-rao (M={}, {})",
            self.samples,
            self.temperature.describe()
        )
    }

    fn set_step(&mut self, step: u64) {
        self.tau = self.temperature.at(step);
    }

    /// h = 1[u < p]; aux = (1/M) Σ_m y_m(1 − y_m)/τ over the conditional noises. Per chunk of
    /// [`CHUNK`] gates in memory order: the uniforms of the gates, then those of the M draws.
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        let (inv_tau, m) = (1.0 / self.tau, self.samples.max(1));
        on_slices(a, &mut out.h, &mut out.aux, |a, h, aux| {
            let (mut p, mut u) = ([0.0f32; CHUNK], [0.0f32; CHUNK]);
            for ((a, h), aux) in a
                .chunks(CHUNK)
                .zip(h.chunks_mut(CHUNK))
                .zip(aux.chunks_mut(CHUNK))
            {
                let p = &mut p[..a.len()];
                sigmoids_into(a, 0.0, p);
                fill_uniforms(rng, &mut u);
                for ((h, aux), (&p, &u)) in h.iter_mut().zip(aux.iter_mut()).zip(p.iter().zip(&u)) {
                    *h = f32::from(u8::from(u < p));
                    *aux = 0.0;
                }
                for _ in 0..m {
                    fill_uniforms(rng, &mut u);
                    for (((aux, &h), &a), (&p, &u)) in
                        aux.iter_mut().zip(h.iter()).zip(a).zip(p.iter().zip(&u))
                    {
                        // v ~ U(1 − p, 1) when the gate fired, U(0, 1 − p) when not.
                        let v = if h > 0.0 {
                            1.0 - p + u * p
                        } else {
                            u * (1.0 - p)
                        };
                        let y = sigmoid_branch_free((a + logit(v)) * inv_tau);
                        *aux += y * (1.0 - y) * inv_tau;
                    }
                }
                let inv_m = 1.0 / m as f32;
                aux.iter_mut().for_each(|g| *g *= inv_m);
            }
        });
    }
}
