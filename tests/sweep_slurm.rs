//! The README's sweep against a real Slurm (the one-node cluster of `.ci/slurm-up.sh`): raced
//! locally, then submitted as a job array with `--slurm`; one task is cancelled on purpose
//! (`scancel`), the follower lists it as failed, `--resume` resubmits that run alone, and the
//! merged table is byte for byte the local one.
//!
//! Where no Slurm answers, the test says so and passes — unless `GRADRACE_REQUIRE_SLURM=1` (set
//! by `.ci/run`, which starts the cluster), where it fails.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn readme_sweep() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/readme.sweep.ron")
}

/// Whether a Slurm cluster with an idle node answers here (or why not).
fn slurm_cluster() -> Result<(), String> {
    let out = Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .map_err(|e| format!("`sinfo` cannot run ({e}): Slurm is not installed"))?;
    let states = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "`sinfo` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    if states.lines().any(|s| matches!(s.trim(), "idle" | "mix")) {
        Ok(())
    } else {
        Err(format!("no idle node (sinfo: {:?})", states.trim()))
    }
}

fn gradrace(args: &[&str], out_dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradrace"))
        .args(args)
        .arg("--out-dir")
        .arg(out_dir)
        .output()
        .unwrap()
}

#[test]
fn the_readme_sweep_on_slurm_gives_the_local_table() {
    if let Err(why) = slurm_cluster() {
        let required = std::env::var("GRADRACE_REQUIRE_SLURM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "GRADRACE_REQUIRE_SLURM=1 but no Slurm cluster answers: {why} (start one with \
             .ci/slurm-up.sh)"
        );
        eprintln!(
            "SKIPPED the_readme_sweep_on_slurm_gives_the_local_table: {why}; start a one-node \
             cluster with .ci/slurm-up.sh (as root) to run it"
        );
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let file = readme_sweep();
    let file = file.to_str().unwrap();

    let local = gradrace(&["sweep", file, "--local"], &dir.path().join("local"));
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let local_table = String::from_utf8(local.stdout).unwrap();
    let local_seconds = started.elapsed().as_secs_f64();

    // Submit, and cancel the last task while it waits for its turn.
    let slurm_dir = dir.path().join("slurm");
    let stderr_path = dir.path().join("slurm.err");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradrace"))
        .args([
            "sweep",
            file,
            "--slurm",
            "--max-parallel",
            "2",
            "--poll",
            "0.2",
        ])
        .arg("--out-dir")
        .arg(&slurm_dir)
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let job = loop {
        let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
        if let Some(rest) = stderr.split("submitted job ").nth(1) {
            break rest.split(':').next().unwrap().trim().to_string();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before submitting: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "{stderr}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let cancelled = 17;
    let task = format!("{job}_{cancelled}");
    let scancel = Command::new("scancel").arg(&task).output().unwrap();
    assert!(
        scancel.status.success(),
        "scancel {task}: {}",
        String::from_utf8_lossy(&scancel.stderr)
    );
    let status = child.wait().unwrap();
    let stderr = fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "run 017 (task {task}) did not finish: never started"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "1 of 18 tasks of job {job} did not finish their run; `gradrace sweep"
        )),
        "{stderr}"
    );
    let sweep_dir = slurm_dir.join("readme");
    assert!(sweep_dir.join("slurm/submit-1.sh").is_file());
    let script = fs::read_to_string(sweep_dir.join("slurm/submit-1.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-17%2\n"), "{script}");
    assert!(!sweep_dir.join("run-017.ron").exists());
    assert!(
        fs::read_to_string(sweep_dir.join("table.txt"))
            .unwrap()
            .ends_with("(incomplete: 1 of 18 runs not done: 017)\n")
    );
    let first_pass = started.elapsed().as_secs_f64() - local_seconds;

    // --resume resubmits the cancelled run alone, with the options given before.
    let resumed = gradrace(&["sweep", file, "--resume", "--poll", "0.2"], &slurm_dir);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(stderr.contains("17 of 18 runs already done"), "{stderr}");
    assert!(
        stderr.contains(": 1 tasks (runs 17), at most 2 at once;"),
        "{stderr}"
    );
    let script = fs::read_to_string(sweep_dir.join("slurm/submit-2.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=17%2\n"), "{script}");
    let slurm_table = String::from_utf8(resumed.stdout).unwrap();
    assert_eq!(slurm_table, local_table, "the Slurm sweep's table differs");
    assert_eq!(
        fs::read_to_string(sweep_dir.join("table.txt")).unwrap(),
        fs::read_to_string(dir.path().join("local/readme/table.txt")).unwrap()
    );

    // --collect prints it again.
    let collected = gradrace(&["sweep", file, "--collect"], &slurm_dir);
    assert!(collected.status.success());
    assert_eq!(String::from_utf8(collected.stdout).unwrap(), local_table);
    eprintln!(
        "the README's sweep: {local_seconds:.1} s here, {first_pass:.1} s on Slurm (18 tasks, \
         one cancelled), {:.1} s in all with the resubmission",
        started.elapsed().as_secs_f64()
    );
}
