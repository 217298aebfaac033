//! How a chunk of steps is spread over the race's threads. A thread keeps the lane it ran last
//! while that lane has steps left in the chunk, because a lane's parameters and buffers are warm
//! in that core's caches: handing lanes from thread to thread at every step made a 20-lane race
//! on 2 threads 1.3× slower than keeping them. It leaves its lane for another only when a free
//! lane has become critical, that is, when its remaining time is at least the race's remaining
//! time per thread, so that starting it any later would leave the other threads idle at the end
//! of the chunk. A thread that needs a lane takes the free one with the most time left (ties:
//! the first). Time left is steps left times the lane's measured seconds per step. Which thread
//! runs a step changes nothing in its numbers.

use std::sync::Mutex;

use super::protocol::EngineEvent;
use super::runner::{ChunkOutput, Context, LaneRunner};

/// Which lane a free thread runs next (see [`advance`]).
struct StepSchedule {
    /// Steps each lane may still do in this chunk (0 once it has ended).
    left: Vec<u64>,
    /// Each lane's estimated seconds per step.
    cost: Vec<f64>,
    /// Lanes a thread is running.
    busy: Vec<bool>,
    /// Threads sharing the chunk.
    workers: usize,
}

impl StepSchedule {
    /// Estimated seconds lane `i` still needs in this chunk.
    fn time_left(&self, i: usize) -> f64 {
        self.left[i] as f64 * self.cost[i]
    }

    /// The lane a thread runs next, marked busy, and whether its next step is the chunk's last:
    /// `prev` (the lane the thread just ran) unless it has no steps left or another free lane is
    /// critical; else the free lane with the most time left.
    fn take(&mut self, prev: Option<usize>) -> Option<(usize, bool)> {
        let free = || (0..self.left.len()).filter(|&i| !self.busy[i] && self.left[i] > 0);
        let total: f64 = (0..self.left.len()).map(|i| self.time_left(i)).sum();
        let per_thread = total / self.workers as f64;
        let keep = prev.filter(|&p| {
            self.left[p] > 0
                && !self.busy[p]
                && !free().any(|j| j != p && self.time_left(j) >= per_thread)
        });
        let next = keep.or_else(|| {
            free().max_by(|&a, &b| {
                self.time_left(a)
                    .total_cmp(&self.time_left(b))
                    .then(b.cmp(&a))
            })
        })?;
        self.busy[next] = true;
        Some((next, self.left[next] == 1))
    }

    /// Lane `i` is free again; `ran`: it did a step (else it has ended).
    fn give_back(&mut self, i: usize, ran: bool) {
        self.busy[i] = false;
        if ran {
            self.left[i] -= 1;
        } else {
            self.left[i] = 0;
        }
    }
}

/// Locks `m`, ignoring poisoning (a panicking step propagates through the pool anyway).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Advances every running lane in `lanes` by up to `steps` steps on `workers` threads of
/// `pool` (see the [module](self) documentation); returns the events in lane order.
pub(super) fn advance(
    pool: &rayon::ThreadPool,
    lanes: &mut [LaneRunner],
    steps: u64,
    ctx: &Context<'_>,
) -> Vec<EngineEvent> {
    let workers = pool.current_num_threads().min(lanes.len());
    if workers <= 1 {
        return lanes
            .iter_mut()
            .flat_map(|l| l.advance(steps, ctx))
            .collect();
    }
    let schedule = Mutex::new(StepSchedule {
        left: vec![steps; lanes.len()],
        // Lanes not measured yet (a new or resumed race) count as equally costly.
        cost: lanes
            .iter()
            .map(|l| {
                if l.step_seconds > 0.0 {
                    l.step_seconds
                } else {
                    1.0
                }
            })
            .collect(),
        busy: vec![false; lanes.len()],
        workers,
    });
    let slots: Vec<Mutex<(&mut LaneRunner, ChunkOutput)>> = lanes
        .iter_mut()
        .map(|l| Mutex::new((l, ChunkOutput::default())))
        .collect();
    let work = || {
        let mut prev = None;
        loop {
            // (A statement of its own: the schedule's lock is released before the step runs.)
            let next = lock(&schedule).take(prev);
            let Some((i, chunk_ends)) = next else {
                break;
            };
            let ran = {
                let mut slot = lock(&slots[i]);
                let (lane, out) = &mut *slot;
                lane.step(ctx, out, chunk_ends)
            };
            lock(&schedule).give_back(i, ran);
            prev = Some(i);
        }
    };
    pool.scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| work());
        }
    });
    slots
        .into_iter()
        .flat_map(|slot| {
            let (lane, out) = slot.into_inner().unwrap_or_else(|e| e.into_inner());
            lane.finish_chunk(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a chunk of `steps` steps of lanes costing `cost` seconds a step on `workers`
    /// simulated threads, each taking its next lane when its step ends; returns the chunk's
    /// length in seconds and how many times a thread changed lanes.
    fn simulate(cost: &[f64], steps: u64, workers: usize) -> (f64, usize) {
        let mut s = StepSchedule {
            left: vec![steps; cost.len()],
            cost: cost.to_vec(),
            busy: vec![false; cost.len()],
            workers,
        };
        // Per thread: when its current step ends, and its lane.
        let mut threads: Vec<(f64, Option<usize>)> = vec![(0.0, None); workers];
        let (mut end, mut switches) = (0.0f64, 0);
        loop {
            let Some(t) = (0..workers)
                .filter(|&t| threads[t].0.is_finite())
                .min_by(|&a, &b| threads[a].0.total_cmp(&threads[b].0).then(a.cmp(&b)))
            else {
                return (end, switches);
            };
            let (now, prev) = threads[t];
            if let Some(p) = prev {
                s.give_back(p, true);
            }
            end = end.max(now);
            match s.take(prev) {
                Some((i, _)) => {
                    switches += usize::from(prev.is_some_and(|p| p != i));
                    threads[t] = (now + cost[i], Some(i));
                }
                None => threads[t] = (f64::INFINITY, None),
            }
        }
    }

    /// The chunk ends when the work allows, max(total / threads, longest lane), with lanes kept
    /// on their thread: a handful of changes, not one a step.
    #[test]
    fn lanes_stay_on_their_thread_and_the_chunk_ends_on_time() {
        for (cost, workers) in [
            (vec![1.0; 3], 2),
            (vec![1.0; 5], 2),
            (vec![1.0; 20], 2),
            (vec![1.0, 1.0, 3.0], 2),
            (vec![2.0, 1.0, 1.0, 1.5, 0.5, 1.0, 3.0], 2),
            (vec![1.0; 7], 3),
        ] {
            let steps = 10;
            let (end, switches) = simulate(&cost, steps, workers);
            let total: f64 = cost.iter().map(|c| c * steps as f64).sum();
            let longest = cost.iter().fold(0.0f64, |m, c| m.max(c * steps as f64));
            let bound = (total / workers as f64).max(longest);
            let slowest = cost.iter().fold(0.0f64, |m, &c| m.max(c));
            assert!(
                end <= bound + slowest,
                "{cost:?} on {workers}: {end} s, the work allows {bound}"
            );
            assert!(
                switches <= cost.len() + 2 * workers,
                "{cost:?} on {workers}: {switches} lane changes"
            );
        }
    }
}
