//! Why a measurement could not be made.

/// A failed `gradrace bench` measurement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenchError {
    /// The training set is smaller than one minibatch.
    #[error("the training set has {examples} examples, fewer than one minibatch of {batch}")]
    TooFewExamples {
        /// Training examples.
        examples: usize,
        /// Examples per minibatch.
        batch: usize,
    },
    /// A lane's loss was not finite while it was measured.
    #[error("lane {lane}: training diverged while measuring")]
    Diverged {
        /// The lane's name.
        lane: String,
    },
}
