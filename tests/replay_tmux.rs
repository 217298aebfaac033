//! Replay end to end in a real terminal: `gradrace replay` on the shipped sample session opens
//! the dashboard with a timeline; playing moves it, seeking changes the step in the header, and
//! q exits cleanly. Skipped, with a note, when tmux is not installed. Every wait is bounded.

mod common;

use std::time::Duration;

use common::tmux::{Tmux, plot_rows};

/// The step shown in the header's progress line ("step N/600").
fn header_step(screen: &str) -> Option<u64> {
    let line = screen
        .lines()
        .find(|l| l.contains("step ") && l.contains("replay"))?;
    let after = &line[line.find("step ")? + 5..];
    after.split('/').next()?.trim().parse().ok()
}

#[test]
fn replay_timeline_plays_seeks_and_quits() {
    let Some(tmux) = Tmux::start("gradrace-replay", "the replay end-to-end test") else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/sample-session.ron");
    tmux.keys(&[&format!("'{bin}' replay '{sample}'; echo EXIT=$?"), "Enter"]);

    let screen = tmux.wait_for("the replay dashboard", Duration::from_secs(60), |s| {
        s.contains("Timeline") && header_step(s).is_some()
    });
    for title in [
        "Training loss",
        "Held-out error",
        "Estimator variance",
        "Gates",
        "Compute savings",
        "Leaderboard",
    ] {
        assert!(screen.contains(title), "{title} missing:\n{screen}");
    }

    // Home goes to the start, → seeks forward by 1%, PgDn by 10%.
    tmux.keys(&["Home"]);
    let start = tmux.wait_for("the start", Duration::from_secs(10), |s| {
        header_step(s).is_some_and(|v| v <= 6)
    });
    let at_start = header_step(&start).unwrap();
    tmux.keys(&["PageDown"]);
    tmux.wait_for("a 10% seek", Duration::from_secs(10), |s| {
        header_step(s).is_some_and(|v| v >= at_start + 50)
    });
    tmux.keys(&["End"]);
    tmux.wait_for("the end", Duration::from_secs(10), |s| {
        header_step(s) == Some(600)
    });

    // Playing from the start moves the timeline on its own.
    tmux.keys(&["Home"]);
    tmux.wait_for("the start again", Duration::from_secs(10), |s| {
        header_step(s).is_some_and(|v| v <= 6)
    });
    let before = header_step(&tmux.screen()).unwrap_or(0);
    tmux.keys(&["+", "+", "+", "Space"]);
    tmux.wait_for("the timeline moving", Duration::from_secs(30), |s| {
        header_step(s).is_some_and(|v| v > before)
    });

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the exit code", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.trim().ends_with("EXIT=0"))
    });
    assert!(
        !screen.contains("Timeline"),
        "alternate screen left:\n{screen}"
    );
}

/// The sample session at 80×24: each chart, one page at a time, has plot rows; held-out error
/// is labelled per lane to a tenth of a percent.
#[test]
fn replay_at_80x24_shows_every_chart_with_plot_rows() {
    let Some(tmux) = Tmux::start_sized("gradrace-replay-small", "the 80×24 replay test", 80, 24)
    else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_gradrace");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/sample-session.ron");
    tmux.keys(&[&format!("'{bin}' replay '{sample}'; echo EXIT=$?"), "Enter"]);
    let screen = tmux.wait_for("the loss chart", Duration::from_secs(60), |s| {
        plot_rows(s, "Training loss") >= 8
    });
    assert!(plot_rows(&screen, "Training loss") >= 12, "{screen}");
    tmux.keys(&["]"]);
    let screen = tmux.wait_for("the error chart", Duration::from_secs(20), |s| {
        plot_rows(s, "Held-out error") >= 8
    });
    assert!(plot_rows(&screen, "Held-out error") >= 12, "{screen}");
    let tenths = screen
        .lines()
        .filter(|l| {
            let t = l.trim_end().trim_end_matches('│').trim_end();
            t.ends_with('%') && t.rsplit(' ').next().is_some_and(|w| w.contains('.'))
        })
        .count();
    assert!(tenths >= 3, "end labels in tenths of a percent:\n{screen}");
    tmux.keys(&["]"]);
    let screen = tmux.wait_for("the variance chart", Duration::from_secs(20), |s| {
        plot_rows(s, "Estimator variance") >= 8
    });
    assert!(screen.contains("no gates: dense"), "{screen}");
    // The same-trajectory probe's bias–noise plane, then the cosines (b).
    tmux.keys(&["]"]);
    let screen = tmux.wait_for("the bias–variance chart", Duration::from_secs(20), |s| {
        plot_rows(s, "Bias and noise") >= 8
    });
    assert!(screen.contains("at straight-through's"), "{screen}");
    tmux.keys(&["b"]);
    tmux.wait_for("the cosine chart", Duration::from_secs(20), |s| {
        plot_rows(s, "Cosine to the reference") >= 8
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the exit code", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.trim().ends_with("EXIT=0"))
    });
}
