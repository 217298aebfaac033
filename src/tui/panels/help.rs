//! The help popup (`?`), generated from the key table: exactly the bindings that apply in the
//! current mode, in table order.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::panel;
use crate::tui::app::App;
use crate::tui::keys;
use crate::tui::theme;

/// Width of the key column.
const KEY_W: usize = 9;

/// The help lines: one per binding of the mode, "keys  description".
pub fn lines(replay: bool) -> Vec<Line<'static>> {
    keys::bindings(replay)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>KEY_W$}  ", b.label), theme::title()),
                Span::raw(b.help),
            ])
        })
        .collect()
}

/// Draws the popup over the middle of `screen`, in two columns when one does not fit.
pub fn render(frame: &mut Frame, screen: Rect, app: &App) {
    let lines = lines(app.is_replay());
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let rows = lines.len() as u16;
    let fits_one = rows + 2 <= screen.height.saturating_sub(2);
    let (cols, height) = if fits_one {
        (1, rows + 2)
    } else {
        (2, rows.div_ceil(2) + 2)
    };
    let width = (cols * (widest + 2) + 2).min(screen.width);
    let height = height.min(screen.height);
    let area = Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    );
    let title = if app.is_replay() {
        " Help · replay keys · ? or esc closes "
    } else {
        " Help · keys · ? or esc closes "
    };
    let block = panel(title);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    if cols == 1 {
        frame.render_widget(Paragraph::new(lines), inner);
    } else {
        let half = lines.len().div_ceil(2);
        let mut right = lines;
        let left = right.drain(..half).collect::<Vec<_>>();
        let [a, b] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(left), a);
        frame.render_widget(Paragraph::new(right), b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::BINDINGS;
    use crate::tui::panels::test_support::*;
    use std::time::Instant;

    #[test]
    fn the_help_lists_exactly_the_key_table() {
        for replay in [false, true] {
            let want: Vec<String> = BINDINGS
                .iter()
                .filter(|b| b.scope.applies(replay))
                .map(|b| format!("{:>KEY_W$}  {}", b.label, b.help))
                .collect();
            let got: Vec<String> = super::lines(replay).iter().map(|l| l.to_string()).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn the_popup_shows_every_binding_on_big_and_small_screens() {
        for replay in [false, true] {
            let app = if replay {
                App::replay(crate::tui::synthetic::recorder(1, 10), Instant::now())
            } else {
                App::live(Instant::now())
            };
            for (w, h) in [(160, 48), (80, 24)] {
                let t = text(&rendered(w, h, |f, r| super::render(f, r, &app)));
                assert!(t.contains("Help"), "{t}");
                for b in keys::bindings(replay) {
                    assert!(t.contains(b.help), "{} missing at {w}×{h}:\n{t}", b.help);
                }
            }
            survives_tiny_areas(&app, super::render);
        }
    }
}
