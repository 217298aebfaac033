//! Conditional computation, measured: the same measurements as `gradrace bench paper-mnist`
//! (gated kernels vs dense at firing rates 1–100%, every lane's throughput vs computing every
//! expert, dense-kernel GFLOP/s), printed as tables with the ratios from one run.
//! Run with `cargo bench --bench conditional` (add `-- --quick` for a fast look).

use gradrace::bench::{self, BenchSettings};
use gradrace::config::builtin::resolve;
use gradrace::data::embedded;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let experiment = resolve("paper-mnist").expect("built-in experiment");
    let data = embedded();
    let settings = if quick {
        BenchSettings::quick()
    } else {
        BenchSettings::full()
    };
    let mut progress = |what: &str| eprintln!("measuring {what}");
    let report = bench::run(&experiment, &data, settings, &mut progress).expect("benchmark");
    print!("{}", report.table());
}
