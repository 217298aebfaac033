//! Colours and styles on the terminal. Each lane keeps one colour in every panel, from
//! [`crate::palette`]; after eight lanes the colours repeat with a glyph marked along the
//! lane's curves and in its legend symbol (see [`GLYPHS`]). Firing rates use viridis.

use ratatui::style::{Color, Modifier, Style};

use crate::palette::{self, Rgb};

/// A palette colour on the terminal.
fn rgb((r, g, b): Rgb) -> Color {
    Color::Rgb(r, g, b)
}

/// Glyphs drawn along the curves of lanes 9 and up, one set of eight colours at a time: Braille
/// lines cannot be dashed visibly (a gap of a few dots reads as noise), but a glyph every few
/// cells survives, so lane 9 (orange with ◆) is told apart from lane 1 (plain orange).
pub const GLYPHS: [&str; 4] = ["◆", "■", "●", "✚"];

/// How one lane is drawn everywhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneStyle {
    /// Its colour.
    pub color: Color,
    /// The glyph marked along its chart lines (None for the first eight lanes).
    pub glyph: Option<&'static str>,
    /// Legend symbol (two cells wide).
    pub symbol: &'static str,
}

/// The style of lane `index`: colour `index mod 8`; from lane 9 on, a glyph by `index / 8`.
pub fn lane(index: usize) -> LaneStyle {
    let (glyph, symbol) = match palette::lane_set(index) {
        0 => (None, "━━"),
        k => {
            let g = GLYPHS[(k - 1) % GLYPHS.len()];
            let symbol = match g {
                "◆" => "━◆",
                "■" => "━■",
                "●" => "━●",
                _ => "━✚",
            };
            (Some(g), symbol)
        }
    };
    LaneStyle {
        color: rgb(palette::lane(index)),
        glyph,
        symbol,
    }
}

/// Text in a lane's colour.
pub fn lane_text(index: usize) -> Style {
    Style::new().fg(lane(index).color)
}

/// Panel titles.
pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Secondary text.
pub fn muted() -> Style {
    Style::new().fg(Color::Gray).add_modifier(Modifier::DIM)
}

/// Labels of values in the header.
pub fn label() -> Style {
    Style::new().fg(Color::Gray)
}

/// An error or a diverged lane (vermillion).
pub fn error() -> Style {
    Style::new()
        .fg(Color::Rgb(0xD5, 0x5E, 0x00))
        .add_modifier(Modifier::BOLD)
}

/// A warning: something to look at, not a failure (Okabe–Ito orange).
pub fn warning() -> Style {
    Style::new().fg(Color::Rgb(0xE6, 0x9F, 0x00))
}

/// A good outcome (bluish green).
pub fn ok() -> Style {
    Style::new().fg(Color::Rgb(0x00, 0x9E, 0x73))
}

/// The focused lane's row.
pub fn focused() -> Style {
    Style::new()
        .bg(Color::Rgb(0x3A, 0x3A, 0x3A))
        .add_modifier(Modifier::BOLD)
}

/// Border of the panel that follows the focused lane.
pub fn border() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Border of the selected panel.
pub fn selected_border() -> Color {
    Color::Rgb(0x56, 0xB4, 0xE9)
}

/// The viridis colour of `t` ∈ [0, 1] (clamped; NaN as 0): [`palette::viridis`].
pub fn heat(t: f32) -> Color {
    rgb(palette::viridis(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_keep_distinct_looks_up_to_forty() {
        let looks: Vec<(Color, &str)> = (0..40).map(|i| (lane(i).color, lane(i).symbol)).collect();
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(lane(9).color, lane(1).color);
        assert_eq!(lane(1).glyph, None);
        assert_eq!(lane(9).glyph, Some("◆"));
        assert_eq!(lane(17).glyph, Some("■"));
        assert!(lane(9).symbol.ends_with('◆'));
    }
}
