//! PNG figures: the SVG of a figure rasterised by resvg (pure Rust) with DejaVu Sans embedded
//! in the binary, so that a fresh machine without system fonts or libraries draws the same text.

use std::sync::Arc;

use resvg::{tiny_skia, usvg};

/// Pixels per SVG unit: 480-unit-wide figures become 1440 pixels wide, about 440 dpi at a
/// 3.3-inch column.
pub const SCALE: f32 = 3.0;

/// A figure that could not be rasterised.
#[derive(Debug, thiserror::Error)]
#[error("rasterising the figure: {0}")]
pub struct PngError(pub String);

/// `svg` as PNG bytes at [`SCALE`] on a white background.
pub fn rasterise(svg: &str) -> Result<Vec<u8>, PngError> {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_data(dejavu::sans::regular().to_vec());
    fonts.load_font_data(dejavu::sans::bold().to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    let options = usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: Arc::new(fonts),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PngError(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(SCALE)
        .ok_or_else(|| PngError("the figure has no size".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| PngError("the figure is too large".into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(SCALE, SCALE),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| PngError(e.to_string()))
}
