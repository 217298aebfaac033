//! The gated kernels of the main path: compute only the experts whose gate is on.
//!
//! With gates h (batch B × N experts) holding exact zeros, example b needs expert i only when
//! h_bi ≠ 0. Per minibatch the kernels first *route* the batch: for every expert, the list of
//! examples that use it ([`ExpertRoutes`](super::ExpertRoutes), a compressed-column index of the non-zero gates).
//! Then, expert by expert, the expert's incoming weight vector Wₑ[:, i] (contiguous: the
//! network stores Wₑ column-major) is loaded once and used for all the examples routed to it:
//!
//! - forward: H_bi = g(x_b · Wₑ[:, i] + bₑ_i), c_bi = H_bi h_bi, logits_b += c_bi Wₒ[i, :];
//! - backward: ∂L/∂c_bi = ∂L/∂logits_b · Wₒ[i, :], ∂L/∂H_bi = ∂L/∂c_bi h_bi g'(H_bi),
//!   ∂L/∂Wₑ[:, i] = Σ_b ∂L/∂H_bi x_b, ∂L/∂Wₒ[i, :] = Σ_b c_bi ∂L/∂logits_b, and ∂L/∂h_bi =
//!   ∂L/∂c_bi H_bi where the estimator asks for it.
//!
//! Work and memory traffic are proportional to the number of non-zero gates, except that every
//! expert some example uses has its weight vector read once and its gradient column written
//! once. The alternative order — example by example over that example's active experts
//! ([`SparseOrder::ByExample`]) — reads each weight vector once per example that uses it;
//! `gradrace bench` measures both. A training step without momentum can also hand its update
//! of Wₑ to the next forward pass ([`GatedNet::forward_main_applying`], [`DeferredExpertStep`]), which then
//! updates each column just before using it: one pass over Wₑ a step for both.
//!
//! Estimators that need ∂L/∂h at gates that are *off* (straight-through: ∂L/∂a := ∂L/∂h at
//! every gate) need H_bi for every expert, so for them the forward pass computes all experts
//! densely and only the backward pass into the experts is sparse
//! ([`GateGradient::Everywhere`]). The unbiased estimator needs no ∂L/∂h at all
//! ([`GateGradient::Skip`]).

use ndarray::{ArrayView2, Zip};

use super::deferred::{DeferredExpertStep, update_column};
use super::gated::{Activations, GatedNet, Gradients};
use super::plan::{MainPlan, SparseOrder};
use super::routed_output;
use super::routes::ExpertRoutes;
use crate::estimators::GateGradient;
use crate::nn::dense::{ColumnMajorSlice, DenseGrad};
use crate::nn::optim::{SgdSettings, momentum_update};
use crate::nn::simd::{dots, dots_with, weighted_sum};

/// Why the gated kernels cannot run on some buffers (the caller then uses the dense path).
fn supported(net: &GatedNet, x: &ArrayView2<f32>, acts: &Activations) -> bool {
    net.experts.w.t().as_slice().is_some()
        && net.output.w.as_slice().is_some()
        && x.as_slice().is_some()
        && acts.logits.as_slice().is_some()
        && x.ncols() == net.input_dim()
        && [&acts.experts, &acts.conditional]
            .iter()
            .all(|a| a.as_slice_memory_order().is_some() && a.strides().iter().all(|&s| s >= 0))
}

/// Forward pass of the main path with the gated kernels, given the gates `h`: fills the routes,
/// the expert outputs of the routed entries (`acts.route_experts`), H and c where h ≠ 0 (0
/// elsewhere; with [`GateGradient::Everywhere`] H is computed for every expert), and the logits.
/// Returns false, touching nothing, when the buffers' layouts do not suit the kernels.
pub(crate) fn forward(
    net: &GatedNet,
    x: ArrayView2<f32>,
    h: ArrayView2<f32>,
    acts: &mut Activations,
    plan: MainPlan,
) -> bool {
    if !supported(net, &x, acts) {
        return false;
    }
    let d = net.input_dim();
    route(h, x.nrows(), acts, plan);
    let routes = &acts.routes;
    let xs = x.as_slice().expect("checked");
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let wt = net.experts.w.t();
    let wt = wt.as_slice().expect("checked");

    if plan.gate_gradient == GateGradient::Everywhere {
        net.experts.forward_into(x, &mut acts.experts);
        net.expert_activation.apply(&mut acts.experts);
    } else {
        match plan.order {
            SparseOrder::ByExpert => {
                for i in 0..net.units() {
                    expert_products(
                        &wt[i * d..(i + 1) * d],
                        i,
                        routes,
                        row,
                        &mut acts.route_experts,
                    );
                }
            }
            SparseOrder::ByExample => {
                let w = |k: u32| {
                    let i = routes.expert[k as usize] as usize;
                    &wt[i * d..(i + 1) * d]
                };
                for b in 0..x.nrows() {
                    let list = &routes.by_example_entry
                        [routes.by_example_start[b]..routes.by_example_start[b + 1]];
                    let xb = row(b as u32);
                    let mut k = 0;
                    while k + 4 <= list.len() {
                        let r = dots::<4>(
                            xb,
                            &[w(list[k]), w(list[k + 1]), w(list[k + 2]), w(list[k + 3])],
                        );
                        for (t, v) in r.into_iter().enumerate() {
                            acts.route_experts[list[k + t] as usize] = v;
                        }
                        k += 4;
                    }
                    for &entry in &list[k..] {
                        acts.route_experts[entry as usize] = dots::<1>(xb, &[w(entry)])[0];
                    }
                }
            }
        }
        acts.experts.fill(0.0);
    }
    outputs_and_logits(net, acts, plan);
    true
}

/// [`forward`] for a network whose experts still owe the SGD step held in `step`: expert by
/// expert, the step updates (and clips) the expert's weights, then the new minibatch's dot
/// products use them while they are in cache; `step` is applied in full either way. The same
/// bits as applying the step and then calling [`forward`]. Returns false, with the step applied
/// and nothing else touched, when the buffers' layouts do not suit the kernels.
pub(crate) fn forward_applying(
    net: &mut GatedNet,
    x: ArrayView2<f32>,
    h: ArrayView2<f32>,
    acts: &mut Activations,
    plan: MainPlan,
    step: &mut DeferredExpertStep,
) -> bool {
    if !plan.applies_deferred_steps() || !supported(net, &x, acts) {
        step.apply(&mut net.experts);
        return forward(net, x, h, acts, plan);
    }
    let d = net.input_dim();
    route(h, x.nrows(), acts, plan);
    let routes = &acts.routes;
    let xs = x.as_slice().expect("checked");
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let products = &mut acts.route_experts;
    let column_major = net.experts.update_columns(None, |i, column| {
        step.apply_to_column(i, column);
        expert_products(column, i, routes, row, products);
    });
    debug_assert!(column_major, "checked by `supported`");
    step.applied();
    acts.experts.fill(0.0);
    outputs_and_logits(net, acts, plan);
    true
}

/// Routes the gates `h` into `acts` (and lists them by example for [`SparseOrder::ByExample`]),
/// and sizes the routed expert outputs.
fn route(h: ArrayView2<f32>, batch: usize, acts: &mut Activations, plan: MainPlan) {
    acts.routes.build(h);
    if plan.order == SparseOrder::ByExample {
        acts.routes.build_by_example(batch);
    }
    acts.route_experts.clear();
    acts.route_experts.resize(acts.routes.active(), 0.0);
}

/// x_b · Wₑ[:, i] for every example b routed to expert i, whose incoming weights are `column`,
/// into `out` at the expert's route entries.
fn expert_products<'a>(
    column: &[f32],
    i: usize,
    routes: &ExpertRoutes,
    row: impl Fn(u32) -> &'a [f32],
    out: &mut [f32],
) {
    let (s, e) = (routes.start[i], routes.start[i + 1]);
    if s < e {
        let ex = &routes.example[s..e];
        dots_with(column, e - s, |k| row(ex[k]), &mut out[s..e]);
    }
}

/// After the products: H (from the routed products, or read from the dense H) and c = H h
/// expert by expert over its routed examples, then logits_b += c Wₒ[i, :] with Wₒ[i, :] loaded
/// once per expert.
fn outputs_and_logits(net: &GatedNet, acts: &mut Activations, plan: MainPlan) {
    let everywhere = plan.gate_gradient == GateGradient::Everywhere;
    let (act, be) = (net.expert_activation, &net.experts.b);
    let routes = &acts.routes;
    acts.conditional.fill(0.0);
    acts.logits.assign(&net.output.b);
    let experts_at = Offsets::of(&acts.experts);
    let conditional_at = Offsets::of(&acts.conditional);
    let experts = acts.experts.as_slice_memory_order_mut().expect("checked");
    let conditional = acts
        .conditional
        .as_slice_memory_order_mut()
        .expect("checked");
    for i in 0..net.units() {
        for k in routes.start[i]..routes.start[i + 1] {
            let b = routes.example[k] as usize;
            let h = if everywhere {
                experts[experts_at.at(b, i)]
            } else {
                let h = act.value(acts.route_experts[k] + be[i]);
                experts[experts_at.at(b, i)] = h;
                h
            };
            acts.route_experts[k] = h;
            conditional[conditional_at.at(b, i)] = h * routes.gate[k];
        }
    }
    routed_output::add_to_logits(
        routes.entries_of(&acts.route_experts),
        net.output.w.as_slice().expect("checked"),
        net.classes(),
        acts.logits.as_slice_mut().expect("checked"),
    );
}

/// Where element (row, column) of a 2-D array with non-negative strides sits in its
/// memory-order slice.
#[derive(Clone, Copy)]
struct Offsets {
    row: usize,
    column: usize,
}

impl Offsets {
    fn of(a: &ndarray::Array2<f32>) -> Self {
        let s = a.strides();
        Offsets {
            row: s[0] as usize,
            column: s[1] as usize,
        }
    }

    #[inline(always)]
    fn at(self, row: usize, column: usize) -> usize {
        row * self.row + column * self.column
    }
}

/// Backward pass of the main path with the gated kernels, after [`forward`] ran on the same
/// `acts`: the parameter gradients of the experts and the softmax layer (exact zeros for
/// experts no example uses) and ∂L/∂h as `plan` asks. `grads.dexperts` is not filled, and
/// `grads.dconditional` only with [`GateGradient::Everywhere`]. Returns false, touching nothing,
/// when the buffers' layouts do not suit the kernels.
pub(crate) fn backward(
    net: &GatedNet,
    x: ArrayView2<f32>,
    labels: &[u8],
    acts: &Activations,
    grads: &mut Gradients,
    plan: MainPlan,
) -> bool {
    if !supported(net, &x, acts)
        || grads.experts.w.t().as_slice().is_none()
        || grads.output.w.as_slice().is_none()
        || grads.dlogits.as_slice().is_none()
        || grads.dgates.as_slice_memory_order().is_none()
        || grads.dgates.strides().iter().any(|&s| s < 0)
        || acts.routes.start.len() != net.units() + 1
        || (plan.order == SparseOrder::ByExample
            && acts.routes.by_example_start.len() != labels.len() + 1)
    {
        return false;
    }
    let routes = &acts.routes;
    let classes = net.classes();
    let act = net.expert_activation;
    let batch = labels.len();
    acts.loss
        .backward_into(labels, 1.0 / batch as f32, &mut grads.dlogits);
    Zip::from(&mut grads.output.b)
        .and(grads.dlogits.columns())
        .for_each(|b, col| *b = col.sum());
    match plan.gate_gradient {
        GateGradient::Everywhere => {
            net.output
                .input_grad_into(grads.dlogits.view(), &mut grads.dconditional);
            Zip::from(&mut grads.dgates)
                .and(&grads.dconditional)
                .and(&acts.experts)
                .for_each(|dh, &dc, &e| *dh = dc * e);
        }
        GateGradient::WhereOn => grads.dgates.fill(0.0),
        GateGradient::Skip => {}
    }

    // ∂L/∂Wₒ and, unless the dense ∂L/∂c above has it, ∂L/∂c of every routed entry (kept in
    // route_dexperts until it becomes ∂L/∂H below).
    let entries = routes.active();
    grads.route_dexperts.clear();
    grads.route_dexperts.resize(entries, 0.0);
    let everywhere = plan.gate_gradient == GateGradient::Everywhere;
    routed_output::backward(
        routes.entries_of(&acts.route_experts),
        net.output.w.as_slice().expect("checked"),
        classes,
        grads.dlogits.as_slice().expect("checked"),
        grads.output.w.as_slice_mut().expect("checked"),
        (!everywhere).then_some(&mut grads.route_dexperts[..]),
    );
    let dgates_at = Offsets::of(&grads.dgates);
    let dgates = grads.dgates.as_slice_memory_order_mut().expect("checked");
    for k in 0..entries {
        let (b, i) = (routes.example[k] as usize, routes.expert[k] as usize);
        let (hv, g) = (acts.route_experts[k], routes.gate[k]);
        let dc = if everywhere {
            grads.dconditional[[b, i]]
        } else {
            grads.route_dexperts[k]
        };
        if plan.gate_gradient == GateGradient::WhereOn {
            dgates[dgates_at.at(b, i)] = dc * hv;
        }
        grads.route_dexperts[k] = dc * g * act.derivative_from_output(hv);
    }

    true
}

/// ∂L/∂Wₑ and ∂L/∂bₑ into `grads.experts` from the routed ∂L/∂H (zeros for experts no example
/// uses), after [`backward`] ran on the same `acts` and accepted the layouts.
pub(crate) fn expert_gradient(
    net: &GatedNet,
    x: ArrayView2<f32>,
    acts: &Activations,
    grads: &mut Gradients,
    plan: MainPlan,
) {
    let routes = &acts.routes;
    let (d, batch) = (net.input_dim(), x.nrows());
    let xs = x.as_slice().expect("checked");
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    // Column-major (checked above): the memory order is expert by expert.
    let gwt = grads
        .experts
        .w
        .as_slice_memory_order_mut()
        .expect("checked");
    let gb = &mut grads.experts.b;
    let dh = &grads.route_dexperts;
    match plan.order {
        SparseOrder::ByExpert => {
            for i in 0..net.units() {
                let (s, e) = (routes.start[i], routes.start[i + 1]);
                let ex = &routes.example[s..e];
                weighted_sum(
                    &mut gwt[i * d..(i + 1) * d],
                    e - s,
                    &dh[s..e],
                    |k| row(ex[k]),
                    false,
                );
                gb[i] = dh[s..e].iter().sum();
            }
        }
        SparseOrder::ByExample => {
            gwt.fill(0.0);
            gb.fill(0.0);
            for (k, &v) in dh.iter().enumerate() {
                let i = routes.expert[k] as usize;
                gb[i] += v;
            }
            for b in 0..batch {
                let list = &routes.by_example_entry
                    [routes.by_example_start[b]..routes.by_example_start[b + 1]];
                for &k in list {
                    let i = routes.expert[k as usize] as usize;
                    crate::nn::simd::axpys::<1>(
                        &mut gwt[i * d..(i + 1) * d],
                        [dh[k as usize]],
                        &[row(b as u32)],
                        true,
                    );
                }
            }
        }
    }
}

/// The SGD step of the experts from the routed ∂L/∂H (see [`GatedNet::step_experts`]): for
/// every expert some example uses, Wₑ[:, i] ← Wₑ[:, i] − η Σ_b ∂L/∂H_bi x_b and
/// bₑ_i ← bₑ_i − η Σ_b ∂L/∂H_bi, then the max-norm constraint on that column while it is in
/// cache. Columns no example uses are not touched. With `defer`, only the biases are updated
/// and the weights' step is held in `defer` for the next gated forward pass
/// ([`forward_applying`]). Returns false, touching nothing, when the layouts do not suit the
/// kernels.
pub(crate) fn step_experts(
    net: &mut GatedNet,
    x: ArrayView2<f32>,
    acts: &Activations,
    grads: &mut Gradients,
    learning_rate: f32,
    max_norm: Option<f32>,
    defer: Option<&mut DeferredExpertStep>,
) -> bool {
    let routes = &acts.routes;
    if !net.experts.is_column_major()
        || x.as_slice().is_none()
        || routes.start.len() != net.units() + 1
        || grads.route_dexperts.len() != routes.active()
    {
        return false;
    }
    let d = net.input_dim();
    let xs = x.as_slice().expect("checked");
    let coef = &mut grads.route_dexperts;
    coef.iter_mut().for_each(|v| *v *= -learning_rate);
    for i in 0..net.units() {
        let (s, e) = (routes.start[i], routes.start[i + 1]);
        if s < e {
            net.experts.b[i] += coef[s..e].iter().sum::<f32>();
        }
    }
    if let Some(step) = defer {
        step.hold(xs, d, routes, coef, max_norm);
        return true;
    }
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let units = net.units();
    let w = net.experts.w.t_mut_slice().expect("column-major");
    for i in 0..units {
        let (s, e) = (routes.start[i], routes.start[i + 1]);
        if s < e {
            let ex = &routes.example[s..e];
            let column = &mut w[i * d..(i + 1) * d];
            update_column(column, &coef[s..e], |k| row(ex[k]), max_norm);
        }
    }
    true
}

/// The momentum SGD step of the experts from the routed ∂L/∂H, each column's gradient formed
/// in a scratch column (in cache) and used at once, so that ∂L/∂Wₑ is never written to memory:
/// for every expert i, g = Σ_b ∂L/∂H_bi x_b (0 for an expert no example uses, whose velocity
/// still decays), v ← μ v − η g and w ← w + v, then the max-norm constraint on the column; the
/// biases likewise. The same operations as [`expert_gradient`] followed by
/// [`Sgd::step_clipped`](crate::nn::Sgd::step_clipped). Returns false, touching nothing, when
/// the layouts do not suit the kernels.
pub(crate) fn momentum_step_experts(
    net: &mut GatedNet,
    x: ArrayView2<f32>,
    acts: &Activations,
    grads: &mut Gradients,
    velocity: &mut DenseGrad,
    settings: SgdSettings,
    max_norm: Option<f32>,
) -> bool {
    let routes = &acts.routes;
    let d = net.input_dim();
    if !net.experts.is_column_major()
        || !velocity.w.t().is_standard_layout()
        || velocity.w.dim() != net.experts.w.dim()
        || velocity.b.len() != net.units()
        || x.as_slice().is_none()
        || d == 0
        || routes.start.len() != net.units() + 1
        || grads.route_dexperts.len() != routes.active()
    {
        return false;
    }
    let (eta, mu) = (settings.learning_rate, settings.momentum);
    let xs = x.as_slice().expect("checked");
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let dh = &grads.route_dexperts;
    let g = &mut grads.expert_column;
    g.resize(d, 0.0);
    let v = velocity.w.t_mut_slice().expect("checked");
    let done = net.experts.update_columns(max_norm, |i, w| {
        let (s, e) = (routes.start[i], routes.start[i + 1]);
        let ex = &routes.example[s..e];
        weighted_sum(g, e - s, &dh[s..e], |k| row(ex[k]), false);
        let v = &mut v[i * d..(i + 1) * d];
        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g.iter()) {
            momentum_update(w, v, g, eta, mu);
        }
    });
    debug_assert!(done, "column-major experts (checked above)");
    for (i, (b, v)) in net.experts.b.iter_mut().zip(&mut velocity.b).enumerate() {
        let gb: f32 = dh[routes.start[i]..routes.start[i + 1]].iter().sum();
        momentum_update(b, v, gb, eta, mu);
    }
    true
}

/// Multiply-adds of one evaluation of the main path computed as `plan` says, for a batch of
/// `batch` examples over `units` experts with `inputs` inputs, `classes` classes and `active`
/// non-zero gates, with its backward pass (`backward`) or without:
/// - dense: forward B·N·(d + c) (x·Wₑ, c·Wₒ), backward B·N·(d + 2c) (∂Wₑ, ∂Wₒ, ∂c);
/// - gated kernels: the same over the active gates, forward A·(d + c), backward A·(d + 2c);
/// - gated with ∂L/∂h at every gate: every expert forward (B·N·d) and ∂L/∂c everywhere
///   (B·N·c), the rest over the active gates (A·c forward, A·(d + c) backward).
pub fn evaluation_macs(
    plan: MainPlan,
    active: u64,
    batch: u64,
    units: u64,
    inputs: u64,
    classes: u64,
    backward: bool,
) -> u64 {
    let (d, c, all) = (inputs, classes, batch * units);
    let (forward, back) = match (plan.sparse, plan.gate_gradient) {
        (false, _) => (all * (d + c), all * (d + 2 * c)),
        (true, GateGradient::Everywhere) => (all * d + active * c, all * c + active * (d + c)),
        (true, _) => (active * (d + c), active * (d + 2 * c)),
    };
    forward + if backward { back } else { 0 }
}

/// Multiply-adds of the main path's products for `active` non-zero gates (forward and
/// backward, experts and softmax layer), as the gated kernels do them.
pub fn sparse_main_macs(active: u64, inputs: u64, classes: u64) -> u64 {
    // forward x·Wₑ and c·Wₒ, backward ∂Wₑ, ∂Wₒ and ∂c.
    active * (2 * inputs + 3 * classes)
}

/// Multiply-adds of the dense main path for `batch` examples and `units` experts.
pub fn dense_main_macs(batch: u64, units: u64, inputs: u64, classes: u64) -> u64 {
    batch * units * (2 * inputs + 3 * classes)
}
