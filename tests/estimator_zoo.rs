//! The estimator zoo on the one-gate toy problem f(b) = (b − t)², whose exact gradient with
//! respect to the logit is (1 − 2t)·p(1 − p): the unbiased estimators hit it within 4 standard
//! errors, the variance orderings the literature proves hold beyond their standard errors, the
//! relaxed estimator's bias falls as τ → 0, and the biased estimators' signs are as known.
//!
//! A batch of N examples of the toy is N independent copies of the gate, so one estimate over
//! the batch gives N samples of the per-example estimator (the batch-mean gradient times N).

mod common;

use common::{Moments, assert_within_4_se};
use gradrace::estimators::*;
use gradrace::lab::QuadraticToy;
use gradrace::nn::math::sigmoid64;
use gradrace::seed::rng_for;
use ndarray::Array2;

const N: usize = 200_000;

/// N samples of `spec`'s per-example estimate of ∂E[f]/∂a at logit `a` on the toy with target
/// `t`, drawn from the stream `seed` of `base`.
fn estimates(spec: EstimatorSpec, a: f32, t: f32, base: u64, seed: &str) -> Vec<f64> {
    let est = spec.build();
    let logits = Array2::from_elem((N, 1), a);
    let mut f = QuadraticToy { target: t };
    let mut buffers = EstimateBuffers::default();
    let mut da = Array2::zeros((N, 1));
    estimate(
        est.as_ref(),
        logits.view(),
        &mut rng_for(base, seed),
        &mut f,
        &mut buffers,
        &mut da,
    );
    da.iter().map(|&g| f64::from(g) * N as f64).collect()
}

/// The running moments of [`estimates`].
fn samples(spec: EstimatorSpec, a: f32, t: f32, seed: &str) -> Moments {
    let mut m = Moments::default();
    for g in estimates(spec, a, t, 16, seed) {
        m.push(g);
    }
    m
}

fn unbiased_specs() -> Vec<EstimatorSpec> {
    use EstimatorSpec::*;
    vec![
        Unbiased {
            baseline: Baseline::None,
        },
        ReinforceLeaveOneOut { samples: 2 },
        ReinforceLeaveOneOut { samples: 4 },
        Arm,
        DisArm,
    ]
}

#[test]
fn unbiased_estimators_hit_the_exact_gradient_of_the_toy() {
    for t in [0.45f32, 0.49, 0.499] {
        for a in [-0.85f32, 0.0, 1.2] {
            let toy = QuadraticToy { target: t };
            let exact = toy.exact_gradient(sigmoid64(f64::from(a)));
            for spec in unbiased_specs() {
                let m = samples(spec, a, t, &format!("{spec:?}/{t}/{a}"));
                // f32 rounding of σ and of the losses: far below 4 SE.
                assert_within_4_se(&m, exact, 1e-6, &format!("{spec:?} t={t} a={a}"));
            }
        }
    }
}

/// The variance of a sample mean's estimate: the sample variance and its standard error
/// √((μ₄ − σ⁴)/n), from the fourth central moment.
fn variance_with_se(spec: EstimatorSpec, a: f32, t: f32, seed: &str) -> (f64, f64) {
    let g = estimates(spec, a, t, 17, seed);
    let n = g.len() as f64;
    let mean = g.iter().sum::<f64>() / n;
    let var = g.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let mu4 = g.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n;
    (var, ((mu4 - var * var) / n).sqrt())
}

#[test]
fn disarm_is_less_noisy_than_arm_and_rloo_than_two_reinforce_samples_on_the_toy() {
    for (a, t) in [(-0.85f32, 0.45f32), (1.2, 0.49)] {
        let (arm, arm_se) = variance_with_se(EstimatorSpec::Arm, a, t, "arm");
        let (disarm, disarm_se) = variance_with_se(EstimatorSpec::DisArm, a, t, "disarm");
        let se = (arm_se * arm_se + disarm_se * disarm_se).sqrt();
        assert!(
            disarm + 4.0 * se < arm,
            "a={a} t={t}: DisARM {disarm} vs ARM {arm} (SE of the difference {se})"
        );
        // Two evaluations each: RLOO with K = 2 against the mean of two REINFORCE samples without
        // a baseline, whose variance is half a single sample's.
        let (rloo, rloo_se) = variance_with_se(
            EstimatorSpec::ReinforceLeaveOneOut { samples: 2 },
            a,
            t,
            "rloo",
        );
        let none = EstimatorSpec::Unbiased {
            baseline: Baseline::None,
        };
        let (single, single_se) = variance_with_se(none, a, t, "reinforce");
        let (two, two_se) = (single / 2.0, single_se / 2.0);
        let se = (rloo_se * rloo_se + two_se * two_se).sqrt();
        assert!(
            rloo + 4.0 * se < two,
            "a={a} t={t}: RLOO(2) {rloo} vs REINFORCE over 2 samples {two} (SE {se})"
        );
    }
}

/// The relaxed binary Concrete is exact for its own objective E[f(y)], y = σ((a + ℓ)/τ): its
/// Monte-Carlo mean matches that gradient computed by quadrature over the noise, and that
/// gradient's distance to the exact gradient of E[f(b)] shrinks as τ → 0.
#[test]
fn the_relaxed_estimators_bias_falls_as_the_temperature_falls() {
    let (a, t) = (-0.85f32, 0.45f32);
    let toy = QuadraticToy { target: t };
    let exact = toy.exact_gradient(sigmoid64(f64::from(a)));
    // ∂/∂a E[(y − t)²] = E[2(y − t) y(1 − y)/τ], midpoint rule over u with ℓ = logit(u).
    let relaxed_gradient = |tau: f64| {
        let m = 200_000;
        (0..m)
            .map(|k| {
                let u = (k as f64 + 0.5) / m as f64;
                let y = sigmoid64((f64::from(a) + (u / (1.0 - u)).ln()) / tau);
                2.0 * (y - f64::from(t)) * y * (1.0 - y) / tau
            })
            .sum::<f64>()
            / m as f64
    };
    let mut previous_bias = f64::INFINITY;
    let mut last = Moments::default();
    for tau in [1.0f32, 0.5, 0.25, 0.1] {
        let spec = EstimatorSpec::BinaryConcrete {
            variant: ConcreteVariant::Relaxed,
            temperature: Some(Temperature::Constant(tau)),
        };
        let m = samples(spec, a, t, &format!("relaxed/{tau}"));
        let target = relaxed_gradient(f64::from(tau));
        assert_within_4_se(&m, target, 1e-5, &format!("relaxed τ={tau}"));
        let bias = (target - exact).abs();
        assert!(
            bias < previous_bias,
            "τ={tau}: |bias| {bias} after {previous_bias}"
        );
        previous_bias = bias;
        last = m;
    }
    // At τ = 1 the relaxed gradient points the wrong way; at τ = 0.1 the right one.
    assert!(relaxed_gradient(1.0) < 0.0 && exact > 0.0);
    assert!(last.mean > 4.0 * last.standard_error(), "{}", last.mean);
}

/// Straight-through's mean is 2(p − t): on the toy it agrees in sign with the exact gradient
/// (1 − 2t)p(1 − p) only when p is on the far side of t (a known failure: the toy is where ARM
/// and DisARM were shown to beat it). ReinMax at τ = 1 is exact for a quadratic f of one gate
/// (its second-order accuracy), so it agrees everywhere; the straight-through Gumbel-type
/// estimators follow straight-through's sign.
#[test]
fn straight_through_and_reinmax_signs_on_one_gate() {
    let t = 0.45f32;
    let toy = QuadraticToy { target: t };
    let st = EstimatorSpec::StraightThrough {
        variant: StraightThroughVariant::Identity,
    };
    let reinmax = EstimatorSpec::ReinMax {
        temperature: Temperature::Constant(1.0),
    };
    for a in [0.6f32, 1.5] {
        let exact = toy.exact_gradient(sigmoid64(f64::from(a)));
        for spec in [st, reinmax] {
            let m = samples(spec, a, t, &format!("sign/{spec:?}/{a}"));
            assert!(
                m.mean.signum() == exact.signum() && m.mean.abs() > 4.0 * m.standard_error(),
                "{spec:?} a={a}: mean {} ± {} vs exact {exact}",
                m.mean,
                m.standard_error()
            );
        }
    }
    // Observed, and known: at p = σ(−0.85) ≈ 0.30 < t straight-through points the wrong way.
    let a = -0.85f32;
    let exact = toy.exact_gradient(sigmoid64(f64::from(a)));
    let m = samples(st, a, t, "sign/st/wrong");
    assert!(
        exact > 0.0 && m.mean + 4.0 * m.standard_error() < 0.0,
        "{}",
        m.mean
    );
    // ReinMax at τ = 1 hits the exact gradient there too.
    let m = samples(reinmax, a, t, "sign/reinmax/exact");
    assert_within_4_se(&m, exact, 1e-6, "reinmax τ=1");
}

/// The measured variance of REINFORCE (no baseline), REINFORCE leave-one-out (K = 2), ARM and
/// DisARM on the toy equals the closed form over the two (or four) outcomes
/// (`QuadraticToy::variance_*`), within 4 standard errors of the sample variance.
#[test]
fn measured_variances_on_the_toy_match_their_closed_forms() {
    for (a, t) in [(-0.85f32, 0.45f32), (1.2, 0.49), (0.3, 0.499)] {
        let toy = QuadraticToy { target: t };
        let p = sigmoid64(f64::from(a));
        let cases = [
            (
                EstimatorSpec::Unbiased {
                    baseline: Baseline::None,
                },
                toy.variance_reinforce(p),
            ),
            (
                EstimatorSpec::ReinforceLeaveOneOut { samples: 2 },
                toy.variance_rloo2(p),
            ),
            (EstimatorSpec::Arm, toy.variance_arm(p)),
            (EstimatorSpec::DisArm, toy.variance_disarm(p)),
        ];
        for (spec, closed) in cases {
            let (measured, se) = variance_with_se(spec, a, t, &format!("closed/{spec:?}/{a}"));
            assert!(
                (measured - closed).abs() <= 4.0 * se + 1e-9 * closed,
                "{spec:?} a={a} t={t}: variance {measured} ± {se} vs closed form {closed}"
            );
        }
    }
}
