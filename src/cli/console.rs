//! Writing to the terminal without panicking when it has gone away.
//!
//! `println!` and `eprintln!` panic when a write fails, as it does once the reader of a pipe has
//! exited (`gradrace race --headless 2>&1 | head`). Progress notes are not worth that: the race
//! goes on, and its session is saved, whether or not anybody still reads them. A command's
//! result on standard output may be cut short by its reader (`| head`) without an error, but a
//! result that could not be written anywhere else (a full disk) makes the command fail.

use std::fmt;
use std::io::{ErrorKind, Write};

use super::CliError;

/// Writes `text` and a newline to standard error; a failed write is ignored.
pub fn write_err_line(text: fmt::Arguments<'_>) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(text).and_then(|()| e.write_all(b"\n"));
}

/// Writes `text` to standard error without a newline (a question); a failed write is ignored.
pub fn write_err(text: fmt::Arguments<'_>) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_fmt(text).and_then(|()| e.flush());
}

/// `eprintln!` through [`write_err_line`].
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::console::write_err_line(format_args!($($arg)*))
    };
}

pub(crate) use note;

/// Writes a command's result to standard output. A reader that has gone away (a closed pipe) is
/// not an error; any other failed write is.
pub fn report(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(CliError::Output(e)),
        _ => Ok(()),
    }
}
