//! Estimator variance per lane over steps, on a log scale: the mean per-coordinate variance of
//! the gater gradient across K gate resamples on a fixed probe minibatch. Toggles to the
//! signal-to-noise ratio ‖E ĝ‖² / variance.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Span;

use super::loss::Y_AXIS_CELLS;
use super::{message, panel};
use crate::tui::app::App;
use crate::tui::chart::{self, Axes, Series};
use crate::tui::plot::{self, Reduce};
use crate::tui::theme;

/// Draws the variance panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let title = if app.snr {
        " Estimator variance → signal-to-noise ‖Eĝ‖²/var · log "
    } else {
        " Estimator variance · per coordinate · log "
    };
    let silent: Vec<String> = view
        .lanes()
        .filter(|l| l.probes.is_empty())
        .map(|l| l.info.name.clone())
        .collect();
    let mut block = panel(title);
    if !silent.is_empty() && view.step() > 0 {
        block = block.title_bottom(Span::styled(
            format!(" no probe yet: {} ", silent.join(", ")),
            theme::muted(),
        ));
    }
    let inner = block.inner(area);
    let last = view.step();
    let columns = 2 * inner.width.saturating_sub(Y_AXIS_CELLS) as usize;
    let x1 = last.max(1) as f64;
    let series: Vec<(usize, Vec<(f64, f64)>)> = view
        .lanes()
        .enumerate()
        .map(|(lane, l)| {
            let pts: Vec<(f64, f64)> = l
                .probes
                .iter()
                .map(|p| {
                    let v = if app.snr { p.snr() } else { p.variance };
                    (p.step as f64, plot::scale(v, true))
                })
                .collect();
            (lane, plot::downsample(&pts, 0.0, x1, columns, Reduce::Mean))
        })
        .collect();
    let Some(y) = plot::bounds(series.iter().map(|s| s.1.as_slice())) else {
        frame.render_widget(block, area);
        message(frame, inner, "no variance probe yet");
        return;
    };
    let focus = app.focused();
    let mut order: Vec<&(usize, Vec<(f64, f64)>)> =
        series.iter().filter(|s| s.0 != focus).collect();
    order.extend(series.iter().filter(|s| s.0 == focus));
    let all: Vec<Series> = order
        .into_iter()
        .map(|(lane, pts)| Series {
            points: pts,
            color: theme::lane(*lane).color,
            marker: Marker::Braille,
            line: true,
            dash: theme::lane(*lane).dash,
        })
        .collect();
    frame.render_widget(block, area);
    chart::render(frame, inner, &all, &Axes::labelled([0.0, x1], y, true));
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
        // Lane 4 is the dense baseline: it has no estimator to probe.
        assert!(t.contains("no probe yet: dense"), "{t}");
        // Synthetic variances run from 10^-2.05 (lane 0, step 100) to 10^-4 (lane 3, step 1000);
        // the axis adds 5% of the (log) range on each side.
        let ys = y_axis_labels(&buf);
        assert!(ys.len() >= 2, "{t}");
        let (top, bottom) = (ys[0], ys[ys.len() - 1]);
        assert!((0.009..0.02).contains(&top), "{ys:?}");
        assert!((5e-5..1.1e-4).contains(&bottom), "{ys:?}");
        app.act(Action::VarianceMode);
        let t = text(&rendered(80, 18, |f, r| super::render(f, r, &app)));
        assert!(t.contains("signal-to-noise"), "{t}");
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
}
