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

/// Debiased exponential moving average, one point at a time: for a point standing for `count`
/// raw steps, with a = `decay`^count, m ← a·m + (1 − a)·y and w ← a·w + (1 − a); the smoothed
/// value is m / w (w corrects the bias towards the zero start, as TensorBoard does).
#[derive(Debug, Clone)]
pub struct Smoother {
    decay: f64,
    m: f64,
    w: f64,
    /// `decay`^count for the last count seen (counts rarely change).
    cached: (u32, f64),
}

impl Smoother {
    /// A smoother with per-step `decay`.
    pub fn new(decay: f64) -> Self {
        Smoother {
            decay,
            m: 0.0,
            w: 0.0,
            cached: (1, decay),
        }
    }

    /// Folds in `y` (standing for `count` steps) and returns the smoothed value.
    pub fn push(&mut self, y: f64, count: u32) -> f64 {
        let count = count.max(1);
        if self.cached.0 != count {
            self.cached = (count, self.decay.powi(count as i32));
        }
        let a = self.cached.1;
        self.m = a * self.m + (1.0 - a) * y;
        self.w = a * self.w + (1.0 - a);
        if self.w > 0.0 { self.m / self.w } else { y }
    }
}

/// [`Smoother`] over `(x, y, count)` points; non-finite y are skipped.
pub fn smooth(points: impl Iterator<Item = (f64, f64, u32)>, decay: f64) -> Vec<(f64, f64)> {
    let mut s = Smoother::new(decay);
    points
        .filter(|p| p.1.is_finite())
        .map(|(x, y, count)| (x, s.push(y, count)))
        .collect()
}

/// Reduces points arriving in increasing x to at most `columns` columns of [x0, x1] (two
/// points per column for [`Reduce::MinMax`]; for [`Reduce::Mean`] the mean of y weighted by
/// the raw steps each point stands for), one point at a time and without storing them: what
/// keeps a chart's cost independent of the length of the run.
#[derive(Debug, Clone)]
pub struct Columns {
    x0: f64,
    x1: f64,
    columns: usize,
    scale: f64,
    reduce: Reduce,
    current: Option<Bucket>,
    out: Vec<(f64, f64, u32)>,
}

impl Columns {
    /// An empty reduction of [x0, x1] to `columns` columns (0 columns or an empty range: every
    /// point in range is kept).
    pub fn new(x0: f64, x1: f64, columns: usize, reduce: Reduce) -> Self {
        let ok = columns > 0 && x1 > x0;
        Columns {
            x0,
            x1,
            columns,
            scale: if ok { columns as f64 / (x1 - x0) } else { 0.0 },
            reduce,
            current: None,
            out: Vec::with_capacity(2 * columns),
        }
    }

    /// Adds a point (x not below the previous one's); non-finite or out-of-range points are
    /// dropped.
    pub fn push(&mut self, x: f64, y: f64) {
        self.push_counted(x, y, 1);
    }

    /// Adds a point standing for `count` raw steps (its weight in a column's mean).
    pub fn push_counted(&mut self, x: f64, y: f64, count: u32) {
        if !(x.is_finite() && y.is_finite()) || x < self.x0 || x > self.x1 {
            return;
        }
        let count = count.max(1);
        if self.scale == 0.0 {
            self.out.push((x, y, count));
            return;
        }
        if let Some(b) = &mut self.current {
            if x < b.edge {
                b.add(x, y, count);
                return;
            }
            let done = self.current.take().expect("bucket");
            done.emit(self.reduce, &mut self.out);
        }
        let col = (((x - self.x0) * self.scale) as usize).min(self.columns - 1);
        let edge = if col + 1 >= self.columns {
            f64::INFINITY
        } else {
            self.x0 + (col + 1) as f64 / self.scale
        };
        self.current = Some(Bucket::new(edge, x, y, count));
    }

    /// The reduced points with the raw steps each stands for.
    pub fn finish_counted(mut self) -> Vec<(f64, f64, u32)> {
        if let Some(b) = self.current.take() {
            b.emit(self.reduce, &mut self.out);
        }
        self.out
    }

    /// The reduced points.
    pub fn finish(self) -> Vec<(f64, f64)> {
        self.finish_counted()
            .into_iter()
            .map(|(x, y, _)| (x, y))
            .collect()
    }
}

impl Columns {
    /// Adds a run of points sorted by x (non-finite y are dropped), column by column: a bisection finds where each column ends and a
    /// tight loop reduces it, so a point costs a few additions and no branch on its column.
    pub fn extend_sorted<T>(
        &mut self,
        points: &[T],
        x: impl Fn(&T) -> f64,
        y: impl Fn(&T) -> f64,
        count: impl Fn(&T) -> u32,
    ) {
        let mut rest = points;
        while let Some(first) = rest.first() {
            let fx = x(first);
            if self.scale == 0.0 || !fx.is_finite() || fx < self.x0 || fx > self.x1 {
                self.push_counted(fx, y(first), count(first));
                rest = &rest[1..];
                continue;
            }
            // Open (or continue) the column of the first point, then take every point before
            // its edge.
            if self.current.as_ref().is_none_or(|b| fx >= b.edge) {
                self.push_counted(fx, y(first), count(first));
                rest = &rest[1..];
            }
            let edge = self.current.as_ref().map_or(f64::INFINITY, |b| b.edge);
            let n = rest.partition_point(|p| x(p) < edge);
            if let Some(b) = &mut self.current {
                let run = &rest[..n];
                match self.reduce {
                    Reduce::Mean => {
                        for p in run {
                            let v = y(p);
                            if v.is_finite() {
                                let c = count(p).max(1);
                                b.n += 1;
                                b.w += c as u64;
                                b.sx += x(p);
                                b.swy += c as f64 * v;
                            }
                        }
                    }
                    Reduce::MinMax => {
                        for p in run {
                            let v = y(p);
                            if v.is_finite() {
                                b.n += 1;
                                b.w += count(p).max(1) as u64;
                                if v < b.min.1 {
                                    b.min = (x(p), v);
                                }
                                if v > b.max.1 {
                                    b.max = (x(p), v);
                                }
                            }
                        }
                    }
                }
            }
            rest = &rest[n..];
        }
    }
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
    let mut c = Columns::new(x0, x1, columns, reduce);
    points.iter().for_each(|&(x, y)| c.push(x, y));
    c.finish()
}

#[derive(Debug, Clone)]
struct Bucket {
    /// x where the next column starts.
    edge: f64,
    n: usize,
    /// Raw steps (the weights).
    w: u64,
    sx: f64,
    /// Σ count·y.
    swy: f64,
    min: (f64, f64),
    max: (f64, f64),
}

impl Bucket {
    fn new(edge: f64, x: f64, y: f64, count: u32) -> Self {
        Bucket {
            edge,
            n: 1,
            w: count as u64,
            sx: x,
            swy: count as f64 * y,
            min: (x, y),
            max: (x, y),
        }
    }

    fn add(&mut self, x: f64, y: f64, count: u32) {
        self.n += 1;
        self.w += count as u64;
        self.sx += x;
        self.swy += count as f64 * y;
        if y < self.min.1 {
            self.min = (x, y);
        }
        if y > self.max.1 {
            self.max = (x, y);
        }
    }

    fn emit(self, reduce: Reduce, out: &mut Vec<(f64, f64, u32)>) {
        let count = self.w.min(u32::MAX as u64) as u32;
        match reduce {
            Reduce::Mean => out.push((self.sx / self.n as f64, self.swy / self.w as f64, count)),
            Reduce::MinMax if self.min == self.max => out.push((self.min.0, self.min.1, count)),
            Reduce::MinMax => {
                let (a, b) = if self.min.0 <= self.max.0 {
                    (self.min, self.max)
                } else {
                    (self.max, self.min)
                };
                let half = count.div_ceil(2);
                out.push((a.0, a.1, half));
                out.push((b.0, b.1, half));
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
/// gets ±max(5% of |y|, 0.05)) but not below 0 when no point is negative; None when there is
/// no finite point.
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
    // Non-negative data (losses, error rates) keep a non-negative axis.
    let bottom = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    Some([bottom, hi + pad])
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
        assert!(flat[0] == 0.0 && flat[1] > 0.0);
        let near_zero = bounds([&[(0.0, 0.01), (1.0, 2.0)][..]]).unwrap();
        assert_eq!(near_zero[0], 0.0);
        let negative = bounds([&[(0.0, -1.0), (1.0, 1.0)][..]]).unwrap();
        assert!((negative[0] + 1.1).abs() < 1e-12);
        assert_eq!(y_labels([-2.0, 0.0], true), vec!["0.010", "0.100", "1.00"]);
        assert_eq!(y_labels([0.0, 2.0], false), vec!["0", "1.00", "2.00"]);
        assert_eq!(x_labels(0.0, 3000.0), vec!["0", "1500", "3000"]);
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(compact(3.1e-5), "3e-5");
        assert_eq!(scale(0.0, true), LOG_FLOOR.log10());
        assert_eq!(scale(0.0, false), 0.0);
    }
}
