//! A read-only view of a [`Recorder`] limited to the points recorded up to a step: what the
//! dashboard shows at a replay cursor (and, with no limit, live). Building a view costs one
//! bisection per series; nothing is copied.

use super::recorder::{LaneHistory, LaneSummary, Recorder};
use super::series::{Merge, Prefix};
use crate::engine::{
    ClassFiring, EvalPoint, HeatRow, LaneInfo, LaneStatus, ProbePoint, RaceInfo, StepPoint,
    TrajectoryPoint,
};

/// The race as recorded up to step `until` (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct RaceView<'a> {
    /// The whole record.
    pub recorder: &'a Recorder,
    /// The last step shown (`u64::MAX`: everything).
    pub until: u64,
}

/// One lane as recorded up to a step.
#[derive(Debug, Clone, Copy)]
pub struct LaneView<'a> {
    /// Name, estimator, settings.
    pub info: &'a LaneInfo,
    /// Training metrics.
    pub steps: Prefix<'a, StepPoint>,
    /// Held-out evaluations.
    pub evals: Prefix<'a, EvalPoint>,
    /// Estimator-variance probes.
    pub probes: Prefix<'a, ProbePoint>,
    /// Same-trajectory probes.
    pub trajectory: Prefix<'a, TrajectoryPoint>,
    /// Per-unit firing rates over time.
    pub heat: Prefix<'a, HeatRow>,
    /// Raw steps per stored training point.
    pub stride: u64,
    /// The latest per-class firing snapshot taken at or before the limit.
    pub class_firing: Option<&'a ClassFiring>,
    /// Status at the limit.
    pub status: LaneStatus,
}

impl Recorder {
    /// The record up to step `until` (inclusive).
    pub fn view_until(&self, until: u64) -> RaceView<'_> {
        RaceView {
            recorder: self,
            until,
        }
    }

    /// The whole record.
    pub fn view(&self) -> RaceView<'_> {
        self.view_until(u64::MAX)
    }
}

impl<'a> RaceView<'a> {
    /// The race (None before it started).
    pub fn info(&self) -> Option<&'a RaceInfo> {
        self.recorder.info.as_ref()
    }

    /// Number of lanes.
    pub fn lane_count(&self) -> usize {
        self.recorder.lanes.len()
    }

    /// Lane `index`.
    pub fn lane(&self, index: usize) -> Option<LaneView<'a>> {
        self.recorder
            .lanes
            .get(index)
            .map(|h| h.view_until(self.until))
    }

    /// Every lane, in order.
    pub fn lanes(&self) -> impl Iterator<Item = LaneView<'a>> + 'a {
        let until = self.until;
        self.recorder.lanes.iter().map(move |h| h.view_until(until))
    }

    /// The furthest step any lane reached by the limit.
    pub fn step(&self) -> u64 {
        self.lanes().map(|l| l.last_step()).max().unwrap_or(0)
    }

    /// Leaderboard rows at the limit, in lane order.
    pub fn summaries(&self) -> Vec<LaneSummary> {
        let batch = self.info().map_or(1, |i| i.batch_size);
        self.lanes().map(|l| l.summary(batch)).collect()
    }
}

impl LaneHistory {
    /// This lane up to step `until` (inclusive).
    pub fn view_until(&self, until: u64) -> LaneView<'_> {
        let last = self.last_step();
        let status = if until >= last {
            self.status
        } else {
            self.events
                .iter()
                .take_while(|e| e.step <= until)
                .last()
                .map_or(LaneStatus::Running, |e| e.status)
        };
        LaneView {
            info: &self.info,
            steps: self.steps.prefix(|p| p.step <= until),
            evals: self.evals.prefix(|p| p.step <= until),
            probes: self.probes.prefix(|p| p.step <= until),
            trajectory: self.trajectory.prefix(|p| p.step <= until),
            heat: self.heat.prefix(|p| p.step <= until),
            stride: self.steps.stride(),
            class_firing: self.class_firing.as_ref().filter(|c| c.step <= until),
            status,
        }
    }
}

/// Raw steps over which the leaderboard's firing rate, and the off-target rule, average the
/// training firing rate: two epochs of the embedded digits at batch 32, long enough that the
/// per-step noise (a few tenths of a point) averages out, short enough to show drift.
pub const FIRING_WINDOW: u64 = 500;

/// How far the windowed firing rate may stray from the lane's target before the lane is "off
/// target": the adaptive penalty's dead band (±0.01) plus as much again for its lag.
pub const FIRING_TOLERANCE: f32 = 0.02;

/// A lane off target comes back on target once within this much of it (less than
/// [`FIRING_TOLERANCE`], so that a rate hovering at the edge does not flip back and forth).
pub const FIRING_BACK_WITHIN: f32 = 0.015;

/// Steps before which no lane is judged: every lane starts far from its target (the gates fire
/// about half the time at initialisation) and needs this long to reach it.
pub const FIRING_JUDGED_FROM: u64 = 2 * FIRING_WINDOW;

/// A stretch of training during which a lane's firing rate, averaged over the last
/// [`FIRING_WINDOW`] steps, stayed more than [`FIRING_TOLERANCE`] from its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OffTarget {
    /// The step at which the windowed rate first strayed.
    pub from: u64,
    /// The step at which it came back within [`FIRING_BACK_WITHIN`] (None: still off target).
    pub until: Option<u64>,
    /// The windowed rate furthest from the target during the stretch.
    pub worst: f32,
}

/// How many times its starting training loss a lane's loss must exceed, at every recorded point
/// of [`BLOWUP_WINDOW`] steps, for the lane to be "blowing up".
pub const BLOWUP_FACTOR: f32 = 4.0;

/// Steps the loss must stay above [`BLOWUP_FACTOR`] × its start (and, to end a blow-up, below
/// [`BLOWUP_BACK_BELOW`] × its start).
pub const BLOWUP_WINDOW: u64 = 100;

/// A blow-up ends once the loss stayed below this many times its start for [`BLOWUP_WINDOW`]
/// steps (less than [`BLOWUP_FACTOR`], so that a loss hovering at the edge does not flip back
/// and forth).
pub const BLOWUP_BACK_BELOW: f32 = 2.0;

/// A stretch of training during which a lane's loss ran away while staying finite (held there
/// by the max-norm constraint, say): a lane the engine cannot call diverged, whose loss is far
/// above where it started. The rule, over the recorded points (each the mean of `count` raw
/// steps in a long history): the lane starts at the loss of its first recorded point, L₀; it is
/// blowing up from the first point at which every point covering the last [`BLOWUP_WINDOW`]
/// steps had a loss above [`BLOWUP_FACTOR`] × L₀ (or not finite), and stops at the first point
/// at which every point covering the last [`BLOWUP_WINDOW`] steps was below
/// [`BLOWUP_BACK_BELOW`] × L₀.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlowUp {
    /// The step at which the rule first held.
    pub from: u64,
    /// The step at which the loss came back (None: still blowing up).
    pub until: Option<u64>,
    /// The highest loss recorded during the stretch.
    pub worst: f32,
    /// The loss the lane started at, L₀.
    pub start: f32,
}

/// A lane's budget: main-path forward passes (evaluations of the loss), per step and in all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Evaluations per step over the last ~50 steps.
    pub per_step: f32,
    /// Evaluations since the start of the run.
    pub total: f64,
}

impl LaneView<'_> {
    /// The training firing rate averaged over the last [`FIRING_WINDOW`] steps (fewer at the
    /// start of a run).
    pub fn windowed_firing_rate(&self) -> Option<f32> {
        self.recent(FIRING_WINDOW).map(|p| p.firing_rate)
    }

    /// Every stretch during which the lane was off target (see [`OffTarget`]), oldest first;
    /// empty for lanes without a firing-rate target (the dense and sigmoid reference lanes, whose gates
    /// are never exactly zero). The rule is evaluated at every recorded point from step
    /// [`FIRING_JUDGED_FROM`] on, over the points covering the last [`FIRING_WINDOW`] steps.
    pub fn off_target(&self) -> Vec<OffTarget> {
        let settings = &self.info.settings;
        if !settings.estimator.targets_firing_rate() {
            return Vec::new();
        }
        let target = settings.sparsity_target;
        let points: Vec<&StepPoint> = self.steps.iter().collect();
        let (mut sum, mut covered, mut first) = (0.0f64, 0u64, 0usize);
        let mut spans = Vec::new();
        let mut open: Option<OffTarget> = None;
        for p in &points {
            sum += f64::from(p.firing_rate) * f64::from(p.count);
            covered += u64::from(p.count);
            // Drop the oldest points while the rest still cover the window.
            while covered - u64::from(points[first].count) >= FIRING_WINDOW {
                let old = points[first];
                sum -= f64::from(old.firing_rate) * f64::from(old.count);
                covered -= u64::from(old.count);
                first += 1;
            }
            if p.step < FIRING_JUDGED_FROM || covered < FIRING_WINDOW {
                continue;
            }
            let rate = (sum / covered as f64) as f32;
            let off = (rate - target).abs();
            match &mut open {
                None if off > FIRING_TOLERANCE => {
                    open = Some(OffTarget {
                        from: p.step,
                        until: None,
                        worst: rate,
                    });
                }
                Some(span) if off <= FIRING_BACK_WITHIN => {
                    span.until = Some(p.step);
                    spans.extend(open.take());
                }
                Some(span) if off > (span.worst - target).abs() => span.worst = rate,
                _ => {}
            }
        }
        spans.extend(open);
        spans
    }

    /// Every stretch during which the lane's loss was blowing up (see [`BlowUp`]), oldest
    /// first.
    pub fn blow_ups(&self) -> Vec<BlowUp> {
        let Some(start) = self.steps.iter().next().map(|p| p.cross_entropy) else {
            return Vec::new();
        };
        if !(start.is_finite() && start > 0.0) {
            return Vec::new();
        }
        let (high, back) = (BLOWUP_FACTOR * start, BLOWUP_BACK_BELOW * start);
        let points: Vec<&StepPoint> = self.steps.iter().collect();
        // Over the points covering the window: how many are not above `high`, how many are not
        // below `back`.
        let (mut covered, mut first, mut not_high, mut not_low) = (0u64, 0usize, 0usize, 0usize);
        let is_high = |p: &StepPoint| !p.cross_entropy.is_finite() || p.cross_entropy > high;
        let is_low = |p: &StepPoint| p.cross_entropy.is_finite() && p.cross_entropy < back;
        let mut spans = Vec::new();
        let mut open: Option<BlowUp> = None;
        for p in &points {
            covered += u64::from(p.count.max(1));
            not_high += usize::from(!is_high(p));
            not_low += usize::from(!is_low(p));
            while covered - u64::from(points[first].count.max(1)) >= BLOWUP_WINDOW {
                let old = points[first];
                covered -= u64::from(old.count.max(1));
                not_high -= usize::from(!is_high(old));
                not_low -= usize::from(!is_low(old));
                first += 1;
            }
            if covered < BLOWUP_WINDOW {
                continue;
            }
            let loss = if p.cross_entropy.is_finite() {
                p.cross_entropy
            } else {
                f32::INFINITY
            };
            match &mut open {
                None if not_high == 0 => {
                    let worst = points[first..]
                        .iter()
                        .map(|q| {
                            if q.cross_entropy.is_finite() {
                                q.cross_entropy
                            } else {
                                f32::INFINITY
                            }
                        })
                        .fold(loss, f32::max);
                    open = Some(BlowUp {
                        from: p.step,
                        until: None,
                        worst,
                        start,
                    });
                }
                Some(span) if not_low == 0 => {
                    span.until = Some(p.step);
                    spans.extend(open.take());
                }
                Some(span) if loss > span.worst => span.worst = loss,
                _ => {}
            }
        }
        spans.extend(open);
        spans
    }

    /// Whether the lane is blowing up at the end of the view.
    pub fn is_blowing_up(&self) -> bool {
        self.blow_ups().last().is_some_and(|s| s.until.is_none())
    }

    /// Main-path evaluations per step (over the last ~50 steps) and since the start; None
    /// before the first step.
    pub fn budget(&self) -> Option<Budget> {
        let recent = self.recent(50)?;
        let total = self
            .steps
            .iter()
            .map(|p| f64::from(p.evaluations) * f64::from(p.count.max(1)))
            .sum();
        Some(Budget {
            per_step: recent.evaluations,
            total,
        })
    }

    /// Whether the lane is off target at the end of the view.
    pub fn is_off_target(&self) -> bool {
        self.off_target().last().is_some_and(|s| s.until.is_none())
    }

    /// Last step recorded.
    pub fn last_step(&self) -> u64 {
        self.steps.last().map_or(0, |p| p.step)
    }

    /// Averages of the step points covering (about) the last `raw_steps` steps.
    pub fn recent(&self, raw_steps: u64) -> Option<StepPoint> {
        let mut acc: Option<StepPoint> = None;
        let mut covered = 0u64;
        for p in self.steps.iter().rev() {
            if covered >= raw_steps {
                break;
            }
            covered += p.count as u64;
            acc = Some(match acc {
                None => *p,
                Some(newer) => {
                    let mut older = *p;
                    older.merge(&newer);
                    older
                }
            });
        }
        acc
    }

    /// The leaderboard line of this lane: training loss, compute savings and speed over the
    /// last ~50 steps; the firing rate over the last [`FIRING_WINDOW`] steps, and whether the
    /// lane is off target; the latest held-out evaluation. Savings are
    /// 1 − active/dense main-path multiply-adds, and net of the gater 1 − (active + gater)/dense.
    pub fn summary(&self, batch_size: usize) -> LaneSummary {
        let recent = self.recent(50);
        let eval = self.evals.last().copied();
        let (train_loss, seconds, savings, net_savings) = match recent {
            Some(r) => {
                let dense = r.dense_main_macs.max(1.0);
                (
                    Some(r.cross_entropy),
                    Some(r.seconds),
                    Some((1.0 - r.active_main_macs / dense) as f32),
                    Some((1.0 - (r.active_main_macs + r.gater_macs) / dense) as f32),
                )
            }
            None => (None, None, None, None),
        };
        LaneSummary {
            name: self.info.name.clone(),
            estimator: self.info.estimator.clone(),
            steps: self.last_step(),
            train_loss,
            heldout_error: eval.map(|e| e.error),
            heldout_loss: eval.map(|e| e.loss),
            firing_rate: self.windowed_firing_rate(),
            off_target: self.is_off_target(),
            blowing_up: self.is_blowing_up(),
            compute_saved: savings,
            net_compute_saved: net_savings,
            seconds_per_step: seconds,
            examples_per_second: seconds.filter(|s| *s > 0.0).map(|s| batch_size as f32 / s),
            status: self.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LaneSettings;
    use crate::engine::EngineEvent;
    use crate::estimators::{EstimatorSpec, Family, StraightThroughVariant};
    use crate::history::recorder::LaneEvent;

    fn lane_info(name: &str) -> LaneInfo {
        LaneInfo {
            name: name.into(),
            estimator: "straight-through (identity)".into(),
            family: Family::StraightThrough,
            settings: LaneSettings::paper(EstimatorSpec::StraightThrough {
                variant: StraightThroughVariant::Identity,
            }),
            seed: Some(1),
        }
    }

    fn point(step: u64, loss: f32) -> StepPoint {
        StepPoint {
            step,
            count: 1,
            cross_entropy: loss,
            firing_rate: 0.1,
            dense_main_macs: 100.0,
            active_main_macs: 10.0,
            gater_macs: 20.0,
            seconds: 0.01,
            ..StepPoint::default()
        }
    }

    fn history() -> LaneHistory {
        let mut h = LaneHistory::new(lane_info("a"));
        for s in 1..=100 {
            h.steps.push(point(s, s as f32));
            if s % 10 == 0 {
                h.evals.push(EvalPoint {
                    step: s,
                    count: 1,
                    loss: 1.0,
                    error: s as f32 / 1000.0,
                    firing_rate: 0.1,
                });
            }
        }
        h.status = LaneStatus::Done;
        h.events.push(LaneEvent {
            step: 100,
            status: LaneStatus::Done,
        });
        h
    }

    #[test]
    fn a_view_holds_exactly_the_points_up_to_its_step() {
        let h = history();
        let v = h.view_until(35);
        assert_eq!(v.last_step(), 35);
        assert_eq!(v.steps.len(), 35);
        assert_eq!(v.evals.len(), 3);
        assert_eq!(v.evals.last().unwrap().step, 30);
        assert_eq!(v.status, LaneStatus::Running);
        let s = v.summary(32);
        assert_eq!(s.steps, 35);
        assert_eq!(s.heldout_error, Some(0.03));
        // The mean loss over steps 1..=35 (fewer than 50 steps recorded).
        assert!((s.train_loss.unwrap() - 18.0).abs() < 1e-4);
        assert!((s.compute_saved.unwrap() - 0.9).abs() < 1e-6);
        assert!((s.net_compute_saved.unwrap() - 0.7).abs() < 1e-6);
        assert!((s.examples_per_second.unwrap() - 3200.0).abs() < 1e-2);
        let end = h.view_until(u64::MAX);
        assert_eq!(end.status, LaneStatus::Done);
        assert_eq!(end.summary(32), h.summary(32));
        assert!(h.view_until(0).steps.is_empty());
        assert_eq!(h.view_until(0).summary(32).train_loss, None);
    }

    /// A lane firing `rate(step)` for `steps` steps.
    fn firing_history(
        estimator: EstimatorSpec,
        steps: u64,
        rate: impl Fn(u64) -> f32,
    ) -> LaneHistory {
        let mut info = lane_info("a");
        info.settings = LaneSettings::paper(estimator);
        let mut h = LaneHistory::new(info);
        for s in 1..=steps {
            h.steps.push(StepPoint {
                firing_rate: rate(s),
                ..point(s, 1.0)
            });
        }
        h
    }

    #[test]
    fn off_target_spans_follow_the_windowed_firing_rate() {
        let st = EstimatorSpec::StraightThrough {
            variant: StraightThroughVariant::Identity,
        };
        // 10% firing, 17% from step 2001 to 3000, then 10% again.
        let h = firing_history(st, 5000, |s| {
            if (2001..=3000).contains(&s) {
                0.17
            } else {
                0.1
            }
        });
        let spans = h.view_until(u64::MAX).off_target();
        // The 500-step mean passes 12% when 143 of its steps fire at 17% (at step 2143), and
        // comes back within 1.5 points when at most 107 do (at step 3393).
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(spans[0].from, 2143);
        assert_eq!(spans[0].until, Some(3393));
        assert!((spans[0].worst - 0.17).abs() < 1e-6);
        assert!(!h.view_until(u64::MAX).is_off_target());
        assert!(h.view_until(2500).is_off_target());
        let s = h.view_until(2500).summary(32);
        assert!(s.off_target && (s.firing_rate.unwrap() - 0.17).abs() < 1e-6);
        assert_eq!(s.status_label(), "running, off target");
        // The start-up transient is not judged: far off target for the first 500 steps, whose
        // window ends before the first judged step (1,000).
        let h = firing_history(st, 3000, |s| if s <= 500 { 0.5 } else { 0.1 });
        assert!(h.view_until(u64::MAX).off_target().is_empty());
        // Off target from the first judged step, and still at the end.
        let h = firing_history(st, 3000, |_| 0.05);
        let spans = h.view_until(u64::MAX).off_target();
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].from, spans[0].until), (1000, None));
        // Sigmoid gates are never exactly zero: no firing-rate target to miss.
        let h = firing_history(EstimatorSpec::Sigmoid { noise_std: 0.0 }, 3000, |_| 1.0);
        assert!(h.view_until(u64::MAX).off_target().is_empty());
    }

    #[test]
    fn the_race_view_reports_the_furthest_lane_at_the_cursor() {
        let mut r = Recorder::new();
        r.apply(EngineEvent::Steps {
            lane: 0,
            points: vec![],
        });
        assert_eq!(r.view().step(), 0);
        r.lanes = vec![history(), LaneHistory::new(lane_info("b"))];
        assert_eq!(r.view_until(42).step(), 42);
        assert_eq!(r.view().step(), 100);
        assert_eq!(r.view_until(42).summaries().len(), 2);
        assert_eq!(r.view().summaries(), r.summaries());
    }

    /// A lane whose loss is `loss(step)` for `steps` steps.
    fn loss_history(steps: u64, loss: impl Fn(u64) -> f32) -> LaneHistory {
        let mut h = LaneHistory::new(lane_info("a"));
        for s in 1..=steps {
            h.steps.push(point(s, loss(s)));
        }
        h
    }

    #[test]
    fn a_finite_blow_up_is_flagged_after_a_window_and_cleared_with_hysteresis() {
        // Starts at 2.3; from step 300 to 699 at 2500 (held finite); back to 0.5 after.
        let h = loss_history(1200, |s| match s {
            300..=699 => 2500.0,
            _ if s < 300 => 2.3,
            _ => 0.5,
        });
        let spans = h.view_until(u64::MAX).blow_ups();
        assert_eq!(spans.len(), 1, "{spans:?}");
        // Every point of the last 100 steps above 4 × 2.3 first at step 399; every point below
        // 2 × 2.3 again first at step 799.
        assert_eq!(spans[0].from, 399);
        assert_eq!(spans[0].until, Some(799));
        assert_eq!((spans[0].worst, spans[0].start), (2500.0, 2.3));
        assert!(h.view_until(500).is_blowing_up());
        assert!(!h.view_until(350).is_blowing_up(), "not for a while yet");
        assert!(!h.view_until(u64::MAX).is_blowing_up());
        let s = h.view_until(500).summary(32);
        assert!(s.blowing_up);
        assert_eq!(s.status_label(), "running, blowing up");
        // A single spike is not a blow-up; nor is a loss that starts high and stays there.
        let spike = loss_history(1000, |s| if s == 500 { 1e6 } else { 2.3 });
        assert!(spike.view_until(u64::MAX).blow_ups().is_empty());
        let high = loss_history(1000, |_| 50.0);
        assert!(high.view_until(u64::MAX).blow_ups().is_empty());
        // Infinite losses count as above.
        let inf = loss_history(400, |s| if s > 100 { f32::INFINITY } else { 2.0 });
        assert!(inf.view_until(u64::MAX).is_blowing_up());
    }

    #[test]
    fn the_budget_counts_evaluations_of_merged_points_by_their_steps() {
        let mut h = LaneHistory::new(lane_info("a"));
        h.steps = crate::history::Downsampled::new(16);
        for s in 1..=100u64 {
            h.steps.push(StepPoint {
                evaluations: if s % 2 == 0 { 4.0 } else { 2.0 },
                ..point(s, 1.0)
            });
        }
        let b = h.view_until(u64::MAX).budget().unwrap();
        assert!((b.total - 300.0).abs() < 1e-9, "{b:?}");
        assert!((b.per_step - 3.0).abs() < 0.1, "{b:?}");
        assert!(
            LaneHistory::new(lane_info("b"))
                .view_until(9)
                .budget()
                .is_none()
        );
    }
}
