//! The temperature τ of the relaxed estimators (binary Concrete, Gumbel-Rao, ReinMax): constant,
//! or decaying exponentially with the training step down to a floor, as Jang et al. (2017)
//! anneal it. A function of the step count alone, so a resumed lane continues exactly.

use serde::{Deserialize, Serialize};

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

    /// Whether every τ of the schedule is at least `least` (and finite), or what is wrong.
    pub fn validate(&self, least: f32) -> Result<(), String> {
        let ok = |v: f32| v.is_finite() && v >= least && v > 0.0;
        match *self {
            Temperature::Constant(t) if !ok(t) => {
                Err(format!("temperature = {t} must be ≥ {least} and > 0"))
            }
            Temperature::Exponential { start, rate, floor } => {
                if !ok(start) || !ok(floor) || floor > start {
                    Err(format!(
                        "temperature start = {start}, floor = {floor}: both must be ≥ {least} and \
                         > 0, the floor at most the start"
                    ))
                } else if !(rate.is_finite() && rate >= 0.0) {
                    Err(format!("temperature rate = {rate} must be ≥ 0"))
                } else {
                    Ok(())
                }
            }
            Temperature::Constant(_) => Ok(()),
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
        assert!(s.validate(0.0).is_ok());
        assert!(
            s.validate(1.0).is_err(),
            "a floor below 1 is refused where τ ≥ 1"
        );
        assert!(Temperature::Constant(0.0).validate(0.0).is_err());
        assert!(Temperature::Constant(f32::NAN).validate(0.0).is_err());
        assert_eq!(Temperature::Constant(0.5).describe(), "τ=0.5");
    }
}
