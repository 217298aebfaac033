//! Atomic file replacement: the new content goes to a temporary file in the same directory,
//! is flushed to disk, and only then renamed over the target. A crash at any moment leaves
//! either the old file or the new one in place, never a mixture; at worst a hidden temporary
//! file (`.NAME.tmp-…`) remains beside it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Prefix of temporary files (hidden, and never mistaken for a session).
pub const TEMP_PREFIX: &str = ".";
/// Marker inside temporary file names.
pub const TEMP_MARKER: &str = ".tmp-";

/// The temporary path next to `target` for this process's `n`-th write.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = format!("{TEMP_PREFIX}{name}{TEMP_MARKER}{}-{n}", std::process::id());
    target.with_file_name(temp)
}

/// True for the name of a temporary file left by an interrupted write.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.contains(TEMP_MARKER)
}

/// Replaces `target` with what `write` writes, atomically (see the module comment). On an error
/// the temporary file is removed and `target` is untouched.
pub fn write_atomically<F>(target: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let temp = temp_path(target);
    let result = (|| {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, target)?;
        sync_directory(target);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Flushes the directory entry of `path` (the rename) to disk where the platform allows it.
fn sync_directory(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.ron");
        write_atomically(&target, |w| w.write_all(b"first")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"first");
        let err = write_atomically(&target, |w| {
            w.write_all(b"sec")?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "interrupted");
        assert_eq!(fs::read(&target).unwrap(), b"first");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.ron"]);
        write_atomically(&target, |w| w.write_all(b"second")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert!(is_temporary(
            &temp_path(&target).file_name().unwrap().to_string_lossy()
        ));
        assert!(!is_temporary("a.ron"));
    }
}
