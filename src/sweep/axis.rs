//! The axes a sweep can vary: which lanes race, the seed, the length, and any training, network
//! or lane setting of the base experiment, each by a path such as `training.learning_rate` or
//! `lane.sparsity_weight` (`lane.*` settings apply to every lane of a run). One table
//! ([`AXES`]) says what each axis takes, how it changes an experiment, and which field
//! [`crate::config::validate_experiment`] names when one of its values is out of range.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::config::{Experiment, GaterReduction, Length};
use crate::nn::Activation;

/// A value as written in a sweep file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A whole number.
    Integer(i128),
    /// A number with a point or an exponent.
    Real(f64),
    /// A string.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// A list (several lanes racing in one run).
    List(Vec<Value>),
}

impl fmt::Display for Value {
    /// The value as tables and run labels show it: numbers as the experiment would hold them
    /// (reals as the f32 they become), strings bare, lists joined with `+`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(v) => write!(f, "{v}"),
            Value::Real(v) => write!(f, "{}", *v as f32),
            Value::Text(s) => write!(f, "{s}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "{}", parts.join("+"))
            }
        }
    }
}

impl Value {
    /// The value as written in RON (for messages).
    pub fn as_written(&self) -> String {
        match self {
            Value::Text(s) => format!("{s:?}"),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::as_written).collect();
                format!("[{}]", parts.join(", "))
            }
            other => other.to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a string or a list")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Integer(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Integer(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                Ok(Value::Integer(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                i128::try_from(v)
                    .map(Value::Integer)
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Real(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// What an axis varies, for grouping results: the lanes of a run, its seed, or a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Which lanes of the base experiment race (the table's estimators).
    Lanes,
    /// The seed (the table's repetitions).
    Seed,
    /// Anything else (the table's settings).
    Setting,
}

/// One axis a sweep can vary.
pub struct Axis {
    /// Its path in a sweep file, e.g. `training.learning_rate`.
    pub name: &'static str,
    /// What its values are, for messages and the README.
    pub takes: &'static str,
    /// Lanes, seed or setting.
    pub role: Role,
    /// The field [`crate::config::validate_experiment`] names for it, and whether that field is
    /// a lane's (`lane: Some(..)`) or the experiment's.
    pub reported_as: (&'static str, bool),
    apply: fn(&mut Experiment, &Value) -> Result<(), String>,
}

impl fmt::Debug for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Axis {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Axis {
    /// Changes `experiment` to this axis' `value`; the message says what is wrong with the
    /// value (its type, an unknown lane), not with its range, which validation checks after.
    pub fn apply(&self, experiment: &mut Experiment, value: &Value) -> Result<(), String> {
        (self.apply)(experiment, value)
    }
}

/// The axis named `name`.
pub fn axis(name: &str) -> Option<&'static Axis> {
    AXES.iter().find(|a| a.name == name)
}

/// The names of every axis, for messages.
pub fn names() -> String {
    AXES.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
}

fn real(v: &Value) -> Result<f32, String> {
    match v {
        Value::Real(x) => Ok(*x as f32),
        Value::Integer(i) => Ok(*i as f32),
        other => Err(format!("takes a number, not {}", other.as_written())),
    }
}

fn whole(v: &Value) -> Result<u64, String> {
    match v {
        Value::Integer(i) => u64::try_from(*i)
            .map_err(|_| format!("takes a whole number from 0 to {}, not {i}", u64::MAX)),
        other => Err(format!("takes a whole number, not {}", other.as_written())),
    }
}

fn count(v: &Value) -> Result<usize, String> {
    whole(v).and_then(|n| usize::try_from(n).map_err(|_| format!("{n} is too large")))
}

fn choice<T: serde::de::DeserializeOwned>(v: &Value, options: &str) -> Result<T, String> {
    let bad = || format!("takes one of {options}, not {}", v.as_written());
    match v {
        Value::Text(s) if s.chars().all(|c| c.is_ascii_alphanumeric()) => {
            ron::from_str(s).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

fn lanes(e: &mut Experiment, v: &Value) -> Result<(), String> {
    let wanted: Vec<&str> = match v {
        Value::Text(s) => vec![s.as_str()],
        Value::List(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::Text(s) => Ok(s.as_str()),
                other => Err(format!(
                    "takes a lane name or a list of lane names, not {}",
                    other.as_written()
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(format!(
                "takes a lane name or a non-empty list of lane names, not {}",
                other.as_written()
            ));
        }
    };
    let known: Vec<&str> = e.lanes.iter().map(|l| l.name.as_str()).collect();
    if let Some(bad) = wanted.iter().find(|w| !known.contains(w)) {
        return Err(format!(
            "takes lanes of experiment \"{}\" ({}), not \"{bad}\"",
            e.name,
            known.join(", ")
        ));
    }
    if let Some(w) = wanted
        .iter()
        .enumerate()
        .find_map(|(i, w)| wanted[..i].contains(w).then_some(w))
    {
        return Err(format!("takes different lanes, not \"{w}\" twice"));
    }
    let wanted: Vec<String> = wanted.into_iter().map(String::from).collect();
    e.retain_lanes(|l| wanted.contains(&l.name));
    Ok(())
}

macro_rules! every_lane {
    ($field:ident, $convert:expr) => {
        |e: &mut Experiment, v: &Value| {
            let x = $convert(v)?;
            e.lanes.iter_mut().for_each(|l| l.$field = Some(x));
            Ok(())
        }
    };
}

/// Every axis.
pub static AXES: [Axis; 18] = [
    Axis {
        name: "lane",
        takes: "a lane name of the base experiment, or a list of them (racing together)",
        role: Role::Lanes,
        reported_as: ("lanes", false),
        apply: lanes,
    },
    Axis {
        name: "seed",
        takes: "a whole number (the run's only seed)",
        role: Role::Seed,
        reported_as: ("seeds", false),
        apply: |e, v| {
            e.seed = whole(v)?;
            e.seeds = None;
            Ok(())
        },
    },
    Axis {
        name: "steps",
        takes: "a whole number of minibatch steps",
        role: Role::Setting,
        reported_as: ("length", false),
        apply: |e, v| {
            e.training.length = Length::Steps(whole(v)?);
            Ok(())
        },
    },
    Axis {
        name: "epochs",
        takes: "a whole number of passes over the training set",
        role: Role::Setting,
        reported_as: ("length", false),
        apply: |e, v| {
            e.training.length = Length::Epochs(whole(v)?);
            Ok(())
        },
    },
    Axis {
        name: "training.learning_rate",
        takes: "a number > 0",
        role: Role::Setting,
        reported_as: ("learning_rate", false),
        apply: |e, v| {
            e.training.learning_rate = real(v)?;
            Ok(())
        },
    },
    Axis {
        name: "training.sparsity_target",
        takes: "a number in (0, 1)",
        role: Role::Setting,
        reported_as: ("sparsity_target", false),
        apply: |e, v| {
            e.training.sparsity_target = real(v)?;
            Ok(())
        },
    },
    Axis {
        name: "training.batch_size",
        takes: "a whole number in 1..=65536",
        role: Role::Setting,
        reported_as: ("batch_size", false),
        apply: |e, v| {
            e.training.batch_size = count(v)?;
            Ok(())
        },
    },
    Axis {
        name: "training.max_norm",
        takes: "a number > 0",
        role: Role::Setting,
        reported_as: ("max_norm", false),
        apply: |e, v| {
            e.training.max_norm = Some(real(v)?);
            Ok(())
        },
    },
    Axis {
        name: "network.gater_hidden",
        takes: "a whole number in 1..=100000",
        role: Role::Setting,
        reported_as: ("gater_hidden", false),
        apply: |e, v| {
            e.network.gater_hidden = count(v)?;
            Ok(())
        },
    },
    Axis {
        name: "network.experts",
        takes: "a whole number in 1..=100000",
        role: Role::Setting,
        reported_as: ("experts", false),
        apply: |e, v| {
            e.network.experts = count(v)?;
            Ok(())
        },
    },
    Axis {
        name: "network.expert_activation",
        takes: "one of \"Linear\", \"Tanh\", \"Relu\"",
        role: Role::Setting,
        reported_as: ("expert_activation", false),
        apply: |e, v| {
            e.network.expert_activation =
                choice::<Activation>(v, "\"Linear\", \"Tanh\", \"Relu\"")?;
            Ok(())
        },
    },
    Axis {
        name: "lane.learning_rate",
        takes: "a number > 0 (every lane of the run)",
        role: Role::Setting,
        reported_as: ("learning_rate", true),
        apply: every_lane!(learning_rate, real),
    },
    Axis {
        name: "lane.gater_learning_rate",
        takes: "a number > 0 (every lane of the run)",
        role: Role::Setting,
        reported_as: ("gater_learning_rate", true),
        apply: every_lane!(gater_learning_rate, real),
    },
    Axis {
        name: "lane.sparsity_weight",
        takes: "a number ≥ 0 (every lane of the run)",
        role: Role::Setting,
        reported_as: ("sparsity_weight", true),
        apply: every_lane!(sparsity_weight, real),
    },
    Axis {
        name: "lane.momentum",
        takes: "a number in [0, 1) (every lane of the run)",
        role: Role::Setting,
        reported_as: ("momentum", true),
        apply: every_lane!(momentum, real),
    },
    Axis {
        name: "lane.gater_reduction",
        takes: "\"Mean\" or \"Sum\" (every lane of the run)",
        role: Role::Setting,
        reported_as: ("gater_reduction", true),
        apply: every_lane!(gater_reduction, |v| choice::<GaterReduction>(
            v,
            "\"Mean\", \"Sum\""
        )),
    },
    Axis {
        name: "lane.expert_activation",
        takes: "one of \"Linear\", \"Tanh\", \"Relu\" (every lane of the run)",
        role: Role::Setting,
        reported_as: ("expert_activation", true),
        apply: every_lane!(expert_activation, |v| choice::<Activation>(
            v,
            "\"Linear\", \"Tanh\", \"Relu\""
        )),
    },
    Axis {
        name: "metrics.eval_every",
        takes: "a whole number of steps (0: only at the end)",
        role: Role::Setting,
        reported_as: ("eval_every", false),
        apply: |e, v| {
            e.metrics.eval_every = whole(v)?;
            Ok(())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::builtin::resolve;

    #[test]
    fn every_axis_changes_what_it_names() {
        let base = resolve("quick").unwrap();
        let cases: [(&str, Value); 6] = [
            ("training.learning_rate", Value::Real(0.05)),
            ("lane.sparsity_weight", Value::Integer(2)),
            ("steps", Value::Integer(300)),
            ("lane.gater_reduction", Value::Text("Sum".into())),
            ("seed", Value::Integer(9)),
            (
                "lane",
                Value::List(vec![Value::Text("dense".into()), Value::Text("sts".into())]),
            ),
        ];
        let mut e = base.clone();
        for (name, v) in &cases {
            axis(name).unwrap().apply(&mut e, v).unwrap();
        }
        assert_eq!(e.training.learning_rate, 0.05);
        assert_eq!(e.training.length, Length::Steps(300));
        assert_eq!((e.seed, e.seeds.clone()), (9, None));
        // The lanes keep the base experiment's order; the probe's reference lane is gone.
        let names: Vec<&str> = e.lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["sts", "dense"]);
        assert_eq!(e.same_trajectory, None);
        assert!(
            e.lanes.iter().all(|l| l.sparsity_weight == Some(2.0)
                && l.gater_reduction == Some(GaterReduction::Sum))
        );
    }

    #[test]
    fn wrong_kinds_of_values_are_explained() {
        let mut e = resolve("quick").unwrap();
        let err = |name: &str, v: Value| axis(name).unwrap().apply(&mut e.clone(), &v).unwrap_err();
        assert_eq!(
            err("training.learning_rate", Value::Text("fast".into())),
            "takes a number, not \"fast\""
        );
        assert_eq!(
            err("steps", Value::Real(2.5)),
            "takes a whole number, not 2.5"
        );
        assert!(err("seed", Value::Integer(-1)).starts_with("takes a whole number from 0"));
        assert_eq!(
            err("lane", Value::Text("nope".into())),
            "takes lanes of experiment \"quick\" (straight-through, sts, noisy-rectifier, \
             unbiased, dense), not \"nope\""
        );
        assert_eq!(
            err(
                "lane",
                Value::List(vec![Value::Text("sts".into()), Value::Text("sts".into())])
            ),
            "takes different lanes, not \"sts\" twice"
        );
        assert!(
            err("lane.gater_reduction", Value::Text("Max".into())).contains("\"Mean\", \"Sum\"")
        );
        // Names are unique.
        for (i, a) in AXES.iter().enumerate() {
            assert!(!AXES[..i].iter().any(|b| b.name == a.name), "{}", a.name);
        }
        e.lanes.clear();
    }

    #[test]
    fn values_show_as_the_experiment_holds_them() {
        assert_eq!(Value::Real(0.1).to_string(), "0.1");
        assert_eq!(Value::Real(1e-5).to_string(), "0.00001");
        assert_eq!(
            Value::List(vec![Value::Text("a".into()), Value::Text("b".into())]).to_string(),
            "a+b"
        );
        let v: Vec<Value> = ron::from_str(r#"[1, -2, 0.5, "x", ["y"], true]"#).unwrap();
        assert_eq!(
            v,
            [
                Value::Integer(1),
                Value::Integer(-2),
                Value::Real(0.5),
                Value::Text("x".into()),
                Value::List(vec![Value::Text("y".into())]),
                Value::Bool(true)
            ]
        );
    }
}
