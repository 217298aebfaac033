//! Errors of the command line, with the exit code each one gets.

use std::fmt;

/// A failure of a command.
#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong (exit code 2).
    BadInput(String),
    /// Something failed while running (exit code 1).
    Runtime(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::BadInput(m) | CliError::Runtime(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}
