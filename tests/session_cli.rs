//! The session commands of the binary: replay, resume, sessions, and saving on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use gradrace::session::Session;

const FIXTURE: &str = "tests/fixtures/session-v1.ron";
const SAMPLE: &str = "assets/sample-session.ron";

fn gradrace() -> Command {
    Command::cargo_bin("gradrace").unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The golden session and its sidecar copied into a fresh directory.
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let s = Session::load(Path::new(FIXTURE)).unwrap();
    let side = s.sidecar_path().unwrap();
    std::fs::copy(FIXTURE, dir.path().join("g.ron")).unwrap();
    std::fs::copy(&side, dir.path().join(side.file_name().unwrap())).unwrap();
    // The document names its sidecar by file name: keep the name, rename only the document.
    (dir, PathBuf::from("g.ron"))
}

#[test]
fn replay_prints_the_leaderboard_and_the_timeline() {
    let out = gradrace()
        .args(["replay", SAMPLE, "--summary"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for lane in [
        "straight-through",
        "sts",
        "noisy-rectifier",
        "unbiased",
        "dense",
    ] {
        assert!(text.contains(lane), "{text}");
    }
    assert!(text.contains("held-out err") && !text.contains("over the race"));
    let out = gradrace().args(["replay", SAMPLE]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Held-out error over the race"), "{text}");
    assert!(text.contains("step 600 of 600"), "{text}");
    // One timeline row per evaluation (every 50 steps).
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("600 ")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("50 ")),
        "{text}"
    );
}

#[test]
fn bad_session_files_exit_2_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    std::fs::write(&bad, text.replacen("finished: true", "finished: yes", 1)).unwrap();
    let out = gradrace().args(["replay"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.ron:") && err.matches(':').count() >= 3,
        "{err}"
    );
    let out = gradrace()
        .args(["replay", "experiments/quick.ron"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a gradrace session"));
    let out = gradrace()
        .args(["replay", "no/such/file.ron"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = gradrace().args(["resume", SAMPLE]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no checkpoint"), "{}", stderr(&out));
}

#[test]
fn sessions_lists_name_steps_lanes_and_best_lane() {
    let out = gradrace()
        .args(["sessions", "tests/fixtures"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("session-v1.ron"))
        .expect(&text);
    assert!(
        line.contains("tiny") && line.contains("30/30") && line.contains(" 3 "),
        "{line}"
    );
    assert!(line.contains("yes"), "{line}");
    let out = gradrace()
        .args(["sessions", "no/such/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `gradrace resume g.ron --threads 1` with `options`, in `dir`.
fn resume_g(dir: &Path, options: &[&str]) -> std::process::Output {
    gradrace()
        .current_dir(dir)
        .args(["resume", "g.ron", "--threads", "1"])
        .args(options)
        .output()
        .unwrap()
}

#[test]
fn resume_continues_in_place_and_replaces_the_sidecar() {
    let (dir, doc) = fixture_copy();
    let before = Session::load(&dir.path().join(&doc)).unwrap();
    let out = resume_g(dir.path(), &["--steps", "12", "--headless"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = Session::load(&dir.path().join(&doc)).unwrap();
    assert_eq!(after.recorder.step(), 42);
    assert_eq!(after.context.created, before.context.created);
    // The history up to step 30 is the one loaded.
    for (a, b) in before.recorder.lanes.iter().zip(&after.recorder.lanes) {
        let old: Vec<_> = a.steps.iter().collect();
        let new: Vec<_> = b.steps.iter().take(old.len()).collect();
        assert_eq!(old, new);
        assert_eq!(b.steps.len(), 42);
    }
    assert!(!before.sidecar_path().unwrap().exists());
    assert!(after.sidecar_path().unwrap().exists());
    assert!(after.load_checkpoint().is_ok());
    // Resuming elsewhere leaves the original alone.
    let out = resume_g(dir.path(), &["--steps", "3", "--out", "h.ron"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(after.load_checkpoint().is_ok());
    assert_eq!(
        Session::load(&dir.path().join("h.ron"))
            .unwrap()
            .recorder
            .step(),
        45
    );
}

#[test]
fn sigterm_stops_the_race_and_saves_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("term.ron");
    let mut child = Process::new(env!("CARGO_BIN_EXE_gradrace"))
        .args([
            "race",
            "quick",
            "--headless",
            "--threads",
            "1",
            "--steps",
            "100000",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it once it has trained (its first held-out report), however slow the machine; the
    // reader keeps draining the pipe so the race never blocks on it.
    let (lines, progress) = std::sync::mpsc::channel();
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let drain = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in reader.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let waited = Instant::now();
    loop {
        let line = progress
            .recv_timeout(Duration::from_secs(300).saturating_sub(waited.elapsed()))
            .expect("a progress report within 5 minutes");
        if line.contains("] step ") {
            break;
        }
    }
    let status = Process::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
    drain.join().unwrap();
    let said: Vec<String> = progress.try_iter().collect();
    assert!(
        said.iter()
            .any(|l| l.contains("saved") && l.contains("with checkpoint")),
        "{said:?}"
    );
    let s = Session::load(&out).unwrap();
    assert!(s.recorder.step() > 0 && s.recorder.step() < 100_000);
    assert!(
        s.recorder
            .lanes
            .iter()
            .all(|l| matches!(l.status, gradrace::engine::LaneStatus::Stopped { .. }))
    );
    assert_eq!(s.load_checkpoint().unwrap().step(), s.recorder.step());
}
