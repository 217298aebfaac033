//! The estimator lab: problems with known answers on which estimators are measured — bias
//! against an exact gradient, variance, their trade-off.

pub mod toy;

pub use toy::QuadraticToy;
