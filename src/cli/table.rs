//! `gradrace table SESSION…`: the paper's table over seeds — per lane, held-out error of the
//! best and last evaluations, the paired difference from the reference lane, test-time firing
//! and compute saved, each the mean ± 95% Student-t interval over seeds — as text, Markdown, CSV
//! or LaTeX (booktabs). Given an experiment instead of a session it runs nothing and says which
//! session to give (see [`crate::export::sessions::LoadError::Experiment`]).

use super::common::{load_sessions, output_error};
use super::{CliError, TableArgs, TableFormat, console};
use crate::export::{PaperTable, csv, latex, markdown, text, write_file};

/// The table of `table` in `format`.
pub fn render(table: &PaperTable, format: TableFormat) -> String {
    match format {
        TableFormat::Text => text::render(table),
        TableFormat::Markdown => markdown::render(table),
        TableFormat::Latex => latex::render(table),
        TableFormat::Csv => {
            let mut out = Vec::new();
            // Writing into memory cannot fail.
            let _ = csv::table(table, &mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// Runs `gradrace table`.
pub fn run(args: &TableArgs) -> Result<(), CliError> {
    let sessions = load_sessions(&args.files, &args.read)?;
    let table = PaperTable::of(&sessions);
    let out = render(&table, args.format);
    match &args.out {
        None => console::report(&out),
        Some(file) => {
            // The files read, experiments resolved to their sessions included.
            let read: Vec<std::path::PathBuf> =
                sessions.parts.iter().map(|(_, s)| s.path.clone()).collect();
            write_file(file, args.force, &read, |w| w.write_all(out.as_bytes()))
                .map_err(output_error)?;
            console::note!("gradrace: wrote {}", file.display());
            Ok(())
        }
    }
}
