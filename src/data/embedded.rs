//! The default data set, compiled into the binary: the 10,000 MNIST test digits, split once and
//! for all into 8,000 training and 2,000 held-out examples.
//!
//! The split is a fixed-seed shuffle (not the file order): the MNIST test file's first 5,000
//! digits were written by a different population from its last 5,000, so a plain cut would give
//! the two parts different distributions.

use std::sync::OnceLock;

use super::DataSplit;
use super::batches::permutation;
use super::dataset::Dataset;
use super::error::{DataError, DataFile};
use super::idx;
use crate::seed::rng_for;

/// File name of the embedded images.
pub const IMAGES_NAME: &str = "t10k-images-idx3-ubyte.gz";
/// File name of the embedded labels.
pub const LABELS_NAME: &str = "t10k-labels-idx1-ubyte.gz";

/// The embedded images file (gzipped IDX, 10,000 × 28 × 28).
static IMAGES_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/t10k-images-idx3-ubyte.gz"
));
/// The embedded labels file (gzipped IDX, 10,000 labels).
static LABELS_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/t10k-labels-idx1-ubyte.gz"
));

/// Name of the embedded split; its parts are named "{NAME} train" and "{NAME} held-out".
pub const NAME: &str = "mnist-10k (embedded)";
/// Examples in the embedded training set.
pub const TRAIN_LEN: usize = 8_000;
/// Examples in the embedded held-out set.
pub const HELDOUT_LEN: usize = 2_000;
/// Seed of the split's shuffle ("mnist" in ASCII).
const SPLIT_SEED: u64 = 0x006d_6e69_7374;
/// Label of the split's random stream.
const SPLIT_STREAM: &str = "embedded-split";

/// The embedded data set: 8,000 training and 2,000 held-out MNIST digits of 28×28.
///
/// Decoded on first use (tens of milliseconds) and cached; later calls return a copy.
pub fn embedded() -> DataSplit {
    static CACHE: OnceLock<DataSplit> = OnceLock::new();
    CACHE
        .get_or_init(|| decode().expect("the embedded MNIST files are valid (checked by tests)"))
        .clone()
}

/// Decodes the embedded files and splits them.
fn decode() -> Result<DataSplit, DataError> {
    let images = idx::parse_images(IMAGES_GZ, DataFile::Embedded(IMAGES_NAME))?;
    let labels = idx::parse_labels(LABELS_GZ, DataFile::Embedded(LABELS_NAME))?;
    if images.count != labels.len() {
        return Err(DataError::CountMismatch {
            images: DataFile::Embedded(IMAGES_NAME),
            labels: DataFile::Embedded(LABELS_NAME),
            n_images: images.count,
            n_labels: labels.len(),
        });
    }
    let all = Dataset::from_u8(NAME, images.rows, images.cols, &images.pixels, labels);
    let order = permutation(all.len(), &mut rng_for(SPLIT_SEED, SPLIT_STREAM));
    let cut = all.len() - HELDOUT_LEN.min(all.len());
    let (train_idx, heldout_idx) = order.split_at(cut);
    Ok(DataSplit {
        name: NAME.to_string(),
        train: all.subset(train_idx, format!("{NAME} train")),
        heldout: all.subset(heldout_idx, format!("{NAME} held-out")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASS_COUNTS: [usize; 10] = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

    #[test]
    fn embedded_files_decode_to_the_mnist_test_set() {
        let images = idx::parse_images(IMAGES_GZ, DataFile::Embedded(IMAGES_NAME)).unwrap();
        let labels = idx::parse_labels(LABELS_GZ, DataFile::Embedded(LABELS_NAME)).unwrap();
        assert_eq!((images.count, images.rows, images.cols), (10_000, 28, 28));
        assert_eq!(labels.len(), 10_000);
        assert_eq!(&labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
        let mut counts = [0usize; 10];
        for &l in &labels {
            counts[usize::from(l)] += 1;
        }
        assert_eq!(counts, CLASS_COUNTS);
    }

    #[test]
    fn split_sizes_counts_and_pixels() {
        let split = embedded();
        assert_eq!(split.name, NAME);
        assert_eq!(split.train.len(), TRAIN_LEN);
        assert_eq!(split.heldout.len(), HELDOUT_LEN);
        assert_eq!(split.train.name, "mnist-10k (embedded) train");
        assert_eq!(split.heldout.name, "mnist-10k (embedded) held-out");
        for set in [&split.train, &split.heldout] {
            assert_eq!((set.rows, set.cols, set.input_dim()), (28, 28, 784));
            assert_eq!(set.images.dim(), (set.len(), 784));
            assert!(set.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
            assert!(
                set.class_counts().iter().all(|&c| c > 100),
                "{:?}",
                set.class_counts()
            );
        }
        let train = split.train.class_counts();
        let heldout = split.heldout.class_counts();
        let total: Vec<usize> = (0..10).map(|c| train[c] + heldout[c]).collect();
        assert_eq!(total, CLASS_COUNTS);
        // Pixels span the full range: background 0 and full ink 1 both occur.
        assert!(split.train.images.iter().any(|&p| p == 0.0));
        assert!(split.train.images.iter().any(|&p| p == 1.0));
    }

    #[test]
    fn split_is_deterministic_and_disjoint() {
        let a = embedded();
        let b = decode().unwrap();
        assert_eq!(a.train, b.train);
        assert_eq!(a.heldout, b.heldout);
        assert_ne!(a.train.fingerprint(), a.heldout.fingerprint());
        // Disjoint: the shuffle is a permutation, so train ∪ held-out is every digit exactly once.
        let order = permutation(10_000, &mut rng_for(SPLIT_SEED, SPLIT_STREAM));
        let mut seen = vec![false; 10_000];
        for &i in &order {
            assert!(!std::mem::replace(&mut seen[i], true));
        }
        // And concretely: every held-out image is absent from the training set's first few
        // hundred (a cheap spot check of actual content).
        for h in 0..50 {
            let img = a.heldout.image(h);
            assert!((0..500).all(|t| a.train.image(t) != img));
        }
    }

    #[test]
    fn fingerprints_are_pinned() {
        // The embedded sets' fingerprints identify sessions run on them; they must not drift.
        // (Cross-checked against an independent reimplementation of the split and of FNV-1a.)
        let split = embedded();
        assert_eq!(
            (split.train.fingerprint(), split.heldout.fingerprint()),
            PINNED_FINGERPRINTS
        );
    }
    const PINNED_FINGERPRINTS: (u64, u64) = (6_400_100_133_543_166_641, 8_015_804_414_283_392_067);
}
