//! `gradrace sessions`: what the session files in a directory hold, whether they can be resumed
//! (their checkpoint is there and intact) and how much room they take.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::SessionError;
use super::atomic::is_temporary;
use super::checksum::{self, Check};
use super::format::{DOCUMENT, SessionListing};
use super::sidecar;

/// Whether a listed session can be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumable {
    /// Its checkpoint is there, of the size and CRC-32 the document recorded.
    Yes,
    /// It was saved without a checkpoint (replay only).
    HistoryOnly,
    /// The checkpoint file it names is not there.
    Missing(String),
    /// The checkpoint file is there but is not the one the document names, or is damaged.
    Damaged(String),
}

impl Resumable {
    /// True for [`Resumable::Yes`].
    pub fn yes(&self) -> bool {
        *self == Resumable::Yes
    }

    /// For a table cell: "yes", "no (history only)", "no: checkpoint … missing", ….
    pub fn label(&self) -> String {
        match self {
            Resumable::Yes => "yes".into(),
            Resumable::HistoryOnly => "no (history only)".into(),
            Resumable::Missing(file) => format!("no: checkpoint {file} missing"),
            Resumable::Damaged(why) => format!("no: checkpoint damaged ({why})"),
        }
    }
}

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
    /// Whether it can be resumed.
    pub resumable: Resumable,
    /// The checkpoint file it names, if any.
    pub sidecar: Option<PathBuf>,
    /// Bytes on disk: the document and the checkpoint it names (if there).
    pub bytes: u64,
    /// When the document was last written (its modification time).
    pub modified: Option<SystemTime>,
    /// Why the file could not be read, for files that look like sessions but are damaged.
    pub problem: Option<String>,
}

/// Every `*.ron` file in `dir` that is a session (damaged sessions included, with their
/// problem), sorted by file name. Other RON files are skipped. Each document's checksum is
/// verified, and its checkpoint file checked (size, id, CRC-32) before it is called resumable.
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
        let modified = entry.metadata().ok().and_then(|m| m.modified().ok());
        let size = bytes.len() as u64;
        let damaged = |problem: String| SessionEntry {
            path: path.clone(),
            name: String::new(),
            created: String::new(),
            saved: String::new(),
            lanes: 0,
            steps: 0,
            total_steps: 0,
            best: None,
            resumable: Resumable::HistoryOnly,
            sidecar: None,
            bytes: size,
            modified,
            problem: Some(problem),
        };
        let listing = match ron::from_str::<SessionListing>(text) {
            Ok(l) => l,
            Err(e) => {
                out.push(damaged(format!(
                    "{}:{}: {}",
                    e.span.start.line, e.span.start.col, e.code
                )));
                continue;
            }
        };
        if let Check::Mismatch { position, .. } = checksum::check(text, None) {
            out.push(damaged(format!(
                "{}:{}: checksum mismatch: damaged or edited after it was saved",
                position.0, position.1
            )));
            continue;
        }
        out.push(entry_of(path, size, modified, listing));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn entry_of(
    path: PathBuf,
    size: u64,
    modified: Option<SystemTime>,
    l: SessionListing,
) -> SessionEntry {
    let best = l
        .leaderboard
        .iter()
        .filter_map(|s| s.heldout_error.map(|e| (s.name.clone(), e)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let (resumable, sidecar, sidecar_bytes) = match &l.checkpoint {
        None => (Resumable::HistoryOnly, None, 0),
        Some(c) => check_sidecar(&path, &c.sidecar),
    };
    SessionEntry {
        name: l.experiment_name,
        created: l.created,
        saved: l.saved,
        lanes: l.leaderboard.len(),
        steps: l.leaderboard.iter().map(|s| s.steps).max().unwrap_or(0),
        total_steps: l.race.total_steps,
        best,
        resumable,
        sidecar,
        bytes: size + sidecar_bytes,
        modified,
        problem: None,
        path,
    }
}

/// Whether the sidecar `r` of the document at `document` is there and intact, where it is and
/// its size on disk.
fn check_sidecar(
    document: &Path,
    r: &super::format::ListingSidecar,
) -> (Resumable, Option<PathBuf>, u64) {
    let plain = !r.file.is_empty()
        && !r.file.contains(['/', '\\'])
        && r.file != ".."
        && Path::new(&r.file).file_name().is_some();
    if !plain {
        return (
            Resumable::Damaged(format!("{:?} is not a plain file name", r.file)),
            None,
            0,
        );
    }
    let path = document.with_file_name(&r.file);
    let Ok(meta) = std::fs::metadata(&path) else {
        return (Resumable::Missing(r.file.clone()), Some(path), 0);
    };
    let expected = sidecar::Written {
        values: r.values,
        bytes: r.bytes,
        crc32: r.crc32,
    };
    let resumable = match sidecar::verify_file(&path, r.id, &expected) {
        Ok(Ok(())) => Resumable::Yes,
        Ok(Err(e)) => Resumable::Damaged(e.to_string()),
        Err(e) => Resumable::Damaged(format!("cannot read it: {e}")),
    };
    (resumable, Some(path), meta.len())
}
