//! Errors of reading and writing sessions: the file, positioned where possible, and whether it
//! is bad input or a failed write.

use std::fmt;

use crate::file_error::FileError;

/// A session that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The file is missing, unreadable, not a session, damaged or from a newer gradrace (bad
    /// input).
    #[error(transparent)]
    BadFile(FileError),
    /// Writing the file failed (disk full, permissions, ...).
    #[error(transparent)]
    Write(FileError),
}

impl SessionError {
    /// A problem with the content of `file`.
    pub fn bad(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError::BadFile(FileError::new(file, message))
    }

    /// A failed write of `file`.
    pub fn write(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError::Write(FileError::new(file, message))
    }

    /// The same error at 1-based (line, column) of its file.
    pub fn at(self, position: (usize, usize)) -> Self {
        match self {
            SessionError::BadFile(e) => SessionError::BadFile(e.at(position)),
            SessionError::Write(e) => SessionError::Write(e.at(position)),
        }
    }

    /// What is wrong, without the file and position.
    pub fn message(&self) -> String {
        match self {
            SessionError::BadFile(e) | SessionError::Write(e) => e.message.clone(),
        }
    }

    /// The 1-based (line, column) of the problem in its file, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            SessionError::BadFile(e) | SessionError::Write(e) => e.position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_show_file_and_position_and_keep_their_kind() {
        let e = SessionError::bad("runs/a.ron", "not a gradrace session: the file is empty");
        assert_eq!(
            e.to_string(),
            "runs/a.ron: not a gradrace session: the file is empty"
        );
        let e = e.at((1, 1));
        assert_eq!(
            e.to_string(),
            "runs/a.ron:1:1: not a gradrace session: the file is empty"
        );
        assert!(matches!(e, SessionError::BadFile(_)));
        assert_eq!(e.position(), Some((1, 1)));
        assert_eq!(e.message(), "not a gradrace session: the file is empty");
        let w = SessionError::write("runs/a.ron", "No space left on device");
        assert!(matches!(w, SessionError::Write(_)));
        assert_eq!(w.to_string(), "runs/a.ron: No space left on device");
    }
}
