//! The temperature τ of the relaxed estimators (binary Concrete, Gumbel-Rao, ReinMax): constant,
//! or decaying exponentially with the training step down to a floor, as Jang et al. (2017)
//! anneal it. A function of the step count alone, so a resumed lane continues exactly.

use serde::{Deserialize, Serialize};

use super::spec::InvalidOption;

/// A temperature schedule, as written in an experiment file: `Constant(1.0)` or
/// `Exponential(start: 1.0, rate: 1e-4, floor: 0.5)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Temperature {
    /// τ fixed.
    Constant(f32),
    /// τ(t) = max(floor, start · e^(−rate·t)) at training step t.
    Exponential {
        /// τ at step 0.
        start: f32,
        /// Decay per step.
        rate: f32,
        /// Smallest τ.
        floor: f32,
    },
}

impl Temperature {
    /// τ after `step` training steps.
    pub fn at(&self, step: u64) -> f32 {
        match *self {
            Temperature::Constant(t) => t,
            Temperature::Exponential { start, rate, floor } => {
                let t = f64::from(start) * (-f64::from(rate) * step as f64).exp();
                (t as f32).max(floor)
            }
        }
    }

    /// Checks the schedule: every τ finite and > 0 — at least 1 with `at_least_one` (ReinMax) —,
    /// the floor at most the start, the rate ≥ 0.
    pub fn validate(&self, at_least_one: bool) -> Result<(), InvalidOption> {
        let (least, allowed) = if at_least_one {
            (1.0, "≥ 1")
        } else {
            (f32::MIN_POSITIVE, "> 0")
        };
        let check = |field, v: f32| {
            if v.is_finite() && v >= least {
                Ok(())
            } else {
                Err(InvalidOption {
                    field,
                    value: v,
                    allowed,
                })
            }
        };
        match *self {
            Temperature::Constant(t) => check("temperature", t),
            Temperature::Exponential { start, rate, floor } => {
                check("temperature.start", start)?;
                check("temperature.floor", floor)?;
                if floor > start {
                    return Err(InvalidOption {
                        field: "temperature.floor",
                        value: floor,
                        allowed: "at most temperature.start",
                    });
                }
                if !(rate.is_finite() && rate >= 0.0) {
                    return Err(InvalidOption {
                        field: "temperature.rate",
                        value: rate,
                        allowed: "≥ 0",
                    });
                }
                Ok(())
            }
        }
    }

    /// The schedule in a few characters, e.g. `τ=0.5` or `τ=1→0.5`.
    pub fn describe(&self) -> String {
        match *self {
            Temperature::Constant(t) => format!("τ={t}"),
            Temperature::Exponential { start, floor, .. } => format!("τ={start}→{floor}"),
        }
    }
}

impl Default for Temperature {
    fn default() -> Self {
        Temperature::Constant(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponential_schedule_decays_to_its_floor() {
        let s = Temperature::Exponential {
            start: 2.0,
            rate: 1e-3,
            floor: 0.5,
        };
        assert_eq!(s.at(0), 2.0);
        assert!((s.at(693) - 1.0).abs() < 1e-3, "{}", s.at(693));
        assert_eq!(s.at(100_000), 0.5);
        assert!(s.validate(false).is_ok());
        let e = s.validate(true).unwrap_err();
        assert_eq!(e.field, "temperature.floor", "a floor below 1 where τ ≥ 1");
        assert!(Temperature::Constant(0.0).validate(false).is_err());
        assert!(Temperature::Constant(f32::NAN).validate(false).is_err());
        assert_eq!(Temperature::Constant(0.5).describe(), "τ=0.5");
    }
}
