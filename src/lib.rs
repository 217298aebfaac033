//! gradrace: race gradient estimators for stochastic neurons side by side.
//!
//! The science is Bengio, Léonard & Courville (2013), "Estimating or Propagating Gradients
//! Through Stochastic Neurons for Conditional Computation": a conditional-computation network
//! whose gates are stochastic or hard neurons, trained with each of the paper's gradient
//! estimators and the later ones. This library holds everything the binary, the tests and the
//! benches share: data sets ([`data`]), layers ([`nn`]), random draws in bulk ([`sampling`]),
//! the estimators ([`estimators`]), the gated network ([`net`]), training ([`engine`]), what a
//! race recorded ([`history`]), the estimator lab with its exact gradients ([`lab`]), sessions
//! ([`session`]), the dashboard ([`tui`]) and the command line ([`cli`]).

pub mod bench;
pub mod cli;
pub mod config;
pub mod data;
pub mod engine;
pub mod estimators;
pub mod export;
pub mod file_error;
pub mod history;
pub mod lab;
pub mod net;
pub mod nn;
pub mod palette;
pub mod report;
pub mod sampling;
pub mod seed;
pub mod session;
pub mod stats;
pub mod sweep;
#[cfg(test)]
mod testing;
pub mod tui;

pub use config::{GaterReduction, LaneSettings};
pub use engine::{Evaluation, Lane, StepStats};
pub use estimators::{EstimatorSpec, Family, GateEstimator};
pub use net::{GatedNet, NetConfig};
