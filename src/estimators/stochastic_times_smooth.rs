//! Family 2: stochastic times smooth (STS), the paper's decomposition of a stochastic gate into a
//! binary stochastic factor and a smooth one.
//!
//! p = σ(a + n) (n optional Beta noise), b ~ Bernoulli(√p), h = b·√p, so E[h] = p and
//! P(h > 0) = √p. Backprop treats b as a constant: ∂h/∂a = b · d√p/da = b · √p (1 − p) / 2.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{GateEstimator, GateGradient, GateSample, SparsityForm, spec::Family};
use crate::nn::math::{sigmoid, sigmoids_into};
use crate::sampling::bernoulli::{CHUNK, fill_uniforms};
use crate::sampling::gamma::MarsagliaTsang;
use crate::sampling::on_slices;
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
    /// Drawn in blocks ([`MarsagliaTsang::fill`]: a normal and a uniform per candidate, a
    /// logarithm for about one candidate in ten), the two Gamma draws cost a fraction of one
    /// draw of `rand_distr`'s Beta sampler.
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

impl StochasticTimesSmooth {
    /// Beta(α, β) noise n = X / (X + Y) into `out`: first every X ~ Gamma(α, 1) of the chunk,
    /// then every Y ~ Gamma(β, 1) (into `scratch`, at least as long as `out`). Zero without
    /// noise.
    fn beta_noise_into(&self, rng: &mut Rng, out: &mut [f32], scratch: &mut [f32]) {
        let Some((ga, gb)) = self.beta else {
            out.fill(0.0);
            return;
        };
        let y = &mut scratch[..out.len()];
        ga.fill(rng, out);
        gb.fill(rng, y);
        for (n, &y) in out.iter_mut().zip(y.iter()) {
            *n = *n / (*n + y);
        }
    }

    /// [`GateEstimator::sample`] on slices of one layout, gate k from `a[k]`, in chunks of
    /// [`CHUNK`] gates: the chunk's noise, p = σ(a + n), then b = 1\[u < √p\] (or 1\[u < p\]) with
    /// the chunk's uniforms u from [`fill_uniforms`], h = b√p and ∂h/∂a = b·√p(1 − p)/2. b is
    /// arithmetic, not a branch: whether a gate fires is a coin flip the branch predictor cannot
    /// learn. h is +0 wherever b = 0.
    fn sample_slices(&self, a: &[f32], rng: &mut Rng, h: &mut [f32], local: &mut [f32]) {
        let mut noise = [0.0f32; CHUNK];
        let mut p = [0.0f32; CHUNK];
        let mut uniforms = [0.0f32; CHUNK];
        let sqrt_p = self.bernoulli == StsBernoulli::SqrtP;
        for ((a, h), local) in a
            .chunks(CHUNK)
            .zip(h.chunks_mut(CHUNK))
            .zip(local.chunks_mut(CHUNK))
        {
            let n = a.len();
            let (noise, p) = (&mut noise[..n], &mut p[..n]);
            self.beta_noise_into(rng, noise, p);
            for (n, &a) in noise.iter_mut().zip(a) {
                *n += a;
            }
            sigmoids_into(noise, 0.0, p);
            fill_uniforms(rng, &mut uniforms);
            for (((&p, &u), h), local) in p.iter().zip(&uniforms).zip(h).zip(local) {
                let sp = p.sqrt();
                let fire = if sqrt_p { sp } else { p };
                let b = if u < fire { 1.0f32 } else { 0.0 };
                *h = b * sp;
                *local = b * (sp * (1.0 - p) * 0.5);
            }
        }
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
    ///
    /// When `a`, h and aux share one contiguous layout (the lanes' buffers do), the gates are
    /// visited in memory order, 256 at a time: the Beta noise of the chunk in bulk, then σ,
    /// √p and the Bernoulli draw in loops that vectorise. Otherwise the same is done on
    /// row-major copies ([`on_slices`]).
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let out = &mut draws[0];
        on_slices(a, &mut out.h, &mut out.aux, |a, h, local| {
            self.sample_slices(a, rng, h, local);
        });
    }

    /// ∂h/∂a = b·√p(1 − p)/2 is 0 wherever b = 0, i.e. wherever h = 0.
    fn reads(&self) -> GateGradient {
        GateGradient::WhereOn
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
    use ndarray::Array2;
    use rand::RngCore as _;

    use super::*;
    use crate::seed::rng_for;

    /// The paper's STS with its best Beta noise (mode 0.1, β = 40), and that noise.
    fn paper_sts() -> (StochasticTimesSmooth, BetaNoise) {
        let noise = BetaNoise {
            mode: 0.1,
            beta: 40.0,
        };
        (
            StochasticTimesSmooth::new(StsBernoulli::SqrtP, Some(noise)),
            noise,
        )
    }

    /// Buffers of different layouts go through row-major copies: the gates are those of the
    /// slice path on row-major buffers, gate for gate, and the random stream ends in the same
    /// state.
    #[test]
    fn any_layout_gives_the_gates_of_the_row_major_slices() {
        use ndarray::ShapeBuilder;
        let (sts, _) = paper_sts();
        let (batch, units) = (7, 300);
        let a = Array2::from_shape_fn((batch, units), |(b, i)| {
            ((b * 31 + i * 7) % 23) as f32 / 4.0 - 3.0
        });
        let mut rows = GateSample::zeros(batch, units);
        let mut rng = rng_for(3, "sts/layout");
        sts.sample(a.view(), &mut rng, std::slice::from_mut(&mut rows));
        let after_rows = rng.next_u64();
        let mut mixed = GateSample {
            h: Array2::zeros((batch, units).f()),
            aux: Array2::zeros((batch, units).f()),
        };
        let mut rng = rng_for(3, "sts/layout");
        sts.sample(a.view(), &mut rng, std::slice::from_mut(&mut mixed));
        assert_eq!(rng.next_u64(), after_rows);
        assert_eq!(rows.h, mixed.h);
        assert_eq!(rows.aux, mixed.aux);
        let firing = rows.h.iter().filter(|&&h| h > 0.0).count();
        assert!(firing > 0 && firing < batch * units);
    }

    /// The noise drawn as X / (X + Y) from two Gamma draws has the Beta(α, β) mean and
    /// variance: sample moments within 4 standard errors (fixed seed, 200,000 draws).
    #[test]
    fn beta_noise_has_the_beta_mean_and_variance() {
        let (sts, noise) = paper_sts();
        let (a, b) = (noise.alpha() as f64, noise.beta as f64);
        let mean = a / (a + b);
        let variance = a * b / ((a + b).powi(2) * (a + b + 1.0));
        let n = 200_000;
        let mut rng = rng_for(11, "beta-noise");
        let (mut noise, mut scratch) = (vec![0.0f32; n], vec![0.0f32; n]);
        // In chunks, as the sampler draws it.
        for (noise, scratch) in noise.chunks_mut(CHUNK).zip(scratch.chunks_mut(CHUNK)) {
            sts.beta_noise_into(&mut rng, noise, scratch);
        }
        let draws: Vec<f64> = noise.iter().map(|&d| f64::from(d)).collect();
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
