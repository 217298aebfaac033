//! The colours of gradrace, shared by the dashboard and the figures so that a lane looks the
//! same on a terminal and on paper. Lanes take the Okabe–Ito palette (distinguishable with the
//! common forms of colour blindness); firing rates take viridis, perceptually uniform and
//! colour-blind safe. Colours are plain sRGB triples; each front end converts them.

/// An sRGB colour, 8 bits per channel.
pub type Rgb = (u8, u8, u8);

/// The Okabe–Ito palette, with grey in place of black (black vanishes on dark terminals).
pub const OKABE_ITO: [Rgb; 8] = [
    (0xE6, 0x9F, 0x00), // orange
    (0x56, 0xB4, 0xE9), // sky blue
    (0x00, 0x9E, 0x73), // bluish green
    (0xF0, 0xE4, 0x42), // yellow
    (0x00, 0x72, 0xB2), // blue
    (0xD5, 0x5E, 0x00), // vermillion
    (0xCC, 0x79, 0xA7), // reddish purple
    (0x99, 0x99, 0x99), // grey
];

/// The colour of lane `index`: `OKABE_ITO[index mod 8]`.
pub fn lane(index: usize) -> Rgb {
    OKABE_ITO[index % OKABE_ITO.len()]
}

/// Which set of eight colours lane `index` is in (`index / 8`): lanes of the same colour differ
/// by set (a glyph on the terminal, a dash pattern on paper).
pub fn lane_set(index: usize) -> usize {
    index / OKABE_ITO.len()
}

/// Nine evenly spaced stops of the viridis colour map, from 0 to 1.
const VIRIDIS: [Rgb; 9] = [
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
pub fn viridis(t: f32) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f32;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f32 + f * (q as f32 - p as f32)).round() as u8;
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heat_scale_runs_from_dark_purple_to_yellow() {
        assert_eq!(viridis(0.0), (0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), (0xFD, 0xE7, 0x25));
        assert_eq!(viridis(0.5), (0x21, 0x91, 0x8C));
        assert_eq!(viridis(f32::NAN), viridis(0.0));
        assert_eq!(viridis(2.0), viridis(1.0));
    }

    #[test]
    fn lanes_repeat_colours_by_sets_of_eight() {
        assert_eq!(lane(9), lane(1));
        assert_ne!(lane(1), lane(2));
        assert_eq!((lane_set(7), lane_set(8), lane_set(17)), (0, 1, 2));
    }
}
