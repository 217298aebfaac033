//! The leaderboard: lane, estimator (with its current temperature τ when it has a schedule),
//! step, loss, held-out error, firing rate, savings, examples/s, the budget (main-path
//! evaluations per step and since the start) and status; sorted by a chosen column, the focused
//! lane highlighted. Narrow screens drop the estimator, then the net saving, speed and budget
//! columns. In a race of several seeds a row is a lane over its seeds: n, the mean ± the
//! half-width of the 95% confidence interval (Student's t, n − 1 degrees of freedom) of
//! held-out error, firing and savings, and the paired difference of held-out error against the
//! reference lane over the seeds both ran (see [`crate::stats`]), the other columns means.
//! Clicking a row focuses its lane ([`lane_at`] maps a click to a lane with the same
//! layout the drawing uses); when not every lane fits, the title says how many are shown.

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::{panel, percent, window_start};
use crate::engine::LaneStatus;
use crate::estimators::Temperature;
use crate::history::{LaneSummary, LaneView};
use crate::stats::PairedDifference;
use crate::tui::app::{App, SortColumn};
use crate::tui::panels::legend;
use crate::tui::plot;
use crate::tui::seeds;
use crate::tui::theme;

/// Widths from which the leaderboard shows more columns: the net saving and the evaluations per
/// step; the speed and the evaluations since the start; the estimator.
const WIDE: (u16, u16, u16) = (100, 120, 140);

/// The estimator's description, with the current temperature when it follows a schedule (a
/// constant τ is part of the description already).
pub fn estimator_text(l: &LaneView<'_>) -> String {
    match l.info.settings.estimator.temperature() {
        Some(t @ Temperature::Exponential { .. }) => {
            // First, so that a narrow column does not cut it off.
            format!("τ now {:.3} · {}", t.at(l.last_step()), l.info.estimator)
        }
        _ => l.info.estimator.clone(),
    }
}

/// Lane indices in leaderboard order. Missing values sort last in either direction; ties keep
/// lane order.
pub fn order(app: &App, rows: &[LaneSummary]) -> Vec<usize> {
    let key = |r: &LaneSummary| -> Option<f64> {
        match app.sort.column {
            SortColumn::Lane => None,
            SortColumn::Step => Some(-(r.steps as f64)),
            SortColumn::Loss => r.train_loss.map(f64::from),
            SortColumn::Error => r.heldout_error.map(f64::from),
            SortColumn::Firing => r.firing_rate.map(f64::from),
            SortColumn::Saved => r.compute_saved.map(|v| -f64::from(v)),
            SortColumn::Speed => r.examples_per_second.map(|v| -f64::from(v)),
        }
        .filter(|v| !v.is_nan())
    };
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    let reversed = app.sort.reversed;
    idx.sort_by(|&a, &b| {
        let by_key = match (key(&rows[a]), key(&rows[b])) {
            (Some(x), Some(y)) => {
                let o = x.total_cmp(&y);
                if reversed { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let by_lane = if reversed && app.sort.column == SortColumn::Lane {
            b.cmp(&a)
        } else {
            a.cmp(&b)
        };
        by_key.then(by_lane)
    });
    idx
}

/// Every lane's row (over its seeds, the mean of each value; see [`seeds::summary`]) and its
/// runs' rows, in lane order.
pub fn lane_rows(app: &App) -> Vec<(LaneSummary, Vec<(u64, LaneSummary)>)> {
    let view = app.view();
    let all = view.summaries();
    let race_seed = view.info().map_or(0, |i| i.seed);
    app.lanes()
        .iter()
        .filter_map(|runs| {
            let rs: Vec<(u64, LaneSummary)> = runs
                .iter()
                .filter_map(|&r| {
                    let seed = view.lane(r)?.info.seed_or(race_seed);
                    Some((seed, all.get(r)?.clone()))
                })
                .collect();
            let refs: Vec<&LaneSummary> = rs.iter().map(|(_, r)| r).collect();
            Some((seeds::summary(&refs)?, rs))
        })
        .collect()
}

/// "3.5±0.4%": the mean and 95% half-width of `f` over the runs in percent ("3.5%" with one
/// value, "–" with none).
fn percent_interval(
    runs: &[(u64, LaneSummary)],
    f: impl Fn(&LaneSummary) -> Option<f32>,
) -> String {
    let rs: Vec<&LaneSummary> = runs.iter().map(|(_, r)| r).collect();
    match seeds::interval(&rs, f) {
        Some(m) => match m.half_width {
            Some(h) => format!("{:.1}±{:.1}%", 100.0 * m.mean, 100.0 * h),
            None => format!("{:.1}%", 100.0 * m.mean),
        },
        None => "–".into(),
    }
}

/// The paired difference of held-out error of `runs` against the reference lane's runs over the
/// seeds both ran, in points: "+0.3±0.5" (with " *" where its interval excludes 0).
fn paired(runs: &[(u64, LaneSummary)], reference: &[(u64, LaneSummary)]) -> String {
    let errors = |rs: &[(u64, LaneSummary)]| -> Vec<(u64, f64)> {
        rs.iter()
            .filter_map(|(s, r)| r.heldout_error.map(|e| (*s, f64::from(e))))
            .collect()
    };
    match PairedDifference::of(&errors(runs), &errors(reference)) {
        Some(p) => match p.difference.half_width {
            Some(h) => format!(
                "{:+.1}±{:.1}{}",
                100.0 * p.difference.mean,
                100.0 * h,
                if p.significant { " *" } else { "" }
            ),
            None => format!("{:+.1}", 100.0 * p.difference.mean),
        },
        None => "–".into(),
    }
}

/// Data rows that fit in `area` (borders and the column header take three lines).
fn capacity(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// The lanes on screen, top to bottom, in leaderboard order.
fn visible(app: &App, area: Rect) -> Vec<usize> {
    let rows: Vec<LaneSummary> = lane_rows(app).into_iter().map(|r| r.0).collect();
    let ordered = order(app, &rows);
    let focus_pos = ordered
        .iter()
        .position(|&l| l == app.focused())
        .unwrap_or(0);
    let cap = capacity(area);
    let start = window_start(ordered.len(), cap, focus_pos);
    ordered.into_iter().skip(start).take(cap).collect()
}

/// The lane whose row is at `pos`, for a click.
pub fn lane_at(app: &App, area: Rect, pos: Position) -> Option<usize> {
    let inner = Rect::new(
        area.x + 1,
        area.y + 2,
        area.width.saturating_sub(2),
        area.height.saturating_sub(3),
    );
    if !inner.contains(pos) {
        return None;
    }
    visible(app, area).get((pos.y - inner.y) as usize).copied()
}

fn status_cell(r: &LaneSummary) -> Cell<'static> {
    let style = match r.status {
        LaneStatus::Diverged { .. } => theme::error(),
        _ if r.blowing_up => theme::error(),
        _ if r.off_target => theme::warning(),
        LaneStatus::Done => theme::ok(),
        LaneStatus::Stopped { .. } => theme::muted(),
        LaneStatus::Running => Style::new(),
    };
    Cell::from(Span::styled(r.status_label(), style))
}

/// Draws the leaderboard.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    let lanes = app.lanes();
    let per_lane = lane_rows(app);
    let rows: Vec<LaneSummary> = per_lane.iter().map(|r| r.0.clone()).collect();
    // Several seeds: intervals, n and the paired difference against the reference lane (the
    // same-trajectory probe's, else the first).
    let seeded = app.seed_count() > 1;
    let reference = view
        .info()
        .and_then(|i| i.reference_lane.clone())
        .and_then(|name| rows.iter().position(|r| r.name == name))
        .unwrap_or(0);
    let arrow = if app.sort.reversed { "▲" } else { "▼" };
    let sort_name = match app.sort.column {
        SortColumn::Lane => "lane",
        SortColumn::Step => "step",
        SortColumn::Loss => "loss",
        SortColumn::Error => "held-out error",
        SortColumn::Firing => "firing",
        SortColumn::Saved => "saved",
        SortColumn::Speed => "examples/s",
    };
    let shown = visible(app, area);
    let mut title = format!(" Leaderboard · by {sort_name} {arrow} ");
    if seeded {
        title.push_str(&format!(
            "· {} seeds: mean ± 95% CI (Student's t); Δ: paired vs {}, * excludes 0 ",
            app.seed_count(),
            rows.get(reference).map_or("", |r| r.name.as_str())
        ));
    }
    if shown.len() < rows.len() && capacity(area) > 0 {
        title.push_str(&format!(
            "· {} of {} lanes (tab scrolls) ",
            shown.len(),
            rows.len()
        ));
    }
    let block = panel(title);
    // The intervals and the paired column take about 30 more cells.
    let extra = if seeded { 30 } else { 0 };
    let (more, most, wide) = (
        area.width >= WIDE.0,
        area.width >= WIDE.1 + extra,
        area.width >= WIDE.2 + extra,
    );
    let mut header = vec![("#", None), ("lane", Some(SortColumn::Lane))];
    if seeded {
        header.push(("n", None));
    }
    if wide {
        header.push(("estimator", None));
    }
    // Narrow with intervals: the step goes (the header has it) to leave the names whole.
    let steps = !seeded || more;
    if steps {
        header.push(("step", Some(SortColumn::Step)));
    }
    header.extend([
        ("loss", Some(SortColumn::Loss)),
        ("held-out", Some(SortColumn::Error)),
        ("firing", Some(SortColumn::Firing)),
        ("saved", Some(SortColumn::Saved)),
    ]);
    if seeded && more {
        header.push(("Δ vs ref", None));
    }
    if more {
        header.extend([("net", None), ("eval/step", None)]);
    }
    if most {
        header.extend([("ex/s", Some(SortColumn::Speed)), ("evals", None)]);
    }
    header.push(("status", None));
    let header_row = Row::new(header.iter().map(|(h, col)| {
        if *col == Some(app.sort.column) {
            Cell::from(Line::from(vec![
                Span::styled(*h, theme::title()),
                Span::styled(arrow, theme::title()),
            ]))
        } else {
            Cell::from(Span::styled(*h, theme::label()))
        }
    }));
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 20) as u16;
    let mut widths = vec![Constraint::Length(2), Constraint::Length(name_w)];
    if seeded {
        widths.push(Constraint::Length(2));
    }
    if wide {
        widths.push(Constraint::Fill(1));
    }
    // With intervals, "12.3±10.4%".
    let (error_w, share_w) = if seeded { (11, 10) } else { (9, 6) };
    if steps {
        widths.push(Constraint::Length(6));
    }
    widths.extend([
        Constraint::Length(7),
        Constraint::Length(error_w),
        Constraint::Length(share_w),
        Constraint::Length(share_w),
    ]);
    if seeded && more {
        widths.push(Constraint::Length(12));
    }
    if more {
        widths.extend([Constraint::Length(7), Constraint::Length(9)]);
    }
    if most {
        widths.extend([Constraint::Length(6), Constraint::Length(7)]);
    }
    // The status takes what is left, except beside the estimator, which takes the rest.
    widths.push(if wide {
        Constraint::Length(22)
    } else {
        Constraint::Min(8)
    });
    let focus = app.focused();
    let body: Vec<Row> = shown
        .into_iter()
        .map(|i| {
            let r = &rows[i];
            let runs = &per_lane[i].1;
            let lane = lanes.get(i).and_then(|rs| view.lane(*rs.first()?));
            let mut cells = vec![
                Cell::from(Span::styled(legend::key_label(i), theme::muted())),
                Cell::from(Span::styled(r.name.clone(), theme::lane_text(i))),
            ];
            if seeded {
                cells.push(Cell::from(runs.len().to_string()));
            }
            if wide {
                cells.push(Cell::from(
                    lane.as_ref().map_or(r.estimator.clone(), estimator_text),
                ));
            }
            if steps {
                cells.push(Cell::from(r.steps.to_string()));
            }
            cells.push(Cell::from(
                r.train_loss.map_or("–".into(), |v| format!("{v:.4}")),
            ));
            if seeded {
                cells.extend([
                    Cell::from(percent_interval(runs, |r| r.heldout_error)),
                    Cell::from(percent_interval(runs, |r| r.firing_rate)),
                    Cell::from(percent_interval(runs, |r| r.compute_saved)),
                ]);
            } else {
                cells.extend([
                    Cell::from(percent(r.heldout_error)),
                    Cell::from(percent(r.firing_rate)),
                    Cell::from(percent(r.compute_saved)),
                ]);
            }
            if seeded && more {
                cells.push(if i == reference {
                    Cell::from(Span::styled("(reference)", theme::muted()))
                } else {
                    let text = paired(runs, &per_lane[reference].1);
                    let style = if text.ends_with('*') {
                        theme::warning()
                    } else {
                        Style::new()
                    };
                    Cell::from(Span::styled(text, style))
                });
            }
            let budget = lane.as_ref().and_then(LaneView::budget);
            if more {
                cells.extend([
                    Cell::from(percent(r.net_compute_saved)),
                    Cell::from(budget.map_or("–".into(), |b| format!("{:.1}", b.per_step))),
                ]);
            }
            if most {
                cells.extend([
                    Cell::from(
                        r.examples_per_second
                            .map_or("–".into(), |v| format!("{v:.0}")),
                    ),
                    Cell::from(budget.map_or("–".into(), |b| plot::compact(b.total.round()))),
                ]);
            }
            cells.push(status_cell(r));
            let row = Row::new(cells);
            if i == focus {
                row.style(theme::focused())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(body, widths)
        .header(header_row)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::{lane_name, recorder};
    use std::time::Instant;

    fn app(lanes: usize) -> App {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(lanes, 300);
        app
    }

    /// Lane names in the order the rows show them.
    fn shown(t: &str, lanes: usize) -> Vec<usize> {
        t.lines()
            .filter_map(|l| (0..lanes).find(|&i| l.contains(&format!(" {} ", lane_name(i)))))
            .collect()
    }

    #[test]
    fn rows_carry_the_values_and_sort_by_column() {
        let mut a = app(5);
        let t = text(&rendered(150, 9, |f, r| super::render(f, r, &a)));
        assert!(t.contains("Leaderboard · by held-out error ▼"), "{t}");
        assert!(t.contains("estimator"), "{t}");
        // Synthetic held-out error grows with the lane index: lane order is error order.
        assert_eq!(shown(&t, 5), vec![0, 1, 2, 3, 4], "{t}");
        let row0 = t
            .lines()
            .find(|l| l.contains(" straight-through "))
            .unwrap();
        let e = crate::tui::synthetic::error(0, 300);
        assert!(row0.contains(&format!("{:.1}%", 100.0 * e)), "{row0}");
        assert!(row0.contains("300") && row0.contains("done"), "{row0}");
        a.act(Action::SortReverse);
        let t = text(&rendered(150, 9, |f, r| super::render(f, r, &a)));
        assert_eq!(shown(&t, 5), vec![4, 3, 2, 1, 0], "{t}");
        // Firing: the dense lane (100%) last.
        a.sort = crate::tui::app::Sort {
            column: SortColumn::Firing,
            reversed: false,
        };
        let t = text(&rendered(150, 9, |f, r| super::render(f, r, &a)));
        assert_eq!(*shown(&t, 5).last().unwrap(), 4, "{t}");
        // Narrow: the estimator column goes.
        let t = text(&rendered(90, 9, |f, r| super::render(f, r, &a)));
        assert!(!t.contains("estimator"), "{t}");
    }

    #[test]
    fn the_focused_row_is_highlighted_and_a_click_focuses_a_lane() {
        let mut a = app(5);
        a.focus = 2;
        let area = Rect::new(0, 0, 150, 9);
        let buf = rendered(150, 9, |f, r| super::render(f, r, &a));
        // Rows start under the border and the header: lane 2 on line 4.
        let line4: String = (0..150).map(|x| buf[(x, 4)].symbol()).collect();
        assert!(line4.contains("noisy-rectifier"), "{line4}");
        assert_eq!(buf[(20, 4)].bg, theme::focused().bg.unwrap());
        assert_ne!(buf[(20, 3)].bg, theme::focused().bg.unwrap());
        assert_eq!(lane_at(&a, area, Position::new(10, 6)), Some(4));
        assert_eq!(lane_at(&a, area, Position::new(10, 2)), Some(0));
        assert_eq!(lane_at(&a, area, Position::new(10, 1)), None, "header");
        assert_eq!(lane_at(&a, area, Position::new(0, 3)), None, "border");
        assert_eq!(lane_at(&a, area, Position::new(10, 8)), None, "border");
    }

    #[test]
    fn twelve_lanes_scroll_to_keep_the_focus() {
        let mut a = app(12);
        a.sort.column = SortColumn::Lane;
        a.focus = 11;
        let area = Rect::new(0, 0, 120, 8);
        let t = text(&rendered(120, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains(&lane_name(11)), "{t}");
        assert_eq!(shown(&t, 12).len(), 5);
        assert_eq!(lane_at(&a, area, Position::new(10, 6)), Some(11));
        survives_tiny_areas(&a, super::render);
    }

    #[test]
    fn empty_and_one_lane() {
        let a = App::live(Instant::now());
        let t = text(&rendered(100, 6, |f, r| super::render(f, r, &a)));
        assert!(t.contains("Leaderboard"), "{t}");
        survives_tiny_areas(&a, super::render);
        let a = app(1);
        survives_tiny_areas(&a, super::render);
        assert_eq!(
            lane_at(&a, Rect::new(0, 0, 3, 2), Position::new(1, 1)),
            None
        );
    }

    #[test]
    fn lanes_off_their_firing_target_say_so() {
        // Synthetic lane i fires 10 + 2i %: lanes 2 and 3 are more than 2 points off the 10%
        // target once they are judged (from step 1,000); the dense lane has no target.
        let mut a = App::live(Instant::now());
        a.recorder = recorder(5, 1500);
        let t = text(&rendered(150, 9, |f, r| super::render(f, r, &a)));
        let row = |i: usize| {
            t.lines()
                .find(|l| l.contains(&lane_name(i)))
                .unwrap()
                .to_string()
        };
        assert!(row(2).contains("done, off target"), "{t}");
        assert!(row(3).contains("done, off target"), "{t}");
        assert!(
            !row(0).contains("off target") && !row(4).contains("off target"),
            "{t}"
        );
    }

    #[test]
    fn missing_values_sort_last_both_ways() {
        let mut a = app(3);
        a.recorder.lanes[0].evals = Default::default();
        let rows = a.view().summaries();
        assert_eq!(order(&a, &rows), vec![1, 2, 0]);
        a.sort.reversed = true;
        assert_eq!(order(&a, &rows), vec![2, 1, 0]);
    }

    #[test]
    fn the_budget_the_temperature_and_a_blow_up() {
        use crate::estimators::{EstimatorSpec, Temperature};
        let mut a = app(3);
        // Lane 1 evaluates its loss four times a step; lane 2 anneals its temperature.
        let h = &mut a.recorder.lanes[1];
        let mut steps = crate::history::Downsampled::new(h.steps.capacity());
        for p in h.steps.iter() {
            steps.push(crate::engine::StepPoint {
                evaluations: 4.0,
                ..*p
            });
        }
        h.steps = steps;
        a.recorder.lanes[2].info.settings.estimator = EstimatorSpec::GumbelRao {
            samples: 10,
            temperature: Temperature::Exponential {
                start: 1.0,
                rate: 0.001,
                floor: 0.5,
            },
        };
        crate::tui::synthetic::run_away(&mut a.recorder, 0, 100, 3000.0);
        let t = text(&rendered(150, 8, |f, r| super::render(f, r, &a)));
        let row = |i: usize| {
            t.lines()
                .find(|l| l.contains(&lane_name(i)))
                .unwrap()
                .to_string()
        };
        assert!(t.contains("eval/step") && t.contains("evals"), "{t}");
        assert!(row(1).contains(" 4.0 ") && row(1).contains(" 1200 "), "{t}");
        assert!(row(0).contains(" 1.0 ") && row(0).contains(" 300 "), "{t}");
        // τ after 300 steps: e^(−0.3) = 0.741.
        assert!(row(2).contains("τ now 0.741"), "{t}");
        assert!(row(0).contains("blowing up"), "{t}");
        // At 100 columns: evaluations per step, not the total; at 80 neither.
        let t = text(&rendered(100, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains("eval/step") && !t.contains("evals "), "{t}");
        let t = text(&rendered(80, 8, |f, r| super::render(f, r, &a)));
        assert!(!t.contains("eval/step"), "{t}");
        assert!(t.contains("blowing up"), "{t}");
    }

    #[test]
    fn the_title_counts_the_lanes_shown() {
        let a = app(12);
        let t = text(&rendered(120, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains("5 of 12 lanes"), "{t}");
        let t = text(&rendered(120, 20, |f, r| super::render(f, r, &a)));
        assert!(!t.contains("of 12 lanes"), "{t}");
    }

    #[test]
    fn several_seeds_give_intervals_n_and_the_paired_difference() {
        let mut a = App::live(Instant::now());
        a.recorder = crate::tui::synthetic::seeded(3, 3, 600);
        let t = text(&rendered(150, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains("3 seeds: mean ± 95% CI"), "{t}");
        assert!(t.contains("paired vs straight-through"), "{t}");
        assert!(t.contains("Δ vs ref"), "{t}");
        let row = |i: usize| {
            t.lines()
                .find(|l| l.contains(&format!(" {} ", lane_name(i))))
                .unwrap()
                .to_string()
        };
        // Seed k's error is seed 1's × (1 + 0.1(k − 1)): mean ×1.1, s = 0.1·e, t₂ = 4.303.
        let e = f64::from(crate::tui::synthetic::error(1, 600));
        let (m, h) = (1.1 * e, 4.303 * 0.1 * e / 3f64.sqrt());
        let cell = format!("{:.1}±{:.1}%", 100.0 * m, 100.0 * h);
        assert!(row(1).contains(&cell), "{cell} in {}", row(1));
        assert!(row(0).contains("(reference)"), "{t}");
        assert!(row(1).contains(" 3 "), "n: {}", row(1));
        assert_eq!(shown(&t, 3).len(), 3, "one row per lane: {t}");
        // At 80 columns the names stay whole.
        let t = text(&rendered(80, 8, |f, r| super::render(f, r, &a)));
        assert!(t.contains(" noisy-rectifier "), "{t}");
        survives_tiny_areas(&a, super::render);
    }
}
