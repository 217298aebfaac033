//! Errors raised while reading data sets: each one names the file concerned and says what is wrong
//! with it.

use std::fmt;
use std::path::PathBuf;

/// Which file an error is about: a file on disk, or one of the data files compiled into the binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataFile {
    /// A file on disk.
    Path(PathBuf),
    /// A file embedded in the binary, named by its original file name.
    Embedded(&'static str),
}

impl fmt::Display for DataFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataFile::Path(path) => write!(f, "{}", path.display()),
            DataFile::Embedded(name) => write!(f, "embedded {name}"),
        }
    }
}

impl From<PathBuf> for DataFile {
    fn from(path: PathBuf) -> Self {
        DataFile::Path(path)
    }
}

impl From<&std::path::Path> for DataFile {
    fn from(path: &std::path::Path) -> Self {
        DataFile::Path(path.to_path_buf())
    }
}

/// What to tell someone whose data directory is unusable.
const ALTERNATIVES: &str = "omit --data to use the embedded MNIST digits, or run \
     `apt-get install dataset-fashion-mnist` and pass --data /usr/share/datasets/fashion-mnist";

/// Everything that can go wrong while loading a data set.
///
/// Every variant names the file (or directory) concerned; the messages are single sentences
/// suitable for showing to a person as they are.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The data directory does not exist or is not a directory.
    #[error("data directory {} {problem}; {ALTERNATIVES}", dir.display())]
    NotADirectory {
        /// The directory that was asked for.
        dir: PathBuf,
        /// What is wrong with it, e.g. "does not exist".
        problem: String,
    },

    /// Some of the four standard files are absent from a data directory.
    #[error(
        "data directory {} lacks {}: expected each of train-images-idx3-ubyte, \
         train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, optionally \
         with .gz appended; {ALTERNATIVES}",
        dir.display(),
        list_paths(missing)
    )]
    MissingFiles {
        /// The directory searched.
        dir: PathBuf,
        /// For each absent file, the path it was expected at (without `.gz`; a `.gz` variant was
        /// also looked for).
        missing: Vec<PathBuf>,
    },

    /// Reading the file failed at the operating-system level.
    #[error("cannot read {file}: {source}")]
    Io {
        /// The file.
        file: DataFile,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The file starts like gzip but does not decompress.
    #[error("{file} is not a valid gzip stream (corrupt or truncated): {source}")]
    Gzip {
        /// The file.
        file: DataFile,
        /// The decompressor's complaint.
        source: std::io::Error,
    },

    /// The file ends before its IDX header is complete.
    #[error(
        "{file} is too short to be an IDX {kind} file: its header needs {needed} bytes but the file has only {found}"
    )]
    TruncatedHeader {
        /// The file.
        file: DataFile,
        /// "images" or "labels".
        kind: &'static str,
        /// Header length in bytes.
        needed: usize,
        /// Bytes present.
        found: usize,
    },

    /// The IDX magic number is not the one expected for this kind of file.
    #[error(
        "{file} has magic number {found} (0x{found:08x}) but an IDX {kind} file must start with {expected} (0x{expected:08x})"
    )]
    BadMagic {
        /// The file.
        file: DataFile,
        /// "images" or "labels".
        kind: &'static str,
        /// The magic number required.
        expected: u32,
        /// The magic number found.
        found: u32,
    },

    /// The header declares unusable dimensions (zero-sized images, or a size that overflows).
    #[error("{file} declares unusable dimensions: {problem}")]
    BadDimensions {
        /// The file.
        file: DataFile,
        /// What is wrong with the dimensions.
        problem: String,
    },

    /// The payload is shorter than the header declares.
    #[error(
        "{file} is truncated: its header declares {expected} bytes of data but only {found} follow"
    )]
    Truncated {
        /// The file.
        file: DataFile,
        /// Payload bytes declared by the header.
        expected: u64,
        /// Payload bytes present.
        found: u64,
    },

    /// Bytes follow the payload the header declares.
    #[error(
        "{file} has {extra} unexpected byte(s) after the {expected} bytes of data its header declares"
    )]
    TrailingBytes {
        /// The file.
        file: DataFile,
        /// Payload bytes declared by the header.
        expected: u64,
        /// Bytes after the payload.
        extra: u64,
    },

    /// A label is not a class in 0..=9.
    #[error(
        "{file} has label {label} at index {index}, but classes must be 0 to 9 (largest label in the file: {max})"
    )]
    LabelOutOfRange {
        /// The file.
        file: DataFile,
        /// Position of the first offending label.
        index: usize,
        /// Its value.
        label: u8,
        /// The largest label in the file.
        max: u8,
    },

    /// An images file and its labels file hold different numbers of examples.
    #[error(
        "{images} holds {n_images} images but {labels} holds {n_labels} labels; the counts must match"
    )]
    CountMismatch {
        /// The images file.
        images: DataFile,
        /// The labels file.
        labels: DataFile,
        /// Examples in the images file.
        n_images: usize,
        /// Examples in the labels file.
        n_labels: usize,
    },

    /// The training and held-out images have different sizes.
    #[error(
        "{train} holds {train_rows}×{train_cols} images but {heldout} holds {heldout_rows}×{heldout_cols} images; both sets must have the same image size"
    )]
    ShapeMismatch {
        /// The training images file.
        train: DataFile,
        /// The held-out images file.
        heldout: DataFile,
        /// Training image rows.
        train_rows: usize,
        /// Training image columns.
        train_cols: usize,
        /// Held-out image rows.
        heldout_rows: usize,
        /// Held-out image columns.
        heldout_cols: usize,
    },

    /// A file holds no examples at all.
    #[error("{file} holds no examples")]
    Empty {
        /// The file.
        file: DataFile,
    },
}

impl DataError {
    /// The file this error is about (for directory-level errors, the directory).
    pub fn file(&self) -> DataFile {
        match self {
            DataError::NotADirectory { dir, .. } | DataError::MissingFiles { dir, .. } => {
                DataFile::Path(dir.clone())
            }
            DataError::Io { file, .. }
            | DataError::Gzip { file, .. }
            | DataError::TruncatedHeader { file, .. }
            | DataError::BadMagic { file, .. }
            | DataError::BadDimensions { file, .. }
            | DataError::Truncated { file, .. }
            | DataError::TrailingBytes { file, .. }
            | DataError::LabelOutOfRange { file, .. }
            | DataError::Empty { file } => file.clone(),
            DataError::CountMismatch { labels, .. } => labels.clone(),
            DataError::ShapeMismatch { heldout, .. } => heldout.clone(),
        }
    }
}

/// "a[.gz], b[.gz] and c[.gz]".
fn list_paths(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths
        .iter()
        .map(|p| format!("{}[.gz]", p.display()))
        .collect();
    match names.as_slice() {
        [] => String::from("nothing"),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file() {
        let e = DataError::BadMagic {
            file: DataFile::Path(PathBuf::from("/x/train-images-idx3-ubyte")),
            kind: "images",
            expected: 2051,
            found: 7,
        };
        let msg = e.to_string();
        assert!(msg.contains("/x/train-images-idx3-ubyte"), "{msg}");
        assert!(msg.contains("2051"), "{msg}");
        let e = DataError::Empty {
            file: DataFile::Embedded("t10k-labels-idx1-ubyte.gz"),
        };
        assert_eq!(
            e.to_string(),
            "embedded t10k-labels-idx1-ubyte.gz holds no examples"
        );
    }

    #[test]
    fn missing_files_lists_all_and_suggests_alternatives() {
        let e = DataError::MissingFiles {
            dir: PathBuf::from("/d"),
            missing: vec![
                PathBuf::from("/d/a"),
                PathBuf::from("/d/b"),
                PathBuf::from("/d/c"),
            ],
        };
        let msg = e.to_string();
        assert!(msg.contains("/d/a[.gz], /d/b[.gz] and /d/c[.gz]"), "{msg}");
        assert!(msg.contains("omit --data"), "{msg}");
        assert!(
            msg.contains("apt-get install dataset-fashion-mnist"),
            "{msg}"
        );
        assert_eq!(e.file(), DataFile::Path(PathBuf::from("/d")));
    }
}
