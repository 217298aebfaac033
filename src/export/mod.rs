//! Publishing saved races: the paper's table (text, Markdown, CSV, LaTeX), tidy exports of
//! every recorded series (CSV, JSON Lines) and figures (SVG, PNG), for one session or several
//! compared as one race. One file per format:
//!
//! | file | what |
//! | --- | --- |
//! | [`sessions`] | several sessions loaded, labelled (A, B, …) and merged; how they differ |
//! | [`table`] | the paper's table as data: per lane, over seeds, mean ± 95% t interval |
//! | [`text`], [`markdown`], [`latex`] | the table as aligned text, Markdown, LaTeX (booktabs) |
//! | [`records`] | what is exported: every declared scalar with its type, x-axes, files |
//! | [`csv`], [`jsonl`] | the export files as CSV and as JSON Lines (and the table as CSV) |
//! | [`figures`] | the figures, drawn with plotters as SVG |
//! | [`png`] | SVG rasterised to PNG with an embedded font (no system library or font) |
//! | [`output`] | an output directory: refused when not empty without `--force`; atomic writes |

pub mod csv;
pub mod figures;
pub mod jsonl;
pub mod latex;
pub mod markdown;
pub mod output;
pub mod png;
pub mod records;
pub mod sessions;
pub mod table;
pub mod text;

pub use output::{OutputDir, OutputError, write_file};
pub use sessions::Sessions;
pub use table::PaperTable;
