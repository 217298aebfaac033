//! Compute savings per lane over its last ~50 steps: the share of the main path's multiply-adds
//! skipped (1 − active / dense), the net share after paying for the gater
//! (1 − (active + gater) / dense), and the measured time per step, compared with the dense lane
//! when the race has one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{message, panel, window_start};
use crate::estimators::Family;
use crate::history::LaneSummary;
use crate::tui::app::App;
use crate::tui::theme;

/// One lane's bar: `width` cells, '█' for the net saving, '░' for the part the gater eats.
pub fn bar(saved: f32, net: f32, width: usize) -> String {
    let cells = |v: f32| ((v.clamp(0.0, 1.0) * width as f32).round() as usize).min(width);
    let total = cells(saved);
    let net = cells(net).min(total);
    let mut s = "█".repeat(net);
    s.push_str(&"░".repeat(total - net));
    s.push_str(&" ".repeat(width - total));
    s
}

/// Draws the compute panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let block = panel(" Compute savings · main-path multiply-adds skipped ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows: Vec<LaneSummary> = view.summaries();
    if rows.is_empty() || rows.iter().all(|r| r.compute_saved.is_none()) {
        message(frame, inner, "no steps yet");
        return;
    }
    let dense = view
        .lanes()
        .position(|l| l.info.family == Family::Dense)
        .and_then(|i| rows[i].seconds_per_step.map(|s| (i, s)))
        .filter(|(_, s)| *s > 0.0);
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .min(18);
    // "saved  90.0%  net  71.2%   12.34 ms  ×0.52"
    let numbers_w = 44;
    let bar_w = (inner.width as usize).saturating_sub(name_w + numbers_w + 2);
    let bar_w = if bar_w >= 6 { bar_w.min(40) } else { 0 };
    let mut lines = vec![Line::from(Span::styled(
        match dense {
            Some((i, _)) => format!(
                "█ net saving  ░ gater's cost  ·  time per step, ×{} = 1",
                rows[i].name
            ),
            None => "█ net saving  ░ gater's cost  ·  time per step".into(),
        },
        theme::muted(),
    ))];
    let capacity = (inner.height as usize).saturating_sub(1);
    let start = window_start(rows.len(), capacity, app.focused());
    for (i, r) in rows.iter().enumerate().skip(start).take(capacity) {
        let mut name: String = r.name.chars().take(name_w).collect();
        while name.chars().count() < name_w {
            name.push(' ');
        }
        let name_style = if i == app.focused() {
            theme::lane_text(i).patch(theme::focused())
        } else {
            theme::lane_text(i)
        };
        let mut spans = vec![Span::styled(name, name_style), Span::raw(" ")];
        if bar_w > 0 {
            spans.push(Span::styled(
                bar(
                    r.compute_saved.unwrap_or(0.0),
                    r.net_compute_saved.unwrap_or(0.0),
                    bar_w,
                ),
                theme::lane_text(i),
            ));
            spans.push(Span::raw(" "));
        }
        let pct = |v: Option<f32>| v.map_or("    –".into(), |v| format!("{:5.1}%", 100.0 * v));
        let net_style = if r.net_compute_saved.is_some_and(|v| v < 0.0) {
            theme::error()
        } else {
            Style::new()
        };
        spans.extend([
            Span::styled("saved ", theme::label()),
            Span::raw(pct(r.compute_saved)),
            Span::styled("  net ", theme::label()),
            Span::styled(pct(r.net_compute_saved), net_style),
        ]);
        if let Some(s) = r.seconds_per_step {
            spans.push(Span::raw(format!("  {:6.2} ms", 1000.0 * s)));
            if let Some((_, d)) = dense {
                spans.push(Span::styled(format!("  ×{:.2}", s / d), theme::title()));
            }
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn bars_split_net_saving_and_gater_cost() {
        assert_eq!(bar(0.9, 0.7, 10), "███████░░ ");
        assert_eq!(bar(0.5, -0.2, 4), "░░  ");
        assert_eq!(bar(1.5, 2.0, 3), "███");
        assert_eq!(bar(0.0, 0.0, 0), "");
    }

    #[test]
    fn savings_and_time_against_the_dense_lane() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 100);
        let t = text(&rendered(110, 9, |f, r| super::render(f, r, &app)));
        assert!(t.contains("Compute savings"), "{t}");
        assert!(t.contains("×dense = 1"), "{t}");
        // Lane 0 fires 10% of its gates: 90% saved; lane 4 is dense: 0% and ×1.00.
        let line = |name: &str| {
            t.lines()
                .find(|l| l.contains(&format!("│{name} ")))
                .unwrap_or_else(|| panic!("{name}: {t}"))
                .to_string()
        };
        let st = line("straight-through");
        assert!(st.contains("saved  90.0%"), "{st}");
        assert!(st.contains("1.00 ms") && st.contains("×0.20"), "{st}");
        let dense = line("dense");
        assert!(
            dense.contains("saved   0.0%") && dense.contains("×1.00"),
            "{dense}"
        );
        // Net of the gater: 1 − 0.1 − (784·200 + 200·64) / (784·64) < 0 for this tiny net.
        assert!(st.contains("net -"), "{st}");
    }

    #[test]
    fn without_a_dense_lane_only_times() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(3, 100);
        let t = text(&rendered(110, 8, |f, r| super::render(f, r, &app)));
        assert!(!t.contains("×"), "{t}");
        assert!(t.contains("ms"), "{t}");
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let app = App::live(Instant::now());
        assert!(text(&rendered(60, 8, |f, r| super::render(f, r, &app))).contains("no steps yet"));
        survives_tiny_areas(&app, super::render);
        for lanes in [1, 12] {
            let mut app = App::live(Instant::now());
            app.recorder = recorder(lanes, 50);
            app.focus = lanes - 1;
            let t = text(&rendered(100, 8, |f, r| super::render(f, r, &app)));
            let last = crate::tui::synthetic::lane_name(lanes - 1);
            assert!(t.contains(&last), "focused lane visible: {t}");
            survives_tiny_areas(&app, super::render);
        }
    }
}
