//! The probe: every estimator measured on one problem ([`Problem`]) against one reference
//! gradient — bias, variance, mean squared error, and how the error of an average falls with the
//! number of estimates and with the main-path evaluations spent.
//!
//! What is measured is the estimator's direct output, ∂L/∂a of the batch-mean loss with respect
//! to the gate pre-activations, at fixed parameters on a fixed minibatch: M independent
//! estimates ([`crate::estimators::estimate`]) accumulated in [`Estimates`], compared against a
//! [`Reference`] — exact (the toy's closed form, the enumeration of a small net) or itself
//! estimated from many samples of an unbiased estimator, whose own noise is then removed. The
//! sparsity penalty's exact gradient, which a training step adds, is not part of what is
//! measured.
//!
//! With m the mean of the M estimates, tr Σ the total variance of one, ḡ the reference and
//! tr Σ_g/N its own noise (0 when exact): squared bias ‖m − ḡ‖² − tr Σ/M − tr Σ_g/N, ‖g‖² as
//! ‖ḡ‖² − tr Σ_g/N, cosine m·ḡ/√((‖m‖² − tr Σ/M)‖g‖²) — every noise removed, so that a reference
//! from a few thousand samples of a noisy estimator still serves (see [`Measured`]).
//!
//! Standard errors: the M estimates are drawn in G groups, each from its own random stream;
//! every standard error is the jackknife over those groups (leave one group out) and, for an
//! estimated reference, over the reference's groups, added in quadrature.
//!
//! The reference is the gradient of E[f(b)] with b ~ Bernoulli(σ(a)). That is the objective of
//! every estimator whose gates are Bernoulli(σ(a)) binary; stochastic times smooth, the
//! rectifiers, the sigmoid gates and the relaxed Concrete draw other gates and follow the
//! gradient of another objective: they are measured against the same g, marked
//! [`Objective::Other`], and their bias includes the change of objective.

use ndarray::{Array2, ShapeBuilder};
use rayon::prelude::*;
use serde::Serialize;

use super::measure::{Estimates, Reference};
use super::problem::Problem;
use crate::config::Experiment;
use crate::estimators::{Baseline, ConcreteVariant, EstimateBuffers, EstimatorSpec, estimate};
use crate::seed::rng_for;

/// An estimator to probe, under the name it has in an experiment file's lanes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Lane name, e.g. `disarm`.
    pub name: String,
    /// The estimator and its options.
    pub spec: EstimatorSpec,
}

impl Candidate {
    /// `spec` under `name`.
    pub fn new(name: impl Into<String>, spec: EstimatorSpec) -> Self {
        Candidate {
            name: name.into(),
            spec,
        }
    }
}

/// Whether an estimator's gates are Bernoulli(σ(a)), so that the reference gradient is that of
/// its own objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Objective {
    /// Binary gates that fire with probability σ(a): the paper's unbiased estimator, REINFORCE
    /// leave-one-out, ARM, DisARM, straight-through, the straight-through binary Concrete,
    /// Gumbel-Rao, ReinMax.
    BernoulliGates,
    /// Other gates (stochastic times smooth, rectifiers, sigmoid gates, the relaxed Concrete):
    /// the estimator follows the gradient of another objective, and its bias against the
    /// Bernoulli reference includes the change of objective.
    Other,
}

impl Objective {
    /// The objective of `spec`'s estimator, and for [`Objective::Other`] what its gates are.
    pub fn of(spec: &EstimatorSpec) -> (Objective, Option<&'static str>) {
        use EstimatorSpec::*;
        let other = |what| (Objective::Other, Some(what));
        match spec {
            StochasticTimesSmooth { .. } => other("h = b·√p, b ~ Bernoulli(√p) (or p): not 0/1"),
            NoisyRectifier { .. } => other("h = max(0, a + z): a rectifier, not 0/1"),
            Sigmoid { .. } => other("h = σ(a + n): never 0"),
            BinaryConcrete {
                variant: ConcreteVariant::Relaxed,
                ..
            } => other("h = σ((a + ℓ)/τ): never 0"),
            Dense => other("no gates"),
            _ => (Objective::BernoulliGates, None),
        }
    }
}

/// Whether the estimator is unbiased for the Bernoulli objective by construction (the
/// REINFORCE-type estimators, with a baseline independent of the draw being measured).
pub fn is_unbiased(spec: &EstimatorSpec) -> bool {
    spec.family().is_reinforce_type()
}

/// Whether the estimator keeps moving averages that must be warmed up before measuring (the
/// paper's unbiased estimator with a baseline).
pub fn needs_warm_up(spec: &EstimatorSpec) -> bool {
    matches!(spec, EstimatorSpec::Unbiased { baseline } if *baseline != Baseline::None)
}

/// Every estimator of the zoo (`experiments/zoo.ron`, under its lanes' names), with the paper's
/// unbiased estimator also without a baseline (`unbiased-none`) and with the mean-loss baseline
/// (`unbiased-mean`) after the zoo's optimal per-unit one.
pub fn zoo_candidates() -> Vec<Candidate> {
    let zoo = crate::config::builtin::resolve("zoo").expect("the built-in zoo parses");
    let mut out = Vec::new();
    for lane in zoo.lanes {
        if lane.estimator == EstimatorSpec::Dense {
            continue;
        }
        let unbiased = matches!(lane.estimator, EstimatorSpec::Unbiased { .. });
        out.push(Candidate::new(lane.name, lane.estimator));
        if unbiased {
            for (name, baseline) in [
                ("unbiased-none", Baseline::None),
                ("unbiased-mean", Baseline::MeanLoss),
            ] {
                out.push(Candidate::new(name, EstimatorSpec::Unbiased { baseline }));
            }
        }
    }
    out
}

/// The estimators to probe a network of `experiment` with: its lanes that have gates, under
/// their names, then every estimator of [`zoo_candidates`] that none of them is (renamed
/// `zoo-NAME` if a lane already has its name).
pub fn candidates_for(experiment: &Experiment) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = experiment
        .lanes
        .iter()
        .filter(|l| l.estimator != EstimatorSpec::Dense)
        .map(|l| Candidate::new(l.name.clone(), l.estimator))
        .collect();
    for c in zoo_candidates() {
        if out.iter().any(|o| o.spec == c.spec) {
            continue;
        }
        let name = if out.iter().any(|o| o.name == c.name) {
            format!("zoo-{}", c.name)
        } else {
            c.name
        };
        out.push(Candidate::new(name, c.spec));
    }
    out
}

/// The candidates named in `names`, in that order; the error lists the names available.
pub fn select(all: &[Candidate], names: &[String]) -> Result<Vec<Candidate>, ProbeError> {
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|c| c.name == *n)
                .cloned()
                .ok_or_else(|| ProbeError::UnknownEstimator {
                    name: n.clone(),
                    known: all.iter().map(|c| c.name.clone()).collect(),
                })
        })
        .collect()
}

/// Why a probe cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// No estimator of that name.
    #[error("no estimator named \"{name}\" (known: {})", known.join(", "))]
    UnknownEstimator {
        /// The name asked for.
        name: String,
        /// The names available.
        known: Vec<String>,
    },
    /// An exact reference was asked for a problem without one.
    #[error(
        "no exact gradient for this problem (the enumeration handles at most {} gates): \
         estimate a reference instead",
        super::MAX_ORACLE_GATES
    )]
    NoExactGradient,
    /// The reference would be estimated with a biased estimator.
    #[error(
        "the reference must come from an unbiased estimator (unbiased, rloo, arm, disarm), \
         not \"{0}\""
    )]
    BiasedReference(String),
    /// The estimator has no gates.
    #[error("\"{0}\" has no gates: there is no gate gradient to estimate")]
    NoGates(String),
    /// Too few estimates for a variance with a standard error.
    #[error("{what} = {value} must be at least {min}")]
    TooFew {
        /// The setting.
        what: &'static str,
        /// Its value.
        value: usize,
        /// The least allowed.
        min: usize,
    },
    /// Nothing to probe.
    #[error("no estimator to probe")]
    NoCandidates,
}

/// How many estimates are drawn and how the stateful estimators are prepared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbeSettings {
    /// Independent estimates M per estimator.
    pub samples: usize,
    /// Groups of estimates, each drawn from a random stream of its own (in parallel), for the
    /// jackknife standard errors.
    pub groups: usize,
    /// Draws that warm up the moving averages of a stateful estimator before it is measured
    /// (then frozen: a baseline independent of the draw measured leaves it unbiased).
    pub warm_up: usize,
    /// Seed of every random stream: group g of estimator `NAME` draws from
    /// `rng_for(seed, "probe/NAME/g")`, its warm-up from `"probe/warm-up/NAME"`, the reference
    /// from `"probe/reference/NAME/g"`.
    pub seed: u64,
}

impl ProbeSettings {
    /// Fewest estimates accepted.
    pub const MIN_SAMPLES: usize = 10;

    /// `samples` estimates in up to 20 groups (at least 5 estimates each), 200 warm-up draws.
    pub fn new(samples: usize, seed: u64) -> Self {
        ProbeSettings {
            samples,
            groups: (samples / 5).clamp(2, 20),
            warm_up: 200,
            seed,
        }
    }
}

/// The estimates of one estimator, in groups.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The estimator's description.
    pub estimator: String,
    /// Main-path evaluations K per estimate.
    pub evaluations: usize,
    /// Warm-up draws its moving averages saw (0: stateless).
    pub warm_up: usize,
    /// The estimates, group by group.
    pub groups: Vec<Estimates>,
}

/// Measures `spec` on `problem`: `settings.samples` independent estimates of ∂L/∂a in
/// `settings.groups` groups, group g drawn from `rng_for(settings.seed, "probe/STREAM/g")`, the
/// groups in parallel on the current rayon pool (the numbers do not depend on the number of
/// threads). A stateful estimator's moving averages are first warmed up on `settings.warm_up`
/// draws from `"probe/warm-up/STREAM"`, then frozen; temperature schedules are at the problem's
/// step.
pub fn measure(
    problem: &Problem,
    spec: &EstimatorSpec,
    settings: &ProbeSettings,
    stream: &str,
) -> Measurement {
    let build = || {
        let mut e = spec.build();
        e.set_step(problem.step());
        e
    };
    let a = problem.pre_activations();
    let column_major = a.ncols() > 1 && a.strides()[0] == 1;
    let zeros = || Array2::<f32>::zeros(a.raw_dim().set_f(column_major));
    let warm_up = if needs_warm_up(spec) {
        settings.warm_up
    } else {
        0
    };
    let mut warmed = build();
    if warm_up > 0 {
        let (mut f, mut work, mut da) = (problem.loss(), EstimateBuffers::default(), zeros());
        let mut rng = rng_for(settings.seed, &format!("probe/warm-up/{stream}"));
        for _ in 0..warm_up {
            estimate(warmed.as_ref(), a, &mut rng, f.as_mut(), &mut work, &mut da);
            warmed.observe(&work.draws, &work.evaluations(None));
        }
    }
    let state = warmed.baseline_state();
    let samples = settings.samples.max(1);
    let groups = settings.groups.clamp(1, samples);
    let per_call = problem.estimates_per_call();
    let scale = per_call as f32;
    let out: Vec<Estimates> = (0..groups)
        .into_par_iter()
        .with_max_len(1)
        .map(|g| {
            // Group g holds estimates g·M/G .. (g + 1)·M/G.
            let wanted = (g + 1) * samples / groups - g * samples / groups;
            let mut estimator = build();
            if let Some(state) = &state {
                estimator.restore_baseline_state(state.clone());
            }
            let (mut f, mut work, mut da) = (problem.loss(), EstimateBuffers::default(), zeros());
            let mut rng = rng_for(settings.seed, &format!("probe/{stream}/{g}"));
            let mut group = Estimates::default();
            while (group.count as usize) < wanted {
                estimate(
                    estimator.as_ref(),
                    a,
                    &mut rng,
                    f.as_mut(),
                    &mut work,
                    &mut da,
                );
                if per_call == 1 {
                    group.add(da.iter());
                } else {
                    // The toy's rows are independent copies of one gate: each row of the
                    // batch-mean gradient, times the number of rows, is one per-example estimate.
                    let left = wanted - group.count as usize;
                    for &v in da.column(0).iter().take(left) {
                        group.add(&[v * scale]);
                    }
                }
            }
            group
        })
        .collect();
    Measurement {
        estimator: warmed.describe(),
        evaluations: warmed.draws(),
        warm_up,
        groups: out,
    }
}

impl Measurement {
    /// Every estimate.
    pub fn total(&self) -> Estimates {
        merged(&self.groups, None)
    }

    /// The estimates of every group but `left_out`.
    fn without(&self, left_out: usize) -> Estimates {
        merged(&self.groups, Some(left_out))
    }
}

fn merged(groups: &[Estimates], left_out: Option<usize>) -> Estimates {
    let mut all = Estimates::default();
    for (i, g) in groups.iter().enumerate() {
        if Some(i) != left_out {
            all.merge(g);
        }
    }
    all
}

/// The noise-corrected comparison of a mean of estimates m (M of them, total variance tr Σ)
/// with a reference ḡ (noise tr Σ_g/N): the quantities every column of the probe derives from.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Comparison {
    /// ‖m − ḡ‖² − tr Σ/M − tr Σ_g/N, unbiased for ‖E ĝ − g‖² (may come out negative).
    squared_bias: f64,
    /// ‖ḡ‖² − tr Σ_g/N, unbiased for ‖g‖².
    squared_norm: f64,
    /// m·ḡ / √((‖m‖² − tr Σ/M)(‖ḡ‖² − tr Σ_g/N)): cos(E ĝ, g) with both noises removed from
    /// the norms (m·ḡ is already unbiased for E ĝ·g), within [−1, 1].
    cosine: f64,
    /// tr Σ.
    total_variance: f64,
}

impl Comparison {
    fn of(estimates: &Estimates, reference: &Reference) -> Self {
        let m = estimates.mean();
        let n = estimates.count.max(1) as f64;
        let total_variance = estimates.total_variance();
        let g = &reference.gradient;
        let (mut distance, mut mm, mut gg, mut mg) = (0.0, 0.0, 0.0, 0.0);
        for (&m, &g) in m.iter().zip(g) {
            distance += (m - g) * (m - g);
            mm += m * m;
            gg += g * g;
            mg += m * g;
        }
        let mean_norm = mm - total_variance / n;
        let squared_norm = gg - reference.total_noise();
        let cosine = if mean_norm > 0.0 && squared_norm > 0.0 {
            (mg / (mean_norm * squared_norm).sqrt()).clamp(-1.0, 1.0)
        } else {
            f64::NAN
        };
        Comparison {
            squared_bias: distance - total_variance / n - reference.total_noise(),
            squared_norm,
            cosine,
            total_variance,
        }
    }

    /// squared bias + tr Σ: E‖ĝ − g‖² of one estimate (the squared bias at least 0).
    fn mse(&self) -> f64 {
        self.squared_bias.max(0.0) + self.total_variance
    }

    fn relative(&self, v: f64) -> f64 {
        if self.squared_norm > 0.0 {
            v / self.squared_norm
        } else {
            f64::NAN
        }
    }
}

/// The jackknife standard error of a statistic from its leave-one-group-out values.
fn jackknife(values: &[f64]) -> f64 {
    let g = values.len();
    if g < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / g as f64;
    let ss: f64 = values.iter().map(|x| (x - mean).powi(2)).sum();
    ((g as f64 - 1.0) / g as f64 * ss).sqrt()
}

/// A reference gradient with what its standard errors need: exact, or the mean of groups of
/// estimates (and the references left-one-group-out, for the jackknife).
#[derive(Debug, Clone)]
pub struct ReferenceGradient {
    /// The gradient (and its noise).
    pub reference: Reference,
    /// The references without each group of estimates (empty for an exact gradient).
    pub leave_one_out: Vec<Reference>,
}

impl ReferenceGradient {
    /// An exact gradient.
    pub fn exact(gradient: Vec<f64>) -> Self {
        ReferenceGradient {
            reference: Reference::exact(gradient),
            leave_one_out: Vec::new(),
        }
    }

    /// The mean of the estimates of `measurement` (of an unbiased estimator).
    pub fn estimated(measurement: &Measurement) -> Self {
        let g = measurement.groups.len();
        ReferenceGradient {
            reference: Reference::estimated(&measurement.total()),
            leave_one_out: (0..g)
                .map(|i| Reference::estimated(&measurement.without(i)))
                .collect(),
        }
    }

    /// How `measurement` compares with this reference, with standard errors: the jackknife over
    /// the estimator's groups and, for an estimated reference, over the reference's groups,
    /// added in quadrature (the two samples are independent).
    pub fn compare(&self, measurement: &Measurement) -> Measured {
        let total = measurement.total();
        let c = Comparison::of(&total, &self.reference);
        let own: Vec<Comparison> = (0..measurement.groups.len())
            .map(|i| Comparison::of(&measurement.without(i), &self.reference))
            .collect();
        let theirs: Vec<Comparison> = self
            .leave_one_out
            .iter()
            .map(|r| Comparison::of(&total, r))
            .collect();
        let se = |value: &dyn Fn(&Comparison) -> f64| {
            let a = jackknife(&own.iter().map(value).collect::<Vec<_>>());
            let b = jackknife(&theirs.iter().map(value).collect::<Vec<_>>());
            (a * a + b * b).sqrt()
        };
        // The jackknife linearises ‖m − ḡ‖² about the mean, which fails where the bias is
        // near 0 (in one dimension its standard error then vanishes): at least the spread of
        // the squared noise itself, √(2 Σᵢ sᵢ⁴) with sᵢ² = Var ĝᵢ/M + Var ḡᵢ.
        let count = total.count.max(1) as f64;
        let floor = (2.0
            * total
                .variances()
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (v / count + self.reference.noise.get(i).copied().unwrap_or(0.0)).powi(2)
                })
                .sum::<f64>())
        .sqrt();
        let squared_bias_se = se(&|c| c.squared_bias).max(floor);
        let norm = c.squared_norm.max(0.0).sqrt();
        let per_norm = |v: f64| if norm > 0.0 { v / norm } else { f64::NAN };
        let bias = c.squared_bias.max(0.0).sqrt();
        let resolved = c.squared_bias > 2.0 * squared_bias_se;
        let dims = total.dims().max(1) as f64;
        Measured {
            samples: total.count,
            relative_bias: per_norm(bias),
            // The delta method: SE(b²)/(2b), where b stands out of its noise.
            relative_bias_se: if resolved {
                per_norm(squared_bias_se / (2.0 * bias))
            } else {
                f64::NAN
            },
            bias_resolved: resolved,
            relative_bias_upper: per_norm((c.squared_bias.max(0.0) + 2.0 * squared_bias_se).sqrt()),
            squared_bias: c.squared_bias.max(0.0),
            squared_bias_se,
            cosine: c.cosine,
            cosine_se: se(&|c| c.cosine),
            total_variance: c.total_variance,
            total_variance_se: se(&|c| c.total_variance),
            variance_per_coordinate: c.total_variance / dims,
            mse: c.mse(),
            mse_se: se(&|c| c.mse()),
            relative_mse: c.relative(c.mse()),
            relative_mse_se: se(&|c| c.relative(c.mse())),
            reference_norm: norm,
        }
    }
}

/// An estimator's bias and variance against a reference, with standard errors (see
/// [`ReferenceGradient::compare`]). The noise of the reference (tr Σ_g/N) is removed from the
/// squared bias and from ‖g‖², that of the estimator's mean (tr Σ/M) from the squared bias and
/// from ‖E ĝ‖² in the cosine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measured {
    /// Estimates measured, M.
    pub samples: u64,
    /// ‖E ĝ − g‖/‖g‖ (0 when the noise accounts for all of ‖m − ḡ‖²).
    pub relative_bias: f64,
    /// Its standard error (the delta method), when the bias is resolved; NaN otherwise.
    pub relative_bias_se: f64,
    /// Whether the squared bias stands out of its noise: more than 2 standard errors above 0.
    pub bias_resolved: bool,
    /// √(squared bias + 2 standard errors)/‖g‖: what the bias may be at most, at about 2
    /// standard errors (what to read when it is not resolved).
    pub relative_bias_upper: f64,
    /// ‖E ĝ − g‖² (at least 0).
    pub squared_bias: f64,
    /// Its standard error.
    pub squared_bias_se: f64,
    /// cos(E ĝ, g), noise removed from both norms.
    pub cosine: f64,
    /// Its standard error.
    pub cosine_se: f64,
    /// tr Σ, the total variance of one estimate.
    pub total_variance: f64,
    /// Its standard error.
    pub total_variance_se: f64,
    /// tr Σ / coordinates.
    pub variance_per_coordinate: f64,
    /// E‖ĝ − g‖² of one estimate: squared bias + tr Σ.
    pub mse: f64,
    /// Its standard error.
    pub mse_se: f64,
    /// mse / ‖g‖².
    pub relative_mse: f64,
    /// Its standard error.
    pub relative_mse_se: f64,
    /// ‖g‖, noise removed (√(‖ḡ‖² − tr Σ_g/N)).
    pub reference_norm: f64,
}

impl Measured {
    /// E‖ḡ_M − g‖² for the mean ḡ_M of `m` estimates: squared bias + tr Σ / m.
    pub fn mse_of_mean(&self, m: f64) -> f64 {
        self.squared_bias + self.total_variance / m.max(1.0)
    }

    /// [`Self::mse_of_mean`] with the squared bias at its upper bound (+2 standard errors).
    pub fn mse_of_mean_upper(&self, m: f64) -> f64 {
        self.squared_bias + 2.0 * self.squared_bias_se + self.total_variance / m.max(1.0)
    }
}

/// Where the reference gradient comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceChoice {
    /// The problem's exact gradient.
    Exact,
    /// The mean of `samples` estimates of an unbiased estimator.
    Estimated {
        /// The estimator.
        candidate: Candidate,
        /// Its estimates N.
        samples: usize,
    },
}

/// The reference gradient a probe measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceInfo {
    /// `exact` or `estimated`.
    pub kind: &'static str,
    /// The estimator it was estimated with (its lane name and description).
    pub estimator: Option<(String, String)>,
    /// Estimates averaged (0 for an exact gradient).
    pub samples: u64,
    /// Main-path evaluations per estimate of that estimator.
    pub evaluations: usize,
    /// ‖ḡ‖.
    pub norm: f64,
    /// tr Σ_g / N, the squared standard error of ḡ as a vector (0 for an exact gradient),
    /// subtracted from every estimator's squared distance to it.
    pub noise: f64,
    /// √(tr Σ_g / N) / ‖ḡ‖, the reference's own relative standard error.
    pub relative_se: f64,
}

/// How the error of an average of M estimates falls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MsePoint {
    /// Estimates averaged, M.
    pub samples: f64,
    /// Main-path evaluations per example spent, M·K.
    pub evaluations: f64,
    /// E‖ḡ_M − g‖² = bias² + tr Σ / M.
    pub mse: f64,
    /// mse / ‖g‖².
    pub relative_mse: f64,
    /// The same with the squared bias at its upper bound (+2 standard errors).
    pub relative_mse_upper: f64,
    /// Whether the squared bias is resolved: if not, the MSE lies between `relative_mse` and
    /// `relative_mse_upper`, and only the upper bound is a statement.
    pub bias_resolved: bool,
}

/// One estimator's line of the probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRow {
    /// Lane name.
    pub name: String,
    /// The estimator's description.
    pub estimator: String,
    /// Main-path evaluations K per estimate.
    pub evaluations: usize,
    /// Unbiased for the Bernoulli objective by construction.
    pub unbiased: bool,
    /// Whether the reference is the gradient of its own objective.
    pub objective: Objective,
    /// For another objective, what its gates are.
    pub objective_note: Option<&'static str>,
    /// Warm-up draws of its moving averages (0: stateless).
    pub warm_up: usize,
    /// The measurement.
    #[serde(flatten)]
    pub measured: Measured,
    /// The MSE of the mean of M estimates, at [`SAMPLE_COUNTS`].
    pub mse_of_mean: Vec<MsePoint>,
    /// The MSE at a budget of E main-path evaluations per example (M = ⌊E/K⌋ estimates), at
    /// [`BUDGETS`]; none where one estimate costs more than E.
    pub mse_at_budget: Vec<Option<MsePoint>>,
}

impl ProbeRow {
    /// The MSE of the mean of `m` estimates (m may be fractional).
    pub fn mse_point(&self, m: f64) -> MsePoint {
        let mse = self.measured.mse_of_mean(m);
        let norm = self.measured.reference_norm;
        let relative = |v: f64| {
            if norm > 0.0 {
                v / (norm * norm)
            } else {
                f64::NAN
            }
        };
        MsePoint {
            samples: m,
            evaluations: m * self.evaluations as f64,
            mse,
            relative_mse: relative(mse),
            relative_mse_upper: relative(self.measured.mse_of_mean_upper(m)),
            bias_resolved: self.measured.bias_resolved,
        }
    }
}

/// Numbers of estimates M at which the MSE of the mean is reported.
pub const SAMPLE_COUNTS: [u64; 5] = [1, 10, 100, 1_000, 10_000];

/// Main-path evaluations per example at which the MSE is reported.
pub const BUDGETS: [u64; 4] = [10, 100, 1_000, 10_000];

/// What was probed, as the caller describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemInfo {
    /// `toy`, `small`, `session` or `experiment`.
    pub kind: String,
    /// One line saying what it is.
    pub title: String,
    /// Further lines (parameters, minibatch, gates).
    pub details: Vec<String>,
}

/// A whole probe: every estimator measured against one reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The problem.
    pub problem: ProblemInfo,
    /// Coordinates of one estimate (batch × gates).
    pub dims: usize,
    /// The reference gradient.
    pub reference: ReferenceInfo,
    /// Estimates M per estimator, their groups, warm-up and seed.
    pub settings: ProbeSettings,
    /// One row per estimator, in the order asked for.
    pub rows: Vec<ProbeRow>,
}

/// Probes every estimator of `candidates` on `problem` against the `reference`: the reference
/// first (if estimated), then the estimators one after the other, each one's groups of
/// estimates in parallel on the current rayon pool (every group draws from its own stream: the
/// numbers do not depend on the number of threads). `progress` hears of every estimator done.
pub fn probe(
    problem: &Problem,
    info: ProblemInfo,
    candidates: &[Candidate],
    reference: &ReferenceChoice,
    settings: &ProbeSettings,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ProbeReport, ProbeError> {
    if candidates.is_empty() {
        return Err(ProbeError::NoCandidates);
    }
    if settings.samples < ProbeSettings::MIN_SAMPLES {
        return Err(ProbeError::TooFew {
            what: "samples",
            value: settings.samples,
            min: ProbeSettings::MIN_SAMPLES,
        });
    }
    if let Some(c) = candidates.iter().find(|c| c.spec == EstimatorSpec::Dense) {
        return Err(ProbeError::NoGates(c.name.clone()));
    }
    let (gradient, reference_info) = match reference {
        ReferenceChoice::Exact => {
            let g = problem
                .exact_gradient()
                .ok_or(ProbeError::NoExactGradient)?;
            let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            let info = ReferenceInfo {
                kind: "exact",
                estimator: None,
                samples: 0,
                evaluations: 0,
                norm,
                noise: 0.0,
                relative_se: 0.0,
            };
            (ReferenceGradient::exact(g), info)
        }
        ReferenceChoice::Estimated { candidate, samples } => {
            if !is_unbiased(&candidate.spec) {
                return Err(ProbeError::BiasedReference(candidate.name.clone()));
            }
            if *samples < ProbeSettings::MIN_SAMPLES {
                return Err(ProbeError::TooFew {
                    what: "reference samples",
                    value: *samples,
                    min: ProbeSettings::MIN_SAMPLES,
                });
            }
            let s = ProbeSettings {
                warm_up: settings.warm_up,
                ..ProbeSettings::new(*samples, settings.seed)
            };
            let stream = format!("reference/{}", candidate.name);
            let m = measure(problem, &candidate.spec, &s, &stream);
            progress(&format!("reference ({}) measured", candidate.name));
            let r = ReferenceGradient::estimated(&m);
            let noise = r.reference.total_noise();
            let squared = r.reference.gradient.iter().map(|v| v * v).sum::<f64>() - noise;
            let norm = squared.max(0.0).sqrt();
            let info = ReferenceInfo {
                kind: "estimated",
                estimator: Some((candidate.name.clone(), m.estimator.clone())),
                samples: m.total().count,
                evaluations: m.evaluations,
                norm,
                noise,
                relative_se: if norm > 0.0 {
                    noise.sqrt() / norm
                } else {
                    f64::NAN
                },
            };
            (r, info)
        }
    };
    let rows = candidates
        .iter()
        .map(|c| {
            let m = measure(problem, &c.spec, settings, &c.name);
            let row = row(c, &m, &gradient);
            progress(&format!("{} measured", c.name));
            row
        })
        .collect();
    Ok(ProbeReport {
        problem: info,
        dims: problem.dims(),
        reference: reference_info,
        settings: *settings,
        rows,
    })
}

/// The row of candidate `c` measured by `m` against `reference`.
pub fn row(c: &Candidate, m: &Measurement, reference: &ReferenceGradient) -> ProbeRow {
    let (objective, objective_note) = Objective::of(&c.spec);
    let mut row = ProbeRow {
        name: c.name.clone(),
        estimator: m.estimator.clone(),
        evaluations: m.evaluations,
        unbiased: is_unbiased(&c.spec),
        objective,
        objective_note,
        warm_up: m.warm_up,
        measured: reference.compare(m),
        mse_of_mean: Vec::new(),
        mse_at_budget: Vec::new(),
    };
    row.mse_of_mean = SAMPLE_COUNTS
        .iter()
        .map(|&n| row.mse_point(n as f64))
        .collect();
    row.mse_at_budget = BUDGETS
        .iter()
        .map(|&e| {
            let n = e / m.evaluations.max(1) as u64;
            (n >= 1).then(|| row.mse_point(n as f64))
        })
        .collect();
    row
}
