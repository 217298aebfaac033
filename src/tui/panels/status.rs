//! The status line: the latest notice (a save, an error, the end of the race) or the main keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Mode};
use crate::tui::theme;

/// Draws the status line.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let line = match app.current_notice() {
        Some(n) => Line::from(Span::styled(
            format!(" {}", n.text),
            if n.error { theme::error() } else { theme::ok() },
        )),
        None => {
            let hints = match &app.mode {
                Mode::Live(l) if l.stopping => {
                    " stopping the race… (q again leaves at once)".to_string()
                }
                Mode::Live(_) => {
                    let pause = if app.recorder.paused {
                        "space resume"
                    } else {
                        "space pause"
                    };
                    format!(
                        " {pause} · ? help · q quit · [ ] panel · z zoom · tab/0–9 lane · \
                         x hide · t x-axis · s save"
                    )
                }
                Mode::Replay(t) => {
                    let play = if t.playing {
                        "space pause"
                    } else {
                        "space play"
                    };
                    format!(
                        " {play} · ←/→ 1% · pgup/pgdn 10% · +/- speed · ? help · q quit · \
                         [ ] panel · z zoom · tab lane"
                    )
                }
            };
            Line::from(Span::styled(hints, theme::muted()))
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panels::test_support::*;
    use std::time::{Duration, Instant};

    #[test]
    fn notices_replace_the_hints_for_a_while() {
        let mut app = App::live(Instant::now());
        let t = text(&rendered(100, 1, |f, r| super::render(f, r, &app)));
        assert!(t.contains("? help"), "{t}");
        app.notify("saved to /tmp/x.ron", false);
        let t = text(&rendered(100, 1, |f, r| super::render(f, r, &app)));
        assert!(t.contains("saved to /tmp/x.ron"), "{t}");
        app.now += Duration::from_secs(60);
        let t = text(&rendered(100, 1, |f, r| super::render(f, r, &app)));
        assert!(t.contains("? help"), "{t}");
        survives_tiny_areas(&app, super::render);
    }

    #[test]
    fn the_hints_follow_the_play_state() {
        let mut app = App::replay(crate::tui::synthetic::recorder(1, 100), Instant::now());
        let t = text(&rendered(120, 1, |f, r| super::render(f, r, &app)));
        assert!(t.contains("space play"), "{t}");
        app.act(crate::tui::keys::Action::PlayPause);
        let t = text(&rendered(120, 1, |f, r| super::render(f, r, &app)));
        assert!(
            t.contains("space pause") && !t.contains("space play"),
            "{t}"
        );
        let mut live = App::live(Instant::now());
        live.recorder.paused = true;
        let t = text(&rendered(120, 1, |f, r| super::render(f, r, &live)));
        assert!(t.contains("space resume"), "{t}");
    }
}
