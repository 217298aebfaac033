//! Statistical properties of the individual gates (PAPER.md, "Oracles for tests"), checked by
//! Monte Carlo with fixed seeds and tolerances of 4 standard errors.

mod common;

use common::{Moments, assert_frequency, assert_within_4_se};
use gradrace::estimators::*;
use gradrace::nn::math::{sigmoid64, softplus64};
use gradrace::seed::rng_for;
use ndarray::{Array1, Array2};

const PRE_ACTIVATIONS: [f32; 6] = [-3.0, -1.0, -0.2, 0.0, 0.7, 2.5];
const DRAWS: usize = 40_000;

/// Draws `DRAWS` samples of one row of gates with pre-activations `PRE_ACTIVATIONS`.
fn draws(est: &dyn GateEstimator, seed: &str, mut each: impl FnMut(&GateSample)) {
    let a = Array2::from_shape_vec((1, PRE_ACTIVATIONS.len()), PRE_ACTIVATIONS.to_vec()).unwrap();
    let mut rng = rng_for(2013, seed);
    let mut s = GateSample::zeros(1, PRE_ACTIVATIONS.len());
    for _ in 0..DRAWS {
        est.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        each(&s);
    }
}

#[test]
fn sts_mean_is_p_and_firing_probability_is_sqrt_p() {
    let est = StochasticTimesSmooth::new(StsBernoulli::SqrtP, None);
    let mut mean = [Moments::default(); 6];
    let mut fired = [0u64; 6];
    draws(&est, "sts", |s| {
        for i in 0..6 {
            mean[i].push(s.h[[0, i]] as f64);
            fired[i] += u64::from(s.h[[0, i]] > 0.0);
        }
    });
    for (i, &a) in PRE_ACTIVATIONS.iter().enumerate() {
        let p = sigmoid64(a as f64);
        assert_within_4_se(&mean[i], p, 1e-6, &format!("E[h] at a={a}"));
        assert_frequency(
            fired[i],
            DRAWS as u64,
            p.sqrt(),
            &format!("P(h>0) at a={a}"),
        );
    }
}

#[test]
fn sts_released_code_variant_fires_with_probability_p() {
    let est = StochasticTimesSmooth::new(StsBernoulli::P, None);
    let mut fired = [0u64; 6];
    draws(&est, "sts-p", |s| {
        for (f, &h) in fired.iter_mut().zip(s.h.iter()) {
            *f += u64::from(h > 0.0);
        }
    });
    for (i, &a) in PRE_ACTIVATIONS.iter().enumerate() {
        assert_frequency(
            fired[i],
            DRAWS as u64,
            sigmoid64(a as f64),
            &format!("a={a}"),
        );
    }
}

#[test]
fn sts_gradient_is_b_times_derivative_of_sqrt_p() {
    let est = StochasticTimesSmooth::new(StsBernoulli::SqrtP, None);
    let a = Array2::from_shape_vec((1, 6), PRE_ACTIVATIONS.to_vec()).unwrap();
    let dl_dh = Array2::from_elem((1, 6), 1.7f32);
    let mut rng = rng_for(1, "sts-grad");
    let mut s = GateSample::zeros(1, 6);
    let mut da = Array2::zeros((1, 6));
    let (mut on, mut off) = (0, 0);
    for _ in 0..200 {
        est.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        est.gate_gradient(
            std::slice::from_ref(&s),
            &Evaluations::of_one(Array1::zeros(1).view(), dl_dh.view()),
            &mut da,
        );
        for (i, &x) in PRE_ACTIVATIONS.iter().enumerate() {
            let p = sigmoid64(x as f64);
            let b = if s.h[[0, i]] > 0.0 { 1.0 } else { 0.0 };
            // d√p/da = p(1 − p) / (2√p)
            let expect = 1.7 * b * p * (1.0 - p) / (2.0 * p.sqrt());
            assert!((da[[0, i]] as f64 - expect).abs() <= 1e-6 * (1.0 + expect.abs()));
            if b == 1.0 {
                on += 1;
                assert!(
                    (s.h[[0, i]] as f64 - p.sqrt()).abs() < 1e-6,
                    "h = √p when b = 1"
                );
            } else {
                off += 1;
                assert_eq!(s.h[[0, i]], 0.0, "exact zero when b = 0");
            }
        }
    }
    assert!(on > 0 && off > 0);
}

#[test]
fn sts_beta_noise_has_the_requested_mode_and_shifts_the_gate() {
    let noise = BetaNoise {
        mode: 0.1,
        beta: 40.0,
    };
    let alpha = noise.alpha() as f64;
    assert!(((alpha - 1.0) / (alpha + 40.0 - 2.0) - 0.1).abs() < 1e-6);
    let est = StochasticTimesSmooth::new(StsBernoulli::SqrtP, Some(noise));
    // E[h] = E[σ(a + n)]; with n concentrated near its mean this is close to σ(a + E[n]) and
    // clearly above σ(a) for the paper's parameters.
    let mut mean = Moments::default();
    let a = Array2::from_elem((1, 1), 0.0f32);
    let mut rng = rng_for(5, "beta");
    let mut s = GateSample::zeros(1, 1);
    for _ in 0..DRAWS {
        est.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        mean.push(s.h[[0, 0]] as f64);
    }
    let shifted = sigmoid64(noise.mean() as f64);
    assert!(mean.mean > 0.5 + 4.0 * mean.standard_error());
    assert!((mean.mean - shifted).abs() < 4.0 * mean.standard_error() + 1e-3);
    assert!((est.test_gate(0.0) as f64 - shifted.sqrt()).abs() < 1e-6);
}

#[test]
fn binary_neurons_fire_with_probability_p_and_emit_exact_zeros_and_ones() {
    let st = StraightThrough::new(StraightThroughVariant::Identity);
    let unbiased = UnbiasedBinary::new(Baseline::None);
    for (est, name) in [(&st as &dyn GateEstimator, "st"), (&unbiased, "unbiased")] {
        let mut fired = [0u64; 6];
        draws(est, name, |s| {
            for (f, &h) in fired.iter_mut().zip(s.h.iter()) {
                assert!(h == 0.0 || h == 1.0, "{name}: h = {h}");
                *f += u64::from(h == 1.0);
            }
        });
        for (i, &a) in PRE_ACTIVATIONS.iter().enumerate() {
            let p = sigmoid64(a as f64);
            assert_frequency(fired[i], DRAWS as u64, p, &format!("{name} a={a}"));
        }
    }
}

#[test]
fn sigmoid_adjusted_straight_through_is_exact_for_a_loss_linear_in_h() {
    // L = Σ_i c_i h_i, so E[L] = Σ_i c_i p_i and ∂E[L]/∂a_i = c_i p_i (1 − p_i), for every sample.
    let c = [0.3f32, -1.2, 2.0, 0.7, -0.4, 1.1];
    let a = Array2::from_shape_vec((1, 6), PRE_ACTIVATIONS.to_vec()).unwrap();
    let dl_dh = Array2::from_shape_vec((1, 6), c.to_vec()).unwrap();
    let adjusted = StraightThrough::new(StraightThroughVariant::SigmoidAdjusted);
    let identity = StraightThrough::new(StraightThroughVariant::Identity);
    let mut rng = rng_for(9, "st-linear");
    let mut s = GateSample::zeros(1, 6);
    let mut da = Array2::zeros((1, 6));
    for _ in 0..100 {
        adjusted.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        adjusted.gate_gradient(
            std::slice::from_ref(&s),
            &Evaluations::of_one(Array1::zeros(1).view(), dl_dh.view()),
            &mut da,
        );
        for i in 0..6 {
            let p = sigmoid64(PRE_ACTIVATIONS[i] as f64);
            let exact = c[i] as f64 * p * (1.0 - p);
            assert!((da[[0, i]] as f64 - exact).abs() < 1e-6, "unit {i}");
        }
    }
    // The identity form is not exact here (it is biased by 1 / (p(1 − p))).
    identity.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
    identity.gate_gradient(
        std::slice::from_ref(&s),
        &Evaluations::of_one(Array1::zeros(1).view(), dl_dh.view()),
        &mut da,
    );
    assert!((da[[0, 0]] - c[0]).abs() < 1e-7);
}

#[test]
fn noisy_rectifier_with_logistic_noise_fires_with_sigma_a_and_has_mean_softplus_a() {
    let est = NoisyRectifier::new(RectifierNoise::Logistic { scale: 1.0 });
    let mut mean = [Moments::default(); 6];
    let mut fired = [0u64; 6];
    draws(&est, "logistic", |s| {
        for i in 0..6 {
            mean[i].push(s.h[[0, i]] as f64);
            fired[i] += u64::from(s.h[[0, i]] > 0.0);
        }
    });
    for (i, &a) in PRE_ACTIVATIONS.iter().enumerate() {
        let a = a as f64;
        assert_frequency(
            fired[i],
            DRAWS as u64,
            sigmoid64(a),
            &format!("P(h>0) a={a}"),
        );
        // u is drawn from [ε, 1), which truncates the noise at about −16: negligible here.
        assert_within_4_se(&mean[i], softplus64(a), 1e-5, &format!("E[h] a={a}"));
    }
}

#[test]
fn multiplicative_noise_keeps_the_rectifier_mean_and_emits_zeros() {
    let est = NoisyRectifier::new(RectifierNoise::Multiplicative { keep: 0.5 });
    let mut mean = [Moments::default(); 6];
    let mut zeros = [0u64; 6];
    draws(&est, "mult", |s| {
        for i in 0..6 {
            mean[i].push(s.h[[0, i]] as f64);
            zeros[i] += u64::from(s.h[[0, i]] == 0.0);
        }
    });
    for (i, &a) in PRE_ACTIVATIONS.iter().enumerate() {
        let relu = (a as f64).max(0.0);
        assert_within_4_se(&mean[i], relu, 1e-6, &format!("E[h] a={a}"));
        if a > 0.0 {
            assert_frequency(zeros[i], DRAWS as u64, 0.5, &format!("dropped a={a}"));
        }
    }
}

#[test]
fn backprop_gates_chain_their_own_local_derivative() {
    // ∂h/∂a along the sampled path: 1[a + z > 0] for the additive rectifier, h(1 − h) for the
    // sigmoid gate; checked against the sampled values themselves.
    let a = Array2::from_shape_vec((1, 6), PRE_ACTIVATIONS.to_vec()).unwrap();
    let ones = Array2::from_elem((1, 6), 1.0f32);
    let mut rng = rng_for(4, "local");
    let mut s = GateSample::zeros(1, 6);
    let mut da = Array2::zeros((1, 6));
    let rect = NoisyRectifier::new(RectifierNoise::Gaussian { std: 1.0 });
    let sig = SigmoidGate { noise_std: 0.5 };
    for _ in 0..100 {
        rect.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        rect.gate_gradient(
            std::slice::from_ref(&s),
            &Evaluations::of_one(Array1::zeros(1).view(), ones.view()),
            &mut da,
        );
        for i in 0..6 {
            assert_eq!(da[[0, i]], if s.h[[0, i]] > 0.0 { 1.0 } else { 0.0 });
        }
        sig.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        sig.gate_gradient(
            std::slice::from_ref(&s),
            &Evaluations::of_one(Array1::zeros(1).view(), ones.view()),
            &mut da,
        );
        for i in 0..6 {
            let h = s.h[[0, i]];
            assert!((da[[0, i]] - h * (1.0 - h)).abs() < 1e-7);
        }
    }
    let plain = NoisyRectifier::new(RectifierNoise::None);
    plain.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
    for (&h, &a) in s.h.iter().zip(PRE_ACTIVATIONS.iter()) {
        assert_eq!(h, a.max(0.0));
    }
}
