//! An output directory for exports and figures: created when missing, refused when it already
//! holds something (unless forced), and written file by file atomically — each file goes to a
//! temporary name beside it and is renamed into place once complete, so an interrupted export
//! never leaves a half-written file under its real name.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::session::atomic::write_atomically;

/// Why an output directory cannot be used or written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The directory holds files and overwriting was not allowed (bad input).
    #[error(
        "{0}: the directory is not empty; choose another one, or give --force to replace the \
         files of the same names in it"
    )]
    NotEmpty(PathBuf),
    /// The path exists and is not a directory (bad input).
    #[error("{0}: exists and is not a directory")]
    NotADirectory(PathBuf),
    /// The output file exists and overwriting was not allowed (bad input).
    #[error("{0}: the file exists; choose another name, or give --force to replace it")]
    Exists(PathBuf),
    /// The output file is one of the files being read, which no flag may replace (bad input).
    #[error("{0}: is one of the files being read; choose another name")]
    IsAnInput(PathBuf),
    /// The output file names a directory (bad input).
    #[error("{0}: is a directory; give a file name")]
    IsADirectory(PathBuf),
    /// Creating, listing or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    /// True when the user asked for something that cannot be done (as opposed to a failure).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            OutputError::NotEmpty(_)
                | OutputError::NotADirectory(_)
                | OutputError::Exists(_)
                | OutputError::IsAnInput(_)
                | OutputError::IsADirectory(_)
        )
    }
}

/// Writes `file` atomically with what `write` writes, creating its directory if missing. An
/// existing `file` is refused unless `force`, and refused whatever `force` says when it is one
/// of `inputs` (the same file under any path).
pub fn write_file<F>(
    file: &Path,
    force: bool,
    inputs: &[PathBuf],
    write: F,
) -> Result<(), OutputError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let io = |source| OutputError::Io {
        path: file.to_path_buf(),
        source,
    };
    if file.is_dir() {
        return Err(OutputError::IsADirectory(file.to_path_buf()));
    }
    if file.exists() {
        let target = file.canonicalize().map_err(io)?;
        if inputs
            .iter()
            .any(|i| i.canonicalize().is_ok_and(|i| i == target))
        {
            return Err(OutputError::IsAnInput(file.to_path_buf()));
        }
        if !force {
            return Err(OutputError::Exists(file.to_path_buf()));
        }
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomically(file, write).map_err(io)
}

/// A directory files are exported into.
#[derive(Debug, Clone)]
pub struct OutputDir {
    dir: PathBuf,
    written: Vec<PathBuf>,
}

impl OutputDir {
    /// `dir`, created if missing. An existing directory that is not empty is refused unless
    /// `force` (then files of the same names are replaced, others left alone).
    pub fn prepare(dir: &Path, force: bool) -> Result<OutputDir, OutputError> {
        let io = |source| OutputError::Io {
            path: dir.to_path_buf(),
            source,
        };
        if dir.exists() {
            if !dir.is_dir() {
                return Err(OutputError::NotADirectory(dir.to_path_buf()));
            }
            let mut entries = std::fs::read_dir(dir).map_err(io)?;
            if entries.next().is_some() && !force {
                return Err(OutputError::NotEmpty(dir.to_path_buf()));
            }
        } else {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes file `name` atomically with what `write` writes.
    pub fn write<F>(&mut self, name: &str, write: F) -> Result<(), OutputError>
    where
        F: FnOnce(&mut dyn Write) -> io::Result<()>,
    {
        let path = self.dir.join(name);
        write_atomically(&path, write).map_err(|source| OutputError::Io {
            path: path.clone(),
            source,
        })?;
        self.written.push(path);
        Ok(())
    }

    /// The files written so far, in order.
    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_directory_needs_force_and_failed_writes_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut out = OutputDir::prepare(&dir, false).unwrap();
        out.write("a.csv", |w| w.write_all(b"x\n")).unwrap();
        let err = OutputDir::prepare(&dir, false).unwrap_err();
        assert!(
            err.is_bad_input() && err.to_string().contains("--force"),
            "{err}"
        );
        let mut again = OutputDir::prepare(&dir, true).unwrap();
        let failed = again.write("b.csv", |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.csv"]);
        let file = tmp.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            OutputDir::prepare(&file, true),
            Err(OutputError::NotADirectory(_))
        ));
    }

    #[test]
    fn an_existing_file_needs_force_and_an_input_is_never_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("run.ron");
        std::fs::write(&input, "session").unwrap();
        let out = tmp.path().join("new/table.md");
        write_file(&out, false, std::slice::from_ref(&input), |w| {
            w.write_all(b"1\n")
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "1\n");
        let err = write_file(&out, false, &[], |w| w.write_all(b"2\n")).unwrap_err();
        assert!(
            matches!(err, OutputError::Exists(_)) && err.is_bad_input(),
            "{err}"
        );
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "1\n");
        write_file(&out, true, &[], |w| w.write_all(b"2\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "2\n");
        // The input under another spelling of its path, with --force: refused, untouched.
        let aliased = tmp.path().join("new/../run.ron");
        let err = write_file(&aliased, true, std::slice::from_ref(&input), |w| {
            w.write_all(b"table")
        })
        .unwrap_err();
        assert!(matches!(err, OutputError::IsAnInput(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "session");
        let err = write_file(tmp.path(), true, &[], |w| w.write_all(b"x")).unwrap_err();
        assert!(
            matches!(err, OutputError::IsADirectory(_)) && err.is_bad_input(),
            "{err}"
        );
    }
}
