//! Pure computations behind the charts: debiased EMA smoothing, reduction of a series to the
//! chart's pixel columns, log scales, axis bounds and labels.

/// How the points falling into one pixel column are reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    /// Their mean (for smooth curves).
    Mean,
    /// Their minimum and maximum, in the order they occur (keeps spikes of noisy curves).
    MinMax,
}

/// Debiased exponential moving average of `(x, y, count)` points, where `count` raw steps were
/// averaged into the point: with a = `decay`^count,
/// m ← a·m + (1 − a)·y and w ← a·w + (1 − a), the output is m / w (w corrects the bias towards
/// the zero start, as TensorBoard does). Non-finite y are skipped.
pub fn smooth(points: impl Iterator<Item = (f64, f64, u32)>, decay: f64) -> Vec<(f64, f64)> {
    let mut m = 0.0;
    let mut w = 0.0;
    points
        .filter(|p| p.1.is_finite())
        .map(|(x, y, count)| {
            let a = decay.powi(count.max(1) as i32);
            m = a * m + (1.0 - a) * y;
            w = a * w + (1.0 - a);
            (x, if w > 0.0 { m / w } else { y })
        })
        .collect()
}

/// At most about `columns` (two per column for [`Reduce::MinMax`]) points standing for the
/// points of `points` (sorted by x) that lie in [x0, x1]; non-finite points are dropped.
pub fn downsample(
    points: &[(f64, f64)],
    x0: f64,
    x1: f64,
    columns: usize,
    reduce: Reduce,
) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * columns.min(points.len()));
    if columns == 0 || x1.partial_cmp(&x0) != Some(std::cmp::Ordering::Greater) {
        out.extend(
            points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite() && p.0 >= x0 && p.0 <= x1),
        );
        return out;
    }
    let scale = columns as f64 / (x1 - x0);
    // The column being filled: (column, sum x, sum y, n, first min/max index order).
    let mut current: Option<Bucket> = None;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) || x < x0 || x > x1 {
            continue;
        }
        let col = (((x - x0) * scale) as usize).min(columns - 1);
        match &mut current {
            Some(b) if b.col == col => b.add(x, y),
            _ => {
                if let Some(b) = current.take() {
                    b.emit(reduce, &mut out);
                }
                current = Some(Bucket::new(col, x, y));
            }
        }
    }
    if let Some(b) = current {
        b.emit(reduce, &mut out);
    }
    out
}

struct Bucket {
    col: usize,
    n: usize,
    sx: f64,
    sy: f64,
    min: (f64, f64),
    max: (f64, f64),
}

impl Bucket {
    fn new(col: usize, x: f64, y: f64) -> Self {
        Bucket {
            col,
            n: 1,
            sx: x,
            sy: y,
            min: (x, y),
            max: (x, y),
        }
    }

    fn add(&mut self, x: f64, y: f64) {
        self.n += 1;
        self.sx += x;
        self.sy += y;
        if y < self.min.1 {
            self.min = (x, y);
        }
        if y > self.max.1 {
            self.max = (x, y);
        }
    }

    fn emit(self, reduce: Reduce, out: &mut Vec<(f64, f64)>) {
        match reduce {
            Reduce::Mean => out.push((self.sx / self.n as f64, self.sy / self.n as f64)),
            Reduce::MinMax if self.min == self.max => out.push(self.min),
            Reduce::MinMax => {
                let (a, b) = if self.min.0 <= self.max.0 {
                    (self.min, self.max)
                } else {
                    (self.max, self.min)
                };
                out.push(a);
                out.push(b);
            }
        }
    }
}

/// The smallest value a log scale shows (zero and negative values are drawn here).
pub const LOG_FLOOR: f64 = 1e-12;

/// y on the chart's scale: log10(max(y, [`LOG_FLOOR`])) on a log scale, y otherwise.
pub fn scale(y: f64, log: bool) -> f64 {
    if log { y.max(LOG_FLOOR).log10() } else { y }
}

/// The y range covering every point of `series`, widened by 5% on each side (a flat series
/// gets ±max(5% of |y|, 0.05)); None when there is no finite point.
pub fn bounds<'a>(series: impl IntoIterator<Item = &'a [(f64, f64)]>) -> Option<[f64; 2]> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in series {
        for &(_, y) in s {
            if y.is_finite() {
                lo = lo.min(y);
                hi = hi.max(y);
            }
        }
    }
    if !lo.is_finite() {
        return None;
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        (0.05 * lo.abs()).max(0.05)
    };
    Some([lo - pad, hi + pad])
}

/// A number in at most about six characters: 0.0123, 1.23, 123, 12.3k, 1.2e-5.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        format!("{v}")
    } else if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{v:.1e}")
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 1e-3 {
        format!("{v:.3}")
    } else {
        format!("{v:.0e}")
    }
}

/// Three labels (bottom, middle, top) of a y axis with `bounds` on a linear or log scale.
pub fn y_labels(bounds: [f64; 2], log: bool) -> Vec<String> {
    let mid = 0.5 * (bounds[0] + bounds[1]);
    [bounds[0], mid, bounds[1]]
        .iter()
        .map(|&v| compact(if log { 10f64.powf(v) } else { v }))
        .collect()
}

/// Three labels (left, middle, right) of a step axis.
pub fn x_labels(x0: f64, x1: f64) -> Vec<String> {
    [x0, 0.5 * (x0 + x1), x1]
        .iter()
        .map(|&v| format!("{}", v.round() as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_debiased_and_tracks_a_constant_exactly() {
        let s = smooth((0..10).map(|i| (i as f64, 3.0, 1)), 0.9);
        assert!(s.iter().all(|&(_, y)| (y - 3.0).abs() < 1e-12));
        // Two points: m = 0.1·1, then 0.9·0.1 + 0.1·2 = 0.29; w = 0.1, then 0.19.
        let s = smooth([(0.0, 1.0, 1), (1.0, 2.0, 1)].into_iter(), 0.9);
        assert!((s[1].1 - 0.29 / 0.19).abs() < 1e-12);
        // A point standing for two steps weighs like two steps.
        let a = smooth([(0.0, 1.0, 1), (2.0, 5.0, 2)].into_iter(), 0.9);
        let b = smooth(
            [(0.0, 1.0, 1), (1.0, 5.0, 1), (2.0, 5.0, 1)].into_iter(),
            0.9,
        );
        assert!((a[1].1 - b[2].1).abs() < 1e-12);
        assert_eq!(smooth([(0.0, f64::NAN, 1)].into_iter(), 0.9), vec![]);
    }

    #[test]
    fn downsampling_keeps_one_or_two_points_per_column() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 5003 { 100.0 } else { (i % 7) as f64 }))
            .collect();
        let mean = downsample(&pts, 0.0, 9999.0, 100, Reduce::Mean);
        assert!(mean.len() <= 100 && mean.len() >= 99, "{}", mean.len());
        let mm = downsample(&pts, 0.0, 9999.0, 100, Reduce::MinMax);
        assert!(mm.len() <= 200);
        // The spike survives min/max reduction.
        assert!(mm.iter().any(|&(x, y)| x == 5003.0 && y == 100.0));
        // x stays sorted.
        assert!(mm.windows(2).all(|w| w[0].0 <= w[1].0));
        // Only the window is kept.
        let part = downsample(&pts, 2000.0, 2999.0, 50, Reduce::Mean);
        assert!(part.iter().all(|&(x, _)| (2000.0..=2999.0).contains(&x)));
        // Fewer points than columns: unchanged.
        let few = [(1.0, 2.0), (2.0, 3.0), (3.0, f64::NAN)];
        assert_eq!(
            downsample(&few, 0.0, 10.0, 80, Reduce::MinMax),
            few[..2].to_vec()
        );
        assert_eq!(
            downsample(&few, 1.0, 1.0, 80, Reduce::Mean),
            vec![(1.0, 2.0)]
        );
        assert_eq!(
            downsample(&few, 0.0, 10.0, 0, Reduce::Mean),
            few[..2].to_vec()
        );
    }

    #[test]
    fn bounds_and_labels() {
        assert_eq!(bounds([&[][..]]), None);
        let b = bounds([&[(0.0, 1.0), (1.0, 3.0)][..], &[(0.0, f64::NAN)][..]]).unwrap();
        assert!((b[0] - 0.9).abs() < 1e-12 && (b[1] - 3.1).abs() < 1e-12);
        let flat = bounds([&[(0.0, 0.0)][..]]).unwrap();
        assert!(flat[0] < 0.0 && flat[1] > 0.0);
        assert_eq!(y_labels([-2.0, 0.0], true), vec!["0.010", "0.100", "1.00"]);
        assert_eq!(y_labels([0.0, 2.0], false), vec!["0", "1.00", "2.00"]);
        assert_eq!(x_labels(0.0, 3000.0), vec!["0", "1500", "3000"]);
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(compact(3.1e-5), "3e-5");
        assert_eq!(scale(0.0, true), LOG_FLOOR.log10());
        assert_eq!(scale(0.0, false), 0.0);
    }
}
