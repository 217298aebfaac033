//! End to end in a real terminal: the `gradrace` binary started in a tmux pane on a race that is
//! still running while the keys are pressed. The screen (read with `capture-pane`) must show
//! every panel and every lane; space, tab, ?, s and q must act; the process must exit 130 (a
//! running race stopped by `q`) and leave a usable shell behind (canonical mode and echo back
//! on); SIGTERM and Ctrl-C end it with 143 and 130 after saving. The saved race must replay in the
//! dashboard with its timeline. A panic while the terminal is taken over must restore it and
//! leave the message readable. Skipped, with a note, when tmux is not installed. Every wait is
//! bounded.

mod common;

use std::time::Duration;

use common::tmux::{Tmux, plot_rows};

/// The titles of the three charts.
const CHARTS: [&str; 4] = [
    "Training loss",
    "Held-out error",
    "Estimator variance",
    "Bias and noise",
];

/// The header's progress line (the one with the state word).
fn progress_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains("step ") && l.contains("epoch "))
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_dashboard_runs_and_hands_the_terminal_back() {
    let Some(tmux) = Tmux::start("gradrace-test", "the terminal end-to-end test") else {
        return;
    };
    tmux.keys(&["echo ready-$((1+1))", "Enter"]);
    tmux.wait_for("the shell", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim().ends_with("ready-2"))
    });
    tmux.keys(&["clear", "Enter"]);

    let bin = env!("CARGO_BIN_EXE_gradrace");
    let dir = tempfile::tempdir().expect("temporary directory");
    let session = dir.path().join("race.ron");
    // Long enough to be running through the whole test; quitting stops it.
    let cmd = format!(
        "'{bin}' race quick --steps 1000000 --out '{}'; echo EXIT=$?",
        session.display()
    );
    tmux.keys(&[&cmd, "Enter"]);

    let titles = [
        " gradrace ",
        "Training loss",
        "Held-out error",
        "Estimator variance",
        "Bias and noise",
        "Gates",
        "Compute savings",
        "Leaderboard",
    ];
    let lanes = [
        "straight-through",
        "sts",
        "noisy-rectifier",
        "unbiased",
        "dense",
    ];
    let screen = tmux.wait_for("every panel and lane", Duration::from_secs(60), |s| {
        titles.iter().all(|t| s.contains(t))
            && lanes.iter().all(|l| s.contains(l))
            && progress_line(s).contains("running")
    });
    assert!(screen.contains("Gates · straight-through"), "{screen}");
    // At 160×48 the four charts are on screen at once, each with a useful plot.
    let screen = tmux.wait_for("plots in every chart", Duration::from_secs(60), |s| {
        CHARTS.iter().all(|c| plot_rows(s, c) >= 8)
    });
    for c in CHARTS {
        assert!(plot_rows(&screen, c) >= 10, "{c}:\n{screen}");
    }

    // space pauses, space again resumes.
    tmux.keys(&["Space"]);
    tmux.wait_for("paused", Duration::from_secs(20), |s| {
        progress_line(s).contains("paused")
    });
    tmux.keys(&["Space"]);
    tmux.wait_for("running again", Duration::from_secs(20), |s| {
        progress_line(s).contains("running")
    });

    // tab focuses the next lane: the heatmap follows it.
    tmux.keys(&["Tab"]);
    tmux.wait_for("the second lane focused", Duration::from_secs(10), |s| {
        s.contains("Gates · sts")
    });

    // ? opens the help generated from the key table, ? closes it.
    tmux.keys(&["?"]);
    tmux.wait_for("the help", Duration::from_secs(10), |s| {
        s.contains("Help · keys") && s.contains("pause / resume") && s.contains("save the session")
    });
    tmux.keys(&["?"]);
    tmux.wait_for("the help closed", Duration::from_secs(10), |s| {
        !s.contains("Help · keys")
    });

    // s saves the session through the session writer; the status line says where.
    tmux.keys(&["s"]);
    tmux.wait_for("the save", Duration::from_secs(60), |s| {
        s.lines()
            .any(|l| l.contains("saved: saved") && l.contains("race.ron"))
    });
    assert!(session.exists(), "{} written", session.display());

    // q stops the race and leaves; the shell gets the exit code (130: stopped, not finished)
    // and the final leaderboard.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the exit code", Duration::from_secs(60), |s| {
        s.lines().any(|l| l.contains("EXIT=") && !l.contains("$?"))
    });
    assert!(
        screen.lines().any(|l| l.trim().ends_with("EXIT=130")),
        "{screen}"
    );
    assert!(
        screen.contains("held-out err"),
        "leaderboard printed: {screen}"
    );
    assert!(screen.contains("stopped at step"), "{screen}");
    assert!(
        !screen.contains("Estimator variance"),
        "alternate screen left: {screen}"
    );

    // The shell is usable: it evaluates what is typed, and the terminal is back in canonical
    // mode with echo on.
    tmux.keys(&["echo sum=$((40+2))", "Enter"]);
    tmux.wait_for("the shell to answer", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim().ends_with("sum=42"))
    });
    tmux.keys(&[
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo :modes",
        "Enter",
    ]);
    tmux.wait_for("canonical mode and echo", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim().ends_with("icanon echo :modes"))
    });

    // The saved race replays in the dashboard with a timeline; home goes to step 0.
    tmux.keys(&["clear", "Enter"]);
    let cmd = format!(
        "'{bin}' replay '{}'; echo REPLAY_EXIT=$?",
        session.display()
    );
    tmux.keys(&[&cmd, "Enter"]);
    tmux.wait_for("the replay", Duration::from_secs(30), |s| {
        s.contains("Timeline")
            && s.contains("replay: paused")
            && lanes.iter().all(|l| s.contains(l))
    });
    tmux.keys(&["Home"]);
    tmux.wait_for("the cursor at step 0", Duration::from_secs(10), |s| {
        progress_line(s).contains("step 0/")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the replay's exit code", Duration::from_secs(20), |s| {
        s.lines().any(|l| l.trim().ends_with("REPLAY_EXIT=0"))
    });

    // A panic while the terminal is taken over: the hook restores it before the message is
    // printed (examples/dashboard_panic.rs, built by `cargo test` next to the binary).
    let example = std::path::Path::new(bin)
        .parent()
        .map(|d| d.join("examples").join("dashboard_panic"));
    match example.filter(|p| p.exists()) {
        None => eprintln!("note: examples/dashboard_panic is not built; skipping the panic check"),
        Some(p) => {
            tmux.keys(&["clear", "Enter"]);
            let cmd = format!("'{}'; echo PANIC_EXIT=$?", p.display());
            tmux.keys(&[&cmd, "Enter"]);
            let screen = tmux.wait_for("the panic message", Duration::from_secs(20), |s| {
                s.lines()
                    .any(|l| l.contains("PANIC_EXIT=") && !l.contains("$?"))
            });
            assert!(
                screen.contains("deliberate panic for the terminal test"),
                "{screen}"
            );
            assert!(
                screen.lines().any(|l| l.trim().ends_with("PANIC_EXIT=3")),
                "{screen}"
            );
            tmux.keys(&["echo after=$((6*7))", "Enter"]);
            tmux.wait_for("the shell after the panic", Duration::from_secs(10), |s| {
                s.lines().any(|l| l.trim().ends_with("after=42"))
            });
        }
    }
}

/// At 80×24, the size the dashboard says it needs, every chart is shown one at a time (`]`
/// turns the page) with plot rows to read.
#[test]
fn at_80x24_every_chart_has_plot_rows() {
    let Some(tmux) = Tmux::start_sized("gradrace-small", "the 80×24 terminal test", 80, 24) else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_gradrace");
    tmux.keys(&[
        &format!("'{bin}' race quick --steps 1000000 --no-save; echo EXIT=$?"),
        "Enter",
    ]);
    // One panel at a time, the loss chart first; the tab strip names the others.
    let screen = tmux.wait_for("the loss chart", Duration::from_secs(60), |s| {
        plot_rows(s, "Training loss") >= 8 && s.lines().next().unwrap_or("").contains("running")
    });
    assert!(screen.contains("[ ] panel"), "{screen}");
    assert!(
        !screen.contains("Held-out error ("),
        "one chart at a time:\n{screen}"
    );
    for (chart, min) in [
        ("Held-out error", 8),
        ("Estimator variance", 8),
        ("Bias and noise", 8),
    ] {
        tmux.keys(&["]"]);
        let screen = tmux.wait_for(chart, Duration::from_secs(90), |s| {
            plot_rows(s, chart) >= min
        });
        assert!(plot_rows(&screen, chart) >= 14, "{chart}:\n{screen}");
    }
    tmux.keys(&["]"]);
    tmux.wait_for("the heatmap", Duration::from_secs(30), |s| {
        s.contains("Gates · straight-through") && s.contains("1 row =")
    });
    // The heatmap at one unit per row, scrolled with j.
    tmux.keys(&["r"]);
    tmux.wait_for("single units", Duration::from_secs(30), |s| {
        s.contains("1 row = 1 unit · 1–")
    });
    tmux.keys(&["j"]);
    tmux.wait_for("scrolled units", Duration::from_secs(30), |s| {
        s.contains("1 row = 1 unit") && !s.contains("1 row = 1 unit · 1–")
    });
    tmux.keys(&["]"]);
    tmux.wait_for("compute", Duration::from_secs(30), |s| {
        s.contains("Compute savings")
    });
    tmux.keys(&["]"]);
    tmux.wait_for("the leaderboard", Duration::from_secs(30), |s| {
        s.contains("Leaderboard ·") && s.contains("dense")
    });
    // q stops the race: 130, stopped before its end.
    tmux.keys(&["q"]);
    tmux.wait_for("the exit", Duration::from_secs(60), |s| {
        s.lines().any(|l| l.trim().ends_with("EXIT=130"))
    });
}

/// SIGTERM to the dashboard of a running race, and Ctrl-C pressed in it: the race is stopped
/// and saved with its checkpoint, the terminal given back, and the exit code is 143 and 130.
#[test]
fn sigterm_and_ctrl_c_end_the_dashboard_with_their_exit_codes() {
    let Some(tmux) = Tmux::start("gradrace-signals", "the dashboard's exit codes") else {
        return;
    };
    tmux.keys(&["echo ready-$((1+1))", "Enter"]);
    tmux.wait_for("the shell", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim().ends_with("ready-2"))
    });
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let tiny = std::fs::canonicalize("tests/fixtures/tiny-experiment.ron").unwrap();
    let dir = tempfile::tempdir().expect("temporary directory");
    for (how, code) in [("TERM", 143), ("C-c", 130)] {
        tmux.keys(&["clear", "Enter"]);
        let session = dir.path().join(format!("{code}.ron"));
        let pidfile = dir.path().join(format!("{code}.pid"));
        // The shell writes its pid and becomes gradrace (same pid).
        let cmd = format!(
            "sh -c 'echo $$ > {}; exec {bin} race {} --steps 100000000 --out {}'; echo EXIT=$?",
            pidfile.display(),
            tiny.display(),
            session.display()
        );
        tmux.keys(&[&cmd, "Enter"]);
        tmux.wait_for("the running race", Duration::from_secs(60), |s| {
            s.contains("Leaderboard") && progress_line(s).contains("running")
        });
        if how == "TERM" {
            let pid = std::fs::read_to_string(&pidfile).unwrap();
            let status = std::process::Command::new("kill")
                .args(["-TERM", pid.trim()])
                .status()
                .unwrap();
            assert!(status.success());
        } else {
            tmux.keys(&[how]);
        }
        let screen = tmux.wait_for("the exit code", Duration::from_secs(60), |s| {
            s.lines().any(|l| l.contains("EXIT=") && !l.contains("$?"))
        });
        assert!(
            screen
                .lines()
                .any(|l| l.trim().ends_with(&format!("EXIT={code}"))),
            "{how}: {screen}"
        );
        assert!(screen.contains("with checkpoint"), "{how}: {screen}");
        let s = gradrace::session::Session::load(&session).unwrap();
        assert!(
            s.recorder
                .lanes
                .iter()
                .all(|l| matches!(l.status, gradrace::engine::LaneStatus::Stopped { .. })),
            "{how}"
        );
        assert_eq!(s.load_checkpoint().unwrap().step(), s.recorder.step());
    }
}

/// The terminal of a dashboard vanishes (its tmux session killed, as when an ssh connection
/// drops), once while the race runs and once after it has finished: the process must end within
/// seconds instead of lingering, and its session must be saved with everything the race did.
#[test]
fn a_dashboard_whose_terminal_vanishes_saves_its_race_and_exits() {
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let tiny = std::fs::canonicalize("tests/fixtures/tiny-experiment.ron").unwrap();
    let dir = tempfile::tempdir().expect("temporary directory");
    for (case, steps) in [("running", 100_000_000u64), ("finished", 30)] {
        let Some(tmux) = Tmux::start_sized("gradrace-vanish", "a vanished terminal", 80, 24) else {
            return;
        };
        let session = dir.path().join(format!("{case}.ron"));
        let pidfile = dir.path().join(format!("{case}.pid"));
        // The pane runs gradrace itself (no shell that would outlive it).
        let cmd = format!(
            "sh -c 'echo $$ > {}; exec {bin} race {} --steps {steps} --out {}'",
            pidfile.display(),
            tiny.display(),
            session.display()
        );
        let out = tmux.run(&["respawn-pane", "-k", "-t", "race", &cmd]);
        assert!(out.status.success(), "respawn-pane: {out:?}");
        let state = if case == "running" { "running" } else { "done" };
        tmux.wait_for("the race", Duration::from_secs(60), |s| {
            progress_line(s).contains(state)
        });
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let pid = pid.trim().to_string();
        let out = tmux.run(&["kill-session", "-t", "race"]);
        assert!(out.status.success(), "kill-session: {out:?}");
        let start = std::time::Instant::now();
        // Gone, or a zombie nobody has reaped yet (its exit is what matters).
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            })
        };
        while alive() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{case}: gradrace (pid {pid}) is still running 30 s after its terminal vanished"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let s = gradrace::session::Session::load(&session)
            .unwrap_or_else(|e| panic!("{case}: the session was not saved: {e}"));
        assert!(s.recorder.step() > 0, "{case}");
        if case == "finished" {
            assert!(s.recorder.finished, "{case}");
            assert_eq!(s.recorder.step(), steps, "{case}");
        } else {
            assert_eq!(s.load_checkpoint().unwrap().step(), s.recorder.step());
        }
    }
}
