//! One lane: one estimator training its own copy of the gated network.
//!
//! A training step: gater forward (a), gate sample (h), main path forward (loss), backward through
//! the classifier and the experts (∂L/∂h), the estimator's ∂L/∂a plus the sparsity penalty's,
//! backward through the gater, SGD with momentum, max-norm.

use ndarray::{Array2, ArrayView2, s};

use crate::config::{GaterReduction, LaneSettings};
use crate::data::Dataset;
use crate::estimators::{GateEstimator, SparsityForm, deterministic_gates};
use crate::net::gated_kernels::{dense_main_macs, sparse_main_macs};
use crate::net::{
    Activations, AdaptiveL1, DeferredExpertStep, FusedStep, GateGradient, GatedNet, GaterStep,
    Gradients, MainPlan, SPARSE_CROSSOVER, firing_rate_penalty_into,
};
use crate::nn::{Sgd, SgdSettings};
use crate::seed::Rng;

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepStats {
    /// Batch-mean cross-entropy.
    pub cross_entropy: f32,
    /// Sparsity penalty Ω.
    pub sparsity_penalty: f32,
    /// Examples classified correctly.
    pub correct: usize,
    /// Examples in the batch.
    pub batch: usize,
    /// Fraction of gates not exactly zero.
    pub firing_rate: f32,
    /// Current λ of the sparsity penalty (adapted for rectifiers).
    pub sparsity_weight: f32,
    /// Multiply-adds of the main path (experts and classifier, forward and backward) if every
    /// expert were computed.
    pub dense_main_macs: u64,
    /// Multiply-adds the main path really did: those of the active experts with the gated
    /// kernels (plus the dense forward of every expert for estimators that need ∂L/∂h at gates
    /// that are off), all of them with the dense path.
    pub active_main_macs: u64,
    /// Multiply-adds of the gater (forward and backward).
    pub gater_macs: u64,
    /// True when the step used the gated kernels.
    pub gated_kernels: bool,
    /// Experts whose weights the main path's gated kernels used: those at least one example
    /// of the minibatch fired; every expert when the step used the dense path. At batch 32
    /// and 10% firing, independent gates would use 1 − 0.9³² ≈ 97% of the experts, and the
    /// gated kernels, which stream the weights of every expert used, cost about that much
    /// memory traffic.
    pub experts_used: usize,
}

impl StepStats {
    /// Minibatch accuracy.
    pub fn accuracy(&self) -> f32 {
        self.correct as f32 / self.batch.max(1) as f32
    }
}

/// Held-out performance with the test-time deterministic gates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Fraction misclassified.
    pub error: f32,
    /// Fraction of gates not exactly zero.
    pub firing_rate: f32,
    /// Examples evaluated.
    pub examples: usize,
}

/// Which main path a lane computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MainPathChoice {
    /// The gated kernels when the gates fire at most [`SPARSE_CROSSOVER`] of the time, the
    /// dense path otherwise.
    #[default]
    Auto,
    /// Always every expert, masked by the gates (the "dense-masked" reference).
    Dense,
    /// Always the gated kernels when the lane has gates.
    Sparse,
}

/// Buffers of the variance probe ([`Lane::probe_with`]), reused between probes.
#[derive(Default)]
pub struct ProbeBuffers {
    acts: Option<Activations>,
    grads: Option<Gradients>,
    sum: Vec<f64>,
    sum_squares: Vec<f64>,
}

/// The probe's buffers, borrowed at the right sizes.
struct SizedProbeBuffers<'a> {
    acts: &'a mut Activations,
    grads: &'a mut Gradients,
    sum: &'a mut [f64],
    sum_squares: &'a mut [f64],
}

impl ProbeBuffers {
    fn sized_for(&mut self, net: &GatedNet, batch: usize) -> SizedProbeBuffers<'_> {
        let fits = self.acts.as_ref().is_some_and(|a| {
            a.logits.dim() == (batch, net.classes()) && a.gate_pre.ncols() == net.units()
        });
        if !fits {
            self.acts = Some(net.activations(batch));
            self.grads = Some(net.gradients(batch));
        }
        let dims = net.gater_gates.len();
        self.sum.resize(dims, 0.0);
        self.sum_squares.resize(dims, 0.0);
        SizedProbeBuffers {
            acts: self.acts.as_mut().expect("sized above"),
            grads: self.grads.as_mut().expect("sized above"),
            sum: &mut self.sum,
            sum_squares: &mut self.sum_squares,
        }
    }
}

/// An estimator training one gated network.
pub struct Lane {
    /// The network's parameters.
    pub net: GatedNet,
    estimator: Box<dyn GateEstimator>,
    settings: LaneSettings,
    optimisers: [Sgd; 4],
    l1: Option<AdaptiveL1>,
    rng: Rng,
    acts: Activations,
    grads: Gradients,
    steps: u64,
    main_path: MainPathChoice,
    scratch: Vec<f32>,
    /// Every incoming weight vector of the experts and the gater has been clipped to the max
    /// norm once (after that, the sparse steps clip only the vectors they change).
    columns_clipped: bool,
    /// Hold each gated step's SGD update of the experts' weights back for the next step's
    /// forward pass (see [`Lane::set_deferred_expert_steps`]).
    defer_expert_steps: bool,
    /// The held-back update, if any.
    deferred: DeferredExpertStep,
}

impl Lane {
    /// A lane starting from `net` (cloned from the race's common initialisation), drawing its gate
    /// noise from `rng`.
    pub fn new(mut net: GatedNet, settings: LaneSettings, rng: Rng) -> Self {
        net.expert_activation = settings.expert_activation;
        net.use_fast_layout();
        let estimator = settings.estimator.build();
        let l1 = (estimator.sparsity() == SparsityForm::L1Adaptive)
            .then(|| AdaptiveL1::new(settings.sparsity_target, settings.sparsity_weight));
        let optimisers = [
            Sgd::new(&net.gater_hidden),
            Sgd::new(&net.gater_gates),
            Sgd::new(&net.experts),
            Sgd::new(&net.output),
        ];
        let acts = net.activations(0);
        let grads = net.gradients(0);
        Lane {
            net,
            estimator,
            settings,
            optimisers,
            l1,
            rng,
            acts,
            grads,
            steps: 0,
            main_path: MainPathChoice::Auto,
            scratch: Vec::new(),
            columns_clipped: false,
            defer_expert_steps: false,
            deferred: DeferredExpertStep::default(),
        }
    }

    /// With `on`, a gated step without momentum leaves the SGD update of the experts' weights
    /// to the next step's gated forward pass, which applies it column by column while each
    /// column is in cache: one pass over the 6.3 MB expert matrix a step instead of two, and the
    /// same bits. In between, [`Lane::net`]'s expert weights are one step behind: call
    /// [`Lane::apply_pending_update`] before reading them, evaluating, probing or taking a
    /// checkpoint (the race does, between steps that read them and at the end of every
    /// chunk). Off by default; turning it off applies a pending update.
    pub fn set_deferred_expert_steps(&mut self, on: bool) {
        self.defer_expert_steps = on;
        if !on {
            self.apply_pending_update();
        }
    }

    /// Applies the experts' update a deferred step left pending (nothing when none is), so that
    /// [`Lane::net`] is up to date.
    pub fn apply_pending_update(&mut self) {
        self.deferred.apply(&mut self.net.experts);
    }

    /// Whether [`Lane::net`] is up to date (no deferred update pending).
    pub fn is_up_to_date(&self) -> bool {
        !self.deferred.is_pending()
    }

    /// Chooses the main path (default [`MainPathChoice::Auto`]); results agree to f32 rounding.
    pub fn set_main_path(&mut self, choice: MainPathChoice) {
        self.main_path = choice;
    }

    /// The main-path choice in force.
    pub fn main_path(&self) -> MainPathChoice {
        self.main_path
    }

    /// The lane's settings.
    pub fn settings(&self) -> &LaneSettings {
        &self.settings
    }

    /// The lane's estimator.
    pub fn estimator(&self) -> &dyn GateEstimator {
        self.estimator.as_ref()
    }

    /// Training steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    fn ensure_batch(&mut self, batch: usize) {
        if self.acts.logits.nrows() != batch {
            self.acts = self.net.activations(batch);
            self.grads = self.net.gradients(batch);
        }
    }

    /// One SGD step on the minibatch (x, labels).
    pub fn train_step(&mut self, x: ArrayView2<f32>, labels: &[u8]) -> StepStats {
        let batch = labels.len();
        self.ensure_batch(batch);
        let gated = self.estimator.is_gated();
        // Without momentum the SGD steps are fused with the backward passes.
        let fused_gater = self.settings.momentum == 0.0;
        let (net, acts, grads) = (&mut self.net, &mut self.acts, &mut self.grads);

        if gated {
            net.forward_gater(x, acts);
            self.estimator
                .sample(acts.gate_pre.view(), &mut self.rng, &mut acts.gates);
        } else {
            acts.gates.h.fill(1.0);
        }
        let active = acts.gates.active();
        let firing_rate = active as f32 / acts.gates.h.len().max(1) as f32;
        let sparse = gated
            && match self.main_path {
                MainPathChoice::Auto => firing_rate <= SPARSE_CROSSOVER,
                MainPathChoice::Dense => false,
                MainPathChoice::Sparse => true,
            };
        acts.plan = MainPlan {
            // Without momentum the experts' SGD step is applied straight from ∂L/∂H; with
            // momentum, the gated kernels form each column's gradient as they apply it.
            defer_expert_gradient: self.settings.momentum == 0.0 || sparse,
            ..MainPlan::for_estimator(self.estimator.as_ref(), sparse)
        };
        let cross_entropy = net.forward_main_applying(x, labels, acts, &mut self.deferred);
        let correct = acts.loss.correct(labels);
        net.backward_main(x, labels, acts, grads);

        let mut penalty = 0.0;
        if gated {
            if let Some(l1) = &self.l1 {
                penalty += l1.apply(acts.gates.h.view(), &mut grads.dgates);
            }
            self.estimator.gate_gradient(
                &acts.gates,
                grads.dgates.view(),
                acts.loss.losses.view(),
                &mut grads.dgate_pre,
            );
            if self.settings.gater_reduction == GaterReduction::Sum {
                let b = batch as f32;
                grads.dgate_pre.mapv_inplace(|v| v * b);
            }
            if self.estimator.sparsity() == SparsityForm::FiringRateCrossEntropy {
                penalty += firing_rate_penalty_into(
                    self.estimator.as_ref(),
                    acts.gate_pre.view(),
                    self.settings.sparsity_target,
                    self.settings.sparsity_weight,
                    &mut grads.dgate_pre,
                    &mut self.scratch,
                );
            }
            // The gater's backward pass happens in its fused SGD step (apply_updates).
            grads.allow_sparse_gater = fused_gater && self.main_path != MainPathChoice::Dense;
            self.estimator.observe(&acts.gates, acts.loss.losses.view());
        }

        let gater_step = self.apply_updates(x, gated);
        let sparsity_weight = match &mut self.l1 {
            Some(l1) => {
                l1.adapt(firing_rate);
                l1.lambda
            }
            None => self.settings.sparsity_weight,
        };
        self.steps += 1;
        let (d, n, c, hg) = (
            self.net.input_dim() as u64,
            self.net.units() as u64,
            self.net.classes() as u64,
            self.net.gater_hidden_units() as u64,
        );
        let (b, active) = (batch as u64, active as u64);
        let plan = self.acts.plan;
        let dense_macs = dense_main_macs(b, n, d, c);
        let active_main_macs = match (plan.sparse, plan.gate_gradient) {
            (false, _) => dense_macs,
            // Every expert's forward, ∂L/∂c everywhere, then the gated backward.
            (true, GateGradient::Everywhere) => b * n * (d + c) + active * (d + 2 * c),
            (true, _) => sparse_main_macs(active, d, c),
        };
        StepStats {
            cross_entropy,
            sparsity_penalty: penalty,
            correct,
            batch,
            firing_rate,
            sparsity_weight,
            dense_main_macs: dense_macs,
            active_main_macs,
            // Forward x·W₁ and z·W₂, backward ∂W₂ and ∂z (over the entries of ∂L/∂a the gate
            // layer's backward pass took) and ∂W₁.
            gater_macs: if gated {
                let entries = gater_step.map_or(b * n, |g| g.backward_entries as u64);
                b * hg * (2 * d + n) + 2 * hg * entries
            } else {
                0
            },
            gated_kernels: plan.sparse,
            experts_used: if plan.sparse {
                self.acts.routes.experts_used()
            } else {
                self.net.units()
            },
        }
    }

    /// The SGD steps of every layer, then the max-norm constraint; for the gater without
    /// momentum fused with its backward pass (returned).
    fn apply_updates(&mut self, x: ArrayView2<f32>, gated: bool) -> Option<GaterStep> {
        let main = SgdSettings {
            learning_rate: self.settings.learning_rate,
            momentum: self.settings.momentum,
        };
        let gater = SgdSettings {
            learning_rate: self.settings.gater_learning_rate,
            momentum: self.settings.momentum,
        };
        let [o_gh, o_gg, o_ex, o_out] = &mut self.optimisers;
        let net = &mut self.net;
        let max_norm = self.settings.max_norm;
        if self.acts.plan.defer_expert_gradient && main.momentum != 0.0 {
            net.momentum_step_experts(x, &self.acts, &mut self.grads, o_ex, main, max_norm);
        } else if self.acts.plan.defer_expert_gradient {
            let step = FusedStep {
                learning_rate: main.learning_rate,
                max_norm,
                clip_all: !self.columns_clipped,
            };
            let deferred = self.defer_expert_steps
                && net.defer_step_experts(x, &self.acts, &mut self.grads, step, &mut self.deferred);
            if !deferred {
                net.step_experts(x, &self.acts, &mut self.grads, step);
            }
        } else {
            o_ex.step_clipped(&mut net.experts, &self.grads.experts, main, max_norm);
        }
        o_out.step(&mut net.output, &self.grads.output, main);
        let mut gater_step = None;
        if gated && gater.momentum == 0.0 {
            let step = FusedStep {
                learning_rate: gater.learning_rate,
                max_norm,
                clip_all: !self.columns_clipped,
            };
            gater_step = Some(net.step_gater(x, &self.acts, &mut self.grads, step));
        } else if gated {
            net.momentum_step_gater(x, &self.acts, &mut self.grads, o_gh, o_gg, gater, max_norm);
        }
        self.columns_clipped = true;
        if let Some(c) = max_norm {
            net.output.clip_incoming_norms(c);
        }
        gater_step
    }

    /// The non-zero gates of the last training step as (example, unit) pairs, when that step
    /// used the gated kernels (which list them); `None` otherwise.
    pub fn last_active_gates(&self) -> Option<impl Iterator<Item = (usize, usize)> + '_> {
        self.acts.routes.entries(self.net.units())
    }

    /// The gates of the last training step (batch × units).
    pub fn last_gates(&self) -> &Array2<f32> {
        &self.acts.gates.h
    }

    /// The estimator-variance probe: at the current parameters, draws `samples` gate samples for
    /// the minibatch (x, labels) and computes each time the estimator's gradient of the
    /// batch-mean loss with respect to the gate layer (W₂, b₂) — without touching the lane's
    /// own random stream, baselines or parameters. Returns the mean over coordinates of the
    /// per-coordinate sample variance and the squared norm of the mean gradient; `None` for a
    /// lane without gates.
    pub fn probe(
        &self,
        x: ArrayView2<f32>,
        labels: &[u8],
        samples: usize,
        rng: &mut Rng,
    ) -> Option<(f64, f64)> {
        self.probe_with(x, labels, samples, rng, &mut ProbeBuffers::default())
    }

    /// [`Self::probe`] with buffers kept between calls (the race probes every few hundred
    /// steps; the buffers are sized on first use).
    ///
    /// With gᵏ the k-th sample of a coordinate's gradient, S₁ = Σₖ gᵏ and S₂ = Σₖ (gᵏ)²
    /// (in f64): sample variance (S₂ − S₁²/K)/(K − 1), mean S₁/K. The gater's forward pass is
    /// shared by the K samples (the parameters do not change), and the experts' weight gradient
    /// is not computed (the probe does not need it).
    pub fn probe_with(
        &self,
        x: ArrayView2<f32>,
        labels: &[u8],
        samples: usize,
        rng: &mut Rng,
        buffers: &mut ProbeBuffers,
    ) -> Option<(f64, f64)> {
        debug_assert!(self.is_up_to_date(), "probe with a deferred update pending");
        if !self.estimator.is_gated() || samples < 2 {
            return None;
        }
        let net = &self.net;
        let dims = net.gater_gates.len();
        let batch = labels.len();
        let SizedProbeBuffers {
            acts,
            grads,
            sum,
            sum_squares,
        } = buffers.sized_for(net, batch);
        net.forward_gater(x, acts);
        sum.iter_mut().for_each(|v| *v = 0.0);
        sum_squares.iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..samples {
            self.estimator
                .sample(acts.gate_pre.view(), rng, &mut acts.gates);
            let sparse = self.main_path != MainPathChoice::Dense
                && acts.gates.firing_rate() <= SPARSE_CROSSOVER;
            acts.plan = MainPlan {
                defer_expert_gradient: true,
                ..MainPlan::for_estimator(self.estimator.as_ref(), sparse)
            };
            net.forward_main(x, labels, acts);
            net.backward_main(x, labels, acts, grads);
            self.estimator.gate_gradient(
                &acts.gates,
                grads.dgates.view(),
                acts.loss.losses.view(),
                &mut grads.dgate_pre,
            );
            net.gater_gates.param_grad_into(
                acts.gater_hidden.view(),
                grads.dgate_pre.view(),
                1.0,
                &mut grads.gater_gates,
            );
            // Coordinates in memory order (any fixed order will do).
            let w = grads
                .gater_gates
                .w
                .as_slice_memory_order()
                .expect("an owned array is contiguous");
            let b = grads
                .gater_gates
                .b
                .as_slice()
                .expect("a 1-D array is contiguous");
            let g = w.iter().chain(b);
            for ((s1, s2), &v) in sum.iter_mut().zip(sum_squares.iter_mut()).zip(g) {
                let v = f64::from(v);
                *s1 += v;
                *s2 += v * v;
            }
        }
        let k = samples as f64;
        let variance = sum
            .iter()
            .zip(sum_squares.iter())
            .map(|(s1, s2)| (s2 - s1 * s1 / k).max(0.0))
            .sum::<f64>()
            / ((k - 1.0) * dims as f64);
        let signal = sum.iter().map(|s1| (s1 / k) * (s1 / k)).sum::<f64>();
        Some((variance, signal))
    }

    /// Loss, error and firing rate on `data` with the test-time deterministic gates (the
    /// `sparsity_target` fraction of gates with the largest pre-activations fire), evaluated in
    /// chunks of `chunk` examples.
    pub fn evaluate(&self, data: &Dataset, chunk: usize) -> Evaluation {
        debug_assert!(
            self.is_up_to_date(),
            "evaluation with a deferred update pending"
        );
        evaluate_net(
            &self.net,
            self.estimator.as_ref(),
            Some(self.settings.sparsity_target),
            data,
            chunk,
        )
    }
}

/// Held-out evaluation of `net` with `estimator`'s deterministic test-time gates.
pub fn evaluate_net(
    net: &GatedNet,
    estimator: &dyn GateEstimator,
    target_rate: Option<f32>,
    data: &Dataset,
    chunk: usize,
) -> Evaluation {
    let n = data.len();
    if n == 0 {
        return Evaluation::default();
    }
    let chunk = chunk.clamp(1, n);
    let mut acts = net.activations(chunk);
    let (mut loss, mut wrong, mut active, mut gates) = (0.0f64, 0usize, 0usize, 0usize);
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let len = end - start;
        if acts.logits.nrows() != len {
            acts = net.activations(len);
        }
        let x = data.images.slice(s![start..end, ..]);
        let labels = &data.labels[start..end];
        if estimator.is_gated() {
            net.forward_gater(x, &mut acts);
            deterministic_gates(
                estimator,
                acts.gate_pre.view(),
                target_rate,
                &mut acts.gates.h,
            );
            // No backward pass: the gated kernels whenever the test-time gates are sparse.
            let on = acts.gates.active();
            active += on;
            let rate = on as f32 / acts.gates.h.len().max(1) as f32;
            acts.plan = MainPlan {
                gate_gradient: GateGradient::Skip,
                ..MainPlan::for_estimator(estimator, rate <= SPARSE_CROSSOVER)
            };
        } else {
            acts.gates.h.fill(1.0);
        }
        let l = net.forward_main(x, labels, &mut acts);
        loss += l as f64 * len as f64;
        wrong += len - acts.loss.correct(labels);
        if !estimator.is_gated() {
            active += acts.gates.h.len();
        }
        gates += acts.gates.h.len();
        start = end;
    }
    Evaluation {
        loss: (loss / n as f64) as f32,
        error: wrong as f32 / n as f32,
        firing_rate: active as f32 / gates.max(1) as f32,
        examples: n,
    }
}

/// Checkpoints (kept apart from the training code above: only additions).
impl Lane {
    /// A copy of everything the lane's future training depends on (velocities only with
    /// momentum: see [`super::checkpoint::LaneState::velocities`]).
    pub fn checkpoint(&self) -> super::checkpoint::LaneState {
        debug_assert!(
            self.is_up_to_date(),
            "checkpoint with a deferred update pending"
        );
        super::checkpoint::LaneState {
            net: self.net.clone(),
            velocities: (self.settings.momentum != 0.0)
                .then(|| self.optimisers.clone().map(|o| o.velocity)),
            baseline: self.estimator.baseline_state(),
            l1: self.l1,
            rng: self.rng.clone(),
            steps: self.steps,
        }
    }

    /// [`Lane::checkpoint`] into `state`, reusing its memory where the shapes agree (so that a
    /// running race pauses only for the copy, not for allocating and faulting in fresh pages).
    pub fn checkpoint_into(&self, state: &mut super::checkpoint::LaneState) {
        debug_assert!(
            self.is_up_to_date(),
            "checkpoint with a deferred update pending"
        );
        use super::checkpoint::{copy_dense, copy_grad};
        let (a, b) = (&mut state.net, &self.net);
        copy_dense(&mut a.gater_hidden, &b.gater_hidden);
        copy_dense(&mut a.gater_gates, &b.gater_gates);
        copy_dense(&mut a.experts, &b.experts);
        copy_dense(&mut a.output, &b.output);
        a.gater_activation = b.gater_activation;
        a.expert_activation = b.expert_activation;
        if self.settings.momentum != 0.0 {
            match &mut state.velocities {
                Some(v) => {
                    for (d, o) in v.iter_mut().zip(&self.optimisers) {
                        copy_grad(d, &o.velocity);
                    }
                }
                None => state.velocities = Some(self.optimisers.clone().map(|o| o.velocity)),
            }
        } else {
            state.velocities = None;
        }
        state.baseline = self.estimator.baseline_state();
        state.l1 = self.l1;
        state.rng = self.rng.clone();
        state.steps = self.steps;
    }

    /// Continues from `state` (taken from a lane with the same settings and network shape);
    /// refuses a state whose shapes or estimator state do not fit this lane, leaving it untouched.
    pub fn restore(&mut self, state: super::checkpoint::LaneState) -> Result<(), String> {
        use super::checkpoint::LAYERS;
        let own = [
            &self.net.gater_hidden,
            &self.net.gater_gates,
            &self.net.experts,
            &self.net.output,
        ];
        let theirs = [
            &state.net.gater_hidden,
            &state.net.gater_gates,
            &state.net.experts,
            &state.net.output,
        ];
        for (i, name) in LAYERS.iter().enumerate() {
            let want = own[i].w.dim();
            let check = |what: &str, w: &Array2<f32>, b: usize| {
                if w.dim() == want && b == want.1 {
                    return Ok(());
                }
                Err(format!(
                    "layer {name}: {what} {}×{} (+{b} biases), the lane's network needs {}×{}",
                    w.nrows(),
                    w.ncols(),
                    want.0,
                    want.1
                ))
            };
            check("parameters are", &theirs[i].w, theirs[i].b.len())?;
            if let Some(v) = state.velocities.as_ref().map(|v| &v[i]) {
                check("velocity is", &v.w, v.b.len())?;
            }
        }
        if state.velocities.is_none() && self.settings.momentum != 0.0 {
            return Err(format!(
                "the lane trains with momentum {} and the checkpoint has no velocities",
                self.settings.momentum
            ));
        }
        if state.net.gater_activation != self.net.gater_activation
            || state.net.expert_activation != self.net.expert_activation
        {
            return Err("the network's non-linearities differ from the lane's settings".into());
        }
        let units = self.net.units();
        match (&state.baseline, self.estimator.baseline_state()) {
            (Some(b), Some(_)) => {
                let n = b.numerator.len();
                if n != b.denominator.len() || (n != 0 && n != units) {
                    return Err(format!(
                        "baseline state has {} numerators and {} denominators for {units} gate units",
                        n,
                        b.denominator.len()
                    ));
                }
                // One observation per training step at most.
                if b.observed > state.steps {
                    return Err(format!(
                        "baseline state has observed {} minibatches in {} steps",
                        b.observed, state.steps
                    ));
                }
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(
                    "the checkpoint has baseline state, the lane's estimator has none".into(),
                );
            }
            (None, Some(_)) => {
                return Err(
                    "the lane's estimator needs baseline state, the checkpoint has none".into(),
                );
            }
        }
        if state.l1.is_some() != self.l1.is_some() {
            return Err(format!(
                "the checkpoint {} an adaptive L1 penalty, the lane {}",
                if state.l1.is_some() { "has" } else { "lacks" },
                if self.l1.is_some() {
                    "needs one"
                } else {
                    "has none"
                }
            ));
        }
        let super::checkpoint::LaneState {
            net,
            velocities,
            baseline,
            l1,
            rng,
            steps,
        } = state;
        self.net = net;
        // An update still pending was meant for the weights just replaced.
        self.deferred.discard();
        // Checkpoints hold plain (row-major) arrays once saved: back to the kernels' layout.
        self.net.use_fast_layout();
        // Every expert column has been clipped once as soon as one update happened.
        self.columns_clipped = steps > 0;
        match velocities {
            Some(velocities) => {
                for (o, v) in self.optimisers.iter_mut().zip(velocities) {
                    o.velocity = v;
                }
            }
            None => {
                for o in &mut self.optimisers {
                    o.velocity.clear();
                }
            }
        }
        if let Some(b) = baseline {
            self.estimator.restore_baseline_state(b);
        }
        self.l1 = l1;
        self.rng = rng;
        self.steps = steps;
        Ok(())
    }
}
