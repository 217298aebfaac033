//! `gradrace sessions [DIR]`: the saved sessions in a directory (whether each can be resumed,
//! how much room it takes); `--prune` deletes old ones and the stray files of interrupted saves.

use std::io::BufRead;
use std::time::{Duration, SystemTime};

use super::console::{note, report};
use super::{CliError, SessionsArgs};
use crate::session::list_sessions;
use crate::session::prune::{self, Criteria, Plan};

/// Parses an age for `--older-than`: a whole number and a unit, m (minutes), h, d or w.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, such as 30m, 12h, 7d, 2w"))?;
    let unit_secs = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (m minutes, h hours, d days, w weeks)"
            ));
        }
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Megabytes, for people.
fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// "1 session", "2 sessions".
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The file name of `path`.
fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Runs `gradrace sessions`.
pub fn run(args: &SessionsArgs) -> Result<(), CliError> {
    if args.prune {
        return run_prune(args);
    }
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
        "size",
        "resumable",
    ];
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            let file = file_name(&e.path);
            match &e.problem {
                Some(p) => [
                    file,
                    format!("damaged: {p}"),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    mb(e.bytes),
                    "no".into(),
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
                    mb(e.bytes),
                    e.resumable.label(),
                ],
            }
        })
        .collect();
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut text = crate::report::table(&header, &rows);
    text += &format!(
        "\n{}, {} (`gradrace sessions --prune --keep N` or `--older-than 7d` deletes old ones)\n",
        count(entries.len(), "session"),
        mb(total)
    );
    report(&text)
}

/// What `plan` deletes, for people.
fn describe(plan: &Plan, criteria: &Criteria) -> String {
    let mut out = String::new();
    if !criteria.selects_sessions() {
        out += "(no --keep or --older-than: only stray files)\n";
    }
    for d in &plan.sessions {
        let others: Vec<String> = d
            .files
            .iter()
            .filter(|f| **f != d.entry.path)
            .map(|f| file_name(f))
            .collect();
        let with = if others.is_empty() {
            String::new()
        } else {
            format!(" + {}", others.join(", "))
        };
        let saved = d.entry.saved.replace('T', " ");
        let saved = saved.trim_end_matches('Z');
        out += &format!(
            "delete {}{with}  ({}, saved {})\n",
            file_name(&d.entry.path),
            mb(d.bytes),
            if saved.is_empty() { "?" } else { saved }
        );
    }
    for (f, size) in &plan.strays {
        out += &format!("delete stray {}  ({})\n", file_name(f), mb(*size));
    }
    for (p, holder) in &plan.in_use {
        let who = holder
            .as_ref()
            .map_or("another process".to_string(), ToString::to_string);
        out += &format!("keep {} (in use: {who})\n", file_name(p));
    }
    out
}

fn run_prune(args: &SessionsArgs) -> Result<(), CliError> {
    let criteria = Criteria {
        keep: args.keep,
        older_than: args.older_than,
    };
    let plan = prune::plan(&args.dir, criteria, SystemTime::now())?;
    let mut text = describe(&plan, &criteria);
    let what = format!(
        "{} and {} ({})",
        count(plan.sessions.len(), "session"),
        count(plan.strays.len(), "stray file"),
        mb(plan.bytes())
    );
    if plan.is_empty() {
        text += &format!(
            "nothing to delete in {} ({} kept)\n",
            args.dir.display(),
            count(plan.kept, "session")
        );
        return report(&text);
    }
    report(&text)?;
    if !args.yes {
        super::console::write_err(format_args!("Delete {what}? [y/N] "));
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer);
        match read {
            Ok(0) | Err(_) => {
                return Err(CliError::Runtime(
                    "no answer (standard input is closed): nothing deleted; --yes deletes without \
                     asking"
                        .into(),
                ));
            }
            Ok(_) => {}
        }
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            note!("gradrace: nothing deleted");
            return Ok(());
        }
    }
    let done = prune::prune(plan);
    let mut text = format!(
        "deleted {} ({}): {} freed\n",
        count(done.sessions, "session"),
        count(done.files, "file"),
        mb(done.bytes)
    );
    for (f, why) in &done.failed {
        text += &format!("could not delete {}: {why}\n", f.display());
    }
    report(&text)?;
    if done.failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Runtime(format!(
            "{} files could not be deleted",
            done.failed.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_have_a_number_and_a_unit() {
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert!(parse_age("7").unwrap_err().contains("unknown unit"));
        assert!(parse_age("d").unwrap_err().contains("expected a number"));
        assert!(parse_age("7y").is_err());
    }
}
