//! Training loss of every lane over steps (debiased-EMA smoothed or raw, linear or log scale,
//! whole run or recent steps), with each lane's held-out error as points. Each series is
//! reduced to the chart's pixel columns (column means for the smoothed curve, minimum and
//! maximum for the raw one) before it is smoothed and drawn, so drawing costs the same with ten
//! points or ten thousand.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Span;

use super::{message, panel};
use crate::tui::app::App;
use crate::tui::chart::{self, Axes, Series};
use crate::tui::plot::{self, Columns, Reduce, Smoother};
use crate::tui::theme::{self, Dash};

/// EMA decay per raw step of the smoothed curves (time constant ≈ 1 / (1 − 0.97) ≈ 33 steps).
pub const SMOOTHING_DECAY: f64 = 0.97;

/// Steps shown by the recent window: the last fifth of the run so far, at least 200.
pub fn recent_window(step: u64) -> u64 {
    (step / 5).max(200)
}

/// Cells of an area's width that the y labels and axis take.
pub(crate) const Y_AXIS_CELLS: u16 = 8;

/// One lane's curve and held-out points, on the chart's scale.
struct LaneSeries {
    lane: usize,
    curve: Vec<(f64, f64)>,
    points: Vec<(f64, f64)>,
}

/// Draws the loss panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let o = app.loss;
    let view = app.view();
    let last = view.step();
    let window = o.recent.then(|| recent_window(last));
    let title = format!(
        " Loss · {} · {} · {} ",
        if o.smoothed { "smoothed" } else { "raw" },
        if o.log { "log" } else { "linear" },
        match window {
            Some(w) => format!("last {w} steps"),
            None => "full run".into(),
        }
    );
    let block = panel(title).title_bottom(Span::styled(
        " lines: training loss · dots: held-out error ",
        theme::muted(),
    ));
    let inner = block.inner(area);
    if last == 0 || view.lane_count() == 0 {
        frame.render_widget(block, area);
        message(frame, inner, "waiting for the first steps");
        return;
    }
    let x1 = last as f64;
    let x0 = match window {
        Some(w) => last.saturating_sub(w) as f64,
        None => 0.0,
    };
    // Braille gives two pixel columns per cell.
    let columns = 2 * inner.width.saturating_sub(Y_AXIS_CELLS) as usize;
    let focus = app.focused();
    let series: Vec<LaneSeries> = view
        .lanes()
        .enumerate()
        .map(|(lane, l)| {
            let start = l.steps.partition_point(|p| (p.step as f64) < x0);
            let reduce = if o.smoothed {
                Reduce::Mean
            } else {
                Reduce::MinMax
            };
            // Each column's mean (or min and max) first, then the smoothing over the columns,
            // each weighted by the steps it stands for: the cost per stored point is one
            // comparison and two additions.
            let mut cols = Columns::new(x0, x1, columns, reduce);
            for run in l.steps.skip(start).slices() {
                cols.extend_sorted(
                    run,
                    |p| p.step as f64,
                    |p| p.cross_entropy as f64,
                    |p| p.count,
                );
            }
            let mut smoother = Smoother::new(SMOOTHING_DECAY);
            let curve: Vec<(f64, f64)> = cols
                .finish_counted()
                .into_iter()
                .map(|(x, y, count)| {
                    let y = if o.smoothed {
                        smoother.push(y, count)
                    } else {
                        y
                    };
                    (x, plot::scale(y, o.log))
                })
                .collect();
            let points = l
                .evals
                .iter()
                .filter(|e| (e.step as f64) >= x0)
                .map(|e| (e.step as f64, plot::scale(e.error as f64, o.log)))
                .collect();
            LaneSeries {
                lane,
                curve,
                points,
            }
        })
        .collect();
    let Some(y) = plot::bounds(
        series
            .iter()
            .flat_map(|s| [s.curve.as_slice(), s.points.as_slice()]),
    ) else {
        frame.render_widget(block, area);
        message(frame, inner, "no finite loss yet");
        return;
    };
    // Curves first, then the held-out points; the focused lane last (on top) in each.
    let mut order: Vec<&LaneSeries> = series.iter().filter(|s| s.lane != focus).collect();
    order.extend(series.iter().filter(|s| s.lane == focus));
    let curves = order.iter().map(|s| Series {
        points: &s.curve,
        color: theme::lane(s.lane).color,
        marker: Marker::Braille,
        line: true,
        dash: theme::lane(s.lane).dash,
    });
    let dots = order.iter().map(|s| Series {
        points: &s.points,
        color: theme::lane(s.lane).color,
        marker: Marker::Dot,
        line: false,
        dash: Dash::Solid,
    });
    let all: Vec<Series> = curves.chain(dots).collect();
    let x_span = if x1 > x0 { [x0, x1] } else { [x0, x0 + 1.0] };
    frame.render_widget(block, area);
    chart::render(frame, inner, &all, &Axes::labelled(x_span, y, o.log));
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
        assert!(t.contains("Loss · smoothed · linear · full run"), "{t}");
        assert!(t.contains("held-out error"), "{t}");
        for act in [Action::Smoothing, Action::LogScale, Action::Window] {
            a.act(act);
        }
        let t = text(&rendered(90, 20, |f, r| super::render(f, r, &a)));
        assert!(t.contains("Loss · raw · log · last 200 steps"), "{t}");
    }

    #[test]
    fn axes_span_the_steps_and_the_losses() {
        let a = app(1, 1000);
        let buf = rendered(90, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        // x labels: 0, 500, 1000.
        assert!(t.contains("1000") && t.contains("500"), "{t}");
        // The synthetic loss of lane 0 starts near 2.3 and ends near 0.08: the top y label is
        // above 2 and the bottom one below 0.2.
        let ys = y_axis_labels(&buf);
        assert!(ys.len() >= 2, "{ys:?}\n{t}");
        let (top, bottom) = (ys[0], ys[ys.len() - 1]);
        assert!(top > 2.0 && bottom < 0.2, "{ys:?}");
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
}
