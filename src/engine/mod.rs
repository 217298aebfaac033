//! Training: a lane is one estimator training one copy of the gated network.

pub mod lane;

pub use lane::{Evaluation, Lane, StepStats};
