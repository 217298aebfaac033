//! The replay timeline bar: play state, speed, the cursor step and a bar over the run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::panel;
use crate::tui::app::App;
use crate::tui::theme;

/// The bar: `width` cells, '━' up to the cursor, '●' at it, '─' after.
pub fn bar(fraction: f64, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let at = ((fraction.clamp(0.0, 1.0) * (width - 1) as f64).round() as usize).min(width - 1);
    let mut s = "━".repeat(at);
    s.push('●');
    s.push_str(&"─".repeat(width - 1 - at));
    s
}

/// Draws the timeline (nothing outside a replay).
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let Some(t) = app.timeline() else {
        return;
    };
    // On a small screen the timeline is one line without borders.
    let inner = if area.height >= 3 {
        let block = panel(" Timeline ");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        inner
    } else {
        area
    };
    // "▶" and "||": the pause sign U+23F8 is missing from many terminal fonts.
    let head = format!(
        " {} ×{:<5} step {:>7} / {:<7} ",
        if t.playing { "▶" } else { "||" },
        t.speed(),
        t.cursor(),
        t.end()
    );
    let tail = format!(" {:>3.0}% ", 100.0 * t.fraction());
    let bar_w = (inner.width as usize).saturating_sub(head.chars().count() + tail.chars().count());
    let line = Line::from(vec![
        Span::styled(head, theme::title()),
        Span::styled(bar(t.fraction(), bar_w), theme::lane_text(app.focused())),
        Span::styled(tail, theme::muted()),
    ]);
    frame.render_widget(Paragraph::new(line), inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::Action;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn bar_marks_the_cursor() {
        assert_eq!(bar(0.0, 5), "●────");
        assert_eq!(bar(1.0, 5), "━━━━●");
        assert_eq!(bar(0.5, 5), "━━●──");
        assert_eq!(bar(0.5, 0), "");
    }

    #[test]
    fn shows_the_cursor_step_and_speed() {
        let mut app = App::replay(recorder(2, 1000), Instant::now());
        app.act(Action::SeekBackFar);
        app.act(Action::Faster);
        let t = text(&rendered(100, 3, |f, r| super::render(f, r, &app)));
        assert!(t.contains("Timeline"), "{t}");
        assert!(t.contains("step     900 / 1000"), "{t}");
        assert!(t.contains("×2"), "{t}");
        assert!(t.contains(" 90% "), "{t}");
        assert!(t.contains(" || ×2"), "{t}");
        let t = text(&rendered(100, 1, |f, r| super::render(f, r, &app)));
        assert!(t.contains("step     900 / 1000"), "one line: {t}");
        survives_tiny_areas(&app, super::render);
        let live = App::live(Instant::now());
        assert!(!text(&rendered(100, 3, |f, r| super::render(f, r, &live))).contains("Timeline"));
    }
}
