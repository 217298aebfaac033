//! How a chunk of steps is spread over the race's threads: a free thread takes the free lane
//! that has done the fewest steps (ties: the first), runs one step and puts it back, so lanes
//! stay within a step of each other and a thread waits for the others only at the end of the
//! chunk, whatever the lanes cost. Which thread runs a step changes nothing in its numbers.

use std::sync::Mutex;

use super::protocol::EngineEvent;
use super::runner::{ChunkOutput, Context, LaneRunner};

/// Which lane a free thread runs next (see [`Race::advance`]).
struct StepSchedule {
    /// Steps each lane has done.
    done: Vec<u64>,
    /// Steps each lane may still do in this chunk (0 once it has ended).
    left: Vec<u64>,
    /// Lanes a thread is running.
    busy: Vec<bool>,
}

impl StepSchedule {
    /// The free lane with steps left that has done the fewest steps, marked busy, and whether
    /// its next step is the chunk's last.
    fn take(&mut self) -> Option<(usize, bool)> {
        let next = (0..self.done.len())
            .filter(|&i| !self.busy[i] && self.left[i] > 0)
            .min_by_key(|&i| (self.done[i], i))?;
        self.busy[next] = true;
        Some((next, self.left[next] == 1))
    }

    /// Lane `i` is free again; `ran`: it did a step (else it has ended).
    fn give_back(&mut self, i: usize, ran: bool) {
        self.busy[i] = false;
        if ran {
            self.done[i] += 1;
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
        done: lanes.iter().map(|l| l.lane.steps()).collect(),
        left: vec![steps; lanes.len()],
        busy: vec![false; lanes.len()],
    });
    let slots: Vec<Mutex<(&mut LaneRunner, ChunkOutput)>> = lanes
        .iter_mut()
        .map(|l| Mutex::new((l, ChunkOutput::default())))
        .collect();
    let work = || loop {
        // (The schedule's lock is released before the step runs.)
        let Some((i, chunk_ends)) = lock(&schedule).take() else {
            break;
        };
        let ran = {
            let mut slot = lock(&slots[i]);
            let (lane, out) = &mut *slot;
            lane.step(ctx, out, chunk_ends)
        };
        lock(&schedule).give_back(i, ran);
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
