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
    // Non-negative data (losses, error rates) keep a non-negative axis, from zero when the
    // data come within a quarter of the range of it.
    let bottom = if lo >= 0.0 {
        let b = (lo - pad).max(0.0);
        if b <= 0.25 * (hi + pad - b) { 0.0 } else { b }
    } else {
        lo - pad
    };
    Some([bottom, hi + pad])
}

/// A number in at most about six characters: 0.0123, 1.23, 123, 12.3k, 1.2e-5 (for a single
/// value; tick labels use [`tick_labels`], which formats a whole axis alike).
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

/// The smallest "nice" number (1, 2 or 5 × 10^k) at least `x` (> 0).
fn nice_ceil(x: f64) -> f64 {
    let e = x.log10().floor();
    let base = 10f64.powf(e);
    let m = x / base;
    let nice = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * base
}

/// Tick values 1, 2 or 5 × 10^k apart inside [lo, hi], at most `max` (≥ 2) of them, and their
/// spacing. A degenerate range gives the one value.
pub fn nice_ticks(lo: f64, hi: f64, max: usize) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (Vec::new(), 1.0);
    }
    let span = hi - lo;
    if span <= 0.0 {
        return (vec![lo], 1.0);
    }
    let max = max.max(2);
    let count = |step: f64| ((hi / step + 1e-9).floor() - (lo / step - 1e-9).ceil() + 1.0) as usize;
    // The finest nice step that gives at most `max` ticks.
    let mut step = nice_ceil(span / max as f64);
    while count(step) > max {
        step = nice_ceil(step * 1.5);
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let ticks = (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            if v == 0.0 { 0.0 } else { v }
        })
        .collect();
    (ticks, step)
}

/// `range` widened to the nearest multiples of the tick spacing that at most `max` ticks over
/// it would have, so that both ends of a linear axis carry a tick (never below zero when the
/// range is not).
pub fn snap(range: [f64; 2], max: usize) -> [f64; 2] {
    let (_, step) = nice_ticks(range[0], range[1], max);
    if !(step > 0.0 && range[1] > range[0]) {
        return range;
    }
    let lo = (range[0] / step + 1e-9).floor() * step;
    let hi = (range[1] / step - 1e-9).ceil() * step;
    let snapped = [if range[0] >= 0.0 { lo.max(0.0) } else { lo }, hi];
    // Not when the wider range would need coarser ticks.
    if nice_ticks(snapped[0], snapped[1], max).1 == step {
        snapped
    } else {
        range
    }
}

/// Labels for linear ticks `step` apart, all in one notation chosen from the largest: plain
/// decimals (as many as the step needs), thousands as "12.5k" from 10,000, millions as "2.5M"
/// from 10⁶, and scientific ("2e9", "5e-5") beyond; so an axis never mixes "8.2e6" and "382.6k".
pub fn tick_labels(ticks: &[f64], step: f64) -> Vec<String> {
    let top = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let step_exp = if step > 0.0 {
        step.log10().floor() as i32
    } else {
        0
    };
    let decimals = |shift: i32| (shift - step_exp).max(0) as usize;
    ticks
        .iter()
        .map(|&v| {
            if v == 0.0 {
                "0".to_string()
            } else if !(1e-3..1e9).contains(&top) {
                let e = top.log10().floor() as i32;
                let d = (e - step_exp).clamp(0, 3) as usize;
                let m = v / 10f64.powi(e);
                format!("{m:.d$}e{e}")
            } else if top >= 1e6 {
                format!("{:.*}M", decimals(6), v / 1e6)
            } else if top >= 1e4 {
                format!("{:.*}k", decimals(3), v / 1e3)
            } else {
                format!("{:.*}", decimals(0), v)
            }
        })
        .collect()
}

/// Ticks of a log10 axis over [lo, hi] (exponents), at most `max` of them: the decades in
/// range when there are three or more (every second, third, fifth… when there are many), else
/// 1, 2 and 5 times the powers of ten, and plain linear ticks when even those are too few.
/// Returns (position on the axis, label); the labels are plain numbers when every tick lies in
/// [0.001, 10⁵), else all scientific ("1e-6").
pub fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let max = max.max(2);
    let (first, last) = ((lo - 1e-9).ceil() as i64, (hi + 1e-9).floor() as i64);
    let decades = (last - first + 1).max(0) as usize;
    let mut values: Vec<f64> = Vec::new();
    if decades >= 3 {
        let every = [1usize, 2, 3, 5, 10, 20, 50]
            .into_iter()
            .find(|k| decades.div_ceil(*k) <= max)
            .unwrap_or(100) as i64;
        values = (first..=last)
            .filter(|e| (e - first) % every == 0)
            .map(|e| 10f64.powi(e as i32))
            .collect();
    } else {
        for e in (first - 1)..=(last + 1) {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e as i32);
                let p = v.log10();
                if p >= lo - 1e-9 && p <= hi + 1e-9 {
                    values.push(v);
                }
            }
        }
        if values.len() > max {
            values.retain(|v| {
                let m = v / 10f64.powf((v.log10() + 1e-9).floor());
                (m - 1.0).abs() < 1e-6 || (m - 5.0).abs() < 1e-6
            });
        }
        if values.len() < 2 {
            // Less than a factor of two and a half: plain ticks on the values.
            let (ticks, step) = nice_ticks(10f64.powf(lo), 10f64.powf(hi), max.min(4));
            let labels = tick_labels(&ticks, step);
            return ticks
                .into_iter()
                .zip(labels)
                .filter(|(v, _)| *v > 0.0)
                .map(|(v, l)| (v.log10(), l))
                .collect();
        }
    }
    let plain = values.iter().all(|&v| (1e-3..1e5).contains(&v));
    values
        .into_iter()
        .map(|v| {
            let label = if plain {
                let d = (-((v.log10() + 1e-9).floor() as i32)).max(0) as usize;
                format!("{v:.d$}")
            } else {
                let e = (v.log10() + 1e-9).floor() as i32;
                let m = v / 10f64.powi(e);
                if (m - 1.0).abs() < 1e-6 {
                    format!("1e{e}")
                } else {
                    format!("{m:.0}e{e}")
                }
            };
            (v.log10(), label)
        })
        .collect()
}

/// Ticks of an axis over `range` with at most `max` ticks: (position, label).
pub fn ticks(range: [f64; 2], log: bool, max: usize) -> Vec<(f64, String)> {
    if log {
        return log_ticks(range[0], range[1], max);
    }
    let (values, step) = nice_ticks(range[0], range[1], max);
    let labels = tick_labels(&values, step);
    values.into_iter().zip(labels).collect()
}

/// How far above the others a series may peak before it stops setting the scale: a lane
/// whose highest value shown is more than this many times the highest of every other lane is
/// drawn clipped at the top edge (see [`scale_setters`]).
pub const FAR_ABOVE: f64 = 3.0;

/// Which series set a chart's y range, given each one's peak (its highest finite value in the
/// window shown, on the data's own scale, not the axis's; None: nothing to show) and whether
/// it is excluded outright (a diverged or blowing-up lane). The rule: excluded series never
/// set it; of the others, the highest peak is dropped while it is more than [`FAR_ABOVE`] times
/// the next highest (and that one positive), so one runaway lane cannot flatten the rest.
/// When nothing is left (every lane excluded), every series with a peak sets the scale.
pub fn scale_setters(peaks: &[Option<f64>], excluded: &[bool]) -> Vec<bool> {
    let mut setters: Vec<bool> = peaks
        .iter()
        .zip(excluded)
        .map(|(p, &x)| p.is_some_and(f64::is_finite) && !x)
        .collect();
    if !setters.iter().any(|&s| s) {
        return peaks
            .iter()
            .map(|p| p.is_some_and(f64::is_finite))
            .collect();
    }
    loop {
        let mut order: Vec<usize> = (0..peaks.len()).filter(|&i| setters[i]).collect();
        if order.len() < 2 {
            break;
        }
        order.sort_by(|&a, &b| peaks[b].unwrap().total_cmp(&peaks[a].unwrap()));
        let (top, next) = (peaks[order[0]].unwrap(), peaks[order[1]].unwrap());
        if next > 0.0 && top > FAR_ABOVE * next {
            setters[order[0]] = false;
        } else {
            break;
        }
    }
    setters
}

/// Clamps a series into `range` (its points above the top drawn on the top edge, those below
/// on the bottom edge) and returns the x of each point where a run above the top begins: where
/// the chart marks it.
pub fn clip(points: &mut [(f64, f64)], range: [f64; 2]) -> Vec<f64> {
    let mut starts = Vec::new();
    let mut above = false;
    for p in points.iter_mut() {
        let over = p.1 > range[1];
        if over && !above {
            starts.push(p.0);
        }
        above = over;
        p.1 = p.1.clamp(range[0], range[1]);
    }
    starts
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
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(compact(3.1e-5), "3e-5");
        assert_eq!(scale(0.0, true), LOG_FLOOR.log10());
        assert_eq!(scale(0.0, false), 0.0);
    }

    fn labels(t: &[(f64, String)]) -> Vec<&str> {
        t.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_nice_and_labelled_alike() {
        let (t, step) = nice_ticks(0.0, 2.37, 6);
        assert_eq!(step, 0.5);
        assert_eq!(t, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(tick_labels(&t, step), vec!["0", "0.5", "1.0", "1.5", "2.0"]);
        assert_eq!(
            labels(&ticks([0.0, 5000.0], false, 6)),
            vec!["0", "1000", "2000", "3000", "4000", "5000"]
        );
        assert_eq!(
            labels(&ticks([0.0, 320_000.0], false, 5)),
            vec!["0", "100k", "200k", "300k"]
        );
        assert_eq!(
            labels(&ticks([0.0, 2.5e6], false, 4)),
            vec!["0", "1M", "2M"]
        );
        assert_eq!(
            labels(&ticks([0.0, 3e9], false, 4)),
            vec!["0", "1e9", "2e9", "3e9"]
        );
        assert_eq!(
            labels(&ticks([3.0, 7.4], false, 12)),
            vec![
                "3.0", "3.5", "4.0", "4.5", "5.0", "5.5", "6.0", "6.5", "7.0"
            ]
        );
        // Percentages to a tenth: ticks every 0.5 points.
        assert_eq!(
            labels(&ticks([4.1, 6.2], false, 5)),
            vec!["4.5", "5.0", "5.5", "6.0"]
        );
        // At most `max` ticks, and never none on a real range.
        for (lo, hi) in [(0.0, 1.0), (0.013, 0.0171), (-3.0, 1e7), (2.0, 2.0000001)] {
            for max in 2..10 {
                let t = ticks([lo, hi], false, max);
                assert!(
                    !t.is_empty() && t.len() <= max,
                    "{lo}..{hi} max {max}: {t:?}"
                );
                assert!(t.iter().all(|(v, _)| *v >= lo - 1e-12 && *v <= hi + 1e-12));
            }
        }
    }

    #[test]
    fn snapping_puts_ticks_at_both_ends() {
        assert_eq!(snap([5.45, 59.45], 5), [0.0, 60.0]);
        assert_eq!(snap([0.0, 2.37], 6), [0.0, 2.5]);
        // [0, 2.5] would need a tick every 1.0 with at most five: left as it is.
        assert_eq!(snap([0.0, 2.4], 5), [0.0, 2.4]);
        assert_eq!(snap([-0.3, 0.7], 8), [-0.4, 0.8]);
        assert_eq!(snap([1.0, 1.0], 6), [1.0, 1.0]);
    }

    #[test]
    fn log_ticks_never_mix_notations() {
        // The signal-to-noise axis of the issue: 10^5.4 to 10^6.9.
        let t = log_ticks(5.4, 6.9, 5);
        assert_eq!(labels(&t), vec!["5e5", "1e6", "2e6", "5e6"]);
        let t = log_ticks(-5.2, -1.9, 6);
        assert_eq!(labels(&t), vec!["1e-5", "1e-4", "1e-3", "1e-2"]);
        let t = log_ticks(-1.2, 0.4, 6);
        assert_eq!(labels(&t), vec!["0.1", "0.2", "0.5", "1", "2"]);
        let t = log_ticks(-12.0, 24.0, 5);
        assert!(t.len() <= 5 && t.len() >= 3, "{t:?}");
        // A narrow range inside one decade still gets ticks.
        let t = log_ticks(0.1, 0.25, 4);
        assert!(t.len() >= 2, "{t:?}");
        assert!(
            t.iter()
                .all(|(p, _)| (0.1 - 1e-9..=0.25 + 1e-9).contains(p)),
            "{t:?}"
        );
    }

    #[test]
    fn a_runaway_lane_does_not_set_the_scale() {
        let p = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        let none = [false; 4];
        // Everyone starts at 2.3; one lane peaks at 2500: it is dropped.
        assert_eq!(
            scale_setters(&p(&[2.3, 2.3, 2500.0, 2.4]), &none),
            vec![true, true, false, true]
        );
        // Two runaways, one far above the other: both go.
        assert_eq!(
            scale_setters(&p(&[0.4, 9.0, 5e23, 0.5]), &none),
            vec![true, false, false, true]
        );
        // Within a factor of three: everyone stays.
        assert_eq!(
            scale_setters(&p(&[0.4, 1.1, 0.5, 0.6]), &none),
            vec![true; 4]
        );
        // Excluded lanes (diverged, blowing up) never set it; all excluded: all do.
        assert_eq!(
            scale_setters(&p(&[0.4, 0.5, 0.3, 0.6]), &[false, true, false, false]),
            vec![true, false, true, true]
        );
        assert_eq!(
            scale_setters(&p(&[0.4, 0.5]), &[true, true]),
            vec![true, true]
        );
        assert_eq!(
            scale_setters(&[None, Some(1.0)], &[false, false]),
            vec![false, true]
        );
        // One lane alone always sets it.
        assert_eq!(scale_setters(&p(&[1e9]), &[false]), vec![true]);
    }

    #[test]
    fn clipping_marks_where_each_run_leaves_the_chart() {
        let mut pts = vec![
            (0.0, 1.0),
            (1.0, 5.0),
            (2.0, 6.0),
            (3.0, 1.0),
            (4.0, 9.0),
            (5.0, -1.0),
        ];
        let starts = clip(&mut pts, [0.0, 2.0]);
        assert_eq!(starts, vec![1.0, 4.0]);
        assert_eq!(
            pts.iter().map(|p| p.1).collect::<Vec<_>>(),
            vec![1.0, 2.0, 2.0, 1.0, 2.0, 0.0]
        );
    }
}
