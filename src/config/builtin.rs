//! The experiment files shipped in `experiments/`, compiled in so that `gradrace race quick`
//! works from any directory.

use std::path::Path;

use super::experiment::Experiment;
use super::load::{ConfigError, load_experiment, parse_experiment};
use crate::file_error::FileError;

/// (name, file text) of every shipped experiment.
pub const BUILTIN: [(&str, &str); 4] = [
    ("quick", include_str!("../../experiments/quick.ron")),
    (
        "paper-mnist",
        include_str!("../../experiments/paper-mnist.ron"),
    ),
    ("fashion", include_str!("../../experiments/fashion.ron")),
    ("zoo", include_str!("../../experiments/zoo.ron")),
];

/// The default experiment.
pub const DEFAULT: &str = "quick";

/// Loads `name_or_path`: an existing file, else a shipped experiment by name (with or without
/// `.ron`, with or without the `experiments/` prefix).
pub fn resolve(name_or_path: &str) -> Result<Experiment, ConfigError> {
    let path = Path::new(name_or_path);
    if path.exists() {
        return load_experiment(path);
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name_or_path);
    match BUILTIN.iter().find(|(name, _)| *name == stem) {
        Some((name, text)) => parse_experiment(text, &format!("experiments/{name}.ron (built in)")),
        None => Err(ConfigError(FileError::new(
            name_or_path,
            format!(
                "no such experiment file, and not a built-in experiment (built in: {})",
                BUILTIN.map(|(n, _)| n).join(", ")
            ),
        ))),
    }
}
