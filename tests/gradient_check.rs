//! Finite-difference checks of the hand-written backward passes of the whole gated network.
//!
//! Everything runs in f32. With weights and inputs of order 1, central differences with
//! ε = 1e-2 have a truncation error of order ε²·|L'''|/6 ≈ 2e-5 and a rounding error of order
//! 1e-7·|L|/ε ≈ 1e-5, so a tolerance of 1e-3 absolute plus 1% relative is conservative yet still
//! catches any wrong term (a missing factor or transpose changes gradients by O(1)).

use gradrace::estimators::{Evaluations, GateEstimator, SigmoidGate};
use gradrace::net::{AdaptiveL1, GatedNet, MainPlan, NetConfig, firing_rate_penalty};
use gradrace::nn::Activation;
use gradrace::nn::init::glorot_uniform;
use gradrace::seed::rng_for;
use ndarray::Array2;

const EPS: f32 = 1e-2;

fn close(fd: f64, analytic: f32, what: &str) {
    let g = analytic as f64;
    assert!(
        (fd - g).abs() <= 1e-3 + 1e-2 * g.abs(),
        "{what}: finite difference {fd} vs backward {g}"
    );
}

fn net(expert_activation: Activation) -> (GatedNet, Array2<f32>, Vec<u8>) {
    let mut rng = rng_for(11, "fd-net");
    let config = NetConfig {
        gater_hidden: 7,
        gater_activation: Activation::Tanh,
        experts: 9,
        expert_activation,
    };
    let net = GatedNet::init(8, 4, &config, &mut rng);
    let x = glorot_uniform(5, 8, &mut rng).mapv(|v| 3.0 * v);
    (net, x, vec![0, 3, 1, 2, 3])
}

/// Gates with exact zeros, ones and fractional values.
fn fixed_gates() -> Array2<f32> {
    Array2::from_shape_fn((5, 9), |(b, i)| match (b * 9 + i) % 4 {
        0 => 0.0,
        1 => 1.0,
        2 => 0.35,
        _ => 0.8,
    })
}

fn main_loss(net: &GatedNet, x: &Array2<f32>, y: &[u8], h: &Array2<f32>) -> f64 {
    net.losses_for_gates(x.view(), y, h.view())
        .iter()
        .map(|&l| l as f64)
        .sum::<f64>()
        / y.len() as f64
}

#[test]
fn main_path_and_gate_gradients_match_finite_differences_with_fixed_gates() {
    for act in [Activation::Linear, Activation::Relu] {
        let (net, x, y) = net(act);
        let h = fixed_gates();
        let mut acts = net.activations(5);
        let mut grads = net.gradients(5);
        let plan = MainPlan::default();
        net.forward_main(x.view(), &y, h.view(), &mut acts, plan);
        net.backward_main(x.view(), &y, h.view(), &acts, &mut grads, plan);
        net.expert_gradient(x.view(), &acts, &mut grads, plan);

        for (i, j) in [(0, 0), (3, 4), (7, 8), (5, 2), (1, 6)] {
            let mut p = net.clone();
            p.experts.w[[i, j]] += EPS;
            let mut m = net.clone();
            m.experts.w[[i, j]] -= EPS;
            let fd = (main_loss(&p, &x, &y, &h) - main_loss(&m, &x, &y, &h)) / (2.0 * EPS as f64);
            close(
                fd,
                grads.experts.w[[i, j]],
                &format!("{act:?} experts.w[{i},{j}]"),
            );
        }
        for j in 0..9 {
            let mut p = net.clone();
            p.experts.b[j] += EPS;
            let mut m = net.clone();
            m.experts.b[j] -= EPS;
            let fd = (main_loss(&p, &x, &y, &h) - main_loss(&m, &x, &y, &h)) / (2.0 * EPS as f64);
            close(fd, grads.experts.b[j], &format!("{act:?} experts.b[{j}]"));
        }
        for i in 0..9 {
            for k in 0..4 {
                let mut p = net.clone();
                p.output.w[[i, k]] += EPS;
                let mut m = net.clone();
                m.output.w[[i, k]] -= EPS;
                let fd =
                    (main_loss(&p, &x, &y, &h) - main_loss(&m, &x, &y, &h)) / (2.0 * EPS as f64);
                close(fd, grads.output.w[[i, k]], &format!("output.w[{i},{k}]"));
            }
        }
        // ∂L/∂h, what every back-propagating estimator consumes.
        for b in 0..5 {
            for i in 0..9 {
                let mut hp = h.clone();
                hp[[b, i]] += EPS;
                let mut hm = h.clone();
                hm[[b, i]] -= EPS;
                let fd = (main_loss(&net, &x, &y, &hp) - main_loss(&net, &x, &y, &hm))
                    / (2.0 * EPS as f64);
                close(fd, grads.dgates[[b, i]], &format!("{act:?} ∂L/∂h[{b},{i}]"));
            }
        }
    }
}

/// L(θ) = CE(θ; h = σ(a(θ))) + Ω(a(θ)) with deterministic sigmoid gates and the cross-entropy
/// sparsity penalty: every term of the gater's backward pass is exercised.
fn gater_objective(net: &GatedNet, x: &Array2<f32>, y: &[u8]) -> f64 {
    let gate = SigmoidGate { noise_std: 0.0 };
    let mut acts = net.activations(5);
    net.forward_gater(x.view(), &mut acts);
    let h = acts.gate_pre.mapv(|a| gate.test_gate(a));
    let ce = main_loss(net, x, y, &h);
    let mut sink = Array2::zeros(acts.gate_pre.raw_dim());
    let omega = firing_rate_penalty(&gate, acts.gate_pre.view(), 0.1, 0.3, &mut sink);
    ce + omega as f64
}

#[test]
fn gater_gradients_match_finite_differences_through_sigmoid_gates_and_sparsity_penalty() {
    let (net, x, y) = net(Activation::Linear);
    let gate = SigmoidGate { noise_std: 0.0 };
    let mut acts = net.activations(5);
    let mut grads = net.gradients(5);
    let mut rng = rng_for(0, "unused");
    net.forward_gater(x.view(), &mut acts);
    let mut gates = [net.gate_sample(5)];
    gate.sample(acts.gate_pre.view(), &mut rng, &mut gates);
    let (h, plan) = (gates[0].h.view(), MainPlan::default());
    net.forward_main(x.view(), &y, h, &mut acts, plan);
    net.backward_main(x.view(), &y, h, &acts, &mut grads, plan);
    let evals = Evaluations::of_one(acts.loss.losses.view(), grads.dgates.view());
    gate.gate_gradient(&gates, &evals, &mut grads.dgate_pre);
    firing_rate_penalty(&gate, acts.gate_pre.view(), 0.1, 0.3, &mut grads.dgate_pre);
    net.backward_gater(x.view(), &acts, &mut grads);

    for (i, j) in [(0, 0), (2, 5), (6, 8), (4, 1), (3, 3)] {
        let mut p = net.clone();
        p.gater_gates.w[[i, j]] += EPS;
        let mut m = net.clone();
        m.gater_gates.w[[i, j]] -= EPS;
        let fd = (gater_objective(&p, &x, &y) - gater_objective(&m, &x, &y)) / (2.0 * EPS as f64);
        close(fd, grads.gater_gates.w[[i, j]], &format!("W₂[{i},{j}]"));
    }
    for (i, j) in [(0, 0), (7, 6), (3, 2), (5, 4)] {
        let mut p = net.clone();
        p.gater_hidden.w[[i, j]] += EPS;
        let mut m = net.clone();
        m.gater_hidden.w[[i, j]] -= EPS;
        let fd = (gater_objective(&p, &x, &y) - gater_objective(&m, &x, &y)) / (2.0 * EPS as f64);
        close(fd, grads.gater_hidden.w[[i, j]], &format!("W₁[{i},{j}]"));
    }
    for j in 0..7 {
        let mut p = net.clone();
        p.gater_hidden.b[j] += EPS;
        let mut m = net.clone();
        m.gater_hidden.b[j] -= EPS;
        let fd = (gater_objective(&p, &x, &y) - gater_objective(&m, &x, &y)) / (2.0 * EPS as f64);
        close(fd, grads.gater_hidden.b[j], &format!("b₁[{j}]"));
    }
}

#[test]
fn l1_penalty_gradient_and_adaptation() {
    let h = fixed_gates();
    let mut l1 = AdaptiveL1::new(0.1, 1e-5);
    let mut dh = Array2::zeros(h.raw_dim());
    let omega = l1.apply(h.view(), &mut dh);
    // Ω = λ Σ_b Σ_i h_bi (summed over the minibatch, as the authors' code), ∂Ω/∂h_bi = λ.
    assert!((omega - 1e-5 * h.sum()).abs() < 1e-10);
    assert!(dh.iter().all(|&g| (g - 1e-5).abs() < 1e-12));
    l1.adapt(0.5);
    assert!((l1.lambda - 1.1e-5).abs() < 1e-11);
    l1.adapt(0.105);
    assert!(
        (l1.lambda - 1.1e-5).abs() < 1e-11,
        "inside the dead band λ is kept"
    );
    l1.adapt(0.0);
    assert!((l1.lambda - 0.99e-5).abs() < 1e-11);
}
