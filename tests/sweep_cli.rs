//! `gradrace sweep` end to end on this machine: bad sweep files (positioned errors, exit 2),
//! the dry run of the README's sweep, and a local sweep interrupted with Ctrl-C and resumed —
//! finished runs are not raced again, the interrupted one is, and the table is the one an
//! uninterrupted sweep gives.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use gradrace::session::Session;

mod common;
use common::cli::gradrace;

fn readme_sweep() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/readme.sweep.ron")
}

#[test]
fn bad_sweep_files_are_reported_at_their_place_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown axis",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  grid: {\"training.learnin_rate\": [0.1]},\n)\n",
            ":4:10: unknown axis \"training.learnin_rate\"; the axes are: lane, seed, steps",
        ),
        (
            "empty axis",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  grid: {\"seed\": []},\n)\n",
            ":4:18: axis \"seed\" is empty: give it at least one value",
        ),
        (
            "value out of range",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  grid: {\n    \"lane\": [\"sts\"],\n    \"training.sparsity_target\": [0.1, 1.5],\n  },\n)\n",
            ":6:39: training.sparsity_target = 1.5 must be in the open \
             interval (0, 1) (run 1: lane=sts training.sparsity_target=1.5)",
        ),
        (
            "unknown lane",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  list: [{\"lane\": \"sts\"}, {\"lane\": \"stt\"}],\n)\n",
            ":4:36: lane takes lanes of experiment \"quick\" (straight-through, sts, \
             noisy-rectifier, unbiased, dense), not \"stt\"",
        ),
        (
            "wrong type",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  set: {\"steps\": \"many\"},\n)\n",
            ":4:18: steps takes a whole number, not \"many\"",
        ),
        (
            "syntax",
            "Sweep(\n  name: \"bad\",\n  experiment: \"quick\",\n  grid: {\"seed\": [1, 2}\n)\n",
            ":4:",
        ),
    ];
    for (what, text, expected) in cases {
        let file = dir.path().join("bad.sweep.ron");
        fs::write(&file, text).unwrap();
        let out = gradrace()
            .args(["sweep", file.to_str().unwrap(), "--dry-run"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        let want = format!("gradrace: error: {}{expected}", file.display());
        assert!(
            stderr.starts_with(&want),
            "{what}:\n got: {stderr}\nwant: {want}"
        );
    }
    // A base experiment with a problem is reported in its own file.
    fs::write(
        dir.path().join("base.ron"),
        "Experiment(name: \"b\", network: (gater_hidden: 0, experts: 4), training: (length: \
         Steps(5)), lanes: [(name: \"d\", estimator: Dense)])",
    )
    .unwrap();
    let file = dir.path().join("b.sweep.ron");
    fs::write(&file, "Sweep(name: \"b\", experiment: \"base.ron\")").unwrap();
    let out = gradrace()
        .args(["sweep", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("base.ron:1:33: network.gater_hidden = 0 must be in 1..=100000"),
        "{stderr}"
    );
}

#[test]
fn the_dry_run_lists_the_runs_and_their_cost() {
    let dir = tempfile::tempdir().unwrap();
    let out = gradrace()
        .args(["sweep", readme_sweep().to_str().unwrap(), "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "sweep \"readme\"",
        ": 18 runs of quick (built in) — 3 lane × 2 training.learning_rate × 3 seed\n",
        "000-",
        "lane=straight-through training.learning_rate=0.05 seed=1\n",
        "lane=noisy-rectifier training.learning_rate=0.2 seed=3\n",
        "18 runs, 7200 lane-steps: about",
        "rough: no bench figures",
        "done: 0 of 18\n",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    // Nothing was raced or written.
    assert!(!dir.path().join("readme").exists());
}

/// A sweep of four runs long enough to be interrupted in the middle of one.
const INTERRUPTED: &str = r#"Sweep(
    name: "stop",
    experiment: "quick",
    set: {"network.gater_hidden": 16, "network.experts": 64, "steps": 1500, "metrics.eval_every": 500},
    grid: {"lane": ["straight-through", "unbiased"], "seed": [1, 2]},
)
"#;

fn done(path: &Path) -> bool {
    Session::load(path).is_ok_and(|s| {
        s.recorder.finished
            && s.recorder
                .lanes
                .iter()
                .all(|l| l.status == gradrace::engine::LaneStatus::Done)
    })
}

#[test]
fn a_local_sweep_interrupted_and_resumed_gives_the_uninterrupted_table() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stop.sweep.ron");
    fs::write(&file, INTERRUPTED).unwrap();
    let file = file.to_str().unwrap();
    let out_dir = dir.path().join("interrupted");
    let sweep_dir = out_dir.join("stop");

    // Race one run at a time; interrupt once the first is done.
    let stderr_path = dir.path().join("first.err");
    let mut child = Process::new(env!("CARGO_BIN_EXE_gradrace"))
        .args([
            "sweep",
            file,
            "--local",
            "--jobs",
            "1",
            "--threads",
            "1",
            "--out-dir",
        ])
        .arg(&out_dir)
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !done(&sweep_dir.join("run-000.ron")) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "run 000 never finished"
        );
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let stderr = fs::read_to_string(&stderr_path).unwrap();
    // Stopped by SIGINT: 130, like a race.
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: "), "{stderr}");
    assert!(stderr.contains("--resume` races the rest"), "{stderr}");
    let first = fs::read(sweep_dir.join("run-000.ron")).unwrap();
    let runs: Vec<PathBuf> = (0..4)
        .map(|i| sweep_dir.join(format!("run-{i:03}.ron")))
        .collect();
    let done_before: Vec<bool> = runs.iter().map(|p| done(p)).collect();
    assert!(
        done_before[0] && !done_before[3],
        "{done_before:?}\n{stderr}"
    );
    // The run that was racing saved where it stopped: a session that is not done.
    let interrupted = runs.iter().position(|p| p.exists() && !done(p));
    if let Some(i) = interrupted {
        let s = Session::load(&runs[i]).unwrap();
        assert!(
            s.recorder
                .lanes
                .iter()
                .any(|l| matches!(l.status, gradrace::engine::LaneStatus::Stopped { .. })),
            "run {i}"
        );
    }

    // --resume races only what is missing; the finished run's session is not touched.
    let out = gradrace()
        .args(["sweep", file, "--resume", "--out-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let already = done_before.iter().filter(|d| **d).count();
    assert!(
        stderr.contains(&format!(
            "{already} of 4 runs already done (not raced again)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("run 000 done"), "{stderr}");
    if let Some(i) = interrupted {
        assert!(stderr.contains(&format!("run {i:03} done in")), "{stderr}");
    }
    assert_eq!(fs::read(&runs[0]).unwrap(), first);
    assert!(runs.iter().all(|p| done(p)));
    let resumed = String::from_utf8(out.stdout).unwrap();
    assert!(
        resumed.contains("stop: held-out error (latest evaluation)"),
        "{resumed}"
    );
    assert!(!resumed.contains("incomplete"), "{resumed}");
    for f in [
        "table.txt",
        "table.md",
        "table.csv",
        "runs.csv",
        "plan.ron",
        "state.ron",
    ] {
        assert!(sweep_dir.join(f).is_file(), "{f}");
    }

    // Racing it again does nothing and prints the same table; so does --collect.
    let again = gradrace()
        .args(["sweep", file, "--local", "--out-dir"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("4 of 4 runs already done"));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), resumed);

    // The uninterrupted sweep, two runs at a time: the same table, byte for byte.
    let fresh = gradrace()
        .args(["sweep", file, "--local", "--jobs", "2", "--out-dir"])
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert_eq!(String::from_utf8(fresh.stdout).unwrap(), resumed);
    let collected = gradrace()
        .args(["sweep", file, "--collect", "--format", "csv", "--out-dir"])
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert!(collected.status.success());
    let csv = String::from_utf8(collected.stdout).unwrap();
    assert!(
        csv.starts_with("setting,estimator,n,mean_heldout_error,ci95_half_width,std,best\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // --replay: the four runs as one race, each lane over the two seeds of its runs, with the
    // table's mean ± interval in the leaderboard.
    let replayed = gradrace()
        .args(["sweep", file, "--replay", "--out-dir"])
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let text = String::from_utf8(replayed.stdout).unwrap();
    for row in csv.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        let (estimator, mean, half) = (cells[1], cells[3], cells[4]);
        let (mean, half): (f64, f64) = (mean.parse().unwrap(), half.parse().unwrap());
        let lane = format!("stop/{estimator} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&lane))
            .unwrap_or_else(|| panic!("no row {lane:?} in\n{text}"));
        let interval = format!("{:.2} ± {:.2}%", 100.0 * mean, 100.0 * half);
        assert!(
            line.contains("  2  ") && line.contains(&interval),
            "{interval:?} over 2 seeds in {line:?}"
        );
    }
}
