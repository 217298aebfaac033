//! A line chart for many series: y labels, axes, x labels and a canvas. Unlike ratatui's
//! `Chart`, which starts a new canvas layer for every dataset, series sharing a marker are drawn
//! into one layer, so eight lanes with their held-out points cost two layers instead of
//! sixteen. Drawing order is the order of the series within a marker, so the focused lane can
//! be drawn last, on top. Lines can be dashed, to tell apart lanes that share a colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Points};

use super::theme::Dash;

/// One series.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Points in chart coordinates, sorted by x for lines.
    pub points: &'a [(f64, f64)],
    /// Colour.
    pub color: Color,
    /// Marker.
    pub marker: Marker,
    /// Joined by lines (else separate points).
    pub line: bool,
    /// Pattern of the lines.
    pub dash: Dash,
}

/// The axes.
#[derive(Debug, Clone)]
pub struct Axes {
    /// x range.
    pub x: [f64; 2],
    /// y range.
    pub y: [f64; 2],
    /// Labels under the x axis: left, middle, right.
    pub x_labels: Vec<String>,
    /// Labels left of the y axis: bottom, middle, top.
    pub y_labels: Vec<String>,
    /// Style of axes and labels.
    pub style: Style,
}

impl Axes {
    /// Axes over `x` and `y` with the usual labels (x: linear; y: linear or log as `log_y`) in
    /// the muted style.
    pub fn labelled(x: [f64; 2], y: [f64; 2], log_y: bool) -> Axes {
        Axes {
            x,
            y,
            x_labels: super::plot::x_labels(x[0], x[1]),
            y_labels: super::plot::y_labels(y, log_y),
            style: super::theme::muted(),
        }
    }
}

/// Draws `series` with `axes` into `area` (the inside of a panel). Needs at least 4 rows and
/// 8 columns; draws nothing on less.
pub fn render(frame: &mut Frame, area: Rect, series: &[Series<'_>], axes: &Axes) {
    let label_w = axes
        .y_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0) as u16;
    if area.height < 4 || area.width < label_w + 8 {
        return;
    }
    let graph = Rect::new(
        area.x + label_w + 1,
        area.y,
        area.width - label_w - 1,
        area.height - 2,
    );
    let axis_y = area.y + area.height - 2;
    let buf = frame.buffer_mut();
    // Axes.
    for y in graph.y..axis_y {
        buf[(graph.x - 1, y)].set_symbol("│").set_style(axes.style);
    }
    buf[(graph.x - 1, axis_y)]
        .set_symbol("└")
        .set_style(axes.style);
    for x in graph.x..graph.x + graph.width {
        buf[(x, axis_y)].set_symbol("─").set_style(axes.style);
    }
    // y labels at the bottom, middle and top rows of the graph.
    let rows = [
        graph.y + graph.height - 1,
        graph.y + (graph.height - 1) / 2,
        graph.y,
    ];
    for (label, y) in axes.y_labels.iter().zip(rows) {
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!("{label:>w$}", w = label_w as usize),
                axes.style,
            )),
            Rect::new(area.x, y, label_w, 1),
        );
    }
    // x labels: left-aligned at the left, centred in the middle, right-aligned at the right.
    let label_row = Rect::new(graph.x, axis_y + 1, graph.width, 1);
    let mut line = vec![' '; graph.width as usize];
    let place = |line: &mut Vec<char>, text: &str, start: usize| {
        for (i, c) in text.chars().enumerate() {
            if let Some(slot) = line.get_mut(start + i) {
                *slot = c;
            }
        }
    };
    if let [left, mid, right] = axes.x_labels.as_slice() {
        let w = graph.width as usize;
        let (lm, lr) = (mid.chars().count(), right.chars().count());
        place(&mut line, left, 0);
        if w > left.chars().count() + lm + lr + 2 {
            place(&mut line, mid, (w - lm) / 2);
        }
        place(&mut line, right, w.saturating_sub(lr));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(
            line.into_iter().collect::<String>(),
            axes.style,
        )),
        label_row,
    );
    // The canvas: one layer per marker, in order of first appearance.
    let mut markers: Vec<Marker> = Vec::new();
    for s in series {
        if !markers.contains(&s.marker) {
            markers.push(s.marker);
        }
    }
    let Some(&first) = markers.first() else {
        return;
    };
    let canvas = Canvas::default()
        .x_bounds(axes.x)
        .y_bounds(axes.y)
        .marker(first)
        .paint(|ctx| {
            for (i, &m) in markers.iter().enumerate() {
                if i > 0 {
                    ctx.marker(m);
                }
                for s in series.iter().filter(|s| s.marker == m) {
                    if s.line && s.points.len() > 1 {
                        for (i, w) in s.points.windows(2).enumerate() {
                            if !s.dash.draws(i) {
                                continue;
                            }
                            ctx.draw(&CanvasLine {
                                x1: w[0].0,
                                y1: w[0].1,
                                x2: w[1].0,
                                y2: w[1].1,
                                color: s.color,
                            });
                        }
                    } else {
                        ctx.draw(&Points {
                            coords: s.points,
                            color: s.color,
                        });
                    }
                }
            }
        });
    frame.render_widget(canvas, graph);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panels::test_support::*;

    fn axes() -> Axes {
        Axes {
            x: [0.0, 10.0],
            y: [0.0, 1.0],
            x_labels: vec!["0".into(), "5".into(), "10".into()],
            y_labels: vec!["0".into(), "0.5".into(), "1.0".into()],
            style: Style::new(),
        }
    }

    #[test]
    fn axes_labels_and_lines_land_where_they_should() {
        let pts = [(0.0, 0.0), (10.0, 1.0)];
        let series = [Series {
            points: &pts,
            color: Color::Red,
            marker: Marker::Braille,
            line: true,
            dash: Dash::Solid,
        }];
        let buf = rendered(30, 10, |f, a| render(f, a, &series, &axes()));
        let ls = lines(&buf);
        assert!(ls[0].starts_with("1.0│"), "{ls:#?}");
        assert!(ls[7].starts_with("  0│"), "{ls:#?}");
        assert!(ls[8].starts_with("   └───"), "{ls:#?}");
        assert!(
            ls[9].starts_with("    0") && ls[9].ends_with("10"),
            "{ls:#?}"
        );
        assert!(ls[9].contains(" 5 "), "{ls:#?}");
        // The diagonal runs from the bottom left to the top right of the graph.
        assert_eq!(buf[(4, 7)].fg, Color::Red);
        assert_eq!(buf[(29, 0)].fg, Color::Red);
        assert_ne!(buf[(29, 7)].fg, Color::Red);
    }

    #[test]
    fn tiny_areas_and_no_series() {
        for w in 0..12 {
            for h in 0..6 {
                rendered(w.max(1), h.max(1), |f, _| {
                    render(f, Rect::new(0, 0, w, h), &[], &axes())
                });
            }
        }
    }
}
