//! The lane legend: each lane's symbol in its colour, its key and its name, wrapped to the
//! width available. Drawn inside the header. A click on a lane hides or shows it in the charts
//! (a right click shows it alone); hidden lanes are drawn dimmed and crossed out.

use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::theme;

/// One lane's place in the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The lane.
    pub lane: usize,
    /// The legend line it is on.
    pub line: usize,
    /// Its first cell on that line.
    pub x: u16,
    /// Its width in cells (without the gap after it).
    pub width: u16,
}

/// The key that focuses lane `i`: 1–9, 0 for the tenth, the two digits from the eleventh.
pub fn key_label(i: usize) -> String {
    match i {
        0..=8 => (i + 1).to_string(),
        9 => "0".into(),
        _ => (i + 1).to_string(),
    }
}

fn parts(app: &App, i: usize) -> (String, String, String) {
    let symbol = if app.is_visible(i) {
        theme::lane(i).symbol
    } else {
        "··"
    };
    (
        format!("{symbol} "),
        format!("{} ", key_label(i)),
        app.lane_name(i),
    )
}

/// Where every lane goes on lines `width` cells wide: items in lane order, wrapped.
pub fn items(app: &App, width: u16) -> Vec<Item> {
    let width = width.max(1);
    let mut out = Vec::new();
    let (mut line, mut used) = (0usize, 0u16);
    for i in 0..app.lane_count() {
        let (a, b, c) = parts(app, i);
        let w = (a.chars().count() + b.chars().count() + c.chars().count()) as u16;
        if used > 0 && used + w > width {
            line += 1;
            used = 0;
        }
        out.push(Item {
            lane: i,
            line,
            x: used,
            width: w,
        });
        used += w + 2;
    }
    out
}

/// Legend lines needed at `width` (at least one).
pub fn line_count(app: &App, width: u16) -> usize {
    items(app, width).last().map_or(1, |i| i.line + 1)
}

/// The legend's lines for `width` cells, at most `max_lines` of them (the last says how many
/// lanes did not fit).
pub fn lines(app: &App, width: u16, max_lines: usize) -> Vec<Line<'static>> {
    let focus = app.focused();
    let items = items(app, width);
    let mut out: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let max_lines = max_lines.max(1);
    let mut shown = items.iter().filter(|it| it.line < max_lines).count();
    // When lanes are left out, the last line keeps room to say how many.
    if shown < items.len() {
        let room = |shown: usize| {
            format!("  +{} more lanes", items.len() - shown)
                .chars()
                .count()
        };
        while shown > 0 && {
            let last = &items[shown - 1];
            last.x as usize + last.width as usize + room(shown) > width.max(1) as usize
        } {
            shown -= 1;
        }
    }
    for it in items.iter().take(shown) {
        if out.len() <= it.line {
            out.push(Vec::new());
        }
        let (symbol, key, name) = parts(app, it.lane);
        let visible = app.is_visible(it.lane);
        let mut name_style = theme::lane_text(it.lane);
        if !visible {
            name_style = theme::muted().add_modifier(Modifier::CROSSED_OUT);
        }
        if it.lane == focus {
            name_style = name_style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        }
        let line = &mut out[it.line];
        if it.x > 0 {
            line.push(Span::raw("  "));
        }
        line.push(Span::styled(
            symbol,
            if visible {
                theme::lane_text(it.lane)
            } else {
                theme::muted()
            },
        ));
        line.push(Span::styled(key, theme::muted()));
        line.push(Span::styled(name, name_style));
    }
    if shown < items.len()
        && let Some(last) = out.last_mut()
    {
        last.push(Span::styled(
            format!("  +{} more lanes", items.len() - shown),
            theme::warning(),
        ));
    }
    out.into_iter().map(Line::from).collect()
}

/// The lane whose legend item is at `pos`, the legend drawn in `area` (one line per row).
pub fn lane_at(app: &App, area: Rect, pos: Position) -> Option<usize> {
    if !area.contains(pos) {
        return None;
    }
    let (line, x) = ((pos.y - area.y) as usize, pos.x - area.x);
    items(app, area.width)
        .into_iter()
        .find(|it| it.line == line && (it.x..it.x + it.width).contains(&x))
        .map(|it| it.lane)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic::{lane_name, recorder};
    use std::time::Instant;

    #[test]
    fn every_lane_appears_once_and_lines_fit_the_width() {
        let mut app = App::live(Instant::now());
        assert_eq!(lines(&app, 80, 4).len(), 1);
        app.recorder = recorder(12, 10);
        for width in [0, 20, 80, 200] {
            let ls = lines(&app, width, 100);
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
        assert_eq!(line_count(&app, 120), 2);
        assert_eq!(line_count(&app, 220), 1);
        // Lanes 10 to 12 have keys 0, 11 and 12.
        let all: String = lines(&app, 300, 1)[0].to_string();
        assert!(
            all.contains(" 0 sts-p") && all.contains(" 11 unbiased-mean"),
            "{all}"
        );
        assert!(all.contains(" 12 unbiased-none"), "{all}");
        // Capped at one line: the rest are counted, within the width.
        let one = lines(&app, 80, 1);
        assert_eq!(one.len(), 1);
        assert!(one[0].to_string().contains("more lanes"), "{}", one[0]);
        assert!(one[0].width() <= 80, "{}", one[0]);
    }

    #[test]
    fn clicks_find_the_lane_under_the_pointer() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(5, 10);
        let area = Rect::new(10, 3, 60, 3);
        let its = items(&app, 60);
        for it in &its {
            let p = Position::new(area.x + it.x + it.width - 1, area.y + it.line as u16);
            assert_eq!(lane_at(&app, area, p), Some(it.lane));
        }
        // The gap between two items and outside the area hit nothing.
        let gap = Position::new(area.x + its[0].x + its[0].width, area.y);
        assert_eq!(lane_at(&app, area, gap), None);
        assert_eq!(lane_at(&app, area, Position::new(0, 0)), None);
    }

    #[test]
    fn hidden_lanes_are_marked() {
        let mut app = App::live(Instant::now());
        app.recorder = recorder(3, 10);
        app.toggle_lane(1);
        let l = lines(&app, 120, 2)[0].to_string();
        assert!(l.contains("·· 2 sts"), "{l}");
        assert!(l.contains("━━ 1 straight-through"), "{l}");
    }
}
