//! Training loss of every visible lane (debiased-EMA smoothed or raw, linear or log scale,
//! whole run or recent steps) over the chosen x axis. Each series is reduced to the chart's
//! pixel columns (column means for the smoothed curve, minimum and maximum for the raw one)
//! before it is smoothed and drawn, so drawing costs the same with ten points or ten thousand.
//! The y range follows the rule of [`crate::tui::lanechart`]: a lane that diverged, is blowing
//! up or runs far above the others is drawn clipped, not allowed to set the scale.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::engine::StepPoint;
use crate::engine::metrics::Metrics;
use crate::tui::app::App;
use crate::tui::lanechart::{self, ChartSpec, RunCurve, XFrame};
use crate::tui::plot::{self, Columns, Reduce, Smoother};
use crate::tui::theme;
use crate::tui::xaxis::XMap;

pub use crate::tui::lanechart::recent_window;

/// EMA decay per raw step of the smoothed curves (time constant ≈ 1 / (1 − 0.97) ≈ 33 steps).
pub const SMOOTHING_DECAY: f64 = 0.97;

/// Cells of an area's width that the y labels and axis take.
pub(crate) const Y_AXIS_CELLS: u16 = 8;

/// Draws the loss panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let o = app.loss;
    let view = app.view();
    let metric = StepPoint::metric("cross_entropy").expect("declared");
    // The options that differ from the defaults (linear, full run) are named.
    let title = Line::styled(
        format!(
            " {} · {}{}{} ",
            lanechart::axis_name(metric),
            if o.smoothed { "smoothed" } else { "raw" },
            if o.log { " · log" } else { "" },
            if o.recent { " · recent" } else { "" }
        ),
        theme::title(),
    );
    let x = XFrame::new(app, &view);
    // Braille gives two pixel columns per cell.
    let columns = 2 * area.width.saturating_sub(Y_AXIS_CELLS + 2) as usize;
    let reduce = if o.smoothed {
        Reduce::Mean
    } else {
        Reduce::MinMax
    };
    let curves = lanechart::lane_curves(app, &view, &x, columns, o.log, |run, l| {
        let map = &x.maps[run];
        let start = l.steps.partition_point(|p| p.step < x.from_step[run]);
        let mut cols = Columns::new(x.range[0], x.range[1], columns, reduce);
        let y = |p: &StepPoint| f64::from(p.cross_entropy);
        match map {
            XMap::Linear(f) => {
                let f = *f;
                for run in l.steps.skip(start).slices() {
                    cols.extend_sorted(run, |p| p.step as f64 * f, y, |p| p.count);
                }
            }
            XMap::Knots(_) => {
                let pts: Vec<(f64, f64, u32)> = l
                    .steps
                    .iter()
                    .enumerate()
                    .skip(start)
                    .map(|(i, p)| (map.of_point(i, p.step), y(p), p.count))
                    .collect();
                cols.extend_sorted(&pts, |p| p.0, |p| p.1, |p| p.2);
            }
        }
        // Each column's mean (or min and max) first, then the smoothing over the columns,
        // each weighted by the steps it stands for: the cost per stored point is one
        // comparison and two additions.
        let mut smoother = Smoother::new(SMOOTHING_DECAY);
        let line: Vec<(f64, f64)> = cols
            .finish_counted()
            .into_iter()
            .map(|(x, y, count)| {
                (
                    x,
                    if o.smoothed {
                        smoother.push(y, count)
                    } else {
                        y
                    },
                )
            })
            .collect();
        let last = if o.smoothed {
            line.last().map(|p| p.1)
        } else {
            l.recent(10).map(|p| f64::from(p.cross_entropy))
        };
        RunCurve {
            line,
            last,
            ..RunCurve::default()
        }
    });
    let empty = if view.step() == 0 {
        "waiting for the first steps"
    } else {
        "no finite loss yet"
    };
    lanechart::draw(
        frame,
        area,
        app,
        ChartSpec {
            title,
            notes: Vec::new(),
            log: o.log,
            far_rule: true,
            x: x.range,
            end_label: plot::compact,
            empty,
        },
        curves,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    fn app(lanes: usize, steps: u64) -> App {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(lanes, steps);
        app
    }

    #[test]
    fn titles_follow_the_options() {
        let mut a = app(2, 1000);
        let t = text(&rendered(90, 20, |f, r| super::render(f, r, &a)));
        assert!(t.contains("Training loss (nats) · smoothed ─"), "{t}");
        assert!(t.contains("x: training steps"), "{t}");
        for act in [Action::Smoothing, Action::LogScale, Action::Window] {
            a.act(act);
        }
        let t = text(&rendered(90, 20, |f, r| super::render(f, r, &a)));
        assert!(
            t.contains("Training loss (nats) · raw · log · recent"),
            "{t}"
        );
    }

    #[test]
    fn axes_span_the_steps_and_the_losses() {
        let a = app(1, 1000);
        let buf = rendered(90, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        // x ticks every 100 or 200 steps up to 1000.
        assert!(t.contains("1000") && t.contains("400"), "{t}");
        // The synthetic loss of lane 0 starts near 2.3 and ends near 0.08: ticks from 0 to 2
        // or more, at least one every three rows.
        let ys = y_axis_labels(&buf);
        assert!(ys.len() >= 4, "{ys:?}\n{t}");
        let (top, bottom) = (ys[0], ys[ys.len() - 1]);
        assert!(top >= 2.0 && bottom < 0.2, "{ys:?}");
        // The latest smoothed loss is labelled at the right end.
        let label = |l: &str| {
            let l = l.trim_end().trim_end_matches('│').trim_end();
            l.ends_with(|c: char| c.is_ascii_digit()) && l.rsplit(' ').next().unwrap().contains('.')
        };
        assert!(t.lines().any(label), "{t}");
        // The chart drew something in the lane's colour.
        let colored = buf
            .content()
            .iter()
            .filter(|c| c.fg == theme::lane(0).color)
            .count();
        assert!(colored > 20, "{colored}");
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let t = text(&rendered(60, 12, |f, r| super::render(f, r, &app(0, 0))));
        assert!(t.contains("waiting for the first steps"), "{t}");
        let mut started = app(2, 1);
        started.recorder.lanes.iter_mut().for_each(|l| {
            l.steps = Default::default();
        });
        let t = text(&rendered(60, 12, |f, r| super::render(f, r, &started)));
        assert!(t.contains("waiting"), "{t}");
        for lanes in [1, 12] {
            let a = app(lanes, 300);
            let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
            for i in 0..lanes.min(8) {
                assert!(
                    buf.content().iter().any(|c| c.fg == theme::lane(i).color),
                    "lane {i} not drawn"
                );
            }
            survives_tiny_areas(&a, super::render);
        }
        survives_tiny_areas(&app(0, 0), super::render);
    }

    #[test]
    fn a_replay_cursor_limits_the_x_axis() {
        let mut a = App::replay(recorder(2, 1000), Instant::now());
        a.act(Action::SeekStart);
        for _ in 0..3 {
            a.act(Action::SeekForwardFar);
        }
        let t = text(&rendered(90, 20, |f, r| super::render(f, r, &a)));
        assert!(t.contains("300") && !t.contains("1000"), "{t}");
    }

    #[test]
    fn a_runaway_lane_is_clipped_and_the_others_stay_readable() {
        // Lane 2's loss runs to 2500 from step 300 on: it is blowing up, drawn clipped, and the
        // scale stays that of the others (below 3).
        let mut a = app(4, 1000);
        crate::tui::synthetic::run_away(&mut a.recorder, 2, 300, 2500.0);
        assert!(a.view().lane(2).unwrap().is_blowing_up());
        let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        let ys = y_axis_labels(&buf);
        assert!(ys[0] <= 3.0, "{ys:?}\n{t}");
        assert!(t.contains("▲ off scale: noisy-rectifier"), "{t}");
        assert!(lines(&buf)[1].contains('▲'), "{t}");
        // In log scale too.
        a.act(Action::LogScale);
        let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
        let ys = y_axis_labels(&buf);
        assert!(ys[0] < 10.0, "{ys:?}\n{}", text(&buf));
        // Without the rule (the lane alone), it sets its own scale.
        a.solo(2);
        let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
        assert!(y_axis_labels(&buf)[0] > 100.0, "{}", text(&buf));
    }

    #[test]
    fn a_lane_far_above_the_others_does_not_set_the_scale() {
        // Lane 1 at 12 nats from the start: not blowing up (it started there) but more than
        // three times every other lane's peak.
        let mut a = app(3, 1000);
        crate::tui::synthetic::run_away(&mut a.recorder, 1, 0, 12.0);
        assert!(!a.view().lane(1).unwrap().is_blowing_up());
        let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(y_axis_labels(&buf)[0] <= 3.0, "{t}");
        assert!(t.contains("▲ off scale: sts"), "{t}");
    }

    #[test]
    fn the_x_axis_can_count_examples_evaluations_or_seconds() {
        let mut a = app(2, 1000);
        a.act(Action::XAxis);
        let t = text(&rendered(100, 20, |f, r| super::render(f, r, &a)));
        // 1000 steps of 32 examples.
        assert!(t.contains("x: examples seen") && t.contains("30k"), "{t}");
        a.act(Action::XAxis);
        let t = text(&rendered(100, 20, |f, r| super::render(f, r, &a)));
        assert!(
            t.contains("x: main-path evaluations") && t.contains("1000"),
            "{t}"
        );
        a.act(Action::XAxis);
        // Lane 1 takes 2 ms a step: 2 s in all.
        let t = text(&rendered(100, 20, |f, r| super::render(f, r, &a)));
        assert!(t.contains("x: wall time (s)") && t.contains("2.0"), "{t}");
    }
}
