//! `gradrace probe` end to end: the toy as JSON, the small net's tables and chart, a tiny saved
//! race probed at a lane's checkpoint and its experiment at initialisation, and every kind of
//! bad input with its message and exit code 2.

use std::path::Path;

use serde_json::Value;

mod common;
use common::cli::{gradrace, stderr, stdout};

/// A tiny race: two Bernoulli lanes, the STS lane and the dense lane, on a 784 → 8 → 12 net.
const TINY: &str = r#"Experiment(
    name: "tiny-probe",
    seed: 11,
    network: (gater_hidden: 8, experts: 12),
    training: (batch_size: 16, length: Steps(30)),
    metrics: (eval_every: 30, probe_every: 30, probe_samples: 3, probe_batch: 8, heat_every: 5),
    lanes: [
        (name: "dense", estimator: Dense),
        (name: "sts", estimator: StochasticTimesSmooth(bernoulli: SqrtP)),
        (name: "st", estimator: StraightThrough(variant: Identity)),
        (name: "unbiased", estimator: Unbiased(baseline: OptimalPerUnit)),
    ],
)
"#;

/// The zoo's estimators with gates and the paper's unbiased estimator's other two baselines.
const ZOO: [&str; 13] = [
    "straight-through",
    "sts",
    "noisy-rectifier",
    "unbiased",
    "unbiased-none",
    "unbiased-mean",
    "rloo",
    "arm",
    "disarm",
    "concrete-st",
    "concrete-relaxed",
    "gumbel-rao",
    "reinmax",
];

#[test]
fn probe_toy_json_has_every_estimator_against_the_exact_gradient() {
    let out = gradrace()
        .args(["probe", "toy", "--json", "--samples", "50000", "--p", "0.3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["problem"]["kind"], "toy");
    assert_eq!(v["reference"]["kind"], "exact");
    assert_eq!(v["dims"], 1);
    let exact = (1.0 - 2.0 * 0.45) * 0.3 * 0.7;
    assert!((v["reference"]["norm"].as_f64().unwrap() - exact).abs() < 1e-6);
    let rows = v["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ZOO);
    for r in rows {
        let name = r["name"].as_str().unwrap();
        assert_eq!(r["samples"], 50000, "{name}");
        let k = r["evaluations"].as_u64().unwrap();
        let expected_k = match name {
            "rloo" => 4,
            "arm" | "disarm" => 2,
            _ => 1,
        };
        assert_eq!(k, expected_k, "{name}");
        assert_eq!(r["mse_of_mean"].as_array().unwrap().len(), 5);
        assert_eq!(r["mse_at_budget"].as_array().unwrap().len(), 4);
        let other = ["sts", "noisy-rectifier", "concrete-relaxed"].contains(&name);
        let objective = if other { "Other" } else { "BernoulliGates" };
        assert_eq!(r["objective"], objective, "{name}");
        // At p = 0.3 < t, straight-through points the wrong way (a known failure on the toy).
        if name == "straight-through" {
            assert_eq!(r["bias_resolved"], true);
            assert!(r["cosine"].as_f64().unwrap() < -0.99);
        }
        if ["unbiased-none", "rloo", "arm", "disarm"].contains(&name) {
            assert_eq!(r["bias_resolved"], false, "{name}");
        }
    }
    // DisARM's variance is the closed form ½(1 − 2t)(1 − m) with probability 2m (m = 0.3)...
    let disarm = rows.iter().find(|r| r["name"] == "disarm").unwrap();
    let c = 0.5 * 0.1 * 0.7;
    let var = c * c * 0.6 - exact * exact;
    let (measured, se) = (
        disarm["total_variance"].as_f64().unwrap(),
        disarm["total_variance_se"].as_f64().unwrap(),
    );
    assert!(
        (measured - var).abs() < 5.0 * se,
        "{measured} ± {se} vs {var}"
    );
}

#[test]
fn probe_small_prints_the_tables_and_the_chart() {
    let out = gradrace()
        .args(["probe", "small", "--samples", "2000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "a small gated net, 8 gates",
        "enumerating all 2^8 gate vectors",
        "reference g: the exact gradient",
        "Bias and variance of one estimate",
        "rel. bias",
        "cosine",
        "tr Σ / coord",
        "MSE/‖g‖² of the mean of M estimates",
        "M=1e4",
        "E=1e4",
        "† another objective",
        "evaluations",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    for name in ZOO {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "no row for {name} in\n{text}"
        );
    }
    // The chart: braille panels, every line within 80 columns.
    let chart = &text[text
        .rfind("MSE/‖g‖² of the mean of the estimates bought")
        .unwrap()..];
    assert!(
        chart
            .chars()
            .any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
    );
    for line in chart.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }
    // Progress on stderr, one line per estimator.
    assert_eq!(stderr(&out).matches("measured").count(), ZOO.len());
    // --no-chart, --estimators.
    let out = gradrace()
        .args([
            "probe",
            "small",
            "--samples",
            "200",
            "--no-chart",
            "--estimators",
            "disarm,straight-through",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('│'), "{text}");
    assert!(
        text.contains("disarm") && !text.contains("reinmax"),
        "{text}"
    );
}

/// Runs the tiny race in `dir`, saved to `name` (with or without its checkpoint).
fn tiny_race(dir: &Path, name: &str, checkpoint: bool) {
    std::fs::write(dir.join("tiny.ron"), TINY).unwrap();
    let mut cmd = gradrace();
    cmd.current_dir(dir).args([
        "race",
        "tiny.ron",
        "--headless",
        "--threads",
        "1",
        "--autosave",
        "0",
        "--out",
        name,
    ]);
    if !checkpoint {
        cmd.arg("--no-checkpoint");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn probe_a_saved_race_at_a_lanes_checkpoint_and_its_experiment_at_initialisation() {
    let dir = tempfile::tempdir().unwrap();
    tiny_race(dir.path(), "t.ron", true);
    let probe = |args: &[&str]| {
        gradrace()
            .current_dir(dir.path())
            .args(["probe"])
            .args(args)
            .args(["--samples", "40", "--reference-samples", "200"])
            .output()
            .unwrap()
    };
    // Default lane: the first with Bernoulli gates (not dense, not sts).
    let out = probe(&["t.ron", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["problem"]["kind"], "session");
    let title = v["problem"]["title"].as_str().unwrap();
    assert!(
        title.contains("lane \"st\"") && title.contains("step 30"),
        "{title}"
    );
    assert_eq!(v["reference"]["kind"], "estimated");
    assert_eq!(v["reference"]["estimator"][0], "rloo");
    assert_eq!(v["reference"]["samples"], 200);
    assert!(v["reference"]["relative_se"].as_f64().unwrap() > 0.0);
    // The probe minibatch is the race's (8 examples) × 12 gates.
    assert_eq!(v["dims"], 8 * 12);
    let names: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    // The experiment's gated lanes first, then the rest of the zoo.
    assert_eq!(&names[..3], ["sts", "st", "unbiased"]);
    assert!(names.contains(&"disarm") && names.contains(&"reinmax"));
    assert!(!names.contains(&"dense") && !names.contains(&"straight-through"));
    assert!(names.contains(&"unbiased-none"));

    // Another lane, the first training examples, a chosen reference, as text.
    let out = probe(&[
        "t.ron",
        "--lane",
        "unbiased",
        "--batch",
        "4",
        "--reference",
        "disarm",
        "--estimators",
        "st,disarm",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("lane \"unbiased\""), "{text}");
    assert!(text.contains("the first 4 training examples"), "{text}");
    assert!(text.contains("estimates of disarm"), "{text}");
    assert!(text.contains("48 coordinates"), "{text}");

    // The experiment at initialisation.
    let out = probe(&["tiny.ron", "--estimators", "st,unbiased", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["problem"]["kind"], "experiment");
    assert!(
        v["problem"]["title"]
            .as_str()
            .unwrap()
            .contains("at initialisation")
    );

    // Errors: an unknown lane, the dense lane, options of another target.
    for (args, message) in [
        (
            vec!["t.ron", "--lane", "nope"],
            "no such lane (lanes: dense, sts, st, unbiased)",
        ),
        (vec!["t.ron", "--lane", "dense"], "no gates"),
        (vec!["t.ron", "--p", "0.3"], "--p does not apply"),
        (vec!["t.ron", "--reference", "st"], "unbiased estimator"),
        (
            vec!["t.ron", "--estimators", "dense"],
            "no estimator named \"dense\"",
        ),
        (vec!["t.ron", "--batch", "0"], "--batch must be in"),
        (
            vec!["tiny.ron", "--lane", "st"],
            "--lane names a lane of a saved session",
        ),
    ] {
        let out = probe(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_session_without_a_checkpoint_cannot_be_probed() {
    let dir = tempfile::tempdir().unwrap();
    tiny_race(dir.path(), "h.ron", false);
    let out = gradrace()
        .current_dir(dir.path())
        .args(["probe", "h.ron"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no checkpoint") && err.contains("gradrace probe tiny-probe"),
        "{err}"
    );
}

#[test]
fn bad_probe_arguments_exit_2_with_a_message() {
    for (args, message) in [
        (vec!["probe", "toy", "--p", "1.5"], "p = 1.5 must be in"),
        (
            vec!["probe", "toy", "--t", "NaN"],
            "must be a finite number",
        ),
        (
            vec!["probe", "toy", "--samples", "3"],
            "--samples must be at least 10",
        ),
        (
            vec!["probe", "toy", "--estimators", "nope"],
            "no estimator named \"nope\" (known: straight-through",
        ),
        (
            vec!["probe", "toy", "--lane", "st"],
            "--lane does not apply to `gradrace probe toy`",
        ),
        (
            vec!["probe", "small", "--gates", "20"],
            "--gates must be in 1..=12",
        ),
        (
            vec!["probe", "small", "--reference-samples", "100"],
            "--reference-samples does not apply",
        ),
        (
            vec!["probe", "small", "--batch", "0"],
            "batch = 0 must be in",
        ),
        (
            vec!["probe", "no/such/experiment.ron"],
            "not a built-in experiment",
        ),
        (
            vec!["probe", "quick", "--reference-samples", "5"],
            "--reference-samples must be at least 10",
        ),
    ] {
        let out = gradrace().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
