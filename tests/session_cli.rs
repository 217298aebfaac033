//! The session commands of the binary: replay, resume, sessions, and saving on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use gradrace::session::Session;

mod common;
use common::cli::{gradrace, stderr, stdout};

const FIXTURE: &str = "tests/fixtures/session-v1.ron";
const SAMPLE: &str = "assets/sample-session.ron";

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

/// A headless race running in the background, its standard error read line by line.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// `gradrace ARGS` in `dir`, headless.
    fn start(dir: &Path, args: &[&str]) -> Running {
        let mut child = Process::new(env!("CARGO_BIN_EXE_gradrace"))
            .current_dir(dir)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader keeps draining the pipe so the race never blocks on it.
        let (tx, lines) = std::sync::mpsc::channel();
        let reader = std::io::BufReader::new(child.stderr.take().unwrap());
        let drain = std::thread::spawn(move || {
            use std::io::BufRead;
            for line in reader.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            lines,
            drain: Some(drain),
        }
    }

    /// Waits (at most 5 minutes, however slow the machine) for a line containing `what`.
    fn wait_for(&self, what: &str) -> String {
        let waited = Instant::now();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(300).saturating_sub(waited.elapsed()))
                .unwrap_or_else(|_| panic!("no line with {what:?} within 5 minutes"));
            if line.contains(what) {
                return line;
            }
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Sends `signal` (a name for `kill`, e.g. "TERM").
    fn signal(&self, signal: &str) {
        let status = Process::new("kill")
            .args([&format!("-{signal}"), &self.pid()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (at most a minute) for the process to end; its exit status and what it said.
    fn end(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let started = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "still running a minute later"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(d) = self.drain.take() {
            d.join().unwrap();
        }
        (status, self.lines.try_iter().collect())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGINT and SIGTERM stop a headless race, which saves it (with its checkpoint) and then exits
/// with 130 and 143: a script or a job scheduler can tell a stopped race from a finished one.
#[test]
fn signals_stop_the_race_save_it_and_give_their_exit_codes() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("term.ron");
        let race = Running::start(
            dir.path(),
            &[
                "race",
                "quick",
                "--headless",
                "--threads",
                "1",
                "--steps",
                "100000",
                "--out",
                "term.ron",
            ],
        );
        // Stopped once it has trained (its first held-out report).
        race.wait_for("] step ");
        race.signal(signal);
        let (status, said) = race.end();
        assert_eq!(
            status.code(),
            Some(code),
            "SIG{signal}: {status:?} {said:?}"
        );
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
        // The lock is released on the way out.
        assert!(!dir.path().join(".term.ron.lock").exists());
    }
}

const TINY: &str = "tests/fixtures/tiny-experiment.ron";

/// The tiny golden experiment raced headless in `dir`, saved to `out`.
fn race_tiny(dir: &Path, out: &str) -> std::process::Output {
    gradrace()
        .current_dir(dir)
        .arg("race")
        .arg(std::fs::canonicalize(TINY).unwrap())
        .args(["--headless", "--out", out])
        .output()
        .unwrap()
}

/// The tiny golden experiment, `steps` long, saved to `out` every second.
fn tiny_race(out: &str, steps: &str) -> Vec<String> {
    let tiny = std::fs::canonicalize(TINY).unwrap();
    [
        "race",
        &tiny.display().to_string(),
        "--headless",
        "--threads",
        "1",
        "--autosave",
        "1",
        "--steps",
        steps,
        "--out",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One writer per session: while a race saves to s.ron, a second `race --out s.ron` and a
/// `resume s.ron` are refused before training, naming the running process; replay and listing
/// still work. Once the first has ended the second runs; a lock left by a killed writer does
/// not block, and the next writer says it took it over.
#[test]
fn a_second_writer_of_a_session_is_refused_until_the_first_ends() {
    let dir = tempfile::tempdir().unwrap();
    let args = tiny_race("s.ron", "100000000");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = Running::start(dir.path(), &args);
    first.wait_for("saved s.ron");
    let short = tiny_race("s.ron", "5");
    for second in [
        short.clone(),
        vec!["resume".into(), "s.ron".into(), "--headless".into()],
    ] {
        let out = gradrace()
            .current_dir(dir.path())
            .args(&second)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{second:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("s.ron is in use")
                && err.contains(&format!("pid {}", first.pid()))
                && err.contains("--out"),
            "{err}"
        );
        assert!(!err.contains("racing"), "refused before training: {err}");
    }
    // Readers are not writers.
    let out = gradrace()
        .current_dir(dir.path())
        .args(["replay", "s.ron", "--summary"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = gradrace()
        .current_dir(dir.path())
        .args(["sessions", "."])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("s.ron"), "{}", stdout(&out));
    // The first one ends: the second one runs.
    first.signal("TERM");
    let (status, said) = first.end();
    assert_eq!(status.code(), Some(143), "{said:?}");
    let out = gradrace()
        .current_dir(dir.path())
        .args(&short)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("without finishing"),
        "{}",
        stderr(&out)
    );
    // A writer killed outright leaves its lock file, not its lock.
    let args = tiny_race("s.ron", "100000000");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let killed = Running::start(dir.path(), &args);
    killed.wait_for("saved s.ron");
    let pid = killed.pid();
    killed.signal("KILL");
    let (status, _) = killed.end();
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(dir.path().join(".s.ron.lock").exists());
    let out = gradrace()
        .current_dir(dir.path())
        .args(&short)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("pid {pid}")) && err.contains("ended without finishing"),
        "{err}"
    );
    assert!(!dir.path().join(".s.ron.lock").exists());
}

/// `sessions` says "resumable yes" only when the checkpoint is there and intact, and shows each
/// session's size; a document whose checksum does not match is listed as damaged.
#[test]
fn sessions_checks_the_checkpoint_and_shows_sizes() {
    let (dir, doc) = fixture_copy();
    let listed = |dir: &Path| {
        let out = gradrace().args(["sessions"]).arg(dir).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let line = |text: &str| {
        text.lines()
            .find(|l| l.contains("g.ron"))
            .unwrap()
            .to_string()
    };
    let text = listed(dir.path());
    assert!(text.contains("size"), "{text}");
    let first = line(&text);
    assert!(first.ends_with("yes") && first.contains(" MB"), "{first}");
    let s = Session::load(&dir.path().join(&doc)).unwrap();
    let side = s.sidecar_path().unwrap();
    let good = std::fs::read(&side).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 4;
    std::fs::write(&side, &flipped).unwrap();
    let damaged = line(&listed(dir.path()));
    assert!(damaged.contains("no: checkpoint damaged"), "{damaged}");
    std::fs::remove_file(&side).unwrap();
    let missing = line(&listed(dir.path()));
    assert!(
        missing.contains("no: checkpoint") && missing.contains("missing"),
        "{missing}"
    );
    // A session saved by this gradrace (with a checksum), then damaged.
    let out = race_tiny(dir.path(), "new.ron");
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.path().join("new.ron");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("finished: true", "finished: false", 1)).unwrap();
    let listing = listed(dir.path());
    let new = listing.lines().find(|l| l.contains("new.ron")).unwrap();
    assert!(new.contains("damaged") && new.contains("checksum"), "{new}");
}

/// Damaged documents are refused by `replay` and `resume` with the file and position (exit 2);
/// `--ignore-checksum` reads a deliberate edit, but not one that breaks the history (an
/// evaluation step out of order); `table`, `export` and `plot` likewise.
#[test]
fn damaged_documents_are_refused_and_deliberate_edits_read_with_ignore_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let out = race_tiny(dir.path(), "d.ron");
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.path().join("d.ron");
    let text = std::fs::read_to_string(&path).unwrap();
    // One digit of the first lane's evaluation steps (10, 20, 30).
    let evals = text.find("evals:").unwrap();
    let at = evals + text[evals..].find("step: Text([10, 20, 30])").unwrap();
    let edit = |steps: &str| {
        let edited = format!(
            "{}step: Text([{steps}]){}",
            &text[..at],
            &text[at + "step: Text([10, 20, 30])".len()..]
        );
        std::fs::write(&path, edited).unwrap();
    };
    let replay = |extra: &[&str]| {
        gradrace()
            .args(["replay", "--text"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    };
    // Out of order: refused where the column is, and the checksum says the file was damaged.
    edit("10, 40, 30");
    let out = replay(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("d.ron:")
            && err.contains("steps must start at 1 and increase")
            && err.contains("checksum does not match"),
        "{err}"
    );
    let out = replay(&["--ignore-checksum"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("steps must start at 1 and increase"),
        "{}",
        stderr(&out)
    );
    let out = gradrace()
        .args(["resume", "--ignore-checksum", "--headless"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // In order: a deliberate edit, read with --ignore-checksum only.
    edit("10, 25, 30");
    let out = replay(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("d.ron:")
            && err.contains("checksum does not match")
            && err.contains("--ignore-checksum"),
        "{err}"
    );
    let out = replay(&["--ignore-checksum"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.trim_start().starts_with("25 ")),
        "{}",
        stdout(&out)
    );
    // The publishing commands read sessions the same way: refused, then read with the flag the
    // refusal names.
    for (i, command) in [
        vec!["table"],
        vec!["export", "--csv"],
        vec!["plot", "--out"],
    ]
    .into_iter()
    .enumerate()
    {
        let publish = |extra: &[&str]| {
            let mut cmd = gradrace();
            cmd.arg(command[0]).arg(&path);
            if command.len() > 1 {
                cmd.arg(command[1])
                    .arg(dir.path().join(format!("out-{i}-{}", extra.len())));
            }
            cmd.args(extra).output().unwrap()
        };
        let out = publish(&[]);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        assert!(
            stderr(&out).contains("--ignore-checksum"),
            "{}",
            stderr(&out)
        );
        let out = publish(&["--ignore-checksum"]);
        assert!(out.status.success(), "{command:?}: {}", stderr(&out));
    }
}

/// Places that cannot hold a session are refused before training (exit 2), saying why: a path
/// through a file, a read-only or full file system.
#[test]
fn unusable_places_to_save_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = std::fs::canonicalize(TINY).unwrap();
    let race_to = |out: &str| race_tiny(dir.path(), out);
    let out = race_to("/dev/full/x.ron");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("/dev/full is not a directory"), "{err}");
    assert!(!err.contains("File exists"), "{err}");
    std::fs::write(dir.path().join("plain"), "").unwrap();
    let out = race_to("plain/deeper/x.ron");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("plain is not a directory"),
        "{}",
        stderr(&out)
    );
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let tiny = tiny.display();
    // A read-only file system, and a full one.
    let Some(out) = in_tmpfs(
        "ro,size=64k",
        &format!("'{bin}' race '{tiny}' --headless --out mnt/x.ron"),
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("read-only") && err.contains("--out"), "{err}");
    let out = in_tmpfs(
        "size=64k",
        &format!(
            "dd if=/dev/zero of=mnt/filler bs=4k 2>/dev/null; \
             '{bin}' race '{tiny}' --headless --out mnt/x.ron"
        ),
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the device is full"), "{err}");
    assert!(!err.contains("racing"), "refused before training: {err}");
}

/// Runs `script` with a fresh tmpfs mounted (with `options`) on `mnt` in its working
/// directory, in a private mount namespace (`unshare`, root or user namespaces), and returns
/// what the script's last command did; None, after a note, where such a mount is not possible.
fn in_tmpfs(options: &str, script: &str) -> Option<std::process::Output> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("mnt")).unwrap();
    let out = Process::new("unshare")
        .args(["-r", "-m", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o {options} tmpfs mnt || exit 99; cd . && {script}"
        ))
        .current_dir(dir.path())
        .output();
    match out {
        Ok(o) if o.status.code() != Some(99) => Some(o),
        _ => {
            eprintln!(
                "note: cannot mount a tmpfs here (unshare -rm mount -t tmpfs needs root or user \
                 namespaces); skipping the full and read-only device cases"
            );
            None
        }
    }
}

/// A device with room for the history but not the checkpoint: the race ends with the history
/// saved (replayable), exit code 1 and a message that says what was saved, what was not and
/// why, and how to get a resumable save; `--no-checkpoint` on the same device is a success.
#[test]
fn a_full_device_keeps_the_history_and_says_so() {
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let tiny = std::fs::canonicalize(TINY).unwrap();
    let tiny = tiny.display();
    // The history of the tiny race is about 30 kB, its checkpoint 150 kB.
    let Some(out) = in_tmpfs(
        "size=64k",
        &format!(
            "'{bin}' race '{tiny}' --headless --autosave 0 --out mnt/s.ron; echo exit=$?; \
             ls -a mnt; '{bin}' replay --summary mnt/s.ron"
        ),
    ) else {
        return;
    };
    let said = stderr(&out);
    let shown = stdout(&out);
    assert!(shown.contains("exit=1"), "{shown}\n{said}");
    for needle in [
        "the checkpoint was not saved",
        "no space left on the device",
        "mnt/s.ron (step 30",
        "gradrace replay mnt/s.ron",
        "free at least",
        "--out FILE",
        "--no-checkpoint",
    ] {
        assert!(said.contains(needle), "{needle:?} missing: {said}");
    }
    // Only the document is left: no partial checkpoint, no temporary file, no lock.
    let files: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("exit="))
        .skip(1)
        .take_while(|l| !l.contains("—"))
        .filter(|l| !l.starts_with('.') || l.len() > 2)
        .filter(|l| *l != "." && *l != "..")
        .collect();
    assert_eq!(files, ["s.ron"], "{shown}");
    assert!(
        shown.contains("tiny") && shown.contains("step 30 of 30"),
        "{shown}"
    );
    let out = in_tmpfs(
        "size=64k",
        &format!("'{bin}' race '{tiny}' --headless --no-checkpoint --out mnt/s.ron"),
    )
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `sessions --prune` deletes the sessions its options choose, each with its checkpoint, and
/// the stray files of interrupted saves; it asks first (unless --yes), and leaves sessions that
/// are being written alone.
#[test]
fn prune_deletes_old_sessions_with_their_checkpoints_after_asking() {
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(86_400);
    for (name, age) in [("a.ron", 30), ("b.ron", 10), ("c.ron", 0)] {
        let out = race_tiny(dir.path(), name);
        assert!(out.status.success(), "{}", stderr(&out));
        let f = std::fs::File::options()
            .write(true)
            .open(dir.path().join(name))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() - day * age)
            .unwrap();
    }
    std::fs::write(dir.path().join(".c.ron.tmp-1-2"), "half a save").unwrap();
    std::fs::write(dir.path().join("zz.0123abcd.ckpt"), "GRADRACECKPT orphan").unwrap();
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let all = names();
    assert_eq!(all.len(), 8, "{all:?}");
    let prune = |args: &[&str], input: Option<&str>| {
        let mut cmd = gradrace();
        cmd.args(["sessions", "--prune"]).arg(dir.path()).args(args);
        // No input: standard input closed at once.
        cmd.write_stdin(input.unwrap_or(""));
        cmd.output().unwrap()
    };
    // Asked, and answered no (or not at all): nothing goes.
    let out = prune(&["--older-than", "7d"], Some("n\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = stdout(&out);
    assert!(
        plan.contains("delete a.ron + a.") && plan.contains("delete b.ron + b."),
        "{plan}"
    );
    assert!(plan.contains("stray .c.ron.tmp-1-2") && plan.contains("stray zz.0123abcd.ckpt"));
    assert!(!plan.contains("delete c.ron"), "{plan}");
    assert!(stderr(&out).contains("? [y/N]") && stderr(&out).contains("nothing deleted"));
    assert_eq!(names(), all);
    let out = prune(&["--older-than", "7d"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(names(), all);
    // Older than a week but not among the two newest: a, with the stray files.
    let out = prune(&["--older-than", "7d", "--keep", "2", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("deleted 1 session"),
        "{}",
        stdout(&out)
    );
    let left = names();
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(
        left.iter()
            .all(|n| n.starts_with("b.") || n.starts_with("c.")),
        "{left:?}"
    );
    // Answered yes.
    let out = prune(&["--older-than", "7d"], Some("y\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(names().iter().all(|n| n.starts_with("c.")), "{:?}", names());
    // A session being written is left alone.
    let args = tiny_race("c.ron", "100000000");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let writing = Running::start(dir.path(), &args);
    writing.wait_for("saved c.ron");
    let out = prune(&["--keep", "0", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("keep c.ron (in use") && said.contains(&format!("pid {}", writing.pid())),
        "{said}"
    );
    assert!(dir.path().join("c.ron").exists());
    writing.signal("INT");
    let (status, _) = writing.end();
    assert_eq!(status.code(), Some(130));
    let out = prune(&["--keep", "0", "--yes"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(), Vec::<String>::new());
}
