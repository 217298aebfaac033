//! A labelled set of greyscale images held as a matrix of `f32` pixels in [0, 1].

use ndarray::{Array2, ArrayView1};

use super::CLASSES;

/// A labelled set of `rows × cols` greyscale images.
///
/// Invariants (upheld by every constructor in this module; the fields are public, so code that
/// changes them must keep them): `images` is `len() × (rows·cols)` in standard (row-major)
/// layout, `labels.len() == images.nrows()`, and every label is below [`CLASSES`].
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// A human-readable name, e.g. "mnist-10k (embedded) train".
    pub name: String,
    /// One image per row: `rows·cols` pixels, row-major, grey level / 255 in [0, 1].
    pub images: Array2<f32>,
    /// One class (0 to 9) per image.
    pub labels: Vec<u8>,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
}

impl Dataset {
    /// The number of classes a label can denote.
    pub const CLASSES: usize = CLASSES;

    /// Builds a data set from raw grey levels (0 to 255), `rows·cols` per image, image after
    /// image; each pixel becomes `grey / 255.0`.
    ///
    /// # Panics
    /// If `rows` or `cols` is zero, if `pixels.len() != labels.len() · rows · cols`, or if a label
    /// is 10 or more. (The IDX reader checks all of these, with errors, before calling this.)
    pub fn from_u8(
        name: impl Into<String>,
        rows: usize,
        cols: usize,
        pixels: &[u8],
        labels: Vec<u8>,
    ) -> Dataset {
        assert!(
            rows > 0 && cols > 0,
            "images need at least one row and one column"
        );
        let dim = rows * cols;
        assert_eq!(
            Some(pixels.len()),
            labels.len().checked_mul(dim),
            "{} pixels do not make {} images of {rows}×{cols}",
            pixels.len(),
            labels.len()
        );
        if let Some(bad) = labels.iter().find(|&&l| usize::from(l) >= CLASSES) {
            panic!("label {bad} is not a class in 0..{CLASSES}");
        }
        let values: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        let images = Array2::from_shape_vec((labels.len(), dim), values)
            .expect("shape was checked against the pixel count");
        Dataset {
            name: name.into(),
            images,
            labels,
            rows,
            cols,
        }
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Inputs per example: `rows × cols`.
    pub fn input_dim(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of example `index`.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn image(&self, index: usize) -> ArrayView1<'_, f32> {
        self.images.row(index)
    }

    /// Copies the examples at `indices` into `x` (row `i` of `x` receives example `indices[i]`)
    /// and `y` (cleared, then filled with their labels). Indices may repeat.
    ///
    /// `x` must already be `indices.len() × input_dim()`, so a training loop can reuse one
    /// buffer for every minibatch.
    ///
    /// # Panics
    /// If `x` has another shape or an index is out of range.
    pub fn gather_into(&self, indices: &[usize], x: &mut Array2<f32>, y: &mut Vec<u8>) {
        assert_eq!(
            x.dim(),
            (indices.len(), self.input_dim()),
            "gather_into: x must be indices.len() × input_dim"
        );
        y.clear();
        y.reserve(indices.len());
        let n = self.len();
        for (mut row, &index) in x.rows_mut().into_iter().zip(indices) {
            assert!(
                index < n,
                "gather_into: index {index} out of range for {n} examples"
            );
            let src = self.images.row(index);
            match (row.as_slice_mut(), src.as_slice()) {
                (Some(dst), Some(src)) => dst.copy_from_slice(src),
                _ => row.assign(&src),
            }
            y.push(self.labels[index]);
        }
    }

    /// The examples at `indices` as a fresh `indices.len() × input_dim()` matrix and label list.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn gather(&self, indices: &[usize]) -> (Array2<f32>, Vec<u8>) {
        let mut x = Array2::zeros((indices.len(), self.input_dim()));
        let mut y = Vec::with_capacity(indices.len());
        self.gather_into(indices, &mut x, &mut y);
        (x, y)
    }

    /// How many examples there are of each class.
    ///
    /// # Panics
    /// If a label is 10 or more (possible only if the public `labels` field was altered).
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &label in &self.labels {
            match counts.get_mut(usize::from(label)) {
                Some(c) => *c += 1,
                None => panic!("label {label} is not a class in 0..{CLASSES}"),
            }
        }
        counts
    }

    /// A stable 64-bit fingerprint of the content, to tell sessions run on different data apart.
    ///
    /// FNV-1a (64-bit) over: `rows`, `cols` and `len()` as little-endian u64, then every pixel as
    /// the grey level `round(p · 255)` (clamped to 0..=255) it came from, then the labels. The
    /// name is not included, the order of examples is. Stable across platforms and versions.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Fnv1a::new();
        for dim in [self.rows, self.cols, self.len()] {
            h.write(&(dim as u64).to_le_bytes());
        }
        for &p in &self.images {
            h.write_byte((p * 255.0).round().clamp(0.0, 255.0) as u8);
        }
        h.write(&self.labels);
        h.finish()
    }

    /// A new data set of the examples at `indices` (in that order), named `name`.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize], name: impl Into<String>) -> Dataset {
        let (images, labels) = self.gather(indices);
        Dataset {
            name: name.into(),
            images,
            labels,
            rows: self.rows,
            cols: self.cols,
        }
    }
}

/// 64-bit FNV-1a.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv1a(Self::OFFSET)
    }

    fn write_byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_byte(b);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        // Four 2×3 images; image i has pixels 10i + j.
        let pixels: Vec<u8> = (0..4u8)
            .flat_map(|i| (0..6u8).map(move |j| 10 * i + j))
            .collect();
        Dataset::from_u8("tiny", 2, 3, &pixels, vec![3, 1, 4, 1])
    }

    #[test]
    fn basics() {
        let d = tiny();
        assert_eq!(d.len(), 4);
        assert!(!d.is_empty());
        assert_eq!(d.input_dim(), 6);
        assert_eq!(Dataset::CLASSES, 10);
        assert_eq!(d.images.dim(), (4, 6));
        assert_eq!(d.images[[2, 5]], 25.0 / 255.0);
        assert_eq!(d.image(1)[0], 10.0 / 255.0);
        assert!(d.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
        let counts = d.class_counts();
        assert_eq!(counts[1], 2);
        assert_eq!(counts[3], 1);
        assert_eq!(counts.iter().sum::<usize>(), 4);
        let empty = Dataset::from_u8("empty", 2, 3, &[], vec![]);
        assert!(empty.is_empty());
        assert_eq!(empty.class_counts(), [0; 10]);
    }

    #[test]
    fn gather_copies_rows_and_labels() {
        let d = tiny();
        let (x, y) = d.gather(&[2, 0, 2]);
        assert_eq!(y, vec![4, 3, 4]);
        assert_eq!(x.row(0), d.images.row(2));
        assert_eq!(x.row(1), d.images.row(0));
        assert_eq!(x.row(2), d.images.row(2));

        let mut x = Array2::from_elem((2, 6), f32::NAN);
        let mut y = vec![9, 9, 9, 9, 9];
        d.gather_into(&[3, 1], &mut x, &mut y);
        assert_eq!(y, vec![1, 1]);
        assert_eq!(x.row(0), d.images.row(3));
        assert_eq!(x.row(1), d.images.row(1));

        // A non-standard layout for x still works.
        let mut xt = Array2::from_elem((6, 2), 0.0f32).reversed_axes();
        d.gather_into(&[0, 3], &mut xt, &mut y);
        assert_eq!(xt.row(1), d.images.row(3));
    }

    #[test]
    #[should_panic(expected = "must be indices.len() × input_dim")]
    fn gather_into_checks_shape() {
        let d = tiny();
        let mut x = Array2::zeros((3, 6));
        d.gather_into(&[0, 1], &mut x, &mut Vec::new());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn gather_checks_indices() {
        tiny().gather(&[4]);
    }

    #[test]
    #[should_panic(expected = "not a class")]
    fn from_u8_rejects_bad_labels() {
        Dataset::from_u8("bad", 1, 1, &[0], vec![10]);
    }

    #[test]
    fn fingerprint_is_content_hash() {
        let d = tiny();
        assert_eq!(d.fingerprint(), tiny().fingerprint());
        // Known value: guards against accidental changes to the recipe.
        let one = Dataset::from_u8("x", 1, 1, &[255], vec![9]);
        let mut h = Fnv1a::new();
        h.write(&1u64.to_le_bytes());
        h.write(&1u64.to_le_bytes());
        h.write(&1u64.to_le_bytes());
        h.write(&[255, 9]);
        assert_eq!(one.fingerprint(), h.finish());
        assert_eq!(Fnv1a::new().finish(), 0xcbf2_9ce4_8422_2325);
        let mut a = Fnv1a::new();
        a.write(b"a");
        assert_eq!(a.finish(), 0xaf63_dc4c_8601_ec8c);

        // The name does not matter; the content and its order do.
        let mut renamed = tiny();
        renamed.name = "other".into();
        assert_eq!(renamed.fingerprint(), d.fingerprint());
        assert_eq!(
            d.subset(&[0, 1, 2, 3], "same").fingerprint(),
            d.fingerprint()
        );
        assert_ne!(
            d.subset(&[1, 0, 2, 3], "swapped").fingerprint(),
            d.fingerprint()
        );
        let mut relabelled = tiny();
        relabelled.labels[0] = 0;
        assert_ne!(relabelled.fingerprint(), d.fingerprint());
        let mut repixelled = tiny();
        repixelled.images[[0, 0]] = 1.0 / 255.0;
        assert_ne!(repixelled.fingerprint(), d.fingerprint());
        // Same pixels, other shape.
        let pixels: Vec<u8> = (0..4u8)
            .flat_map(|i| (0..6u8).map(move |j| 10 * i + j))
            .collect();
        let reshaped = Dataset::from_u8("tiny", 3, 2, &pixels, vec![3, 1, 4, 1]);
        assert_ne!(reshaped.fingerprint(), d.fingerprint());
    }

    #[test]
    fn subset_keeps_shape_and_order() {
        let d = tiny();
        let s = d.subset(&[3, 2], "tail");
        assert_eq!(s.name, "tail");
        assert_eq!((s.rows, s.cols, s.len()), (2, 3, 2));
        assert_eq!(s.labels, vec![1, 4]);
        assert_eq!(s.images.row(1), d.images.row(2));
        assert!(s.images.is_standard_layout());
    }
}
