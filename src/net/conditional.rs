//! The gated kernels of the main path: compute only the experts whose gate is on.
//!
//! With gates h (batch B × N experts) holding exact zeros, example b needs expert i only when
//! h_bi ≠ 0. Per minibatch the kernels first *route* the batch: for every expert, the list of
//! examples that use it ([`ExpertRoutes`], a compressed-column index of the non-zero gates).
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
//! `gradrace bench` measures both.
//!
//! Estimators that need ∂L/∂h at gates that are *off* (straight-through: ∂L/∂a := ∂L/∂h at
//! every gate) need H_bi for every expert, so for them the forward pass computes all experts
//! densely and only the backward pass into the experts is sparse
//! ([`GateGradient::Everywhere`]). The unbiased estimator needs no ∂L/∂h at all
//! ([`GateGradient::Skip`]).

use ndarray::{ArrayView2, Zip};

use super::gated::{Activations, GatedNet, Gradients};
use crate::estimators::GateEstimator;
use crate::nn::dense::clip_norm;
use crate::nn::simd::{dots, dots_with, weighted_sum};

/// Gate firing rate up to which the lanes use the gated kernels (above it, the dense products
/// are faster). `gradrace bench` measures the conditional layer at 1–100% firing: on the
/// AVX-512 machine this was tuned on, at batch 32 and the paper's shapes, the gated kernels are
/// about 1.2× ahead at 20% and even with the dense products at 25%, where every expert is used
/// by some example and the kernels do a quarter of the dense work at a fraction of the dense
/// products' efficiency.
pub const SPARSE_CROSSOVER: f32 = 0.2;

/// Where the backward pass computes ∂L/∂h (into `Gradients::dgates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateGradient {
    /// Not at all (estimators that do not back-propagate through the gates).
    Skip,
    /// Only where h ≠ 0; 0 elsewhere (the estimator's ∂h/∂a is 0 where h = 0).
    WhereOn,
    /// At every gate (straight-through).
    Everywhere,
}

/// Loop order of the gated kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparseOrder {
    /// Expert by expert, over the examples routed to it (the default, cache-friendly).
    ByExpert,
    /// Example by example, over the experts that example uses.
    ByExample,
}

/// How the main path is computed for one minibatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MainPlan {
    /// Compute only the experts whose gate is on.
    pub sparse: bool,
    /// Where ∂L/∂h is needed.
    pub gate_gradient: GateGradient,
    /// Loop order of the gated kernels.
    pub order: SparseOrder,
    /// Leave the experts' weight gradient to [`GatedNet::step_experts`], which applies the SGD
    /// step θ ← θ − η ∂L/∂θ straight from the backward pass's intermediate results, never
    /// writing ∂L/∂Wₑ to memory (the lanes do this when they train without momentum).
    pub defer_expert_gradient: bool,
}

impl Default for MainPlan {
    /// The dense main path with ∂L/∂h everywhere: correct for every estimator.
    fn default() -> Self {
        MainPlan {
            sparse: false,
            gate_gradient: GateGradient::Everywhere,
            order: SparseOrder::ByExpert,
            defer_expert_gradient: false,
        }
    }
}

impl MainPlan {
    /// The plan for `estimator`'s gates: gated kernels when `sparse`, ∂L/∂h only where the
    /// estimator reads it.
    pub fn for_estimator(estimator: &dyn GateEstimator, sparse: bool) -> Self {
        let gate_gradient = if !estimator.is_gated() || !estimator.uses_backprop() {
            GateGradient::Skip
        } else if estimator.needs_gate_gradient_when_off() {
            GateGradient::Everywhere
        } else {
            GateGradient::WhereOn
        };
        MainPlan {
            sparse,
            gate_gradient,
            order: SparseOrder::ByExpert,
            defer_expert_gradient: false,
        }
    }
}

/// Which examples use which expert: for expert i, the entries `start[i]..start[i+1]` list the
/// examples b (increasing) with h_bi ≠ 0 and the gate values h_bi.
#[derive(Debug, Clone, Default)]
pub struct ExpertRoutes {
    start: Vec<usize>,
    example: Vec<u32>,
    expert: Vec<u32>,
    gate: Vec<f32>,
    by_example_start: Vec<usize>,
    by_example_entry: Vec<u32>,
    column: Vec<f32>,
}

impl ExpertRoutes {
    /// Empty routes with room for `batch` × `units` entries (so routing never allocates).
    pub fn with_capacity(batch: usize, units: usize) -> Self {
        let n = batch * units;
        ExpertRoutes {
            start: Vec::with_capacity(units + 1),
            example: Vec::with_capacity(n),
            expert: Vec::with_capacity(n),
            gate: Vec::with_capacity(n),
            by_example_start: Vec::with_capacity(batch + 1),
            by_example_entry: Vec::with_capacity(n),
            column: Vec::with_capacity(batch),
        }
    }

    /// Forgets the routes (the gated backward pass then refuses to run on them).
    pub fn clear(&mut self) {
        self.start.clear();
        self.example.clear();
        self.expert.clear();
        self.gate.clear();
        self.by_example_start.clear();
        self.by_example_entry.clear();
    }

    /// Routes the batch for gates `h` (batch × units).
    ///
    /// Each unit's column of gates is turned into a bit mask of its non-zero entries, 64
    /// examples per word, and only the set bits are visited: at the sparsity target about one
    /// gate in ten, so the scan costs little more than reading h once.
    pub fn build(&mut self, h: ArrayView2<f32>) {
        self.start.clear();
        self.start.push(0);
        self.example.clear();
        self.expert.clear();
        self.gate.clear();
        for (i, column) in h.columns().into_iter().enumerate() {
            match column.as_slice() {
                Some(values) => self.push_unit(i, values),
                None => {
                    // A row-major h (the lanes' buffers are column-major): copy the column.
                    let mut copy = std::mem::take(&mut self.column);
                    copy.clear();
                    copy.extend(column.iter());
                    self.push_unit(i, &copy);
                    self.column = copy;
                }
            }
            self.start.push(self.example.len());
        }
        self.by_example_start.clear();
        self.by_example_entry.clear();
    }

    /// Appends the non-zero gates of unit `i` (`values[b]` = h_bi) in increasing b.
    #[inline]
    fn push_unit(&mut self, i: usize, values: &[f32]) {
        for (word, chunk) in values.chunks(64).enumerate() {
            let mut mask = nonzero_mask(chunk);
            while mask != 0 {
                let b = mask.trailing_zeros() as usize;
                self.example.push((word * 64 + b) as u32);
                self.expert.push(i as u32);
                self.gate.push(chunk[b]);
                mask &= mask - 1;
            }
        }
    }

    /// Builds the example-major index (entries of each example, by increasing expert).
    fn build_by_example(&mut self, batch: usize) {
        self.by_example_start.clear();
        self.by_example_start.resize(batch + 1, 0);
        for &b in &self.example {
            self.by_example_start[b as usize + 1] += 1;
        }
        for b in 0..batch {
            self.by_example_start[b + 1] += self.by_example_start[b];
        }
        self.by_example_entry.clear();
        self.by_example_entry.resize(self.example.len(), 0);
        // Fill with a moving cursor per example, then restore the starts.
        for (k, &b) in self.example.iter().enumerate() {
            let slot = &mut self.by_example_start[b as usize];
            self.by_example_entry[*slot] = k as u32;
            *slot += 1;
        }
        for b in (1..=batch).rev() {
            self.by_example_start[b] = self.by_example_start[b - 1];
        }
        self.by_example_start[0] = 0;
    }

    /// The routed (example, expert) pairs — every non-zero gate — when the routes describe the
    /// last minibatch of `units` experts (the last forward pass used the gated kernels).
    pub fn entries(&self, units: usize) -> Option<impl Iterator<Item = (usize, usize)> + '_> {
        (self.start.len() == units + 1).then(|| {
            self.example
                .iter()
                .zip(&self.expert)
                .map(|(&b, &i)| (b as usize, i as usize))
        })
    }

    /// The examples routed to unit `i` and their values (empty for an unused unit).
    pub(crate) fn unit(&self, i: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.start[i], self.start[i + 1]);
        (&self.example[s..e], &self.gate[s..e])
    }

    /// Number of units the routes cover (0 when cleared).
    pub(crate) fn units(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Number of non-zero gates.
    pub fn active(&self) -> usize {
        self.example.len()
    }

    /// Number of experts at least one example uses.
    pub fn experts_used(&self) -> usize {
        self.start.windows(2).filter(|w| w[1] > w[0]).count()
    }
}

/// Bit b set where `values[b] ≠ 0` (NaN counts as non-zero), for up to 64 values: on x86-64
/// four values per SSE2 compare and mask extraction (SSE2 is part of every x86-64 CPU).
#[inline]
fn nonzero_mask(values: &[f32]) -> u64 {
    debug_assert!(values.len() <= 64);
    let mut mask = 0u64;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    for four in values.chunks_exact(4) {
        use std::arch::x86_64::{_mm_cmpneq_ps, _mm_loadu_ps, _mm_movemask_ps, _mm_setzero_ps};
        // SAFETY: `four` holds 4 floats; SSE2 is baseline on x86-64.
        let m = unsafe {
            _mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(four.as_ptr()), _mm_setzero_ps()))
        };
        mask |= u64::from(m as u32) << done;
        done += 4;
    }
    for (b, &v) in values[done..].iter().enumerate() {
        mask |= u64::from(v != 0.0) << (done + b);
    }
    mask
}

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

/// Forward pass of the main path with the gated kernels, given `acts.gates.h`: fills the routes,
/// the expert outputs of the routed entries (`acts.route_experts`), H and c where h ≠ 0 (0
/// elsewhere; with [`GateGradient::Everywhere`] H is computed for every expert), and the logits.
/// Returns false, touching nothing, when the buffers' layouts do not suit the kernels.
pub(crate) fn forward(net: &GatedNet, x: ArrayView2<f32>, acts: &mut Activations) -> bool {
    if !supported(net, &x, acts) {
        return false;
    }
    let plan = acts.plan;
    let d = net.input_dim();
    let classes = net.classes();
    let act = net.expert_activation;
    acts.routes.build(acts.gates.h.view());
    if plan.order == SparseOrder::ByExample {
        acts.routes.build_by_example(x.nrows());
    }
    let routes = &acts.routes;
    let entries = routes.active();
    acts.route_experts.clear();
    acts.route_experts.resize(entries, 0.0);
    let xs = x.as_slice().expect("checked");
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let wt = net.experts.w.t();
    let wt = wt.as_slice().expect("checked");
    let be = &net.experts.b;

    let everywhere = plan.gate_gradient == GateGradient::Everywhere;
    if everywhere {
        net.experts.forward_into(x, &mut acts.experts);
        act.apply(&mut acts.experts);
    } else {
        match plan.order {
            SparseOrder::ByExpert => {
                for i in 0..net.units() {
                    let (s, e) = (routes.start[i], routes.start[i + 1]);
                    if s == e {
                        continue;
                    }
                    let ex = &routes.example[s..e];
                    dots_with(
                        &wt[i * d..(i + 1) * d],
                        e - s,
                        |k| row(ex[k]),
                        &mut acts.route_experts[s..e],
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

    // Expert by expert over its routed examples: H (from the products above, or read from the
    // dense H), c = H h, and logits_b += c Wₒ[i, :] with Wₒ[i, :] loaded once per expert.
    acts.conditional.fill(0.0);
    acts.logits.assign(&net.output.b);
    let logits = acts.logits.as_slice_mut().expect("checked");
    let wo = net.output.w.as_slice().expect("checked");
    let experts_at = Offsets::of(&acts.experts);
    let conditional_at = Offsets::of(&acts.conditional);
    let experts = acts.experts.as_slice_memory_order_mut().expect("checked");
    let conditional = acts
        .conditional
        .as_slice_memory_order_mut()
        .expect("checked");
    for i in 0..net.units() {
        let (s, e) = (routes.start[i], routes.start[i + 1]);
        let wo_i = &wo[i * classes..(i + 1) * classes];
        for k in s..e {
            let b = routes.example[k] as usize;
            let h = if everywhere {
                experts[experts_at.at(b, i)]
            } else {
                let h = act.value(acts.route_experts[k] + be[i]);
                experts[experts_at.at(b, i)] = h;
                h
            };
            acts.route_experts[k] = h;
            let c = h * routes.gate[k];
            conditional[conditional_at.at(b, i)] = c;
            for (o, &w) in logits[b * classes..(b + 1) * classes].iter_mut().zip(wo_i) {
                *o += c * w;
            }
        }
    }
    true
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
/// experts no example uses) and ∂L/∂h as `acts.plan` asks. `grads.dexperts` is not filled, and
/// `grads.dconditional` only with [`GateGradient::Everywhere`]. Returns false, touching nothing,
/// when the buffers' layouts do not suit the kernels.
pub(crate) fn backward(
    net: &GatedNet,
    x: ArrayView2<f32>,
    labels: &[u8],
    acts: &Activations,
    grads: &mut Gradients,
) -> bool {
    if !supported(net, &x, acts)
        || grads.experts.w.t().as_slice().is_none()
        || grads.output.w.as_slice().is_none()
        || grads.dlogits.as_slice().is_none()
        || acts.routes.start.len() != net.units() + 1
        || (acts.plan.order == SparseOrder::ByExample
            && acts.routes.by_example_start.len() != labels.len() + 1)
    {
        return false;
    }
    let plan = acts.plan;
    let routes = &acts.routes;
    let d = net.input_dim();
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

    let entries = routes.active();
    grads.route_dexperts.clear();
    grads.route_dexperts.resize(entries, 0.0);
    let dlogits = grads.dlogits.as_slice().expect("checked");
    let wo = net.output.w.as_slice().expect("checked");
    let gwo = grads.output.w.as_slice_mut().expect("checked");
    gwo.fill(0.0);
    for k in 0..entries {
        let (b, i) = (routes.example[k] as usize, routes.expert[k] as usize);
        let (hv, g) = (acts.route_experts[k], routes.gate[k]);
        let dl = &dlogits[b * classes..(b + 1) * classes];
        let c = hv * g;
        for (o, &v) in gwo[i * classes..(i + 1) * classes].iter_mut().zip(dl) {
            *o += c * v;
        }
        let dc = if plan.gate_gradient == GateGradient::Everywhere {
            grads.dconditional[[b, i]]
        } else {
            let wi = &wo[i * classes..(i + 1) * classes];
            wi.iter().zip(dl).map(|(w, v)| w * v).sum::<f32>()
        };
        if plan.gate_gradient == GateGradient::WhereOn {
            grads.dgates[[b, i]] = dc * hv;
        }
        grads.route_dexperts[k] = dc * g * act.derivative_from_output(hv);
    }

    if plan.defer_expert_gradient {
        return true;
    }
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
    true
}

/// The SGD step of the experts from the routed ∂L/∂H (see [`GatedNet::step_experts`]): for
/// every expert some example uses, Wₑ[:, i] ← Wₑ[:, i] − η Σ_b ∂L/∂H_bi x_b and
/// bₑ_i ← bₑ_i − η Σ_b ∂L/∂H_bi, then the max-norm constraint on that column while it is in
/// cache. Columns no example uses are not touched. Returns false, touching nothing, when the
/// layouts do not suit the kernels.
pub(crate) fn step_experts(
    net: &mut GatedNet,
    x: ArrayView2<f32>,
    acts: &Activations,
    grads: &mut Gradients,
    learning_rate: f32,
    max_norm: Option<f32>,
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
    let row = |b: u32| &xs[b as usize * d..(b as usize + 1) * d];
    let coef = &mut grads.route_dexperts;
    coef.iter_mut().for_each(|v| *v *= -learning_rate);
    let w = net
        .experts
        .w
        .as_slice_memory_order_mut()
        .expect("column-major");
    for i in 0..routes.start.len() - 1 {
        let (s, e) = (routes.start[i], routes.start[i + 1]);
        if s == e {
            continue;
        }
        let ex = &routes.example[s..e];
        let col = &mut w[i * d..(i + 1) * d];
        weighted_sum(col, e - s, &coef[s..e], |k| row(ex[k]), true);
        net.experts.b[i] += coef[s..e].iter().sum::<f32>();
        if let Some(c) = max_norm {
            clip_norm(col, c);
        }
    }
    true
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn routes_list_every_non_zero_gate_in_order_for_any_batch_and_layout() {
        use ndarray::{Array2, ShapeBuilder};
        // Batches across the 4-value and 64-value word boundaries; NaN counts as on, -0 as off.
        for batch in [1usize, 3, 4, 31, 64, 65, 130] {
            let units = 7;
            let value = |b: usize, i: usize| match (b * 7 + i * 13) % 5 {
                0 => 1.5,
                1 => f32::NAN,
                2 => -0.0,
                _ => 0.0,
            };
            let expected: Vec<(usize, usize)> = (0..units)
                .flat_map(|i| (0..batch).map(move |b| (b, i)))
                .filter(|&(b, i)| value(b, i) != 0.0)
                .collect();
            for column_major in [false, true] {
                let h =
                    Array2::from_shape_fn((batch, units).set_f(column_major), |(b, i)| value(b, i));
                let mut r = ExpertRoutes::with_capacity(batch, units);
                r.build(h.view());
                let got: Vec<(usize, usize)> = r.entries(units).expect("built").collect();
                assert_eq!(got, expected, "batch {batch}, column-major {column_major}");
                assert_eq!(r.active(), expected.len());
                for (k, &(b, i)) in expected.iter().enumerate() {
                    assert_eq!(r.gate[k].to_bits(), h[[b, i]].to_bits());
                }
            }
        }
    }

    #[test]
    fn routes_index_both_ways() {
        let h = array![[0.0f32, 1.0, 0.5], [0.0, 0.0, 2.0], [3.0, 0.0, 0.0]];
        let mut r = ExpertRoutes::with_capacity(3, 3);
        r.build(h.view());
        assert_eq!(r.start, vec![0, 1, 2, 4]);
        assert_eq!(r.example, vec![2, 0, 0, 1]);
        assert_eq!(r.gate, vec![3.0, 1.0, 0.5, 2.0]);
        assert_eq!(r.active(), 4);
        assert_eq!(r.experts_used(), 3);
        r.build_by_example(3);
        assert_eq!(r.by_example_start, vec![0, 2, 3, 4]);
        let experts: Vec<u32> = r
            .by_example_entry
            .iter()
            .map(|&k| r.expert[k as usize])
            .collect();
        assert_eq!(experts, vec![1, 2, 2, 0]);
    }
}
