//! The estimator lab: problems with known answers on which estimators are measured — bias
//! against an exact gradient, variance, their trade-off: the one-gate toy ([`toy`]) and small
//! gated nets whose exact gradient comes from enumerating every gate vector ([`enumeration`]).

pub mod enumeration;
pub mod measure;
pub mod toy;

pub use enumeration::{ExactGradient, MAX_ORACLE_GATES, OracleError, exact_binary_gate_gradient};
pub use measure::{BiasVariance, Estimates, Reference};
pub use toy::QuadraticToy;
