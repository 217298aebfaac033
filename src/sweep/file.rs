//! The sweep file (`experiments/*.sweep.ron`): a base experiment plus the axes to vary.
//!
//! ```ron
//! Sweep(
//!     name: "readme",                       // the sweep's directory: <out-dir>/readme/
//!     description: "…",
//!     experiment: "quick",                  // a file (relative to this one) or a built-in name
//!     set: {"steps": 300},                  // fixed for every run
//!     grid: {                               // every combination, the first axis slowest
//!         "lane": ["straight-through", "unbiased"],
//!         "training.learning_rate": [0.05, 0.2],
//!         "seed": [1, 2, 3],
//!     },
//!     list: [                               // explicit points (each crossed with the grid)
//!         {"lane.sparsity_weight": 0.1},
//!         {"lane.sparsity_weight": 1.0, "lane.gater_learning_rate": 0.01},
//!     ],
//! )
//! ```
//!
//! Loading checks everything but the ranges of the values (which [`super::expand`] checks on
//! every run, with the same validation as experiment files), and keeps the line and column of
//! every axis and value so that a problem is reported where it is.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::axis::{self, Axis, Value};
use super::outline::{Node, outline};
use crate::config::Experiment;
use crate::config::builtin::BUILTIN;
use crate::config::load::load_experiment;
use crate::file_error::{FileError, line_col};

/// A position in the sweep file: 1-based line and column.
pub type Position = Option<(usize, usize)>;

/// One axis set to one value (`set`, or a point of `list`).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The axis.
    pub axis: &'static Axis,
    /// Its value.
    pub value: Value,
    /// Where the value is written.
    pub at: Position,
}

/// One axis of the grid with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct GridAxis {
    /// The axis.
    pub axis: &'static Axis,
    /// Its values, each with where it is written.
    pub values: Vec<(Value, Position)>,
    /// Where the axis is named.
    pub at: Position,
}

/// A loaded sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The file, as given (for messages).
    pub file: String,
    /// The sweep's name (its directory under the output directory).
    pub name: String,
    /// What it studies.
    pub description: String,
    /// The base experiment as written in the file.
    pub experiment_ref: String,
    /// Where the base experiment was found: a path, or `NAME (built in)`.
    pub experiment_source: String,
    /// The base experiment.
    pub base: Experiment,
    /// Settings fixed for every run.
    pub set: Vec<Assignment>,
    /// The grid: every combination of these values.
    pub grid: Vec<GridAxis>,
    /// Explicit points, each crossed with the grid (none: the grid alone).
    pub list: Vec<Vec<Assignment>>,
}

/// A map whose entries keep their order (serde maps do not).
#[derive(Debug, Clone, PartialEq)]
struct Entries<V>(Vec<(String, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct M<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for M<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from axis names (strings) to values, e.g. {\"seed\": [1, 2]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    entries.push((k, v));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(M(std::marker::PhantomData))
    }
}

/// The file as serde reads it.
#[derive(Debug, Deserialize)]
#[serde(rename = "Sweep", deny_unknown_fields)]
struct Document {
    name: String,
    #[serde(default)]
    description: String,
    experiment: String,
    #[serde(default)]
    set: Entries<Value>,
    #[serde(default)]
    grid: Entries<Vec<Value>>,
    #[serde(default)]
    list: Vec<Entries<Value>>,
}

/// Where the parts of the file are.
struct Places<'a> {
    text: &'a str,
    root: Option<Node>,
}

impl Places<'_> {
    fn of(&self, node: Option<&Node>) -> Position {
        node.map(|n| line_col(self.text, n.start))
    }

    fn field(&self, name: &str) -> Option<&Node> {
        self.root.as_ref()?.field(name)
    }

    /// The key and value of entry `index` of the map in field `field` (of list item `item`).
    fn entry(&self, field: &str, item: Option<usize>, index: usize) -> (Position, Option<&Node>) {
        let map = match item {
            Some(i) => self.field(field).and_then(|l| l.item(i)),
            None => self.field(field),
        };
        match map.and_then(|m| m.entry(index)) {
            Some((k, v)) => (self.of(Some(k)), Some(v)),
            None => (self.of(map), None),
        }
    }
}

/// Reads and checks the sweep file at `path`.
pub fn load(path: &Path) -> Result<Sweep, FileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError::new(&file, format!("cannot read the sweep file: {e}")))?;
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    parse(&text, &file, &dir)
}

/// The name of the sweep in the file at `path`, read without checking the rest of it (a Slurm
/// task finds its run in the plan written at submission, whatever became of the file since).
pub fn name_of(path: &Path) -> Result<String, FileError> {
    #[derive(Deserialize)]
    #[serde(rename = "Sweep")]
    struct NameOnly {
        name: String,
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError::new(&file, format!("cannot read the sweep file: {e}")))?;
    ron::from_str::<NameOnly>(&text)
        .map(|n| n.name)
        .map_err(|e| {
            FileError::new(&file, e.code.to_string()).at((e.span.start.line, e.span.start.col))
        })
}

/// Parses sweep `text`; `file` names it in errors, and a base experiment given as a path is
/// looked for relative to `dir`.
pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Sweep, FileError> {
    let doc: Document = ron::from_str(text).map_err(|e| {
        FileError::new(file, e.code.to_string()).at((e.span.start.line, e.span.start.col))
    })?;
    let places = Places {
        text,
        root: outline(text),
    };
    let at = |p: Position, message: String| {
        let e = FileError::new(file, message);
        match p {
            Some(p) => e.at(p),
            None => e,
        }
    };

    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if doc.name.is_empty() || doc.name.starts_with('.') || !doc.name.chars().all(safe) {
        return Err(at(
            places.of(places.field("name")),
            format!(
                "name {:?} names the sweep's directory: use letters, digits, '-', '_' and '.' \
                 (not first)",
                doc.name
            ),
        ));
    }

    let (base, experiment_source) = base_experiment(&doc.experiment, dir).map_err(|e| match e {
        BaseError::Missing(message) => at(places.of(places.field("experiment")), message),
        BaseError::Invalid(e) => e,
    })?;

    let known = |name: &str, p: Position| {
        axis::axis(name).ok_or_else(|| {
            at(
                p,
                format!("unknown axis {name:?}; the axes are: {}", axis::names()),
            )
        })
    };
    let twice = |name: &str, p: Position, section: &str| {
        at(p, format!("axis {name:?} is listed twice in {section}"))
    };

    let mut set = Vec::new();
    for (i, (name, value)) in doc.set.0.into_iter().enumerate() {
        let (key_at, node) = places.entry("set", None, i);
        let axis = known(&name, key_at)?;
        if set.iter().any(|a: &Assignment| a.axis == axis) {
            return Err(twice(&name, key_at, "set"));
        }
        set.push(Assignment {
            axis,
            value,
            at: places.of(node),
        });
    }

    let mut grid: Vec<GridAxis> = Vec::new();
    for (i, (name, values)) in doc.grid.0.into_iter().enumerate() {
        let (key_at, node) = places.entry("grid", None, i);
        let axis = known(&name, key_at)?;
        if grid.iter().any(|g| g.axis == axis) {
            return Err(twice(&name, key_at, "grid"));
        }
        if set.iter().any(|a| a.axis == axis) {
            return Err(at(
                key_at,
                format!("axis {name:?} is both fixed in set and varied in grid"),
            ));
        }
        if values.is_empty() {
            return Err(at(
                places.of(node).or(key_at),
                format!("axis {name:?} is empty: give it at least one value"),
            ));
        }
        let values: Vec<(Value, Position)> = values
            .into_iter()
            .enumerate()
            .map(|(j, v)| (v, places.of(node.and_then(|n| n.item(j)))))
            .collect();
        if let Some((j, (v, p))) = values
            .iter()
            .enumerate()
            .find(|(j, (v, _))| values[..*j].iter().any(|(w, _)| w == v))
        {
            return Err(at(
                *p,
                format!(
                    "axis {name:?} lists {} twice (value {} of {})",
                    v.as_written(),
                    j + 1,
                    values.len()
                ),
            ));
        }
        grid.push(GridAxis {
            axis,
            values,
            at: key_at,
        });
    }

    let mut list = Vec::new();
    for (p, point) in doc.list.into_iter().enumerate() {
        let mut assignments: Vec<Assignment> = Vec::new();
        for (i, (name, value)) in point.0.into_iter().enumerate() {
            let (key_at, node) = places.entry("list", Some(p), i);
            let axis = known(&name, key_at)?;
            if assignments.iter().any(|a| a.axis == axis) {
                return Err(twice(&name, key_at, &format!("list point {}", p + 1)));
            }
            if set.iter().any(|a| a.axis == axis) || grid.iter().any(|g| g.axis == axis) {
                return Err(at(
                    key_at,
                    format!(
                        "axis {name:?} is set by list point {} and also in {}",
                        p + 1,
                        if grid.iter().any(|g| g.axis == axis) {
                            "grid"
                        } else {
                            "set"
                        }
                    ),
                ));
            }
            assignments.push(Assignment {
                axis,
                value,
                at: places.of(node),
            });
        }
        if let Some(q) = list.iter().position(|other: &Vec<Assignment>| {
            other.len() == assignments.len()
                && other.iter().all(|a| {
                    assignments
                        .iter()
                        .any(|b| a.axis == b.axis && a.value == b.value)
                })
        }) {
            return Err(at(
                places.of(places.field("list").and_then(|l| l.item(p))),
                format!("list point {} repeats point {}", p + 1, q + 1),
            ));
        }
        list.push(assignments);
    }

    Ok(Sweep {
        file: file.to_string(),
        name: doc.name,
        description: doc.description,
        experiment_ref: doc.experiment,
        experiment_source,
        base,
        set,
        grid,
        list,
    })
}

/// Why the base experiment cannot be used.
enum BaseError {
    /// Neither a file nor a built-in experiment (reported at the sweep file's `experiment`).
    Missing(String),
    /// The experiment file has a problem (reported in that file).
    Invalid(FileError),
}

/// The base experiment `name`: a file relative to `dir` (or absolute), else a built-in one.
fn base_experiment(name: &str, dir: &Path) -> Result<(Experiment, String), BaseError> {
    let path = dir.join(name);
    if path.is_file() {
        return load_experiment(&path)
            .map(|e| (e, path.display().to_string()))
            .map_err(|e| BaseError::Invalid(e.0));
    }
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    let plain = !name.contains('/') && !name.contains('\\');
    match BUILTIN.iter().find(|(n, _)| *n == stem).filter(|_| plain) {
        Some((n, text)) => {
            crate::config::parse_experiment(text, &format!("experiments/{n}.ron (built in)"))
                .map(|e| (e, format!("{n} (built in)")))
                .map_err(|e| BaseError::Invalid(e.0))
        }
        None => Err(BaseError::Missing(format!(
            "experiment {name:?}: no such file ({}), and not a built-in experiment (built in: {})",
            path.display(),
            BUILTIN.map(|(n, _)| n).join(", ")
        ))),
    }
}

impl Sweep {
    /// Every axis the sweep varies (list points' axes first, in order of appearance, then the
    /// grid's), without the fixed ones.
    pub fn varied_axes(&self) -> Vec<&'static Axis> {
        let mut axes: Vec<&'static Axis> = Vec::new();
        let listed = self.list.iter().flatten().map(|a| a.axis);
        for a in listed.chain(self.grid.iter().map(|g| g.axis)) {
            if !axes.contains(&a) {
                axes.push(a);
            }
        }
        axes
    }

    /// The position of the grid (or of the list, or the file's start) for problems of a whole
    /// run that no single value explains.
    pub fn file_error(&self, at: Position, message: impl Into<String>) -> FileError {
        let e = FileError::new(&self.file, message);
        match at {
            Some(p) => e.at(p),
            None => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Sweep, FileError> {
        parse(text, "s.sweep.ron", Path::new("."))
    }

    #[test]
    fn reads_set_grid_and_list_in_order_with_positions() {
        let s = parse_str(
            r#"Sweep(
    name: "g",
    experiment: "quick",
    set: {"steps": 100},
    grid: {
        "seed": [1, 2],
        "training.learning_rate": [0.05, 0.2],
    },
    list: [{"lane": "dense"}, {"lane": ["sts", "unbiased"], "lane.momentum": 0.9}],
)"#,
        )
        .unwrap();
        assert_eq!(s.experiment_source, "quick (built in)");
        assert_eq!(s.set[0].at, Some((4, 20)));
        let names: Vec<&str> = s.grid.iter().map(|g| g.axis.name).collect();
        assert_eq!(names, ["seed", "training.learning_rate"]);
        assert_eq!(s.grid[1].at, Some((7, 9)));
        assert_eq!(s.grid[1].values[1], (Value::Real(0.2), Some((7, 42))));
        assert_eq!(s.list[1][1].at, Some((9, 78)));
        let varied: Vec<&str> = s.varied_axes().iter().map(|a| a.name).collect();
        assert_eq!(
            varied,
            ["lane", "lane.momentum", "seed", "training.learning_rate"]
        );
    }

    #[test]
    fn bad_files_are_reported_where_the_problem_is() {
        let cases = [
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"training.learnin_rate\": [1]})",
                "s.sweep.ron:1:46: unknown axis \"training.learnin_rate\"; the axes are: lane,",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\",\n  grid: {\"seed\": []})",
                "s.sweep.ron:2:18: axis \"seed\" is empty",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"seed\": [1, 2, 1]})",
                "s.sweep.ron:1:61: axis \"seed\" lists 1 twice (value 3 of 3)",
            ),
            (
                "Sweep(name: \"g\", experiment: \"nope\")",
                "s.sweep.ron:1:30: experiment \"nope\": no such file",
            ),
            (
                "Sweep(name: \"a/b\", experiment: \"quick\")",
                "s.sweep.ron:1:13: name \"a/b\" names the sweep's directory",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", grid: {\"seed\": 1})",
                "s.sweep.ron:1:53:",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", steps: 3)",
                "s.sweep.ron:1:",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", set: {\"seed\": 1}, grid: {\"seed\": [2]})",
                "s.sweep.ron:1:64: axis \"seed\" is both fixed in set and varied in grid",
            ),
            (
                "Sweep(name: \"g\", experiment: \"quick\", list: [{\"seed\": 1}, {\"seed\": 1}])",
                "s.sweep.ron:1:59: list point 2 repeats point 1",
            ),
        ];
        for (text, expected) in cases {
            let e = parse_str(text).unwrap_err().to_string();
            assert!(
                e.starts_with(expected),
                "{text}\n got: {e}\nwant: {expected}"
            );
        }
    }

    #[test]
    fn every_shipped_sweep_file_reads_and_expands() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".sweep.ron") {
                continue;
            }
            let sweep = load(&path).unwrap_or_else(|e| panic!("{e}"));
            let runs = super::super::expand(&sweep).unwrap_or_else(|e| panic!("{e}"));
            assert!(!runs.is_empty(), "{}", path.display());
            seen += 1;
        }
        // The README's: 3 estimators × 2 learning rates × 3 seeds.
        let readme = load(&dir.join("readme.sweep.ron")).unwrap();
        assert_eq!(super::super::expand(&readme).unwrap().len(), 18);
        assert!(seen >= 1);
    }
}
