// Temporary profiling harness (not committed).
use gradrace::net::{GateGradient, GatedNet, MainPlan, NetConfig, SparseOrder};
use gradrace::nn::Activation;
use gradrace::seed::rng_for;
use ndarray::{Array2, ShapeBuilder};
use rand::Rng as _;
use std::time::Instant;

fn main() {
    if std::env::var("BW").is_ok() {
        bw();
        return;
    }
    let rate: f32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(0.1);
    let reps: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2000);
    let config = NetConfig {
        gater_hidden: 1,
        gater_activation: Activation::Tanh,
        experts: std::env::var("N")
            .map(|s| s.parse().unwrap())
            .unwrap_or(2000),
        expert_activation: Activation::Linear,
    };
    let mut rng = rng_for(1, "x");
    let d: usize = std::env::var("D")
        .map(|s| s.parse().unwrap())
        .unwrap_or(784);
    let net = GatedNet::init(d, 10, &config, &mut rng);
    let x = Array2::from_shape_fn((32, d), |_| rng.random::<f32>());
    let y: Vec<u8> = (0..32).map(|_| rng.random_range(0..10) as u8).collect();
    let h = Array2::from_shape_fn((32, config.experts).f(), |_| {
        if rng.random::<f32>() < rate { 1.0 } else { 0.0 }
    });
    for sparse in std::env::args()
        .nth(3)
        .map(|s| vec![s == "sparse"])
        .unwrap_or(vec![false, true])
    {
        let mut acts = net.activations(32);
        acts.gates.h.assign(&h);
        acts.plan = MainPlan {
            sparse,
            gate_gradient: GateGradient::WhereOn,
            order: SparseOrder::ByExpert,
            defer_expert_gradient: false,
        };
        let mut grads = net.gradients(32);
        let (mut tf, mut tb) = (0.0, 0.0);
        for _ in 0..reps {
            let t = Instant::now();
            net.forward_main(x.view(), &y, &mut acts);
            let t1 = Instant::now();
            net.backward_main(x.view(), &y, &acts, &mut grads);
            tb += t1.elapsed().as_secs_f64();
            tf += (t1 - t).as_secs_f64();
        }
        println!(
            "sparse={sparse}: forward {:.3} ms, backward {:.3} ms",
            1e3 * tf / reps as f64,
            1e3 * tb / reps as f64
        );
    }
}

pub fn bw() {
    let n = 784 * 2000;
    let mut a = vec![1.0f32; n];
    let mut b = vec![2.0f32; n];
    let reps = 500;
    let t = Instant::now();
    let mut s = 0.0f32;
    for _ in 0..reps {
        s += std::hint::black_box(&a).iter().fold(0.0f32, |x, y| x + y);
    }
    let dt = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "read 6.3MB: {:.3} ms  {:.1} GB/s ({s})",
        dt * 1e3,
        4.0 * n as f64 / dt / 1e9
    );
    let t = Instant::now();
    for r in 0..reps {
        std::hint::black_box(&mut b)
            .iter_mut()
            .for_each(|v| *v = r as f32);
    }
    let dt = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "write 6.3MB: {:.3} ms  {:.1} GB/s",
        dt * 1e3,
        4.0 * n as f64 / dt / 1e9
    );
    let t = Instant::now();
    for r in 0..reps {
        std::hint::black_box(&mut a)
            .iter_mut()
            .for_each(|v| *v += r as f32);
    }
    let dt = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "rmw 6.3MB: {:.3} ms  {:.1} GB/s",
        dt * 1e3,
        4.0 * n as f64 / dt / 1e9
    );
    std::hint::black_box((&a, &b));
}
