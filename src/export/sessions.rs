//! Several saved races read as one: each session gets a short label (A, B, … unless given), its
//! lanes are prefixed with it when there is more than one ([`crate::history::merge`]), and what
//! sets the sessions apart (experiment, data set, network, length) is said in words, so that a
//! table or figure never passes off a comparison of different experiments as a controlled one.

use std::path::Path;

use crate::history::{Recorder, merge, merge::letters};
use crate::session::{Session, SessionError};

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
    /// The argument names an experiment, not a saved race.
    #[error(
        "{given} is an experiment, not a saved race: this command reads sessions. Run the race \
         first (`gradrace race {given} --headless`, with `--seeds N` for intervals), then give its \
         session{}",
        latest.as_ref().map_or(String::new(), |p| format!(
            " — the latest saved race of {experiment} is {}", p.display()
        ))
    )]
    Experiment {
        /// The argument.
        given: String,
        /// The experiment's name.
        experiment: String,
        /// The most recent session of that experiment in `sessions/`, if any.
        latest: Option<std::path::PathBuf>,
    },
    /// Fewer labels than sessions, or the same label twice.
    #[error("--labels: {0}")]
    Labels(String),
}

impl Sessions {
    /// Loads the sessions given on a command line, labelled by `labels` (A, B, … when empty).
    /// An argument that is no session but names an experiment (a built-in name or an experiment
    /// file) is refused with a pointer to its latest saved race.
    pub fn load_given(paths: &[std::path::PathBuf], labels: &[String]) -> Result<Sessions, LoadError> {
        if !labels.is_empty() {
            if labels.len() != paths.len() {
                return Err(LoadError::Labels(format!(
                    "{} labels for {} sessions",
                    labels.len(),
                    paths.len()
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
        }
        let mut sessions = Vec::with_capacity(paths.len());
        for p in paths {
            match Session::load(p) {
                Ok(s) => sessions.push(s),
                Err(e) => {
                    let given = p.display().to_string();
                    let is_session = std::fs::read_to_string(p)
                        .is_ok_and(|t| t.contains(crate::session::format::DOCUMENT));
                    match crate::config::builtin::resolve(&given) {
                        Ok(experiment) if !is_session => {
                            let latest = crate::session::list_sessions(Path::new(
                                crate::session::DEFAULT_DIR,
                            ))
                            .ok()
                            .and_then(|list| {
                                list.into_iter()
                                    .filter(|s| s.name == experiment.name && s.problem.is_none())
                                    .max_by(|a, b| a.created.cmp(&b.created))
                                    .map(|s| s.path)
                            });
                            return Err(LoadError::Experiment {
                                given,
                                experiment: experiment.name,
                                latest,
                            });
                        }
                        _ => return Err(e.into()),
                    }
                }
            }
        }
        Ok(Sessions::of(sessions, labels))
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

/// The seeds of a race (its one seed for races recorded before there were several).
pub fn seeds_of(info: &crate::engine::RaceInfo) -> Vec<u64> {
    if info.seeds.is_empty() {
        vec![info.seed]
    } else {
        info.seeds.clone()
    }
}

/// "seed 5", "seeds 1–5" (consecutive) or "seeds 4, 1".
pub fn seed_text(seeds: &[u64]) -> String {
    match seeds {
        [] => "no seed".into(),
        [one] => format!("seed {one}"),
        [first, .., last]
            if seeds.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) =>
        {
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
