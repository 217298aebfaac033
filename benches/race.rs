//! Race benchmarks, printing ratios measured in one run (issue: parallel lanes and metric
//! overhead). Run with `cargo bench --bench race`.
//!
//! - parallel speed-up: four lanes on two threads vs the same four lanes on one thread
//!   (target: ≤ 0.6× the wall time), and the same for five seeds of them (target: ≤ 0.55×);
//!   each with how much slower the training steps themselves ran with both cores busy (the sum
//!   of the lanes' measured step times, two threads over one), which sets the floor of the
//!   ratio at half that factor whatever the scheduling;
//! - overhead of metrics, events and the variance probe at the default intervals vs the same race
//!   with them off (target: ≤ 5%).
//!
//! On a shared machine the speed drifts by more than the effects measured here (±15% between
//! runs a minute apart). So each comparison runs its two races side by side in one process,
//! chunk by chunk in alternation (A then B, then B then A, …), timing every chunk: both sides see
//! the same machine at the same moments and the drift cancels in the ratio of the sums. Every
//! event goes through a [`Recorder`] inside the timed chunk, so the consumer's work counts too.
//! `GRADRACE_BENCH_STEPS` (default 2000) sets the length of the races.

use std::sync::Arc;
use std::time::Instant;

use gradrace::config::builtin::resolve;
use gradrace::config::{Experiment, Length, MetricsSpec};
use gradrace::data::embedded;
use gradrace::engine::{EngineEvent, Race};
use gradrace::history::Recorder;

/// One side of a comparison: a race, its recorder, the seconds spent advancing it and the sum
/// of its lanes' measured training-step times.
struct Side {
    race: Race,
    recorder: Recorder,
    seconds: f64,
    step_seconds: f64,
}

impl Side {
    fn new(experiment: &Experiment, threads: usize) -> Side {
        let race = Race::new(experiment, Arc::new(embedded()), threads).expect("race");
        let mut recorder = Recorder::new();
        race.opening_events()
            .into_iter()
            .for_each(|e| recorder.apply(e));
        Side {
            race,
            recorder,
            seconds: 0.0,
            step_seconds: 0.0,
        }
    }

    /// Advances one chunk (timed, events recorded); false once the race has ended.
    fn chunk(&mut self, steps: u64) -> bool {
        if self.race.is_finished() {
            return false;
        }
        let started = Instant::now();
        for e in self.race.advance(steps) {
            if let EngineEvent::Steps { points, .. } = &e {
                self.step_seconds += points.iter().map(|p| f64::from(p.seconds)).sum::<f64>();
            }
            self.recorder.apply(e);
        }
        self.seconds += started.elapsed().as_secs_f64();
        true
    }
}

/// Runs `a` and `b` to the end chunk by chunk in alternation; returns both sides.
fn side_by_side(a: (&Experiment, usize), b: (&Experiment, usize)) -> (Side, Side) {
    let mut sa = Side::new(a.0, a.1);
    let mut sb = Side::new(b.0, b.1);
    let steps = a.0.metrics.chunk_steps;
    let mut round = 0u64;
    loop {
        let (first, second) = if round.is_multiple_of(2) {
            (&mut sa, &mut sb)
        } else {
            (&mut sb, &mut sa)
        };
        let first_ran = first.chunk(steps);
        let second_ran = second.chunk(steps);
        if !(first_ran || second_ran) {
            break;
        }
        round += 1;
    }
    (sa, sb)
}

/// The wall times of `a` and `b` run side by side.
fn seconds(a: (&Experiment, usize), b: (&Experiment, usize)) -> (f64, f64) {
    let (a, b) = side_by_side(a, b);
    (a.seconds, b.seconds)
}

/// Two threads against one: the line of a parallel comparison.
fn parallel(what: &str, e: &Experiment, target: f64) {
    let (two, one) = side_by_side((e, 2), (e, 1));
    let contention = two.step_seconds / one.step_seconds;
    println!(
        "{what}: 1 thread {:.2} s, 2 threads {:.2} s, ratio {:.2} (target ≤ {target:.2}); the \
         steps themselves {contention:.2}× slower with both cores busy (floor {:.3})",
        one.seconds,
        two.seconds,
        two.seconds / one.seconds,
        contention / 2.0
    );
}

fn main() {
    let steps: u64 = std::env::var("GRADRACE_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut e = resolve("quick").expect("quick experiment");
    e.lanes.truncate(4);
    e.training.length = Length::Steps(steps);
    e.metrics.eval_every = 0;
    println!(
        "race benchmark: {} lanes of experiments/quick.ron, {steps} steps (GRADRACE_BENCH_STEPS), \
         the two races of each comparison advanced chunk by chunk in alternation",
        e.lanes.len()
    );

    parallel("parallel lanes", &e, 0.60);

    // Seeds: five seeds of the four lanes on two threads against one, and one seed's steps
    // in the five-seed race against a single-seed race of the same lanes (both on one thread,
    // so that the comparison is per step, not per core).
    let mut seeds = e.clone();
    seeds.seeds = Some(gradrace::config::Seeds::Count(5));
    let seed_steps = (steps / 5).max(50);
    seeds.training.length = Length::Steps(seed_steps);
    parallel(
        &format!("5 seeds × {} lanes, {seed_steps} steps", e.lanes.len()),
        &seeds,
        0.55,
    );
    let mut single = seeds.clone();
    single.seeds = None;
    let (five, alone) = seconds((&seeds, 1), (&single, 1));
    println!(
        "  one seed's steps: {:.2} ms a lane-step in the 5-seed race, {:.2} ms alone (ratio {:.2}, \
         target ≤ 1)",
        1000.0 * five / (5.0 * seed_steps as f64 * e.lanes.len() as f64),
        1000.0 * alone / (seed_steps as f64 * e.lanes.len() as f64),
        (five / 5.0) / alone
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
    without.same_trajectory = None;
    let m = with.metrics;
    let reference = with
        .same_trajectory
        .clone()
        .expect("quick.ron has a same-trajectory probe");
    let (on, off) = seconds((&with, 2), (&without, 2));
    println!(
        "metrics at the default intervals (held-out pass every {}, probe every {} with K = {} \
         at each lane's parameters and at {}'s against {} reference estimates, heat row every \
         {}), 2 threads: on {on:.2} s, off {off:.2} s, overhead {:.1}% (target ≤ 5%)",
        m.eval_every,
        m.probe_every,
        m.probe_samples,
        reference.reference_lane,
        reference.reference_samples,
        m.heat_every,
        100.0 * (on / off - 1.0)
    );
    let mut probe_only = without.clone();
    probe_only.metrics.probe_every = m.probe_every;
    probe_only.same_trajectory = Some(reference);
    let (on, off) = seconds((&probe_only, 2), (&without, 2));
    println!(
        "  of which the same-trajectory probe (with the variance probe it rides on): on {on:.2} \
         s, off {off:.2} s, overhead {:.1}%",
        100.0 * (on / off - 1.0)
    );
}
