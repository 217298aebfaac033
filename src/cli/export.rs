//! `gradrace export SESSION… --csv DIR | --jsonl DIR [--force]`: every recorded series of the
//! sessions as tidy files (see [`crate::export::records::FILES`]), each written atomically; a
//! directory that is not empty needs `--force`.

use super::common::{load_sessions, output_error};
use super::{CliError, ExportArgs, console};
use crate::export::OutputDir;
use crate::export::csv::CsvSink;
use crate::export::jsonl::JsonlSink;
use crate::export::records::{FILES, write_file};

/// Runs `gradrace export`.
pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    let (dir, jsonl) = match (&args.csv, &args.jsonl) {
        (Some(d), None) => (d, false),
        (None, Some(d)) => (d, true),
        _ => {
            return Err(CliError::BadInput(
                "give one of --csv DIR or --jsonl DIR".into(),
            ));
        }
    };
    let sessions = load_sessions(&args.files, &args.read)?;
    let mut out = OutputDir::prepare(dir, args.force).map_err(output_error)?;
    let ext = if jsonl { "jsonl" } else { "csv" };
    for (name, _) in FILES {
        out.write(&format!("{name}.{ext}"), |w| {
            if jsonl {
                let mut sink = JsonlSink::new(w);
                write_file(&sessions, name, &mut sink)
            } else {
                let mut sink = CsvSink::new(w);
                write_file(&sessions, name, &mut sink)?;
                sink.finish()
            }
        })
        .map_err(output_error)?;
    }
    let mut text = String::new();
    for (name, what) in FILES {
        text.push_str(&format!("{}/{name}.{ext}  {what}\n", dir.display()));
    }
    if sessions.several() {
        for l in sessions.legend() {
            text.push_str(&format!("{l}\n"));
        }
        for d in sessions.differences() {
            text.push_str(&format!("note: {d}\n"));
        }
    }
    console::report(&text)
}
