//! Race benchmarks, printing ratios measured in one run (issue: parallel lanes and metric
//! overhead). Run with `cargo bench --bench race`.
//!
//! - parallel speed-up: four lanes on two threads vs the same four lanes on one thread
//!   (target: ≤ 0.6× the wall time);
//! - overhead of metrics, events and the variance probe at the default intervals vs the same race
//!   with them off (target: ≤ 5%).
//!
//! Each ratio is the median over pairs of runs made in alternation: on a shared machine the
//! speed drifts by more than the effects measured here, and pairing cancels the drift.
//! `GRADRACE_BENCH_STEPS` (default 1000) and `GRADRACE_BENCH_PAIRS` (default 7) size the runs.

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

/// Median of the ratios a/b over `pairs` runs of a and b in alternation (a, b, b, a, a, b, …),
/// so that slow drifts of a shared machine hit both sides alike; returns (median ratio, median
/// a seconds, median b seconds).
fn paired(pairs: usize, a: impl Fn() -> f64, b: impl Fn() -> f64) -> (f64, f64, f64) {
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..pairs {
        let (x, y) = if k % 2 == 0 {
            let x = a();
            (x, b())
        } else {
            let y = b();
            (a(), y)
        };
        println!("  pair {}: {x:.2} s / {y:.2} s = {:.3}", k + 1, x / y);
        ratios.push(x / y);
        ta.push(x);
        tb.push(y);
    }
    (median(ratios), median(ta), median(tb))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let steps = env("GRADRACE_BENCH_STEPS", 1000);
    let pairs = env("GRADRACE_BENCH_PAIRS", 7) as usize;
    let mut e = resolve("quick").expect("quick experiment");
    e.lanes.truncate(4);
    e.training.length = Length::Steps(steps);
    e.metrics.eval_every = 0;
    println!(
        "race benchmark: {} lanes of experiments/quick.ron, {steps} steps per run, {pairs} pairs \
         of runs in alternation (GRADRACE_BENCH_STEPS, GRADRACE_BENCH_PAIRS)",
        e.lanes.len()
    );

    println!("parallel lanes (2 threads / 1 thread):");
    let (ratio, two, one) = paired(pairs, || timed(&e, 2), || timed(&e, 1));
    println!(
        "parallel lanes: 1 thread {one:.2} s, 2 threads {two:.2} s, median ratio {ratio:.2} \
         (target ≤ 0.60)"
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
    let m = with.metrics;
    println!(
        "metrics at the default intervals (held-out pass every {}, probe every {} with K = {}, \
         heat row every {}) / none, 1 thread:",
        m.eval_every, m.probe_every, m.probe_samples, m.heat_every
    );
    // One worker thread: the same work ratio as with two, and far steadier timings on a shared
    // two-core machine (the consumer of the events runs on its own thread either way).
    let (ratio, on, off) = paired(pairs, || timed(&with, 1), || timed(&without, 1));
    println!(
        "metrics overhead: on {on:.2} s, off {off:.2} s, median overhead {:.1}% (target ≤ 5%)",
        100.0 * (ratio - 1.0)
    );
}
