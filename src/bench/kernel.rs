//! Speed of the dense products: the largest layer's forward product and weight gradient as the
//! engine calls them (the layer's own buffers, layouts and bias), against plain products of the
//! same shapes on fresh row-major arrays and against a large square product, all with the same
//! library in the same run.

use ndarray::{Array1, Array2, ShapeBuilder};
use rand::Rng as _;
use serde::Serialize;

use super::timing::{Budget, interleaved};
use crate::nn::{Dense, DenseGrad, matmul_into};
use crate::seed::rng_for;

/// GFLOP/s of the dense products.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelResult {
    /// Which layer is the largest ("experts", "gates" or "gater hidden").
    pub layer: String,
    /// Its products, e.g. "32×784·784×2000".
    pub shape: String,
    /// Forward product + weight gradient as the layer computes them.
    pub layer_gflops: f64,
    /// The same two products on plain row-major arrays.
    pub plain_gflops: f64,
    /// Side of the square product.
    pub square: usize,
    /// A square product of that side.
    pub square_gflops: f64,
}

fn random(rows: usize, cols: usize, f: bool, seed: &str) -> Array2<f32> {
    let mut rng = rng_for(7, seed);
    let mut a = Array2::zeros((rows, cols).set_f(f));
    a.mapv_inplace(|_: f32| rng.random_range(-1.0f32..1.0));
    a
}

/// Measures the largest of the network's three weight matrices (inputs × experts, gater hidden ×
/// experts, inputs × gater hidden) at batch `batch`, and a `square`-sided product.
pub fn measure(
    batch: usize,
    inputs: usize,
    hidden: usize,
    experts: usize,
    budget: Budget,
    square: usize,
) -> KernelResult {
    let (name, d, n) = [
        ("experts", inputs, experts),
        ("gates", hidden, experts),
        ("gater hidden", inputs, hidden),
    ]
    .into_iter()
    .max_by_key(|&(_, d, n)| d * n)
    .expect("three layers");
    let flops = 4.0 * (batch * d * n) as f64;

    // The layer as the engine holds it: column-major weights and batch × units buffers.
    let mut layer = Dense {
        w: random(d, n, true, "bench/kernel/w"),
        b: Array1::zeros(n),
    };
    layer.make_column_major();
    let mut grad = DenseGrad::zeros_like(&layer);
    let x = random(batch, d, false, "bench/kernel/x");
    let mut y = Array2::zeros((batch, n).f());
    let dy = random(batch, n, true, "bench/kernel/dy");
    let mut run_layer = || {
        layer.forward_into(x.view(), &mut y);
        layer.param_grad_into(x.view(), dy.view(), 1.0, &mut grad);
    };

    // Plain row-major operands of the same two products.
    let pw = random(d, n, false, "bench/kernel/pw");
    let px = random(batch, d, false, "bench/kernel/px");
    let pxt = random(d, batch, false, "bench/kernel/pxt");
    let pdy = random(batch, n, false, "bench/kernel/pdy");
    let mut py = Array2::<f32>::zeros((batch, n));
    let mut pg = Array2::<f32>::zeros((d, n));
    let mut run_plain = || {
        matmul_into(px.view(), pw.view(), py.view_mut(), 1.0, false);
        matmul_into(pxt.view(), pdy.view(), pg.view_mut(), 1.0, false);
    };
    let [layer_s, plain_s] = interleaved(budget, &mut [&mut run_layer, &mut run_plain]);

    let a = random(square, square, false, "bench/kernel/a");
    let b = random(square, square, false, "bench/kernel/b");
    let mut c = Array2::<f32>::zeros((square, square));
    let mut run_square = || matmul_into(a.view(), b.view(), c.view_mut(), 1.0, false);
    let square_budget = Budget {
        rounds: budget.rounds,
        reps: 1,
    };
    let [square_s] = interleaved(square_budget, &mut [&mut run_square]);
    KernelResult {
        layer: name.to_string(),
        shape: format!("{batch}×{d}·{d}×{n}"),
        layer_gflops: flops / layer_s / 1e9,
        plain_gflops: flops / plain_s / 1e9,
        square,
        square_gflops: 2.0 * (square as f64).powi(3) / square_s / 1e9,
    }
}
