//! Estimator variance per visible lane over the chosen x axis, on a log scale: the mean
//! per-coordinate variance of the gater gradient across K gate resamples on a fixed probe
//! minibatch. Toggles to the signal-to-noise ratio ‖E ĝ‖² / variance. The dense lane has no
//! gates, so nothing to probe: the panel says so rather than waiting for a probe that never
//! comes; nor has a deterministic estimator any variance to draw on a log axis (it is named
//! instead). Variances differ between estimators by orders of magnitude by nature, so only a
//! diverged or blowing-up lane is kept from setting the scale here.
//!
//! A lane of one seed carries a band: the 95% interval of each probe's variance from the
//! jackknife standard error over its K resamples, on the log scale by the delta method,
//! V·exp(±1.96·SE/V), so that it stays positive and symmetric on the log axis. (Lanes of several
//! seeds carry the band across seeds instead.)

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::loss::Y_AXIS_CELLS;
use crate::engine::ProbePoint;
use crate::engine::metrics::Metrics;
use crate::estimators::Family;
use crate::lab::measure::variance_interval;
use crate::tui::app::App;
use crate::tui::lanechart::{self, ChartSpec, RunCurve, XFrame};
use crate::tui::plot;
use crate::tui::theme;

/// Draws the variance panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let title = Line::styled(
        if app.snr {
            " Signal-to-noise ‖Eĝ‖²/var · log ".to_string()
        } else {
            let metric = ProbePoint::metric("variance").expect("declared");
            format!(" {} · log ", lanechart::axis_name(metric))
        },
        theme::title(),
    );
    // Lanes with nothing drawn, and why: said in the bottom line.
    let visible = || {
        app.lanes()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| app.is_visible(*i))
            .filter_map(|(_, runs)| view.lane(*runs.first()?))
    };
    let no_gates: Vec<String> = visible()
        .filter(|l| l.info.family == Family::Dense)
        .map(|l| l.info.name.clone())
        .collect();
    let noiseless: Vec<String> = visible()
        .filter(|l| {
            l.info.family != Family::Dense
                && !l.probes.is_empty()
                && l.probes.iter().all(|p| p.variance <= 0.0)
        })
        .map(|l| l.info.name.clone())
        .collect();
    let waiting: Vec<String> = visible()
        .filter(|l| l.info.family != Family::Dense && l.probes.is_empty())
        .map(|l| l.info.name.clone())
        .collect();
    let mut notes = Vec::new();
    if !no_gates.is_empty() {
        notes.push(Span::styled(
            format!("no gates: {} ", no_gates.join(", ")),
            theme::muted(),
        ));
    }
    if !noiseless.is_empty() {
        notes.push(Span::styled(
            format!("no noise (variance 0): {} ", noiseless.join(", ")),
            theme::muted(),
        ));
    }
    if !waiting.is_empty() && view.step() > 0 {
        notes.push(Span::styled(
            format!("no probe yet: {} ", waiting.join(", ")),
            theme::muted(),
        ));
    }
    let x = XFrame::new(app, &view);
    let columns = 2 * area.width.saturating_sub(Y_AXIS_CELLS + 2) as usize;
    let curves = lanechart::lane_curves(app, &view, &x, columns, true, |run, l| {
        let map = &x.maps[run];
        let pts: Vec<(f64, f64)> = l
            .probes
            .iter()
            .filter(|p| p.step >= x.from_step[run])
            .map(|p| {
                let v = if app.snr { p.snr() } else { p.variance };
                (map.at(p.step), v)
            })
            // A log axis has no place for 0 (a noiseless estimator) or ∞ (its SNR): said in
            // the bottom line instead of stretching the axis to the floor.
            .filter(|p| p.1.is_finite() && p.1 > 0.0)
            .collect();
        let last = pts.last().map(|p| p.1);
        let line = x.column_means(&pts, columns, true);
        let band = if app.snr {
            Vec::new()
        } else {
            let edges: Vec<(f64, (f64, f64))> = l
                .probes
                .iter()
                .filter(|p| p.step >= x.from_step[run])
                .filter_map(|p| {
                    variance_interval(p.variance, p.variance_se).map(|e| (map.at(p.step), e))
                })
                .collect();
            let edge = |pick: fn((f64, f64)) -> f64| {
                let pts: Vec<(f64, f64)> = edges.iter().map(|&(x, e)| (x, pick(e))).collect();
                x.column_means(&pts, columns, true)
            };
            edge(|e| e.0)
                .into_iter()
                .zip(edge(|e| e.1))
                .map(|((x, lo), (_, hi))| (x, lo, hi))
                .collect()
        };
        RunCurve {
            line,
            dots: Vec::new(),
            band,
            last,
        }
    });
    lanechart::draw(
        frame,
        area,
        app,
        ChartSpec {
            title,
            notes,
            log: true,
            far_rule: false,
            x: x.range,
            end_label: plot::compact,
            empty: "no variance probe yet",
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

    #[test]
    fn variance_on_a_log_axis_and_the_snr_toggle() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 1000);
        let buf = rendered(80, 18, |f, r| super::render(f, r, &app));
        let t = text(&buf);
        assert!(t.contains("Estimator variance"), "{t}");
        // Lane 4 is the dense reference lane: it has no gates to probe.
        assert!(t.contains("no gates: dense"), "{t}");
        assert!(!t.contains("no probe yet"), "{t}");
        // Synthetic variances run from 10^-2.05 (lane 0, step 100) to 10^-4 (lane 3, step 1000):
        // ticks at the three decades, all in one notation.
        let ys = y_axis_labels(&buf);
        assert_eq!(ys, vec![1e-2, 1e-3, 1e-4], "{t}");
        assert!(t.contains("1e-2┤") && t.contains("1e-4┤"), "{t}");
        app.act(Action::VarianceMode);
        let t = text(&rendered(80, 18, |f, r| super::render(f, r, &app)));
        assert!(t.contains("Signal-to-noise"), "{t}");
        // Signal = variance × (lane + 1) in the synthetic race: each lane's ratio at the end.
        assert!(t.contains("4.00") && t.contains("1.00"), "{t}");
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let app = App::live(Instant::now());
        let t = text(&rendered(60, 10, |f, r| super::render(f, r, &app)));
        assert!(t.contains("no variance probe yet"), "{t}");
        survives_tiny_areas(&app, super::render);
        for lanes in [1, 12] {
            let mut app = App::live(Instant::now());
            app.recorder = recorder(lanes, 500);
            let buf = rendered(80, 18, |f, r| super::render(f, r, &app));
            assert!(buf.content().iter().any(|c| c.fg == theme::lane(0).color));
            survives_tiny_areas(&app, super::render);
        }
    }

    /// One seed: each lane's variance carries its 95% band from the probes' standard errors,
    /// none in the SNR view and none for a session without standard errors (older ones).
    #[test]
    fn the_variance_carries_its_band_from_the_k_resamples() {
        use crate::tui::chart::band_color;
        let shaded = |app: &App| {
            let buf = rendered(100, 20, |f, r| super::render(f, r, app));
            let bg = band_color(theme::lane(0).color);
            buf.content().iter().filter(|c| c.bg == bg).count()
        };
        let mut app = App::live(Instant::now());
        app.recorder = recorder(2, 2000);
        assert!(shaded(&app) > 10, "no band");
        app.act(Action::VarianceMode);
        assert_eq!(shaded(&app), 0, "a band in the SNR view");
        app.act(Action::VarianceMode);
        for lane in &mut app.recorder.lanes {
            let mut probes = crate::history::Downsampled::new(lane.probes.capacity());
            for p in lane.probes.iter() {
                probes.push(ProbePoint {
                    variance_se: f64::NAN,
                    ..*p
                });
            }
            lane.probes = probes;
        }
        assert_eq!(shaded(&app), 0, "a band without standard errors");
        survives_tiny_areas(&app, super::render);
    }

    #[test]
    fn a_noiseless_lane_is_named_not_drawn_at_the_log_floor() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(3, 1000);
        let h = &mut app.recorder.lanes[1];
        let mut probes = crate::history::Downsampled::new(h.probes.capacity());
        for p in h.probes.iter() {
            probes.push(ProbePoint {
                variance: 0.0,
                signal: 0.0,
                ..*p
            });
        }
        h.probes = probes;
        let buf = rendered(100, 18, |f, r| super::render(f, r, &app));
        let t = text(&buf);
        assert!(t.contains("no noise (variance 0): sts"), "{t}");
        assert!(y_axis_labels(&buf).iter().all(|&y| y > 1e-6), "{t}");
        app.act(crate::tui::keys::Action::VarianceMode);
        let buf = rendered(100, 18, |f, r| super::render(f, r, &app));
        assert!(
            y_axis_labels(&buf).iter().all(|&y| y < 1e6),
            "{}",
            text(&buf)
        );
    }
}
