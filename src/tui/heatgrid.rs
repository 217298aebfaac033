//! Binning firing rates into the cells of the gate heatmap: thousands of gate units become the
//! rows available (each row the mean of `units_per_row` consecutive units, in index order, by
//! overall firing rate or by class selectivity), or, at full resolution, a window of the units
//! one per row; hundreds of recorded windows become the columns available (each column the
//! count-weighted mean of consecutive windows).

use std::cell::RefCell;

use super::app::UnitOrder;
use crate::engine::{ClassFiring, HeatRow};

/// Mean firing rates on a rows × columns grid.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatGrid {
    /// Columns (time windows or classes).
    pub columns: usize,
    /// Rows (groups of units).
    pub rows: usize,
    /// Units each row stands for (the last row may hold fewer).
    pub units_per_row: usize,
    /// Units in all.
    pub units: usize,
    /// The unit index of each row's first unit (in the order shown).
    pub row_units: Vec<usize>,
    /// The position in the order of the first unit shown (0 unless scrolled).
    pub first: usize,
    /// Units shown (all of them unless at full resolution).
    pub shown: usize,
    /// Row-major means in [0, 1].
    values: Vec<f32>,
}

impl HeatGrid {
    fn empty(units: usize) -> Self {
        HeatGrid {
            columns: 0,
            rows: 0,
            units_per_row: 0,
            units,
            row_units: Vec::new(),
            first: 0,
            shown: 0,
            values: Vec::new(),
        }
    }

    /// The mean firing rate of row `row` in column `column`.
    pub fn get(&self, row: usize, column: usize) -> Option<f32> {
        (row < self.rows && column < self.columns).then(|| self.values[row * self.columns + column])
    }

    /// The highest cell value (0 for an empty grid).
    pub fn max(&self) -> f32 {
        self.values.iter().copied().fold(0.0, f32::max)
    }

    /// True when the grid has no cell.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Everything a heatmap grid depends on: the lane, the mode, the cells available and the
/// extent of the data (a new or merged heat row changes the count or the last step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeatKey {
    /// Lane index.
    pub lane: usize,
    /// Units × class.
    pub by_class: bool,
    /// The order of the units.
    pub order: UnitOrder,
    /// One unit per row, from position `first` in the order.
    pub full: Option<usize>,
    /// Columns available.
    pub columns: usize,
    /// Rows available.
    pub rows: usize,
    /// Gate units.
    pub units: usize,
    /// Heat rows shown.
    pub points: usize,
    /// Step of the last heat row shown.
    pub last_step: u64,
    /// Step of the per-class snapshot shown.
    pub class_step: Option<u64>,
}

/// The last grid drawn and its key: drawing the same data again costs a comparison.
#[derive(Debug, Clone, Default)]
pub struct HeatCache {
    entry: RefCell<Option<(HeatKey, Option<HeatGrid>)>>,
}

impl HeatCache {
    /// The grid for `key`: the cached one when the key matches, else `compute()` (then cached).
    pub fn get_or_compute(
        &self,
        key: HeatKey,
        compute: impl FnOnce() -> Option<HeatGrid>,
    ) -> Option<HeatGrid> {
        if let Some((k, g)) = &*self.entry.borrow()
            && *k == key
        {
            return g.clone();
        }
        let g = compute();
        *self.entry.borrow_mut() = Some((key, g.clone()));
        g
    }
}

/// Units per row so that `units` fit in `max_rows` rows: ⌈units / max_rows⌉.
pub fn units_per_row(units: usize, max_rows: usize) -> usize {
    units.div_ceil(max_rows.max(1)).max(1)
}

/// How the units become rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every unit, binned into at most this many rows.
    Fit(usize),
    /// One unit per row: `rows` units from position `first` in the order (clamped so that the
    /// window stays full).
    Full {
        /// Position in the order of the first unit shown.
        first: usize,
        /// Rows available.
        rows: usize,
    },
}

/// How selective each unit is for one class in `snapshot`: with r_max its highest per-class
/// rate and r̄ the mean of its other classes' rates, (r_max − r̄) / (r_max + r̄), from 0 (fires
/// alike for every class, or never) to 1 (fires for one class only).
pub fn selectivity(snapshot: &ClassFiring) -> Vec<f32> {
    let (classes, units) = (snapshot.classes, snapshot.units);
    if classes < 2 || snapshot.rates.len() < classes * units {
        return vec![0.0; units];
    }
    (0..units)
        .map(|u| {
            let rates = (0..classes).map(|c| f32::from(snapshot.rates[c * units + u]));
            let (max, sum) = rates.fold((0f32, 0f32), |(m, s), r| (m.max(r), s + r));
            let others = (sum - max) / (classes - 1) as f32;
            if max + others > 0.0 {
                (max - others) / (max + others)
            } else {
                0.0
            }
        })
        .collect()
}

/// The display order of the units: by index; by `totals` (highest first); or by
/// [`selectivity`] in `snapshot` (most selective first; by index without a snapshot). Ties keep
/// index order.
pub fn order(
    units: usize,
    order: UnitOrder,
    totals: impl FnOnce() -> Vec<u64>,
    snapshot: Option<&ClassFiring>,
) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..units).collect();
    match order {
        UnitOrder::Index => {}
        UnitOrder::Rate => {
            let t = totals();
            if t.len() == units {
                idx.sort_by(|&a, &b| t[b].cmp(&t[a]).then(a.cmp(&b)));
            }
        }
        UnitOrder::Selectivity => {
            if let Some(snap) = snapshot.filter(|s| s.units == units) {
                let sel = selectivity(snap);
                idx.sort_by(|&a, &b| sel[b].total_cmp(&sel[a]).then(a.cmp(&b)));
            }
        }
    }
    idx
}

/// Bins per-column, per-unit sums (`sums[c · units + u]`, with `weights[c]` the divisor that
/// turns a sum into a rate in [0, 1]) into a grid, the units taken in `order`.
fn bin_units(sums: &[u32], weights: &[f64], units: usize, order: &[usize], rows: Rows) -> HeatGrid {
    let columns = weights.len();
    let (per_row, first, shown) = match rows {
        Rows::Fit(max_rows) => (units_per_row(units, max_rows), 0, units),
        Rows::Full { first, rows } => {
            let shown = rows.min(units);
            (1, first.min(units - shown), shown)
        }
    };
    let window = &order[first..first + shown];
    let n_rows = shown.div_ceil(per_row);
    let contiguous = order.iter().enumerate().all(|(i, &u)| i == u);
    let mut values = vec![0f32; n_rows * columns];
    for (c, (col, &w)) in sums.chunks_exact(units).zip(weights).enumerate() {
        for (r, group) in window.chunks(per_row).enumerate() {
            let s: u64 = if contiguous {
                col[group[0]..group[0] + group.len()]
                    .iter()
                    .map(|&v| v as u64)
                    .sum()
            } else {
                group.iter().map(|&u| col[u] as u64).sum()
            };
            values[r * columns + c] = (s as f64 / (w * group.len() as f64)) as f32;
        }
    }
    HeatGrid {
        columns,
        rows: n_rows,
        units_per_row: per_row,
        units,
        row_units: window.chunks(per_row).map(|g| g[0]).collect(),
        first,
        shown,
        values,
    }
}

/// Units × time: `history` (oldest first, each row's rates quantised to 0..=255) in at most
/// `max_columns` columns, the units in `unit_order` (`snapshot`: the per-class snapshot for
/// ordering by selectivity) made into `rows`. A column is the count-weighted mean of its
/// windows: Σ count·rate / Σ count.
pub fn over_time(
    history: &[&HeatRow],
    units: usize,
    unit_order: UnitOrder,
    snapshot: Option<&ClassFiring>,
    rows: Rows,
    max_columns: usize,
) -> HeatGrid {
    let n = history.len();
    let no_rows = match rows {
        Rows::Fit(r) => r == 0,
        Rows::Full { rows, .. } => rows == 0,
    };
    if n == 0 || units == 0 || max_columns == 0 || no_rows {
        return HeatGrid::empty(units);
    }
    let columns = n.min(max_columns);
    let mut sums = vec![0u32; columns * units];
    let mut weights = vec![0f64; columns];
    // Rows of equal count are summed in u16 (8 lanes per SSE register; 257 rows of 255 cannot
    // overflow), then the run is widened and weighted once.
    const RUN: usize = 257;
    let mut run = vec![0u16; units];
    for (c, acc) in sums.chunks_exact_mut(units).enumerate() {
        let rows = &history[c * n / columns..(c + 1) * n / columns];
        let mut count = 0u64;
        for same in rows.chunk_by(|a, b| a.count.max(1) == b.count.max(1)) {
            let k = same[0].count.max(1);
            count += k as u64 * same.len() as u64;
            for part in same.chunks(RUN) {
                run.fill(0);
                for row in part {
                    for (a, &r) in run.iter_mut().zip(&row.rates) {
                        *a += r as u16;
                    }
                }
                for (a, &r) in acc.iter_mut().zip(&run) {
                    *a += r as u32 * k;
                }
            }
        }
        weights[c] = 255.0 * count.max(1) as f64;
    }
    let totals = || {
        let mut t = vec![0u64; units];
        for col in sums.chunks_exact(units) {
            for (t, &s) in t.iter_mut().zip(col) {
                *t += s as u64;
            }
        }
        t
    };
    let order = order(units, unit_order, totals, snapshot);
    bin_units(&sums, &weights, units, &order, rows)
}

/// Units × class: one column per class of `snapshot`, the units in `unit_order` made into
/// `rows`.
pub fn by_class(snapshot: &ClassFiring, unit_order: UnitOrder, rows: Rows) -> HeatGrid {
    let (classes, units) = (snapshot.classes, snapshot.units);
    let no_rows = match rows {
        Rows::Fit(r) => r == 0,
        Rows::Full { rows, .. } => rows == 0,
    };
    if classes == 0 || units == 0 || no_rows || snapshot.rates.len() < classes * units {
        return HeatGrid::empty(units);
    }
    let sums: Vec<u32> = snapshot.rates[..classes * units]
        .iter()
        .map(|&r| r as u32)
        .collect();
    let totals = || {
        let mut t = vec![0u64; units];
        for col in sums.chunks_exact(units) {
            for (t, &s) in t.iter_mut().zip(col) {
                *t += s as u64;
            }
        }
        t
    };
    let order = order(units, unit_order, totals, Some(snapshot));
    bin_units(&sums, &vec![255.0; classes], units, &order, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64, rates: Vec<u8>) -> HeatRow {
        HeatRow {
            step,
            count: 1,
            rates,
        }
    }

    #[test]
    fn a_small_history_maps_one_to_one() {
        let h = [row(10, vec![0, 255, 51]), row(20, vec![255, 0, 102])];
        let refs: Vec<&HeatRow> = h.iter().collect();
        let g = over_time(&refs, 3, UnitOrder::Index, None, Rows::Fit(10), 10);
        assert_eq!((g.columns, g.rows, g.units_per_row), (2, 3, 1));
        assert_eq!(g.get(0, 0), Some(0.0));
        assert_eq!(g.get(1, 0), Some(1.0));
        assert_eq!(g.get(2, 1), Some(0.4));
        assert_eq!(g.get(3, 0), None);
        assert_eq!(g.max(), 1.0);
        // By rate: totals 255, 255, 153 keep the index order (ties by index) ...
        let g = over_time(&refs, 3, UnitOrder::Rate, None, Rows::Fit(10), 10);
        assert_eq!(g.get(0, 0), Some(0.0));
        assert_eq!(g.get(2, 1), Some(0.4));
        // ... totals 0, 255, 153 put unit 1 first, then 2, then 0.
        let h = [row(10, vec![0, 255, 51]), row(20, vec![0, 0, 102])];
        let refs: Vec<&HeatRow> = h.iter().collect();
        let g = over_time(&refs, 3, UnitOrder::Rate, None, Rows::Fit(10), 10);
        assert_eq!(g.get(0, 0), Some(1.0));
        assert_eq!(g.get(1, 1), Some(0.4));
        assert_eq!(g.get(2, 0), Some(0.0));
    }

    #[test]
    fn thousands_of_units_are_binned_to_the_rows_available() {
        let units = 2000;
        let rates: Vec<u8> = (0..units).map(|u| if u < 1000 { 255 } else { 0 }).collect();
        let h: Vec<HeatRow> = (0..300).map(|i| row(10 * i, rates.clone())).collect();
        let refs: Vec<&HeatRow> = h.iter().collect();
        let g = over_time(&refs, units, UnitOrder::Index, None, Rows::Fit(36), 70);
        assert_eq!(g.units_per_row, 56);
        assert_eq!(g.rows, 36);
        assert_eq!(g.columns, 70);
        // 1000/56 = 17.86: rows 0..=16 all firing, row 17 partly, the rest silent.
        assert_eq!(g.get(0, 69), Some(1.0));
        assert_eq!(g.get(16, 0), Some(1.0));
        assert!((g.get(17, 0).unwrap() - 48.0 / 56.0).abs() < 1e-6);
        assert_eq!(g.get(35, 0), Some(0.0));
    }

    #[test]
    fn columns_average_windows_weighted_by_their_counts() {
        let mut a = row(10, vec![255, 0]);
        a.count = 3;
        let mut b = row(20, vec![255, 255]);
        b.count = 3;
        let c = row(30, vec![0, 51]);
        let g = over_time(&[&a, &b, &c], 2, UnitOrder::Index, None, Rows::Fit(2), 1);
        assert_eq!(g.columns, 1);
        // Unit 0: (3·255 + 3·255 + 0) / (7·255); unit 1: (0 + 3·255 + 51) / (7·255).
        assert!((g.get(0, 0).unwrap() - 6.0 / 7.0).abs() < 1e-6);
        assert!((g.get(1, 0).unwrap() - 3.2 / 7.0).abs() < 1e-6);
    }

    #[test]
    fn per_class_grid_has_a_column_per_class() {
        let snap = ClassFiring {
            step: 5,
            classes: 2,
            units: 4,
            rates: vec![255, 255, 0, 0, 0, 0, 255, 255],
        };
        let g = by_class(&snap, UnitOrder::Index, Rows::Fit(2));
        assert_eq!((g.columns, g.rows, g.units_per_row), (2, 2, 2));
        assert_eq!(g.get(0, 0), Some(1.0));
        assert_eq!(g.get(0, 1), Some(0.0));
        assert_eq!(g.get(1, 1), Some(1.0));
        let bad = ClassFiring {
            rates: vec![1],
            ..snap
        };
        assert!(by_class(&bad, UnitOrder::Index, Rows::Fit(2)).is_empty());
    }

    #[test]
    fn the_cache_recomputes_only_for_a_new_key() {
        let cache = HeatCache::default();
        let key = HeatKey {
            lane: 0,
            by_class: false,
            order: UnitOrder::Index,
            full: None,
            columns: 10,
            rows: 10,
            units: 3,
            points: 1,
            last_step: 10,
            class_step: None,
        };
        let r = row(10, vec![0, 255, 51]);
        let calls = std::cell::Cell::new(0);
        let compute = || {
            calls.set(calls.get() + 1);
            Some(over_time(
                &[&r],
                3,
                UnitOrder::Index,
                None,
                Rows::Fit(10),
                10,
            ))
        };
        let a = cache.get_or_compute(key, compute);
        let b = cache.get_or_compute(key, compute);
        assert_eq!(a, b);
        assert_eq!(calls.get(), 1);
        let newer = HeatKey {
            last_step: 20,
            ..key
        };
        cache.get_or_compute(newer, compute);
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn nothing_to_show_gives_an_empty_grid() {
        assert!(over_time(&[], 10, UnitOrder::Index, None, Rows::Fit(10), 10).is_empty());
        let r = row(1, vec![1, 2]);
        assert!(over_time(&[&r], 2, UnitOrder::Index, None, Rows::Fit(10), 0).is_empty());
        assert!(over_time(&[&r], 2, UnitOrder::Index, None, Rows::Fit(0), 10).is_empty());
        assert!(over_time(&[&r], 0, UnitOrder::Index, None, Rows::Fit(10), 10).is_empty());
    }

    #[test]
    fn full_resolution_shows_a_window_of_single_units() {
        let units = 1000;
        let rates: Vec<u8> = (0..units).map(|u| (u % 256) as u8).collect();
        let h: Vec<HeatRow> = (0..50).map(|i| row(10 * i, rates.clone())).collect();
        let refs: Vec<&HeatRow> = h.iter().collect();
        let full = |first, rows| Rows::Full { first, rows };
        let g = over_time(&refs, units, UnitOrder::Index, None, full(300, 40), 20);
        assert_eq!(
            (g.units_per_row, g.rows, g.first, g.shown),
            (1, 40, 300, 40)
        );
        assert_eq!(g.row_units[0], 300);
        assert_eq!(g.get(0, 0), Some((300 % 256) as f32 / 255.0));
        assert_eq!(g.get(39, 19), Some((339 % 256) as f32 / 255.0));
        // Scrolled past the end: the window stays full.
        let g = over_time(&refs, units, UnitOrder::Index, None, full(990, 40), 20);
        assert_eq!((g.first, g.rows), (960, 40));
        // By rate: the units at 255 come first, then those at 254.
        let g = over_time(&refs, units, UnitOrder::Rate, None, full(0, 4), 20);
        assert_eq!(g.row_units, vec![255, 511, 767, 254]);
        assert_eq!(g.get(0, 0), Some(1.0));
    }

    #[test]
    fn selective_units_come_first_by_selectivity() {
        // Unit 0 fires for every class, unit 1 for class 1 only, unit 2 never, unit 3 for two.
        let snap = ClassFiring {
            step: 5,
            classes: 3,
            units: 4,
            rates: vec![200, 0, 0, 100, 200, 250, 0, 100, 200, 0, 0, 0],
        };
        let sel = selectivity(&snap);
        assert_eq!(sel[0], 0.0);
        assert_eq!(sel[1], 1.0);
        assert_eq!(sel[2], 0.0);
        assert!((sel[3] - 1.0 / 3.0).abs() < 1e-6, "{}", sel[3]);
        let by_sel = order(4, UnitOrder::Selectivity, Vec::new, Some(&snap));
        assert_eq!(by_sel, vec![1, 3, 0, 2]);
        let g = by_class(
            &snap,
            UnitOrder::Selectivity,
            Rows::Full { first: 0, rows: 4 },
        );
        assert_eq!(g.row_units, vec![1, 3, 0, 2]);
        assert_eq!(g.get(0, 1), Some(250.0 / 255.0));
        // Without a snapshot the order stays by index.
        assert_eq!(
            order(3, UnitOrder::Selectivity, Vec::new, None),
            vec![0, 1, 2]
        );
    }
}
