//! Several saved races read as one: each session gets a short label (A, B, … unless given), its
//! lanes are prefixed with it when there is more than one ([`crate::history::merge`]), and what
//! sets the sessions apart (experiment, data set, network, length) is said in words, so that a
//! table or figure never passes off a comparison of different experiments as a controlled one.

use std::path::{Path, PathBuf};

use crate::history::{Recorder, merge, merge::letters};
use crate::session::{DEFAULT_DIR, LoadOptions, Session, SessionError, list_sessions};

/// Loaded sessions with their labels, and the race they make together.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// (label, session), in the order given.
    pub parts: Vec<(String, Session)>,
    /// Every lane of every session; lane names prefixed `label/` when there are several.
    pub merged: Recorder,
}

/// Why the files given could not be read as sessions.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A session file is missing, damaged or not a session.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The argument names an experiment of which no race has been saved in `sessions/`.
    #[error(
        "{given}: not a gradrace session but an experiment, and sessions/ holds no saved race \
         of {experiment}: run the race first (`gradrace race {given} --headless`, with `--seeds N` \
         for intervals), then give its session, or the experiment again"
    )]
    NoSavedRace {
        /// The argument.
        given: String,
        /// The experiment's name.
        experiment: String,
    },
    /// Fewer labels than sessions, or the same label twice.
    #[error("--labels: {0}")]
    Labels(String),
}

/// What an argument that names an experiment was taken to mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The argument as given.
    pub given: String,
    /// The session read for it: the experiment's most recently saved race in `sessions/`.
    pub session: PathBuf,
}

impl Sessions {
    /// Loads the sessions given on a command line (read as `options` say), labelled by `labels`
    /// (A, B, … when empty). An argument that is no session file but names an experiment (a built-in name or an
    /// experiment file) stands for that experiment's most recently saved race in `sessions/`
    /// (returned beside the sessions, so the caller can say which file was read); with none
    /// saved, it is refused with the command that makes one.
    pub fn load_given(
        paths: &[PathBuf],
        labels: &[String],
        options: LoadOptions,
    ) -> Result<(Sessions, Vec<Resolved>), LoadError> {
        check_labels(labels, paths.len())?;
        let mut sessions = Vec::with_capacity(paths.len());
        let mut resolved = Vec::new();
        for p in paths {
            match Session::load_with(p, options) {
                Ok(s) => sessions.push(s),
                Err(e) => {
                    let Some(experiment) = experiment_named(p) else {
                        return Err(e.into());
                    };
                    let given = p.display().to_string();
                    let Some(latest) = latest_session(Path::new(DEFAULT_DIR), &experiment) else {
                        return Err(LoadError::NoSavedRace { given, experiment });
                    };
                    sessions.push(Session::load_with(&latest, options)?);
                    resolved.push(Resolved {
                        given,
                        session: latest,
                    });
                }
            }
        }
        Ok((Sessions::of(sessions, labels), resolved))
    }

    /// Loads every file of `paths`, labelled by `labels` (A, B, … when empty).
    pub fn load(paths: &[impl AsRef<Path>], labels: &[String]) -> Result<Sessions, SessionError> {
        let sessions = paths
            .iter()
            .map(|p| Session::load(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sessions::of(sessions, labels))
    }

    /// `sessions` labelled by `labels` (A, B, … for those without one).
    pub fn of(sessions: Vec<Session>, labels: &[String]) -> Sessions {
        let default = letters(sessions.len());
        let parts: Vec<(String, Session)> = sessions
            .into_iter()
            .enumerate()
            .map(|(i, s)| (labels.get(i).unwrap_or(&default[i]).clone(), s))
            .collect();
        let merged = merge(
            parts
                .iter()
                .map(|(l, s)| (l.clone(), s.recorder.clone()))
                .collect(),
        );
        Sessions { parts, merged }
    }

    /// True when several sessions are shown as one race.
    pub fn several(&self) -> bool {
        self.parts.len() > 1
    }

    /// One line per session: its label, file, experiment, data set, seeds and steps
    /// ("A = runs/a.ron: paper-mnist on mnist-10k (embedded), seeds 2013–2017, step 5000").
    pub fn legend(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|(label, s)| {
                let r = &s.recorder;
                let (data, seeds) = r.info.as_ref().map_or((String::new(), String::new()), |i| {
                    (i.data.clone(), seed_text(&seeds_of(i)))
                });
                format!(
                    "{label} = {}: {} on {data}, {seeds}, step {}",
                    s.path.display(),
                    s.context.experiment.name,
                    r.step()
                )
            })
            .collect()
    }

    /// What sets the sessions apart, one sentence each (empty for one session, or sessions of
    /// the same experiment on the same data with the same network and settings).
    pub fn differences(&self) -> Vec<String> {
        let Some((first_label, first)) = self.parts.first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (label, s) in &self.parts[1..] {
            let (a, b) = (&first.context, &s.context);
            if a.experiment.name != b.experiment.name {
                out.push(format!(
                    "{label} is another experiment ({}) than {first_label} ({})",
                    b.experiment.name, a.experiment.name
                ));
            }
            if a.data.check_same(&b.data).is_err() {
                out.push(format!(
                    "{label} trained on other data ({}: {} training / {} held-out examples) than \
                     {first_label} ({}: {} / {})",
                    b.data.name,
                    b.data.train.examples,
                    b.data.heldout.examples,
                    a.data.name,
                    a.data.train.examples,
                    a.data.heldout.examples
                ));
            }
            if a.experiment.network != b.experiment.network {
                out.push(format!("{label} has another network than {first_label}"));
            }
            if a.experiment.training != b.experiment.training {
                out.push(format!(
                    "{label} has other training settings (length, batch, learning rate, …) than \
                     {first_label}"
                ));
            }
            let steps = (first.recorder.step(), s.recorder.step());
            if steps.0 != steps.1 {
                out.push(format!(
                    "{label} reached step {} and {first_label} step {}",
                    steps.1, steps.0
                ));
            }
        }
        out
    }
}

/// Labels must be as many as the sessions, non-empty, without '/', and different.
fn check_labels(labels: &[String], sessions: usize) -> Result<(), LoadError> {
    if labels.is_empty() {
        return Ok(());
    }
    if labels.len() != sessions {
        return Err(LoadError::Labels(format!(
            "{} labels for {sessions} sessions",
            labels.len()
        )));
    }
    for (i, l) in labels.iter().enumerate() {
        if l.is_empty() || l.contains('/') {
            return Err(LoadError::Labels(format!(
                "{l:?}: a label must be non-empty, without '/'"
            )));
        }
        if labels[..i].contains(l) {
            return Err(LoadError::Labels(format!("{l:?} given twice")));
        }
    }
    Ok(())
}

/// The experiment `path` names — a built-in name or an experiment file — when it is not a
/// session file.
fn experiment_named(path: &Path) -> Option<String> {
    let is_session =
        std::fs::read_to_string(path).is_ok_and(|t| t.contains(crate::session::format::DOCUMENT));
    if is_session {
        return None;
    }
    crate::config::builtin::resolve(&path.display().to_string())
        .ok()
        .map(|e| e.name)
}

/// The most recently saved readable race of `experiment` in `dir` (by the time it was saved).
pub fn latest_session(dir: &Path, experiment: &str) -> Option<PathBuf> {
    list_sessions(dir)
        .ok()?
        .into_iter()
        .filter(|s| s.name == experiment && s.problem.is_none())
        .max_by(|a, b| (&a.saved, &a.created).cmp(&(&b.saved, &b.created)))
        .map(|s| s.path)
}

pub use crate::history::merge::seeds_of;

/// "seed 5", "seeds 1–5" (consecutive) or "seeds 4, 1".
pub fn seed_text(seeds: &[u64]) -> String {
    match seeds {
        [] => "no seed".into(),
        [one] => format!("seed {one}"),
        [first, .., last] if seeds.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) => {
            format!("{} seeds {first}–{last}", seeds.len())
        }
        _ => format!(
            "{} seeds {}",
            seeds.len(),
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_described_briefly() {
        assert_eq!(seed_text(&[5]), "seed 5");
        assert_eq!(seed_text(&[1, 2, 3]), "3 seeds 1–3");
        assert_eq!(seed_text(&[4, 1]), "2 seeds 4, 1");
    }
}
