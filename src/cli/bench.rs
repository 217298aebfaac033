//! `gradrace bench [EXPERIMENT] [--quick] [--json]`: measures on this machine what the gated
//! kernels save (see [`crate::bench`]) and prints a table, or one JSON record.

use super::common::{self, data_for};
use super::console::{self, note};
use super::{BenchArgs, CliError};
use crate::bench::{self, BenchSettings};

/// Runs `gradrace bench`.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    let experiment = common::experiment(&args.experiment, args.data.as_deref())?;
    let data = data_for(&experiment)?;
    let settings = if args.quick {
        BenchSettings::quick()
    } else {
        BenchSettings::full()
    };
    let mut progress = |what: &str| note!("gradrace bench: measuring {what}");
    let report = bench::run(&experiment, &data, settings, &mut progress)?;
    let text = if args.json {
        serde_json::to_string(&report).map_err(|e| CliError::Runtime(e.to_string()))? + "\n"
    } else {
        report.table()
    };
    console::report(&text)
}
