//! The checkpoint sidecar: the parameters (2.7 million `f32` per lane of the paper's network)
//! and, for lanes trained with momentum, the velocities of every lane as raw little-endian
//! numbers in a file next to the session, which names it and records its size and checksum.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! | --- | --- |
//! | 0..12 | magic `GRADRACECKPT` |
//! | 12..16 | sidecar format version (1) |
//! | 16..24 | session id (the same number is in the session file) |
//! | 24..32 | n, the number of `f32` values |
//! | 32..32+4n | the values |
//! | last 4 | CRC-32 (IEEE) of every byte before it |
//!
//! Values come lane after lane in the session's lane order; within a lane, layer after layer
//! (gater_hidden, gater_gates, experts, output), and within a layer the weights (inputs × outputs,
//! row-major), the biases, then (lanes with momentum only) the weight and bias velocities.

use std::io::{self, Write};

use ndarray::{Array1, Array2};

use super::error::SidecarError;
use crate::engine::LaneState;
use crate::nn::{Dense, DenseGrad};

/// First bytes of every sidecar.
pub const MAGIC: &[u8; 12] = b"GRADRACECKPT";
/// Sidecar layout version.
pub const VERSION: u32 = 1;
/// Bytes before the values.
pub const HEADER: usize = 32;
/// Bytes after the values.
pub const TRAILER: usize = 4;

/// Values of one layer: weights, biases and (when given) their velocities.
fn layer_tensors<'a>(
    layer: &'a Dense,
    velocity: Option<&'a DenseGrad>,
) -> Vec<ndarray::ArrayViewD<'a, f32>> {
    let mut t = vec![layer.w.view().into_dyn(), layer.b.view().into_dyn()];
    if let Some(v) = velocity {
        t.push(v.w.view().into_dyn());
        t.push(v.b.view().into_dyn());
    }
    t
}

/// Rows of a transposed block, so that a column-major matrix is read column by column.
const BLOCK_ROWS: usize = 64;

/// Calls `f` with the values of `t` in row-major order, a run at a time. Column-major matrices
/// (the kernels' layout for the gater and the experts) are transposed block by block, reading
/// each column's run of rows contiguously, instead of striding through memory element by
/// element.
fn for_each_row_major(
    t: &ndarray::ArrayViewD<'_, f32>,
    f: &mut dyn FnMut(&[f32]) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(values) = t.as_slice() {
        return f(values);
    }
    let m = match t.view().into_dimensionality::<ndarray::Ix2>() {
        Ok(m) if m.t().is_standard_layout() => m,
        _ => {
            let values: Vec<f32> = t.iter().copied().collect();
            return f(&values);
        }
    };
    let (rows, cols) = m.dim();
    let mut block = vec![0.0f32; BLOCK_ROWS * cols];
    for r0 in (0..rows).step_by(BLOCK_ROWS) {
        let n = BLOCK_ROWS.min(rows - r0);
        for (j, column) in m.columns().into_iter().enumerate() {
            let run = column.slice(ndarray::s![r0..r0 + n]);
            for (i, &v) in run.iter().enumerate() {
                block[i * cols + j] = v;
            }
        }
        f(&block[..n * cols])?;
    }
    Ok(())
}

fn layers(state: &LaneState) -> [&Dense; 4] {
    [
        &state.net.gater_hidden,
        &state.net.gater_gates,
        &state.net.experts,
        &state.net.output,
    ]
}

/// Number of values the sidecar holds for `lanes`.
pub fn value_count<'a>(lanes: impl Iterator<Item = &'a LaneState>) -> u64 {
    lanes
        .map(|s| {
            let per = if s.velocities.is_some() { 2 } else { 1 };
            layers(s).iter().map(|l| per * l.len() as u64).sum::<u64>()
        })
        .sum()
}

/// A writer that computes the CRC-32 of what passes through it.
struct Crc<'a> {
    inner: &'a mut dyn Write,
    hasher: crc32fast::Hasher,
    bytes: u64,
}

impl Write for Crc<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What a written sidecar is: its size and checksum, recorded in the session file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Number of `f32` values.
    pub values: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// CRC-32 of everything before the trailer (also the trailer's content).
    pub crc32: u32,
}

/// Writes the sidecar of `lanes` (in order) to `out`.
pub fn write(out: &mut dyn Write, id: u64, lanes: &[&LaneState]) -> io::Result<Written> {
    let values = value_count(lanes.iter().copied());
    let mut w = Crc {
        inner: out,
        hasher: crc32fast::Hasher::new(),
        bytes: 0,
    };
    w.write_all(MAGIC)?;
    w.write_all(&VERSION.to_le_bytes())?;
    w.write_all(&id.to_le_bytes())?;
    w.write_all(&values.to_le_bytes())?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let flush = |buf: &mut Vec<u8>, w: &mut Crc<'_>| -> io::Result<()> {
        w.write_all(buf)?;
        buf.clear();
        Ok(())
    };
    for state in lanes {
        for (i, layer) in layers(state).into_iter().enumerate() {
            let velocity = state.velocities.as_ref().map(|v| &v[i]);
            for tensor in layer_tensors(layer, velocity) {
                for_each_row_major(&tensor, &mut |values: &[f32]| {
                    for &v in values {
                        buf.extend_from_slice(&v.to_le_bytes());
                    }
                    if buf.len() >= 1 << 16 {
                        flush(&mut buf, &mut w)?;
                    }
                    Ok(())
                })?;
            }
        }
    }
    flush(&mut buf, &mut w)?;
    let crc32 = w.hasher.clone().finalize();
    let bytes = w.bytes + TRAILER as u64;
    w.inner.write_all(&crc32.to_le_bytes())?;
    Ok(Written {
        values,
        bytes,
        crc32,
    })
}

/// How one lane's values are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The layer shapes (inputs, outputs), in layer order.
    pub shapes: [(usize, usize); 4],
    /// Whether velocities follow each layer's parameters.
    pub velocities: bool,
}

/// One lane's tensors as read back.
pub type LaneTensors = ([Dense; 4], Option<[DenseGrad; 4]>);

/// Reads the values of a sidecar, after checking its magic, version, id, size and checksum
/// against what the session file recorded. Errors say what does not match.
pub fn verify<'a>(bytes: &'a [u8], id: u64, expected: &Written) -> Result<&'a [u8], SidecarError> {
    if bytes.len() < HEADER + TRAILER || &bytes[..12] != MAGIC {
        return Err(SidecarError::WrongMagic);
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8]));
    let version = u32_at(12);
    if version != VERSION {
        return Err(SidecarError::Version {
            found: version,
            reads: VERSION,
        });
    }
    if u64_at(16) != id {
        return Err(SidecarError::OtherSave {
            found: u64_at(16),
            expected: id,
        });
    }
    if bytes.len() as u64 != expected.bytes {
        return Err(SidecarError::Size {
            bytes: bytes.len(),
            expected: expected.bytes,
        });
    }
    let values = u64_at(24);
    if values != expected.values
        || (values as u128) * 4 + (HEADER + TRAILER) as u128 != bytes.len() as u128
    {
        return Err(SidecarError::ValueCount {
            values,
            expected: expected.values,
        });
    }
    let body = &bytes[..bytes.len() - TRAILER];
    let crc = crc32fast::hash(body);
    let stored = u32_at(bytes.len() - TRAILER);
    if crc != stored || crc != expected.crc32 {
        return Err(SidecarError::Damaged {
            crc,
            stored,
            expected: expected.crc32,
        });
    }
    Ok(&body[HEADER..])
}

/// Checks the sidecar file at `path` as [`verify`] does, reading it a block at a time instead
/// of whole (for listings: a sidecar is tens of megabytes).
pub fn verify_file(
    path: &std::path::Path,
    id: u64,
    expected: &Written,
) -> io::Result<Result<(), SidecarError>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len < (HEADER + TRAILER) as u64 {
        return Ok(Err(SidecarError::WrongMagic));
    }
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header)?;
    if &header[..12] != MAGIC {
        return Ok(Err(SidecarError::WrongMagic));
    }
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let version = u32_at(&header, 12);
    if version != VERSION {
        return Ok(Err(SidecarError::Version {
            found: version,
            reads: VERSION,
        }));
    }
    if u64_at(&header, 16) != id {
        return Ok(Err(SidecarError::OtherSave {
            found: u64_at(&header, 16),
            expected: id,
        }));
    }
    if len != expected.bytes {
        return Ok(Err(SidecarError::Size {
            bytes: usize::try_from(len).unwrap_or(usize::MAX),
            expected: expected.bytes,
        }));
    }
    let values = u64_at(&header, 24);
    if values != expected.values || (values as u128) * 4 + (HEADER + TRAILER) as u128 != len as u128
    {
        return Ok(Err(SidecarError::ValueCount {
            values,
            expected: expected.values,
        }));
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header);
    let mut left = len - (HEADER + TRAILER) as u64;
    let mut block = vec![0u8; 1 << 20];
    while left > 0 {
        let n = usize::try_from(left.min(block.len() as u64)).unwrap_or(block.len());
        file.read_exact(&mut block[..n])?;
        hasher.update(&block[..n]);
        left -= n as u64;
    }
    let mut trailer = [0u8; TRAILER];
    file.read_exact(&mut trailer)?;
    let crc = hasher.finalize();
    let stored = u32::from_le_bytes(trailer);
    if crc != stored || crc != expected.crc32 {
        return Ok(Err(SidecarError::Damaged {
            crc,
            stored,
            expected: expected.crc32,
        }));
    }
    Ok(Ok(()))
}

/// Cuts verified values into the parameters and velocities of lanes with the given shapes.
pub fn split(mut values: &[u8], layouts: &[Layout]) -> Result<Vec<LaneTensors>, SidecarError> {
    let mut take = |n: usize| -> Result<Vec<f32>, SidecarError> {
        let bytes = n
            .checked_mul(4)
            .filter(|b| *b <= values.len())
            .ok_or(SidecarError::TooFewValues)?;
        let (head, rest) = values.split_at(bytes);
        values = rest;
        Ok(head
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let matrix = |v: Vec<f32>, (inputs, outputs): (usize, usize)| {
        Array2::from_shape_vec((inputs, outputs), v).map_err(|problem| SidecarError::BadShape {
            inputs,
            outputs,
            problem,
        })
    };
    let mut out = Vec::with_capacity(layouts.len());
    for lane in layouts {
        let mut params = Vec::with_capacity(4);
        let mut velocities = Vec::with_capacity(4);
        for &(inputs, outputs) in &lane.shapes {
            let n = inputs
                .checked_mul(outputs)
                .ok_or(SidecarError::ShapeTooLarge { inputs, outputs })?;
            let w = matrix(take(n)?, (inputs, outputs))?;
            let b = Array1::from_vec(take(outputs)?);
            params.push(Dense { w, b });
            if lane.velocities {
                let vw = matrix(take(n)?, (inputs, outputs))?;
                let vb = Array1::from_vec(take(outputs)?);
                velocities.push(DenseGrad { w: vw, b: vb });
            }
        }
        out.push((four(params), lane.velocities.then(|| four(velocities))));
    }
    if !values.is_empty() {
        return Err(SidecarError::ExtraValues {
            extra: values.len() / 4,
        });
    }
    Ok(out)
}

/// The four layers of a lane, read one per shape of its [`Layout`].
fn four<T>(layers: Vec<T>) -> [T; 4] {
    layers
        .try_into()
        .unwrap_or_else(|_| unreachable!("a layout has four layer shapes"))
}
