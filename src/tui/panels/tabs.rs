//! The tab strip, shown when not every panel fits on the screen: every panel's name, the ones
//! on screen highlighted, the selected one underlined, pages separated by a bar; then the keys
//! that turn the page and zoom. A click on a name shows that panel.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::layout::{Areas, Panel};
use crate::tui::theme;

/// Each tab's panel and its columns (offsets from the strip's left edge).
fn tabs(areas: &Areas) -> Vec<(Panel, u16, u16)> {
    let mut out = Vec::new();
    let mut x = 1u16;
    for (i, page) in areas.pages.iter().enumerate() {
        if i > 0 {
            x += 2; // "│ "
        }
        for p in page {
            let w = p.name().chars().count() as u16 + 2;
            out.push((*p, x, w));
            x += w;
        }
    }
    out
}

/// Draws the tab strip into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App, areas: &Areas) {
    let mut spans = vec![Span::raw(" ")];
    let shown = &areas.pages[areas.page.min(areas.pages.len() - 1)];
    for (i, page) in areas.pages.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("│ ", theme::muted()));
        }
        for p in page {
            let mut style = if shown.contains(p) {
                Style::new()
                    .fg(ratatui::style::Color::Black)
                    .bg(ratatui::style::Color::Gray)
            } else {
                theme::label()
            };
            if *p == app.panel {
                style = style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
            }
            spans.push(Span::styled(format!(" {} ", p.name()), style));
        }
    }
    let hint = if app.zoomed {
        "   z unzoom · [ ] panel"
    } else {
        "   [ ] panel · z zoom"
    };
    // The hint only where it fits (the status line repeats it).
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used + hint.chars().count() <= area.width as usize {
        spans.push(Span::styled(hint, theme::muted()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The panel whose tab is at `pos`.
pub fn panel_at(areas: &Areas, _app: &App, pos: Position) -> Option<Panel> {
    let strip = areas.tabs?;
    if !strip.contains(pos) {
        return None;
    }
    let x = pos.x - strip.x;
    tabs(areas)
        .into_iter()
        .find(|&(_, start, w)| (start..start + w).contains(&x))
        .map(|(p, _, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::layout;
    use crate::tui::panels::test_support::*;
    use crate::tui::synthetic::recorder;
    use std::time::Instant;

    #[test]
    fn the_strip_names_every_panel_and_a_click_selects_one() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 100);
        let screen = Rect::new(0, 0, 80, 24);
        app.screen = screen;
        let areas = layout::areas(screen, &app).unwrap();
        let strip = areas.tabs.unwrap();
        let buf = rendered(80, 24, |f, _| render(f, strip, &app, &areas));
        let line = &lines(&buf)[strip.y as usize];
        for p in Panel::ALL {
            assert!(line.contains(p.name()), "{line}");
        }
        let wide = layout::areas(Rect::new(0, 0, 120, 32), &app).unwrap();
        let buf = rendered(120, 32, |f, _| render(f, wide.tabs.unwrap(), &app, &wide));
        let wide_line = &lines(&buf)[wide.tabs.unwrap().y as usize];
        assert!(wide_line.contains("z zoom"), "{wide_line}");
        let x = line[..line.find("Gates").unwrap()].chars().count() as u16;
        let hit = panel_at(&areas, &app, Position::new(strip.x + x + 1, strip.y));
        assert_eq!(hit, Some(Panel::Gates));
        app.mouse(
            crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
            strip.x + x + 1,
            strip.y,
        );
        assert_eq!(app.panel, Panel::Gates);
        assert_eq!(panel_at(&areas, &app, Position::new(79, strip.y)), None);
    }
}
