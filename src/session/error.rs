//! Errors of reading and writing sessions, positioned in the file where possible.

use std::fmt;

/// Whose fault a session error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file is missing, unreadable, not a session, damaged or from a newer gradrace.
    BadFile,
    /// Writing failed (disk full, permissions, ...).
    Write,
}

/// A problem with a session file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError {
    /// The file the problem is in.
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
    /// Bad input or failed write.
    pub kind: ErrorKind,
}

impl SessionError {
    /// A problem with the content of `file`.
    pub fn bad(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError {
            file: file.to_string(),
            position: None,
            message: message.into(),
            kind: ErrorKind::BadFile,
        }
    }

    /// A failed write of `file`.
    pub fn write(file: impl fmt::Display, message: impl Into<String>) -> Self {
        SessionError {
            file: file.to_string(),
            position: None,
            message: message.into(),
            kind: ErrorKind::Write,
        }
    }

    /// The same error at 1-based (line, column).
    pub fn at(mut self, position: (usize, usize)) -> Self {
        self.position = Some(position);
        self
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SessionError {}

/// 1-based (line, column) of byte `offset` in `text` (columns count characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[start..].chars().count() + 1)
}
