//! Data sets: reading MNIST-format (IDX) files, the embedded default set, and seeded minibatch
//! orders.
//!
//! A run trains on a [`DataSplit`] — a training [`Dataset`] and a held-out one — obtained with
//! [`load`] from a [`DataSource`]:
//!
//! * [`DataSource::Embedded`] (the default): the 10,000 MNIST test digits compiled into the
//!   binary, shuffled with a fixed seed and split 8,000 / 2,000 ([`embedded()`]).
//! * [`DataSource::Directory`]: a directory with `train-images-idx3-ubyte`,
//!   `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each
//!   optionally gzipped with `.gz` appended — the layout of the original MNIST distribution and of
//!   Debian's `dataset-fashion-mnist` package ([`FASHION_MNIST_DIR`]).
//!
//! Images are `rows × cols` grey levels stored as one `f32` row per example, scaled to [0, 1];
//! labels are classes `0..CLASSES`. [`MinibatchSchedule`] turns a seed into the sequence of
//! minibatches a training run visits, addressable by global step so runs resume exactly.
//!
//! Errors are [`DataError`]s, each naming the file at fault and what is wrong with it.

mod batches;
mod dataset;
mod directory;
mod embedded;
mod error;
pub mod idx;

use std::fmt;
use std::path::PathBuf;

pub use batches::{MinibatchSchedule, epoch_order, permutation};
pub use dataset::Dataset;
pub use directory::{FASHION_MNIST_DIR, FILE_STEMS, load_directory};
pub use embedded::embedded;
pub use error::{DataError, DataFile};

/// The number of classes: labels are `0..CLASSES`.
pub const CLASSES: usize = 10;

/// A training set and a held-out set of the same image size.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSplit {
    /// Name of the whole split, e.g. "mnist-10k (embedded)" or "fashion-mnist"; the two sets are
    /// named "{name} train" and "{name} held-out".
    pub name: String,
    /// The examples to train on.
    pub train: Dataset,
    /// The examples to evaluate on, disjoint from `train`.
    pub heldout: Dataset,
}

/// Where to get a data split from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum DataSource {
    /// The MNIST test digits compiled into the binary (8,000 train / 2,000 held-out).
    #[default]
    Embedded,
    /// A directory holding the four standard MNIST-format files (see [`load_directory`]).
    Directory(PathBuf),
}

impl DataSource {
    /// A short human-readable description, e.g. for a dashboard header or a log.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Embedded => format!(
                "embedded MNIST test digits ({} train / {} held-out)",
                embedded::TRAIN_LEN,
                embedded::HELDOUT_LEN
            ),
            DataSource::Directory(dir) => format!("MNIST-format files in {}", dir.display()),
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Loads the split that `source` denotes.
///
/// The embedded split cannot fail; a directory fails with a [`DataError`] naming the missing or
/// faulty file.
pub fn load(source: &DataSource) -> Result<DataSplit, DataError> {
    match source {
        DataSource::Embedded => Ok(embedded()),
        DataSource::Directory(dir) => load_directory(dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_sources() {
        assert_eq!(DataSource::default(), DataSource::Embedded);
        assert_eq!(
            DataSource::Embedded.describe(),
            "embedded MNIST test digits (8000 train / 2000 held-out)"
        );
        let dir = DataSource::Directory(PathBuf::from("/data/x"));
        assert_eq!(dir.describe(), "MNIST-format files in /data/x");
        assert_eq!(dir.to_string(), dir.describe());
    }

    #[test]
    fn load_embedded() {
        let split = load(&DataSource::Embedded).unwrap();
        assert_eq!((split.train.len(), split.heldout.len()), (8000, 2000));
        assert_eq!(Dataset::CLASSES, CLASSES);
    }

    #[test]
    fn fashion_mnist_if_installed() {
        let dir = std::path::Path::new(FASHION_MNIST_DIR);
        if !dir.is_dir() {
            eprintln!(
                "skipping: {FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)"
            );
            return;
        }
        let split = load(&DataSource::Directory(dir.to_path_buf())).unwrap();
        assert_eq!(split.name, "fashion-mnist");
        assert_eq!((split.train.len(), split.heldout.len()), (60_000, 10_000));
        assert_eq!((split.train.rows, split.train.cols), (28, 28));
        // Fashion-MNIST is balanced: 6,000 and 1,000 of each class.
        assert_eq!(split.train.class_counts(), [6_000; 10]);
        assert_eq!(split.heldout.class_counts(), [1_000; 10]);
    }
}
