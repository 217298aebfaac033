//! The lane legend: each lane's symbol in its colour, its key (1–9) and its name, wrapped to
//! the width available. Drawn inside the header.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::theme;

/// The legend's lines for `width` cells (at least one line, empty before the race starts).
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let width = width.max(1) as usize;
    let focus = app.focused();
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for (i, lane) in app.recorder.lanes.iter().enumerate() {
        let style = theme::lane(i);
        let key = if i < 9 {
            format!("{} ", i + 1)
        } else {
            String::new()
        };
        let name = lane.info.name.clone();
        let item_width = 3 + key.chars().count() + name.chars().count() + 2;
        if used > 0 && used + item_width > width {
            out.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        let mut name_style = theme::lane_text(i);
        if i == focus {
            name_style = name_style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        }
        line.push(Span::styled(
            format!("{} ", style.symbol),
            theme::lane_text(i),
        ));
        line.push(Span::styled(key, theme::muted()));
        line.push(Span::styled(name, name_style));
        line.push(Span::raw("  "));
        used += item_width;
    }
    if !line.is_empty() || out.is_empty() {
        out.push(Line::from(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic::{lane_name, recorder};
    use std::time::Instant;

    #[test]
    fn every_lane_appears_once_and_lines_fit_the_width() {
        let mut app = App::live(Instant::now());
        assert_eq!(lines(&app, 80).len(), 1);
        app.recorder = recorder(12, 10);
        for width in [0, 20, 80, 200] {
            let ls = lines(&app, width);
            let all: String = ls.iter().map(|l| l.to_string() + "\n").collect();
            for i in 0..12 {
                let name = lane_name(i);
                assert_eq!(
                    all.matches(&format!(" {name} ")).count()
                        + all.matches(&format!(" {name}\n")).count(),
                    1,
                    "{name} in {all}"
                );
            }
            if width >= 40 {
                assert!(ls.iter().all(|l| l.width() <= width as usize), "{all}");
            }
        }
        assert_eq!(lines(&app, 120).len(), 2);
        assert_eq!(lines(&app, 200).len(), 1);
    }
}
