//! The binary end to end: a tiny headless race, and every kind of bad input with its message and
//! exit code.

use std::fs;

mod common;
use common::cli::gradrace;

const TINY: &str = r#"Experiment(
    name: "tiny-cli",
    seed: 3,
    network: (gater_hidden: 8, experts: 16),
    training: (batch_size: 16, length: Steps(40)),
    metrics: (eval_every: 20, probe_every: 20, probe_samples: 3, heat_every: 5),
    lanes: [
        (name: "st", estimator: StraightThrough(variant: Identity)),
        (name: "unbiased", estimator: Unbiased(baseline: OptimalPerUnit)),
        (name: "dense", estimator: Dense),
    ],
)
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn stderr_of(args: &[&str], code: i32) -> String {
    let out = gradrace().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "args {args:?}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn tiny_headless_race_prints_the_leaderboard() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "tiny.ron", TINY);
    // Run in the temporary directory: a race saves its session under ./sessions/.
    let out = gradrace()
        .current_dir(dir.path())
        .args(["race", &file, "--headless", "--threads", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "held-out err",
        "examples/s",
        "st",
        "unbiased",
        "dense",
        "done",
        "40",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    // --lanes keeps only the named lanes; --steps overrides the length.
    let out = gradrace()
        .current_dir(dir.path())
        .args([
            "race",
            &file,
            "--headless",
            "--lanes",
            "dense",
            "--steps",
            "10",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("dense") && !stdout.contains("unbiased"));
    assert!(stdout.contains("10 steps"));
}

#[test]
fn syntax_error_reports_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let broken = TINY.replace("seed: 3,", "seed: 3");
    let file = write(&dir, "broken.ron", &broken);
    let err = stderr_of(&["race", &file, "--headless"], 2);
    assert!(err.contains(&format!("{file}:4:")), "{err}");
}

#[test]
fn unknown_estimator_lists_the_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "x.ron", &TINY.replace("Dense)", "Magic)"));
    let err = stderr_of(&["race", &file, "--headless"], 2);
    assert!(err.contains("Magic"), "{err}");
    for name in [
        "Unbiased",
        "StochasticTimesSmooth",
        "NoisyRectifier",
        "StraightThrough",
        "Sigmoid",
        "Dense",
    ] {
        assert!(err.contains(name), "{name} missing: {err}");
    }
    assert!(err.contains(":10:"), "positioned: {err}");
}

#[test]
fn out_of_range_values_name_the_field_and_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            TINY.replace("training: (", "training: (sparsity_target: 1.5, "),
            "sparsity_target",
            "(0, 1)",
        ),
        (
            TINY.replace("batch_size: 16", "batch_size: 0"),
            "batch_size",
            "1..=65536",
        ),
        (
            TINY.replace(
                "estimator: Dense)",
                "estimator: Dense, learning_rate: -0.1)",
            ),
            "learning_rate",
            "> 0",
        ),
        (
            TINY.replace(
                "estimator: Dense)",
                "estimator: NoisyRectifier(noise: None), sparsity_weight: 5.0)",
            ),
            "sparsity_weight",
            "[1e-13, 1]",
        ),
    ];
    for (i, (text, field, range)) in cases.iter().enumerate() {
        let file = write(&dir, &format!("bad{i}.ron"), text);
        let err = stderr_of(&["race", &file, "--headless"], 2);
        assert!(err.contains(field) && err.contains(range), "{err}");
        assert!(err.contains(&file), "names the file: {err}");
    }
}

#[test]
fn missing_or_corrupt_data_directory_is_named_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "tiny.ron", TINY);
    let empty = tempfile::tempdir().unwrap();
    let d = empty.path().display().to_string();
    let err = stderr_of(&["race", &file, "--headless", "--data", &d], 2);
    assert!(err.contains("train-images-idx3-ubyte"), "{err}");
    assert!(err.contains("dataset-fashion-mnist"), "{err}");
    // A corrupt file: right names, wrong content.
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        fs::write(empty.path().join(name), b"not an idx file").unwrap();
    }
    let err = stderr_of(&["race", &file, "--headless", "--data", &d], 2);
    assert!(err.contains("idx"), "{err}");
}

#[test]
fn unknown_lane_and_unknown_experiment_are_bad_input() {
    let err = stderr_of(&["race", "quick", "--lanes", "nope", "--headless"], 2);
    assert!(
        err.contains("nope") && err.contains("straight-through"),
        "{err}"
    );
    let err = stderr_of(&["race", "no-such-experiment", "--headless"], 2);
    assert!(
        err.contains("quick") && err.contains("paper-mnist"),
        "{err}"
    );
    let err = stderr_of(&["race", "--steps", "0", "--headless"], 2);
    assert!(err.contains("--steps"), "{err}");
}

#[test]
fn help_is_complete_with_examples() {
    let out = gradrace().args(["race", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--data",
        "--seed",
        "--steps",
        "--epochs",
        "--lanes",
        "--headless",
        "Examples:",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}

/// A headless race whose output nobody reads any more (`... 2>&1 | head` after head exited)
/// trains to the end and saves its session; a result that cannot be written (a full disk) is a
/// run-time failure with a message, not a panic.
#[test]
fn closed_or_full_outputs_neither_panic_nor_lose_the_race() {
    use std::process::{Command as Process, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "tiny.ron", TINY);
    let saved = dir.path().join("closed.ron");
    let mut child = Process::new(env!("CARGO_BIN_EXE_gradrace"))
        .args(["race", &file, "--headless", "--out"])
        .arg(&saved)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading ends before the race writes anything.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let session = gradrace::session::Session::load(&saved).unwrap();
    assert_eq!(session.recorder.step(), 40);

    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipping the full-disk case: no /dev/full");
        return;
    };
    let out = Process::new(env!("CARGO_BIN_EXE_gradrace"))
        .args(["replay", "--text"])
        .arg(&saved)
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
}
