//! The estimator lab: problems with known answers on which estimators are measured — bias
//! against an exact gradient, variance, their trade-off: the one-gate toy ([`toy`]) and small
//! gated nets whose exact gradient comes from enumerating every gate vector ([`enumeration`]);
//! the probe ([`probe`]) measures every estimator on a [`Problem`] — the toy, a small net, or a
//! real net at saved parameters against a reference estimated from many unbiased samples — and
//! reports bias, variance and mean squared error with standard errors ([`probe_text`] prints
//! them).

pub mod enumeration;
pub mod measure;
pub mod probe;
pub mod probe_text;
pub mod problem;
pub mod toy;

pub use enumeration::{ExactGradient, MAX_ORACLE_GATES, OracleError, exact_binary_gate_gradient};
pub use measure::{BiasVariance, Estimates, Reference, variance_interval};
pub use probe::{
    Candidate, Measured, Measurement, Objective, ProbeError, ProbeReport, ProbeRow, ProbeSettings,
    ProblemInfo, ReferenceChoice, ReferenceGradient, ReferenceInfo, candidates_for, measure, probe,
    select, zoo_candidates,
};
pub use problem::{FixedMainPath, NetProblem, Problem, ProblemError, SmallNet, ToyProblem};
pub use toy::QuadraticToy;
