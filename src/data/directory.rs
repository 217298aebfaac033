//! Data sets read from a directory holding the four standard MNIST-format files.
//!
//! The directory must hold `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each either as named or with `.gz`
//! appended (Debian's `dataset-fashion-mnist` installs the four `.gz` files into
//! `/usr/share/datasets/fashion-mnist`). If both forms of a file are present, the uncompressed one
//! is read. Whether a file is compressed is decided by its content, not its name. The `train`
//! files become the training set and the `t10k` files the held-out set.

use std::path::{Path, PathBuf};

use super::DataSplit;
use super::dataset::Dataset;
use super::error::{DataError, DataFile};
use super::idx;

/// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Base names of the four files, in the order train images, train labels, held-out images,
/// held-out labels.
pub const FILE_STEMS: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Loads the split held in `dir`, named after the directory (e.g. "fashion-mnist").
pub fn load_directory(dir: &Path) -> Result<DataSplit, DataError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(DataError::NotADirectory {
                dir: dir.to_path_buf(),
                problem: "is not a directory".into(),
            });
        }
        Err(e) => {
            let problem = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_string()
            } else {
                format!("cannot be read ({e})")
            };
            return Err(DataError::NotADirectory {
                dir: dir.to_path_buf(),
                problem,
            });
        }
    }

    let mut found = Vec::with_capacity(FILE_STEMS.len());
    let mut missing = Vec::new();
    for stem in FILE_STEMS {
        match locate(dir, stem) {
            Some(path) => found.push(path),
            None => missing.push(dir.join(stem)),
        }
    }
    if !missing.is_empty() {
        return Err(DataError::MissingFiles {
            dir: dir.to_path_buf(),
            missing,
        });
    }
    let [train_images, train_labels, heldout_images, heldout_labels]: [PathBuf; 4] = found
        .try_into()
        .expect("one path per stem once none is missing");

    let name = directory_name(dir);
    let train = load_pair(&train_images, &train_labels, format!("{name} train"))?;
    let heldout = load_pair(&heldout_images, &heldout_labels, format!("{name} held-out"))?;
    if (train.rows, train.cols) != (heldout.rows, heldout.cols) {
        return Err(DataError::ShapeMismatch {
            train: DataFile::Path(train_images),
            heldout: DataFile::Path(heldout_images),
            train_rows: train.rows,
            train_cols: train.cols,
            heldout_rows: heldout.rows,
            heldout_cols: heldout.cols,
        });
    }
    Ok(DataSplit {
        name,
        train,
        heldout,
    })
}

/// `dir/stem` if it is a file, else `dir/stem.gz` if that is, else nothing.
fn locate(dir: &Path, stem: &str) -> Option<PathBuf> {
    [dir.join(stem), dir.join(format!("{stem}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// The directory's own name, or its path where it has none (e.g. "/" or "..").
fn directory_name(dir: &Path) -> String {
    let canonical = std::fs::canonicalize(dir).ok();
    canonical
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// Reads one images file and its labels file into a data set.
fn load_pair(images: &Path, labels: &Path, name: String) -> Result<Dataset, DataError> {
    let img = idx::read_images(images)?;
    let lab = idx::read_labels(labels)?;
    if img.count != lab.len() {
        return Err(DataError::CountMismatch {
            images: DataFile::Path(images.to_path_buf()),
            labels: DataFile::Path(labels.to_path_buf()),
            n_images: img.count,
            n_labels: lab.len(),
        });
    }
    if img.count == 0 {
        return Err(DataError::Empty {
            file: DataFile::Path(images.to_path_buf()),
        });
    }
    Ok(Dataset::from_u8(name, img.rows, img.cols, &img.pixels, lab))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::{encode_images, encode_labels, gzip};

    /// Writes a 3×2-pixel data set: 5 training and 3 held-out examples; `gz[i]` says whether
    /// file `i` (in `FILE_STEMS` order) is gzipped and named `.gz`.
    fn write_set(dir: &Path, gz: [bool; 4]) {
        let train_px: Vec<u8> = (0..30).collect();
        let test_px: Vec<u8> = (100..118).collect();
        let contents = [
            encode_images(3, 2, &train_px),
            encode_labels(&[0, 1, 2, 3, 9]),
            encode_images(3, 2, &test_px),
            encode_labels(&[5, 5, 4]),
        ];
        for ((stem, bytes), gz) in FILE_STEMS.iter().zip(contents).zip(gz) {
            if gz {
                std::fs::write(dir.join(format!("{stem}.gz")), gzip(&bytes)).unwrap();
            } else {
                std::fs::write(dir.join(stem), bytes).unwrap();
            }
        }
    }

    #[test]
    fn loads_mixed_raw_and_gzipped_files() {
        for gz in [[false; 4], [true; 4], [true, false, false, true]] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("tiny-set");
            std::fs::create_dir(&dir).unwrap();
            write_set(&dir, gz);
            let split = load_directory(&dir).unwrap();
            assert_eq!(split.name, "tiny-set");
            assert_eq!(split.train.name, "tiny-set train");
            assert_eq!(split.heldout.name, "tiny-set held-out");
            assert_eq!((split.train.rows, split.train.cols), (3, 2));
            assert_eq!(split.train.labels, vec![0, 1, 2, 3, 9]);
            assert_eq!(split.heldout.labels, vec![5, 5, 4]);
            assert_eq!(split.train.images[[4, 5]], 29.0 / 255.0);
            assert_eq!(split.heldout.images[[0, 0]], 100.0 / 255.0);
        }
    }

    #[test]
    fn raw_file_preferred_over_gz() {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), [false; 4]);
        // A broken .gz next to a good raw file is ignored.
        std::fs::write(tmp.path().join("train-labels-idx1-ubyte.gz"), b"junk").unwrap();
        assert!(load_directory(tmp.path()).is_ok());
    }

    #[test]
    fn missing_files_are_all_named() {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), [false, true, false, true]);
        std::fs::remove_file(tmp.path().join("train-images-idx3-ubyte")).unwrap();
        std::fs::remove_file(tmp.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let err = load_directory(tmp.path()).unwrap_err();
        match &err {
            DataError::MissingFiles { missing, .. } => assert_eq!(
                missing,
                &vec![
                    tmp.path().join("train-images-idx3-ubyte"),
                    tmp.path().join("t10k-labels-idx1-ubyte")
                ]
            ),
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("train-images-idx3-ubyte[.gz]"), "{msg}");
        assert!(msg.contains("omit --data"), "{msg}");
    }

    #[test]
    fn missing_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let err = load_directory(&tmp.path().join("absent")).unwrap_err();
        assert!(matches!(err, DataError::NotADirectory { .. }), "{err:?}");
        assert!(err.to_string().contains("absent does not exist"), "{err}");
        let file = tmp.path().join("plain");
        std::fs::write(&file, b"").unwrap();
        let err = load_directory(&file).unwrap_err();
        assert!(err.to_string().contains("is not a directory"), "{err}");
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), [false; 4]);
        std::fs::write(
            tmp.path().join("t10k-labels-idx1-ubyte"),
            encode_labels(&[1, 2]),
        )
        .unwrap();
        let err = load_directory(tmp.path()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    n_images: 3,
                    n_labels: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("t10k-images-idx3-ubyte") && msg.contains("t10k-labels-idx1-ubyte"));
    }

    #[test]
    fn shape_mismatch_and_empty_sets() {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), [false; 4]);
        std::fs::write(
            tmp.path().join("t10k-images-idx3-ubyte"),
            encode_images(2, 3, &[0; 18]),
        )
        .unwrap();
        let err = load_directory(tmp.path()).unwrap_err();
        assert!(matches!(err, DataError::ShapeMismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("3×2"), "{err}");

        std::fs::write(
            tmp.path().join("t10k-images-idx3-ubyte"),
            encode_images(3, 2, &[]),
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("t10k-labels-idx1-ubyte"),
            encode_labels(&[]),
        )
        .unwrap();
        let err = load_directory(tmp.path()).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("t10k-images-idx3-ubyte holds no examples")
        );
    }

    #[test]
    fn corrupt_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), [true; 4]);
        let path = tmp.path().join("train-images-idx3-ubyte.gz");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = load_directory(tmp.path()).unwrap_err();
        assert_eq!(err.file(), DataFile::Path(path.clone()));
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
