//! One lane: one estimator training its own copy of the gated network.
//!
//! A training step, as the paper's Appendix A reads (see [`Lane::train_step`]): gater forward
//! (a), the estimator's gate draws (h), the main path's forward and backward passes for each
//! draw (the loss, ∂L/∂h), the estimator's ∂L/∂a plus the sparsity penalty's, then the SGD step
//! of every layer and the max norm ([`Updater`]).

use ndarray::{Array2, ArrayView2, s};

use super::error::RestoreError;
use super::updater::Updater;
use crate::config::{GaterReduction, LaneSettings};
use crate::data::Dataset;
use crate::estimators::{
    EstimateBuffers, Evaluations, GateEstimator, GateGradient, SparsityForm, deterministic_gates,
    estimate,
};
use crate::net::gate_loss::{LossBuffers, MainPathLoss};
use crate::net::gated_kernels::{dense_main_macs, evaluation_macs};
use crate::net::{
    Activations, AdaptiveL1, GatedNet, Gradients, MainPathChoice, MainPlan, SPARSE_CROSSOVER,
    firing_rate_penalty_into,
};
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
    /// Multiply-adds the main path really did, over every evaluation of the step: those of the
    /// active experts with the gated kernels (plus the dense forward of every expert for
    /// estimators that need ∂L/∂h at gates that are off), all of them with the dense path.
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
    /// Main-path forward passes (evaluations of the loss): one per draw of the estimator.
    pub evaluations: u32,
    /// Main-path backward passes: one for the draw that trains the main path, plus one for
    /// every other draw whose ∂f/∂h the estimator reads.
    pub backward_passes: u32,
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

/// The buffers a training step works in, sized on first use.
#[derive(Default)]
struct StepBuffers {
    /// The forward pass of draw 0, kept for its backward pass and the update.
    acts: Option<Activations>,
    /// Its backward pass, and ∂L/∂a.
    grads: Option<Gradients>,
    /// The estimator's draws, and the losses of them all.
    estimate: EstimateBuffers,
    /// The evaluations of draws 1, 2, … (estimators that draw several gate vectors).
    others: LossBuffers,
    /// Scratch of the firing-rate penalty.
    penalty: Vec<f32>,
}

impl StepBuffers {
    /// Sized for `net` and a batch of `batch`.
    fn fit(&mut self, net: &GatedNet, batch: usize) {
        let fits = self.acts.as_ref().is_some_and(|a| {
            a.logits.dim() == (batch, net.classes()) && a.gate_pre.ncols() == net.units()
        });
        if !fits {
            self.acts = Some(net.activations(batch));
            self.grads = Some(net.gradients(batch));
        }
    }
}

/// Multiply-adds of one evaluation of `net`'s main path for a batch of `batch` with `active`
/// gates on, as `plan` computes it, with its backward pass or without.
fn main_macs(net: &GatedNet, batch: usize, active: u64, plan: MainPlan, backward: bool) -> u64 {
    let (b, n, d, c) = (
        batch as u64,
        net.units() as u64,
        net.input_dim() as u64,
        net.classes() as u64,
    );
    evaluation_macs(plan, active, b, n, d, c, backward)
}

/// Buffers of the variance probe ([`Lane::probe_with`]), reused between probes.
#[derive(Default)]
pub struct ProbeBuffers {
    acts: Option<Activations>,
    grads: Option<Gradients>,
    estimate: EstimateBuffers,
    loss: LossBuffers,
    sum: Vec<f64>,
    sum_squares: Vec<f64>,
}

/// What one variance probe measured (see [`Lane::probe_with`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeReading {
    /// Mean over coordinates of the per-coordinate sample variance.
    pub variance: f64,
    /// Its jackknife standard error over the K samples (NaN with fewer than three).
    pub variance_se: f64,
    /// Squared norm of the mean gradient.
    pub signal: f64,
}

/// An estimator training one gated network.
pub struct Lane {
    /// The network's parameters (the experts' weights possibly one update behind: see
    /// [`Updater`]; [`Lane::parameters`] brings them up to date).
    net: GatedNet,
    estimator: Box<dyn GateEstimator>,
    settings: LaneSettings,
    updater: Updater,
    l1: Option<AdaptiveL1>,
    rng: Rng,
    buffers: StepBuffers,
    steps: u64,
    main_path: MainPathChoice,
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
        let updater = Updater::new(&net, &settings);
        Lane {
            net,
            estimator,
            settings,
            updater,
            l1,
            rng,
            buffers: StepBuffers::default(),
            steps: 0,
            main_path: MainPathChoice::Auto,
        }
    }

    /// Gate units (= experts) of the lane's network.
    pub fn units(&self) -> usize {
        self.net.units()
    }

    /// Number of parameters of the lane's network.
    pub fn parameter_count(&self) -> usize {
        self.net.parameter_count()
    }

    /// The network's parameters when no update is held back (as after [`Self::parameters`]),
    /// for readers that share the lane.
    pub fn current_parameters(&self) -> Option<&GatedNet> {
        self.updater.is_current().then_some(&self.net)
    }

    /// The network's parameters, up to date.
    pub fn parameters(&mut self) -> &GatedNet {
        self.updater.catch_up(&mut self.net);
        &self.net
    }

    /// With `on` (the default), a gated step without momentum leaves its update of the
    /// experts' weights to the next step's forward pass (see [`Updater`]): the same bits.
    pub fn set_deferred_expert_steps(&mut self, on: bool) {
        self.updater.set_hold_expert_steps(on, &mut self.net);
    }

    /// Whether an update of the experts is held back for the next step (the parameters are
    /// brought up to date whenever they are read).
    pub fn holds_an_update(&self) -> bool {
        !self.updater.is_current()
    }

    /// Chooses the main path (default [`MainPathChoice::Auto`]); results agree to f32 rounding.
    pub fn set_main_path(&mut self, choice: MainPathChoice) {
        self.main_path = choice;
        // The reference that computes everything densely computes the gate layer densely too.
        self.updater
            .set_sparse_gater(choice != MainPathChoice::Dense);
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

    /// One SGD step on the minibatch (x, labels):
    ///
    /// 1. gater: z = tanh(x W₁ + b₁), a = z W₂ + b₂;
    /// 2. gates: the estimator draws its gate vectors for a (draw 0 trains the main path);
    /// 3. main path: for draw 0, H = x Wₑ + bₑ, c = H ⊙ h, softmax(c Wₒ + bₒ), the loss and its
    ///    backward pass (∂L/∂Wₒ, ∂L/∂H, and ∂L/∂h where the estimator reads it); the other
    ///    draws forward (and backward where read), for their losses;
    /// 4. estimator: ∂L/∂a from the draws' losses (and ∂L/∂h), plus the sparsity penalty's
    ///    exact gradient (summed over the minibatch for the gater when the lane says so);
    /// 5. update: SGD (or momentum) on every layer, the gater from ∂L/∂a, then the max norm;
    ///    a rectifier lane's λ adapts to the firing rate.
    pub fn train_step(&mut self, x: ArrayView2<f32>, labels: &[u8]) -> StepStats {
        let batch = labels.len();
        self.estimator.set_step(self.steps);
        let estimator = self.estimator.as_ref();
        let gated = estimator.is_gated();
        let (net, updater, buffers) = (&mut self.net, &mut self.updater, &mut self.buffers);
        buffers.fit(net, batch);
        let (acts, grads) = (
            buffers.acts.as_mut().expect("fitted"),
            buffers.grads.as_mut().expect("fitted"),
        );
        let est = &mut buffers.estimate;

        // 1–2. Gater and gates.
        if gated {
            net.forward_gater(x, acts);
            est.fit(acts.gate_pre.view(), estimator.draws(), estimator.reads());
            estimator.sample(acts.gate_pre.view(), &mut self.rng, &mut est.draws);
        } else {
            est.fit(acts.gate_pre.view(), 1, GateGradient::Skip);
            est.draws[0].h.fill(1.0);
        }
        let draws = est.draws.len();
        let active = est.draws[0].active();
        let firing_rate = active as f32 / est.draws[0].h.len().max(1) as f32;
        let plan = MainPlan::choose(estimator, self.main_path, firing_rate);

        // 3. Main path: draw 0 (the updater applies what it held back as the pass reads the
        // experts' weights), then the other draws.
        let h = est.draws[0].h.view();
        let cross_entropy = updater.forward_main(net, x, labels, h, acts, plan);
        let correct = acts.loss.correct(labels);
        net.backward_main(x, labels, h, acts, grads, plan);
        let mut main_macs_done = main_macs(net, batch, active as u64, plan, true);
        let mut backward_passes = 1;
        if draws > 1 {
            est.set_first_losses(acts.loss.losses.view());
            let mut f = MainPathLoss::new(
                net,
                x,
                labels,
                estimator,
                self.main_path,
                &mut buffers.others,
            );
            est.evaluate_draws(1, &mut f, estimator.reads());
            main_macs_done += f.macs;
            backward_passes += f.backward_passes;
        }

        // 4. ∂L/∂a: the estimator's, plus the sparsity penalty's.
        let mut penalty = 0.0;
        if gated {
            if let Some(l1) = &self.l1 {
                penalty += l1.apply(est.draws[0].h.view(), &mut grads.dgates);
            }
            let evals = if draws > 1 {
                est.evaluations(Some(grads.dgates.view()))
            } else {
                Evaluations::of_one(acts.loss.losses.view(), grads.dgates.view())
            };
            estimator.gate_gradient(&est.draws, &evals, &mut grads.dgate_pre);
            if self.settings.gater_reduction == GaterReduction::Sum {
                let b = batch as f32;
                grads.dgate_pre.mapv_inplace(|v| v * b);
            }
            if estimator.sparsity() == SparsityForm::FiringRateCrossEntropy {
                penalty += firing_rate_penalty_into(
                    estimator,
                    acts.gate_pre.view(),
                    self.settings.sparsity_target,
                    self.settings.sparsity_weight,
                    &mut grads.dgate_pre,
                    &mut buffers.penalty,
                );
            }
            self.estimator.observe(&est.draws, &evals);
        }

        // 5. The SGD step.
        let gater_step = updater.step(net, x, acts, grads, plan, gated);
        let sparsity_weight = match &mut self.l1 {
            Some(l1) => {
                l1.adapt(firing_rate);
                l1.lambda
            }
            None => self.settings.sparsity_weight,
        };
        self.steps += 1;
        let (d, n, c, hg) = (
            net.input_dim() as u64,
            net.units() as u64,
            net.classes() as u64,
            net.gater_hidden_units() as u64,
        );
        let b = batch as u64;
        StepStats {
            cross_entropy,
            sparsity_penalty: penalty,
            correct,
            batch,
            firing_rate,
            sparsity_weight,
            dense_main_macs: dense_main_macs(b, n, d, c),
            active_main_macs: main_macs_done,
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
                acts.routes.experts_used()
            } else {
                net.units()
            },
            evaluations: draws as u32,
            backward_passes,
        }
    }

    /// The non-zero gates of the last training step as (example, unit) pairs, when that step
    /// used the gated kernels (which list them); `None` otherwise.
    pub fn last_active_gates(&self) -> Option<impl Iterator<Item = (usize, usize)> + '_> {
        let acts = self.buffers.acts.as_ref()?;
        acts.routes.entries(self.net.units())
    }

    /// The gates of the last training step (batch × units; draw 0).
    pub fn last_gates(&self) -> Option<&Array2<f32>> {
        self.buffers.estimate.draws.first().map(|d| &d.h)
    }

    /// The estimator-variance probe: at the current parameters, draws `samples` gate samples for
    /// the minibatch (x, labels) and computes each time the estimator's gradient of the
    /// batch-mean loss with respect to the gate layer (W₂, b₂) — without touching the lane's
    /// own random stream, baselines or parameters. Returns the mean over coordinates of the
    /// per-coordinate sample variance, its standard error and the squared norm of the mean
    /// gradient; `None` for a lane without gates.
    pub fn probe(
        &mut self,
        x: ArrayView2<f32>,
        labels: &[u8],
        samples: usize,
        rng: &mut Rng,
    ) -> Option<ProbeReading> {
        self.probe_with(x, labels, samples, rng, &mut ProbeBuffers::default())
    }

    /// [`Self::probe`] with buffers kept between calls (the race probes every few hundred
    /// steps; the buffers are sized on first use).
    ///
    /// With gᵏ the k-th sample of a coordinate's gradient, S₁ = Σₖ gᵏ and S₂ = Σₖ (gᵏ)²
    /// (in f64): sample variance (S₂ − S₁²/K)/(K − 1), mean S₁/K; the standard error of their
    /// mean over coordinates by the jackknife over the K samples
    /// ([`crate::lab::measure::mean_variance_se`]), which are kept for it during the call. The
    /// gater's forward pass is shared by the K samples (the parameters do not change), and the
    /// experts' weight gradient is not computed (the probe does not need it).
    pub fn probe_with(
        &mut self,
        x: ArrayView2<f32>,
        labels: &[u8],
        samples: usize,
        rng: &mut Rng,
        buffers: &mut ProbeBuffers,
    ) -> Option<ProbeReading> {
        if !self.estimator.is_gated() || samples < 2 {
            return None;
        }
        self.updater.catch_up(&mut self.net);
        // The probe takes the gated kernels by the firing rate, unless the lane computes
        // everything densely.
        let main_path = match self.main_path {
            MainPathChoice::Dense => MainPathChoice::Dense,
            _ => MainPathChoice::Auto,
        };
        let (net, estimator) = (&self.net, self.estimator.as_ref());
        let dims = net.gater_gates.len();
        let batch = labels.len();
        if buffers.acts.as_ref().is_none_or(|a| {
            a.logits.dim() != (batch, net.classes()) || a.gate_pre.ncols() != net.units()
        }) {
            buffers.acts = Some(net.activations(batch));
            buffers.grads = Some(net.gradients(batch));
        }
        let (acts, grads) = (
            buffers.acts.as_mut().expect("sized above"),
            buffers.grads.as_mut().expect("sized above"),
        );
        let (sum, sum_squares) = (&mut buffers.sum, &mut buffers.sum_squares);
        sum.clear();
        sum.resize(dims, 0.0);
        sum_squares.clear();
        sum_squares.resize(dims, 0.0);
        net.forward_gater(x, acts);
        let mut f = MainPathLoss::new(net, x, labels, estimator, main_path, &mut buffers.loss);
        // The K samples, one after the other, for the standard error (only for this call: a
        // race has many lanes, and a sample is the size of the gate layer).
        let mut kept: Vec<f32> = Vec::with_capacity(samples * dims);
        for _ in 0..samples {
            estimate(
                estimator,
                acts.gate_pre.view(),
                rng,
                &mut f,
                &mut buffers.estimate,
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
            kept.extend_from_slice(w);
            kept.extend_from_slice(b);
        }
        let k = samples as f64;
        let variance = sum
            .iter()
            .zip(sum_squares.iter())
            .map(|(s1, s2)| (s2 - s1 * s1 / k).max(0.0))
            .sum::<f64>()
            / ((k - 1.0) * dims as f64);
        let signal = sum.iter().map(|s1| (s1 / k) * (s1 / k)).sum::<f64>();
        Some(ProbeReading {
            variance,
            variance_se: crate::lab::measure::mean_variance_se(&kept, samples),
            signal,
        })
    }

    /// Loss, error and firing rate on `data` with the test-time deterministic gates (the
    /// `sparsity_target` fraction of gates with the largest pre-activations fire), evaluated in
    /// chunks of `chunk` examples.
    pub fn evaluate(&mut self, data: &Dataset, chunk: usize) -> Evaluation {
        self.updater.catch_up(&mut self.net);
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
    let mut h = net.gate_sample(chunk).h;
    let (mut loss, mut wrong, mut active, mut gates) = (0.0f64, 0usize, 0usize, 0usize);
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let len = end - start;
        if acts.logits.nrows() != len {
            acts = net.activations(len);
            h = net.gate_sample(len).h;
        }
        let x = data.images.slice(s![start..end, ..]);
        let labels = &data.labels[start..end];
        // No backward pass: the gated kernels whenever the test-time gates are sparse.
        let mut plan = MainPlan {
            gate_gradient: GateGradient::Skip,
            ..MainPlan::default()
        };
        if estimator.is_gated() {
            net.forward_gater(x, &mut acts);
            deterministic_gates(estimator, acts.gate_pre.view(), target_rate, &mut h);
            let on = h.iter().filter(|&&v| v != 0.0).count();
            active += on;
            plan.sparse = on as f32 / h.len().max(1) as f32 <= SPARSE_CROSSOVER;
        } else {
            h.fill(1.0);
            active += h.len();
        }
        let l = net.forward_main(x, labels, h.view(), &mut acts, plan);
        loss += l as f64 * len as f64;
        wrong += len - acts.loss.correct(labels);
        gates += h.len();
        start = end;
    }
    Evaluation {
        loss: (loss / n as f64) as f32,
        error: wrong as f32 / n as f32,
        firing_rate: active as f32 / gates.max(1) as f32,
        examples: n,
    }
}

/// Checkpoints.
impl Lane {
    /// A copy of everything the lane's future training depends on (velocities only with
    /// momentum: see [`super::checkpoint::LaneState::velocities`]).
    pub fn checkpoint(&mut self) -> super::checkpoint::LaneState {
        self.updater.catch_up(&mut self.net);
        super::checkpoint::LaneState {
            net: self.net.clone(),
            velocities: self.updater.velocities(),
            baseline: self.estimator.baseline_state(),
            l1: self.l1,
            rng: self.rng.clone(),
            steps: self.steps,
        }
    }

    /// [`Lane::checkpoint`] into `state`, reusing its memory where the shapes agree (so that a
    /// running race pauses only for the copy, not for allocating and faulting in fresh pages).
    pub fn checkpoint_into(&mut self, state: &mut super::checkpoint::LaneState) {
        self.updater.catch_up(&mut self.net);
        use super::checkpoint::copy_dense;
        let (a, b) = (&mut state.net, &self.net);
        copy_dense(&mut a.gater_hidden, &b.gater_hidden);
        copy_dense(&mut a.gater_gates, &b.gater_gates);
        copy_dense(&mut a.experts, &b.experts);
        copy_dense(&mut a.output, &b.output);
        a.gater_activation = b.gater_activation;
        a.expert_activation = b.expert_activation;
        self.updater.velocities_into(&mut state.velocities);
        state.baseline = self.estimator.baseline_state();
        state.l1 = self.l1;
        state.rng = self.rng.clone();
        state.steps = self.steps;
    }

    /// Continues from `state` (taken from a lane with the same settings and network shape);
    /// refuses a state whose shapes or estimator state do not fit this lane, leaving it untouched.
    pub fn restore(&mut self, state: super::checkpoint::LaneState) -> Result<(), RestoreError> {
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
            let check = |what: &'static str, w: &Array2<f32>, b: usize| {
                if w.dim() == want && b == want.1 {
                    return Ok(());
                }
                Err(RestoreError::LayerShape {
                    layer: name,
                    what,
                    rows: w.nrows(),
                    columns: w.ncols(),
                    biases: b,
                    want_rows: want.0,
                    want_columns: want.1,
                })
            };
            check("parameters are", &theirs[i].w, theirs[i].b.len())?;
            if let Some(v) = state.velocities.as_ref().map(|v| &v[i]) {
                check("velocity is", &v.w, v.b.len())?;
            }
        }
        if state.velocities.is_none() && self.settings.momentum != 0.0 {
            return Err(RestoreError::MissingVelocities(self.settings.momentum));
        }
        if state.net.gater_activation != self.net.gater_activation
            || state.net.expert_activation != self.net.expert_activation
        {
            return Err(RestoreError::Activations);
        }
        let units = self.net.units();
        match (&state.baseline, self.estimator.baseline_state()) {
            (Some(b), Some(_)) => {
                let n = b.numerator.len();
                if n != b.denominator.len() || (n != 0 && n != units) {
                    return Err(RestoreError::BaselineShape {
                        numerators: n,
                        denominators: b.denominator.len(),
                        units,
                    });
                }
                // One observation per training step at most.
                if b.observed > state.steps {
                    return Err(RestoreError::BaselineObserved {
                        observed: b.observed,
                        steps: state.steps,
                    });
                }
            }
            (None, None) => {}
            (Some(_), None) => return Err(RestoreError::UnexpectedBaseline),
            (None, Some(_)) => return Err(RestoreError::MissingBaseline),
        }
        if state.l1.is_some() != self.l1.is_some() {
            return Err(RestoreError::L1 {
                checkpoint_has: state.l1.is_some(),
            });
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
        // Checkpoints hold plain (row-major) arrays once saved: back to the kernels' layout.
        self.net.use_fast_layout();
        self.updater.restore(velocities, steps);
        if let Some(b) = baseline {
            self.estimator.restore_baseline_state(b);
        }
        self.l1 = l1;
        self.rng = rng;
        self.steps = steps;
        self.estimator.set_step(steps);
        Ok(())
    }
}
