//! Reading experiment files: RON syntax and type errors with file, line and column, then range
//! checks that name the field, its value and the allowed range.

use std::path::Path;

use ron::extensions::Extensions;

use super::experiment::{Experiment, LaneSpec, Length, Seeds};
use crate::estimators::SparsityForm;
use crate::file_error::FileError;
use crate::net::sparsity::{L1_LAMBDA_MAX, L1_LAMBDA_MIN};

/// A problem with an experiment file, positioned where possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct ConfigError(pub FileError);

/// A setting of an experiment outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidSetting {
    /// The lane the setting belongs to (None: a setting of the whole experiment).
    pub lane: Option<String>,
    /// The field as written in the file, e.g. `learning_rate`.
    pub field: &'static str,
    /// What is wrong: the setting, its value and the allowed range.
    pub message: String,
}

/// Reads and validates the experiment file at `path`.
pub fn load_experiment(path: &Path) -> Result<Experiment, ConfigError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError(FileError::new(
            &file,
            format!("cannot read the experiment file: {e}"),
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError(FileError::new(
            &file,
            format!(
                "not a text file (invalid UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })?;
    parse_experiment(&text, &file)
}

/// Parses and validates experiment text; `file` names it in errors.
pub fn parse_experiment(text: &str, file: &str) -> Result<Experiment, ConfigError> {
    let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
    let experiment: Experiment = options.from_str(text).map_err(|e| {
        ConfigError(
            FileError::new(file, describe_ron_error(&e.code.to_string()))
                .at((e.span.start.line, e.span.start.col)),
        )
    })?;
    validate_experiment(&experiment).map_err(|e| {
        ConfigError(FileError {
            position: locate(text, e.lane.as_deref(), e.field),
            ..FileError::new(file, e.message)
        })
    })?;
    Ok(experiment)
}

fn describe_ron_error(message: &str) -> String {
    message.replace("in enum `EstimatorSpec`", "(unknown estimator)")
}

fn check(
    ok: bool,
    lane: Option<&LaneSpec>,
    field: &'static str,
    message: String,
) -> Result<(), InvalidSetting> {
    if ok {
        Ok(())
    } else {
        let prefix = lane.map_or(String::new(), |l| format!("lane \"{}\": ", l.name));
        Err(InvalidSetting {
            lane: lane.map(|l| l.name.clone()),
            field,
            message: format!("{prefix}{message}"),
        })
    }
}

fn positive(v: f32) -> bool {
    v > 0.0 && v.is_finite()
}

/// The range checks of [`parse_experiment`], also for an experiment that did not come from a
/// file (e.g. one stored in a session): the error names the lane (if any), the field, its value
/// and the allowed range.
pub fn validate_experiment(e: &Experiment) -> Result<(), InvalidSetting> {
    check(
        !e.name.trim().is_empty(),
        None,
        "name",
        "name must not be empty".into(),
    )?;
    let n = &e.network;
    check(
        (1..=100_000).contains(&n.gater_hidden),
        None,
        "gater_hidden",
        format!(
            "network.gater_hidden = {} must be in 1..=100000",
            n.gater_hidden
        ),
    )?;
    check(
        (1..=100_000).contains(&n.experts),
        None,
        "experts",
        format!("network.experts = {} must be in 1..=100000", n.experts),
    )?;
    let t = &e.training;
    check(
        (1..=65_536).contains(&t.batch_size),
        None,
        "batch_size",
        format!(
            "training.batch_size = {} must be in 1..=65536",
            t.batch_size
        ),
    )?;
    let (len, unit) = match t.length {
        Length::Epochs(v) => (v, "Epochs"),
        Length::Steps(v) => (v, "Steps"),
    };
    check(
        (1..=1_000_000_000).contains(&len),
        None,
        "length",
        format!("training.length = {unit}({len}) must be at least 1"),
    )?;
    check(
        positive(t.learning_rate),
        None,
        "learning_rate",
        format!("training.learning_rate = {} must be > 0", t.learning_rate),
    )?;
    if let Some(c) = t.max_norm {
        check(
            positive(c),
            None,
            "max_norm",
            format!("training.max_norm = {c} must be > 0"),
        )?;
    }
    check(
        t.sparsity_target > 0.0 && t.sparsity_target < 1.0,
        None,
        "sparsity_target",
        format!(
            "training.sparsity_target = {} must be in the open interval (0, 1)",
            t.sparsity_target
        ),
    )?;
    let m = &e.metrics;
    if m.probe_every > 0 {
        check(
            (2..=10_000).contains(&m.probe_samples),
            None,
            "probe_samples",
            format!(
                "metrics.probe_samples = {} must be in 2..=10000",
                m.probe_samples
            ),
        )?;
        check(
            (1..=65_536).contains(&m.probe_batch),
            None,
            "probe_batch",
            format!(
                "metrics.probe_batch = {} must be in 1..=65536",
                m.probe_batch
            ),
        )?;
    }
    check(
        (1..=100_000).contains(&m.chunk_steps),
        None,
        "chunk_steps",
        format!(
            "metrics.chunk_steps = {} must be in 1..=100000",
            m.chunk_steps
        ),
    )?;
    check(
        !e.lanes.is_empty(),
        None,
        "lanes",
        "lanes must list at least one lane".into(),
    )?;
    for (i, lane) in e.lanes.iter().enumerate() {
        let l = Some(lane);
        check(
            !lane.name.trim().is_empty() && !lane.name.contains(','),
            None,
            "lanes",
            format!(
                "lanes[{i}].name {:?} must be non-empty and contain no comma",
                lane.name
            ),
        )?;
        check(
            !e.lanes[..i].iter().any(|o| o.name == lane.name),
            l,
            "name",
            format!(
                "the lane name {:?} is used twice; lane names must be unique",
                lane.name
            ),
        )?;
        lane.estimator.validate().map_err(|option| InvalidSetting {
            lane: Some(lane.name.clone()),
            field: "estimator",
            message: format!("lane \"{}\": estimator {option}", lane.name),
        })?;
        if let Some(v) = lane.learning_rate {
            check(
                positive(v),
                l,
                "learning_rate",
                format!("learning_rate = {v} must be > 0"),
            )?;
        }
        if let Some(v) = lane.gater_learning_rate {
            check(
                positive(v),
                l,
                "gater_learning_rate",
                format!("gater_learning_rate = {v} must be > 0"),
            )?;
        }
        if let Some(v) = lane.momentum {
            check(
                (0.0..1.0).contains(&v),
                l,
                "momentum",
                format!("momentum = {v} must be in [0, 1)"),
            )?;
        }
        if let Some(v) = lane.sparsity_weight {
            check(
                v >= 0.0 && v.is_finite(),
                l,
                "sparsity_weight",
                format!("sparsity_weight = {v} must be ≥ 0"),
            )?;
            let (lo, hi) = (L1_LAMBDA_MIN, L1_LAMBDA_MAX);
            check(
                lane.estimator.build().sparsity() != SparsityForm::L1Adaptive
                    || (lo..=hi).contains(&v),
                l,
                "sparsity_weight",
                format!(
                    "sparsity_weight = {v} is the start of the adaptive L1 penalty's λ, which \
                     stays in [{lo:e}, {hi}]"
                ),
            )?;
        }
    }
    match &e.seeds {
        Some(Seeds::Count(n)) => check(
            (1..=1000).contains(n),
            None,
            "seeds",
            format!("seeds = {n} must be in 1..=1000"),
        )?,
        Some(Seeds::List(list)) => {
            let mut sorted = list.clone();
            sorted.sort_unstable();
            sorted.dedup();
            check(
                !list.is_empty() && list.len() <= 1000 && sorted.len() == list.len(),
                None,
                "seeds",
                format!("seeds = {list:?} must list 1 to 1000 different seeds"),
            )?;
        }
        None => {}
    }
    if let Some(t) = &e.same_trajectory {
        let lane = e.lanes.iter().find(|l| l.name == t.reference_lane);
        check(
            lane.is_some_and(|l| l.estimator.build().is_gated()),
            None,
            "reference_lane",
            format!(
                "same_trajectory.reference_lane = {:?} must name a lane with gates (lanes: {})",
                t.reference_lane,
                e.lanes
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )?;
        check(
            (2..=100_000).contains(&t.reference_samples),
            None,
            "reference_samples",
            format!(
                "same_trajectory.reference_samples = {} must be in 2..=100000",
                t.reference_samples
            ),
        )?;
    }
    Ok(())
}

/// Best-effort position of `field` in the source: inside the lane named `lane` when given.
fn locate(text: &str, lane: Option<&str>, field: &str) -> Option<(usize, usize)> {
    let start = match lane {
        Some(name) => {
            let quoted = format!("\"{name}\"");
            text.find(&quoted)?
        }
        None => 0,
    };
    let needle = format!("{field}:");
    let mut from = start;
    // Skip occurrences that are only a suffix of a longer identifier (e.g. gater_learning_rate).
    let offset = loop {
        let found = from + text[from..].find(&needle)?;
        let before = text[..found].chars().next_back();
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            break found;
        }
        from = found + needle.len();
    };
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |p| p + 1) + 1;
    Some((line, col))
}
