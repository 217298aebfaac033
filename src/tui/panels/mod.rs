//! The panels, one per file. Each draws the state it is given (`&App`) into an area of the
//! frame and touches nothing else; [`draw`] lays them out on the whole screen.

pub mod bias_variance;
pub mod compute;
pub mod error;
pub mod header;
pub mod heatmap;
pub mod help;
pub mod leaderboard;
pub mod legend;
pub mod loss;
pub mod status;
pub mod tabs;
pub mod timeline;
pub mod variance;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::app::App;
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH, Panel};
use super::theme;

/// Draws the whole dashboard (or, on a terminal too small for it, a message saying which size
/// it needs).
pub fn draw(frame: &mut Frame, app: &App) {
    let screen = frame.area();
    let Some(areas) = layout::areas(screen, app) else {
        let text = format!(
            "The terminal is {}×{}; the dashboard needs at least {MIN_WIDTH}×{MIN_HEIGHT}. \
             Enlarge it, or run with --headless.",
            screen.width, screen.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .alignment(Alignment::Center),
            screen,
        );
        return;
    };
    header::render(frame, areas.header, app, areas.compact);
    if let Some(t) = areas.tabs {
        tabs::render(frame, t, app, &areas);
    }
    for &(p, r) in &areas.panels {
        match p {
            Panel::Loss => loss::render(frame, r, app),
            Panel::Error => error::render(frame, r, app),
            Panel::Variance => variance::render(frame, r, app),
            Panel::BiasVariance => bias_variance::render(frame, r, app),
            Panel::Gates => heatmap::render(frame, r, app),
            Panel::Compute => compute::render(frame, r, app),
            Panel::Leaderboard => leaderboard::render(frame, r, app),
        }
    }
    // The selected panel's border stands out when it shares the screen.
    if areas.panels.len() > 1
        && let Some(r) = areas.get(app.panel)
    {
        highlight_border(frame, r);
    }
    if let Some(t) = areas.timeline {
        timeline::render(frame, t, app);
    }
    status::render(frame, areas.status, app);
    if app.help {
        help::render(frame, screen, app);
    }
}

/// Redraws the border of `area` in the selected panel's colour.
fn highlight_border(frame: &mut Frame, area: Rect) {
    if area.width < 2 || area.height < 2 {
        return;
    }
    let buf = frame.buffer_mut();
    let (x1, y1) = (area.x + area.width - 1, area.y + area.height - 1);
    let edge = |x: u16, y: u16| x == area.x || x == x1 || y == area.y || y == y1;
    for y in area.y..=y1 {
        for x in area.x..=x1 {
            if edge(x, y) {
                let cell = &mut buf[(x, y)];
                if cell.style().fg == theme::border().fg {
                    cell.set_fg(theme::selected_border());
                }
            }
        }
    }
}

/// A bordered panel with a bold title.
pub(crate) fn panel<'a>(title: impl Into<Line<'a>>) -> Block<'a> {
    Block::bordered()
        .border_style(theme::border())
        .title(title.into().style(theme::title()))
}

/// A muted message in the middle of `area` (nothing on an area too small for it).
pub(crate) fn message(frame: &mut Frame, area: Rect, text: &str) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let y = area.y + area.height.saturating_sub(1) / 2;
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme::muted())).alignment(Alignment::Center),
        Rect::new(area.x, y, area.width, 1),
    );
}

/// First item to show of `count` items in `rows` rows so that `focus` is visible (kept one row
/// away from the edges where possible).
pub(crate) fn window_start(count: usize, rows: usize, focus: usize) -> usize {
    if rows == 0 || count <= rows {
        return 0;
    }
    let focus = focus.min(count - 1);
    let max_start = count - rows;
    focus.saturating_sub(rows / 2).min(max_start)
}

/// "12.3%" or "–".
pub(crate) fn percent(v: Option<f32>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1}%", 100.0 * v))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Rendering helpers for the panel tests.

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    use crate::tui::app::App;

    /// Renders `f` into a `w`×`h` test terminal and returns the buffer.
    pub fn rendered(w: u16, h: u16, f: impl FnOnce(&mut ratatui::Frame, Rect)) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|frame| {
            let area = frame.area();
            f(frame, area)
        })
        .expect("draw");
        t.backend().buffer().clone()
    }

    /// The buffer's text, one string per line.
    pub fn lines(buf: &Buffer) -> Vec<String> {
        let area = buf.area;
        (area.y..area.y + area.height)
            .map(|y| {
                (area.x..area.x + area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    /// The numbers printed as y-axis labels of a chart drawn over the whole buffer (between
    /// the left border and the axis line), top to bottom.
    pub fn y_axis_labels(buf: &Buffer) -> Vec<f64> {
        lines(buf)
            .iter()
            .filter_map(|l| {
                let label: String = l
                    .chars()
                    .skip(1)
                    .take_while(|&c| c != '│' && c != '┤')
                    .collect();
                l.contains('┤')
                    .then(|| label.trim().parse::<f64>().ok())
                    .flatten()
            })
            .collect()
    }

    /// The buffer's text in one string.
    pub fn text(buf: &Buffer) -> String {
        lines(buf).join("\n")
    }

    /// Renders a panel at every tiny size from 0×0 to 6×6 (and thin strips): it must not
    /// panic.
    pub fn survives_tiny_areas(app: &App, panel: fn(&mut ratatui::Frame, Rect, &App)) {
        for w in 0..=6 {
            for h in 0..=6 {
                rendered(w.max(1), h.max(1), |f, _| {
                    panel(f, Rect::new(0, 0, w, h), app)
                });
            }
        }
        for (w, h) in [(1, 40), (120, 1), (120, 2), (12, 3), (3, 12)] {
            rendered(w, h, |f, area| panel(f, area, app));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn the_window_keeps_the_focus_in_view() {
        assert_eq!(window_start(5, 10, 4), 0);
        assert_eq!(window_start(12, 4, 0), 0);
        assert_eq!(window_start(12, 4, 11), 8);
        assert_eq!(window_start(12, 4, 6), 4);
        assert_eq!(window_start(12, 0, 6), 0);
        for f in 0..12 {
            let s = window_start(12, 5, f);
            assert!(s <= f && f < s + 5);
        }
    }

    #[test]
    fn a_terminal_too_small_says_which_size_is_needed() {
        let app = App::live(Instant::now());
        let buf = rendered(60, 10, |f, _| draw(f, &app));
        let t = text(&buf);
        assert!(t.contains("60×10"), "{t}");
        assert!(t.contains("80×24"), "{t}");
        for (w, h) in [(1, 1), (2, 2), (79, 30), (100, 23)] {
            rendered(w, h, |f, _| draw(f, &app));
        }
    }

    /// The plot rows of the chart drawn in `area` of `buf`: the rows above its x axis (the
    /// '└' inside the panel) that carry the y axis.
    fn plot_rows(buf: &ratatui::buffer::Buffer, area: Rect) -> usize {
        let ls = lines(buf);
        let (x0, x1) = (area.x as usize + 1, (area.x + area.width) as usize - 1);
        let row = |y: u16| -> Vec<char> { ls[y as usize].chars().skip(x0).take(x1 - x0).collect() };
        let Some((axis_y, col)) = (area.y + 1..area.y + area.height - 1)
            .find_map(|y| row(y).iter().position(|&c| c == '└').map(|c| (y, c)))
        else {
            return 0;
        };
        (area.y + 1..axis_y)
            .filter(|&y| matches!(row(y).get(col), Some('│') | Some('┤')))
            .count()
    }

    const TITLES: [(Panel, &str); 7] = [
        (Panel::Loss, "Training loss (nats)"),
        (Panel::Error, "Held-out error (%)"),
        (Panel::Variance, "Estimator variance"),
        (Panel::BiasVariance, "┌ Bias"),
        (Panel::Gates, "┌ Gates"),
        (Panel::Compute, "┌ Compute savings"),
        (Panel::Leaderboard, "┌ Leaderboard ·"),
    ];

    #[test]
    fn every_panel_at_every_size_and_each_chart_with_plot_rows() {
        for lanes in [0, 1, 5, 12] {
            for (w, h) in [(80, 24), (100, 30), (120, 32), (160, 48), (240, 64)] {
                for replay in [false, true] {
                    for (panel, title) in TITLES {
                        let mut app = if replay {
                            App::replay(recorder(lanes, 600), Instant::now())
                        } else {
                            let mut a = App::live(Instant::now());
                            a.recorder = recorder(lanes, 600);
                            a
                        };
                        app.panel = panel;
                        app.screen = Rect::new(0, 0, w, h);
                        let buf = rendered(w, h, |f, _| draw(f, &app));
                        let t = text(&buf);
                        let at = format!("{w}×{h}, {lanes} lanes, replay {replay}");
                        assert!(t.contains("gradrace"), "{at}:\n{t}");
                        assert!(t.contains(title), "{title} missing at {at}:\n{t}");
                        let areas = layout::areas(app.screen, &app).unwrap();
                        assert!(areas.get(panel).is_some(), "{panel:?} at {at}");
                        if lanes > 0 {
                            for (p, r) in &areas.panels {
                                if p.is_chart() {
                                    let rows = plot_rows(&buf, *r);
                                    assert!(rows >= 8, "{p:?}: {rows} plot rows at {at}:\n{t}");
                                }
                            }
                        }
                        if replay && lanes > 0 {
                            assert!(t.contains("step") && t.contains("/ 600"), "{at}:\n{t}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn at_large_sizes_every_lane_and_panel_at_once() {
        for (w, h) in [(160, 48), (240, 64)] {
            let mut app = App::live(Instant::now());
            app.recorder = recorder(8, 600);
            let t = text(&rendered(w, h, |f, _| draw(f, &app)));
            for (_, title) in TITLES {
                assert!(t.contains(title), "{title} missing at {w}×{h}:\n{t}");
            }
            for i in 0..8 {
                let name = crate::tui::synthetic::lane_name(i);
                assert!(t.contains(&name), "{name} missing:\n{t}");
            }
        }
    }

    #[test]
    fn zoom_fills_the_middle_with_the_selected_panel() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 600);
        app.screen = Rect::new(0, 0, 160, 48);
        app.panel = Panel::Error;
        app.act(crate::tui::keys::Action::Zoom);
        let buf = rendered(160, 48, |f, _| draw(f, &app));
        let t = text(&buf);
        assert!(
            t.contains("Held-out error (%)") && !t.contains("Training loss (nats)"),
            "{t}"
        );
        let r = layout::areas(app.screen, &app)
            .unwrap()
            .get(Panel::Error)
            .unwrap();
        assert!(plot_rows(&buf, r) >= 30, "{t}");
    }
}
