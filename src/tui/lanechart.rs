//! What the three line charts (training loss, held-out error, estimator variance) share: one
//! curve per visible lane on a common x axis ([`XAxis`]), a y range that one runaway lane cannot
//! take over, markers where a lane leaves the chart or diverged, each lane's latest value at
//! the right end, and axis names from the metric declarations.
//!
//! The y range (see [`plot::scale_setters`]): lanes that diverged or are blowing up (see
//! `history::BlowUp`) do not set it, nor does a lane whose highest value shown is more than
//! [`plot::FAR_ABOVE`] times every other lane's; such lanes are drawn clipped at the top edge,
//! with a ▲ where each stretch off the chart begins, and named in the panel's bottom line. A
//! diverged lane gets a ✕ at the step it diverged.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};

use super::app::App;
use super::chart::{self, Axes, Band, EndLabel, Overlay, Series};
use super::panels::{message, panel};
use super::plot::{self, Reduce};
use super::seeds::{self, SeedView};
use super::theme;
use super::xaxis::{XAxis, XMap};
use crate::engine::LaneStatus;
use crate::engine::metrics::Metric;
use crate::history::{LaneView, RaceView};

/// "Training loss (nats)": a declared metric's label, capitalised, with its unit; a fraction is
/// shown in percent.
pub fn axis_name<P>(metric: &Metric<P>) -> String {
    let mut label = metric.label.to_string();
    if let Some(first) = label.get(..1) {
        label.replace_range(..1, &first.to_uppercase());
    }
    match metric.unit {
        "" => label,
        "fraction" => format!("{label} (%)"),
        unit => format!("{label} ({unit})"),
    }
}

/// One run's curve (a lane with one seed, or one seed of a lane), before scaling.
#[derive(Debug, Clone, Default)]
pub struct RunCurve {
    /// The line, in (x, value) with values on the data's own scale.
    pub line: Vec<(f64, f64)>,
    /// Points marked on their own (held-out evaluations).
    pub dots: Vec<(f64, f64)>,
    /// The run's own uncertainty around its line, (x, lo, hi), when it measures one (the
    /// variance probe's standard error); drawn only for a lane of one seed.
    pub band: Vec<(f64, f64, f64)>,
    /// The value labelled at the right end.
    pub last: Option<f64>,
}

/// One lane's curve, before scaling.
#[derive(Debug, Clone, Default)]
pub struct LaneCurve {
    /// The lane.
    pub lane: usize,
    /// The line, in (x, value) with values on the data's own scale: the run's, or with several
    /// seeds their mean (none when every seed is drawn, see `seeds`).
    pub line: Vec<(f64, f64)>,
    /// Points marked on their own (held-out evaluations).
    pub dots: Vec<(f64, f64)>,
    /// With several seeds: the band around the mean, (x, lo, hi); with one, the run's own band.
    pub band: Vec<(f64, f64, f64)>,
    /// With several seeds shown one by one: every seed's line.
    pub seeds: Vec<Vec<(f64, f64)>>,
    /// Kept from setting the y range (diverged or blowing up).
    pub excluded: bool,
    /// Where the lane diverged, on the x axis.
    pub diverged_at: Option<f64>,
    /// The value labelled at the right end.
    pub last: Option<f64>,
}

/// The x axis of a chart: each lane's map from step to x, and the range shown.
pub struct XFrame {
    /// Per lane (all lanes, in order).
    pub maps: Vec<XMap>,
    /// The range shown.
    pub range: [f64; 2],
    /// The first step shown by every lane (with the recent window).
    pub from_step: Vec<u64>,
}

impl XFrame {
    /// `points` reduced to `columns` columns over the range shown: each column's mean on the
    /// chart's scale (of the log values on a `log` axis, then back to values).
    pub fn column_means(
        &self,
        points: &[(f64, f64)],
        columns: usize,
        log: bool,
    ) -> Vec<(f64, f64)> {
        if !log {
            return plot::downsample(points, self.range[0], self.range[1], columns, Reduce::Mean);
        }
        let logs: Vec<(f64, f64)> = points
            .iter()
            .map(|&(x, v)| (x, plot::scale(v, true)))
            .collect();
        plot::downsample(&logs, self.range[0], self.range[1], columns, Reduce::Mean)
            .into_iter()
            .map(|(x, l)| (x, 10f64.powf(l)))
            .collect()
    }
}

/// Steps shown by the recent window: the last fifth of the run so far, at least 200.
pub fn recent_window(step: u64) -> u64 {
    (step / 5).max(200)
}

impl XFrame {
    /// The x axis of `view` for `app`'s options: the whole run, or with the recent window the
    /// last fifth of it (the same share of every lane's steps).
    pub fn new(app: &App, view: &RaceView<'_>) -> XFrame {
        let batch = view.info().map_or(1, |i| i.batch_size);
        let maps: Vec<XMap> = view
            .lanes()
            .map(|l| XMap::new(app.x_axis, &l, batch))
            .collect();
        let ends: Vec<(u64, f64)> = view
            .lanes()
            .zip(&maps)
            .map(|(l, m)| (l.last_step(), m.at(l.last_step())))
            .collect();
        let x1 = ends.iter().map(|e| e.1).fold(0.0, f64::max);
        let last = view.step();
        let (x0, from_step) = if app.loss.recent && last > 0 {
            let share = last.saturating_sub(recent_window(last)) as f64 / last as f64;
            let from: Vec<u64> = ends.iter().map(|e| (e.0 as f64 * share) as u64).collect();
            (x1 * share, from)
        } else {
            (0.0, vec![0; ends.len()])
        };
        let range = if x1 > x0 { [x0, x1] } else { [x0, x0 + 1.0] };
        XFrame {
            maps,
            range,
            from_step,
        }
    }
}

/// Whether lane `l` is kept from setting a chart's scale, and where on `map` it diverged.
pub fn runaway(l: &LaneView<'_>, map: &XMap) -> (bool, Option<f64>) {
    let diverged = match l.status {
        LaneStatus::Diverged { step } => Some(map.at(step)),
        _ => None,
    };
    (diverged.is_some() || l.is_blowing_up(), diverged)
}

/// The text of a chart's bottom line: the x axis, the lanes off the scale, the lanes hidden.
fn bottom_line<'a>(
    app: &App,
    x_axis: XAxis,
    notes: Vec<Span<'a>>,
    clipped: &[usize],
    diverged: &[usize],
) -> Line<'a> {
    let names = |lanes: &[usize]| {
        lanes
            .iter()
            .map(|&i| app.lane_name(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut spans = vec![Span::styled(
        format!(" x: {} ", x_axis.name()),
        theme::muted(),
    )];
    for n in notes {
        spans.push(Span::styled("· ", theme::muted()));
        spans.push(n);
    }
    if !diverged.is_empty() {
        spans.push(Span::styled(
            format!("✕ diverged: {} ", names(diverged)),
            theme::error(),
        ));
    }
    if !clipped.is_empty() {
        spans.push(Span::styled(
            format!("▲ off scale: {} ", names(clipped)),
            theme::warning(),
        ));
    }
    let seeds = app.seed_count();
    if seeds > 1 {
        spans.push(Span::styled(
            format!("· {seeds} seeds: {} (e) ", app.seeds.name()),
            theme::muted(),
        ));
    }
    let (shown, all) = (app.visible_count(), app.lane_count());
    if shown < all {
        spans.push(Span::styled(
            format!("{shown} of {all} lanes (a: all) "),
            theme::warning(),
        ));
    }
    Line::from(spans)
}

/// Every visible lane's curve: `run` gives each of its runs' curve (run index, its view), and
/// a lane of several seeds is combined as [`crate::tui::seeds`] says — per column of
/// `columns` over `x`, the mean (a geometric mean on a `log` axis), a band of ± one standard
/// deviation, or every seed's line. A lane is kept from setting the scale when any of its runs
/// is ([`runaway`]); its ✕ is at the first divergence.
pub fn lane_curves(
    app: &App,
    view: &RaceView<'_>,
    x: &XFrame,
    columns: usize,
    log: bool,
    run: impl Fn(usize, &LaneView<'_>) -> RunCurve,
) -> Vec<LaneCurve> {
    let to = |v: f64| if log { plot::scale(v, true) } else { v };
    let back = |v: f64| if log { 10f64.powf(v) } else { v };
    app.lanes()
        .into_iter()
        .enumerate()
        .filter(|(lane, _)| app.is_visible(*lane))
        .map(|(lane, runs)| {
            let mut curves = Vec::new();
            let (mut excluded, mut diverged_at) = (false, None::<f64>);
            for &r in &runs {
                let Some(l) = view.lane(r) else { continue };
                let Some(map) = x.maps.get(r) else { continue };
                curves.push(run(r, &l));
                let (ex, at) = runaway(&l, map);
                excluded |= ex;
                diverged_at = match (diverged_at, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let mut out = LaneCurve {
                lane,
                excluded,
                diverged_at,
                ..LaneCurve::default()
            };
            if curves.len() == 1 {
                let c = curves.pop().unwrap_or_default();
                (out.line, out.dots, out.band, out.last) = (c.line, c.dots, c.band, c.last);
                return out;
            }
            let lasts: Vec<f64> = curves
                .iter()
                .filter_map(|c| c.last.filter(|v| v.is_finite()).map(to))
                .collect();
            out.last =
                (!lasts.is_empty()).then(|| back(lasts.iter().sum::<f64>() / lasts.len() as f64));
            if app.seeds == SeedView::All {
                out.seeds = curves.iter().map(|c| c.line.clone()).collect();
                out.dots = curves.iter().flat_map(|c| c.dots.iter().copied()).collect();
                return out;
            }
            let scaled = |f: &dyn Fn(&RunCurve) -> &Vec<(f64, f64)>| -> Vec<Vec<(f64, f64)>> {
                curves
                    .iter()
                    .map(|c| f(c).iter().map(|&(x, y)| (x, to(y))).collect())
                    .collect()
            };
            let line = seeds::across(&scaled(&|c| &c.line), x.range[0], x.range[1], columns);
            out.line = line.iter().map(|a| (a.x, back(a.mean))).collect();
            let dots = seeds::across(&scaled(&|c| &c.dots), x.range[0], x.range[1], columns);
            out.dots = dots.iter().map(|a| (a.x, back(a.mean))).collect();
            if app.seeds == SeedView::Band {
                out.band = line
                    .iter()
                    .chain(dots.iter())
                    .filter_map(|a| a.sd.map(|sd| (a.x, back(a.mean - sd), back(a.mean + sd))))
                    .collect();
                out.band.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            out
        })
        .collect()
}

/// A chart's options.
pub struct ChartSpec<'a> {
    /// The panel's title.
    pub title: Line<'a>,
    /// Said in the bottom line after the x axis (lanes with nothing to draw, and why).
    pub notes: Vec<Span<'a>>,
    /// Log10 y axis.
    pub log: bool,
    /// Whether a lane far above the others is dropped from the scale (not on a log axis of
    /// quantities that differ by orders of magnitude between estimators by nature).
    pub far_rule: bool,
    /// The x range.
    pub x: [f64; 2],
    /// The label of a lane's latest value.
    pub end_label: fn(f64) -> String,
    /// Shown when no lane has a point.
    pub empty: &'a str,
}

/// Draws the panel: `curves` (visible lanes only) in `area` with `spec`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, spec: ChartSpec<'_>, curves: Vec<LaneCurve>) {
    let block = panel(spec.title);
    let inner = block.inner(area);
    if app.visible_count() == 0 && app.lane_count() > 0 {
        frame.render_widget(block, area);
        message(frame, inner, "every lane is hidden: a shows them");
        return;
    }
    let peak = |c: &LaneCurve| {
        c.line
            .iter()
            .chain(&c.dots)
            .chain(c.seeds.iter().flatten())
            .map(|p| p.1)
            .chain(c.band.iter().map(|b| b.2))
            .filter(|v| v.is_finite() && (!spec.log || *v > 0.0))
            .reduce(f64::max)
    };
    let peaks: Vec<Option<f64>> = curves.iter().map(peak).collect();
    let excluded: Vec<bool> = curves.iter().map(|c| c.excluded).collect();
    let setters = if spec.far_rule {
        plot::scale_setters(&peaks, &excluded)
    } else {
        let s: Vec<bool> = peaks
            .iter()
            .zip(&excluded)
            .map(|(p, &x)| p.is_some() && !x)
            .collect();
        if s.iter().any(|&b| b) {
            s
        } else {
            peaks.iter().map(Option::is_some).collect()
        }
    };
    // On the axis's scale from here on.
    let mut curves = curves;
    for c in &mut curves {
        for p in c
            .line
            .iter_mut()
            .chain(c.dots.iter_mut())
            .chain(c.seeds.iter_mut().flatten())
        {
            p.1 = plot::scale(p.1, spec.log);
        }
        for b in &mut c.band {
            (b.1, b.2) = (plot::scale(b.1, spec.log), plot::scale(b.2, spec.log));
        }
    }
    // The band's edges count for the range like points (as (x, lo) and (x, hi)).
    let edges: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            c.band
                .iter()
                .flat_map(|b| [(b.0, b.1), (b.0, b.2)])
                .collect()
        })
        .collect();
    let Some(y) = plot::bounds(
        curves
            .iter()
            .zip(&edges)
            .zip(&setters)
            .filter(|(_, s)| **s)
            .flat_map(|((c, e), _)| {
                [c.line.as_slice(), c.dots.as_slice(), e.as_slice()]
                    .into_iter()
                    .chain(c.seeds.iter().map(Vec::as_slice))
            }),
    ) else {
        frame.render_widget(block, area);
        message(frame, inner, spec.empty);
        return;
    };
    // A linear axis ends on ticks.
    let y = if spec.log {
        y
    } else {
        plot::snap(y, chart::max_y_ticks(chart::plot_rows(inner)))
    };
    let mut overlays: Vec<Overlay> = Vec::new();
    let (mut clipped, mut diverged) = (Vec::new(), Vec::new());
    for (c, &setter) in curves.iter_mut().zip(&setters) {
        let color = theme::lane(c.lane).color;
        for b in &mut c.band {
            (b.1, b.2) = (b.1.clamp(y[0], y[1]), b.2.clamp(y[0], y[1]));
        }
        if !setter {
            let mut starts = plot::clip(&mut c.line, y);
            starts.extend(plot::clip(&mut c.dots, y));
            for line in &mut c.seeds {
                starts.extend(plot::clip(line, y));
            }
            if !starts.is_empty() {
                clipped.push(c.lane);
            }
            overlays.extend(starts.into_iter().map(|x| Overlay {
                x,
                y: y[1],
                symbol: "▲",
                color,
            }));
        }
        c.line.retain(|p| p.1.is_finite());
        c.dots.retain(|p| p.1.is_finite());
        for line in &mut c.seeds {
            line.retain(|p| p.1.is_finite());
        }
        c.band.retain(|b| b.1.is_finite() && b.2.is_finite());
        if let Some(x) = c.diverged_at {
            diverged.push(c.lane);
            overlays.push(Overlay {
                x,
                y: y[1],
                symbol: "✕",
                color,
            });
        }
    }
    let focus = app.focused();
    let mut order: Vec<&LaneCurve> = curves.iter().filter(|c| c.lane != focus).collect();
    order.extend(curves.iter().filter(|c| c.lane == focus));
    let style = |c: &LaneCurve| theme::lane(c.lane);
    let lines = order.iter().flat_map(|c| {
        std::iter::once(&c.line)
            .chain(&c.seeds)
            .map(move |points| Series {
                points,
                color: style(c).color,
                marker: Marker::Braille,
                line: true,
                glyph: style(c).glyph,
            })
    });
    let dots = order.iter().map(|c| Series {
        points: &c.dots,
        color: style(c).color,
        marker: Marker::Dot,
        line: false,
        glyph: None,
    });
    let series: Vec<Series> = lines.chain(dots).collect();
    let end_labels: Vec<EndLabel> = curves
        .iter()
        .filter_map(|c| {
            let v = c.last?;
            let shown = plot::scale(v, spec.log).clamp(y[0], y[1]);
            let glyph = style(c).glyph.unwrap_or("");
            Some(EndLabel {
                y: shown,
                text: format!("{glyph}{}", (spec.end_label)(v)),
                color: style(c).color,
            })
        })
        .collect();
    let block = block.title_bottom(bottom_line(
        app, app.x_axis, spec.notes, &clipped, &diverged,
    ));
    frame.render_widget(block, area);
    let axes = Axes::new(spec.x, y, spec.log);
    chart::render(frame, inner, &series, &axes, &overlays, &end_labels);
    let bands: Vec<Band> = order
        .iter()
        .filter(|c| !c.band.is_empty())
        .map(|c| Band {
            points: &c.band,
            color: chart::band_color(style(c).color),
        })
        .collect();
    chart::shade(frame, inner, &axes, &end_labels, &bands);
}
