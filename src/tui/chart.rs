//! A line chart for many series: y ticks, axes, x ticks, a canvas, glyphs over the canvas and
//! labels at the right end of the lines. Unlike ratatui's `Chart`, which starts a new canvas
//! layer for every dataset, series sharing a marker are drawn into one layer, so eight lanes
//! with their evaluation points cost two layers instead of sixteen. Drawing order is the order of
//! the series within a marker, so the focused lane can be drawn last, on top.
//!
//! Ticks sit at "nice" values (1, 2 or 5 × 10^k apart, or decades on a log axis), about one
//! every three rows and one every twelve columns, each axis labelled in one notation (see
//! [`plot::ticks`]). Glyphs ([`Overlay`]) are drawn as text over the Braille canvas, so they
//! survive where a dashed Braille line would not: they mark lanes 9 and up, and the points where
//! a clipped lane leaves the chart.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Points};

use super::plot;

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
    /// A glyph drawn along the line every [`GLYPH_EVERY`] cells (lanes 9 and up).
    pub glyph: Option<&'static str>,
}

/// Cells between two glyphs along a line.
pub const GLYPH_EVERY: u16 = 9;

/// A glyph at a point of the chart (clamped into the plot area).
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// x in chart coordinates.
    pub x: f64,
    /// y in chart coordinates.
    pub y: f64,
    /// The glyph (one cell).
    pub symbol: &'static str,
    /// Its colour.
    pub color: Color,
}

/// A label right of the plot at the height of `y`: a lane's latest value.
#[derive(Debug, Clone, PartialEq)]
pub struct EndLabel {
    /// y in chart coordinates.
    pub y: f64,
    /// The text.
    pub text: String,
    /// Its colour.
    pub color: Color,
}

/// The axes.
#[derive(Debug, Clone)]
pub struct Axes {
    /// x range.
    pub x: [f64; 2],
    /// y range (log10 of the values on a log axis).
    pub y: [f64; 2],
    /// The y axis is log10.
    pub log_y: bool,
    /// The x axis is log10 (its range in log10 of the values).
    pub log_x: bool,
    /// Style of axes and labels.
    pub style: Style,
}

impl Axes {
    /// Linear x over `x`, y over `y` (log10 values when `log_y`), in the muted style.
    pub fn new(x: [f64; 2], y: [f64; 2], log_y: bool) -> Axes {
        Axes {
            x,
            y,
            log_y,
            log_x: false,
            style: super::theme::muted(),
        }
    }
}

/// A shaded band behind a lane's line: the cells between `lo` and `hi` get a dark shade of
/// the lane's colour as background, the line and points drawn over it keep theirs.
#[derive(Debug, Clone, Copy)]
pub struct Band<'a> {
    /// (x, lo, hi) in chart coordinates, sorted by x; between two points the band is
    /// interpolated linearly, column by column.
    pub points: &'a [(f64, f64, f64)],
    /// The background colour.
    pub color: Color,
}

/// A lane colour darkened for a band's background: a third of its intensity (other colours:
/// dark grey).
pub fn band_color(color: Color) -> Color {
    match color {
        Color::Rgb(r, g, b) => {
            let d = |c: u8| (f32::from(c) * 0.33).round() as u8;
            Color::Rgb(d(r), d(g), d(b))
        }
        _ => Color::DarkGray,
    }
}

/// Shades `bands` into the plot of a chart drawn by [`render`] in `area` with the same `axes`
/// and `end_labels` (call it after [`render`], whose canvas clears the backgrounds).
pub fn shade(
    frame: &mut Frame,
    area: Rect,
    axes: &Axes,
    end_labels: &[EndLabel],
    bands: &[Band<'_>],
) {
    let Some((graph, _)) = plot_area(area, axes, end_labels) else {
        return;
    };
    let buf = frame.buffer_mut();
    for band in bands {
        let cells: Vec<(u16, f64, f64)> = band
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
            .map(|&(x, lo, hi)| (column(graph, axes.x, x), lo, hi))
            .collect();
        let mut fill = |c: u16, lo: f64, hi: f64| {
            let (top, bottom) = (
                row(graph, axes.y, hi.max(lo)),
                row(graph, axes.y, lo.min(hi)),
            );
            for y in top..=bottom {
                buf[(c, y)].set_bg(band.color);
            }
        };
        for (i, &(c, lo, hi)) in cells.iter().enumerate() {
            fill(c, lo, hi);
            if let Some(&(c1, lo1, hi1)) = cells.get(i + 1) {
                for k in c + 1..c1 {
                    let t = f64::from(k - c) / f64::from(c1 - c);
                    fill(k, lo + t * (lo1 - lo), hi + t * (hi1 - hi));
                }
            }
        }
    }
}

/// Rows between two y ticks, at least.
const ROWS_PER_TICK: u16 = 2;
/// Columns between two x ticks, at least.
const COLUMNS_PER_TICK: u16 = 12;

/// Where the plot of a chart drawn in `area` goes: the rows and columns left after the y
/// labels, the axes, the x labels and (with `end_labels`) the right margin. None when the area
/// is too small to draw a chart (fewer than 4 rows or 12 columns).
pub fn plot_area(area: Rect, axes: &Axes, end_labels: &[EndLabel]) -> Option<(Rect, u16)> {
    if area.height < 4 || area.width < 12 {
        return None;
    }
    let rows = area.height - 2;
    let y_ticks = y_ticks(axes, rows);
    let label_w = y_ticks
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(1) as u16;
    let margin = end_labels
        .iter()
        .map(|l| l.text.chars().count() as u16 + 1)
        .max()
        .unwrap_or(0);
    let margin = if area.width >= label_w + 1 + margin + 20 {
        margin
    } else {
        0
    };
    if area.width < label_w + 1 + margin + 8 {
        return None;
    }
    Some((
        Rect::new(
            area.x + label_w + 1,
            area.y,
            area.width - label_w - 1 - margin,
            rows,
        ),
        label_w,
    ))
}

/// The most y ticks a plot `rows` rows high gets.
pub fn max_y_ticks(rows: u16) -> usize {
    (rows / ROWS_PER_TICK + 1).clamp(2, 10) as usize
}

fn y_ticks(axes: &Axes, rows: u16) -> Vec<(f64, String)> {
    plot::ticks(axes.y, axes.log_y, max_y_ticks(rows))
}

/// The cell column of x in `graph` (as the Braille canvas places it).
fn column(graph: Rect, range: [f64; 2], x: f64) -> u16 {
    let span = range[1] - range[0];
    let dots = 2.0 * graph.width as f64 - 1.0;
    let px = if span > 0.0 {
        ((x - range[0]) / span * dots).clamp(0.0, dots)
    } else {
        0.0
    };
    graph.x + (px as u16 / 2).min(graph.width - 1)
}

/// The cell row of y in `graph` (as the Braille canvas places it).
fn row(graph: Rect, range: [f64; 2], y: f64) -> u16 {
    let span = range[1] - range[0];
    let dots = 4.0 * graph.height as f64 - 1.0;
    let py = if span > 0.0 {
        ((range[1] - y) / span * dots).clamp(0.0, dots)
    } else {
        0.0
    };
    graph.y + (py as u16 / 4).min(graph.height - 1)
}

/// Draws `series` with `axes` into `area` (the inside of a panel), then `overlays` over the
/// plot and `end_labels` right of it. Needs at least 4 rows and 12 columns; draws nothing on
/// less.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    series: &[Series<'_>],
    axes: &Axes,
    overlays: &[Overlay],
    end_labels: &[EndLabel],
) {
    let Some((graph, label_w)) = plot_area(area, axes, end_labels) else {
        return;
    };
    let axis_y = graph.y + graph.height;
    let y_ticks = y_ticks(axes, graph.height);
    let buf = frame.buffer_mut();
    // The y axis, a tick mark and a label at every tick.
    for y in graph.y..axis_y {
        buf[(graph.x - 1, y)].set_symbol("│").set_style(axes.style);
    }
    for (v, label) in &y_ticks {
        let r = row(graph, axes.y, *v);
        buf[(graph.x - 1, r)].set_symbol("┤").set_style(axes.style);
        buf.set_stringn(
            area.x + label_w.saturating_sub(label.chars().count() as u16),
            r,
            label,
            label_w as usize,
            axes.style,
        );
    }
    buf[(graph.x - 1, axis_y)]
        .set_symbol("└")
        .set_style(axes.style);
    for x in graph.x..graph.x + graph.width {
        buf[(x, axis_y)].set_symbol("─").set_style(axes.style);
    }
    // x ticks: labels centred on their column, dropped where they would collide.
    let max_x = (graph.width / COLUMNS_PER_TICK + 1).clamp(2, 12) as usize;
    let x_ticks = plot::ticks(axes.x, axes.log_x, max_x);
    let mut free_from = graph.x;
    let right_end = graph.x + graph.width;
    for (v, label) in &x_ticks {
        let c = column(graph, axes.x, *v);
        let w = label.chars().count() as u16;
        let start = c.saturating_sub(w / 2).max(graph.x);
        let start = if start + w > right_end {
            right_end.saturating_sub(w)
        } else {
            start
        };
        if start < free_from || start < graph.x {
            continue;
        }
        buf[(c, axis_y)].set_symbol("┬").set_style(axes.style);
        buf.set_stringn(start, axis_y + 1, label, w as usize, axes.style);
        free_from = start + w + 1;
    }
    // The canvas: one layer per marker, in order of first appearance.
    let mut markers: Vec<Marker> = Vec::new();
    for s in series {
        if !markers.contains(&s.marker) {
            markers.push(s.marker);
        }
    }
    if let Some(&first) = markers.first() {
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
                            for w in s.points.windows(2) {
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
    let buf = frame.buffer_mut();
    // Glyphs along the lines of lanes 9 and up.
    for s in series {
        let Some(glyph) = s.glyph else { continue };
        let mut next = graph.x;
        for &(x, y) in s.points {
            let c = column(graph, axes.x, x);
            if c >= next {
                buf[(c, row(graph, axes.y, y))]
                    .set_symbol(glyph)
                    .set_fg(s.color);
                next = c + GLYPH_EVERY;
            }
        }
    }
    for o in overlays {
        buf[(column(graph, axes.x, o.x), row(graph, axes.y, o.y))]
            .set_symbol(o.symbol)
            .set_fg(o.color);
    }
    // Labels right of the plot, each on the row of its value, pushed apart to not overlap
    // while keeping their order (the highest value on top).
    if area.x + area.width > right_end + 1 {
        let width = (area.x + area.width - right_end - 1) as usize;
        for (y, l) in label_rows(graph, axes.y, end_labels) {
            buf.set_stringn(right_end + 1, y, &l.text, width, Style::new().fg(l.color));
        }
    }
}

/// The row of each end label: its value's row, moved down just enough not to overlap the label
/// above, then the stack moved up from the bottom where it ran past the plot. At most one label
/// a row (those that do not fit are dropped).
fn label_rows(graph: Rect, range: [f64; 2], labels: &[EndLabel]) -> Vec<(u16, &EndLabel)> {
    let mut placed: Vec<(u16, &EndLabel)> =
        labels.iter().map(|l| (row(graph, range, l.y), l)).collect();
    placed.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.y.total_cmp(&a.1.y)));
    placed.truncate(graph.height as usize);
    let bottom = graph.y + graph.height - 1;
    for i in 1..placed.len() {
        placed[i].0 = placed[i].0.max(placed[i - 1].0 + 1);
    }
    let mut limit = bottom;
    for p in placed.iter_mut().rev() {
        p.0 = p.0.min(limit);
        limit = p.0.saturating_sub(1);
    }
    placed
}

/// Rows of `area` a chart leaves to its plot (its height less the x axis and its labels).
pub fn plot_rows(area: Rect) -> u16 {
    area.height.saturating_sub(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panels::test_support::*;

    fn axes() -> Axes {
        Axes {
            x: [0.0, 10.0],
            y: [0.0, 1.0],
            log_y: false,
            log_x: false,
            style: Style::new(),
        }
    }

    #[test]
    fn axes_ticks_and_lines_land_where_they_should() {
        let pts = [(0.0, 0.0), (10.0, 1.0)];
        let series = [Series {
            points: &pts,
            color: Color::Red,
            marker: Marker::Braille,
            line: true,
            glyph: None,
        }];
        let buf = rendered(30, 10, |f, a| render(f, a, &series, &axes(), &[], &[]));
        let ls = lines(&buf);
        // Eight plot rows: ticks 0, 0.5, 1.0 (one every three rows at most).
        assert!(ls[0].starts_with("1.0┤"), "{ls:#?}");
        assert!(ls[7].starts_with("  0┤"), "{ls:#?}");
        assert!(ls.iter().any(|l| l.starts_with("0.5┤")), "{ls:#?}");
        assert!(ls[8].starts_with("   └┬"), "{ls:#?}");
        assert!(
            ls[9].starts_with("    0") && ls[9].trim_end().ends_with("10"),
            "{ls:#?}"
        );
        // The diagonal runs from the bottom left to the top right of the plot.
        assert_eq!(buf[(4, 7)].fg, Color::Red);
        assert_eq!(buf[(29, 0)].fg, Color::Red);
        assert_ne!(buf[(29, 7)].fg, Color::Red);
    }

    #[test]
    fn more_rows_more_ticks() {
        let ticks_on = |h: u16| {
            let buf = rendered(40, h, |f, a| render(f, a, &[], &axes(), &[], &[]));
            lines(&buf).iter().filter(|l| l.contains('┤')).count()
        };
        assert!(ticks_on(8) >= 2);
        assert!(ticks_on(20) >= 5, "{}", ticks_on(20));
        assert!(ticks_on(40) >= 6);
    }

    #[test]
    fn overlays_glyphs_and_end_labels() {
        let pts: Vec<(f64, f64)> = (0..=10).map(|i| (i as f64, 0.5)).collect();
        let series = [Series {
            points: &pts,
            color: Color::Blue,
            marker: Marker::Braille,
            line: true,
            glyph: Some("◆"),
        }];
        let marks = [Overlay {
            x: 5.0,
            y: 7.0,
            symbol: "▲",
            color: Color::Red,
        }];
        let labels = [
            EndLabel {
                y: 0.5,
                text: "5.0%".into(),
                color: Color::Blue,
            },
            EndLabel {
                y: 0.5,
                text: "5.1%".into(),
                color: Color::Green,
            },
        ];
        let buf = rendered(50, 12, |f, a| {
            render(f, a, &series, &axes(), &marks, &labels)
        });
        let t = text(&buf);
        assert!(t.matches('◆').count() >= 3, "{t}");
        // The clipped point sits on the top row.
        assert!(lines(&buf)[0].contains('▲'), "{t}");
        // Both labels shown, on different rows, right of the plot.
        let rows: Vec<usize> = lines(&buf)
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("5.0%") || l.contains("5.1%"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(rows.len(), 2, "{t}");
        assert!(lines(&buf)[rows[0]].ends_with("5.0%") || lines(&buf)[rows[0]].ends_with("5.1%"));
    }

    #[test]
    fn end_labels_keep_the_order_of_their_values() {
        let graph = Rect::new(0, 0, 20, 6);
        let label = |y: f64| EndLabel {
            y,
            text: format!("{y}"),
            color: Color::Red,
        };
        // Four values crowding the bottom rows: stacked upwards, highest on top.
        let labels = [label(0.1), label(0.05), label(0.12), label(0.0)];
        let rows: Vec<(u16, String)> = label_rows(graph, [0.0, 1.0], &labels)
            .into_iter()
            .map(|(r, l)| (r, l.text.clone()))
            .collect();
        let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["0.12", "0.1", "0.05", "0"]);
        let rs: Vec<u16> = rows.iter().map(|(r, _)| *r).collect();
        assert_eq!(rs, [2, 3, 4, 5]);
        // More labels than rows: the extra ones are dropped.
        let many: Vec<EndLabel> = (0..10).map(|i| label(i as f64 / 10.0)).collect();
        assert_eq!(label_rows(graph, [0.0, 1.0], &many).len(), 6);
    }

    #[test]
    fn tiny_areas_and_no_series() {
        for w in 0..14 {
            for h in 0..6 {
                rendered(w.max(1), h.max(1), |f, _| {
                    render(f, Rect::new(0, 0, w, h), &[], &axes(), &[], &[])
                });
            }
        }
    }
}
