//! The conditional layer alone: experts, gates and softmax layer, forward + backward (loss,
//! parameter gradients of the experts and the softmax layer, ∂L/∂h), with the gated kernels
//! against the dense-masked path, for random binary gates firing at a given rate.

use ndarray::Array2;
use rand::Rng as _;
use serde::Serialize;

use super::timing::{Budget, interleaved};
use crate::estimators::GateGradient;
use crate::net::{GatedNet, MainPlan, NetConfig, SparseOrder};
use crate::nn::Activation;
use crate::nn::simd::dots;
use crate::seed::rng_for;

/// The layer's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shapes {
    /// Examples per minibatch.
    pub batch: usize,
    /// Input dimension.
    pub inputs: usize,
    /// Experts (= gates).
    pub experts: usize,
    /// Classes.
    pub classes: usize,
    /// Expert non-linearity.
    pub activation: Activation,
}

/// One firing rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerResult {
    /// Probability that a gate is on.
    pub firing_rate: f32,
    /// Fraction of gates on in the measured minibatch.
    pub measured_rate: f32,
    /// Fraction of experts at least one example uses.
    pub experts_used: f32,
    /// Seconds per forward + backward, every expert computed.
    pub dense_seconds: f64,
    /// Seconds per forward + backward with the gated kernels.
    pub sparse_seconds: f64,
    /// dense / gated.
    pub speedup: f64,
    /// Seconds to read the incoming weights of every used expert once and to write its gradient
    /// column once, in two passes as the gated kernels do: the least memory traffic the gated
    /// forward + backward can have.
    pub floor_seconds: f64,
    /// dense / floor: the most the gated kernels could gain on this machine at this pattern of
    /// gates.
    pub speedup_cap: f64,
}

/// One way of organising the gated kernels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerOption {
    /// What it is.
    pub name: String,
    /// Probability that a gate is on.
    pub firing_rate: f32,
    /// Seconds of the dense path with the same ∂L/∂h needs.
    pub dense_seconds: f64,
    /// Seconds with the gated kernels.
    pub sparse_seconds: f64,
    /// dense / gated.
    pub speedup: f64,
}

struct Fixture {
    net: GatedNet,
    x: Array2<f32>,
    y: Vec<u8>,
}

fn fixture(s: &Shapes, seed: u64) -> Fixture {
    let config = NetConfig {
        gater_hidden: 1,
        gater_activation: Activation::Tanh,
        experts: s.experts,
        expert_activation: s.activation,
    };
    let mut rng = rng_for(seed, "bench/layer");
    let net = GatedNet::init(s.inputs, s.classes, &config, &mut rng);
    let mut x = Array2::from_shape_fn((s.batch, s.inputs), |_| rng.random::<f32>());
    crate::nn::aligned::realign(&mut x);
    let y = (0..s.batch)
        .map(|_| rng.random_range(0..s.classes) as u8)
        .collect();
    Fixture { net, x, y }
}

fn gates(s: &Shapes, rate: f32, seed: u64) -> Array2<f32> {
    let mut rng = rng_for(seed, &format!("bench/gates/{rate}"));
    Array2::from_shape_fn((s.batch, s.experts), |_| {
        if rng.random::<f32>() < rate { 1.0 } else { 0.0 }
    })
}

/// Seconds of forward + backward on one pattern of gates.
struct Timings {
    dense: f64,
    sparse: f64,
    /// The memory floor ([`LayerResult::floor_seconds`]), when asked for.
    floor: Option<f64>,
    /// Fraction of experts used.
    used: f32,
}

/// The least memory traffic of the gated forward + backward, in the passes the kernels make:
/// the forward pass reads the incoming weights Wₑ[:, i] of every expert in `used` once (here
/// into Σ_i Wₑ[:, i] · Wₑ[:, i], a dot product per column, whose arithmetic is negligible), the
/// backward pass writes its gradient column once (here zeros). Both matrices are column-major
/// slices, `inputs` long per expert.
fn read_and_write_used_columns(
    weights: &[f32],
    gradient: &mut [f32],
    inputs: usize,
    used: &[usize],
) -> f32 {
    let mut sum = 0.0;
    for &i in used {
        let column = &weights[i * inputs..(i + 1) * inputs];
        sum += dots::<1>(column, &[column])[0];
    }
    for &i in used {
        gradient[i * inputs..(i + 1) * inputs].fill(0.0);
    }
    sum
}

/// Times forward + backward with `sparse` against `dense` on gates `h`, and with `with_floor`
/// the memory floor of the gated path, in alternation.
fn compare(
    f: &Fixture,
    h: &Array2<f32>,
    dense: MainPlan,
    sparse: MainPlan,
    budget: Budget,
    with_floor: bool,
) -> Timings {
    let batch = f.y.len();
    let setup = || (f.net.activations(batch), f.net.gradients(batch));
    let mut gates = f.net.gate_sample(batch).h;
    gates.assign(h);
    let h = gates.view();
    // The experts some example uses (a non-zero gate in their column).
    let used: Vec<usize> = (0..f.net.units())
        .filter(|&i| h.column(i).iter().any(|&g| g != 0.0))
        .collect();
    let (mut da, mut dg) = setup();
    let (mut sa, mut sg) = setup();
    let (x, y) = (f.x.view(), &f.y);
    let mut run_dense = || {
        f.net.forward_main(x, y, h, &mut da, dense);
        f.net.backward_main(x, y, h, &da, &mut dg, dense);
        f.net.expert_gradient(x, &da, &mut dg, dense);
    };
    let mut run_sparse = || {
        f.net.forward_main(x, y, h, &mut sa, sparse);
        f.net.backward_main(x, y, h, &sa, &mut sg, sparse);
        f.net.expert_gradient(x, &sa, &mut sg, sparse);
    };
    let (dense, sparse, floor) = if with_floor {
        let weights = f.net.experts.w.t();
        let weights = weights.as_slice().expect("column-major expert weights");
        let mut gradient = vec![0.0f32; weights.len()];
        let inputs = f.net.input_dim();
        let mut run_floor = || {
            let sum = read_and_write_used_columns(weights, &mut gradient, inputs, &used);
            std::hint::black_box((sum, &mut gradient));
        };
        let [dense, sparse, floor] = interleaved(
            budget,
            &mut [&mut run_dense, &mut run_sparse, &mut run_floor],
        );
        (dense, sparse, Some(floor))
    } else {
        let [dense, sparse] = interleaved(budget, &mut [&mut run_dense, &mut run_sparse]);
        (dense, sparse, None)
    };
    Timings {
        dense,
        sparse,
        floor,
        used: used.len() as f32 / f.net.units().max(1) as f32,
    }
}

/// The layer at each firing rate of `rates`, with ∂L/∂h where gates are on (the common case:
/// stochastic times smooth, rectifiers).
pub fn sweep(s: &Shapes, rates: &[f32], budget: Budget, seed: u64) -> Vec<LayerResult> {
    let f = fixture(s, seed);
    let plan = |sparse| MainPlan {
        sparse,
        gate_gradient: GateGradient::WhereOn,
        order: SparseOrder::ByExpert,
    };
    rates
        .iter()
        .map(|&rate| {
            let h = gates(s, rate, seed);
            let measured_rate = h.iter().filter(|&&v| v != 0.0).count() as f32 / h.len() as f32;
            let t = compare(&f, &h, plan(false), plan(true), budget, true);
            let floor = t.floor.expect("timed with the floor");
            LayerResult {
                firing_rate: rate,
                measured_rate,
                experts_used: t.used,
                dense_seconds: t.dense,
                sparse_seconds: t.sparse,
                speedup: t.dense / t.sparse,
                floor_seconds: floor,
                speedup_cap: t.dense / floor,
            }
        })
        .collect()
}

/// The loop orders and the estimators' ∂L/∂h needs at firing rate `rate`.
pub fn options(s: &Shapes, rate: f32, budget: Budget, seed: u64) -> Vec<LayerOption> {
    let f = fixture(s, seed);
    let h = gates(s, rate, seed);
    let cases = [
        (
            "by expert (gather each expert's examples); ∂L/∂h where on",
            GateGradient::WhereOn,
            SparseOrder::ByExpert,
        ),
        (
            "by example (each example's active experts); ∂L/∂h where on",
            GateGradient::WhereOn,
            SparseOrder::ByExample,
        ),
        (
            "by expert; ∂L/∂h everywhere (straight-through: all experts forward)",
            GateGradient::Everywhere,
            SparseOrder::ByExpert,
        ),
        (
            "by expert; no ∂L/∂h (unbiased estimator)",
            GateGradient::Skip,
            SparseOrder::ByExpert,
        ),
    ];
    cases
        .into_iter()
        .map(|(name, gate_gradient, order)| {
            let dense = MainPlan {
                sparse: false,
                gate_gradient,
                order,
            };
            let sparse = MainPlan {
                sparse: true,
                ..dense
            };
            let t = compare(&f, &h, dense, sparse, budget, false);
            LayerOption {
                name: name.to_string(),
                firing_rate: rate,
                dense_seconds: t.dense,
                sparse_seconds: t.sparse,
                speedup: t.dense / t.sparse,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor's passes touch exactly the used columns: it reads them (Σ w² of those
    /// columns) and writes their gradient columns, leaving the others alone.
    #[test]
    fn the_floor_reads_and_writes_only_the_used_columns() {
        let inputs = 5;
        let weights: Vec<f32> = (0..4 * inputs).map(|v| v as f32 * 0.5).collect();
        let mut gradient = vec![7.0f32; weights.len()];
        let sum = read_and_write_used_columns(&weights, &mut gradient, inputs, &[1, 3]);
        let expect: f32 = [1usize, 3]
            .iter()
            .flat_map(|&i| &weights[i * inputs..(i + 1) * inputs])
            .map(|w| w * w)
            .sum();
        assert!((sum - expect).abs() <= 1e-4 * expect, "{sum} vs {expect}");
        for (i, column) in gradient.chunks(inputs).enumerate() {
            let want = if i == 1 || i == 3 { 0.0 } else { 7.0 };
            assert!(column.iter().all(|&g| g == want), "column {i}: {column:?}");
        }
    }
}
