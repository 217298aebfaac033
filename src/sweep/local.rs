//! Running a sweep's runs on this machine: as many runs at once as the cores hold, each run's
//! lanes on its own rayon pool, the next run starting as soon as one ends. The engine gives the
//! same results whatever the thread count, so how the cores are shared changes nothing but the
//! time. A [`StopSignal`] ends every running race (each saves its session as it stands, to be
//! raced again) and starts no new one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::SweepError;
use super::directory::SweepDir;
use super::expand::Run;
use super::run::{Outcome, StopSignal, execute, work};
use crate::data::DataSplit;

/// What the local runner reports to its observer.
#[derive(Debug)]
pub enum Event {
    /// Run `run` (its index) started; it has `work` lane-steps to do.
    Started {
        /// The run's index.
        run: usize,
        /// Its lane-steps.
        work: u64,
    },
    /// Run `run` has done `done` lane-steps.
    Progress {
        /// The run's index.
        run: usize,
        /// Lane-steps done.
        done: u64,
    },
    /// Run `run` ended.
    Finished {
        /// The run's index.
        run: usize,
        /// How (or why it failed).
        outcome: Result<Outcome, SweepError>,
    },
}

/// How the cores are shared: runs at once and threads per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sharing {
    /// Runs raced at the same time.
    pub jobs: usize,
    /// Threads of each run's pool.
    pub threads: usize,
}

impl Sharing {
    /// On `cores` cores, for runs of at most `lanes` lane races each: threads per run as asked,
    /// else as many as a run has lanes (at most the cores); runs at once as asked, else as many
    /// as fill the cores.
    pub fn fit(cores: usize, lanes: usize, jobs: Option<usize>, threads: Option<usize>) -> Self {
        let cores = cores.max(1);
        let threads = threads
            .filter(|t| *t > 0)
            .unwrap_or_else(|| lanes.clamp(1, cores));
        let jobs = jobs.filter(|j| *j > 0).unwrap_or((cores / threads).max(1));
        Sharing { jobs, threads }
    }
}

/// The cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Races `todo` on `data`, saving each run's session in `dir`, shared as `sharing` says, with
/// checkpoints when `checkpoint`; tells `observer` what happens (on the calling thread).
/// Returns the runs that ended, with their outcome, in the order they ended.
pub fn run_local(
    todo: &[&Run],
    dir: &SweepDir,
    data: Arc<DataSplit>,
    sharing: Sharing,
    checkpoint: bool,
    stop: &Arc<StopSignal>,
    observer: &mut dyn FnMut(&Event),
) -> Vec<(usize, Result<Outcome, String>)> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::unbounded::<Event>();
    let train = data.train.len();
    let mut ended = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..sharing.jobs.min(todo.len()) {
            let tx = tx.clone();
            let (next, data, stop) = (&next, &data, stop);
            scope.spawn(move || {
                loop {
                    if stop.is_stopped() {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(run) = todo.get(i) else {
                        return;
                    };
                    let index = run.index;
                    let _ = tx.send(Event::Started {
                        run: index,
                        work: work(&run.experiment, train),
                    });
                    let mut last = Instant::now();
                    let mut progress = |done: u64| {
                        if last.elapsed() >= Duration::from_millis(100) {
                            last = Instant::now();
                            let _ = tx.send(Event::Progress { run: index, done });
                        }
                    };
                    let outcome = execute(
                        &run.experiment,
                        &run.id,
                        &dir.session(run),
                        Arc::clone(data),
                        sharing.threads,
                        checkpoint,
                        stop,
                        &mut progress,
                    );
                    let _ = tx.send(Event::Finished {
                        run: index,
                        outcome,
                    });
                }
            });
        }
        drop(tx);
        for event in rx.iter() {
            observer(&event);
            if let Event::Finished { run, outcome } = event {
                ended.push((run, outcome.map_err(|e| e.to_string())));
            }
        }
    });
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_share_the_cores() {
        // One-lane runs on two cores: two at once, one thread each.
        assert_eq!(
            Sharing::fit(2, 1, None, None),
            Sharing {
                jobs: 2,
                threads: 1
            }
        );
        // Three-lane runs on two cores: one at a time on both cores.
        assert_eq!(Sharing::fit(2, 3, None, None).jobs, 1);
        assert_eq!(Sharing::fit(2, 3, None, None).threads, 2);
        // Eight cores, two-lane runs: four at once.
        assert_eq!(Sharing::fit(8, 2, None, None).jobs, 4);
        // As asked.
        assert_eq!(
            Sharing::fit(8, 2, Some(3), Some(1)),
            Sharing {
                jobs: 3,
                threads: 1
            }
        );
    }
}
