//! ARM, the augment-REINFORCE-merge estimator (Yin & Zhou, "ARM: Augment-REINFORCE-Merge
//! Gradient for Stochastic Binary Networks", ICLR 2019), in its antithetic form.
//!
//! One uniform u per gate, p = σ(a), two gate vectors from it: b = 1[u < p] (draw 0, which trains
//! the main path) and its antithetic copy b̃ = 1[1 − u < p] = 1[u > 1 − p] (draw 1), each
//! marginally Bernoulli(p). f is evaluated for both, and
//!
//! ĝ_bi = (f(b̃_b) − f(b_b)) (u_bi − ½) / B,
//!
//! unbiased for ∂E[f]/∂a: for one gate, E[(f(b̃) − f(b))(u − ½)] = (f(1) − f(0)) p(1 − p).
//! Nothing is back-propagated through the gates.

use ndarray::{Array2, ArrayView2, Axis, Zip};

use super::{Evaluations, GateEstimator, GateGradient, GateSample, spec::Family};
use crate::nn::math::{sigmoid_branch_free, sigmoids_into};
use crate::sampling::bernoulli::{CHUNK, fill_uniforms};
use crate::sampling::on_slices;
use crate::seed::Rng;

/// The ARM estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Arm;

/// The antithetic pair of ARM and DisARM for pre-activations `a`: `first.h` = b = 1[u < p] and
/// `first.aux` = u; `second.h` = b̃ = 1[1 − u < p] and `second.aux` = σ(|a|) = max(p, 1 − p).
/// The uniforms are drawn [`CHUNK`] at a time over the gates in memory order, as the other
/// binary gates are.
pub(crate) fn antithetic_pair(
    a: ArrayView2<f32>,
    rng: &mut Rng,
    first: &mut GateSample,
    second: &mut GateSample,
) {
    on_slices(a, &mut first.h, &mut first.aux, |a, h, u_out| {
        let (mut p, mut u) = ([0.0f32; CHUNK], [0.0f32; CHUNK]);
        for ((a, h), u_out) in a
            .chunks(CHUNK)
            .zip(h.chunks_mut(CHUNK))
            .zip(u_out.chunks_mut(CHUNK))
        {
            let p = &mut p[..a.len()];
            sigmoids_into(a, 0.0, p);
            fill_uniforms(rng, &mut u);
            for (((h, u_out), &p), &u) in h.iter_mut().zip(u_out.iter_mut()).zip(&*p).zip(&u) {
                *h = f32::from(u8::from(u < p));
                *u_out = u;
            }
        }
    });
    Zip::from(&mut second.h)
        .and(&mut second.aux)
        .and(a)
        .and(&first.aux)
        .for_each(|h, s, &a, &u| {
            let p = sigmoid_branch_free(a);
            *h = f32::from(u8::from(1.0 - u < p));
            *s = p.max(1.0 - p);
        });
}

/// f(b̃_b) − f(b_b) per example, as a column (batch × 1) scaled by `scale`.
pub(crate) fn loss_differences(evals: &Evaluations<'_>, scale: f32) -> Array2<f32> {
    let d = (&evals.losses(1) - &evals.losses(0)).mapv(|v| v * scale);
    d.insert_axis(Axis(1))
}

impl GateEstimator for Arm {
    fn family(&self) -> Family {
        Family::Arm
    }

    fn describe(&self) -> String {
        "arm (antithetic pair)".into()
    }

    fn draws(&self) -> usize {
        2
    }

    /// The losses alone.
    fn reads(&self) -> GateGradient {
        GateGradient::Skip
    }

    /// b = 1[u < p] (draw 0), b̃ = 1[u > 1 − p] (draw 1); draw 0 keeps u.
    fn sample(&self, a: ArrayView2<f32>, rng: &mut Rng, draws: &mut [GateSample]) {
        let [first, second] = draws else {
            panic!("ARM draws two gate vectors");
        };
        antithetic_pair(a, rng, first, second);
    }

    /// da_bi = (f(b̃_b) − f(b_b)) (u_bi − ½) / B.
    fn gate_gradient(&self, draws: &[GateSample], evals: &Evaluations<'_>, da: &mut Array2<f32>) {
        let d = loss_differences(evals, 1.0 / evals.losses(0).len().max(1) as f32);
        Zip::from(da)
            .and(&draws[0].aux)
            .and_broadcast(&d)
            .for_each(|g, &u, &d| *g = d * (u - 0.5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::rng_for;

    /// Both gates of the pair fire with probability p (4-SE Bernoulli checks), and the pair is
    /// antithetic: for p < ½ the two never fire together.
    #[test]
    fn the_pair_is_antithetic_and_each_gate_bernoulli() {
        let n = 40_000;
        let a = Array2::from_shape_fn((n / 4, 4), |(_, i)| [-2.0f32, -0.3, 0.4, 1.5][i]);
        let mut pair = [GateSample::zeros(n / 4, 4), GateSample::zeros(n / 4, 4)];
        Arm.sample(a.view(), &mut rng_for(2, "arm"), &mut pair);
        for i in 0..4 {
            let p = crate::nn::math::sigmoid(a[[0, i]]) as f64;
            let se = (p * (1.0 - p) / (n / 4) as f64).sqrt();
            for d in &pair {
                let f = d.h.column(i).sum() as f64 / (n / 4) as f64;
                assert!((f - p).abs() < 4.0 * se, "gate {i}: {f} vs {p}");
            }
            let both = Zip::from(pair[0].h.column(i))
                .and(pair[1].h.column(i))
                .fold(0, |c, &x, &y| c + usize::from(x == 1.0 && y == 1.0));
            if p < 0.5 {
                assert_eq!(both, 0, "gate {i}");
            }
        }
    }
}
