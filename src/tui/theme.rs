//! Colours and styles. Each lane keeps one colour in every panel, from the Okabe–Ito palette
//! (distinguishable with the common forms of colour blindness); after eight lanes the colours
//! repeat with a glyph marked along the lane's curves and in its legend symbol (see [`GLYPHS`]).
//! Firing rates use the viridis scale, which is perceptually uniform and colour-blind safe.

use ratatui::style::{Color, Modifier, Style};

/// The Okabe–Ito palette, with grey in place of black (black vanishes on dark terminals).
pub const OKABE_ITO: [Color; 8] = [
    Color::Rgb(0xE6, 0x9F, 0x00), // orange
    Color::Rgb(0x56, 0xB4, 0xE9), // sky blue
    Color::Rgb(0x00, 0x9E, 0x73), // bluish green
    Color::Rgb(0xF0, 0xE4, 0x42), // yellow
    Color::Rgb(0x00, 0x72, 0xB2), // blue
    Color::Rgb(0xD5, 0x5E, 0x00), // vermillion
    Color::Rgb(0xCC, 0x79, 0xA7), // reddish purple
    Color::Rgb(0x99, 0x99, 0x99), // grey
];

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
    let set = index / OKABE_ITO.len();
    let (glyph, symbol) = match set {
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
        color: OKABE_ITO[index % OKABE_ITO.len()],
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

/// Nine evenly spaced stops of the viridis colour map, from 0 to 1.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
];

/// The viridis colour of `t` ∈ [0, 1] (clamped; NaN as 0), linearly interpolated between stops.
pub fn heat(t: f32) -> Color {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f32;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f32 + f * (q as f32 - p as f32)).round() as u8;
    Color::Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
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

    #[test]
    fn the_heat_scale_runs_from_dark_purple_to_yellow() {
        assert_eq!(heat(0.0), Color::Rgb(0x44, 0x01, 0x54));
        assert_eq!(heat(1.0), Color::Rgb(0xFD, 0xE7, 0x25));
        assert_eq!(heat(0.5), Color::Rgb(0x21, 0x91, 0x8C));
        assert_eq!(heat(-3.0), heat(0.0));
        assert_eq!(heat(f32::NAN), heat(0.0));
        assert_eq!(heat(7.0), heat(1.0));
    }
}
