//! Held-out error of every visible lane, in percent, at each evaluation (the points) joined by
//! lines, over the chosen x axis; each lane's latest error is labelled at the right end to a
//! tenth of a percent. It is the number that decides the race, so it has a chart, an axis and a
//! scale of its own. The y range follows the rule of [`crate::tui::lanechart`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::engine::EvalPoint;
use crate::engine::metrics::Metrics;
use crate::tui::app::App;
use crate::tui::lanechart::{self, ChartSpec, RunCurve, XFrame};
use crate::tui::plot::{self, Reduce};
use crate::tui::theme;

/// "5.3%".
fn percent_label(v: f64) -> String {
    format!("{v:.1}%")
}

/// Draws the held-out error panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let metric = EvalPoint::metric("error").expect("declared");
    let title = Line::styled(
        format!(
            " {}{} ",
            lanechart::axis_name(metric),
            if app.loss.recent { " · recent" } else { "" }
        ),
        theme::title(),
    );
    let x = XFrame::new(app, &view);
    let columns = 2 * area.width.saturating_sub(10) as usize;
    let curves = lanechart::lane_curves(app, &view, &x, columns, false, |run, l| {
        let map = &x.maps[run];
        let points: Vec<(f64, f64)> = l
            .evals
            .iter()
            .filter(|e| e.step >= x.from_step[run])
            .map(|e| (map.at(e.step), 100.0 * f64::from(e.error)))
            .collect();
        let last = points.last().map(|p| p.1);
        // Few evaluations: each one marked; many: the line alone, reduced to the columns.
        let (line, dots) = if points.len() * 3 <= columns {
            (points.clone(), points)
        } else {
            let line = plot::downsample(&points, x.range[0], x.range[1], columns, Reduce::MinMax);
            (line, Vec::new())
        };
        RunCurve {
            line,
            dots,
            last,
            ..RunCurve::default()
        }
    });
    lanechart::draw(
        frame,
        area,
        app,
        ChartSpec {
            title,
            notes: Vec::new(),
            log: false,
            far_rule: true,
            x: x.range,
            end_label: percent_label,
            empty: "no held-out evaluation yet",
        },
        curves,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LaneStatus;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::{error, recorder};
    use std::time::Instant;

    fn app(lanes: usize, steps: u64) -> App {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(lanes, steps);
        app
    }

    #[test]
    fn held_out_error_in_percent_readable_to_a_tenth() {
        let a = app(5, 2000);
        let buf = rendered(80, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("Held-out error (%)"), "{t}");
        assert!(t.contains("x: training steps"), "{t}");
        // Every lane's latest error, to a tenth of a percent, at the right end.
        for lane in 0..5 {
            let e = format!("{:.1}%", 100.0 * error(lane, 2000));
            assert!(t.contains(&e), "{e} missing:\n{t}");
        }
        // The y axis is in percent with several ticks, and spans the errors shown (from
        // about 60% at the first evaluation down to 2–6%).
        let ys = y_axis_labels(&buf);
        assert!(ys.len() >= 4, "{ys:?}\n{t}");
        assert!(ys[0] > 50.0 && ys[0] < 100.0, "{ys:?}");
        // Each lane's curve is drawn in its colour.
        for lane in 0..5 {
            let c = crate::tui::theme::lane(lane).color;
            assert!(buf.content().iter().any(|cell| cell.fg == c), "lane {lane}");
        }
    }

    #[test]
    fn the_recent_window_zooms_on_the_last_evaluations() {
        let mut a = app(3, 5000);
        a.act(Action::Window);
        let buf = rendered(80, 20, |f, r| super::render(f, r, &a));
        let ys = y_axis_labels(&buf);
        // The last fifth of the run: errors between about 2% and 7%.
        assert!(ys[0] < 10.0, "{ys:?}\n{}", text(&buf));
    }

    #[test]
    fn a_diverged_lane_is_marked_and_does_not_set_the_scale() {
        let mut a = app(3, 1000);
        // Lane 1 at 90% error from the start, diverged at step 600.
        let h = &mut a.recorder.lanes[1];
        let mut evals = crate::history::Downsampled::new(64);
        for p in h.evals.iter() {
            evals.push(EvalPoint { error: 0.9, ..*p });
        }
        h.evals = evals;
        h.status = LaneStatus::Diverged { step: 600 };
        let buf = rendered(90, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("✕ diverged: sts"), "{t}");
        // The scale comes from the two other lanes (at most about 60% at the first point).
        let ys = y_axis_labels(&buf);
        assert!(ys[0] < 80.0, "{ys:?}\n{t}");
    }

    #[test]
    fn hidden_lanes_are_not_drawn_and_the_panel_says_so() {
        let mut a = app(5, 1000);
        a.toggle_lane(2);
        let buf = rendered(100, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("4 of 5 lanes"), "{t}");
        assert!(
            !buf.content()
                .iter()
                .any(|c| c.fg == crate::tui::theme::lane(2).color)
        );
        a.hidden = vec![true; 5];
        let t = text(&rendered(100, 20, |f, r| super::render(f, r, &a)));
        assert!(t.contains("every lane is hidden"), "{t}");
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let t = text(&rendered(60, 14, |f, r| super::render(f, r, &app(0, 0))));
        assert!(t.contains("no held-out evaluation yet"), "{t}");
        for lanes in [1, 12] {
            let a = app(lanes, 600);
            survives_tiny_areas(&a, super::render);
        }
        survives_tiny_areas(&app(0, 0), super::render);
    }

    #[test]
    fn several_seeds_a_mean_with_a_band_every_seed_or_the_mean() {
        use crate::tui::chart::band_color;
        use crate::tui::seeds::SeedView;
        let mut a = App::live(Instant::now());
        a.recorder = crate::tui::synthetic::seeded(2, 3, 2000);
        let banded = |a: &App| {
            let buf = rendered(100, 20, |f, r| super::render(f, r, a));
            let bg = band_color(crate::tui::theme::lane(0).color);
            (
                buf.content().iter().filter(|c| c.bg == bg).count(),
                text(&buf),
            )
        };
        let (cells, t) = banded(&a);
        assert!(cells > 10, "{cells}:\n{t}");
        assert!(t.contains("3 seeds: mean ± sd (e)"), "{t}");
        // The mean of the three seeds' latest errors (×1, ×1.1, ×1.2) is labelled.
        let e = 1.1 * f64::from(error(0, 2000)) * 100.0;
        assert!(t.contains(&format!("{e:.1}%")), "{e:.1} in {t}");
        a.act(Action::SeedView);
        assert_eq!(a.seeds, SeedView::All);
        assert_eq!(banded(&a).0, 0);
        a.act(Action::SeedView);
        assert_eq!(banded(&a).0, 0);
        survives_tiny_areas(&a, super::render);
    }
}
