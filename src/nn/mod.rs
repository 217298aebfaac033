//! Building blocks of the networks: dense layers, activations, the softmax cross-entropy loss,
//! Glorot initialisation, SGD with momentum and max-norm. Every backward pass is written by hand
//! and checked against finite differences in the tests.

pub mod activation;
pub mod aligned;
pub mod dense;
pub mod init;
pub mod loss;
pub mod math;
pub mod matmul;
pub mod optim;
pub mod simd;

pub use activation::Activation;
pub use dense::{Dense, DenseGrad};
pub use loss::SoftmaxCrossEntropy;
pub use matmul::{matmul_into, matmul_scaled_into};
pub use optim::{Sgd, SgdSettings};
