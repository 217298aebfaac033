//! `gradrace sessions [DIR]`: the saved sessions in a directory.

use super::console::report;
use super::{CliError, SessionsArgs};
use crate::session::list_sessions;

/// Runs `gradrace sessions`.
pub fn run(args: &SessionsArgs) -> Result<(), CliError> {
    let entries = list_sessions(&args.dir)?;
    if entries.is_empty() {
        return report(&format!("no sessions in {}\n", args.dir.display()));
    }
    let header = [
        "file",
        "experiment",
        "started (UTC)",
        "lanes",
        "steps",
        "best lane",
        "resumable",
    ];
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            let file = e.path.file_name().map_or_else(
                || e.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            match &e.problem {
                Some(p) => [
                    file,
                    format!("damaged: {p}"),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                None => [
                    file,
                    e.name.clone(),
                    e.created
                        .replace('T', " ")
                        .trim_end_matches('Z')
                        .to_string(),
                    e.lanes.to_string(),
                    format!("{}/{}", e.steps, e.total_steps),
                    e.best.as_ref().map_or("–".into(), |(n, err)| {
                        format!("{n} ({:.2}%)", 100.0 * err)
                    }),
                    if e.resumable { "yes" } else { "no" }.into(),
                ],
            }
        })
        .collect();
    report(&crate::report::table(&header, &rows))
}
