//! `gradrace sessions`: what the session files in a directory hold, read without their
//! checkpoints.

use std::path::{Path, PathBuf};

use super::SessionError;
use super::atomic::is_temporary;
use super::format::{DOCUMENT, SessionListing};

/// One session file as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    /// The file.
    pub path: PathBuf,
    /// Experiment name.
    pub name: String,
    /// When the race started.
    pub created: String,
    /// When the file was written.
    pub saved: String,
    /// Number of lanes.
    pub lanes: usize,
    /// Furthest step reached.
    pub steps: u64,
    /// Planned steps.
    pub total_steps: u64,
    /// The lane with the lowest held-out error, and that error.
    pub best: Option<(String, f32)>,
    /// True when it has a checkpoint to resume from.
    pub resumable: bool,
    /// Why the file could not be read, for files that look like sessions but are damaged.
    pub problem: Option<String>,
}

/// Every `*.ron` file in `dir` that is a session (damaged sessions included, with their
/// problem), sorted by file name. Other RON files are skipped.
pub fn list_sessions(dir: &Path) -> Result<Vec<SessionEntry>, SessionError> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| SessionError::bad(&shown, format!("cannot list the directory: {e}")))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_temporary(&name) || path.extension().is_none_or(|e| e != "ron") || !path.is_file() {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if !text.contains(DOCUMENT) {
            continue;
        }
        out.push(match ron::from_str::<SessionListing>(text) {
            Ok(l) => entry_of(path, l),
            Err(e) => SessionEntry {
                path,
                name: String::new(),
                created: String::new(),
                saved: String::new(),
                lanes: 0,
                steps: 0,
                total_steps: 0,
                best: None,
                resumable: false,
                problem: Some(format!(
                    "{}:{}: {}",
                    e.span.start.line, e.span.start.col, e.code
                )),
            },
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn entry_of(path: PathBuf, l: SessionListing) -> SessionEntry {
    let best = l
        .leaderboard
        .iter()
        .filter_map(|s| s.heldout_error.map(|e| (s.name.clone(), e)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    SessionEntry {
        path,
        name: l.experiment_name,
        created: l.created,
        saved: l.saved,
        lanes: l.leaderboard.len(),
        steps: l.leaderboard.iter().map(|s| s.steps).max().unwrap_or(0),
        total_steps: l.race.total_steps,
        best,
        resumable: l.checkpoint.is_some(),
        problem: None,
    }
}
