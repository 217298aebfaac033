//! The bias–variance panel: every estimator measured by the same-trajectory probe, at the
//! reference lane's parameters, against the reference gradient g there (see
//! `engine::trajectory`), so that lanes differ by their estimators alone.
//!
//! - The bias–noise plane (default): each visible lane is a point, x its relative bias
//!   ‖E ĝ − g‖ / ‖g‖, y its relative noise √tr Σ / ‖g‖ (the standard deviation of one estimate
//!   relative to the gradient's size), both on log axes, with its trail over training (the
//!   latest point marked ●). A bias within two standard errors of zero cannot be told from
//!   zero: it is drawn at 2·SE, an upper bound, marked ◀. The focused lane is drawn on top in
//!   full colour, the others dimmed.
//! - With `b`: each lane's cosine(E ĝ, g) over the chosen x axis (1: the estimator points, on
//!   average, along the true gradient).
//!
//! With several seeds a lane's point is the geometric mean over its seeds at each probe step
//! (every seed's trail with `e` → every seed); its cosine curve follows the seed view of the
//! other charts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};

use super::loss::Y_AXIS_CELLS;
use super::{message, panel};
use crate::engine::TrajectoryPoint;
use crate::engine::metrics::Metrics;
use crate::estimators::Family;
use crate::history::LaneView;
use crate::tui::app::App;
use crate::tui::chart::{self, Axes, Overlay, Series};
use crate::tui::lanechart::{self, ChartSpec, RunCurve, XFrame};
use crate::tui::seeds::SeedView;
use crate::tui::theme;

/// A probe point in the bias–noise plane, in log10 of (relative bias, relative noise), and
/// whether the bias is only an upper bound (within two standard errors of zero). None when
/// either is not positive and finite.
pub fn plane_point(p: &TrajectoryPoint) -> Option<(f64, f64, bool)> {
    let noise = p.relative_noise();
    let bound = 2.0 * p.relative_bias_se;
    let (bias, upper) = if p.relative_bias < bound {
        (bound, true)
    } else {
        (p.relative_bias, false)
    };
    (bias.is_finite() && bias > 0.0 && noise.is_finite() && noise > 0.0)
        .then(|| (bias.log10(), noise.log10(), upper))
}

/// One lane's trail in the plane: (log bias, log noise) per probe step, and whether its latest
/// bias is an upper bound. Several runs are combined step by step (the mean of the logs over
/// the runs probed at that step).
fn trail(runs: &[LaneView<'_>]) -> Trail {
    let Some(first) = runs.first() else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut upper = false;
    for p in first.trajectory.iter() {
        let points: Vec<(f64, f64, bool)> = runs
            .iter()
            .filter_map(|l| {
                let i = l.trajectory.partition_point(|q| q.step < p.step);
                l.trajectory.get(i).filter(|q| q.step == p.step)
            })
            .filter_map(plane_point)
            .collect();
        if points.is_empty() {
            continue;
        }
        let n = points.len() as f64;
        out.push((
            points.iter().map(|q| q.0).sum::<f64>() / n,
            points.iter().map(|q| q.1).sum::<f64>() / n,
        ));
        upper = points.iter().any(|q| q.2);
    }
    (out, upper)
}

/// A trail in the plane, (log bias, log noise) per probe step, and whether its head's bias is
/// an upper bound.
type Trail = (Vec<(f64, f64)>, bool);

/// Why some visible lanes have nothing to draw, for the bottom line.
fn notes<'a>(app: &App, runs: &[(usize, Vec<LaneView<'_>>)]) -> Vec<Span<'a>> {
    let names = |f: &dyn Fn(&LaneView<'_>) -> bool| -> Vec<String> {
        runs.iter()
            .filter(|(_, ls)| ls.first().is_some_and(f))
            .map(|(i, _)| app.lane_name(*i))
            .collect()
    };
    let no_gates = names(&|l| l.info.family == Family::Dense);
    let waiting = names(&|l| l.info.family != Family::Dense && l.trajectory.is_empty());
    let mut out = Vec::new();
    if !no_gates.is_empty() {
        out.push(Span::styled(
            format!("no gates: {} ", no_gates.join(", ")),
            theme::muted(),
        ));
    }
    if !waiting.is_empty() && app.view().step() > 0 {
        out.push(Span::styled(
            format!("no probe yet: {} ", waiting.join(", ")),
            theme::muted(),
        ));
    }
    out
}

/// Draws the bias–variance panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let reference = view.info().and_then(|i| i.reference_lane.clone());
    let Some(reference) = reference else {
        let block = panel(" Bias and noise ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if view.info().is_none() {
            message(frame, inner, "waiting for the race to start");
        } else {
            let y = inner.y + inner.height.saturating_sub(1) / 2;
            let line = |y: u16| Rect {
                y,
                height: 1,
                ..inner
            };
            message(frame, line(y), "no same-trajectory probe in this race");
            if y + 1 < inner.y + inner.height {
                message(
                    frame,
                    line(y + 1),
                    "(same_trajectory in the experiment file)",
                );
            }
        }
        return;
    };
    let lanes: Vec<(usize, Vec<LaneView<'_>>)> = app
        .lanes()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| app.is_visible(*i))
        .map(|(i, runs)| (i, runs.iter().filter_map(|&r| view.lane(r)).collect()))
        .collect();
    let mut notes = notes(app, &lanes);
    notes.insert(
        0,
        Span::styled(
            format!("at {reference}'s parameters, g by DisARM "),
            theme::muted(),
        ),
    );
    if app.cosine {
        cosines(frame, area, app, notes);
    } else {
        plane(frame, area, app, &lanes, notes);
    }
}

/// The cosine curves, drawn as the other line charts are.
fn cosines(frame: &mut Frame, area: Rect, app: &App, notes: Vec<Span<'_>>) {
    let view = app.view();
    let metric = TrajectoryPoint::metric("cosine").expect("declared");
    let title = Line::styled(
        format!(" {} · b: bias–noise ", lanechart::axis_name(metric)),
        theme::title(),
    );
    let x = XFrame::new(app, &view);
    let columns = 2 * area.width.saturating_sub(Y_AXIS_CELLS + 2) as usize;
    let curves = lanechart::lane_curves(app, &view, &x, columns, false, |run, l| {
        let map = &x.maps[run];
        let pts: Vec<(f64, f64)> = l
            .trajectory
            .iter()
            .filter(|p| p.step >= x.from_step[run])
            .map(|p| (map.at(p.step), p.cosine))
            .collect();
        let last = pts.last().map(|p| p.1);
        let line = x.column_means(&pts, columns, false);
        RunCurve {
            line,
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
            notes,
            log: false,
            far_rule: false,
            x: x.range,
            end_label: |v| format!("{v:.3}"),
            empty: "no same-trajectory probe yet",
        },
        curves,
    );
}

/// The bias–noise plane.
fn plane(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    lanes: &[(usize, Vec<LaneView<'_>>)],
    notes: Vec<Span<'_>>,
) {
    let title = Line::styled(" Bias and noise · log–log · b: cosine ", theme::title());
    let mut block = panel(title);
    let inner = block.inner(area);
    let focus = app.focused();
    // Per lane: its trails (one, or one per seed) and whether the head is an upper bound.
    let trails: Vec<(usize, Vec<Trail>)> = lanes
        .iter()
        .map(|(i, runs)| {
            let t = if app.seeds == SeedView::All && runs.len() > 1 {
                runs.iter()
                    .map(|r| trail(std::slice::from_ref(r)))
                    .collect()
            } else {
                vec![trail(runs)]
            };
            (*i, t)
        })
        .collect();
    let all = trails
        .iter()
        .flat_map(|(_, t)| t.iter().map(|(points, _)| points.as_slice()));
    let bounds = |pick: fn(&(f64, f64)) -> f64| -> Option<[f64; 2]> {
        let (lo, hi) = all
            .clone()
            .flatten()
            .map(pick)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        (lo <= hi).then(|| {
            // At least a decade, with a tenth of the span around.
            let mid = (lo + hi) / 2.0;
            let half = ((hi - lo) / 2.0).max(0.5) * 1.1;
            [mid - half, mid + half]
        })
    };
    let mut spans = vec![Span::styled(
        " x: bias ‖Eĝ−g‖/‖g‖ · y: noise √trΣ/‖g‖ ",
        theme::muted(),
    )];
    for n in notes {
        spans.push(Span::styled("· ", theme::muted()));
        spans.push(n);
    }
    let (shown, total) = (app.visible_count(), app.lane_count());
    if shown < total {
        spans.push(Span::styled(
            format!("{shown} of {total} lanes (a: all) "),
            theme::warning(),
        ));
    }
    block = block.title_bottom(Line::from(spans));
    let (Some(x), Some(y)) = (bounds(|p| p.0), bounds(|p| p.1)) else {
        frame.render_widget(block, area);
        let text = if app.visible_count() == 0 && app.lane_count() > 0 {
            "every lane is hidden: a shows them"
        } else {
            "no same-trajectory probe yet"
        };
        message(frame, inner, text);
        return;
    };
    frame.render_widget(block, area);
    // The others first, dimmed; the focused lane last, in full colour.
    let mut order: Vec<&(usize, Vec<Trail>)> = trails.iter().filter(|t| t.0 != focus).collect();
    order.extend(trails.iter().filter(|t| t.0 == focus));
    let color = |lane: usize| {
        let c = theme::lane(lane).color;
        if lane == focus {
            c
        } else {
            chart::band_color(c)
        }
    };
    let series: Vec<Series> = order
        .iter()
        .flat_map(|(lane, t)| {
            t.iter().map(move |(points, _)| Series {
                points,
                color: color(*lane),
                marker: Marker::Braille,
                line: true,
                glyph: None,
            })
        })
        .collect();
    let overlays: Vec<Overlay> = order
        .iter()
        .flat_map(|(lane, t)| {
            t.iter().filter_map(move |(points, upper)| {
                let &(px, py) = points.last()?;
                Some(Overlay {
                    x: px,
                    y: py,
                    symbol: if *upper { "◀" } else { "●" },
                    color: theme::lane(*lane).color,
                })
            })
        })
        .collect();
    let mut axes = Axes::new(x, y, true);
    axes.log_x = true;
    chart::render(frame, inner, &series, &axes, &overlays, &[]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::{recorder, seeded};
    use std::time::Instant;

    fn app(lanes: usize) -> App {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(lanes, 1000);
        app
    }

    #[test]
    fn lanes_in_the_bias_noise_plane_on_log_axes() {
        let a = app(5);
        let buf = rendered(140, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("Bias and noise · log–log"), "{t}");
        assert!(t.contains("no gates: dense"), "{t}");
        assert!(t.contains("at straight-through's parameters"), "{t}");
        // Synthetic noise runs from 10^-0.4 (lane 3, step 100) to 10^0.75 (lane 0, step 1000):
        // decade ticks of a log axis.
        let ys = y_axis_labels(&buf);
        assert!(ys.contains(&1.0), "{ys:?}\n{t}");
        // A head per gated lane, in its colour.
        for lane in 0..4 {
            let c = theme::lane(lane).color;
            assert!(
                buf.content()
                    .iter()
                    .any(|cell| cell.symbol() == "●" && cell.fg == c),
                "lane {lane}:\n{t}"
            );
        }
        // The focused lane in full colour, the others dimmed.
        let dim = chart::band_color(theme::lane(1).color);
        assert!(buf.content().iter().any(|c| c.fg == dim), "{t}");
    }

    #[test]
    fn a_bias_within_two_standard_errors_is_an_upper_bound() {
        let mut p = crate::tui::synthetic::trajectory(0, 100);
        p.relative_bias = 0.0;
        p.relative_bias_se = 0.01;
        let (x, _, upper) = plane_point(&p).unwrap();
        assert!(upper && (x - 0.02f64.log10()).abs() < 1e-12);
        p.relative_bias_se = 0.0;
        assert_eq!(plane_point(&p), None);
        p.total_variance = f64::NAN;
        p.relative_bias = 0.5;
        assert_eq!(plane_point(&p), None);
    }

    #[test]
    fn the_cosine_view_draws_curves_over_training() {
        let mut a = app(3);
        a.act(Action::BiasView);
        let buf = rendered(90, 20, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("Cosine to the reference gradient"), "{t}");
        assert!(t.contains("x: training steps"), "{t}");
        // Lane 0's cosine at the end: 1/√(1 + bias²), bias = 10^(−1.5 − 0.25).
        let b = 10f64.powf(-1.75);
        assert!(
            t.contains(&format!("{:.3}", 1.0 / (1.0 + b * b).sqrt())),
            "{t}"
        );
    }

    #[test]
    fn a_race_without_the_probe_says_how_to_get_it() {
        let mut a = app(3);
        a.recorder.info.as_mut().unwrap().reference_lane = None;
        let t = text(&rendered(90, 12, |f, r| super::render(f, r, &a)));
        assert!(t.contains("no same-trajectory probe in this race"), "{t}");
    }

    #[test]
    fn several_seeds_one_point_per_lane_or_one_per_seed() {
        let mut a = App::live(Instant::now());
        a.recorder = seeded(3, 3, 600);
        let heads = |a: &App| {
            let buf = rendered(100, 20, |f, r| super::render(f, r, a));
            buf.content().iter().filter(|c| c.symbol() == "●").count()
        };
        assert!(heads(&a) <= 3);
        a.seeds = SeedView::All;
        // Same formulas for every seed: the seeds' heads coincide, still drawn.
        assert!(heads(&a) >= 1);
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let empty = App::live(Instant::now());
        let t = text(&rendered(60, 10, |f, r| super::render(f, r, &empty)));
        assert!(t.contains("waiting for the race to start"), "{t}");
        survives_tiny_areas(&empty, super::render);
        for lanes in [0, 1, 12] {
            for cosine in [false, true] {
                let mut a = app(lanes);
                a.cosine = cosine;
                survives_tiny_areas(&a, super::render);
                rendered(100, 20, |f, r| super::render(f, r, &a));
            }
        }
    }
}
