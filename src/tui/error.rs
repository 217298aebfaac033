//! Why the dashboard stopped.

use std::io;

/// A failure of the dashboard (the race itself may have run well).
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The event loop could not be started.
    #[error("cannot start the dashboard's event loop: {0}")]
    EventLoop(#[source] io::Error),
    /// The terminal could not be taken over.
    #[error("cannot open the dashboard: {0}")]
    Open(#[source] io::Error),
    /// The terminal's input could not be read.
    #[error("cannot read the terminal: {0}")]
    Input(#[source] io::Error),
    /// The terminal's size could not be read.
    #[error("cannot read the terminal size: {0}")]
    Size(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A frame could not be drawn.
    #[error("cannot draw the dashboard: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Code of the dashboard panicked (the terminal has been given back).
    #[error("the dashboard stopped after a panic")]
    Panicked,
    /// The training engine's thread panicked.
    #[error("the training engine crashed")]
    EngineCrashed,
    /// The engine ended before it sent the race's description.
    #[error("the training engine stopped before the race started")]
    EngineStoppedEarly,
}
