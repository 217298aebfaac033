//! Timing discipline of the benchmarks: competing variants run interleaved, round by round, and
//! each keeps its best round, so a burst of load from other processes on a shared machine
//! penalises neither variant more than the other.

use std::time::Instant;

/// Rounds and repetitions of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    /// Interleaved rounds (each variant keeps its fastest).
    pub rounds: usize,
    /// Repetitions timed together within a round.
    pub reps: usize,
}

/// Seconds per repetition of each variant: the fastest of `budget.rounds` interleaved rounds of
/// `budget.reps` back-to-back repetitions, after one untimed warm-up round.
pub fn interleaved<const V: usize>(
    budget: Budget,
    variants: &mut [&mut dyn FnMut(); V],
) -> [f64; V] {
    let mut best = [f64::INFINITY; V];
    for round in 0..=budget.rounds {
        for (v, f) in variants.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..budget.reps.max(1) {
                f();
            }
            let per = started.elapsed().as_secs_f64() / budget.reps.max(1) as f64;
            if round > 0 {
                best[v] = best[v].min(per);
            }
        }
    }
    best
}
