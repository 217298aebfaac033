//! The figures of a race, drawn with plotters as SVG at a size meant for one column of a paper
//! (480 units wide: a 480 × 340 chart, and under a line chart a key of its lanes; axis titles
//! with units; text about 7–8 pt once the figure is scaled to a 3.3-inch column) in the
//! dashboard's colours: every lane keeps its Okabe–Ito colour (colour-blind safe; after eight
//! lanes dashed, then dotted; lines of the palette's yellow darkened to stand out on white),
//! firing rates use viridis.
//!
//! Over seeds, a lane is drawn as the mean of its seeds at each x with a band for the 95%
//! Student-t interval of that mean, x̄ ± t₀.₉₇₅,ₙ₋₁·s/√n (no band with one seed, except the
//! estimator variance's: the interval of the measurement itself, see [`estimator_variance`]). Quantities
//! that span decades and are drawn on a log scale — the training loss, the estimator variance —
//! are averaged as log₁₀: the geometric mean 10^(mean log₁₀ v), with the interval of the mean
//! log₁₀ v mapped back.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::history::{FIRING_WINDOW, LaneHistory, Recorder};
use crate::lab::variance_interval;
use crate::palette;
use crate::stats::MeanInterval;

/// Width of a figure (SVG user units, pixels at 1×).
pub const WIDTH: u32 = 480;
/// Height of a figure.
pub const HEIGHT: u32 = 340;
/// Font family the figures ask for; the PNG renderer maps it to the embedded DejaVu Sans.
pub const FONT: &str = "sans-serif";
const AXIS_TITLE: u32 = 20;
const TICKS: u32 = 18;
const LEGEND: u32 = 17;
/// Height of one row of the key under a chart.
const KEY_ROW: u32 = 20;

/// A drawn figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name without extension, e.g. "heldout-error".
    pub name: String,
    /// One sentence saying what it shows (for captions).
    pub caption: String,
    /// The series drawn (lane names; for the heatmap, the lane shown).
    pub series: Vec<String>,
    /// The SVG document.
    pub svg: String,
}

/// A figure that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing {figure}: {message}")]
pub struct FigureError {
    /// The figure.
    pub figure: String,
    /// What failed.
    pub message: String,
}

fn fail(figure: &str) -> impl Fn(String) -> FigureError + use<> {
    let figure = figure.to_string();
    move |message| FigureError {
        figure: figure.clone(),
        message,
    }
}

fn registered_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans measures the text in the SVG, and draws it in PNGs.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// The colour of group `index`, as in the dashboard.
fn lane_color(index: usize) -> RGBColor {
    let (r, g, b) = palette::lane(index);
    RGBColor(r, g, b)
}

/// The colour of group `index`'s lines on white paper: its colour, darkened by a quarter when
/// it is too light to stand out on white (relative luminance 0.2126 R + 0.7152 G + 0.0722 B
/// above 0.75 of full scale: the palette's yellow).
fn line_color(index: usize) -> RGBColor {
    let RGBColor(r, g, b) = lane_color(index);
    let luminance = (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)) / 255.0;
    if luminance > 0.75 {
        let dark = |c: u8| (f64::from(c) * 0.75).round() as u8;
        RGBColor(dark(r), dark(g), dark(b))
    } else {
        RGBColor(r, g, b)
    }
}

/// One entry of the key under a figure: a line sample or a filled swatch, and its text.
struct KeyEntry {
    text: String,
    color: RGBColor,
    /// None: a filled swatch; Some: a line with this pattern.
    line: Option<Dash>,
}

/// Columns and rows of the key of `entries` across the figure's width (text about 0.6 em a
/// character at [`LEGEND`] units).
fn key_layout(entries: &[KeyEntry]) -> (usize, usize) {
    let longest = entries
        .iter()
        .map(|e| e.text.chars().count())
        .max()
        .unwrap_or(0);
    let width = 30.0 + longest as f64 * 0.6 * f64::from(LEGEND) * 0.81;
    let columns = ((f64::from(WIDTH) - 20.0) / width).floor().max(1.0) as usize;
    let columns = columns.min(entries.len().max(1));
    (columns, entries.len().div_ceil(columns))
}

/// The height the key of `entries` takes under the chart.
fn key_height(entries: &[KeyEntry]) -> u32 {
    if entries.is_empty() {
        0
    } else {
        key_layout(entries).1 as u32 * KEY_ROW + 6
    }
}

/// Draws the key of `entries` in `area` (the strip under the chart), row by row.
fn draw_key(area: &DrawingArea<SVGBackend, Shift>, entries: &[KeyEntry]) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    let (columns, _) = key_layout(entries);
    let column_width = (WIDTH as i32 - 20) / columns as i32;
    let font = (FONT, LEGEND).into_font();
    for (i, e) in entries.iter().enumerate() {
        let (col, row) = ((i % columns) as i32, (i / columns) as i32);
        let (x, y) = (
            10 + col * column_width,
            row * KEY_ROW as i32 + KEY_ROW as i32 / 2,
        );
        let drawn = match e.line {
            None => area.draw(&Rectangle::new(
                [(x, y - 6), (x + 20, y + 6)],
                e.color.filled(),
            )),
            Some(Dash::Solid) => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                e.color.stroke_width(3),
            )),
            Some(dash) => {
                let (on, off) = if matches!(dash, Dash::Dashed) {
                    (7, 4)
                } else {
                    (2, 3)
                };
                let mut result = Ok(());
                let mut from = x;
                while from < x + 22 && result.is_ok() {
                    let to = (from + on).min(x + 22);
                    result = area.draw(&PathElement::new(
                        vec![(from, y), (to, y)],
                        e.color.stroke_width(3),
                    ));
                    from = to + off;
                }
                result
            }
        };
        drawn.map_err(|e| e.to_string())?;
        area.draw(&Text::new(
            e.text.clone(),
            (x + 28, y),
            TextStyle::from(font.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The line pattern of group `index` on paper: solid for the first set of palette colours, then
/// dashed, then dotted, in turn (the dashboard marks the later sets with glyphs instead, which
/// a printed line does not need).
fn dash(index: usize) -> Dash {
    match palette::lane_set(index) % 3 {
        0 => Dash::Solid,
        1 => Dash::Dashed,
        _ => Dash::Dotted,
    }
}

/// A line pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dash {
    /// Continuous.
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
}

/// The lanes of `r` grouped by name (seeds together), in race order.
pub fn groups(r: &Recorder) -> Vec<(String, Vec<&LaneHistory>)> {
    r.lanes_by_name()
        .into_iter()
        .map(|g| {
            let lanes: Vec<&LaneHistory> = g.into_iter().map(|i| &r.lanes[i]).collect();
            (lanes[0].info.name.clone(), lanes)
        })
        .collect()
}

/// One curve per lane of `r` with any points: `series` of each of its seeds (x, y), combined
/// by [`across_seeds`] (as log₁₀ when `log`), numbered by the lane's place.
fn lane_curves(
    r: &Recorder,
    log: bool,
    series: impl Fn(&LaneHistory) -> Vec<(f64, f64)>,
) -> Vec<(usize, String, Curve)> {
    groups(r)
        .into_iter()
        .enumerate()
        .map(|(i, (name, lanes))| {
            let per_seed: Vec<Vec<(f64, f64)>> = lanes.iter().map(|h| series(h)).collect();
            (i, name, across_seeds(&per_seed, log))
        })
        .filter(|c| !c.2.is_empty())
        .collect()
}

/// A lane's curve over seeds: (x, mean, lower, upper) per x.
type Curve = Vec<(f64, f64, f64, f64)>;

/// Mean and interval across seeds of values at the same x, for xs where every seed that reached
/// it has a value. `log`: averaged as log₁₀ (positive values only), returned back in linear units.
fn across_seeds(per_seed: &[Vec<(f64, f64)>], log: bool) -> Curve {
    let mut xs: Vec<f64> = per_seed
        .iter()
        .flat_map(|s| s.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut out = Vec::new();
    for x in xs {
        let values: Vec<f64> = per_seed
            .iter()
            .filter_map(|s| s.iter().find(|p| p.0 == x).map(|p| p.1))
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .map(|v| if log { v.log10() } else { v })
            .collect();
        if let Some(m) = MeanInterval::of(&values) {
            let (lo, hi) = m.bounds();
            let back = |v: f64| if log { 10f64.powf(v) } else { v };
            out.push((x, back(m.mean), back(lo), back(hi)));
        }
    }
    out
}

/// The x of a step: epochs when the race says how long one is.
fn epoch_of(r: &Recorder) -> impl Fn(u64) -> f64 + '_ {
    let per = r.info.as_ref().map_or(1, |i| i.steps_per_epoch.max(1));
    move |step| step as f64 / per as f64
}

fn x_title(r: &Recorder) -> &'static str {
    if r.info.as_ref().is_some_and(|i| i.steps_per_epoch > 0) {
        "epoch (passes over the training set)"
    } else {
        "training step"
    }
}

/// The range of `curves` (their bands included) on x and y, y positive only when `log`.
fn ranges(curves: &[(usize, String, Curve)], log: bool) -> Option<((f64, f64), (f64, f64))> {
    let points = curves.iter().flat_map(|c| c.2.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    let mut any = false;
    for &(x, _, lo, hi) in points {
        for y in [lo, hi] {
            if y.is_finite() && (!log || y > 0.0) {
                y0 = y0.min(y);
                y1 = y1.max(y);
                any = true;
            }
        }
        x0 = x0.min(x).min(0.0);
        x1 = x1.max(x);
    }
    if !any {
        return None;
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if log {
        if y1 <= y0 * 1.01 {
            (y0, y1) = (y0 / 2.0, y1 * 2.0);
        }
        (y0, y1) = (y0 / 1.15, y1 * 1.15);
    } else {
        let pad = ((y1 - y0) * 0.05).max(1e-9);
        (y0, y1) = (y0 - pad, y1 + pad);
    }
    Some(((x0, x1), (y0, y1)))
}

/// Tick labels of a log axis: 1, 2, 5 × 10^k in plain notation.
fn log_label(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        if (m - 1.0).abs() < 1e-6 {
            format!("1e{e:.0}")
        } else {
            format!("{m:.0}e{e:.0}")
        }
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A line chart of one curve per lane with bands, `log` on y; None when nothing has data.
fn line_chart(
    name: &str,
    caption: String,
    x_desc: &str,
    y_desc: &str,
    curves: Vec<(usize, String, Curve)>,
    log: bool,
) -> Result<Figure, FigureError> {
    registered_font();
    let err = fail(name);
    let mut svg = String::new();
    let series: Vec<String> = curves.iter().map(|c| c.1.clone()).collect();
    let key: Vec<KeyEntry> = curves
        .iter()
        .map(|(index, name, _)| KeyEntry {
            text: name.clone(),
            color: line_color(*index),
            line: Some(dash(*index)),
        })
        .collect();
    {
        let full = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT + key_height(&key)))
            .into_drawing_area();
        full.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (root, key_area) = full.split_vertically(HEIGHT);
        draw_key(&key_area, &key).map_err(&err)?;
        match ranges(&curves, log) {
            None => draw_empty(&root, "no data recorded").map_err(&err)?,
            Some(((x0, x1), (y0, y1))) => {
                let mut builder = ChartBuilder::on(&root);
                builder
                    .margin(10)
                    .margin_right(16)
                    .x_label_area_size(46)
                    .y_label_area_size(64);
                if log {
                    let mut chart = builder
                        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                        .map_err(|e| err(e.to_string()))?;
                    mesh(&mut chart, x_desc, y_desc, &log_label).map_err(&err)?;
                    draw_curves(&mut chart, &curves).map_err(&err)?;
                } else {
                    let mut chart = builder
                        .build_cartesian_2d(x0..x1, y0..y1)
                        .map_err(|e| err(e.to_string()))?;
                    mesh(&mut chart, x_desc, y_desc, &plain_label).map_err(&err)?;
                    draw_curves(&mut chart, &curves).map_err(&err)?;
                }
            }
        }
        full.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(Figure {
        name: name.into(),
        caption,
        series,
        svg,
    })
}

fn draw_empty(root: &DrawingArea<SVGBackend, Shift>, message: &str) -> Result<(), String> {
    root.draw(&Text::new(
        message.to_string(),
        (WIDTH as i32 / 2 - 60, HEIGHT as i32 / 2),
        (FONT, AXIS_TITLE).into_font(),
    ))
    .map_err(|e| e.to_string())
}

/// The axes, grid, tick labels (y by `y_label`) and axis titles of a line chart.
fn mesh<'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    x_desc: &str,
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FONT, AXIS_TITLE))
        .label_style((FONT, TICKS))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v: &f64| {
            let s = format!("{v:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        })
        .y_label_formatter(y_label)
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(0x55, 0x55, 0x55))
        .draw()
        .map_err(|e| e.to_string())
}

fn draw_curves<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    curves: &[(usize, String, Curve)],
) -> Result<(), String> {
    // Bands first, every line over every band.
    for (index, _, c) in curves {
        if c.len() > 1 && c.iter().any(|p| p.3 > p.2) {
            let mut band: Vec<(f64, f64)> = c.iter().map(|p| (p.0, p.3)).collect();
            band.extend(c.iter().rev().map(|p| (p.0, p.2)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    lane_color(*index).mix(0.18).filled(),
                )))
                .map_err(|e| e.to_string())?;
        }
    }
    for (index, _, c) in curves {
        let style = line_color(*index).stroke_width(2);
        let points: Vec<(f64, f64)> = c.iter().map(|p| (p.0, p.1)).collect();
        match dash(*index) {
            Dash::Solid => chart.draw_series(LineSeries::new(points, style)),
            Dash::Dashed => chart.draw_series(DashedLineSeries::new(points, 8, 5, style)),
            Dash::Dotted => chart.draw_series(DashedLineSeries::new(points, 2, 4, style)),
        }
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Tick labels of a linear axis: at most two decimals, trailing zeros dropped.
fn plain_label(v: &f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Held-out error (%) of every lane over training: mean over seeds ± 95% interval.
pub fn heldout_error(r: &Recorder) -> Result<Figure, FigureError> {
    let x = epoch_of(r);
    let curves = lane_curves(r, false, |h| {
        h.evals
            .iter()
            .map(|e| (x(e.step), 100.0 * f64::from(e.error)))
            .collect()
    });
    line_chart(
        "heldout-error",
        "Held-out error with the test-time gates over training; lines: mean over seeds, bands: \
         95% Student-t interval of the mean (none with one seed)."
            .into(),
        x_title(r),
        "held-out error (%)",
        curves,
        false,
    )
}

/// Bins per curve of the training loss.
const LOSS_BINS: u64 = 120;

/// Training loss (cross-entropy, nats) over training on a log scale, each seed's step series
/// averaged over bins of equal length first (at most [`LOSS_BINS`]), then over seeds as log₁₀
/// (the geometric mean, with the 95% interval of the mean log₁₀ loss), as the variance is.
pub fn training_loss(r: &Recorder) -> Result<Figure, FigureError> {
    let x = epoch_of(r);
    let last = r.step().max(1);
    let bin = last.div_ceil(LOSS_BINS).max(1);
    let curves = lane_curves(r, true, |h| {
        // (bin, Σ loss × count, Σ count)
        let mut bins: Vec<(u64, f64, f64)> = Vec::new();
        for p in h.steps.iter() {
            let b = p.step.saturating_sub(1) / bin;
            let w = f64::from(p.count);
            match bins.last_mut() {
                Some(last) if last.0 == b => {
                    last.1 += f64::from(p.cross_entropy) * w;
                    last.2 += w;
                }
                _ => bins.push((b, f64::from(p.cross_entropy) * w, w)),
            }
        }
        bins.into_iter()
            .map(|(b, s, w)| (x(((b + 1) * bin).min(last)), s / w))
            .collect()
    });
    line_chart(
        "training-loss",
        format!(
            "Training loss (minibatch cross-entropy) over training, each seed averaged over \
             windows of {bin} steps; lines: geometric mean over seeds, bands: 95% Student-t \
             interval of the mean log loss (none with one seed); log scale."
        ),
        x_title(r),
        "training loss (nats)",
        curves,
        true,
    )
}

/// Estimator variance on the probe minibatch over training (log scale). A lane with several
/// seeds: the geometric mean over seeds with the interval of mean log₁₀ variance. A lane with one
/// seed: its measured variance with the 95% interval of that measurement,
/// [`variance_interval`] of its jackknife standard error (none in sessions saved before the
/// standard error was recorded). Lanes whose gradient has no variance (no gates, deterministic
/// gates) have no curve.
pub fn estimator_variance(r: &Recorder) -> Result<Figure, FigureError> {
    let curves = variance_curves(r);
    line_chart(
        "estimator-variance",
        "Variance of the gate layer's gradient estimate on a fixed probe minibatch at the \
         current parameters (mean over coordinates of the variance across resampled gates); \
         lines: geometric mean over seeds, bands: 95% interval of the mean log variance over \
         seeds, or with one seed the 95% interval of the measurement itself, \
         v·exp(±1.96·SE/v) from its jackknife standard error; lanes without gate noise have \
         none."
            .into(),
        x_title(r),
        "estimator variance (per coordinate)",
        curves,
        true,
    )
}

/// The curves of [`estimator_variance`]: a lane with one seed drawn with its measurement's
/// interval, a lane with several with the interval over seeds.
fn variance_curves(r: &Recorder) -> Vec<(usize, String, Curve)> {
    let x = epoch_of(r);
    groups(r)
        .into_iter()
        .enumerate()
        .map(|(i, (name, lanes))| {
            let curve = match lanes.as_slice() {
                [one] => one
                    .probes
                    .iter()
                    .filter(|p| p.variance.is_finite() && p.variance > 0.0)
                    .map(|p| {
                        let (lo, hi) = variance_interval(p.variance, p.variance_se)
                            .unwrap_or((p.variance, p.variance));
                        (x(p.step), p.variance, lo, hi)
                    })
                    .collect(),
                seeds => {
                    let per_seed: Vec<Vec<(f64, f64)>> = seeds
                        .iter()
                        .map(|h| h.probes.iter().map(|p| (x(p.step), p.variance)).collect())
                        .collect();
                    across_seeds(&per_seed, true)
                }
            };
            (i, name, curve)
        })
        .filter(|c| !c.2.is_empty())
        .collect()
}

/// Columns and rows of the heatmap at most.
const HEAT_COLUMNS: usize = 100;
const HEAT_ROWS: usize = 80;

/// The firing rate of every gate unit of `lane` (its first seed) over training, units sorted
/// by their mean firing rate (most active at the top) and binned to at most 80 rows, time in at
/// most 100 columns; viridis from 0% to 100%, with a colour bar.
pub fn firing_heatmap(r: &Recorder, lane: &str) -> Result<Figure, FigureError> {
    registered_font();
    let name = format!("firing-heatmap-{}", file_safe(lane));
    let err = fail(&name);
    let h = r.lanes.iter().find(|h| h.info.name == lane);
    let rows: Vec<&crate::engine::HeatRow> = h.map(|h| h.heat.iter().collect()).unwrap_or_default();
    let units = rows.iter().map(|r| r.rates.len()).max().unwrap_or(0);
    let x = epoch_of(r);
    let mut svg = String::new();
    let race_seed = r.info.as_ref().map_or(0, |i| i.seed);
    let seed = h.map_or(0, |h| h.info.seed_or(race_seed));
    let mut scale = 1.0;
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        if rows.is_empty() || units == 0 {
            draw_empty(&root, "no firing rates recorded").map_err(&err)?;
        } else {
            let (plot, bar) = root.split_horizontally(WIDTH - 78);
            // Units by mean firing, most active first.
            let mut order: Vec<(usize, f64)> = (0..units)
                .map(|u| {
                    let (s, w) = rows.iter().fold((0.0, 0.0), |(s, w), r| {
                        let c = f64::from(r.count.max(1));
                        (s + f64::from(*r.rates.get(u).unwrap_or(&0)) * c, w + c)
                    });
                    (u, s / w.max(1.0))
                })
                .collect();
            order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let per_row = units.div_ceil(HEAT_ROWS);
            let bands: Vec<&[(usize, f64)]> = order.chunks(per_row).collect();
            let columns = rows.len().min(HEAT_COLUMNS);
            let first = rows.first().map_or(0, |r| r.step);
            let prev_step = |c: usize| -> u64 {
                let i = c * rows.len() / columns;
                if i == 0 {
                    first.saturating_sub(u64::from(rows[0].count.max(1)))
                } else {
                    rows[i - 1].step
                }
            };
            let x0 = x(prev_step(0));
            let x1 = x(rows.last().map_or(1, |r| r.step)).max(x0 + 1e-9);
            let mut chart = ChartBuilder::on(&plot)
                .margin(10)
                .x_label_area_size(46)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, 0f64..units as f64)
                .map_err(|e| err(e.to_string()))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(x_title(r))
                .y_desc("gate units, by mean firing")
                .axis_desc_style((FONT, AXIS_TITLE))
                .label_style((FONT, TICKS))
                .x_labels(6)
                .y_labels(5)
                .x_label_formatter(&|v: &f64| {
                    let s = format!("{v:.2}");
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                })
                .y_label_formatter(&|v: &f64| format!("{:.0}", v))
                .axis_style(RGBColor(0x55, 0x55, 0x55))
                .draw()
                .map_err(|e| err(e.to_string()))?;
            // (left, right, bottom, top, rate) of every cell.
            let mut cells = Vec::with_capacity(columns * bands.len());
            for c in 0..columns {
                let window = &rows[c * rows.len() / columns..(c + 1) * rows.len() / columns];
                let weight: f64 = window.iter().map(|r| f64::from(r.count.max(1))).sum();
                let (left, right) = (x(prev_step(c)), x(window.last().map_or(0, |r| r.step)));
                for (b, band) in bands.iter().enumerate() {
                    let mut s = 0.0;
                    for r in window {
                        let c = f64::from(r.count.max(1));
                        for &(u, _) in *band {
                            s += f64::from(*r.rates.get(u).unwrap_or(&0)) * c;
                        }
                    }
                    let rate = s / (255.0 * weight * band.len() as f64);
                    // Most active units at the top: band 0 at y = units.
                    let top = units as f64 - (b * per_row) as f64;
                    let bottom = (units as f64 - ((b + 1) * per_row) as f64).max(0.0);
                    cells.push((left, right, bottom, top, rate));
                }
            }
            scale = colour_scale(cells.iter().map(|c| c.4));
            chart
                .draw_series(cells.iter().map(|&(left, right, bottom, top, rate)| {
                    Rectangle::new(
                        [(left, bottom), (right, top)],
                        viridis(rate / scale).filled(),
                    )
                }))
                .map_err(|e| err(e.to_string()))?;
            colour_bar(&bar, scale).map_err(&err)?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(Figure {
        name,
        caption: format!(
            "Firing rate of every gate unit of {lane} (seed {seed}) over training: units sorted \
             by their mean firing rate, {} a row; viridis from 0 (never fires) to {} (the colour \
             bar's top: the highest rate shown, rounded up; 1 means always).",
            if units > HEAT_ROWS {
                format!("{} units", units.div_ceil(HEAT_ROWS))
            } else {
                "one unit".into()
            },
            plain_label(&scale)
        ),
        series: vec![lane.to_string()],
        svg,
    })
}

fn viridis(t: f64) -> RGBColor {
    let (r, g, b) = palette::viridis(t as f32);
    RGBColor(r, g, b)
}

/// The top of the heatmap's colour scale: the highest of `rates` rounded up to 0.05, 0.1, 0.2,
/// 0.25, 0.5 or 1, so that gates firing 10% of the time are not all one dark colour.
fn colour_scale(rates: impl Iterator<Item = f64>) -> f64 {
    let top = rates.filter(|r| r.is_finite()).fold(0.0f64, f64::max);
    [0.05, 0.1, 0.2, 0.25, 0.5, 1.0]
        .into_iter()
        .find(|&s| top <= s + 1e-12)
        .unwrap_or(1.0)
}

/// The colour bar of the heatmap, from 0 to `scale`.
fn colour_bar(area: &DrawingArea<SVGBackend, Shift>, scale: f64) -> Result<(), String> {
    let (top, bottom) = (20i32, HEIGHT as i32 - 56);
    let steps = 40;
    for i in 0..steps {
        let t = 1.0 - i as f64 / steps as f64;
        let y0 = top + (bottom - top) * i / steps;
        let y1 = top + (bottom - top) * (i + 1) / steps;
        area.draw(&Rectangle::new(
            [(8, y0), (24, y1 + 1)],
            viridis(t).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    let style = (FONT, TICKS).into_font();
    for t in [1.0, 0.5, 0.0] {
        let y = bottom - ((bottom - top) as f64 * t) as i32;
        area.draw(&Text::new(
            plain_label(&(t * scale)),
            (28, y - 7),
            style.clone(),
        ))
        .map_err(|e| e.to_string())?;
    }
    area.draw(&Text::new("firing", (4, bottom + 10), style.clone()))
        .map_err(|e| e.to_string())?;
    area.draw(&Text::new("rate", (4, bottom + 28), style))
        .map_err(|e| e.to_string())
}

/// Compute saved by every lane over its last [`FIRING_WINDOW`] steps: the share of the main
/// path's multiply-adds skipped (bars) and the share left after paying for the gater (the net,
/// darker bars), mean over seeds with 95% interval whiskers.
pub fn compute_savings(r: &Recorder) -> Result<Figure, FigureError> {
    registered_font();
    let name = "compute-savings";
    let err = fail(name);
    let bars: Vec<(usize, String, Option<MeanInterval>, Option<MeanInterval>)> = groups(r)
        .into_iter()
        .enumerate()
        .map(|(i, (name, lanes))| {
            let (mut saved, mut net) = (Vec::new(), Vec::new());
            for h in lanes {
                if let Some(p) = h.recent(FIRING_WINDOW) {
                    let dense = p.dense_main_macs.max(1.0);
                    saved.push(100.0 * (1.0 - p.active_main_macs / dense));
                    net.push(100.0 * (1.0 - (p.active_main_macs + p.gater_macs) / dense));
                }
            }
            (i, name, MeanInterval::of(&saved), MeanInterval::of(&net))
        })
        .collect();
    let series: Vec<String> = bars.iter().map(|b| b.1.clone()).collect();
    let n = bars.len().max(1);
    let lo = bars
        .iter()
        .filter_map(|b| b.3.map(|m| m.bounds().0))
        .fold(0.0f64, f64::min);
    let longest = series.iter().map(|s| s.chars().count()).max().unwrap_or(4);
    let mut svg = String::new();
    let grey = RGBColor(0x77, 0x77, 0x77);
    let key = [
        KeyEntry {
            text: "main path skipped".into(),
            // The grey at 45% over white, as the light bars are drawn.
            color: RGBColor(0xC2, 0xC2, 0xC2),
            line: None,
        },
        KeyEntry {
            text: "net of the gater".into(),
            color: grey,
            line: None,
        },
    ];
    {
        let full = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT + key_height(&key)))
            .into_drawing_area();
        full.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (root, key_area) = full.split_vertically(HEIGHT);
        draw_key(&key_area, &key).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(16)
            .x_label_area_size(46)
            .y_label_area_size((longest as u32 * 10 + 14).clamp(40, 220))
            .build_cartesian_2d((lo - 5.0).min(0.0)..100.0, -0.5f64..n as f64 - 0.5)
            .map_err(|e| err(e.to_string()))?;
        let names = series.clone();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("multiply-adds skipped (%)")
            .x_label_formatter(&plain_label)
            .axis_desc_style((FONT, AXIS_TITLE))
            .label_style((FONT, TICKS))
            .x_labels(6)
            .y_labels(n)
            .y_label_formatter(&move |v: &f64| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[names.len() - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(0x55, 0x55, 0x55))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (k, (index, name, saved, net)) in bars.iter().enumerate() {
            let y = (n - 1 - k) as f64;
            let color = lane_color(*index);
            let mut boxes = Vec::new();
            let mut whiskers = Vec::new();
            if let Some(m) = saved {
                boxes.push(Rectangle::new(
                    [(0.0, y - 0.38), (m.mean, y + 0.02)],
                    color.mix(0.45).filled(),
                ));
                whisker(&mut whiskers, m, y - 0.18);
            }
            if let Some(m) = net {
                boxes.push(Rectangle::new(
                    [(0.0, y + 0.02), (m.mean, y + 0.38)],
                    color.filled(),
                ));
                whisker(&mut whiskers, m, y + 0.2);
            }
            chart
                .draw_series(boxes)
                .map_err(|e| err(e.to_string()))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
            chart
                .draw_series(whiskers)
                .map_err(|e| err(e.to_string()))?;
        }
        full.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(Figure {
        name: name.into(),
        caption: format!(
            "Compute saved over the last {FIRING_WINDOW} training steps: light bars, the share of \
             the main path's multiply-adds (forward and backward) skipped because their gate is \
             exactly zero; dark bars, the share left after paying for the gater (negative: the \
             gater costs more than the gates save). Mean over seeds, whiskers: 95% Student-t \
             interval."
        ),
        series,
        svg,
    })
}

/// The 95% interval of `m` as a whisker at height `y` (nothing with one seed).
fn whisker(out: &mut Vec<PathElement<(f64, f64)>>, m: &MeanInterval, y: f64) {
    if m.half_width.is_none() {
        return;
    }
    let (lo, hi) = m.bounds();
    let style = RGBColor(0x22, 0x22, 0x22).stroke_width(1);
    out.push(PathElement::new(vec![(lo, y), (hi, y)], style));
    out.push(PathElement::new(
        vec![(lo, y - 0.08), (lo, y + 0.08)],
        style,
    ));
    out.push(PathElement::new(
        vec![(hi, y - 0.08), (hi, y + 0.08)],
        style,
    ));
}

/// `name` with characters other than letters, digits, '-' and '_' replaced by '_'.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The lane whose heatmap is drawn by default: the race's reference lane when it has gates,
/// else the first lane with gate rates recorded.
pub fn default_heatmap_lane(r: &Recorder) -> Option<String> {
    let has_heat = |name: &str| {
        r.lanes.iter().any(|h| {
            h.info.name == name && h.heat.iter().any(|row| row.rates.iter().any(|&v| v < 255))
        })
    };
    r.info
        .as_ref()
        .and_then(|i| i.reference_lane.clone())
        .filter(|n| has_heat(n))
        .or_else(|| {
            r.lanes
                .iter()
                .map(|h| h.info.name.clone())
                .find(|n| has_heat(n))
        })
}

/// Every figure of `r`: held-out error, training loss, estimator variance, compute savings and
/// the firing heatmap of `heat_lane` (default: [`default_heatmap_lane`]).
pub fn all(r: &Recorder, heat_lane: Option<&str>) -> Result<Vec<Figure>, FigureError> {
    let mut out = vec![
        heldout_error(r)?,
        training_loss(r)?,
        estimator_variance(r)?,
        compute_savings(r)?,
    ];
    let lane = heat_lane
        .map(str::to_string)
        .or_else(|| default_heatmap_lane(r));
    if let Some(lane) = lane {
        out.push(firing_heatmap(r, &lane)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic;

    /// One seed: every probe drawn at its variance with v·exp(±1.96·SE/v) around it; several
    /// seeds: the geometric mean with the interval over seeds; and a band in the SVG either way.
    #[test]
    fn the_variance_band_is_the_measurement_with_one_seed_and_the_seeds_with_several() {
        let one = synthetic::seeded(3, 1, 400);
        let curves = variance_curves(&one);
        assert!(!curves.is_empty());
        for (i, _, curve) in &curves {
            let probes: Vec<&crate::engine::ProbePoint> = one.lanes[*i]
                .probes
                .iter()
                .filter(|p| p.variance > 0.0)
                .collect();
            assert_eq!(curve.len(), probes.len());
            for (c, p) in curve.iter().zip(probes) {
                let spread = (1.96 * p.variance_se / p.variance).exp();
                assert_eq!(c.1, p.variance);
                assert!(
                    (c.2 * spread / p.variance - 1.0).abs() < 1e-12,
                    "{c:?} {p:?}"
                );
                assert!(
                    (c.3 / (spread * p.variance) - 1.0).abs() < 1e-12,
                    "{c:?} {p:?}"
                );
            }
        }
        // Three seeds whose variances differ (the synthetic seeds share theirs): run r is seed
        // r / 3 + 1.
        let mut three = Recorder::new();
        for mut e in synthetic::seeded_events(3, 3, 400, 64) {
            if let crate::engine::EngineEvent::Probe { lane, point } = &mut e {
                point.variance *= 1.0 + 0.3 * (*lane / 3) as f64;
            }
            three.apply(e);
        }
        for (i, name, curve) in variance_curves(&three) {
            let lanes: Vec<&LaneHistory> =
                three.lanes.iter().filter(|h| h.info.name == name).collect();
            assert_eq!(lanes.len(), 3, "{name}");
            let (x, mean, lo, hi) = curve[curve.len() / 2];
            let logs: Vec<f64> = lanes
                .iter()
                .map(|h| {
                    let p = h.probes.iter().find(|p| epoch_of(&three)(p.step) == x);
                    p.unwrap().variance.log10()
                })
                .collect();
            let m = MeanInterval::of(&logs).unwrap();
            let (l, h) = m.bounds();
            for (got, want) in [(mean, m.mean), (lo, l), (hi, h)] {
                assert!(
                    (got.log10() - want).abs() < 1e-9,
                    "lane {i}: {got} vs 10^{want}"
                );
            }
        }
        for r in [&one, &three] {
            let svg = estimator_variance(r).unwrap().svg;
            assert_eq!(svg.matches("<polygon").count(), variance_curves(r).len());
        }
    }
}
