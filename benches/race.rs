//! Race benchmarks, printing ratios measured in one run (issue: parallel lanes and metric
//! overhead). Run with `cargo bench --bench race`.
//!
//! - parallel speed-up: four lanes on two threads vs the same four lanes on one thread
//!   (target: ≤ 0.6× the wall time);
//! - overhead of metrics, events and the variance probe at the default intervals vs the same race
//!   with them off (target: ≤ 5%).

use std::sync::Arc;
use std::time::Instant;

use gradrace::config::builtin::resolve;
use gradrace::config::{Experiment, Length, MetricsSpec};
use gradrace::data::embedded;
use gradrace::engine::{Race, Recorder};

fn timed(experiment: &Experiment, threads: usize) -> f64 {
    let data = Arc::new(embedded());
    let mut race = Race::new(experiment, data, threads).expect("race");
    let (_ctl, commands) = crossbeam_channel::unbounded();
    let (tx, rx) = crossbeam_channel::unbounded();
    let consumer = std::thread::spawn(move || {
        let mut rec = Recorder::new();
        for e in rx.iter() {
            rec.apply(e);
        }
        rec
    });
    let start = Instant::now();
    race.run(&commands, &tx);
    let secs = start.elapsed().as_secs_f64();
    drop(tx);
    let rec = consumer.join().expect("consumer");
    assert!(rec.finished);
    secs
}

fn best_of(n: usize, f: impl Fn() -> f64) -> f64 {
    (0..n).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn main() {
    let steps: u64 = std::env::var("GRADRACE_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let mut e = resolve("quick").expect("quick experiment");
    e.lanes.truncate(4);
    e.training.length = Length::Steps(steps);
    e.metrics.eval_every = 0;
    println!(
        "race benchmark: {} lanes of experiments/quick.ron, {steps} steps",
        e.lanes.len()
    );

    let one = best_of(2, || timed(&e, 1));
    let two = best_of(2, || timed(&e, 2));
    println!(
        "parallel lanes: 1 thread {one:.2} s, 2 threads {two:.2} s, ratio {:.2} (target ≤ 0.60)",
        two / one
    );

    let mut with = e.clone();
    with.metrics = MetricsSpec::default();
    let mut without = e.clone();
    without.metrics = MetricsSpec {
        eval_every: 0,
        probe_every: 0,
        heat_every: 0,
        ..MetricsSpec::default()
    };
    let on = best_of(3, || timed(&with, 2));
    let off = best_of(3, || timed(&without, 2));
    println!(
        "metrics overhead at default intervals: on {on:.2} s, off {off:.2} s, overhead {:.1}% (target ≤ 5%)",
        100.0 * (on / off - 1.0)
    );
}
