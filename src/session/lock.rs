//! One writer per session: an advisory lock on a file beside the session document
//! (`.NAME.lock`), held for the life of the writer.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows, through
//! [`std::fs::File::try_lock`]): it dies with its process, however that process ends, so a lock
//! left by a killed gradrace never blocks anybody — only its file remains, and the next writer
//! takes it over (and learns from it that the previous writer did not end cleanly). The file
//! records who holds the lock (process id, host, command, since when), for the message a second
//! writer gets. Readers (`replay`, `sessions`) never take it: atomic saves mean they always read
//! a complete document.
//!
//! On release the file is removed before it is unlocked; a writer that locked a file which was
//! removed meanwhile sees that the path no longer leads to the file it locked, and starts over.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Suffix of lock file names.
pub const LOCK_SUFFIX: &str = ".lock";

/// The lock file of the session document `document`: `.NAME.lock` beside it.
pub fn lock_path(document: &Path) -> PathBuf {
    let name = document
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    document.with_file_name(format!(".{name}{LOCK_SUFFIX}"))
}

/// The session document whose lock file is called `name`, if it is one.
pub fn document_of_lock(name: &str) -> Option<&str> {
    name.strip_prefix('.')?
        .strip_suffix(LOCK_SUFFIX)
        .filter(|d| !d.is_empty())
}

/// Who holds (or held) a lock, as its file records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holder {
    /// Process id.
    pub pid: Option<u32>,
    /// Host name.
    pub host: String,
    /// The command line.
    pub command: String,
    /// When the lock was taken (UTC, ISO 8601).
    pub since: String,
}

impl Holder {
    /// This process.
    fn this_process() -> Holder {
        Holder {
            pid: Some(std::process::id()),
            host: host_name(),
            command: command_line(),
            since: super::clock::now_iso8601(),
        }
    }

    fn to_text(&self) -> String {
        format!(
            "gradrace session lock\npid {}\nhost {}\nsince {}\ncommand {}\n",
            self.pid.map_or(String::new(), |p| p.to_string()),
            self.host,
            self.since,
            self.command
        )
    }

    fn parse(text: &str) -> Option<Holder> {
        let mut h = Holder::default();
        let mut any = false;
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            any |= matches!(key, "pid" | "host" | "since" | "command");
            match key {
                "pid" => h.pid = value.trim().parse().ok(),
                "host" => h.host = value.trim().to_string(),
                "since" => h.since = value.trim().to_string(),
                "command" => h.command = value.trim().to_string(),
                _ => {}
            }
        }
        any.then_some(h)
    }
}

impl fmt::Display for Holder {
    /// "pid 1234 on host, `gradrace race --out a.ron`, since 2026-01-01T00:00:00Z".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pid {
            Some(p) => write!(f, "pid {p}")?,
            None => write!(f, "an unknown process")?,
        }
        if !self.host.is_empty() {
            write!(f, " on {}", self.host)?;
        }
        if !self.command.is_empty() {
            write!(f, ", `{}`", self.command)?;
        }
        if !self.since.is_empty() {
            write!(f, ", since {}", self.since)?;
        }
        Ok(())
    }
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default()
}

fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    std::iter::once(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\n', " ")
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it.
    Held {
        /// The session document.
        document: PathBuf,
        /// Who, as the lock file says (None if it says nothing readable).
        holder: Option<Holder>,
    },
    /// The lock file cannot be created, written or locked.
    Io {
        /// The lock file.
        file: PathBuf,
        /// What failed.
        error: io::Error,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { document, holder } => {
                let who = holder.as_ref().map_or("another process".to_string(), |h| {
                    format!("another gradrace ({h})")
                });
                write!(
                    f,
                    "{} is in use: {who} is saving to it; a second writer would overwrite its \
                     history. Wait for it to end, or save elsewhere with --out FILE (`gradrace \
                     replay` can read it meanwhile)",
                    document.display()
                )
            }
            LockError::Io { file, error } => {
                write!(f, "cannot lock {}: {error}", file.display())
            }
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Io { error, .. } => Some(error),
            LockError::Held { .. } => None,
        }
    }
}

/// The lock of one session document, held until dropped.
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
    stale: Option<Holder>,
}

impl SessionLock {
    /// Takes the lock of `document`, or says who holds it.
    pub fn acquire(document: &Path) -> Result<SessionLock, LockError> {
        let path = lock_path(document);
        let io_err = |error| LockError::Io {
            file: path.clone(),
            error,
        };
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_err)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(LockError::Held {
                        document: document.to_path_buf(),
                        holder: Holder::parse(&text),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io_err(e)),
            }
            if !still_at(&file, &path) {
                // Released (and removed) between our open and our lock: take the new file.
                continue;
            }
            // Left by a writer that did not end cleanly (its lock died with it).
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let stale = Holder::parse(&text);
            let write = (|| {
                file.set_len(0)?;
                let mut w = &file;
                io::Seek::seek(&mut w, io::SeekFrom::Start(0))?;
                w.write_all(Holder::this_process().to_text().as_bytes())?;
                w.flush()
            })();
            if let Err(e) = write {
                // Keep no lock file we could not fill (a full or read-only device).
                let _ = fs::remove_file(&path);
                return Err(io_err(e));
            }
            return Ok(SessionLock { file, path, stale });
        }
    }

    /// The writer recorded in a lock file left behind by a process that ended without
    /// releasing it (killed, crashed, or its machine went down): it may have been interrupted
    /// while saving.
    pub fn stale(&self) -> Option<&Holder> {
        self.stale.as_ref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Removed while still locked: whoever opens it next sees a new file (see `acquire`).
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// True when `path` still names the file `file` is open on.
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Lock files are not removed on release where open files cannot be removed.
#[cfg(not(unix))]
fn still_at(_: &File, _: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_writer_at_a_time_and_stale_locks_do_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("run.ron");
        let lock = SessionLock::acquire(&doc).unwrap();
        assert!(lock.stale().is_none());
        assert_eq!(lock.path(), dir.path().join(".run.ron.lock"));
        assert_eq!(document_of_lock(".run.ron.lock"), Some("run.ron"));
        // A second writer (another open file description, as another process would have).
        let e = SessionLock::acquire(&doc).unwrap_err();
        let message = e.to_string();
        let pid = std::process::id();
        assert!(
            message.contains("run.ron is in use")
                && message.contains(&format!("pid {pid}"))
                && message.contains("--out"),
            "{message}"
        );
        let LockError::Held { holder, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(holder.as_ref().unwrap().pid, Some(pid));
        // Released: the file is gone and the next writer gets it.
        drop(lock);
        assert!(!dir.path().join(".run.ron.lock").exists());
        let again = SessionLock::acquire(&doc).unwrap();
        assert!(again.stale().is_none());
        drop(again);
        // A file left by a process that died: not held, so taken, and reported.
        std::fs::write(
            lock_path(&doc),
            "gradrace session lock\npid 999999\nhost elsewhere\nsince x\ncommand gradrace race\n",
        )
        .unwrap();
        let taken = SessionLock::acquire(&doc).unwrap();
        assert_eq!(taken.stale().unwrap().pid, Some(999_999));
        assert_eq!(taken.stale().unwrap().host, "elsewhere");
        let text = std::fs::read_to_string(taken.path()).unwrap();
        assert!(text.contains(&format!("pid {pid}")), "{text}");
    }
}
