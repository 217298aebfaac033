//! Running the `gradrace` binary from the integration tests.

use assert_cmd::Command;

/// The binary built for these tests.
pub fn gradrace() -> Command {
    Command::cargo_bin("gradrace").unwrap()
}

/// A finished command's standard output, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A finished command's standard error, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
