//! Family 2: stochastic times smooth (STS), the paper's decomposition of a stochastic gate into a
//! binary stochastic factor and a smooth one.
//!
//! p = σ(a + n) (n optional Beta noise), b ~ Bernoulli(√p), h = b·√p, so E[h] = p and
//! P(h > 0) = √p. Backprop treats b as a constant: ∂h/∂a = b · d√p/da = b · √p (1 − p) / 2.

use ndarray::{ArrayView2, Zip};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::gamma::MarsagliaTsang;
use super::gaussian::NormalStream;
use super::{GateEstimator, GateSample, SparsityForm, spec::Family};
use crate::nn::math::{sigmoid, sigmoids_into};
use crate::seed::Rng;

/// Which Bernoulli the binary factor b is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StsBernoulli {
    /// b ~ Bernoulli(√p), the paper's form (E[h] = p).
    #[default]
    SqrtP,
    /// b ~ Bernoulli(p), as in the authors' released code.
    P,
}

/// Beta noise added to the pre-activation during training, replaced by its mean at test time.
/// Given, as in the paper, by its mode and β (the paper's best: mode 0.1, β ≈ 40).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaNoise {
    /// Mode (α − 1)/(α + β − 2), in (0, 1).
    pub mode: f32,
    /// β > 1.
    pub beta: f32,
}

impl BetaNoise {
    /// α from the mode and β: α = (1 + mode·(β − 2)) / (1 − mode).
    pub fn alpha(&self) -> f32 {
        (1.0 + self.mode * (self.beta - 2.0)) / (1.0 - self.mode)
    }

    /// E[n] = α / (α + β).
    pub fn mean(&self) -> f32 {
        let a = self.alpha();
        a / (a + self.beta)
    }
}

/// The STS estimator.
#[derive(Debug, Clone)]
pub struct StochasticTimesSmooth {
    /// Distribution of the binary factor.
    pub bernoulli: StsBernoulli,
    /// Optional noise before the sigmoid.
    pub noise: Option<BetaNoise>,
    /// Gamma(α, 1) and Gamma(β, 1): n = X / (X + Y) with X, Y drawn from them is Beta(α, β).
    /// Two Gamma draws (Marsaglia–Tsang: a normal, a uniform, no logarithm most of the time)
    /// with block-drawn normals cost a fraction of one draw of `rand_distr`'s Beta sampler.
    beta: Option<(MarsagliaTsang, MarsagliaTsang)>,
}

impl StochasticTimesSmooth {
    /// STS with the given variant and noise. Invalid Beta parameters are rejected by the config
    /// validation; here they disable the noise.
    pub fn new(bernoulli: StsBernoulli, noise: Option<BetaNoise>) -> Self {
        let beta = noise.and_then(|n| {
            // α > 1 and β > 1 for every valid mode and β.
            Some((
                MarsagliaTsang::new(n.alpha())?,
                MarsagliaTsang::new(n.beta)?,
            ))
        });
        StochasticTimesSmooth {
            bernoulli,
            noise,
            beta,
        }
    }

    fn noise_mean(&self) -> f32 {
        self.noise.map_or(0.0, |n| n.mean())
    }
}

impl GateEstimator for StochasticTimesSmooth {
    fn family(&self) -> Family {
        Family::StochasticTimesSmooth
    }

    fn describe(&self) -> String {
        let b = match self.bernoulli {
            StsBernoulli::SqrtP => "b~Bern(√p)",
            StsBernoulli::P => "b~Bern(p)",
        };
        match self.noise {
            Some(n) => format!("sts ({b}, Beta noise mode {} β {})", n.mode, n.beta),
            None => format!("sts ({b})"),
        }
    }

    /// h = b√p with p = σ(a + n); aux = ∂h/∂a = b·√p(1 − p)/2.
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, out: &mut GateSample) {
        let variant = self.bernoulli;
        let mut normals = NormalStream::new(rng);
        Zip::from(&mut out.h)
            .and(&mut out.aux)
            .and(a)
            .for_each(|h, local, &x| {
                let n = self.beta.map_or(0.0, |(ga, gb)| {
                    let x = ga.sample(&mut normals);
                    x / (x + gb.sample(&mut normals))
                });
                let p = sigmoid(x + n);
                let sp = p.sqrt();
                let fire_prob = match variant {
                    StsBernoulli::SqrtP => sp,
                    StsBernoulli::P => p,
                };
                // Arithmetic, not a branch: b is a coin flip the branch predictor cannot learn,
                // and a mispredicted branch here costs more than all the arithmetic. h is +0
                // wherever b = 0 (NaN only for a NaN pre-activation, whose loss is NaN too).
                let b = f32::from(normals.rng().random::<f32>() < fire_prob);
                *h = b * sp;
                *local = b * (sp * (1.0 - p) * 0.5);
            });
    }

    /// ∂h/∂a = b·√p(1 − p)/2 is 0 wherever b = 0, i.e. wherever h = 0.
    fn needs_gate_gradient_when_off(&self) -> bool {
        false
    }

    /// √σ(a + E[n]): the value a firing gate takes, with the noise at its mean.
    fn test_gate(&self, a: f32) -> f32 {
        sigmoid(a + self.noise_mean()).sqrt()
    }

    fn sparsity(&self) -> SparsityForm {
        SparsityForm::FiringRateCrossEntropy
    }

    /// q = √p (paper) or p (released code), with p = σ(a + E[n]).
    fn firing_probability(&self, a: f32) -> Option<(f32, f32)> {
        let p = sigmoid(a + self.noise_mean());
        Some(match self.bernoulli {
            StsBernoulli::SqrtP => {
                let sp = p.sqrt();
                (sp, sp * (1.0 - p) * 0.5)
            }
            StsBernoulli::P => (p, p * (1.0 - p)),
        })
    }

    fn firing_probabilities(&self, a: &[f32], q: &mut [f32], dq: &mut [f32]) {
        // p first, vectorised, then q and dq/da from it.
        sigmoids_into(a, self.noise_mean(), q);
        for (q, dq) in q.iter_mut().zip(dq) {
            let p = *q;
            (*q, *dq) = match self.bernoulli {
                StsBernoulli::SqrtP => {
                    let sp = p.sqrt();
                    (sp, sp * (1.0 - p) * 0.5)
                }
                StsBernoulli::P => (p, p * (1.0 - p)),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;

    /// The noise drawn as X / (X + Y) from two Gamma draws has the Beta(α, β) mean and
    /// variance: sample moments within 4 standard errors (fixed seed, 200,000 draws).
    #[test]
    fn beta_noise_has_the_beta_mean_and_variance() {
        let noise = BetaNoise {
            mode: 0.1,
            beta: 40.0,
        };
        let sts = StochasticTimesSmooth::new(StsBernoulli::SqrtP, Some(noise));
        let (ga, gb) = sts.beta.expect("valid parameters");
        let (a, b) = (noise.alpha() as f64, noise.beta as f64);
        let mean = a / (a + b);
        let variance = a * b / ((a + b).powi(2) * (a + b + 1.0));
        let n = 200_000;
        let mut rng = rng_for(11, "beta-noise");
        let mut normals = NormalStream::new(&mut rng);
        let draws: Vec<f64> = (0..n)
            .map(|_| {
                let x = ga.sample(&mut normals);
                (x / (x + gb.sample(&mut normals))) as f64
            })
            .collect();
        let m = draws.iter().sum::<f64>() / n as f64;
        let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        // SE of the mean √(σ²/n); of the variance √((μ₄ − σ⁴)/n) with the sample's μ₄.
        let mu4 = draws.iter().map(|d| (d - m).powi(4)).sum::<f64>() / n as f64;
        let se_mean = (variance / n as f64).sqrt();
        let se_var = ((mu4 - v * v) / n as f64).sqrt();
        assert!((m - mean).abs() < 4.0 * se_mean, "mean {m} vs {mean}");
        assert!(
            (v - variance).abs() < 4.0 * se_var,
            "variance {v} vs {variance}"
        );
        assert!(draws.iter().all(|&d| d > 0.0 && d < 1.0));
    }
}
