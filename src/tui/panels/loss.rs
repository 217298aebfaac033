//! Training loss of every lane over steps (debiased-EMA smoothed or raw, linear or log scale,
//! whole run or recent steps), with each lane's held-out error as points. Each series is
//! reduced to the chart's pixel columns before it is drawn, so a frame costs the same with ten
//! points or ten thousand.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

use super::{message, panel};
use crate::tui::app::App;
use crate::tui::plot::{self, Reduce};
use crate::tui::theme;

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
            let steps = l.steps.skip(start);
            let raw: Vec<(f64, f64)>;
            let (source, reduce) = if o.smoothed {
                raw = plot::smooth(
                    steps
                        .iter()
                        .map(|p| (p.step as f64, p.cross_entropy as f64, p.count)),
                    SMOOTHING_DECAY,
                );
                (raw, Reduce::Mean)
            } else {
                raw = steps
                    .iter()
                    .map(|p| (p.step as f64, p.cross_entropy as f64))
                    .collect();
                (raw, Reduce::MinMax)
            };
            let mut curve = plot::downsample(&source, x0, x1, columns, reduce);
            curve.iter_mut().for_each(|p| p.1 = plot::scale(p.1, o.log));
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
    // The focused lane is drawn last, on top.
    let mut order: Vec<&LaneSeries> = series.iter().filter(|s| s.lane != focus).collect();
    order.extend(series.iter().filter(|s| s.lane == focus));
    let mut datasets = Vec::with_capacity(2 * order.len());
    for s in order {
        let style = theme::lane(s.lane);
        datasets.push(
            Dataset::default()
                .data(&s.curve)
                .marker(style.marker)
                .graph_type(GraphType::Line)
                .style(theme::lane_text(s.lane)),
        );
        datasets.push(
            Dataset::default()
                .data(&s.points)
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(theme::lane_text(s.lane)),
        );
    }
    let x_span = if x1 > x0 { [x0, x1] } else { [x0, x0 + 1.0] };
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds(x_span)
                .labels(plot::x_labels(x_span[0], x_span[1]))
                .style(theme::muted()),
        )
        .y_axis(
            Axis::default()
                .bounds(y)
                .labels(plot::y_labels(y, o.log))
                .style(theme::muted()),
        );
    frame.render_widget(chart, area);
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
