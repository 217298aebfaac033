//! What the charts' x axis measures: training steps, examples seen, main-path evaluations or
//! wall time. Steps are not a fair clock between a lane that evaluates its loss four times a
//! step (REINFORCE leave-one-out, K = 4) and one that evaluates it once; evaluations and wall
//! time are.
//!
//! Each lane gets its own map from step to x ([`XMap`]), built from its step series: examples
//! seen are step × batch size; evaluations and wall time are the running sums of the points'
//! `evaluations` and `seconds`, each point weighted by the raw steps it stands for (`count`; a
//! merged point's values are means over its steps). Evaluation and probe points carry only
//! their step: they are placed by interpolating linearly between the step points around them.

use crate::engine::StepPoint;
use crate::history::LaneView;

/// The quantity on the charts' x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XAxis {
    /// Training steps.
    #[default]
    Steps,
    /// Training examples seen: step × batch size.
    Examples,
    /// Main-path forward passes (evaluations of the loss), summed over the steps.
    Evaluations,
    /// Measured wall time of the lane's steps, summed.
    WallTime,
}

impl XAxis {
    /// The cycle of the `t` key.
    pub const ALL: [XAxis; 4] = [
        XAxis::Steps,
        XAxis::Examples,
        XAxis::Evaluations,
        XAxis::WallTime,
    ];

    /// The next one in the cycle.
    pub fn next(self) -> XAxis {
        let i = Self::ALL.iter().position(|&a| a == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The axis name with its unit, for the chart.
    pub fn name(self) -> &'static str {
        match self {
            XAxis::Steps => "training steps",
            XAxis::Examples => "examples seen",
            XAxis::Evaluations => "main-path evaluations",
            XAxis::WallTime => "wall time (s)",
        }
    }

    /// A short word, for the status of the key.
    pub fn short(self) -> &'static str {
        match self {
            XAxis::Steps => "steps",
            XAxis::Examples => "examples",
            XAxis::Evaluations => "evaluations",
            XAxis::WallTime => "wall time",
        }
    }
}

/// One lane's map from step to x.
#[derive(Debug, Clone, PartialEq)]
pub enum XMap {
    /// x = step × factor (steps: 1; examples: the batch size).
    Linear(f64),
    /// x interpolated between knots (step, cumulative x), steps increasing, starting at (0, 0).
    Knots(Vec<(u64, f64)>),
}

impl XMap {
    /// The map of `lane` for `axis` (`batch`: examples per step).
    pub fn new(axis: XAxis, lane: &LaneView<'_>, batch: usize) -> XMap {
        let per_step: fn(&StepPoint) -> f64 = match axis {
            XAxis::Steps => return XMap::Linear(1.0),
            XAxis::Examples => return XMap::Linear(batch.max(1) as f64),
            XAxis::Evaluations => |p| f64::from(p.evaluations),
            XAxis::WallTime => |p| f64::from(p.seconds),
        };
        let mut knots = Vec::with_capacity(lane.steps.len() + 1);
        knots.push((0, 0.0));
        let mut sum = 0.0;
        for p in lane.steps.iter() {
            let v = per_step(p);
            if v.is_finite() {
                sum += v * f64::from(p.count.max(1));
            }
            knots.push((p.step, sum));
        }
        XMap::Knots(knots)
    }

    /// x at `step` (past the last knot: the last knot's x).
    pub fn at(&self, step: u64) -> f64 {
        match self {
            XMap::Linear(f) => step as f64 * f,
            XMap::Knots(k) => {
                let i = k.partition_point(|&(s, _)| s < step);
                match (i.checked_sub(1).map(|j| k[j]), k.get(i)) {
                    (_, Some(&(s, x))) if s == step => x,
                    (Some((s0, x0)), Some(&(s1, x1))) => {
                        x0 + (x1 - x0) * (step - s0) as f64 / (s1 - s0) as f64
                    }
                    (Some((_, x0)), None) => x0,
                    (None, Some(&(_, x))) => x,
                    (None, None) => 0.0,
                }
            }
        }
    }

    /// x of the point at index `i` of the lane's step series (for [`XMap::Knots`], exact).
    pub fn of_point(&self, i: usize, step: u64) -> f64 {
        match self {
            XMap::Linear(f) => step as f64 * f,
            XMap::Knots(k) => k.get(i + 1).map_or_else(|| self.at(step), |&(_, x)| x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Downsampled;
    use crate::history::LaneHistory;
    use crate::tui::synthetic::race;

    #[test]
    fn the_axis_cycles_through_the_four_clocks() {
        let mut a = XAxis::Steps;
        let mut seen = vec![];
        for _ in 0..4 {
            seen.push(a.short());
            a = a.next();
        }
        assert_eq!(seen, ["steps", "examples", "evaluations", "wall time"]);
        assert_eq!(a, XAxis::Steps);
    }

    fn lane_with(points: &[(u64, u32, f32)]) -> LaneHistory {
        let r = race(1, 1, 4);
        let mut h = r.lanes[0].clone();
        h.steps = Downsampled::new(64);
        for &(step, count, evaluations) in points {
            h.steps.push(StepPoint {
                step,
                count,
                evaluations,
                seconds: 0.5,
                ..StepPoint::default()
            });
        }
        h
    }

    #[test]
    fn cumulative_evaluations_weigh_merged_points_by_their_steps() {
        // Steps 1–4 at 4 evaluations each, then one point standing for steps 5–8 (mean 2).
        let h = lane_with(&[
            (1, 1, 4.0),
            (2, 1, 4.0),
            (3, 1, 4.0),
            (4, 1, 4.0),
            (8, 4, 2.0),
        ]);
        let v = h.view_until(u64::MAX);
        let m = XMap::new(XAxis::Evaluations, &v, 32);
        assert_eq!(m.at(0), 0.0);
        assert_eq!(m.at(4), 16.0);
        assert_eq!(m.at(8), 24.0);
        // Between knots: linear (an evaluation at step 6 lies halfway through the merged point).
        assert_eq!(m.at(6), 20.0);
        assert_eq!(m.at(100), 24.0);
        assert_eq!(m.of_point(4, 8), 24.0);
        let t = XMap::new(XAxis::WallTime, &v, 32);
        assert_eq!(t.at(8), 4.0);
        let e = XMap::new(XAxis::Examples, &v, 32);
        assert_eq!(e.at(8), 256.0);
        assert_eq!(XMap::new(XAxis::Steps, &v, 32).at(8), 8.0);
    }

    #[test]
    fn a_downsampled_history_keeps_its_total() {
        // A real recorder series that halved its resolution: the total is still the sum.
        let mut h = lane_with(&[]);
        h.steps = Downsampled::new(8);
        for step in 1..=100 {
            h.steps.push(StepPoint {
                step,
                count: 1,
                evaluations: if step % 2 == 0 { 4.0 } else { 2.0 },
                ..StepPoint::default()
            });
        }
        let v = h.view_until(u64::MAX);
        let m = XMap::new(XAxis::Evaluations, &v, 32);
        assert!((m.at(100) - 300.0).abs() < 1e-6, "{}", m.at(100));
        // A replay cursor ends the map where the view ends.
        let v = h.view_until(48);
        let m = XMap::new(XAxis::Evaluations, &v, 32);
        assert!(m.at(v.last_step()) <= 150.0);
    }
}
