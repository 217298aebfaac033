//! Integration tests of the `data` module through its public API: IDX files on disk, directory
//! loading, error messages, the embedded set and minibatch schedules.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use gradrace::data::idx::{self, IdxImages, encode_images, encode_labels};
use gradrace::data::{
    CLASSES, DataError, DataSource, Dataset, FASHION_MNIST_DIR, MinibatchSchedule, embedded,
    epoch_order, load,
};

const MNIST_TEST_CLASS_COUNTS: [usize; 10] =
    [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

const STEMS: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Four 28-pixel-free tiny files: 6 train and 4 held-out 4×3 images.
fn tiny_files() -> [Vec<u8>; 4] {
    let train: Vec<u8> = (0..6 * 12).map(|i| (i * 3) as u8).collect();
    let test: Vec<u8> = (0..4 * 12).map(|i| 255 - i as u8).collect();
    [
        encode_images(4, 3, &train),
        encode_labels(&[0, 1, 2, 7, 8, 9]),
        encode_images(4, 3, &test),
        encode_labels(&[3, 3, 6, 0]),
    ]
}

/// Writes the tiny set into `dir`, gzipping (and naming `.gz`) the files flagged in `gz`.
fn write_dir(dir: &Path, gz: [bool; 4]) -> [PathBuf; 4] {
    let files = tiny_files();
    let mut paths = Vec::new();
    for ((stem, bytes), gz) in STEMS.iter().zip(files).zip(gz) {
        let (path, content) = if gz {
            (dir.join(format!("{stem}.gz")), gzip(&bytes))
        } else {
            (dir.join(stem), bytes)
        };
        std::fs::write(&path, content).unwrap();
        paths.push(path);
    }
    paths.try_into().unwrap()
}

/// Asserts that loading `dir` fails with an error whose message names `file`.
fn assert_error_names(dir: &Path, file: &Path) -> DataError {
    let err = load(&DataSource::Directory(dir.to_path_buf())).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&file.display().to_string()),
        "message does not name {}: {msg}",
        file.display()
    );
    err
}

#[test]
fn idx_round_trip_on_disk_raw_and_gzipped() {
    let tmp = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..=255).cycle().take(5 * 7 * 3).collect();
    let images = encode_images(7, 3, &pixels);
    let labels = encode_labels(&[9, 0, 5, 5, 1]);
    let expected = IdxImages {
        count: 5,
        rows: 7,
        cols: 3,
        pixels,
    };
    for gz in [false, true] {
        let (img_path, lab_path) = if gz {
            (tmp.path().join("i.gz"), tmp.path().join("l.gz"))
        } else {
            (tmp.path().join("i"), tmp.path().join("l"))
        };
        let (img_bytes, lab_bytes) = if gz {
            (gzip(&images), gzip(&labels))
        } else {
            (images.clone(), labels.clone())
        };
        std::fs::write(&img_path, img_bytes).unwrap();
        std::fs::write(&lab_path, lab_bytes).unwrap();
        assert_eq!(idx::read_images(&img_path).unwrap(), expected);
        assert_eq!(idx::read_labels(&lab_path).unwrap(), vec![9, 0, 5, 5, 1]);
    }
}

#[test]
fn directory_with_mixed_compression_loads() {
    let tmp = tempfile::tempdir().unwrap();
    write_dir(tmp.path(), [true, false, false, true]);
    let split = load(&DataSource::Directory(tmp.path().to_path_buf())).unwrap();
    assert_eq!(split.train.len(), 6);
    assert_eq!(split.heldout.len(), 4);
    assert_eq!(split.train.input_dim(), 12);
    assert_eq!(split.train.labels, vec![0, 1, 2, 7, 8, 9]);
    assert_eq!(split.heldout.labels, vec![3, 3, 6, 0]);
    assert_eq!(split.heldout.images[[0, 0]], 1.0);
    assert_eq!(split.train.images[[0, 0]], 0.0);
    assert_eq!(split.train.images[[1, 0]], 36.0 / 255.0);
    assert!(split.train.name.ends_with(" train"));
    assert!(split.heldout.name.ends_with(" held-out"));
}

#[test]
fn bad_magic_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false; 4]);
    // A labels file where an images file belongs.
    std::fs::write(&paths[0], encode_labels(&[1, 2, 3, 4, 5, 6])).unwrap();
    let err = assert_error_names(tmp.path(), &paths[0]);
    assert!(
        matches!(err, DataError::BadMagic { found: 2049, .. }),
        "{err:?}"
    );
}

#[test]
fn truncated_payload_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false, false, true, false]);
    let raw = &tiny_files()[2];
    std::fs::write(&paths[2], gzip(&raw[..raw.len() - 5])).unwrap();
    let err = assert_error_names(tmp.path(), &paths[2]);
    assert!(matches!(err, DataError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn truncated_header_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false; 4]);
    std::fs::write(&paths[1], &tiny_files()[1][..6]).unwrap();
    let err = assert_error_names(tmp.path(), &paths[1]);
    assert!(matches!(err, DataError::TruncatedHeader { .. }), "{err:?}");
}

#[test]
fn trailing_bytes_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false; 4]);
    let mut bytes = tiny_files()[3].clone();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&paths[3], bytes).unwrap();
    let err = assert_error_names(tmp.path(), &paths[3]);
    assert!(
        matches!(err, DataError::TrailingBytes { extra: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn count_mismatch_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false; 4]);
    std::fs::write(&paths[1], encode_labels(&[1, 2, 3])).unwrap();
    let err = assert_error_names(tmp.path(), &paths[1]);
    let msg = err.to_string();
    assert!(msg.contains(&paths[0].display().to_string()), "{msg}");
    assert!(matches!(
        err,
        DataError::CountMismatch {
            n_images: 6,
            n_labels: 3,
            ..
        }
    ));
}

#[test]
fn label_out_of_range_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false, true, false, false]);
    std::fs::write(&paths[1], gzip(&encode_labels(&[0, 1, 2, 10, 4, 5]))).unwrap();
    let err = assert_error_names(tmp.path(), &paths[1]);
    assert!(
        matches!(
            err,
            DataError::LabelOutOfRange {
                index: 3,
                label: 10,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn missing_file_is_named_with_alternatives() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_dir(tmp.path(), [false; 4]);
    std::fs::remove_file(&paths[2]).unwrap();
    let err = assert_error_names(tmp.path(), &paths[2]);
    let msg = err.to_string();
    assert!(msg.contains("omit --data"), "{msg}");
    assert!(
        msg.contains("apt-get install dataset-fashion-mnist"),
        "{msg}"
    );
    assert!(
        !msg.contains(&paths[0].display().to_string()),
        "names only what is missing: {msg}"
    );
}

#[test]
fn embedded_split() {
    let a = embedded();
    let b = load(&DataSource::Embedded).unwrap();
    assert_eq!(a, b, "deterministic");
    assert_eq!((a.train.len(), a.heldout.len()), (8_000, 2_000));
    assert_eq!(a.train.input_dim(), 784);
    assert_eq!(CLASSES, 10);
    let train = a.train.class_counts();
    let heldout = a.heldout.class_counts();
    assert_eq!(train.iter().sum::<usize>(), 8_000);
    assert_eq!(heldout.iter().sum::<usize>(), 2_000);
    for c in 0..CLASSES {
        assert_eq!(
            train[c] + heldout[c],
            MNIST_TEST_CLASS_COUNTS[c],
            "class {c}"
        );
    }
    for set in [&a.train, &a.heldout] {
        assert!(set.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    }
    assert_ne!(a.train.fingerprint(), a.heldout.fingerprint());
}

#[test]
fn minibatches_train_over_a_gathered_set() {
    let split = embedded();
    let train: &Dataset = &split.train;
    let batch = 100;
    let mut schedule = MinibatchSchedule::new(train.len(), batch, 1234);
    assert_eq!(schedule.steps_per_epoch(), 80);
    let mut x = ndarray::Array2::zeros((batch, train.input_dim()));
    let mut y = Vec::new();
    let mut seen = HashSet::new();
    for step in 0..schedule.steps_per_epoch() {
        let indices = schedule.batch_at(step).to_vec();
        train.gather_into(&indices, &mut x, &mut y);
        assert_eq!(y.len(), batch);
        for (row, &i) in indices.iter().enumerate() {
            assert_eq!(x.row(row), train.images.row(i));
            assert!(seen.insert(i));
        }
    }
    assert_eq!(seen.len(), 8_000);
    // Resuming at step 85 (epoch 1) matches iterating there.
    let mut resumed = MinibatchSchedule::new(train.len(), batch, 1234);
    let jumped = resumed.batch_at(85).to_vec();
    for step in 80..=85 {
        schedule.batch_at(step);
    }
    assert_eq!(schedule.batch_at(85), jumped.as_slice());
    assert_eq!(jumped, epoch_order(8_000, 1234, 1)[500..600]);
}

#[test]
fn fashion_mnist_from_debian_package() {
    let dir = Path::new(FASHION_MNIST_DIR);
    if !dir.is_dir() {
        eprintln!("skipping: {FASHION_MNIST_DIR} absent (apt-get install dataset-fashion-mnist)");
        return;
    }
    let split = load(&DataSource::Directory(dir.to_path_buf())).unwrap();
    assert_eq!(split.name, "fashion-mnist");
    assert_eq!((split.train.len(), split.heldout.len()), (60_000, 10_000));
    assert_eq!(split.train.input_dim(), 784);
    assert_eq!(split.train.class_counts(), [6_000; 10]);
    assert_eq!(split.heldout.class_counts(), [1_000; 10]);
}
