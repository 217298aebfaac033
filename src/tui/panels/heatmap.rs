//! The gate heatmap of the focused lane: gate units (rows) × time (columns) or × class, the
//! colour of a cell its mean firing rate on the viridis scale, the columns spread over the whole
//! width. Each terminal line holds two rows (a half block '▀' with the upper row as foreground
//! and the lower as background). Either every unit is binned into the rows available (the panel
//! says how many units a row stands for), or, with `r`, each row is one unit and `j`/`k` (or the
//! mouse wheel) scroll through them; units are ordered by index, firing rate or class
//! selectivity (`u`). The colour scale runs from 0 to the highest rate on screen rounded up to 5%
//! (see [`scale_top`]), so gates trained to fire 10% of the time still use the whole scale; the
//! legend gives its top.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{message, panel};
use crate::engine::HeatRow;
use crate::history::LaneView;
use crate::tui::app::{App, UnitOrder};
use crate::tui::heatgrid::{self, HeatGrid, HeatKey, Rows};
use crate::tui::theme;

/// Width of the unit labels on the left.
const GUTTER: u16 = 6;

/// Units shown one per row in a heatmap panel drawn in `area` (two per line of the plot).
pub fn unit_rows(area: Rect) -> usize {
    2 * area.height.saturating_sub(3) as usize
}

/// Draws the heatmap panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let focus = app.focused();
    // A lane of several seeds: its first seed's gates.
    let runs = app.runs(focus);
    let Some(lane) = runs.first().and_then(|&r| view.lane(r)) else {
        let block = panel(" Gates ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        message(frame, inner, "no lane yet");
        return;
    };
    let name = if runs.len() > 1 {
        let race_seed = view.info().map_or(0, |i| i.seed);
        format!("{} (seed {})", lane.info.name, lane.info.seed_or(race_seed))
    } else {
        lane.info.name.clone()
    };
    let by_class = app.heat.by_class;
    // Ordering by selectivity needs the per-class snapshot.
    let order = match (app.heat.order, lane.class_firing) {
        (UnitOrder::Selectivity, None) => UnitOrder::Index,
        (o, _) => o,
    };
    let order_name = if order == app.heat.order {
        order.name().to_string()
    } else {
        "index (no class snapshot yet for selectivity)".to_string()
    };
    let title = Line::from(vec![
        Span::styled(" Gates · ", theme::title()),
        Span::styled(name, theme::lane_text(focus).add_modifier(Modifier::BOLD)),
        Span::styled(
            format!(
                " · units × {} · by {order_name} ",
                if by_class { "class" } else { "time" },
            ),
            theme::title(),
        ),
    ]);
    let block = panel(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Rows: the plot, class labels (class mode) and the scale legend.
    let label_rows = if by_class { 2 } else { 1 };
    if inner.height <= label_rows || inner.width < 4 {
        return;
    }
    let gutter = if inner.width >= 30 { GUTTER } else { 0 };
    let plot = Rect::new(
        inner.x + gutter,
        inner.y,
        inner.width - gutter,
        inner.height - label_rows,
    );
    let max_rows = 2 * plot.height as usize;
    let units = view.info().map_or(0, |i| i.experts);
    let rows = if app.heat.full {
        let first = app.heat.offset.min(units.saturating_sub(max_rows));
        Rows::Full {
            first,
            rows: max_rows,
        }
    } else {
        Rows::Fit(max_rows)
    };
    // The grid is cached (see `HeatCache`): it changes only when the focused lane's firing
    // history does, a few times a second at most, while frames come up to thirty times.
    let key = HeatKey {
        lane: focus,
        by_class,
        order,
        full: match rows {
            Rows::Full { first, .. } => Some(first),
            Rows::Fit(_) => None,
        },
        columns: plot.width as usize,
        rows: max_rows,
        units,
        points: lane.heat.len(),
        last_step: lane.heat.last().map_or(0, |r| r.step),
        class_step: lane.class_firing.map(|c| c.step),
    };
    let grid = app.heat_cache.get_or_compute(key, || {
        let g = if by_class {
            match lane.class_firing {
                Some(snap) => heatgrid::by_class(snap, order, rows),
                None => return None,
            }
        } else {
            let history: Vec<&HeatRow> = lane.heat.iter().collect();
            heatgrid::over_time(
                &history,
                units,
                order,
                lane.class_firing,
                rows,
                plot.width as usize,
            )
        };
        (!g.is_empty()).then_some(g)
    });
    let Some(grid) = grid else {
        message(
            frame,
            inner,
            if by_class {
                "no per-class snapshot yet"
            } else {
                "no firing data yet"
            },
        );
        return;
    };
    paint(frame.buffer_mut(), plot, &grid);
    if gutter > 0 {
        gutter_labels(
            frame,
            Rect::new(inner.x, inner.y, gutter - 1, plot.height),
            &grid,
            order,
        );
    }
    let below = inner.y + plot.height;
    if by_class {
        let mut labels = String::new();
        for c in 0..grid.columns {
            let label = c.to_string();
            let w = span(c, grid.columns, plot.width as usize).len();
            labels.push_str(&format!("{label:^w$}"));
        }
        frame.render_widget(
            Paragraph::new(Span::styled(labels, theme::muted())),
            Rect::new(plot.x, below, plot.width, 1),
        );
    }
    let scale = scale_line(&grid, &lane, by_class);
    frame.render_widget(
        Paragraph::new(scale),
        Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
    );
}

/// The unit labels left of the plot: at one unit per row, the index of the upper unit of every
/// third line; binned, the first and last unit (by index) or "high" and "low" (by rate or
/// selectivity).
fn gutter_labels(frame: &mut Frame, area: Rect, grid: &HeatGrid, order: UnitOrder) {
    let used = grid.rows.div_ceil(2).min(area.height as usize) as u16;
    let buf = frame.buffer_mut();
    let mut put = |line: u16, text: &str| {
        if line < area.height {
            buf.set_stringn(
                area.x,
                area.y + line,
                text,
                area.width as usize,
                theme::muted(),
            );
        }
    };
    if grid.units_per_row == 1 && grid.shown < grid.units {
        for line in (0..used).step_by(3) {
            if let Some(u) = grid.row_units.get(2 * line as usize) {
                put(line, &format!("u{u}"));
            }
        }
        return;
    }
    let (top, bottom) = match order {
        UnitOrder::Index => (
            "u0".to_string(),
            format!("u{}", grid.units.saturating_sub(1)),
        ),
        UnitOrder::Rate => ("high".to_string(), "low".to_string()),
        UnitOrder::Selectivity => ("sel.".to_string(), "none".to_string()),
    };
    put(0, &top);
    if used > 1 {
        put(used - 1, &bottom);
    }
}

/// The top of the colour scale for `grid`: its highest value rounded up to a multiple of 5%,
/// within [5%, 100%].
pub fn scale_top(grid: &HeatGrid) -> f32 {
    ((grid.max() * 20.0).ceil() / 20.0).clamp(0.05, 1.0)
}

/// The cells of column `col` of `columns` spread over `width` cells: ⌊col·width/columns⌋ up to
/// ⌊(col + 1)·width/columns⌋, so that the columns fill the width and differ by at most one cell.
fn span(col: usize, columns: usize, width: usize) -> std::ops::Range<usize> {
    let columns = columns.max(1);
    col * width / columns..(col + 1) * width / columns
}

/// Fills `area` with the grid (every column as wide as [`span`] says): terminal line r shows
/// rows 2r (upper half) and 2r + 1 (lower).
fn paint(buf: &mut Buffer, area: Rect, grid: &HeatGrid) {
    let top_of_scale = scale_top(grid);
    let colour = |v: f32| theme::heat(v / top_of_scale);
    for line in 0..area.height {
        let (upper, lower) = (2 * line as usize, 2 * line as usize + 1);
        if upper >= grid.rows {
            break;
        }
        for col in 0..grid.columns {
            let top = grid.get(upper, col);
            let bottom = grid.get(lower, col);
            for k in span(col, grid.columns, area.width as usize) {
                let x = area.x as usize + k;
                if let Some(cell) = buf.cell_mut((x as u16, area.y + line)) {
                    let mut style = Style::new().fg(colour(top.unwrap_or(0.0)));
                    if let Some(b) = bottom {
                        style = style.bg(colour(b));
                    }
                    cell.set_symbol("▀").set_style(style);
                }
            }
        }
    }
}

/// The colour scale legend, what a row stands for (and which units are shown when scrolled)
/// and the extent of the data.
fn scale_line(grid: &HeatGrid, lane: &LaneView<'_>, by_class: bool) -> Line<'static> {
    let mut spans = vec![Span::styled("0%", theme::muted())];
    for i in 0..8 {
        spans.push(Span::styled(
            "█",
            Style::new().fg(theme::heat(i as f32 / 7.0)),
        ));
    }
    spans.push(Span::styled(
        format!("{:.0}%", 100.0 * scale_top(grid)),
        theme::muted(),
    ));
    let per_row = if grid.units_per_row == 1 {
        if grid.shown < grid.units {
            format!(
                "1 row = 1 unit · {}–{} of {} (j/k)",
                grid.first + 1,
                grid.first + grid.shown,
                grid.units
            )
        } else {
            "1 row = 1 unit".to_string()
        }
    } else {
        format!("1 row = {} units (r: 1 each)", grid.units_per_row)
    };
    spans.push(Span::styled(format!("  {per_row}"), theme::label()));
    let extent = if by_class {
        lane.class_firing
            .map(|c| format!("  at step {}", c.step))
            .unwrap_or_default()
    } else {
        match (lane.heat.iter().next(), lane.heat.last()) {
            (Some(a), Some(b)) => format!("  steps {}–{} →", a.step, b.step),
            _ => String::new(),
        }
    };
    spans.push(Span::styled(extent, theme::muted()));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::{race, recorder};
    use ratatui::style::Color;
    use std::time::Instant;

    fn app(lanes: usize, steps: u64, units: usize) -> App {
        let mut app = App::live(Instant::now());
        app.recorder = race(lanes, steps, units);
        app
    }

    #[test]
    fn units_by_time_binned_with_a_legend() {
        let a = app(2, 1000, 2000);
        let buf = rendered(70, 14, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("Gates · straight-through · units × time"), "{t}");
        // 12 inner lines − 1 legend = 11 lines = 22 rows: ⌈2000/22⌉ = 91 units a row.
        assert!(t.contains("1 row = 91 units"), "{t}");
        assert!(t.contains("by index"), "{t}");
        // Unit 0 always fires in the synthetic race: the scale tops at 100%.
        assert!(t.contains("0%") && t.contains("100%"), "{t}");
        assert!(t.contains("steps 10–1000"), "{t}");
        assert!(t.contains("u0") && t.contains("u1999"), "{t}");
        // Low-index units fire more in the synthetic race: the top-left cell is brighter
        // (closer to viridis yellow) than the bottom-left one.
        let top = buf[(1 + GUTTER, 1)].fg;
        let bottom = buf[(1 + GUTTER, 11)].bg;
        let green = |c: Color| match c {
            Color::Rgb(_, g, _) => g,
            _ => 0,
        };
        assert!(green(top) > green(bottom), "{top:?} vs {bottom:?}");
        assert_eq!(buf[(1 + GUTTER, 1)].symbol(), "▀");
    }

    /// Fewer windows than columns (24 for a plot 62 cells wide): the windows, 2 or 3 cells each,
    /// fill the plot to its right edge, as the line charts' x axes run to the latest step.
    #[test]
    fn few_windows_fill_the_plots_width() {
        let a = app(2, 240, 64);
        let buf = rendered(70, 14, |f, r| super::render(f, r, &a));
        let t = text(&buf);
        assert!(t.contains("steps 10–240"), "{t}");
        let (left, right) = (1 + GUTTER, 70 - 1);
        let row: String = (left..right).map(|x| buf[(x, 1)].symbol()).collect();
        assert_eq!(row, "▀".repeat((right - left) as usize), "{t}");
        // Every window 2 or 3 cells wide, none twice as wide as another.
        let widths: Vec<usize> = (0..24).map(|c| span(c, 24, 62).len()).collect();
        assert!(widths.iter().all(|w| (2..=3).contains(w)), "{widths:?}");
        assert_eq!(widths.iter().sum::<usize>(), 62);
        assert_eq!(
            span(0, 0, 5),
            0..5,
            "no columns: one span of the whole width"
        );
    }

    #[test]
    fn the_colour_scale_tops_at_the_highest_rate_shown() {
        let row = |r: Vec<u8>| HeatRow {
            step: 1,
            count: 1,
            rates: r,
        };
        let sparse = row(vec![0, 20, 30]);
        let fit = heatgrid::Rows::Fit(4);
        let g = heatgrid::over_time(&[&sparse], 3, UnitOrder::Index, None, fit, 4);
        // 30/255 = 11.8% → 15%.
        assert_eq!(scale_top(&g), 0.15);
        let silent = row(vec![0, 0]);
        assert_eq!(
            scale_top(&heatgrid::over_time(
                &[&silent],
                2,
                UnitOrder::Index,
                None,
                fit,
                4
            )),
            0.05
        );
        let mut a = App::live(Instant::now());
        a.recorder = race(1, 20, 3);
        a.recorder.lanes[0].heat = Default::default();
        a.recorder.lanes[0].heat.push(sparse);
        let t = text(&rendered(60, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains("0%████████15%"), "{t}");
    }

    #[test]
    fn units_by_class_show_each_digit() {
        let mut a = app(2, 1000, 100);
        a.act(Action::HeatMode);
        a.act(Action::FocusNext);
        let t = text(&rendered(70, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("Gates · sts · units × class"), "{t}");
        for d in 0..10 {
            assert!(t.contains(&format!(" {d} ")), "digit {d}: {t}");
        }
        assert!(t.contains("at step 1000"), "{t}");
        a.act(Action::UnitOrder);
        let t = text(&rendered(70, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("by firing rate") && t.contains("high"), "{t}");
    }

    #[test]
    fn empty_one_and_twelve_lanes() {
        let empty = App::live(Instant::now());
        let t = text(&rendered(50, 10, |f, r| super::render(f, r, &empty)));
        assert!(t.contains("no lane yet"), "{t}");
        survives_tiny_areas(&empty, super::render);
        let mut fresh = app(1, 5, 64);
        fresh.recorder.lanes[0].heat = Default::default();
        let t = text(&rendered(50, 10, |f, r| super::render(f, r, &fresh)));
        assert!(t.contains("no firing data yet"), "{t}");
        fresh.act(Action::HeatMode);
        fresh.recorder.lanes[0].class_firing = None;
        let t = text(&rendered(50, 10, |f, r| super::render(f, r, &fresh)));
        assert!(t.contains("no per-class snapshot yet"), "{t}");
        for lanes in [1, 12] {
            let mut a = App::live(Instant::now());
            a.recorder = recorder(lanes, 300);
            a.focus = lanes - 1;
            survives_tiny_areas(&a, super::render);
            a.act(Action::HeatMode);
            survives_tiny_areas(&a, super::render);
        }
    }

    #[test]
    fn one_unit_per_row_scrolls_through_the_units() {
        let mut a = app(2, 1000, 1000);
        a.act(Action::HeatResolution);
        let t = text(&rendered(70, 14, |f, r| super::render(f, r, &a)));
        // 11 plot lines = 22 units: units 1–22 of 1000.
        assert!(t.contains("1 row = 1 unit · 1–22 of 1000"), "{t}");
        assert!(t.contains("u0") && t.contains("u6"), "{t}");
        a.heat.offset = 500;
        let t = text(&rendered(70, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("501–522 of 1000") && t.contains("u500"), "{t}");
        // Past the end: the window stays full.
        a.heat.offset = 5000;
        let t = text(&rendered(70, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("979–1000 of 1000"), "{t}");
        // Individual units differ: the synthetic rates fall with the index, so neighbouring
        // rows at the top of the run are different colours.
        a.heat.offset = 0;
        let buf = rendered(70, 14, |f, r| super::render(f, r, &a));
        let x = 1 + GUTTER + 60;
        assert_ne!(buf[(x, 1)].fg, buf[(x, 1)].bg);
    }

    #[test]
    fn units_by_selectivity_need_a_class_snapshot() {
        let mut a = app(1, 1000, 100);
        a.act(Action::UnitOrder);
        a.act(Action::UnitOrder);
        let t = text(&rendered(80, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("by class selectivity"), "{t}");
        assert!(!t.contains("no class snapshot"), "{t}");
        a.recorder.lanes[0].class_firing = None;
        let t = text(&rendered(100, 14, |f, r| super::render(f, r, &a)));
        assert!(t.contains("by index (no class snapshot yet"), "{t}");
    }
}
