//! The `gradrace` binary: parses the command line and runs the library's commands.

use std::process::ExitCode;

use clap::Parser;
use gradrace::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gradrace: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
