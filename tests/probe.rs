//! The probe (`gradrace::lab::probe`) measured against what is known exactly:
//! - on the one-gate toy, the variance it measures for REINFORCE (the paper's unbiased estimator
//!   without a baseline) and DisARM equals the variance of their two-point distributions,
//!   within the sampling error of a sample variance (from the distributions' fourth moments),
//!   and the standard error it reports is that sampling error;
//! - on a small net on real digits, the reference it estimates from many unbiased samples agrees
//!   with the enumerated exact gradient within the reference's own standard error, the biases
//!   it then reports for the biased estimators agree with those against the exact gradient and
//!   lie far outside that standard error, and the unbiased estimators show no bias;
//! - the main path it evaluates (`FixedMainPath`) is the function `MainPathLoss` computes;
//! - its numbers do not depend on the number of threads.

use gradrace::data::embedded;
use gradrace::estimators::{
    Baseline, EstimateBuffers, EstimatorSpec, GateGradient, GateLoss, StraightThroughVariant,
    Temperature, estimate,
};
use gradrace::lab::probe::row;
use gradrace::lab::{
    Candidate, NetProblem, ProbeReport, ProbeSettings, Problem, ProblemInfo, ReferenceChoice,
    ReferenceGradient, SmallNet, ToyProblem, measure, probe,
};
use gradrace::net::gate_loss::{LossBuffers, MainPathLoss};
use gradrace::net::{GatedNet, MainPathChoice, NetConfig};
use gradrace::nn::Activation;
use gradrace::seed::rng_for;
use ndarray::Array2;

fn info() -> ProblemInfo {
    ProblemInfo {
        kind: "test".into(),
        title: "test".into(),
        details: Vec::new(),
    }
}

fn quiet(_: &str) {}

/// Variance and fourth central moment of a distribution given as (value, probability) pairs.
fn moments(outcomes: &[(f64, f64)]) -> (f64, f64, f64) {
    let mean: f64 = outcomes.iter().map(|(v, p)| v * p).sum();
    let var: f64 = outcomes.iter().map(|(v, p)| p * (v - mean).powi(2)).sum();
    let mu4: f64 = outcomes.iter().map(|(v, p)| p * (v - mean).powi(4)).sum();
    (mean, var, mu4)
}

/// REINFORCE without a baseline on f(b) = (b − t)², ĝ = f(b)(b − p): (1 − t)²(1 − p) with
/// probability p, −t²p with probability 1 − p.
fn reinforce_outcomes(p: f64, t: f64) -> Vec<(f64, f64)> {
    vec![((1.0 - t).powi(2) * (1.0 - p), p), (-(t * t) * p, 1.0 - p)]
}

/// DisARM on the toy: with u uniform, b¹ = 1[u > 1 − p] and b² = 1[u < p] differ with
/// probability 2m, m = min(p, 1 − p), and then ĝ = ½(f(b¹) − f(b²))(−1)^{b²}σ(|a|) is
/// ½(1 − 2t)(1 − m) either way round (σ(|a|) = 1 − m); otherwise ĝ = 0.
fn disarm_outcomes(p: f64, t: f64) -> Vec<(f64, f64)> {
    let m = p.min(1.0 - p);
    vec![
        (0.5 * (1.0 - 2.0 * t) * (1.0 - m), 2.0 * m),
        (0.0, 1.0 - 2.0 * m),
    ]
}

#[test]
fn measured_toy_variances_match_the_two_point_distributions() {
    const M: usize = 400_000;
    let reinforce = Candidate::new(
        "unbiased-none",
        EstimatorSpec::Unbiased {
            baseline: Baseline::None,
        },
    );
    let disarm = Candidate::new("disarm", EstimatorSpec::DisArm);
    for (p, t) in [(0.3, 0.45f32), (0.8, 0.49), (0.55, 0.499)] {
        let toy = ToyProblem::new(p, t).unwrap();
        // The estimators see σ of the f32 logit.
        let (p, t64) = (toy.p(), f64::from(t));
        let report = probe(
            &Problem::Toy(toy),
            info(),
            &[reinforce.clone(), disarm.clone()],
            &ReferenceChoice::Exact,
            &ProbeSettings::new(M, 17),
            &quiet,
        )
        .unwrap();
        let exact = (1.0 - 2.0 * t64) * p * (1.0 - p);
        for (row, outcomes) in report
            .rows
            .iter()
            .zip([reinforce_outcomes(p, t64), disarm_outcomes(p, t64)])
        {
            let (mean, var, mu4) = moments(&outcomes);
            assert!(
                (mean - exact).abs() < 1e-12 * exact.abs().max(1e-3),
                "unbiased"
            );
            // The sampling error of a sample variance of n draws: √((μ₄ − σ⁴)/n).
            let se = ((mu4 - var * var) / M as f64).sqrt();
            let m = &row.measured;
            assert!(
                (m.total_variance - var).abs() <= 4.0 * se,
                "{} p={p} t={t}: measured variance {} vs closed form {var} (SE {se})",
                row.name,
                m.total_variance
            );
            // The probe's own standard error (jackknife over 20 groups) is that sampling error,
            // to the precision of a 20-group jackknife (about 16%).
            let ratio = m.total_variance_se / se;
            assert!(
                (0.5..1.5).contains(&ratio),
                "{} p={p} t={t}: reported SE {} vs derived {se}",
                row.name,
                m.total_variance_se
            );
            // Unbiased: no bias resolved, the bound within a few SE of the mean.
            assert!(!m.bias_resolved, "{}: {m:?}", row.name);
            assert!(m.mse >= m.total_variance);
            // The MSE of a mean of M estimates falls as tr Σ / M.
            let ten = row.mse_point(10.0).mse;
            assert!((ten - m.squared_bias - var / 10.0).abs() <= 4.0 * se / 10.0 + 1e-15);
        }
    }
}

/// The small net of `gradrace probe small`.
fn small() -> Problem {
    Problem::Net(Box::new(
        NetProblem::small(SmallNet::default(), &embedded().train).unwrap(),
    ))
}

#[test]
fn the_estimated_reference_agrees_with_the_enumeration_and_biased_estimators_lie_far_outside() {
    const N: usize = 50_000;
    let problem = small();
    let exact = problem.exact_gradient().unwrap();
    let reference_candidate = Candidate::new("disarm", EstimatorSpec::DisArm);
    let settings = ProbeSettings::new(N, 99);
    let m = measure(&problem, &reference_candidate.spec, &settings, "reference");
    let reference = ReferenceGradient::estimated(&m);
    let r = &reference.reference;

    // ‖ḡ − g‖² has mean tr Σ_g/N (its reported squared standard error) and, the coordinates
    // being nearly Gaussian means, variance 2 Σᵢ sᵢ⁴ with sᵢ² = Var ĝᵢ/N.
    let total = m.total();
    let s2: Vec<f64> = total.variances().iter().map(|v| v / N as f64).collect();
    let distance: f64 = r
        .gradient
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let spread = (2.0 * s2.iter().map(|s| s * s).sum::<f64>()).sqrt();
    assert!(
        (distance - r.total_noise()).abs() <= 4.0 * spread,
        "‖ḡ − g‖² = {distance}, expected tr Σ_g/N = {} ± {spread}",
        r.total_noise()
    );
    // Coordinate by coordinate, within 4.5 of their standard errors (64 coordinates).
    for (k, ((a, b), s)) in r.gradient.iter().zip(&exact).zip(&s2).enumerate() {
        assert!(
            (a - b).abs() <= 4.5 * s.sqrt(),
            "coordinate {k}: {a} vs exact {b} (SE {})",
            s.sqrt()
        );
    }
    let norm = exact.iter().map(|g| g * g).sum::<f64>().sqrt();
    let relative_se = r.total_noise().sqrt() / norm;
    assert!(
        relative_se < 0.02,
        "the reference's relative SE {relative_se}"
    );

    // The biased estimators, against the estimated reference and against the exact gradient.
    let biased = [
        (
            "straight-through",
            EstimatorSpec::StraightThrough {
                variant: StraightThroughVariant::Identity,
            },
        ),
        (
            "reinmax",
            EstimatorSpec::ReinMax {
                temperature: Temperature::Constant(1.0),
            },
        ),
        (
            "concrete-st",
            EstimatorSpec::BinaryConcrete {
                variant: gradrace::estimators::ConcreteVariant::StraightThrough,
                temperature: None,
            },
        ),
        (
            "gumbel-rao",
            EstimatorSpec::GumbelRao {
                samples: 10,
                temperature: Temperature::Constant(1.0),
            },
        ),
    ];
    let exact_reference = ReferenceGradient::exact(exact.clone());
    let estimator_settings = ProbeSettings::new(5_000, 7);
    for (name, spec) in biased {
        let c = Candidate::new(name, spec);
        let m = measure(&problem, &spec, &estimator_settings, name);
        let against_estimate = row(&c, &m, &reference).measured;
        let against_exact = row(&c, &m, &exact_reference).measured;
        assert!(against_estimate.bias_resolved && against_exact.bias_resolved);
        let (b1, s1) = (
            against_estimate.relative_bias,
            against_estimate.relative_bias_se,
        );
        let (b2, s2) = (against_exact.relative_bias, against_exact.relative_bias_se);
        // The same bias either way: the reference's noise was removed, and its uncertainty is
        // in the standard error (which is the larger for it).
        assert!(
            (b1 - b2).abs() <= 4.0 * s1,
            "{name}: relative bias {b1} ± {s1} against the estimate, {b2} ± {s2} exact"
        );
        assert!(s1 >= s2, "{name}: {s1} < {s2}");
        // Far outside the reference's own standard error.
        assert!(
            b1 > 10.0 * relative_se,
            "{name}: relative bias {b1} vs the reference's SE {relative_se}"
        );
    }
    // The unbiased estimators: no bias resolved against either reference, and their bound is
    // within a few of the reference's standard errors.
    for (name, spec) in [
        ("rloo", EstimatorSpec::ReinforceLeaveOneOut { samples: 4 }),
        ("arm", EstimatorSpec::Arm),
        (
            "unbiased",
            EstimatorSpec::Unbiased {
                baseline: Baseline::OptimalPerUnit,
            },
        ),
    ] {
        let c = Candidate::new(name, spec);
        let m = measure(&problem, &spec, &estimator_settings, name);
        for reference in [&reference, &exact_reference] {
            let measured = row(&c, &m, reference).measured;
            assert!(
                !measured.bias_resolved && measured.relative_bias_upper < 0.1,
                "{name}: {measured:?}"
            );
            assert!(measured.cosine > 0.95, "{name}: {measured:?}");
        }
    }
}

/// The probe's main path is `MainPathLoss`'s function: the same per-example losses and ∂f/∂h
/// (where each estimator reads it) for random gates, on the small net and on a wider one.
#[test]
fn the_fixed_main_path_is_the_main_path() {
    let data = embedded();
    let small = match small() {
        Problem::Net(n) => *n,
        Problem::Toy(_) => unreachable!(),
    };
    let mut rng = rng_for(3, "wide");
    let wide_net = GatedNet::init(
        784,
        10,
        &NetConfig {
            gater_hidden: 12,
            gater_activation: Activation::Tanh,
            experts: 40,
            expert_activation: Activation::Relu,
        },
        &mut rng,
    );
    let (x, y) = data.train.gather(&(100..116).collect::<Vec<_>>());
    let wide = NetProblem::new(wide_net, x, y, 0).unwrap();
    let straight_through = EstimatorSpec::StraightThrough {
        variant: StraightThroughVariant::Identity,
    }
    .build();
    for n in [&small, &wide] {
        let (batch, units) = n.gate_pre().dim();
        for (reads, rate) in [
            (GateGradient::Everywhere, 0.5),
            (GateGradient::WhereOn, 0.1),
            (GateGradient::Skip, 0.3),
        ] {
            let h = Array2::from_shape_fn((batch, units), |(b, i)| {
                let u = ((b * 7919 + i * 104_729) % 1000) as f32 / 1000.0;
                if u < rate { 0.5 + u } else { 0.0 }
            });
            let mut fixed = n.loss();
            let mut buffers = LossBuffers::default();
            let mut main = MainPathLoss::new(
                n.net(),
                n.x(),
                n.labels(),
                straight_through.as_ref(),
                MainPathChoice::Auto,
                &mut buffers,
            );
            let (mut l1, mut l2) = (ndarray::Array1::zeros(batch), ndarray::Array1::zeros(batch));
            let (mut g1, mut g2) = (Array2::zeros((batch, units)), Array2::zeros((batch, units)));
            fixed.evaluate(h.view(), reads, l1.view_mut(), g1.view_mut());
            main.evaluate(h.view(), reads, l2.view_mut(), g2.view_mut());
            for (a, b) in l1.iter().zip(&l2) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "loss {a} vs {b}");
            }
            if reads == GateGradient::Skip {
                continue;
            }
            let scale = g2.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for ((a, b), &h) in g1.iter().zip(&g2).zip(&h) {
                if reads == GateGradient::WhereOn && h == 0.0 {
                    assert_eq!(*a, 0.0);
                    continue;
                }
                assert!((a - b).abs() <= 1e-5 * scale, "∂f/∂h {a} vs {b}");
            }
        }
    }
    // One estimate through either loss, from the same stream: the same gradient.
    let spec = EstimatorSpec::ReinforceLeaveOneOut { samples: 3 };
    let est = spec.build();
    let a = small.gate_pre();
    let mut da1 = Array2::zeros(a.raw_dim());
    let mut da2 = Array2::zeros(a.raw_dim());
    let mut fixed = small.loss();
    estimate(
        est.as_ref(),
        a,
        &mut rng_for(1, "same"),
        &mut fixed,
        &mut EstimateBuffers::default(),
        &mut da1,
    );
    let mut buffers = LossBuffers::default();
    let mut main = MainPathLoss::new(
        small.net(),
        small.x(),
        small.labels(),
        est.as_ref(),
        MainPathChoice::Auto,
        &mut buffers,
    );
    estimate(
        est.as_ref(),
        a,
        &mut rng_for(1, "same"),
        &mut main,
        &mut EstimateBuffers::default(),
        &mut da2,
    );
    let scale = da2.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (x, y) in da1.iter().zip(&da2) {
        assert!((x - y).abs() <= 1e-4 * scale, "{x} vs {y}");
    }
}

fn report_with(threads: usize, problem: &Problem, reference: &ReferenceChoice) -> ProbeReport {
    let candidates = [
        Candidate::new(
            "unbiased",
            EstimatorSpec::Unbiased {
                baseline: Baseline::OptimalPerUnit,
            },
        ),
        Candidate::new(
            "straight-through",
            EstimatorSpec::StraightThrough {
                variant: StraightThroughVariant::Identity,
            },
        ),
    ];
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            probe(
                problem,
                info(),
                &candidates,
                reference,
                &ProbeSettings::new(200, 5),
                &quiet,
            )
            .unwrap()
        })
}

#[test]
fn the_numbers_do_not_depend_on_the_thread_count() {
    let problem = small();
    let estimated = ReferenceChoice::Estimated {
        candidate: Candidate::new("disarm", EstimatorSpec::DisArm),
        samples: 300,
    };
    for reference in [ReferenceChoice::Exact, estimated] {
        // Compared as text: a standard error that is not defined is NaN, unequal to itself.
        let one = format!("{:?}", report_with(1, &problem, &reference));
        let two = format!("{:?}", report_with(2, &problem, &reference));
        let three = format!("{:?}", report_with(3, &problem, &reference));
        assert_eq!(one, two);
        assert_eq!(one, three);
    }
}
