//! Routing: which examples use which expert, from a minibatch's gates (or from any matrix
//! whose zeros mark work to skip, such as the gate layer's ∂L/∂a).

use ndarray::ArrayView2;

use super::routed_output::RoutedEntries;

/// Which examples use which expert: for expert i, the entries `start[i]..start[i+1]` list the
/// examples b (increasing) with h_bi ≠ 0 and the gate values h_bi.
#[derive(Debug, Clone, Default)]
pub struct ExpertRoutes {
    pub(crate) start: Vec<usize>,
    pub(crate) example: Vec<u32>,
    pub(crate) expert: Vec<u32>,
    pub(crate) gate: Vec<f32>,
    pub(crate) by_example_start: Vec<usize>,
    pub(crate) by_example_entry: Vec<u32>,
    /// Scratch: the bit masks of the non-zero gates, unit by unit, 64 examples per word.
    masks: Vec<u64>,
    /// Scratch: a column-major copy of an h in another layout.
    column: Vec<f32>,
}

impl ExpertRoutes {
    /// Empty routes with room for `batch` × `units` entries (so routing never allocates).
    pub fn with_capacity(batch: usize, units: usize) -> Self {
        let n = batch * units;
        ExpertRoutes {
            start: Vec::with_capacity(units + 1),
            example: Vec::with_capacity(n),
            expert: Vec::with_capacity(n),
            gate: Vec::with_capacity(n),
            by_example_start: Vec::with_capacity(batch + 1),
            by_example_entry: Vec::with_capacity(n),
            masks: Vec::with_capacity(units * batch.div_ceil(64)),
            column: Vec::new(),
        }
    }

    /// Forgets the routes (the gated backward pass then refuses to run on them).
    pub fn clear(&mut self) {
        self.start.clear();
        self.example.clear();
        self.expert.clear();
        self.gate.clear();
        self.by_example_start.clear();
        self.by_example_entry.clear();
    }

    /// Routes the batch for gates `h` (batch × units).
    ///
    /// Each unit's column of gates is turned into bit masks of its non-zero entries, 64
    /// examples per word; the masks give every unit's count, so the lists are sized once and
    /// then filled by visiting only the set bits. At the sparsity target, about one gate in
    /// ten, the whole pass costs little more than reading h once.
    pub fn build(&mut self, h: ArrayView2<f32>) {
        let (batch, units) = h.dim();
        #[cfg(target_arch = "x86_64")]
        if crate::nn::simd::simd_level() == crate::nn::simd::SimdLevel::Avx512
            && let Some(values) = column_major(&h)
        {
            // SAFETY: the CPU has AVX-512F.
            unsafe { self.compress_avx512(values, batch, units) };
            return;
        }
        self.build_portable(h);
    }

    /// [`Self::build`] without vector instructions.
    fn build_portable(&mut self, h: ArrayView2<f32>) {
        let (batch, units) = h.dim();
        if let Some(values) = column_major(&h) {
            self.build_from_columns(batch, units, |i| &values[i * batch..(i + 1) * batch]);
        } else {
            let mut columns = std::mem::take(&mut self.column);
            columns.clear();
            columns.extend(h.t().iter());
            self.build_from_columns(batch, units, |i| &columns[i * batch..(i + 1) * batch]);
            self.column = columns;
        }
    }

    /// [`Self::build`] on a column-major h (`values`, unit i's gates at i·B..(i + 1)·B) with
    /// AVX-512: per 16 examples one compare gives the mask of gates that are on, and the
    /// compressed example indices, gate values and the unit index are stored at the end of the
    /// lists with full-width stores that the next unit's entries overwrite. No branch depends
    /// on the gates.
    ///
    /// # Safety
    /// The CPU supports AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn compress_avx512(&mut self, values: &[f32], batch: usize, units: usize) {
        use std::arch::x86_64::*;
        assert!(values.len() >= batch * units);
        assert!(batch * units < i32::MAX as usize, "too many gates to index");
        // Room for every gate plus the tail of one full-width store.
        let room = batch * units + 16;
        self.start.clear();
        self.start.reserve(units + 1);
        self.start.push(0);
        for list in [&mut self.example, &mut self.expert] {
            list.clear();
            list.reserve(room);
        }
        self.gate.clear();
        self.gate.reserve(room);
        let (example, expert, gate) = (
            self.example.as_mut_ptr(),
            self.expert.as_mut_ptr(),
            self.gate.as_mut_ptr(),
        );
        let mut k = 0usize;
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let zero = _mm512_setzero_ps();
        for i in 0..units {
            let unit = _mm512_set1_epi32(i as i32);
            let mut b0 = 0;
            while b0 < batch {
                let n = (batch - b0).min(16);
                let lanes = if n == 16 { 0xffff } else { (1u16 << n) - 1 };
                // SAFETY: the load reads lanes b0..b0 + n < B of column i, inside `values`;
                // the stores write 16 slots from k, and k + 16 ≤ entries so far + 16 ≤ room.
                let on = unsafe {
                    let v = _mm512_maskz_loadu_ps(lanes, values.as_ptr().add(i * batch + b0));
                    // Not equal or unordered: NaN is on, ±0 off.
                    let on = _mm512_mask_cmp_ps_mask::<_CMP_NEQ_UQ>(lanes, v, zero);
                    let b = _mm512_add_epi32(iota, _mm512_set1_epi32(b0 as i32));
                    _mm512_storeu_ps(gate.add(k), _mm512_maskz_compress_ps(on, v));
                    _mm512_storeu_si512(example.add(k).cast(), _mm512_maskz_compress_epi32(on, b));
                    _mm512_storeu_si512(expert.add(k).cast(), unit);
                    on
                };
                k += on.count_ones() as usize;
                b0 += 16;
            }
            self.start.push(k);
        }
        // SAFETY: slots 0..k were written above, within the reserved room.
        unsafe {
            self.example.set_len(k);
            self.expert.set_len(k);
            self.gate.set_len(k);
        }
        self.by_example_start.clear();
        self.by_example_entry.clear();
    }

    /// [`Self::build`] from unit i's column of gates `column(i)` (B values).
    fn build_from_columns<'a>(
        &mut self,
        batch: usize,
        units: usize,
        column: impl Fn(usize) -> &'a [f32],
    ) {
        let words = batch.div_ceil(64);
        self.start.clear();
        self.start.push(0);
        self.masks.clear();
        let mut total = 0;
        for i in 0..units {
            for chunk in column(i).chunks(64) {
                let mask = nonzero_mask(chunk);
                total += mask.count_ones() as usize;
                self.masks.push(mask);
            }
            self.start.push(total);
        }
        self.example.clear();
        self.example.resize(total, 0);
        self.expert.clear();
        self.expert.resize(total, 0);
        self.gate.clear();
        self.gate.resize(total, 0.0);
        for i in 0..units {
            let mut k = self.start[i];
            if k == self.start[i + 1] {
                continue;
            }
            for (word, chunk) in column(i).chunks(64).enumerate() {
                let mut mask = self.masks[i * words + word];
                while mask != 0 {
                    let b = mask.trailing_zeros() as usize;
                    self.example[k] = (word * 64 + b) as u32;
                    self.expert[k] = i as u32;
                    self.gate[k] = chunk[b];
                    k += 1;
                    mask &= mask - 1;
                }
            }
        }
        self.by_example_start.clear();
        self.by_example_entry.clear();
    }

    /// Builds the example-major index (entries of each example, by increasing expert).
    pub(crate) fn build_by_example(&mut self, batch: usize) {
        self.by_example_start.clear();
        self.by_example_start.resize(batch + 1, 0);
        for &b in &self.example {
            self.by_example_start[b as usize + 1] += 1;
        }
        for b in 0..batch {
            self.by_example_start[b + 1] += self.by_example_start[b];
        }
        self.by_example_entry.clear();
        self.by_example_entry.resize(self.example.len(), 0);
        // Fill with a moving cursor per example, then restore the starts.
        for (k, &b) in self.example.iter().enumerate() {
            let slot = &mut self.by_example_start[b as usize];
            self.by_example_entry[*slot] = k as u32;
            *slot += 1;
        }
        for b in (1..=batch).rev() {
            self.by_example_start[b] = self.by_example_start[b - 1];
        }
        self.by_example_start[0] = 0;
    }

    /// The routed (example, expert) pairs — every non-zero gate — when the routes describe the
    /// last minibatch of `units` experts (the last forward pass used the gated kernels).
    pub fn entries(&self, units: usize) -> Option<impl Iterator<Item = (usize, usize)> + '_> {
        (self.start.len() == units + 1).then(|| {
            self.example
                .iter()
                .zip(&self.expert)
                .map(|(&b, &i)| (b as usize, i as usize))
        })
    }

    /// The examples routed to unit `i` and their values (empty for an unused unit).
    pub(crate) fn unit(&self, i: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.start[i], self.start[i + 1]);
        (&self.example[s..e], &self.gate[s..e])
    }

    /// The routed entries with the expert outputs `h` (one per entry), for the softmax layer's
    /// kernels.
    pub(crate) fn entries_of<'a>(&'a self, h: &'a [f32]) -> RoutedEntries<'a> {
        RoutedEntries {
            start: &self.start,
            example: &self.example,
            h,
            gate: &self.gate,
        }
    }

    /// Number of units the routes cover (0 when cleared).
    pub(crate) fn units(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Number of non-zero gates.
    pub fn active(&self) -> usize {
        self.example.len()
    }

    /// Number of experts at least one example uses.
    pub fn experts_used(&self) -> usize {
        self.start.windows(2).filter(|w| w[1] > w[0]).count()
    }
}

/// The memory-order values of h when it is column-major (unit i's gates at i·B..(i + 1)·B),
/// as the lanes hold it.
fn column_major<'a>(h: &'a ArrayView2<f32>) -> Option<&'a [f32]> {
    let (batch, units) = h.dim();
    let layout = h.strides().iter().all(|&s| s >= 0)
        && (batch <= 1 || units <= 1 || h.strides() == [1, batch as isize]);
    if layout {
        h.as_slice_memory_order()
    } else {
        None
    }
}

/// Bit b set where `values[b] ≠ 0` (NaN counts as non-zero), for up to 64 values: on x86-64
/// four values per SSE2 compare and mask extraction (SSE2 is part of every x86-64 CPU).
#[inline]
fn nonzero_mask(values: &[f32]) -> u64 {
    debug_assert!(values.len() <= 64);
    let mut mask = 0u64;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    for four in values.chunks_exact(4) {
        use std::arch::x86_64::{_mm_cmpneq_ps, _mm_loadu_ps, _mm_movemask_ps, _mm_setzero_ps};
        // SAFETY: `four` holds 4 floats; SSE2 is baseline on x86-64.
        let m = unsafe {
            _mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(four.as_ptr()), _mm_setzero_ps()))
        };
        mask |= u64::from(m as u32) << done;
        done += 4;
    }
    for (b, &v) in values[done..].iter().enumerate() {
        mask |= u64::from(v != 0.0) << (done + b);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn routes_list_every_non_zero_gate_in_order_for_any_batch_layout_and_instruction_set() {
        use ndarray::{Array2, ShapeBuilder};
        // Batches across the 4-value and 64-value word boundaries; NaN counts as on, -0 as off.
        for batch in [1usize, 3, 4, 31, 64, 65, 130] {
            let units = 7;
            let value = |b: usize, i: usize| match (b * 7 + i * 13) % 5 {
                0 => 1.5,
                1 => f32::NAN,
                2 => -0.0,
                _ => 0.0,
            };
            let expected: Vec<(usize, usize)> = (0..units)
                .flat_map(|i| (0..batch).map(move |b| (b, i)))
                .filter(|&(b, i)| value(b, i) != 0.0)
                .collect();
            for column_major in [false, true] {
                let h =
                    Array2::from_shape_fn((batch, units).set_f(column_major), |(b, i)| value(b, i));
                for portable in [false, true] {
                    let mut r = ExpertRoutes::with_capacity(batch, units);
                    // Twice, so that the second build starts from full lists.
                    for _ in 0..2 {
                        if portable {
                            r.build_portable(h.view());
                        } else {
                            r.build(h.view());
                        }
                    }
                    let case = format!("batch {batch}, column-major {column_major}, {portable}");
                    let got: Vec<(usize, usize)> = r.entries(units).expect("built").collect();
                    assert_eq!(got, expected, "{case}");
                    assert_eq!(r.active(), expected.len());
                    for (k, &(b, i)) in expected.iter().enumerate() {
                        assert_eq!(r.gate[k].to_bits(), h[[b, i]].to_bits(), "{case}");
                    }
                    let mut counted = 0;
                    for i in 0..units {
                        let (examples, _) = r.unit(i);
                        assert_eq!(r.start[i], counted, "{case}");
                        counted += examples.len();
                    }
                }
            }
        }
    }

    #[test]
    fn routes_index_both_ways() {
        let h = array![[0.0f32, 1.0, 0.5], [0.0, 0.0, 2.0], [3.0, 0.0, 0.0]];
        let mut r = ExpertRoutes::with_capacity(3, 3);
        r.build(h.view());
        assert_eq!(r.start, vec![0, 1, 2, 4]);
        assert_eq!(r.example, vec![2, 0, 0, 1]);
        assert_eq!(r.gate, vec![3.0, 1.0, 0.5, 2.0]);
        assert_eq!(r.active(), 4);
        assert_eq!(r.experts_used(), 3);
        r.build_by_example(3);
        assert_eq!(r.by_example_start, vec![0, 2, 3, 4]);
        let experts: Vec<u32> = r
            .by_example_entry
            .iter()
            .map(|&k| r.expert[k as usize])
            .collect();
        assert_eq!(experts, vec![1, 2, 2, 0]);
    }
}
