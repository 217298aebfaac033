//! The problems the probe measures estimators on: the gradient ∂L/∂a of the batch-mean loss with
//! respect to the gate pre-activations a, at fixed parameters on a fixed minibatch.
//!
//! - [`ToyProblem`]: the one-gate toy f(b) = (b − t)² at a chosen p = σ(a); exact gradient
//!   (1 − 2t)p(1 − p) in closed form.
//! - [`NetProblem`]: a gated network's main path on a minibatch, evaluated by [`FixedMainPath`]
//!   (the function [`MainPathLoss`](crate::net::gate_loss::MainPathLoss) computes, with the
//!   experts' outputs computed once); exact gradient by enumerating every gate vector when it has
//!   at most [`MAX_ORACLE_GATES`] gates ([`NetProblem::small`] builds one on real digits),
//!   otherwise none (the probe then estimates a reference from many samples of an unbiased
//!   estimator).

use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, ShapeBuilder, Zip};
use serde::Serialize;

use super::enumeration::{MAX_ORACLE_GATES, OracleError, exact_binary_gate_gradient};
use super::toy::QuadraticToy;
use crate::config::LaneSettings;
use crate::data::{CLASSES, Dataset, MinibatchSchedule};
use crate::engine::Lane;
use crate::estimators::{EstimatorSpec, GateGradient, GateLoss, StraightThroughVariant};
use crate::net::{GatedNet, NetConfig};
use crate::nn::loss::SoftmaxCrossEntropy;
use crate::nn::math::sigmoid64;
use crate::nn::{Activation, Dense};
use crate::seed::{derive_seed, rng_for};

/// Why a problem cannot be set up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemError {
    /// The toy's firing probability is not strictly between 0 and 1 (or too close to either
    /// end for an f32 logit).
    #[error("p = {0} must be in [1e-6, 1 − 1e-6]")]
    Probability(f64),
    /// The toy's target is not a finite number.
    #[error("t = {0} must be a finite number")]
    Target(f32),
    /// A size is out of range.
    #[error("{what} = {value} must be {allowed}")]
    Size {
        /// The setting, e.g. `gates`.
        what: &'static str,
        /// Its value.
        value: usize,
        /// The allowed range.
        allowed: String,
    },
    /// Inputs and labels disagree, or the minibatch is empty.
    #[error("a minibatch of {inputs} inputs and {labels} labels")]
    Batch {
        /// Rows of x.
        inputs: usize,
        /// Labels.
        labels: usize,
    },
}

/// The one-gate toy f(b) = (b − t)² at logit a (p = σ(a)).
///
/// One call of an estimator evaluates `replicas` independent copies of the gate (a minibatch of
/// that many examples, each with the same logit); row r of the batch-mean gradient, times
/// `replicas`, is one estimate of the per-example gradient. So an estimate here is one sample of
/// the estimator for one example, as in the literature's toy, drawn in bulk.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyProblem {
    /// f and its target t.
    pub toy: QuadraticToy,
    /// The logit a (f32: the estimators' p is σ of this value).
    pub logit: f32,
    /// Copies of the gate per call of the estimator.
    pub replicas: usize,
    logits: Array2<f32>,
}

impl ToyProblem {
    /// Copies of the gate drawn per call unless said otherwise.
    pub const REPLICAS: usize = 1000;

    /// The toy with firing probability `p` and target `t`.
    pub fn new(p: f64, t: f32) -> Result<Self, ProblemError> {
        if !(1e-6..=1.0 - 1e-6).contains(&p) {
            return Err(ProblemError::Probability(p));
        }
        if !t.is_finite() {
            return Err(ProblemError::Target(t));
        }
        let logit = (p / (1.0 - p)).ln() as f32;
        Ok(ToyProblem {
            toy: QuadraticToy { target: t },
            logit,
            replicas: Self::REPLICAS,
            logits: Array2::from_elem((Self::REPLICAS, 1), logit),
        })
    }

    /// p = σ(a) of the f32 logit the estimators see.
    pub fn p(&self) -> f64 {
        sigmoid64(f64::from(self.logit))
    }

    /// The exact gradient (1 − 2t)p(1 − p).
    pub fn exact_gradient(&self) -> f64 {
        self.toy.exact_gradient(self.p())
    }
}

/// A gated network's main path as the loss of its gates, on a fixed minibatch at fixed
/// parameters (fixed: the gate pre-activations and the experts' outputs are computed once, when
/// the problem is made).
#[derive(Debug, Clone)]
pub struct NetProblem {
    net: GatedNet,
    x: Array2<f32>,
    labels: Vec<u8>,
    /// Training steps these parameters have taken (estimators with a temperature schedule
    /// follow it).
    pub step: u64,
    gate_pre: Array2<f32>,
    /// The experts' outputs H = g(x Wₑ + bₑ), batch × units: fixed, like the parameters.
    experts: Array2<f32>,
}

/// How the small enumerable net is built ([`NetProblem::small`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SmallNet {
    /// Gates (= experts), at most [`MAX_ORACLE_GATES`].
    pub gates: usize,
    /// Tanh units of the gater.
    pub gater_hidden: usize,
    /// Examples in the probe minibatch (the first of the embedded training digits).
    pub batch: usize,
    /// Straight-through training steps (batch 32, the race's settings for that lane) before
    /// probing, so that the gates are not all at p ≈ ½.
    pub train_steps: u64,
    /// Seed of the initialisation and of the minibatch order.
    pub seed: u64,
}

impl Default for SmallNet {
    fn default() -> Self {
        SmallNet {
            gates: 8,
            gater_hidden: 16,
            batch: 8,
            train_steps: 300,
            seed: 2013,
        }
    }
}

impl NetProblem {
    /// `net` on the minibatch (`x`, `labels`), its parameters `step` training steps old.
    pub fn new(
        mut net: GatedNet,
        x: Array2<f32>,
        labels: Vec<u8>,
        step: u64,
    ) -> Result<Self, ProblemError> {
        if x.nrows() != labels.len() || labels.is_empty() {
            return Err(ProblemError::Batch {
                inputs: x.nrows(),
                labels: labels.len(),
            });
        }
        net.use_fast_layout();
        let mut acts = net.activations(labels.len());
        net.forward_gater(x.view(), &mut acts);
        net.experts.forward_into(x.view(), &mut acts.experts);
        net.expert_activation.apply(&mut acts.experts);
        Ok(NetProblem {
            net,
            x,
            labels,
            step,
            gate_pre: acts.gate_pre,
            experts: acts.experts,
        })
    }

    /// The small net whose exact gradient the enumeration gives: `settings.gates` linear experts
    /// gated by a 784 → `gater_hidden` tanh gater, initialised as a race initialises (Glorot,
    /// `rng_for(seed, "init")`), then trained for `train_steps` straight-through steps on the
    /// embedded training digits (batch 32, lr 0.1, λ = 0.1, target 10%), so that the gates
    /// spread out from p ≈ ½; probed on the first `batch` training digits of `train`.
    pub fn small(settings: SmallNet, train: &Dataset) -> Result<Self, ProblemError> {
        if !(1..=MAX_ORACLE_GATES).contains(&settings.gates) {
            return Err(ProblemError::Size {
                what: "gates",
                value: settings.gates,
                allowed: format!("in 1..={MAX_ORACLE_GATES} (the enumeration's limit)"),
            });
        }
        if settings.gater_hidden == 0 {
            return Err(ProblemError::Size {
                what: "gater hidden units",
                value: 0,
                allowed: "at least 1".into(),
            });
        }
        if !(1..=train.len()).contains(&settings.batch) {
            return Err(ProblemError::Size {
                what: "batch",
                value: settings.batch,
                allowed: format!("in 1..={}", train.len()),
            });
        }
        let config = NetConfig {
            gater_hidden: settings.gater_hidden,
            gater_activation: Activation::Tanh,
            experts: settings.gates,
            expert_activation: Activation::Linear,
        };
        let seed = settings.seed;
        let init = GatedNet::init(
            train.input_dim(),
            CLASSES,
            &config,
            &mut rng_for(seed, "init"),
        );
        let spec = EstimatorSpec::StraightThrough {
            variant: StraightThroughVariant::Identity,
        };
        let mut lane = Lane::new(init, LaneSettings::paper(spec), rng_for(seed, "lane/small"));
        let batch = 32.min(train.len());
        let mut schedule =
            MinibatchSchedule::new(train.len(), batch, derive_seed(seed, "minibatches"));
        let (mut x, mut y) = (Array2::zeros((batch, train.input_dim())), Vec::new());
        for step in 0..settings.train_steps {
            train.gather_into(schedule.batch_at(step), &mut x, &mut y);
            lane.train_step(x.view(), &y);
        }
        let net = lane.parameters().clone();
        let first: Vec<usize> = (0..settings.batch).collect();
        let (x, labels) = train.gather(&first);
        NetProblem::new(net, x, labels, settings.train_steps)
    }

    /// The parameters.
    pub fn net(&self) -> &GatedNet {
        &self.net
    }

    /// The minibatch's inputs, batch × inputs.
    pub fn x(&self) -> ArrayView2<'_, f32> {
        self.x.view()
    }

    /// The minibatch's labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The gate pre-activations a on the minibatch, batch × gates.
    pub fn gate_pre(&self) -> ArrayView2<'_, f32> {
        self.gate_pre.view()
    }

    /// The exact ∂E[L]/∂a for Bernoulli(σ(a)) gates by enumeration (at most
    /// [`MAX_ORACLE_GATES`] gates).
    pub fn exact_gradient(&self) -> Result<Array2<f64>, OracleError> {
        exact_binary_gate_gradient(&self.net, self.x.view(), &self.labels).map(|g| g.gate_pre)
    }

    /// How the firing probabilities p = σ(a) of the minibatch's gates are spread: the fraction
    /// below 0.1, between 0.1 and 0.9, above 0.9, and their mean.
    pub fn firing_spread(&self) -> FiringSpread {
        let n = self.gate_pre.len().max(1) as f64;
        let p: Vec<f64> = self
            .gate_pre
            .iter()
            .map(|&a| sigmoid64(f64::from(a)))
            .collect();
        FiringSpread {
            below_01: p.iter().filter(|&&p| p < 0.1).count() as f64 / n,
            middle: p.iter().filter(|&&p| (0.1..=0.9).contains(&p)).count() as f64 / n,
            above_09: p.iter().filter(|&&p| p > 0.9).count() as f64 / n,
            mean: p.iter().sum::<f64>() / n,
        }
    }
}

/// How a minibatch's firing probabilities are spread ([`NetProblem::firing_spread`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FiringSpread {
    /// Share of gates with p < 0.1.
    pub below_01: f64,
    /// Share with 0.1 ≤ p ≤ 0.9.
    pub middle: f64,
    /// Share with p > 0.9.
    pub above_09: f64,
    /// Mean p.
    pub mean: f64,
}

/// A problem the probe measures estimators on.
#[derive(Debug, Clone)]
pub enum Problem {
    /// The one-gate toy.
    Toy(ToyProblem),
    /// A gated network's main path (boxed: its parameters are most of the enum).
    Net(Box<NetProblem>),
}

impl Problem {
    /// The pre-activations one call of an estimator sees.
    pub fn pre_activations(&self) -> ArrayView2<'_, f32> {
        match self {
            Problem::Toy(t) => t.logits.view(),
            Problem::Net(n) => n.gate_pre(),
        }
    }

    /// Independent estimates one call of an estimator yields: the toy's replicas, or 1.
    pub fn estimates_per_call(&self) -> usize {
        match self {
            Problem::Toy(t) => t.replicas,
            Problem::Net(_) => 1,
        }
    }

    /// Coordinates of one estimate: 1 for the toy, batch × gates for a net.
    pub fn dims(&self) -> usize {
        match self {
            Problem::Toy(_) => 1,
            Problem::Net(n) => n.gate_pre.len(),
        }
    }

    /// Training steps the parameters have taken (0 for the toy).
    pub fn step(&self) -> u64 {
        match self {
            Problem::Toy(_) => 0,
            Problem::Net(n) => n.step,
        }
    }

    /// The exact gradient when there is one — the toy's closed form, or the enumeration of a
    /// net with at most [`MAX_ORACLE_GATES`] gates — coordinates in the order of an estimate.
    pub fn exact_gradient(&self) -> Option<Vec<f64>> {
        match self {
            Problem::Toy(t) => Some(vec![t.exact_gradient()]),
            Problem::Net(n) if n.net.units() <= MAX_ORACLE_GATES => {
                n.exact_gradient().ok().map(|g| g.iter().copied().collect())
            }
            Problem::Net(_) => None,
        }
    }

    /// The problem's loss f(b), with buffers of its own.
    pub fn loss(&self) -> Box<dyn GateLoss + '_> {
        match self {
            Problem::Toy(t) => Box::new(t.toy),
            Problem::Net(n) => Box::new(n.loss()),
        }
    }
}

impl NetProblem {
    /// The main path as a loss of the gates ([`FixedMainPath`]).
    pub fn loss(&self) -> FixedMainPath<'_> {
        FixedMainPath::new(&self.net.output, self.experts.view(), &self.labels)
    }
}

/// A gated net's main path at fixed parameters on a fixed minibatch, as a loss of the gates:
/// f(b) = cross-entropy(softmax((H ⊙ b) Wₒ + bₒ), y), and ∂f/∂h = (∂L/∂c) ⊙ H with
/// ∂L/∂c = (softmax − onehot(y)) Wₒᵀ / B for the batch-mean loss.
///
/// The function [`MainPathLoss`](crate::net::gate_loss::MainPathLoss) computes (the same values
/// to f32 rounding: tested), but with the experts' outputs H = g(x Wₑ + bₑ) computed once for
/// every draw: they depend on neither the gates nor anything that changes while the parameters
/// are fixed, and they are the bulk of an evaluation's cost (on the paper's net, 784 × 2000
/// multiply-adds per example against 2000 × 10 for the rest), so the probe can afford the
/// hundreds of thousands of evaluations a reference gradient of 64,000 coordinates needs. An
/// evaluation still counts as one main-path evaluation in the probe's budgets: it is one in a
/// training step.
pub struct FixedMainPath<'a> {
    output: &'a Dense,
    experts: ArrayView2<'a, f32>,
    labels: &'a [u8],
    conditional: Array2<f32>,
    logits: Array2<f32>,
    loss: SoftmaxCrossEntropy,
    dlogits: Array2<f32>,
    dconditional: Array2<f32>,
}

impl<'a> FixedMainPath<'a> {
    /// The loss of the softmax layer `output` over the experts' outputs `experts` (H, batch ×
    /// units) gated by b, for `labels`.
    pub fn new(output: &'a Dense, experts: ArrayView2<'a, f32>, labels: &'a [u8]) -> Self {
        let (batch, units) = experts.dim();
        let classes = output.outputs();
        FixedMainPath {
            output,
            experts,
            labels,
            conditional: Array2::zeros((batch, units).f()),
            logits: Array2::zeros((batch, classes)),
            loss: SoftmaxCrossEntropy::new(batch, classes),
            dlogits: Array2::zeros((batch, classes)),
            dconditional: Array2::zeros((batch, units).f()),
        }
    }
}

impl GateLoss for FixedMainPath<'_> {
    fn evaluate(
        &mut self,
        h: ArrayView2<f32>,
        reads: GateGradient,
        mut losses: ArrayViewMut1<f32>,
        mut gate_gradient: ArrayViewMut2<f32>,
    ) {
        Zip::from(&mut self.conditional)
            .and(self.experts)
            .and(h)
            .for_each(|c, &e, &h| *c = e * h);
        self.output
            .forward_into(self.conditional.view(), &mut self.logits);
        self.loss.forward(self.logits.view(), self.labels);
        losses.assign(&self.loss.losses);
        if reads == GateGradient::Skip {
            return;
        }
        let batch = self.labels.len().max(1);
        self.loss
            .backward_into(self.labels, 1.0 / batch as f32, &mut self.dlogits);
        self.output
            .input_grad_into(self.dlogits.view(), &mut self.dconditional);
        let where_on = reads == GateGradient::WhereOn;
        Zip::from(&mut gate_gradient)
            .and(&self.dconditional)
            .and(self.experts)
            .and(h)
            .for_each(|g, &dc, &e, &h| {
                *g = if where_on && h == 0.0 { 0.0 } else { dc * e };
            });
    }
}
