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
        let free: Vec<usize> = (0..self.left.len())
            .filter(|&i| !self.busy[i] && self.left[i] > 0)
            .collect();
        let total: f64 = (0..self.left.len()).map(|i| self.time_left(i)).sum();
        let per_thread = total / self.workers as f64;
        let keep = prev.filter(|&p| {
            self.left[p] > 0
                && !self.busy[p]
                && !free
                    .iter()
                    .any(|&j| j != p && self.time_left(j) >= per_thread)
        });
        let next = keep.or_else(|| {
            free.iter().copied().max_by(|&a, &b| {
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
