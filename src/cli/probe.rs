//! `gradrace probe TARGET`: every estimator's bias, variance and mean squared error on one
//! problem (see [`crate::lab::probe`]) — the one-gate toy (`toy`), a small net whose exact
//! gradient is enumerated (`small`), a saved session's network at a lane's checkpointed
//! parameters (`SESSION.ron`), or an experiment's network at initialisation (`EXPERIMENT`) —
//! printed as tables and a small-multiples chart, or as one JSON record.

use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use super::common::{self, data_for};
use super::console::{self, note};
use crate::config::Experiment;
use crate::data::{CLASSES, DataSplit, embedded, permutation};
use crate::estimators::EstimatorSpec;
use crate::lab::probe::{is_unbiased, probe};
use crate::lab::{
    Candidate, MAX_ORACLE_GATES, NetProblem, Objective, ProbeSettings, Problem, ProblemInfo,
    ReferenceChoice, SmallNet, ToyProblem, candidates_for, select, zoo_candidates,
};
use crate::net::GatedNet;
use crate::seed::rng_for;
use crate::session::{DataFingerprint, Session};

/// Estimates per estimator unless `--samples` says otherwise: the toy's are one gate each.
const TOY_SAMPLES: usize = 1_000_000;
/// … the small net's.
const SMALL_SAMPLES: usize = 10_000;
/// … a full network's (each costs K main-path evaluations of the probe minibatch).
const NET_SAMPLES: usize = 500;
/// Estimates of a full network's reference gradient unless `--reference-samples` says otherwise.
const NET_REFERENCE_SAMPLES: usize = 5_000;
/// The toy's firing probability and target unless `--p` and `--t` say otherwise.
const TOY_P: f64 = 0.3;
const TOY_T: f32 = 0.45;
/// Seed of the toy's and the small net's streams unless `--seed` says otherwise.
const LAB_SEED: u64 = 2013;
/// Width of the chart.
const CHART_WIDTH: usize = 80;

const EXAMPLES: &str = "\
Examples:
  gradrace probe toy                              # f(b) = (b − t)², p = 0.3, t = 0.45
  gradrace probe toy --p 0.6 --t 0.49 --estimators disarm,arm,straight-through
  gradrace probe small                            # 8 gates on 8 digits, exact gradient by enumeration
  gradrace probe paper-mnist                      # the paper's net at initialisation
  gradrace probe sessions/zoo-20250101-120000.ron --lane straight-through
  gradrace probe run.ron --samples 1000 --reference-samples 5000 --json";

/// Arguments of `gradrace probe`.
#[derive(Debug, Args, Clone, Default)]
#[command(after_help = EXAMPLES)]
pub struct ProbeArgs {
    /// What to probe: `toy` (the one-gate toy f(b) = (b − t)²), `small` (a small gated net on
    /// real digits, exact gradient by enumeration), a saved session (.ron with a checkpoint: a
    /// lane's parameters), or an experiment (a file or a built-in name: its network at
    /// initialisation).
    pub target: String,
    /// Only these estimators (comma-separated lane names: the zoo's, `unbiased-none` and
    /// `unbiased-mean`, and an experiment's own lanes). Default: every estimator.
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub estimators: Option<Vec<String>>,
    /// Independent estimates M per estimator (default: 1000000 for toy, 10000 for small, 500
    /// for a network).
    #[arg(long, value_name = "M")]
    pub samples: Option<usize>,
    /// The session's lane whose parameters are probed (default: its first lane with
    /// Bernoulli(σ(a)) gates).
    #[arg(long, value_name = "NAME")]
    pub lane: Option<String>,
    /// Estimates N of a network's reference gradient (default 5000).
    #[arg(long, value_name = "N")]
    pub reference_samples: Option<usize>,
    /// The unbiased estimator a network's reference gradient is estimated with (default: rloo,
    /// REINFORCE leave-one-out with K = 4).
    #[arg(long, value_name = "NAME")]
    pub reference: Option<String>,
    /// The probe minibatch: the first N training examples (default: the race's probe minibatch
    /// for a network, 8 examples for small).
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// toy: the gate's firing probability p (default 0.3).
    #[arg(long, value_name = "P")]
    pub p: Option<f64>,
    /// toy: the target t (default 0.45).
    #[arg(long, value_name = "T")]
    pub t: Option<f32>,
    /// small: number of gates (default 8, at most 12).
    #[arg(long, value_name = "N")]
    pub gates: Option<usize>,
    /// small: straight-through training steps before probing (default 300).
    #[arg(long, value_name = "N")]
    pub train_steps: Option<u64>,
    /// Seed of the probe's random streams (default: the experiment's; 2013 for toy and small;
    /// for an experiment it also sets the initialisation, as `race --seed` does).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Directory with the IDX files, replacing the experiment's data set.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Print one JSON record instead of the tables and the chart.
    #[arg(long)]
    pub json: bool,
    /// Print the tables without the chart.
    #[arg(long)]
    pub no_chart: bool,
}

/// What a target resolves to: the problem, how to describe it, the estimators available, the
/// reference, and the seed of the probe's streams.
struct Setup {
    problem: Problem,
    info: ProblemInfo,
    candidates: Vec<Candidate>,
    reference: ReferenceChoice,
    seed: u64,
    samples: usize,
}

fn bad(message: impl Into<String>) -> CliError {
    CliError::BadInput(message.into())
}

/// Refuses the options among `options` that were given: they do not apply to `target`.
fn refuse(args: &ProbeArgs, target: &str, options: &[&str]) -> Result<(), CliError> {
    let given = [
        ("--p", args.p.is_some()),
        ("--t", args.t.is_some()),
        ("--lane", args.lane.is_some()),
        ("--reference-samples", args.reference_samples.is_some()),
        ("--reference", args.reference.is_some()),
        ("--batch", args.batch.is_some()),
        ("--gates", args.gates.is_some()),
        ("--train-steps", args.train_steps.is_some()),
        ("--data", args.data.is_some()),
    ];
    debug_assert!(options.iter().all(|o| given.iter().any(|(g, _)| g == o)));
    match given.iter().find(|(o, g)| *g && options.contains(o)) {
        Some((option, _)) => Err(bad(format!(
            "{option} does not apply to `gradrace probe {target}`"
        ))),
        None => Ok(()),
    }
}

/// Runs `gradrace probe`.
pub fn run(args: &ProbeArgs) -> Result<(), CliError> {
    if args.samples.is_some_and(|m| m < ProbeSettings::MIN_SAMPLES) {
        return Err(bad(format!(
            "--samples must be at least {}",
            ProbeSettings::MIN_SAMPLES
        )));
    }
    let setup = match args.target.as_str() {
        "toy" => toy(args)?,
        "small" => small(args)?,
        _ => network(args)?,
    };
    let candidates = match &args.estimators {
        Some(names) => {
            select(&setup.candidates, names).map_err(|e| bad(format!("--estimators: {e}")))?
        }
        None => setup.candidates.clone(),
    };
    let settings = ProbeSettings::new(setup.samples, setup.seed);
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gradrace-probe-{i}"))
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the probe's threads: {e}")))?;
    let reference = match &setup.reference {
        ReferenceChoice::Exact => "the exact gradient".to_string(),
        ReferenceChoice::Estimated { candidate, samples } => {
            format!(
                "{samples} estimates of {} for the reference",
                candidate.name
            )
        }
    };
    note!(
        "gradrace probe: {} estimators × {} estimates on {} coordinates, against {reference}",
        candidates.len(),
        settings.samples,
        setup.problem.dims()
    );
    let done = std::sync::atomic::AtomicUsize::new(0);
    let jobs = candidates.len() + usize::from(setup.reference != ReferenceChoice::Exact);
    let progress = |what: &str| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        note!("gradrace probe: [{n}/{jobs}] {what}");
    };
    let report = pool
        .install(|| {
            probe(
                &setup.problem,
                setup.info,
                &candidates,
                &setup.reference,
                &settings,
                &progress,
            )
        })
        .map_err(|e| bad(e.to_string()))?;
    let text = if args.json {
        serde_json::to_string(&report).map_err(|e| CliError::Runtime(e.to_string()))? + "\n"
    } else {
        let mut text = report.table();
        if !args.no_chart {
            text.push('\n');
            text.push_str(&report.chart(CHART_WIDTH));
        }
        text
    };
    console::report(&text)
}

/// `gradrace probe toy`.
fn toy(args: &ProbeArgs) -> Result<Setup, CliError> {
    refuse(
        args,
        "toy",
        &[
            "--lane",
            "--reference-samples",
            "--reference",
            "--batch",
            "--gates",
            "--train-steps",
            "--data",
        ],
    )?;
    let (p, t) = (args.p.unwrap_or(TOY_P), args.t.unwrap_or(TOY_T));
    let toy = ToyProblem::new(p, t).map_err(|e| bad(format!("--p/--t: {e}")))?;
    let info = ProblemInfo {
        kind: "toy".into(),
        title: format!(
            "Probe: the one-gate toy f(b) = (b − t)², t = {t}, p = σ(a) = {} (a = {})",
            crate::lab::probe_text::significant(toy.p(), 4),
            crate::lab::probe_text::significant(f64::from(toy.logit), 4),
        ),
        details: vec![
            format!(
                "exact gradient of E[f] = p(1 − t)² + (1 − p)t²: (1 − 2t)p(1 − p) = {}",
                crate::lab::probe_text::significant(toy.exact_gradient(), 4)
            ),
            format!(
                "one estimate: one example's gate (drawn {} at a time as independent copies)",
                toy.replicas
            ),
        ],
    };
    Ok(Setup {
        problem: Problem::Toy(toy),
        info,
        candidates: zoo_candidates(),
        reference: ReferenceChoice::Exact,
        seed: args.seed.unwrap_or(LAB_SEED),
        samples: args.samples.unwrap_or(TOY_SAMPLES),
    })
}

/// "p < 0.1: 12%, 0.1–0.9: 80%, p > 0.9: 8%, mean 0.31" of a net problem's gates.
fn spread(n: &NetProblem) -> String {
    let s = n.firing_spread();
    let pc = |v: f64| format!("{:.0}%", 100.0 * v);
    format!(
        "gates' firing probabilities p = σ(a) on the minibatch: p < 0.1 {}, 0.1 ≤ p ≤ 0.9 {}, \
         p > 0.9 {}; mean {:.3}",
        pc(s.below_01),
        pc(s.middle),
        pc(s.above_09),
        s.mean
    )
}

/// `gradrace probe small`.
fn small(args: &ProbeArgs) -> Result<Setup, CliError> {
    refuse(
        args,
        "small",
        &[
            "--p",
            "--t",
            "--lane",
            "--reference-samples",
            "--reference",
            "--data",
        ],
    )?;
    let defaults = SmallNet::default();
    let settings = SmallNet {
        gates: args.gates.unwrap_or(defaults.gates),
        batch: args.batch.unwrap_or(defaults.batch),
        train_steps: args.train_steps.unwrap_or(defaults.train_steps),
        seed: args.seed.unwrap_or(LAB_SEED),
        ..defaults
    };
    if !(1..=MAX_ORACLE_GATES).contains(&settings.gates) {
        return Err(bad(format!(
            "--gates must be in 1..={MAX_ORACLE_GATES} (the enumeration visits 2^gates gate \
             vectors per example)"
        )));
    }
    let data = embedded();
    let net = NetProblem::small(settings, &data.train).map_err(|e| bad(format!("small: {e}")))?;
    let info = ProblemInfo {
        kind: "small".into(),
        title: format!(
            "Probe: a small gated net, {} gates, on the first {} embedded training digits",
            settings.gates, settings.batch
        ),
        details: vec![
            format!(
                "784 → {} tanh → {} gates; {} linear experts; Glorot initialisation (seed {}), \
                 then {} straight-through training steps (batch 32, lr 0.1, λ = 0.1, target 10%)",
                settings.gater_hidden,
                settings.gates,
                settings.gates,
                settings.seed,
                settings.train_steps
            ),
            spread(&net),
            format!(
                "exact gradient of the expected loss by enumerating all 2^{} gate vectors per \
                 example",
                settings.gates
            ),
        ],
    };
    Ok(Setup {
        problem: Problem::Net(Box::new(net)),
        info,
        candidates: zoo_candidates(),
        reference: ReferenceChoice::Exact,
        seed: settings.seed,
        samples: args.samples.unwrap_or(SMALL_SAMPLES),
    })
}

/// Whether the file at `path` is a session document rather than an experiment file: its opening
/// names the session document (sessions run to many megabytes; their first token is the name).
fn is_session(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .is_ok_and(|_| String::from_utf8_lossy(&head).contains(crate::session::format::DOCUMENT))
}

/// `gradrace probe SESSION` or `gradrace probe EXPERIMENT`.
fn network(args: &ProbeArgs) -> Result<Setup, CliError> {
    refuse(
        args,
        &args.target,
        &["--p", "--t", "--gates", "--train-steps"],
    )?;
    let path = Path::new(&args.target);
    let session = is_session(path);
    let (experiment, data, net, step, info) = if session {
        from_session(args, path)?
    } else {
        if args.lane.is_some() {
            return Err(bad(format!(
                "--lane names a lane of a saved session; {} is an experiment (probed at \
                 initialisation, where every lane has the same parameters)",
                args.target
            )));
        }
        let mut e = common::experiment(&args.target, args.data.as_deref())?;
        if let Some(seed) = args.seed {
            e.seed = seed;
        }
        let data = data_for(&e)?;
        let net = GatedNet::init(
            data.train.input_dim(),
            CLASSES,
            &e.network,
            &mut rng_for(e.seed, "init"),
        );
        let title = format!(
            "Probe: the {} experiment's network at initialisation (seed {})",
            e.name, e.seed
        );
        (e, data, net, 0, title)
    };
    let (x, labels, batch) = minibatch(args, &experiment, &data)?;
    let net = NetProblem::new(net, x, labels, step).map_err(|e| bad(e.to_string()))?;
    let n = &experiment.network;
    let candidates = candidates_for(&experiment);
    let reference = match &args.reference {
        Some(name) => select(&candidates, std::slice::from_ref(name))
            .map_err(|e| bad(format!("--reference: {e}")))?
            .remove(0),
        // REINFORCE leave-one-out: of the unbiased estimators, the lowest variance per main-path
        // evaluation on the paper's network, at initialisation and after training (README).
        None => candidates
            .iter()
            .find(|c| matches!(c.spec, EstimatorSpec::ReinforceLeaveOneOut { .. }))
            .cloned()
            .expect("the zoo has REINFORCE leave-one-out"),
    };
    if !is_unbiased(&reference.spec) {
        return Err(bad(format!(
            "--reference {}: the reference must come from an unbiased estimator (the paper's \
             unbiased estimator, rloo, arm or disarm)",
            reference.name
        )));
    }
    let reference_samples = args.reference_samples.unwrap_or(NET_REFERENCE_SAMPLES);
    if reference_samples < ProbeSettings::MIN_SAMPLES {
        return Err(bad(format!(
            "--reference-samples must be at least {}",
            ProbeSettings::MIN_SAMPLES
        )));
    }
    let details = vec![
        format!(
            "network {} → {} {} → {} gates; {} {} experts; {} on {}",
            net.net().input_dim(),
            n.gater_hidden,
            format!("{:?}", n.gater_activation).to_lowercase(),
            n.experts,
            n.experts,
            format!("{:?}", net.net().expert_activation).to_lowercase(),
            batch,
            data.name
        ),
        spread(&net),
    ];
    Ok(Setup {
        problem: Problem::Net(Box::new(net)),
        info: ProblemInfo {
            kind: if session { "session" } else { "experiment" }.into(),
            title: info,
            details,
        },
        candidates,
        reference: ReferenceChoice::Estimated {
            candidate: reference,
            samples: reference_samples,
        },
        seed: args.seed.unwrap_or(experiment.seed),
        samples: args.samples.unwrap_or(NET_SAMPLES),
    })
}

/// The experiment, data, parameters, step and title of a probe of a saved session's lane.
fn from_session(
    args: &ProbeArgs,
    path: &Path,
) -> Result<(Experiment, DataSplit, GatedNet, u64, String), CliError> {
    let file = path.display().to_string();
    let session = Session::load(path)?;
    if session.checkpoint.is_none() {
        return Err(bad(format!(
            "{file}: the session has no checkpoint (it was saved without one), so there are no \
             parameters to probe; `gradrace probe {}` probes the network at initialisation",
            session.context.experiment.name
        )));
    }
    let checkpoint = session.load_checkpoint()?;
    let mut experiment = session.context.experiment.clone();
    if let Some(dir) = &args.data {
        experiment.data = crate::config::DataSpec::Directory(dir.clone());
    }
    let data = data_for(&experiment)?;
    session
        .context
        .data
        .check_same(&DataFingerprint::of(&data))
        .map_err(|m| {
            bad(format!(
                "{file}: the race trained on \"{}\", and {m}; the probe needs the same data \
                 (--data DIR names where it is now)",
                session.context.data.name
            ))
        })?;
    let lanes: Vec<String> = experiment.lanes.iter().map(|l| l.name.clone()).collect();
    let name = match &args.lane {
        Some(name) => {
            let lane = experiment.lanes.iter().find(|l| l.name == *name);
            match lane {
                None => {
                    return Err(bad(format!(
                        "--lane {name}: {file} has no such lane (lanes: {})",
                        lanes.join(", ")
                    )));
                }
                Some(l) if l.estimator == EstimatorSpec::Dense => {
                    return Err(bad(format!(
                        "--lane {name}: the dense lane has no gates to probe"
                    )));
                }
                Some(l) => l.name.clone(),
            }
        }
        None => experiment
            .lanes
            .iter()
            .find(|l| Objective::of(&l.estimator).0 == Objective::BernoulliGates)
            .or_else(|| {
                experiment
                    .lanes
                    .iter()
                    .find(|l| l.estimator != EstimatorSpec::Dense)
            })
            .map(|l| l.name.clone())
            .ok_or_else(|| bad(format!("{file}: no lane has gates to probe")))?,
    };
    let lane = checkpoint
        .lanes
        .into_iter()
        .find(|l| l.name == name)
        .ok_or_else(|| bad(format!("{file}: the checkpoint has no lane \"{name}\"")))?;
    let step = lane.state.steps;
    let title = format!(
        "Probe: lane \"{name}\" of the {} race at step {step} ({file})",
        experiment.name
    );
    Ok((experiment, data, lane.state.net, step, title))
}

/// The probe minibatch: the first `--batch N` training examples, or the race's probe minibatch.
fn minibatch(
    args: &ProbeArgs,
    experiment: &Experiment,
    data: &DataSplit,
) -> Result<(ndarray::Array2<f32>, Vec<u8>, String), CliError> {
    let train = &data.train;
    match args.batch {
        Some(n) => {
            if !(1..=train.len()).contains(&n) {
                return Err(bad(format!(
                    "--batch must be in 1..={} (the training examples)",
                    train.len()
                )));
            }
            let first: Vec<usize> = (0..n).collect();
            let (x, y) = train.gather(&first);
            Ok((x, y, format!("the first {n} training examples")))
        }
        None => {
            // As the race draws it (engine/race.rs).
            let n = experiment.metrics.probe_batch.min(train.len()).max(1);
            let order = permutation(train.len(), &mut rng_for(experiment.seed, "probe-batch"));
            let (x, y) = train.gather(&order[..n]);
            Ok((
                x,
                y,
                format!("the race's probe minibatch ({n} training examples)"),
            ))
        }
    }
}
