//! Lanes over seeds. A race of several seeds runs every lane once per seed; the dashboard shows
//! a lane as one thing — one colour, one legend item, one leaderboard row — made of its runs
//! (the recorder's lanes of the same name, one per seed). With one seed a lane is its one run,
//! and everything is drawn as before.
//!
//! Charts show, per lane and per pixel column, the mean over the runs that have a value there,
//! with a band of ± one sample standard deviation across them
//! (s = √(Σ(yᵢ − ȳ)² / (n − 1)), drawn where n ≥ 2); or every run's own curve; or the mean
//! alone ([`SeedView`], the `e` key). Quantities drawn on a log axis are averaged as logarithms
//! (a geometric mean and a band of a factor). The leaderboard gives the mean ± the 95%
//! confidence interval (Student's t, see [`crate::stats::MeanInterval`]) and n.

use crate::history::LaneSummary;
use crate::stats::MeanInterval;

/// How the charts draw a lane that ran with several seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedView {
    /// The mean over the seeds with a band of ± one standard deviation.
    #[default]
    Band,
    /// Every seed's own curve.
    All,
    /// The mean alone.
    Mean,
}

impl SeedView {
    /// The next one of the `e` key.
    pub fn next(self) -> SeedView {
        match self {
            SeedView::Band => SeedView::All,
            SeedView::All => SeedView::Mean,
            SeedView::Mean => SeedView::Band,
        }
    }

    /// Its name, for the notice and the charts' bottom line.
    pub fn name(self) -> &'static str {
        match self {
            SeedView::Band => "mean ± sd",
            SeedView::All => "every seed",
            SeedView::Mean => "mean",
        }
    }
}

/// One pixel column of a lane over its runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Across {
    /// x (the mean of the runs' x in the column).
    pub x: f64,
    /// Mean of the runs' values.
    pub mean: f64,
    /// Sample standard deviation across the runs (None with one).
    pub sd: Option<f64>,
    /// Runs with a value in the column.
    pub n: usize,
}

/// The runs' curves `runs` (each sorted by x) combined column by column over `columns`
/// columns of [x0, x1]: in each column, each run's mean value there, then their mean and
/// sample standard deviation. Non-finite points are dropped; with no columns or an empty range,
/// points are matched by equal x.
pub fn across(runs: &[Vec<(f64, f64)>], x0: f64, x1: f64, columns: usize) -> Vec<Across> {
    let span = x1 - x0;
    let bucket = |x: f64| -> i64 {
        if columns == 0 || span.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            x.to_bits() as i64
        } else {
            (((x - x0) / span * columns as f64).floor() as i64).clamp(0, columns as i64 - 1)
        }
    };
    // (bucket, x, run's mean y in the bucket) per run.
    let mut cells: Vec<(i64, f64, f64)> = Vec::new();
    for run in runs {
        let mut current: Option<(i64, f64, f64, usize)> = None;
        for &(x, y) in run {
            if !x.is_finite() || !y.is_finite() {
                continue;
            }
            let b = bucket(x);
            match &mut current {
                Some((cb, sx, sy, n)) if *cb == b => {
                    *sx += x;
                    *sy += y;
                    *n += 1;
                }
                _ => {
                    if let Some((cb, sx, sy, n)) = current.take() {
                        cells.push((cb, sx / n as f64, sy / n as f64));
                    }
                    current = Some((b, x, y, 1));
                }
            }
        }
        if let Some((cb, sx, sy, n)) = current {
            cells.push((cb, sx / n as f64, sy / n as f64));
        }
    }
    cells.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let b = cells[i].0;
        let j = i + cells[i..].iter().take_while(|c| c.0 == b).count();
        let group = &cells[i..j];
        let n = group.len();
        let x = group.iter().map(|c| c.1).sum::<f64>() / n as f64;
        let mean = group.iter().map(|c| c.2).sum::<f64>() / n as f64;
        let sd = (n > 1).then(|| {
            (group.iter().map(|c| (c.2 - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        out.push(Across { x, mean, sd, n });
        i = j;
    }
    out
}

/// A lane's leaderboard row over its runs' rows: each value the mean over the runs that have
/// it; steps the fewest any run has taken (how far the whole lane is); the status of the first
/// run that is not done (else the first's); flags set when any run's is.
pub fn summary(rows: &[&LaneSummary]) -> Option<LaneSummary> {
    let first = *rows.first()?;
    let mean = |f: &dyn Fn(&LaneSummary) -> Option<f32>| -> Option<f32> {
        let v: Vec<f64> = rows.iter().filter_map(|r| f(r).map(f64::from)).collect();
        MeanInterval::of(&v).map(|m| m.mean as f32)
    };
    let status = rows
        .iter()
        .find(|r| r.status != crate::engine::LaneStatus::Done)
        .map_or(first.status, |r| r.status);
    Some(LaneSummary {
        name: first.name.clone(),
        estimator: first.estimator.clone(),
        steps: rows.iter().map(|r| r.steps).min().unwrap_or(0),
        train_loss: mean(&|r| r.train_loss),
        heldout_error: mean(&|r| r.heldout_error),
        heldout_loss: mean(&|r| r.heldout_loss),
        firing_rate: mean(&|r| r.firing_rate),
        off_target: rows.iter().any(|r| r.off_target),
        blowing_up: rows.iter().any(|r| r.blowing_up),
        compute_saved: mean(&|r| r.compute_saved),
        net_compute_saved: mean(&|r| r.net_compute_saved),
        seconds_per_step: mean(&|r| r.seconds_per_step),
        examples_per_second: mean(&|r| r.examples_per_second),
        status,
    })
}

/// The mean and 95% interval of `f` over the runs' rows that have it.
pub fn interval(
    rows: &[&LaneSummary],
    f: impl Fn(&LaneSummary) -> Option<f32>,
) -> Option<MeanInterval> {
    let v: Vec<f64> = rows.iter().filter_map(|r| f(r).map(f64::from)).collect();
    MeanInterval::of(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Recorder;
    use crate::tui::synthetic;

    #[test]
    fn runs_of_one_name_are_one_lane() {
        let r = synthetic::seeded(3, 2, 50);
        assert_eq!(r.lanes.len(), 6);
        assert_eq!(r.lanes_by_name(), vec![vec![0, 3], vec![1, 4], vec![2, 5]]);
        assert_eq!(
            synthetic::recorder(3, 10).lanes_by_name(),
            vec![vec![0], vec![1], vec![2]]
        );
        assert!(Recorder::new().lanes_by_name().is_empty());
    }

    #[test]
    fn columns_combine_into_mean_and_sd() {
        let a = vec![(0.1, 1.0), (0.6, 3.0)];
        let b = vec![(0.2, 3.0), (0.7, f64::NAN)];
        let c = across(&[a, b], 0.0, 1.0, 2);
        assert_eq!(c.len(), 2);
        assert!((c[0].x - 0.15).abs() < 1e-12 && c[0].mean == 2.0 && c[0].n == 2);
        // s = √((1 + 1) / 1).
        assert!((c[0].sd.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!((c[1].mean, c[1].sd, c[1].n), (3.0, None, 1));
        assert!(across(&[], 0.0, 1.0, 10).is_empty());
        // No columns: equal x match.
        let c = across(
            &[vec![(1.0, 1.0)], vec![(1.0, 2.0)], vec![(2.0, 5.0)]],
            0.0,
            0.0,
            0,
        );
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].mean, c[0].n), (1.5, 2));
    }
}
