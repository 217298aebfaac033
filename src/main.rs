//! The `gradrace` binary: parses the command line and runs the library's commands.

use std::process::ExitCode;

use clap::Parser;
use gradrace::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(ended) => ExitCode::from(ended.exit_code()),
        Err(e) => {
            gradrace::cli::console::write_err_line(format_args!("gradrace: error: {e}"));
            ExitCode::from(e.exit_code())
        }
    }
}
