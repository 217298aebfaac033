//! What can go wrong setting up a race or continuing it from a checkpoint.

/// A checkpoint's lane state that does not fit the lane it is restored into.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestoreError {
    /// A layer's parameters (or velocity) have another shape than the lane's network.
    #[error(
        "layer {layer}: {what} {rows}×{columns} (+{biases} biases), the lane's network needs \
         {want_rows}×{want_columns}"
    )]
    LayerShape {
        /// The layer's name.
        layer: &'static str,
        /// "parameters are" or "velocity is".
        what: &'static str,
        /// The checkpoint's rows, columns and biases.
        rows: usize,
        /// Columns.
        columns: usize,
        /// Biases.
        biases: usize,
        /// The lane's rows.
        want_rows: usize,
        /// The lane's columns.
        want_columns: usize,
    },
    /// The lane trains with momentum, the checkpoint has no velocities.
    #[error("the lane trains with momentum {0} and the checkpoint has no velocities")]
    MissingVelocities(f32),
    /// The non-linearities differ.
    #[error("the network's non-linearities differ from the lane's settings")]
    Activations,
    /// The baseline's moving averages do not fit the gate units.
    #[error(
        "baseline state has {numerators} numerators and {denominators} denominators for {units} \
         gate units"
    )]
    BaselineShape {
        /// Numerators saved.
        numerators: usize,
        /// Denominators saved.
        denominators: usize,
        /// Gate units of the lane.
        units: usize,
    },
    /// The baseline observed more minibatches than the lane took steps.
    #[error("baseline state has observed {observed} minibatches in {steps} steps")]
    BaselineObserved {
        /// Minibatches observed.
        observed: u64,
        /// Steps taken.
        steps: u64,
    },
    /// Baseline state for an estimator without one.
    #[error("the checkpoint has baseline state, the lane's estimator has none")]
    UnexpectedBaseline,
    /// No baseline state for an estimator that needs one.
    #[error("the lane's estimator needs baseline state, the checkpoint has none")]
    MissingBaseline,
    /// The adaptive L1 penalty is present in one and not in the other.
    #[error(
        "the checkpoint {} an adaptive L1 penalty, the lane {}",
        if *.checkpoint_has { "has" } else { "lacks" },
        if *.checkpoint_has { "has none" } else { "needs one" }
    )]
    L1 {
        /// Whether the checkpoint has one.
        checkpoint_has: bool,
    },
}

/// A race that cannot be set up, or a checkpoint that does not fit it.
#[derive(Debug, thiserror::Error)]
pub enum RaceError {
    /// Nothing to train on or to evaluate with.
    #[error("the data set has an empty training or held-out part")]
    EmptyData,
    /// The worker threads could not be started.
    #[error("cannot start the thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// The checkpoint has another number of lanes.
    #[error("the checkpoint has {checkpoint} lanes, the experiment {experiment}")]
    LaneCount {
        /// Lanes in the checkpoint.
        checkpoint: usize,
        /// Lanes in the experiment.
        experiment: usize,
    },
    /// A lane of the checkpoint has another name than the experiment's lane at its place.
    #[error("lane {index}: the checkpoint has \"{saved}\" there, the experiment \"{name}\"")]
    LaneName {
        /// 1-based position.
        index: usize,
        /// The checkpoint's name.
        saved: String,
        /// The experiment's name.
        name: String,
    },
    /// A lane's firing counters do not fit its gate units.
    #[error(
        "lane \"{name}\": firing counters for {unit_counters} / {class_counters} gate units, the \
         network has {units}"
    )]
    Counters {
        /// The lane.
        name: String,
        /// Units of the per-unit counters.
        unit_counters: usize,
        /// Units of the per-class counters.
        class_counters: usize,
        /// Gate units of the network.
        units: usize,
    },
    /// A lane's state does not fit it.
    #[error("lane \"{name}\": {source}")]
    Restore {
        /// The lane.
        name: String,
        /// What does not fit.
        #[source]
        source: RestoreError,
    },
}
