//! `gradrace sessions --prune`: removing old sessions (each with its checkpoint) by age or
//! count, and the stray files interrupted saves leave (temporary files, checkpoints no document
//! names, lock files of writers that died).
//!
//! Nothing a running gradrace writes is touched: every session (and every stray file) is
//! removed under its session's lock, and sessions whose lock is held are left alone. The locks
//! of what a plan removes are held from planning to removal, so that no writer starts on a
//! session while the user is asked about it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::SessionError;
use super::atomic::{TEMP_MARKER, TEMP_PREFIX, is_temporary};
use super::list::{SessionEntry, list_sessions};
use super::lock::{Holder, LockError, SessionLock, document_of_lock};

/// Which sessions to remove.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Criteria {
    /// Keep this many of the most recently saved sessions.
    pub keep: Option<usize>,
    /// Remove only sessions last saved longer ago than this.
    pub older_than: Option<Duration>,
}

impl Criteria {
    /// True when sessions (not only stray files) are to be removed.
    pub fn selects_sessions(&self) -> bool {
        self.keep.is_some() || self.older_than.is_some()
    }
}

/// One session to remove.
#[derive(Debug)]
pub struct Doomed {
    /// The session as listed.
    pub entry: SessionEntry,
    /// Its files: the document, its checkpoint(s), their temporary files.
    pub files: Vec<PathBuf>,
    /// Their bytes.
    pub bytes: u64,
}

/// What a prune would remove, with the locks that keep writers away until it has.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sessions to remove, oldest first.
    pub sessions: Vec<Doomed>,
    /// Stray files to remove, with their sizes.
    pub strays: Vec<(PathBuf, u64)>,
    /// Sessions left alone because another gradrace is writing them.
    pub in_use: Vec<(PathBuf, Option<Holder>)>,
    /// Sessions kept.
    pub kept: usize,
    locks: Vec<SessionLock>,
}

impl Plan {
    /// Bytes the plan frees.
    pub fn bytes(&self) -> u64 {
        self.sessions.iter().map(|d| d.bytes).sum::<u64>()
            + self.strays.iter().map(|s| s.1).sum::<u64>()
    }

    /// True when there is nothing to remove.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.strays.is_empty()
    }
}

/// What a prune removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions removed.
    pub sessions: usize,
    /// Files removed (documents, checkpoints, stray files).
    pub files: usize,
    /// Bytes freed.
    pub bytes: u64,
    /// Files that could not be removed, and why.
    pub failed: Vec<(PathBuf, String)>,
}

/// The session document a file of `dir` belongs to: `NAME.ron` for itself, its checkpoints
/// `STEM.XXXXXXXX.ckpt`, their temporary files and its lock file.
fn document_of(name: &str) -> Option<String> {
    if let Some(doc) = document_of_lock(name) {
        return Some(doc.to_string());
    }
    let name = if is_temporary(name) {
        let inner = name.strip_prefix(TEMP_PREFIX)?;
        &inner[..inner.find(TEMP_MARKER)?]
    } else {
        name
    };
    if name.ends_with(".ron") {
        return Some(name.to_string());
    }
    let stem = name.strip_suffix(".ckpt")?;
    let (stem, id) = stem.rsplit_once('.')?;
    let is_id = id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit());
    is_id.then(|| format!("{stem}.ron"))
}

/// The lock of `document`, or who holds it.
fn lock(
    document: &Path,
    locks: &mut Vec<SessionLock>,
    locked: &mut HashSet<PathBuf>,
) -> Result<bool, Option<Holder>> {
    if locked.contains(document) {
        return Ok(true);
    }
    match SessionLock::acquire(document) {
        Ok(l) => {
            locks.push(l);
            locked.insert(document.to_path_buf());
            Ok(true)
        }
        Err(LockError::Held { holder, .. }) => Err(holder),
        // Cannot even create a lock file here: nothing can be removed either.
        Err(LockError::Io { .. }) => Ok(false),
    }
}

/// What pruning `dir` by `criteria` at time `now` would remove (stray files always; sessions
/// only when `criteria` selects some).
pub fn plan(dir: &Path, criteria: Criteria, now: SystemTime) -> Result<Plan, SessionError> {
    let entries = list_sessions(dir)?;
    let mut plan = Plan::default();
    let mut locked = HashSet::new();
    // Newest first.
    let mut by_age: Vec<SessionEntry> = entries.clone();
    by_age.sort_by_key(|e| std::cmp::Reverse(e.modified));
    let named: HashSet<PathBuf> = entries.iter().filter_map(|e| e.sidecar.clone()).collect();
    let damaged: HashSet<String> = entries
        .iter()
        .filter(|e| e.problem.is_some())
        .filter_map(|e| e.path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let files: Vec<(String, PathBuf, u64)> = std::fs::read_dir(dir)
        .map_err(|e| SessionError::bad(dir.display(), format!("cannot list the directory: {e}")))?
        .flatten()
        .filter(|f| f.file_type().is_ok_and(|t| t.is_file()))
        .map(|f| {
            let size = f.metadata().map_or(0, |m| m.len());
            (f.file_name().to_string_lossy().into_owned(), f.path(), size)
        })
        .collect();
    let mut doomed_docs = HashSet::new();
    for (index, entry) in by_age.into_iter().enumerate() {
        let age = entry
            .modified
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        let beyond_keep = criteria.keep.is_none_or(|k| index >= k);
        let old_enough = criteria.older_than.is_none_or(|a| age > a);
        if !(criteria.selects_sessions() && beyond_keep && old_enough) {
            plan.kept += 1;
            continue;
        }
        match lock(&entry.path, &mut plan.locks, &mut locked) {
            Ok(true) => {}
            Ok(false) => {
                plan.kept += 1;
                continue;
            }
            Err(holder) => {
                plan.in_use.push((entry.path.clone(), holder));
                plan.kept += 1;
                continue;
            }
        }
        let doc_name = entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut mine: Vec<(PathBuf, u64)> = files
            .iter()
            .filter(|(name, _, _)| {
                document_of(name).as_deref() == Some(&doc_name) && document_of_lock(name).is_none()
            })
            .map(|(_, p, size)| (p.clone(), *size))
            .collect();
        // The document last: until it goes, it names a complete checkpoint.
        mine.sort_by_key(|(p, _)| *p == entry.path);
        doomed_docs.insert(doc_name);
        plan.sessions.push(Doomed {
            bytes: mine.iter().map(|m| m.1).sum(),
            files: mine.into_iter().map(|m| m.0).collect(),
            entry,
        });
    }
    plan.sessions.reverse();
    // Stray files of the sessions that stay.
    for (name, path, size) in &files {
        let Some(doc) = document_of(name) else {
            continue;
        };
        if doomed_docs.contains(&doc) {
            continue;
        }
        let doc_path = dir.join(&doc);
        let stray = if is_temporary(name) {
            true
        } else if document_of_lock(name).is_some() {
            // A lock file whose lock is not held: left by a writer that died.
            !doc_path.exists()
        } else if name.ends_with(".ckpt") {
            // A checkpoint no document names (a save interrupted between the two files, or
            // one that had to do without): unless its document is damaged and may name it.
            !named.contains(path) && !damaged.contains(&doc)
        } else {
            false
        };
        if !stray {
            continue;
        }
        // Left alone while its session is written (a save may be under way).
        if let Ok(true) = lock(&doc_path, &mut plan.locks, &mut locked) {
            plan.strays.push((path.clone(), *size));
        }
    }
    plan.strays.sort();
    Ok(plan)
}

/// Removes what `plan` lists, then releases its locks.
pub fn prune(plan: Plan) -> Pruned {
    let mut done = Pruned::default();
    let remove = |path: &Path, bytes: u64, done: &mut Pruned| {
        // A lock file is removed by releasing its lock.
        if path
            .file_name()
            .is_some_and(|n| document_of_lock(&n.to_string_lossy()).is_some())
        {
            done.files += 1;
            done.bytes += bytes;
            return true;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {
                done.files += 1;
                done.bytes += bytes;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                done.failed.push((path.to_path_buf(), e.to_string()));
                false
            }
        }
    };
    for d in &plan.sessions {
        let sizes: Vec<u64> = d
            .files
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .collect();
        let mut all = true;
        for (f, size) in d.files.iter().zip(sizes) {
            all &= remove(f, size, &mut done);
        }
        if all {
            done.sessions += 1;
        }
    }
    for (f, size) in &plan.strays {
        remove(f, *size, &mut done);
    }
    drop(plan);
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_belong_to_their_documents() {
        assert_eq!(document_of("a.ron").as_deref(), Some("a.ron"));
        assert_eq!(document_of("a.b.ron").as_deref(), Some("a.b.ron"));
        assert_eq!(document_of("a.b.0123abcd.ckpt").as_deref(), Some("a.b.ron"));
        assert_eq!(document_of("a.b.ckpt"), None);
        assert_eq!(document_of(".a.ron.tmp-12-3").as_deref(), Some("a.ron"));
        assert_eq!(
            document_of(".a.0123abcd.ckpt.tmp-12-3").as_deref(),
            Some("a.ron")
        );
        assert_eq!(document_of(".a.ron.lock").as_deref(), Some("a.ron"));
        assert_eq!(document_of("notes.txt"), None);
    }
}
