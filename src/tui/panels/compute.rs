//! Compute savings per lane over its last ~50 steps: the share of the main path's multiply-adds
//! skipped (1 − active / dense), the net share after paying for the gater
//! (1 − (active + gater) / dense), and the measured time per step, compared with the dense lane
//! when the race has one. A lane that saves much less than its firing rate suggests (10% firing
//! would skip about 90%) gets a numbered note saying why: its estimator reads ∂L/∂h at every
//! gate, so every expert is computed forward; its gates fire above the sparse kernels' crossover,
//! so it runs the dense path; or it evaluates the main path several times a step.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{message, panel, window_start};
use crate::engine::LaneInfo;
use crate::estimators::{Family, GateGradient};
use crate::history::{LaneSummary, LaneView};
use crate::net::SPARSE_CROSSOVER;
use crate::tui::app::App;
use crate::tui::seeds;
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

/// Points by which a lane may save less than 1 − its firing rate before it gets a note.
const SHORTFALL: f32 = 0.05;

/// Why a lane saves less than its firing rate suggests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shortfall {
    /// Its gates fire above the sparse kernels' crossover: the dense path.
    AboveCrossover,
    /// Its estimator reads ∂L/∂h at every gate: every expert is computed forward.
    ReadsEveryGate,
    /// It evaluates the main path this many times a step.
    Evaluations(u32),
    /// An expert is skipped only where no example of the minibatch fires its gate.
    BatchUnion,
}

impl Shortfall {
    /// A few words, on the lane's row.
    pub fn short(self) -> String {
        match self {
            Shortfall::AboveCrossover => "dense path".into(),
            Shortfall::ReadsEveryGate => "∂L/∂h: all fwd".into(),
            Shortfall::Evaluations(k) => format!("{k} evals/step"),
            Shortfall::BatchUnion => "batch union".into(),
        }
    }

    /// The explanation, under the rows.
    pub fn long(self) -> String {
        match self {
            Shortfall::AboveCrossover => format!(
                "fires above the {:.0}% sparse crossover: dense path, every expert computed",
                100.0 * SPARSE_CROSSOVER
            ),
            Shortfall::ReadsEveryGate => {
                "reads ∂L/∂h at every gate: every expert computed forward, backward sparse".into()
            }
            Shortfall::Evaluations(k) => {
                format!("{k} main-path evaluations a step, each computing its active experts")
            }
            Shortfall::BatchUnion => {
                "an expert is skipped only where no example of the batch fires its gate".into()
            }
        }
    }
}

/// Why lane `l` (summary `r`) saves less than its firing rate suggests, if it does.
pub fn why(info: &LaneInfo, r: &LaneSummary, l: &LaneView<'_>) -> Option<Shortfall> {
    if info.family == Family::Dense {
        return None;
    }
    let (firing, saved) = (r.firing_rate?, r.compute_saved?);
    if saved + SHORTFALL >= 1.0 - firing {
        return None;
    }
    let evaluations = l.budget().map_or(1.0, |b| b.per_step);
    let estimator = info.settings.estimator.build();
    Some(if firing > SPARSE_CROSSOVER {
        Shortfall::AboveCrossover
    } else if estimator.reads() == GateGradient::Everywhere {
        Shortfall::ReadsEveryGate
    } else if evaluations > 1.05 {
        Shortfall::Evaluations(evaluations.round() as u32)
    } else {
        Shortfall::BatchUnion
    })
}

/// `text` in lines of at most `width` characters, broken at spaces (a word longer than a line
/// is cut), continuation lines indented by four.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
            line.push_str("    ");
        }
        if !line.is_empty() && !line.ends_with("    ") {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        out.push(line);
    }
    out
}

/// Draws the compute panel.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let view = app.view();
    // One row per lane: over its seeds, the mean of each value.
    let all = view.summaries();
    let lanes = app.lanes();
    let firsts: Vec<LaneView<'_>> = lanes.iter().filter_map(|runs| view.lane(runs[0])).collect();
    let rows: Vec<LaneSummary> = lanes
        .iter()
        .filter_map(|runs| {
            let rs: Vec<&LaneSummary> = runs.iter().filter_map(|&r| all.get(r)).collect();
            seeds::summary(&rs)
        })
        .collect();
    let mut block = panel(" Compute savings · main-path multiply-adds skipped ");
    let inner = block.inner(area);
    if rows.is_empty() || rows.iter().all(|r| r.compute_saved.is_none()) {
        frame.render_widget(block, area);
        message(frame, inner, "no steps yet");
        return;
    }
    let dense = firsts
        .iter()
        .position(|l| l.info.family == Family::Dense)
        .and_then(|i| rows[i].seconds_per_step.map(|s| (i, s)))
        .filter(|(_, s)| *s > 0.0);
    // The notes, numbered in order of first appearance.
    let mut notes: Vec<Shortfall> = Vec::new();
    let note_of: Vec<Option<usize>> = firsts
        .iter()
        .zip(&rows)
        .map(|(l, r)| {
            let w = why(l.info, r, l)?;
            Some(match notes.iter().position(|n| *n == w) {
                Some(k) => k,
                None => {
                    notes.push(w);
                    notes.len() - 1
                }
            })
        })
        .collect();
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .min(18);
    // "saved  90.0%  net  71.2%   12.34 ms  ×0.52", then "  (1) ∂L/∂h: all fwd" on the rows
    // that have a note (its words where they fit).
    // Narrow: the words "saved" and "net" go (the first line names the columns instead).
    let full_w = if dense.is_some() { 44 } else { 37 };
    let tight = (inner.width as usize) < name_w + 1 + full_w;
    let numbers_w = if tight { full_w - 10 } else { full_w };
    let note_w = if notes.is_empty() {
        0
    } else {
        notes
            .iter()
            .map(|n| n.short().chars().count())
            .max()
            .unwrap_or(0)
            + 6
    };
    let words = inner.width as usize >= name_w + 1 + numbers_w + note_w;
    // The bar takes what the name, the numbers and the notes as drawn ("  (k)" without their
    // words) leave; none when the numbers lose their words (the first line names the columns).
    let note_drawn = match (notes.is_empty(), words) {
        (true, _) => 0,
        (false, true) => note_w,
        (false, false) => 5,
    };
    let bar_w = (inner.width as usize).saturating_sub(name_w + numbers_w + note_drawn + 2);
    let bar_w = if bar_w >= 6 && !tight {
        bar_w.min(40)
    } else {
        0
    };
    let mut lines = vec![Line::from(Span::styled(
        match dense {
            Some((i, _)) if bar_w == 0 => format!(
                "saved · net of the gater · time per step, ×{} = 1",
                rows[i].name
            ),
            None if bar_w == 0 => "saved · net of the gater · time per step".into(),
            Some((i, _)) => format!(
                "█ net saving  ░ gater's cost  ·  time per step, ×{} = 1",
                rows[i].name
            ),
            None => "█ net saving  ░ gater's cost  ·  time per step".into(),
        },
        theme::muted(),
    ))];
    // Room for the lanes first, then for as many notes as fit.
    let height = inner.height as usize;
    let capacity = height.saturating_sub(1).min(rows.len()).max(1);
    let note_lines = height.saturating_sub(1 + capacity).min(notes.len());
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
            Span::styled(if tight { "" } else { "saved " }, theme::label()),
            Span::raw(pct(r.compute_saved)),
            Span::styled(if tight { " " } else { "  net " }, theme::label()),
            Span::styled(pct(r.net_compute_saved), net_style),
        ]);
        if let Some(s) = r.seconds_per_step {
            spans.push(Span::raw(format!("  {:6.2} ms", 1000.0 * s)));
            if let Some((_, d)) = dense {
                spans.push(Span::styled(format!("  ×{:.2}", s / d), theme::title()));
            }
        }
        if let Some(k) = note_of[i] {
            let text = if words {
                format!("  ({}) {}", k + 1, notes[k].short())
            } else {
                format!("  ({})", k + 1)
            };
            spans.push(Span::styled(text, theme::warning()));
        }
        lines.push(Line::from(spans));
    }
    // The notes, wrapped at word boundaries into the lines left.
    let mut left = note_lines.max(height.saturating_sub(lines.len()));
    for (k, n) in notes.iter().enumerate() {
        for piece in wrap(&format!("({}) {}", k + 1, n.long()), inner.width as usize) {
            if left == 0 {
                break;
            }
            lines.push(Line::from(Span::styled(piece, theme::warning())));
            left -= 1;
        }
    }
    if capacity < rows.len() {
        block = block.title_bottom(Span::styled(
            format!(" {capacity} of {} lanes (tab scrolls) ", rows.len()),
            theme::warning(),
        ));
    }
    frame.render_widget(block, area);
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

    #[test]
    fn a_lane_saving_less_than_its_firing_suggests_says_why() {
        // Lane 0 (straight-through) fires 10% but saves only 45%: it reads ∂L/∂h at every gate.
        // Lane 1 (sts) fires 45%, above the sparse crossover: the dense path, nothing saved.
        let mut app = App::live(Instant::now());
        app.recorder = recorder(3, 100);
        for (lane, firing, saved) in [(0, 0.1f32, 0.45), (1, 0.45, 0.0)] {
            let h = &mut app.recorder.lanes[lane];
            let mut steps = crate::history::Downsampled::new(h.steps.capacity());
            for p in h.steps.iter() {
                steps.push(crate::engine::StepPoint {
                    firing_rate: firing,
                    active_main_macs: p.dense_main_macs * (1.0 - saved),
                    ..*p
                });
            }
            h.steps = steps;
        }
        let t = text(&rendered(90, 12, |f, r| super::render(f, r, &app)));
        let row = |name: &str| {
            t.lines()
                .find(|l| l.contains(&format!("│{name} ")))
                .unwrap()
        };
        assert!(
            row("straight-through").contains("(1) ∂L/∂h: all fwd"),
            "{t}"
        );
        assert!(row("sts").contains("(2) dense path"), "{t}");
        assert!(!row("noisy-rectifier").contains('('), "{t}");
        assert!(t.contains("(1) reads ∂L/∂h at every gate"), "{t}");
        assert!(
            t.contains("(2) fires above the 20% sparse crossover"),
            "{t}"
        );
        // Narrow: the notes wrap instead of being cut.
        let t = text(&rendered(50, 14, |f, r| super::render(f, r, &app)));
        assert!(t.contains("backward sparse"), "{t}");
        // The first line explains the bars exactly when there are bars; wide enough, there are.
        for width in 40..=170 {
            let t = text(&rendered(width, 12, |f, r| super::render(f, r, &app)));
            let lines: Vec<&str> = t.lines().collect();
            let bars = lines[2..]
                .iter()
                .any(|l| l.contains('█') || l.contains('░'));
            assert_eq!(lines[1].contains("█ net saving"), bars, "{width}:\n{t}");
            if width >= 110 {
                assert!(bars, "{width}:\n{t}");
            }
        }
    }

    #[test]
    fn more_lanes_than_rows_are_counted() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(12, 50);
        let t = text(&rendered(100, 8, |f, r| super::render(f, r, &app)));
        assert!(t.contains("5 of 12 lanes"), "{t}");
    }

    #[test]
    fn wrapping_breaks_at_spaces() {
        assert_eq!(wrap("ab cd ef", 5), vec!["ab cd", "    ef"]);
        assert_eq!(wrap("abc", 10), vec!["abc"]);
    }
}
