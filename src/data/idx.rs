//! The IDX file format used by MNIST and Fashion-MNIST, read from raw or gzipped bytes.
//!
//! An IDX file is a big-endian header followed by a payload of unsigned bytes:
//!
//! | file   | magic | header                           | payload              |
//! |--------|-------|----------------------------------|----------------------|
//! | images | 2051  | magic, count, rows, cols (u32 ×4) | count·rows·cols bytes |
//! | labels | 2049  | magic, count (u32 ×2)             | count bytes           |
//!
//! Files may be gzip-compressed; compression is detected from the gzip magic bytes `1f 8b`, not
//! from the file name. The reader is strict: the payload must be exactly as long as the header
//! says (a short payload and trailing bytes are both errors), images must have at least one row
//! and one column, and labels must be classes 0 to 9. It never panics, whatever the bytes, and it
//! allocates memory only for bytes actually present, so a header that lies about its size cannot
//! exhaust memory.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::{DataError, DataFile};

/// Magic number of an IDX images file (unsigned bytes, 3 dimensions).
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX labels file (unsigned bytes, 1 dimension).
pub const LABELS_MAGIC: u32 = 2049;
/// Length in bytes of an images file's header.
pub const IMAGES_HEADER_LEN: usize = 16;
/// Length in bytes of a labels file's header.
pub const LABELS_HEADER_LEN: usize = 8;
/// The two bytes every gzip stream starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The number of classes a label may denote (labels are 0 to `CLASSES - 1`).
const CLASSES: u8 = 10;

/// Initial buffer capacity is capped at this many bytes; beyond it the buffer grows only as data
/// actually arrives.
const MAX_PREALLOCATION: u64 = 1 << 28;

/// The contents of an IDX images file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count × rows × cols` grey levels (0 = background), image after image, each row-major.
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Pixels per image (`rows × cols`).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }
}

/// Whether `bytes` start with the gzip magic bytes.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Reads an IDX images file (raw or gzipped) from disk.
pub fn read_images(path: &Path) -> Result<IdxImages, DataError> {
    let file = DataFile::from(path);
    let handle = open(path, &file)?;
    decode_images(handle, file)
}

/// Reads an IDX labels file (raw or gzipped) from disk; every label is checked to be 0 to 9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let file = DataFile::from(path);
    let handle = open(path, &file)?;
    decode_labels(handle, file)
}

/// Parses an IDX images file (raw or gzipped) held in memory; `file` names it in errors.
pub fn parse_images(bytes: &[u8], file: DataFile) -> Result<IdxImages, DataError> {
    decode_images(bytes, file)
}

/// Parses an IDX labels file (raw or gzipped) held in memory; `file` names it in errors.
pub fn parse_labels(bytes: &[u8], file: DataFile) -> Result<Vec<u8>, DataError> {
    decode_labels(bytes, file)
}

/// Encodes images as a raw (uncompressed) IDX images file.
///
/// The number of images is `pixels.len() / (rows × cols)`.
///
/// # Panics
/// If `rows` or `cols` is zero, if `pixels.len()` is not a multiple of `rows × cols`, or if a
/// dimension does not fit the format's 32 bits.
pub fn encode_images(rows: usize, cols: usize, pixels: &[u8]) -> Vec<u8> {
    assert!(
        rows > 0 && cols > 0,
        "images need at least one row and one column"
    );
    let per_image = rows.checked_mul(cols).expect("rows × cols overflows usize");
    assert!(
        pixels.len().is_multiple_of(per_image),
        "{} pixels is not a whole number of {rows}×{cols} images",
        pixels.len()
    );
    let mut out = Vec::with_capacity(IMAGES_HEADER_LEN + pixels.len());
    for value in [IMAGES_MAGIC as usize, pixels.len() / per_image, rows, cols] {
        let value = u32::try_from(value).expect("IDX dimensions must fit in 32 bits");
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as a raw (uncompressed) IDX labels file. Labels are written as given, even if
/// they are not valid classes (useful for testing the reader).
///
/// # Panics
/// If there are more than `u32::MAX` labels.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let count = u32::try_from(labels.len()).expect("IDX counts must fit in 32 bits");
    let mut out = Vec::with_capacity(LABELS_HEADER_LEN + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(labels);
    out
}

fn open(path: &Path, file: &DataFile) -> Result<BufReader<File>, DataError> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|source| DataError::Io {
            file: file.clone(),
            source,
        })
}

fn decode_images<R: Read>(input: R, file: DataFile) -> Result<IdxImages, DataError> {
    let mut stream = Stream::new(input, file)?;
    let mut header = [0u8; IMAGES_HEADER_LEN];
    let [count, rows, cols] = stream.header(&mut header, "images", IMAGES_MAGIC)?;
    if rows == 0 || cols == 0 {
        return Err(DataError::BadDimensions {
            file: stream.file,
            problem: format!("images of {rows}×{cols} pixels (both must be at least 1)"),
        });
    }
    let expected = u64::from(count)
        .checked_mul(u64::from(rows))
        .and_then(|n| n.checked_mul(u64::from(cols)))
        .ok_or_else(|| DataError::BadDimensions {
            file: stream.file.clone(),
            problem: format!(
                "{count} images of {rows}×{cols} pixels is more bytes than can be counted"
            ),
        })?;
    let pixels = stream.payload(expected)?;
    Ok(IdxImages {
        count: count as usize,
        rows: rows as usize,
        cols: cols as usize,
        pixels,
    })
}

fn decode_labels<R: Read>(input: R, file: DataFile) -> Result<Vec<u8>, DataError> {
    let mut stream = Stream::new(input, file)?;
    let mut header = [0u8; LABELS_HEADER_LEN];
    let [count] = stream.header(&mut header, "labels", LABELS_MAGIC)?;
    let labels = stream.payload(u64::from(count))?;
    if let Some(index) = labels.iter().position(|&l| l >= CLASSES) {
        return Err(DataError::LabelOutOfRange {
            file: stream.file,
            index,
            label: labels[index],
            max: labels.iter().copied().max().unwrap_or(0),
        });
    }
    Ok(labels)
}

/// A decompressed byte stream together with the name of the file it comes from.
struct Stream<'a> {
    reader: Box<dyn Read + 'a>,
    gzipped: bool,
    file: DataFile,
}

impl<'a> Stream<'a> {
    /// Peeks at the first two bytes to detect gzip and wraps `input` in a decompressor if so.
    fn new<R: Read + 'a>(mut input: R, file: DataFile) -> Result<Self, DataError> {
        let mut prefix = [0u8; 2];
        let got = read_up_to(&mut input, &mut prefix).map_err(|source| DataError::Io {
            file: file.clone(),
            source,
        })?;
        let gzipped = got == prefix.len() && prefix == GZIP_MAGIC;
        // Put the peeked bytes back in front of the rest of the input.
        let rejoined = io::Cursor::new(prefix).take(got as u64).chain(input);
        let reader: Box<dyn Read + 'a> = if gzipped {
            Box::new(MultiGzDecoder::new(rejoined))
        } else {
            Box::new(rejoined)
        };
        Ok(Stream {
            reader,
            gzipped,
            file,
        })
    }

    /// Classifies an error from the reader: the decompressor reports corrupt data as
    /// invalid-input/invalid-data/unexpected-EOF errors; anything else is an I/O failure.
    fn error(&self, source: io::Error) -> DataError {
        let file = self.file.clone();
        let corrupt = matches!(
            source.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        );
        if self.gzipped && corrupt {
            DataError::Gzip { file, source }
        } else {
            DataError::Io { file, source }
        }
    }

    /// Reads a header of `N + 1` big-endian u32 words into `buf`, checks the first is `magic` and
    /// returns the other `N`.
    fn header<const N: usize>(
        &mut self,
        buf: &mut [u8],
        kind: &'static str,
        magic: u32,
    ) -> Result<[u32; N], DataError> {
        debug_assert_eq!(buf.len(), 4 * (N + 1));
        let got = read_up_to(&mut self.reader, buf).map_err(|e| self.error(e))?;
        let word = |i: usize| -> Option<u32> {
            let bytes = buf.get(4 * i..4 * i + 4)?;
            Some(u32::from_be_bytes(bytes.try_into().ok()?))
        };
        if got >= 4
            && let Some(found) = word(0).filter(|&found| found != magic)
        {
            return Err(DataError::BadMagic {
                file: self.file.clone(),
                kind,
                expected: magic,
                found,
            });
        }
        if got < buf.len() {
            return Err(DataError::TruncatedHeader {
                file: self.file.clone(),
                kind,
                needed: buf.len(),
                found: got,
            });
        }
        let mut words = [0u32; N];
        for (i, w) in words.iter_mut().enumerate() {
            *w = word(i + 1).unwrap_or(0);
        }
        Ok(words)
    }

    /// Reads exactly `expected` payload bytes and checks nothing follows them.
    fn payload(&mut self, expected: u64) -> Result<Vec<u8>, DataError> {
        let capacity = usize::try_from(expected.min(MAX_PREALLOCATION)).unwrap_or(0);
        let mut data = Vec::with_capacity(capacity);
        (&mut self.reader)
            .take(expected)
            .read_to_end(&mut data)
            .map_err(|e| self.error(e))?;
        let found = data.len() as u64;
        if found < expected {
            return Err(DataError::Truncated {
                file: self.file.clone(),
                expected,
                found,
            });
        }
        let extra = io::copy(&mut self.reader, &mut io::sink()).map_err(|e| self.error(e))?;
        if extra > 0 {
            return Err(DataError::TrailingBytes {
                file: self.file.clone(),
                expected,
                extra,
            });
        }
        Ok(data)
    }
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
fn read_up_to<R: Read + ?Sized>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match input.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `bytes` gzip-compressed, for the tests of the readers.
#[cfg(test)]
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name() -> DataFile {
        DataFile::Embedded("test-file")
    }

    fn sample_images() -> (Vec<u8>, IdxImages) {
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 11) as u8).collect();
        let expected = IdxImages {
            count: 3,
            rows: 2,
            cols: 4,
            pixels: pixels.clone(),
        };
        (encode_images(2, 4, &pixels), expected)
    }

    #[test]
    fn images_round_trip_raw_and_gzipped() {
        let (bytes, expected) = sample_images();
        assert_eq!(bytes.len(), IMAGES_HEADER_LEN + 24);
        assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
        assert_eq!(parse_images(&bytes, name()).unwrap(), expected);
        let gz = gzip(&bytes);
        assert!(is_gzip(&gz));
        assert_eq!(parse_images(&gz, name()).unwrap(), expected);
    }

    #[test]
    fn labels_round_trip_raw_and_gzipped() {
        let labels = vec![7, 2, 1, 0, 4, 1, 4, 9, 5, 9];
        let bytes = encode_labels(&labels);
        assert_eq!(&bytes[..8], &[0, 0, 8, 1, 0, 0, 0, 10]);
        assert_eq!(parse_labels(&bytes, name()).unwrap(), labels);
        assert_eq!(parse_labels(&gzip(&bytes), name()).unwrap(), labels);
        assert_eq!(
            parse_labels(&encode_labels(&[]), name()).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn multi_member_gzip_is_read_whole() {
        let (bytes, expected) = sample_images();
        let (a, b) = bytes.split_at(10);
        let mut joined = gzip(a);
        joined.extend(gzip(b));
        assert_eq!(parse_images(&joined, name()).unwrap(), expected);
    }

    #[test]
    fn bad_magic() {
        let labels = encode_labels(&[1, 2]);
        let err = parse_images(&labels, name()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BadMagic {
                    found: 2049,
                    expected: 2051,
                    ..
                }
            ),
            "{err:?}"
        );
        let (images, _) = sample_images();
        let err = parse_labels(&images, name()).unwrap_err();
        assert!(
            matches!(err, DataError::BadMagic { found: 2051, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("test-file"));
        // Wrong magic is reported even when the header is also short.
        let err = parse_labels(&[0, 0, 8, 3, 0], name()).unwrap_err();
        assert!(matches!(err, DataError::BadMagic { .. }), "{err:?}");
    }

    #[test]
    fn truncated_header() {
        let (images, _) = sample_images();
        for len in [0, 1, 3, 4, 15] {
            let err = parse_images(&images[..len], name()).unwrap_err();
            assert!(
                matches!(err, DataError::TruncatedHeader { needed: 16, found, .. } if found == len),
                "{len}: {err:?}"
            );
            let err = parse_images(&gzip(&images[..len]), name()).unwrap_err();
            assert!(matches!(err, DataError::TruncatedHeader { .. }), "{err:?}");
        }
        let err = parse_labels(&encode_labels(&[1])[..7], name()).unwrap_err();
        assert!(matches!(
            err,
            DataError::TruncatedHeader {
                needed: 8,
                found: 7,
                ..
            }
        ));
    }

    #[test]
    fn truncated_payload_and_trailing_bytes() {
        let (images, _) = sample_images();
        let short = &images[..images.len() - 1];
        let err = parse_images(short, name()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 24,
                    found: 23,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse_images(&gzip(short), name()).unwrap_err();
        assert!(matches!(err, DataError::Truncated { .. }), "{err:?}");

        let mut long = images.clone();
        long.extend_from_slice(&[0, 0, 0]);
        let err = parse_images(&long, name()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TrailingBytes {
                    expected: 24,
                    extra: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse_images(&gzip(&long), name()).unwrap_err();
        assert!(
            matches!(err, DataError::TrailingBytes { extra: 3, .. }),
            "{err:?}"
        );

        let mut labels = encode_labels(&[1, 2, 3]);
        labels.push(4);
        let err = parse_labels(&labels, name()).unwrap_err();
        assert!(
            matches!(err, DataError::TrailingBytes { extra: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn corrupt_gzip() {
        let (images, _) = sample_images();
        let gz = gzip(&images);
        // Cut off the gzip trailer and part of the stream.
        let err = parse_images(&gz[..gz.len() - 12], name()).unwrap_err();
        assert!(
            matches!(err, DataError::Gzip { .. } | DataError::Truncated { .. }),
            "{err:?}"
        );
        // Garbage after the gzip magic.
        let err = parse_images(&[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], name()).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
        assert!(err.to_string().contains("test-file"), "{err}");
        // Flip a byte in the compressed data: the CRC or the inflater must notice.
        let mut flipped = gz.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(parse_images(&flipped, name()).is_err());
    }

    #[test]
    fn bad_dimensions() {
        let mut bytes = encode_images(1, 1, &[5]);
        bytes[8..12].copy_from_slice(&0u32.to_be_bytes()); // rows = 0
        let err = parse_images(&bytes, name()).unwrap_err();
        assert!(matches!(err, DataError::BadDimensions { .. }), "{err:?}");

        // count · rows · cols overflows u64: must be an error, not a panic or a huge allocation.
        let mut header = Vec::new();
        for w in [IMAGES_MAGIC, u32::MAX, u32::MAX, u32::MAX] {
            header.extend_from_slice(&w.to_be_bytes());
        }
        let err = parse_images(&header, name()).unwrap_err();
        assert!(matches!(err, DataError::BadDimensions { .. }), "{err:?}");

        // A huge but countable size: truncated, without allocating gigabytes.
        header[12..16].copy_from_slice(&1u32.to_be_bytes());
        let err = parse_images(&header, name()).unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { found: 0, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn label_out_of_range() {
        let err = parse_labels(&encode_labels(&[0, 9, 10, 3, 200]), name()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    index: 2,
                    label: 10,
                    max: 200,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("test-file") && msg.contains("label 10"),
            "{msg}"
        );
    }

    #[test]
    fn reads_files_detecting_gzip_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let (images, expected) = sample_images();
        // Gzipped content under a name without .gz, raw content under a name with .gz.
        let a = dir.path().join("images-a");
        let b = dir.path().join("images-b.gz");
        std::fs::write(&a, gzip(&images)).unwrap();
        std::fs::write(&b, &images).unwrap();
        assert_eq!(read_images(&a).unwrap(), expected);
        assert_eq!(read_images(&b).unwrap(), expected);
        let l = dir.path().join("labels");
        std::fs::write(&l, gzip(&encode_labels(&[3, 1, 4]))).unwrap();
        assert_eq!(read_labels(&l).unwrap(), vec![3, 1, 4]);

        let missing = dir.path().join("nope");
        let err = read_labels(&missing).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("nope"), "{err}");
    }

    /// Bytes that start like a valid header, to get the fuzzing past the magic check.
    fn with_header(magic: u32, words: &[u32], tail: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for w in words {
            out.extend_from_slice(&w.to_be_bytes());
        }
        out.extend_from_slice(tail);
        out
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(2029))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse_images(&bytes, name());
            let _ = parse_labels(&bytes, name());
            let mut gz = GZIP_MAGIC.to_vec();
            gz.extend_from_slice(&bytes);
            let _ = parse_images(&gz, name());
            let _ = parse_labels(&gz, name());
            let _ = parse_images(&gzip(&bytes), name());
            let _ = parse_labels(&gzip(&bytes), name());
        }

        #[test]
        fn plausible_headers_never_panic(
            count in prop_oneof![0u32..8, any::<u32>()],
            rows in prop_oneof![0u32..8, any::<u32>()],
            cols in prop_oneof![0u32..8, any::<u32>()],
            tail in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let images = with_header(IMAGES_MAGIC, &[count, rows, cols], &tail);
            if let Ok(parsed) = parse_images(&images, name()) {
                prop_assert_eq!(parsed.pixels.len(), parsed.count * parsed.rows * parsed.cols);
                prop_assert_eq!(parsed.pixels, tail.clone());
            }
            let _ = parse_images(&gzip(&images), name());
            let labels = with_header(LABELS_MAGIC, &[count], &tail);
            if let Ok(parsed) = parse_labels(&labels, name()) {
                prop_assert!(parsed.iter().all(|&l| l < 10));
                prop_assert_eq!(parsed, tail);
            }
        }

        #[test]
        fn encode_parse_round_trip(
            rows in 1usize..6,
            cols in 1usize..6,
            count in 0usize..6,
            seed in any::<u64>(),
        ) {
            let pixels: Vec<u8> = (0..rows * cols * count)
                .map(|i| (seed.rotate_left(i as u32 % 64) as u8).wrapping_add(i as u8))
                .collect();
            let parsed = parse_images(&encode_images(rows, cols, &pixels), name()).unwrap();
            prop_assert_eq!(parsed, IdxImages { count, rows, cols, pixels });
        }
    }
}
