//! A private tmux server for terminal end-to-end tests (session name `race`).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A private tmux server (its own socket), killed when dropped.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// A private server named `name-<pid>` with a 160×48 `sh` session called `race`, or `None`
    /// (after a note naming `what` is skipped) when tmux is not installed.
    pub fn start(name: &str, what: &str) -> Option<Tmux> {
        Self::start_sized(name, what, 160, 48)
    }

    /// As [`Tmux::start`], with a `width` × `height` window.
    pub fn start_sized(name: &str, what: &str, width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("note: tmux is not installed; skipping {what}");
            return None;
        }
        let tmux = Tmux {
            socket: format!("{name}-{width}x{height}-{}", std::process::id()),
        };
        let (w, h) = (width.to_string(), height.to_string());
        let out = tmux.run(&["new-session", "-d", "-s", "race", "-x", &w, "-y", &h, "sh"]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        Some(tmux)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "race"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "race"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits up to `limit` for the screen to satisfy `ok`; returns the screen or fails showing
    /// it. A screen that satisfies `ok` is returned once it has settled (a capture 30 ms later is
    /// the same), so that a caller never reads a frame tmux has only half drawn; a screen that
    /// keeps changing (a live race) is returned after a few tries, still satisfying `ok`.
    pub fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s)
                && let Some(settled) = self.settle(s.clone(), &ok)
            {
                return settled;
            }
            if start.elapsed() > limit {
                panic!("timed out after {limit:?} waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `screen` once a later capture equals it, or the last of a few captures that all satisfy
    /// `ok`; `None` when one of them does not (the frame was caught mid-draw).
    fn settle(&self, mut screen: String, ok: &impl Fn(&str) -> bool) -> Option<String> {
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(30));
            let next = self.screen();
            if next == screen {
                return Some(screen);
            }
            if !ok(&next) {
                return None;
            }
            screen = next;
        }
        Some(screen)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The plot rows of the chart whose panel title contains `title` on a captured `screen`: the
/// lines between the title and the chart's x axis (a '└' inside the panel) that carry the y
/// axis ('│' or '┤' inside the panel's borders). 0 when the chart is not on the screen.
#[allow(dead_code)]
pub fn plot_rows(screen: &str, title: &str) -> usize {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let Some(top) = lines
        .iter()
        .position(|l| l.iter().collect::<String>().contains(title))
    else {
        return 0;
    };
    // The panel's left border: the column of the corner on the title line left of the title.
    let title_line: String = lines[top].iter().collect();
    let title_col = title_line[..title_line.find(title).unwrap()]
        .chars()
        .count();
    let left = lines[top][..title_col]
        .iter()
        .rposition(|&c| c == '┌' || c == '╭')
        .unwrap_or(0);
    let mut rows = 0;
    for l in &lines[top + 1..] {
        let inside: String = l
            .iter()
            .skip(left + 1)
            .take(title_col.max(left + 1) + 200)
            .collect();
        let head: String = inside.chars().take(14).collect();
        if head.contains('└') {
            return rows;
        }
        if head.contains('┤') || head.contains('│') {
            rows += 1;
        } else {
            return 0;
        }
    }
    0
}
