//! The gated kernels compute exactly what the dense-masked main path computes: same logits,
//! losses and gradients (to f32 rounding) for random gate patterns with 0%, 10%, 50% and 100% of
//! gates on, including examples with no gate on and experts no example uses; and a whole
//! training run with the gated kernels follows the dense-masked run of the same lane step by
//! step.

use gradrace::engine::MainPathChoice;
use gradrace::estimators::*;
use gradrace::net::{FusedStep, MainPlan, SparseOrder};
use gradrace::nn::Activation;
use gradrace::seed::rng_for;
use gradrace::{GatedNet, Lane, LaneSettings, NetConfig};
use ndarray::{Array2, ArrayView2};
use rand::Rng as _;

const BATCH: usize = 12;
const INPUTS: usize = 37;
const UNITS: usize = 50;
const CLASSES: usize = 10;

fn net(activation: Activation, seed: u64) -> GatedNet {
    let config = NetConfig {
        gater_hidden: 9,
        gater_activation: Activation::Tanh,
        experts: UNITS,
        expert_activation: activation,
    };
    let mut rng = rng_for(seed, "net");
    let mut net = GatedNet::init(INPUTS, CLASSES, &config, &mut rng);
    // Non-zero biases so that every term of the gradient is exercised.
    for b in net.experts.b.iter_mut() {
        *b = rng.random_range(-0.3..0.3);
    }
    for b in net.output.b.iter_mut() {
        *b = rng.random_range(-0.3..0.3);
    }
    net
}

fn inputs(seed: u64) -> (Array2<f32>, Vec<u8>) {
    let mut rng = rng_for(seed, "inputs");
    let x = Array2::from_shape_fn((BATCH, INPUTS), |_| rng.random_range(-1.0..1.0));
    let y = (0..BATCH)
        .map(|_| rng.random_range(0..CLASSES as u8))
        .collect();
    (x, y)
}

/// Gates on with probability `rate`, with values of either sign; example 0 has no gate on and
/// expert 3 is used by no example (unless every gate is on).
fn gates(rate: f64, seed: u64) -> Array2<f32> {
    let mut rng = rng_for(seed, "gates");
    let mut h = Array2::from_shape_fn((BATCH, UNITS), |_| {
        if rng.random_bool(rate) {
            rng.random_range(-1.5f32..2.0)
        } else {
            0.0
        }
    });
    if rate < 1.0 {
        h.row_mut(0).fill(0.0);
        h.column_mut(3).fill(0.0);
    }
    h
}

fn max_diff(a: ArrayView2<f32>, b: ArrayView2<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn close(a: ArrayView2<f32>, b: ArrayView2<f32>, what: &str) {
    // Sums of up to INPUTS f32 products of magnitude ≤ ~2, in different orders.
    let scale = a.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let d = max_diff(a, b);
    assert!(
        d <= 2e-5 * scale,
        "{what}: max difference {d} (scale {scale})"
    );
}

/// Columns of `w` whose L2 norm is `norm` (to 1e-4): those the max norm clipped.
fn columns_at_norm(w: ArrayView2<f32>, norm: f32) -> usize {
    w.columns()
        .into_iter()
        .filter(|c| (c.iter().map(|v| v * v).sum::<f32>().sqrt() - norm).abs() < 1e-4)
        .count()
}

/// The bit patterns of `values`, for comparisons that must be exact.
fn bits<'a>(values: impl IntoIterator<Item = &'a f32>) -> Vec<u32> {
    values.into_iter().map(|v| v.to_bits()).collect()
}

fn one_row(v: &ndarray::Array1<f32>) -> ArrayView2<'_, f32> {
    v.view().insert_axis(ndarray::Axis(0))
}

/// Runs the main path forward and backward with `plan` for gates `h` (and writes the experts'
/// weight gradient when `expert_gradient`).
fn run_with(
    net: &GatedNet,
    x: &Array2<f32>,
    y: &[u8],
    h: &Array2<f32>,
    plan: MainPlan,
    expert_gradient: bool,
) -> (f32, gradrace::net::Activations, gradrace::net::Gradients) {
    let mut acts = net.activations(BATCH);
    let mut grads = net.gradients(BATCH);
    let loss = net.forward_main(x.view(), y, h.view(), &mut acts, plan);
    net.backward_main(x.view(), y, h.view(), &acts, &mut grads, plan);
    if expert_gradient {
        net.expert_gradient(x.view(), &acts, &mut grads, plan);
    }
    (loss, acts, grads)
}

/// [`run_with`] and the experts' weight gradient.
fn run(
    net: &GatedNet,
    x: &Array2<f32>,
    y: &[u8],
    h: &Array2<f32>,
    plan: MainPlan,
) -> (f32, gradrace::net::Activations, gradrace::net::Gradients) {
    run_with(net, x, y, h, plan, true)
}

#[test]
fn gated_kernels_match_the_dense_path() {
    let (x, y) = inputs(1);
    for activation in [Activation::Linear, Activation::Relu, Activation::Tanh] {
        let net = net(activation, 2);
        for (k, rate) in [0.0, 0.1, 0.5, 1.0].into_iter().enumerate() {
            let h = gates(rate, 10 + k as u64);
            let dense = MainPlan::default();
            let (l0, a0, g0) = run(&net, &x, &y, &h, dense);
            for gate_gradient in [
                GateGradient::Skip,
                GateGradient::WhereOn,
                GateGradient::Everywhere,
            ] {
                for order in [SparseOrder::ByExpert, SparseOrder::ByExample] {
                    let plan = MainPlan {
                        sparse: true,
                        gate_gradient,
                        order,
                    };
                    let what = format!("{activation:?} rate {rate} {gate_gradient:?} {order:?}");
                    let (l1, a1, g1) = run(&net, &x, &y, &h, plan);
                    assert_eq!(a1.routes.active(), h.iter().filter(|&&v| v != 0.0).count());
                    assert!((l0 - l1).abs() <= 1e-5 * l0.abs().max(1.0), "{what}: loss");
                    close(
                        a0.logits.view(),
                        a1.logits.view(),
                        &format!("{what}: logits"),
                    );
                    close(
                        a0.conditional.view(),
                        a1.conditional.view(),
                        &format!("{what}: c"),
                    );
                    let losses0 = a0.loss.losses.view().insert_axis(ndarray::Axis(0));
                    let losses1 = a1.loss.losses.view().insert_axis(ndarray::Axis(0));
                    close(losses0, losses1, &format!("{what}: per-example losses"));
                    close(
                        g0.experts.w.view(),
                        g1.experts.w.view(),
                        &format!("{what}: ∂Wₑ"),
                    );
                    close(
                        one_row(&g0.experts.b),
                        one_row(&g1.experts.b),
                        &format!("{what}: ∂bₑ"),
                    );
                    close(
                        g0.output.w.view(),
                        g1.output.w.view(),
                        &format!("{what}: ∂Wₒ"),
                    );
                    close(
                        one_row(&g0.output.b),
                        one_row(&g1.output.b),
                        &format!("{what}: ∂bₒ"),
                    );
                    // Experts no example uses get exactly zero gradient.
                    if rate < 1.0 {
                        assert!(g1.experts.w.column(3).iter().all(|&v| v == 0.0), "{what}");
                        assert_eq!(g1.experts.b[3], 0.0, "{what}");
                        assert!(g1.output.w.row(3).iter().all(|&v| v == 0.0), "{what}");
                    }
                    match gate_gradient {
                        GateGradient::Everywhere => {
                            close(g0.dgates.view(), g1.dgates.view(), &format!("{what}: ∂h"))
                        }
                        GateGradient::WhereOn => {
                            let masked = Array2::from_shape_fn(h.raw_dim(), |(b, i)| {
                                if h[[b, i]] != 0.0 {
                                    g0.dgates[[b, i]]
                                } else {
                                    0.0
                                }
                            });
                            close(masked.view(), g1.dgates.view(), &format!("{what}: ∂h on"));
                        }
                        GateGradient::Skip => {}
                    }
                }
            }
        }
    }
}

/// Every estimator that says it does not need ∂L/∂h at gates that are off really has ∂h/∂a = 0
/// there, so the gated kernels' zeros change nothing.
#[test]
fn estimators_needing_no_gate_gradient_when_off_have_zero_local_derivative_there() {
    let mut rng = rng_for(3, "local-derivative");
    let a = Array2::from_shape_fn((64, 40), |_| rng.random_range(-4.0f32..4.0));
    let specs = [
        EstimatorSpec::StochasticTimesSmooth {
            bernoulli: StsBernoulli::SqrtP,
            beta_noise: Some(BetaNoise {
                mode: 0.1,
                beta: 40.0,
            }),
        },
        EstimatorSpec::StochasticTimesSmooth {
            bernoulli: StsBernoulli::P,
            beta_noise: None,
        },
        EstimatorSpec::NoisyRectifier {
            noise: RectifierNoise::Gaussian { std: 1.0 },
        },
        EstimatorSpec::NoisyRectifier {
            noise: RectifierNoise::Multiplicative { keep: 0.5 },
        },
        EstimatorSpec::NoisyRectifier {
            noise: RectifierNoise::None,
        },
        EstimatorSpec::StraightThrough {
            variant: StraightThroughVariant::Identity,
        },
    ];
    for spec in specs {
        let est = spec.build();
        let mut s = GateSample::zeros(64, 40);
        est.sample(a.view(), &mut rng, std::slice::from_mut(&mut s));
        let off = s.h.iter().filter(|&&v| v == 0.0).count();
        assert!(off > 100, "{spec:?}: some gates must be off");
        let aux_at_off =
            s.h.iter()
                .zip(s.aux.iter())
                .filter(|(h, _)| **h == 0.0)
                .any(|(_, &aux)| aux != 0.0);
        assert_eq!(
            aux_at_off,
            est.reads() == GateGradient::Everywhere,
            "{spec:?}: ∂h/∂a at gates that are off"
        );
    }
}

fn lane(spec: EstimatorSpec, choice: MainPathChoice) -> Lane {
    let config = NetConfig {
        gater_hidden: 16,
        gater_activation: Activation::Tanh,
        experts: 60,
        expert_activation: Activation::Linear,
    };
    let net = GatedNet::init(INPUTS, CLASSES, &config, &mut rng_for(5, "init"));
    let mut settings = LaneSettings::paper(spec);
    settings.expert_activation = Activation::Relu;
    let mut lane = Lane::new(net, settings, rng_for(5, "lane"));
    lane.set_main_path(choice);
    lane
}

#[test]
fn training_with_gated_kernels_follows_the_dense_masked_run() {
    let mut rng = rng_for(6, "train-data");
    let x = Array2::from_shape_fn((16, INPUTS), |_| rng.random_range(-1.0f32..1.0));
    let y: Vec<u8> = (0..16)
        .map(|_| rng.random_range(0..CLASSES as u8))
        .collect();
    let specs = [
        EstimatorSpec::StraightThrough {
            variant: StraightThroughVariant::Identity,
        },
        EstimatorSpec::StochasticTimesSmooth {
            bernoulli: StsBernoulli::SqrtP,
            beta_noise: None,
        },
        EstimatorSpec::NoisyRectifier {
            noise: RectifierNoise::Gaussian { std: 1.0 },
        },
        EstimatorSpec::Unbiased {
            baseline: Baseline::OptimalPerUnit,
        },
    ];
    for spec in specs {
        let mut sparse = lane(spec, MainPathChoice::Sparse);
        let mut dense = lane(spec, MainPathChoice::Dense);
        let mut used_kernels = 0;
        for step in 0..40 {
            let s = sparse.train_step(x.view(), &y);
            let d = dense.train_step(x.view(), &y);
            used_kernels += s.gated_kernels as usize;
            assert!(!d.gated_kernels);
            let what = format!("{spec:?} step {step}");
            assert_eq!(s.firing_rate, d.firing_rate, "{what}: same gates drawn");
            assert!(
                (s.cross_entropy - d.cross_entropy).abs() <= 1e-4 * d.cross_entropy.max(1.0),
                "{what}: loss {} vs {}",
                s.cross_entropy,
                d.cross_entropy
            );
            assert!(
                (s.sparsity_penalty - d.sparsity_penalty).abs()
                    <= 1e-4 * d.sparsity_penalty.abs().max(1e-3),
                "{what}: penalty"
            );
            assert_eq!(s.correct, d.correct, "{what}");
        }
        assert_eq!(
            used_kernels, 40,
            "{spec:?}: every step used the gated kernels"
        );
        let (sparse, dense) = (sparse.parameters().clone(), dense.parameters());
        for (a, b, name) in [
            (&sparse.experts.w, &dense.experts.w, "experts"),
            (&sparse.output.w, &dense.output.w, "output"),
            (&sparse.gater_gates.w, &dense.gater_gates.w, "gates"),
            (&sparse.gater_hidden.w, &dense.gater_hidden.w, "hidden"),
        ] {
            let d = max_diff(a.view(), b.view());
            assert!(d < 1e-4, "{spec:?}: {name} weights differ by {d}");
        }
    }
}

/// The fused gater step with the sparse gate layer gives the parameters and ∂L/∂z of the dense
/// fused step, which in turn gives those of the unfused backward pass followed by plain SGD and
/// the max-norm constraint — for a sparse ∂L/∂a with an example and a unit without any entry.
#[test]
fn sparse_gater_step_matches_the_dense_step_and_plain_sgd() {
    let (x, _) = inputs(21);
    for (max_norm, clip_all) in [(None, false), (Some(0.35f32), true), (Some(50.0), false)] {
        let base = net(Activation::Linear, 22);
        let mut acts = base.activations(BATCH);
        base.forward_gater(x.view(), &mut acts);
        let mut grads = base.gradients(BATCH);
        // About 10% of ∂L/∂a non-zero; example 0 and unit 3 have none.
        grads.dgate_pre.assign(&gates(0.1, 23));
        let lr = 0.3;

        // Reference: unfused backward pass, then θ ← θ − η g and the max norm.
        let mut reference = base.clone();
        let mut g = grads.clone();
        reference.backward_gater(x.view(), &acts, &mut g);
        for (layer, grad) in [
            (&mut reference.gater_gates, &g.gater_gates),
            (&mut reference.gater_hidden, &g.gater_hidden),
        ] {
            layer.w.zip_mut_with(&grad.w, |w, &d| *w -= lr * d);
            layer.b.zip_mut_with(&grad.b, |b, &d| *b -= lr * d);
            if let Some(c) = max_norm {
                layer.clip_incoming_norms(c);
            }
        }

        let mut steps = Vec::new();
        for allow_sparse in [true, false] {
            let mut stepped = base.clone();
            let mut g = grads.clone();
            let settings = FusedStep {
                learning_rate: lr,
                max_norm,
                clip_all,
            };
            let step = stepped.step_gater(x.view(), &acts, &mut g, settings, allow_sparse);
            assert_eq!(step.sparse, allow_sparse);
            let nonzero = grads.dgate_pre.iter().filter(|&&v| v != 0.0).count();
            let expected = if allow_sparse { nonzero } else { BATCH * UNITS };
            assert_eq!(step.backward_entries, expected);
            steps.push((stepped, g));
        }
        let what = format!("max norm {max_norm:?}");
        for (stepped, g) in &steps {
            close(
                stepped.gater_gates.w.view(),
                reference.gater_gates.w.view(),
                &format!("{what}: W₂"),
            );
            close(
                one_row(&stepped.gater_gates.b),
                one_row(&reference.gater_gates.b),
                &format!("{what}: b₂"),
            );
            close(
                stepped.gater_hidden.w.view(),
                reference.gater_hidden.w.view(),
                &format!("{what}: W₁"),
            );
            close(
                one_row(&stepped.gater_hidden.b),
                one_row(&reference.gater_hidden.b),
                &format!("{what}: b₁"),
            );
            close(
                g.dgater_hidden.view(),
                steps[1].1.dgater_hidden.view(),
                &format!("{what}: ∂L/∂(x W₁ + b₁)"),
            );
        }
        // Unit 3 had no entry: the sparse step left its weights alone (no clipping needed at
        // norm 50, none asked for without a max norm).
        if !clip_all {
            let (sparse, _) = &steps[0];
            assert_eq!(sparse.gater_gates.w.column(3), base.gater_gates.w.column(3));
            assert_eq!(sparse.gater_gates.b[3], base.gater_gates.b[3]);
        }
    }
}

/// The gated kernels' momentum step of the experts, each column's gradient used as it is
/// formed, gives the bits of the gradient written out and then stepped with
/// `Sgd::step_clipped`, over several steps (so the velocity matters), for gates firing at 10%
/// (an unused expert's velocity still decays) and with a max norm that clips some columns.
#[test]
fn fused_momentum_step_of_the_experts_matches_the_written_gradient() {
    use gradrace::nn::{Sgd, SgdSettings};
    let (x, y) = inputs(31);
    let base = net(Activation::Linear, 32);
    let settings = SgdSettings {
        learning_rate: 0.7,
        momentum: 0.5,
    };
    let plan = MainPlan {
        sparse: true,
        gate_gradient: GateGradient::WhereOn,
        order: SparseOrder::ByExpert,
    };
    let (mut fused, mut written) = (base.clone(), base.clone());
    let (mut fused_opt, mut written_opt) = (Sgd::new(&base.experts), Sgd::new(&base.experts));
    for step in 0..4 {
        let h = gates(0.1, 33 + step);
        let (_, acts, mut grads) = run_with(&fused, &x, &y, &h, plan, false);
        fused.momentum_step_experts(
            x.view(),
            &acts,
            &mut grads,
            plan,
            &mut fused_opt,
            settings,
            Some(0.8),
        );
        let (_, _, grads) = run(&written, &x, &y, &h, plan);
        written_opt.step_clipped(&mut written.experts, &grads.experts, settings, Some(0.8));
    }
    assert_eq!(bits(&fused.experts.w), bits(&written.experts.w));
    assert_eq!(fused.experts.b, written.experts.b);
    assert_eq!(fused_opt.velocity, written_opt.velocity);
    assert!(
        columns_at_norm(fused.experts.w.view(), 0.8) > 0,
        "the max norm acted on some column"
    );
}

/// The gater's fused momentum step (no gradient buffers: v ← μ v − η zᵀδ in one product)
/// follows the written gradients stepped with `Sgd::step_clipped`, to f32 rounding, over
/// several steps and with a max norm that clips some columns.
#[test]
fn fused_momentum_step_of_the_gater_matches_the_written_gradients() {
    use gradrace::nn::{Sgd, SgdSettings};
    let (x, _) = inputs(41);
    let base = net(Activation::Linear, 42);
    let settings = SgdSettings {
        learning_rate: 0.3,
        momentum: 0.5,
    };
    let (mut fused, mut written) = (base.clone(), base.clone());
    let (mut fused_h, mut fused_g) = (Sgd::new(&base.gater_hidden), Sgd::new(&base.gater_gates));
    let (mut written_h, mut written_g) = (fused_h.clone(), fused_g.clone());
    for step in 0..3 {
        // Any ∂L/∂a will do.
        let delta = gates(0.3, 43 + step);
        let mut acts = fused.activations(BATCH);
        fused.forward_gater(x.view(), &mut acts);
        let mut grads = fused.gradients(BATCH);
        grads.dgate_pre.assign(&delta);
        fused.momentum_step_gater(
            x.view(),
            &acts,
            &mut grads,
            &mut fused_h,
            &mut fused_g,
            settings,
            Some(0.5),
        );

        let mut acts = written.activations(BATCH);
        written.forward_gater(x.view(), &mut acts);
        let mut grads = written.gradients(BATCH);
        grads.dgate_pre.assign(&delta);
        written.backward_gater(x.view(), &acts, &mut grads);
        written_h.step_clipped(
            &mut written.gater_hidden,
            &grads.gater_hidden,
            settings,
            Some(0.5),
        );
        written_g.step_clipped(
            &mut written.gater_gates,
            &grads.gater_gates,
            settings,
            Some(0.5),
        );
    }
    close(
        fused.gater_gates.w.view(),
        written.gater_gates.w.view(),
        "W₂",
    );
    close(
        fused.gater_hidden.w.view(),
        written.gater_hidden.w.view(),
        "W₁",
    );
    close(
        one_row(&fused.gater_gates.b),
        one_row(&written.gater_gates.b),
        "b₂",
    );
    close(
        one_row(&fused.gater_hidden.b),
        one_row(&written.gater_hidden.b),
        "b₁",
    );
    close(fused_g.velocity.w.view(), written_g.velocity.w.view(), "v₂");
    close(fused_h.velocity.w.view(), written_h.velocity.w.view(), "v₁");
    assert!(
        columns_at_norm(fused.gater_gates.w.view(), 0.5) > 0,
        "the max norm acted on some column"
    );
}

/// Holding each gated step's update of the experts' weights back for the next forward pass
/// (as the race does) gives the bits of applying it at once: the losses and firing step by
/// step and every parameter whenever the weights are brought up to date — with a different
/// minibatch each step, the max norm biting, and a stretch on the dense path in between. Lanes
/// that do not defer (momentum; straight-through, whose forward pass computes every expert)
/// hold nothing back.
#[test]
fn deferred_expert_steps_give_the_bits_of_immediate_steps() {
    let mut rng = rng_for(31, "deferred-data");
    let batches: Vec<(Array2<f32>, Vec<u8>)> = (0..3)
        .map(|_| {
            let x = Array2::from_shape_fn((16, INPUTS), |_| rng.random_range(-1.0f32..1.0));
            let y = (0..16)
                .map(|_| rng.random_range(0..CLASSES as u8))
                .collect();
            (x, y)
        })
        .collect();
    let specs = [
        (
            EstimatorSpec::NoisyRectifier {
                noise: RectifierNoise::Gaussian { std: 1.0 },
            },
            true,
        ),
        (
            EstimatorSpec::NoisyRectifier {
                noise: RectifierNoise::None,
            },
            true,
        ),
        (
            EstimatorSpec::Unbiased {
                baseline: Baseline::OptimalPerUnit,
            },
            true,
        ),
        (
            EstimatorSpec::StraightThrough {
                variant: StraightThroughVariant::Identity,
            },
            false,
        ),
        (
            EstimatorSpec::StochasticTimesSmooth {
                bernoulli: StsBernoulli::SqrtP,
                beta_noise: None,
            },
            false,
        ),
    ];
    let same_net = |a: &mut Lane, b: &mut Lane, what: &str| {
        let (a, b) = (a.parameters().clone(), b.parameters());
        for (x, y, name) in [
            (&a.experts, &b.experts, "experts"),
            (&a.output, &b.output, "output"),
            (&a.gater_gates, &b.gater_gates, "gate layer"),
            (&a.gater_hidden, &b.gater_hidden, "gater hidden"),
        ] {
            assert_eq!(bits(&x.w), bits(&y.w), "{what}: {name} weights");
            assert_eq!(bits(&x.b), bits(&y.b), "{what}: {name} biases");
        }
    };
    for (spec, plain_sgd) in specs {
        let make = || {
            let mut lane = lane(spec, MainPathChoice::Sparse);
            // A norm the columns reach, so that the clip inside the deferred step matters.
            let mut settings = *lane.settings();
            settings.max_norm = Some(0.9);
            let net = lane.parameters().clone();
            lane = Lane::new(net, settings, rng_for(5, "lane"));
            lane.set_main_path(MainPathChoice::Sparse);
            lane
        };
        let (mut immediate, mut deferred) = (make(), make());
        immediate.set_deferred_expert_steps(false);
        let mut held = 0;
        for step in 0..30 {
            let path = match step {
                12..15 => MainPathChoice::Dense,
                _ => MainPathChoice::Sparse,
            };
            immediate.set_main_path(path);
            deferred.set_main_path(path);
            let (x, y) = &batches[step % batches.len()];
            let a = immediate.train_step(x.view(), y);
            let b = deferred.train_step(x.view(), y);
            let what = format!("{spec:?} step {step}");
            assert_eq!(
                a.cross_entropy.to_bits(),
                b.cross_entropy.to_bits(),
                "{what}"
            );
            assert_eq!(a.firing_rate, b.firing_rate, "{what}");
            assert_eq!(a.correct, b.correct, "{what}");
            assert!(!immediate.holds_an_update(), "{what}");
            held += usize::from(deferred.holds_an_update());
            if step % 7 == 3 {
                same_net(&mut immediate, &mut deferred, &what);
            }
        }
        same_net(
            &mut immediate,
            &mut deferred,
            &format!("{spec:?} at the end"),
        );
        let clipped = columns_at_norm(deferred.parameters().experts.w.view(), 0.9);
        assert!(clipped > 0, "{spec:?}: the max norm never bit");
        if plain_sgd {
            // Every gated step after the first (which clips every column at once) is held back.
            assert!(held >= 25, "{spec:?}: {held} steps held back");
        } else {
            assert_eq!(held, 0, "{spec:?}: nothing to hold back");
        }
    }
}
