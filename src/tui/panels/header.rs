//! The header: experiment, data set and sizes, step and epoch, elapsed time and ETA, state and
//! pace, then the lane legend. On a small screen (compact) it is one line of progress and at most
//! two lines of legend, without borders.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{legend, panel};
use crate::tui::app::{App, Mode};
use crate::tui::theme;

/// Legend lines at most: in the full header, and in the compact one.
const LEGEND_LINES: (usize, usize) = (4, 2);

/// Rows the header needs on a screen `width` cells wide: borders, two lines and the legend; or,
/// `compact`, one line and the legend.
pub fn height(app: &App, width: u16, compact: bool) -> u16 {
    if compact {
        1 + legend::line_count(app, width).min(LEGEND_LINES.1) as u16
    } else {
        4 + legend::line_count(app, width.saturating_sub(2)).min(LEGEND_LINES.0) as u16
    }
}

/// Where the legend is drawn in a header drawn in `area`.
pub fn legend_area(area: Rect, compact: bool) -> Rect {
    if compact {
        Rect::new(
            area.x,
            area.y + 1,
            area.width,
            area.height.saturating_sub(1),
        )
    } else {
        Rect::new(
            area.x + 1,
            area.y + 3,
            area.width.saturating_sub(2),
            area.height.saturating_sub(4),
        )
    }
}

/// "1:02:03" or "2:03".
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn sep() -> Span<'static> {
    Span::styled("  ·  ", theme::muted())
}

fn state_style(state: &str) -> Style {
    match state {
        "running" | "replay: playing" => theme::ok().add_modifier(Modifier::BOLD),
        "paused" | "replay: paused" => Style::new()
            .fg(Color::Rgb(0xF0, 0xE4, 0x42))
            .add_modifier(Modifier::BOLD),
        "stopping" => theme::error(),
        _ => theme::title(),
    }
}

/// The race line: experiment, data and network sizes.
fn race_line(app: &App) -> Line<'static> {
    let Some(info) = &app.recorder.info else {
        return Line::from(Span::styled(
            "waiting for the race to start…",
            theme::muted(),
        ));
    };
    Line::from(vec![
        Span::styled(info.experiment.clone(), theme::title()),
        sep(),
        Span::styled("data ", theme::label()),
        Span::raw(format!(
            "{}: {} train / {} held-out",
            info.data, info.train_examples, info.heldout_examples
        )),
        sep(),
        Span::styled("net ", theme::label()),
        Span::raw(format!(
            "{}→{} gater→{} gates→{}",
            info.input_dim, info.gater_hidden, info.experts, info.classes
        )),
        sep(),
        Span::styled("batch ", theme::label()),
        Span::raw(info.batch_size.to_string()),
        sep(),
        Span::styled(
            if info.seeds.len() > 1 {
                "seeds "
            } else {
                "seed "
            },
            theme::label(),
        ),
        // Several seeds: the first and the last, and how many.
        Span::raw(match info.seeds.as_slice() {
            [first, .., last] => format!("{first}…{last} ({})", info.seeds.len()),
            _ => info.seed.to_string(),
        }),
    ])
}

/// The progress line: step, epoch, time, state, pace.
fn progress_line(app: &App) -> Line<'static> {
    let view = app.view();
    let step = view.step();
    let (total, per_epoch) = app
        .recorder
        .info
        .as_ref()
        .map_or((0, 1), |i| (i.total_steps, i.steps_per_epoch.max(1)));
    let mut spans = vec![
        Span::styled("step ", theme::label()),
        Span::styled(format!("{step}/{total}"), theme::title()),
        sep(),
        Span::styled("epoch ", theme::label()),
        Span::raw(format!(
            "{:.1}/{:.1}",
            step as f64 / per_epoch as f64,
            total as f64 / per_epoch as f64
        )),
        sep(),
    ];
    let state = app.state_label();
    match &app.mode {
        Mode::Live(live) => {
            let end = live.ended.unwrap_or(app.now);
            let elapsed = end.saturating_duration_since(live.started);
            let moving = !app.recorder.finished && !app.recorder.paused;
            let rate = live.speed.rate(app.now).filter(|r| *r > 0.0 && moving);
            let eta = match rate {
                Some(r) => clock(Duration::from_secs_f64(
                    (total.saturating_sub(step) as f64 / r).min(1e7),
                )),
                None => "–".into(),
            };
            spans.extend([
                Span::styled("elapsed ", theme::label()),
                Span::raw(clock(elapsed)),
                sep(),
                Span::styled("ETA ", theme::label()),
                Span::raw(eta),
                sep(),
                Span::styled(state, state_style(state)),
                sep(),
                Span::styled("pace ", theme::label()),
                Span::raw(match live.pace {
                    None => "no limit".to_string(),
                    Some(p) => format!("≤ {p} steps/s"),
                }),
                Span::raw(match rate {
                    Some(r) => format!(" ({r:.0} steps/s)"),
                    None => String::new(),
                }),
            ]);
        }
        Mode::Replay(t) => {
            spans.extend([
                Span::styled(state, state_style(state)),
                sep(),
                Span::styled("speed ", theme::label()),
                Span::raw(format!("×{}", t.speed())),
                sep(),
                Span::styled(
                    format!("{:.0}% of the run", 100.0 * t.fraction()),
                    theme::muted(),
                ),
            ]);
        }
    }
    Line::from(spans)
}

/// Draws the header (`compact`: without borders, one line of progress).
pub fn render(frame: &mut Frame, area: Rect, app: &App, compact: bool) {
    if compact {
        // One line: the state first, narrow separators.
        let mut progress = progress_line(app);
        let state = app.state_label();
        if let Some(i) = progress.spans.iter().position(|s| s.content == state) {
            let word = progress.spans.remove(i);
            if i < progress.spans.len() {
                progress.spans.remove(i);
            }
            progress.spans.insert(0, sep());
            progress.spans.insert(0, word);
        }
        for s in &mut progress.spans {
            if s.content == sep().content {
                *s = Span::styled(" · ", theme::muted());
            }
        }
        let experiment = app
            .recorder
            .info
            .as_ref()
            .map_or(String::new(), |i| format!("{} · ", i.experiment));
        progress.spans.insert(
            0,
            Span::styled(format!("gradrace · {experiment}"), theme::title()),
        );
        let mut lines = vec![progress];
        lines.extend(legend::lines(app, area.width, LEGEND_LINES.1));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let block = panel(" gradrace ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![race_line(app), progress_line(app)];
    lines.extend(legend::lines(app, inner.width, LEGEND_LINES.0));
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn shows_the_race_the_step_and_the_state() {
        let now = Instant::now();
        let mut app = App::live(now);
        let buf = rendered(120, 5, |f, a| super::render(f, a, &app, false));
        assert!(text(&buf).contains("waiting for the race to start"));
        app.recorder = recorder(3, 600);
        app.recorder.finished = false;
        app.now = now + Duration::from_secs(75);
        let buf = rendered(160, 6, |f, a| super::render(f, a, &app, false));
        let ls = lines(&buf);
        assert!(ls[0].contains(" gradrace "), "{ls:?}");
        assert!(ls[1].contains("synthetic"), "{ls:?}");
        assert!(
            ls[1].contains("digits: 8000 train / 2000 held-out"),
            "{ls:?}"
        );
        assert!(ls[1].contains("784→200 gater→64 gates→10"), "{ls:?}");
        assert!(ls[2].contains("step 600/600"), "{ls:?}");
        assert!(ls[2].contains("epoch 2.4/2.4"), "{ls:?}");
        assert!(ls[2].contains("elapsed 1:15"), "{ls:?}");
        assert!(ls[2].contains("running"), "{ls:?}");
        assert!(ls[2].contains("pace no limit"), "{ls:?}");
        assert!(ls[3].contains("1 straight-through") && ls[3].contains("3 noisy-rectifier"));
        let mut replay = App::replay(recorder(3, 600), now);
        replay.act(crate::tui::keys::Action::SeekBackFar);
        let buf = rendered(160, 6, |f, a| super::render(f, a, &replay, false));
        let ls = lines(&buf);
        assert!(ls[2].contains("step 540/600"), "{ls:?}");
        assert!(ls[2].contains("replay: paused"), "{ls:?}");
        assert!(ls[2].contains("×1"), "{ls:?}");
    }

    #[test]
    fn the_compact_header_is_one_line_and_the_legend() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 600);
        let h = height(&app, 80, true);
        assert!((2..=3).contains(&h), "{h}");
        let buf = rendered(80, h, |f, a| super::render(f, a, &app, true));
        let ls = lines(&buf);
        assert!(
            ls[0].starts_with("gradrace · synthetic · done · step 600/600"),
            "{ls:?}"
        );
        assert!(ls[1].contains("1 straight-through"), "{ls:?}");
        assert!(
            !ls.iter().any(|l| l.contains('╭') || l.contains('┌')),
            "{ls:?}"
        );
    }

    #[test]
    fn several_seeds_are_named_and_each_lane_is_one_legend_item() {
        let mut app = App::live(Instant::now());
        app.recorder = crate::tui::synthetic::seeded(3, 3, 100);
        let ls = lines(&rendered(160, 6, |f, a| super::render(f, a, &app, false)));
        assert!(ls[1].contains("seeds 1…3 (3)"), "{ls:?}");
        assert_eq!(ls[3].matches("straight-through").count(), 1, "{ls:?}");
        assert!(ls[3].contains("3 noisy-rectifier"), "{ls:?}");
        app.recorder = recorder(2, 100);
        let ls = lines(&rendered(160, 6, |f, a| super::render(f, a, &app, false)));
        assert!(ls[1].contains("seed 1"), "{ls:?}");
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(Duration::from_secs(5)), "0:05");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn survives_tiny_areas_and_any_lane_count() {
        for lanes in [0, 1, 12] {
            let mut app = App::live(Instant::now());
            app.recorder = recorder(lanes, 5);
            survives_tiny_areas(&app, |f, a, app| super::render(f, a, app, false));
            survives_tiny_areas(&app, |f, a, app| super::render(f, a, app, true));
        }
    }
}
