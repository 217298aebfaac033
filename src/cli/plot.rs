//! `gradrace plot SESSION… --out DIR [--format svg|png] [--lane NAME] [--force]`: the figures
//! of saved races (see [`crate::export::figures`]), one file each, with their captions in
//! `captions.md`; every file written atomically, a directory that is not empty needs `--force`.

use super::common::{load_sessions, output_error};
use super::{CliError, FigureFormat, PlotArgs, console};
use crate::export::{OutputDir, figures, png};

/// Runs `gradrace plot`.
pub fn run(args: &PlotArgs) -> Result<(), CliError> {
    let sessions = load_sessions(&args.files, &args.read)?;
    let r = &sessions.merged;
    if let Some(lane) = &args.lane
        && !r.lanes.iter().any(|h| &h.info.name == lane)
    {
        let mut names: Vec<&str> = r.lanes.iter().map(|h| h.info.name.as_str()).collect();
        names.dedup();
        return Err(CliError::BadInput(format!(
            "--lane {lane}: no such lane (lanes: {})",
            names.join(", ")
        )));
    }
    let figs =
        figures::all(r, args.lane.as_deref()).map_err(|e| CliError::Runtime(e.to_string()))?;
    let mut out = OutputDir::prepare(&args.out, args.force).map_err(output_error)?;
    let mut captions = String::from("# Figures\n\n");
    if sessions.several() {
        captions.push_str(&format!("Sessions: {}.\n\n", sessions.legend().join("; ")));
        for d in sessions.differences() {
            captions.push_str(&format!("Note: {d}.\n\n"));
        }
    }
    for f in &figs {
        let file = match args.format {
            FigureFormat::Svg => {
                let name = format!("{}.svg", f.name);
                out.write(&name, |w| w.write_all(f.svg.as_bytes()))
                    .map_err(output_error)?;
                name
            }
            FigureFormat::Png => {
                let bytes = png::rasterise(&f.svg).map_err(|e| CliError::Runtime(e.to_string()))?;
                let name = format!("{}.png", f.name);
                out.write(&name, |w| w.write_all(&bytes))
                    .map_err(output_error)?;
                name
            }
        };
        captions.push_str(&format!("**{file}** — {}\n\n", f.caption));
    }
    out.write("captions.md", |w| w.write_all(captions.as_bytes()))
        .map_err(output_error)?;
    let mut text = String::new();
    for p in out.written() {
        text.push_str(&format!("{}\n", p.display()));
    }
    console::report(&text)
}
