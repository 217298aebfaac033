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
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("note: tmux is not installed; skipping {what}");
            return None;
        }
        let tmux = Tmux {
            socket: format!("{name}-{}", std::process::id()),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "race",
            "-x",
            "160",
            "-y",
            "48",
            "sh",
        ]);
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
    /// it.
    pub fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out after {limit:?} waiting for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
