//! A problem in a file the user gave (an experiment file, a session document, a checkpoint), at
//! its line and column when known: the one error shape shared by [`crate::config`] and
//! [`crate::session`].

use std::fmt;

/// A problem in a file, shown as `file:line:column: message`, or `file: message` when the
/// position is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file (or built-in experiment) the problem is in.
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl FileError {
    /// A problem with `file`, position unknown.
    pub fn new(file: impl fmt::Display, message: impl Into<String>) -> Self {
        FileError {
            file: file.to_string(),
            position: None,
            message: message.into(),
        }
    }

    /// The same problem at 1-based (line, column).
    pub fn at(mut self, position: (usize, usize)) -> Self {
        self.position = Some(position);
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for FileError {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_position_when_known() {
        let e = FileError::new("runs/a.ron", "expected `GradraceSession(` here");
        assert_eq!(
            e.to_string(),
            "runs/a.ron: expected `GradraceSession(` here"
        );
        assert_eq!(
            e.at((3, 14)).to_string(),
            "runs/a.ron:3:14: expected `GradraceSession(` here"
        );
    }

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = "ab\nλμ x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        // 'x' is after two two-byte characters and a space.
        assert_eq!(line_col(text, text.find('x').unwrap()), (2, 4));
        // Inside a character: its start; past the end: the end.
        assert_eq!(line_col(text, 4), (2, 1));
        assert_eq!(line_col(text, 100), (3, 1));
    }
}
