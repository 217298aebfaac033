//! The race: every lane trains the same network on the same minibatches in the same order, and
//! the lanes advance in parallel on a rayon pool, chunk by chunk, between two looks at the
//! controls (pause, resume, single step, stop, pace). Within a chunk the threads share the
//! lanes step by step (see [`Race::advance`]).
//!
//! Seed discipline: the initial parameters come from `rng_for(seed, "init")`, the minibatch order
//! from `derive_seed(seed, "minibatches")`, each lane's gate noise from
//! `rng_for(seed, "lane/<name>")` and each variance probe from `rng_for(seed,
//! "probe/<name>/<step>")`. Nothing in a lane depends on thread scheduling or on the other lanes,
//! so results are identical with any number of threads and when lanes are added or removed.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::{LaneCheckpoint, RaceCheckpoint};
use super::lane::{Lane, ProbeBuffers};
use super::metrics::{ClassFiring, EvalPoint, HeatRow, LaneStatus, ProbePoint, StepPoint};
use crate::config::{Experiment, LaneSettings, MetricsSpec};
use crate::data::{CLASSES, DataSplit, MinibatchSchedule, permutation};
use crate::estimators::Family;
use crate::net::GatedNet;
use crate::seed::{derive_seed, rng_for};

/// Examples per chunk of the held-out evaluation.
const EVAL_CHUNK: usize = 500;

/// What the race is, for every consumer (dashboard, headless, sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceInfo {
    /// Experiment name.
    pub experiment: String,
    /// Experiment description.
    pub description: String,
    /// Data set name.
    pub data: String,
    /// Training examples.
    pub train_examples: usize,
    /// Held-out examples.
    pub heldout_examples: usize,
    /// Input dimension.
    pub input_dim: usize,
    /// Gater hidden units.
    pub gater_hidden: usize,
    /// Experts (= gates).
    pub experts: usize,
    /// Classes.
    pub classes: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Planned steps.
    pub total_steps: u64,
    /// Steps per epoch.
    pub steps_per_epoch: u64,
    /// Seed.
    pub seed: u64,
    /// Target firing rate.
    pub sparsity_target: f32,
}

/// One lane's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneInfo {
    /// Lane name.
    pub name: String,
    /// Estimator description, e.g. "straight-through (identity)".
    pub estimator: String,
    /// Estimator family.
    pub family: Family,
    /// The settings it trains with.
    pub settings: LaneSettings,
}

/// A control sent to a running race.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// Stop advancing until `Resume` or `Step`.
    Pause,
    /// Continue.
    Resume,
    /// Advance every lane by exactly one step, then stay paused.
    Step,
    /// End every lane now.
    Stop,
    /// Limit the race to this many steps per second (None: as fast as possible).
    SetPace(Option<f64>),
    /// Take a checkpoint between two chunks and send it as [`EngineEvent::Checkpoint`] with this
    /// request number (also while paused). Events are ordered, so a consumer that has applied
    /// every event before the checkpoint holds exactly the history that goes with it.
    Checkpoint(u64),
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The race begins.
    Started {
        /// The race.
        info: RaceInfo,
        /// The lanes, in order.
        lanes: Vec<LaneInfo>,
    },
    /// Training metrics of consecutive steps of one lane.
    Steps {
        /// Lane index.
        lane: usize,
        /// One point per step.
        points: Vec<StepPoint>,
    },
    /// A held-out evaluation.
    Eval {
        /// Lane index.
        lane: usize,
        /// The result.
        point: EvalPoint,
    },
    /// An estimator-variance probe.
    Probe {
        /// Lane index.
        lane: usize,
        /// The result.
        point: ProbePoint,
    },
    /// Per-unit firing rates over the last window.
    Heat {
        /// Lane index.
        lane: usize,
        /// The row.
        row: HeatRow,
    },
    /// Per-class firing rates since the previous snapshot.
    ClassFiring {
        /// Lane index.
        lane: usize,
        /// The snapshot.
        snapshot: ClassFiring,
    },
    /// A lane changed status (diverged, stopped, done).
    Status {
        /// Lane index.
        lane: usize,
        /// New status.
        status: LaneStatus,
    },
    /// The race was paused (true) or resumed (false).
    Paused(bool),
    /// Every lane has ended.
    Finished,
    /// The race continues from a checkpoint (sent instead of `Started`): consumers keep the
    /// history they loaded with the checkpoint and append to it.
    Resumed {
        /// The race (its planned length may differ from the checkpointed one).
        info: RaceInfo,
        /// The lanes, in order.
        lanes: Vec<LaneInfo>,
    },
    /// The complete state of the race after every event sent before this one.
    Checkpoint {
        /// The number of the [`Command::Checkpoint`] that asked for it; `None` for the
        /// checkpoint sent after `Finished` when [`Race::set_final_checkpoint`] is on.
        request: Option<u64>,
        /// The state.
        checkpoint: Arc<RaceCheckpoint>,
    },
}

/// Shared, read-only inputs of a chunk.
struct Context<'a> {
    data: &'a DataSplit,
    metrics: MetricsSpec,
    total_steps: u64,
    seed: u64,
    probe_x: &'a Array2<f32>,
    probe_y: &'a [u8],
}

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

/// What a lane produced during one chunk.
#[derive(Default)]
struct ChunkOutput {
    points: Vec<StepPoint>,
    events: Vec<EngineEvent>,
    /// At least one training step ran.
    stepped: bool,
}

/// A lane plus what the race keeps for it.
struct LaneRunner {
    index: usize,
    info: LaneInfo,
    lane: Lane,
    schedule: MinibatchSchedule,
    x: Array2<f32>,
    y: Vec<u8>,
    status: LaneStatus,
    unit_fired: Vec<u32>,
    heat_steps: u32,
    class_fired: Vec<u32>,
    class_seen: [u32; CLASSES],
    probe_buffers: ProbeBuffers,
}

impl LaneRunner {
    /// Advances the lane by up to `steps` steps on this thread and returns its events.
    fn advance(&mut self, steps: u64, ctx: &Context<'_>) -> Vec<EngineEvent> {
        let mut out = ChunkOutput::default();
        for k in 0..steps {
            if !self.step(ctx, &mut out, k + 1 == steps) {
                break;
            }
        }
        self.finish_chunk(out)
    }

    /// One training step with its metrics, recorded in `out`; false (doing nothing) when the
    /// lane has ended. The step leaves the lane's weights up to date (applying an update the
    /// lane deferred, within the step's measured time) when something reads them after it: an
    /// evaluation, a probe, or the end of the chunk (`chunk_ends`).
    fn step(&mut self, ctx: &Context<'_>, out: &mut ChunkOutput, chunk_ends: bool) -> bool {
        let m = ctx.metrics;
        let events = &mut out.events;
        if !self.status.is_running() {
            return false;
        }
        let done = self.lane.steps();
        if done >= ctx.total_steps {
            self.set_status(LaneStatus::Done, events);
            return false;
        }
        let batch = self.schedule.batch_at(done);
        ctx.data.train.gather_into(batch, &mut self.x, &mut self.y);
        let step = done + 1;
        let last = step == ctx.total_steps;
        let probes = m.probe_every > 0 && step.is_multiple_of(m.probe_every);
        let evaluates = (m.eval_every > 0 && step.is_multiple_of(m.eval_every)) || last;
        let started = Instant::now();
        let stats = self.lane.train_step(self.x.view(), &self.y);
        if probes || evaluates || chunk_ends {
            self.lane.apply_pending_update();
        }
        let seconds = started.elapsed().as_secs_f32();
        if !stats.cross_entropy.is_finite() {
            self.set_status(LaneStatus::Diverged { step }, events);
            return false;
        }
        out.stepped = true;
        if m.heat_every > 0 {
            self.count_firing();
        }
        out.points.push(StepPoint {
            step,
            count: 1,
            cross_entropy: stats.cross_entropy,
            sparsity_penalty: stats.sparsity_penalty,
            accuracy: stats.accuracy(),
            firing_rate: stats.firing_rate,
            sparsity_weight: stats.sparsity_weight,
            dense_main_macs: stats.dense_main_macs as f64,
            active_main_macs: stats.active_main_macs as f64,
            gater_macs: stats.gater_macs as f64,
            seconds,
        });
        if m.heat_every > 0 && (step.is_multiple_of(m.heat_every) || last) {
            events.push(EngineEvent::Heat {
                lane: self.index,
                row: self.heat_row(step),
            });
        }
        if probes && let Some(point) = self.probe(step, ctx) {
            events.push(EngineEvent::Probe {
                lane: self.index,
                point,
            });
        }
        if evaluates {
            let e = self.lane.evaluate(&ctx.data.heldout, EVAL_CHUNK);
            events.push(EngineEvent::Eval {
                lane: self.index,
                point: EvalPoint {
                    step,
                    count: 1,
                    loss: e.loss,
                    error: e.error,
                    firing_rate: e.firing_rate,
                },
            });
            if m.heat_every > 0 {
                events.push(EngineEvent::ClassFiring {
                    lane: self.index,
                    snapshot: self.class_snapshot(step),
                });
            }
        }
        if last {
            self.set_status(LaneStatus::Done, events);
            return false;
        }
        true
    }

    /// The events of a chunk: the steps' points first, then the other events in the order
    /// they happened; a lane whose parameters stopped being finite is marked diverged.
    fn finish_chunk(&mut self, mut out: ChunkOutput) -> Vec<EngineEvent> {
        // The divergence check below and checkpoints read the weights between chunks. The last
        // step of a chunk has brought them up to date; a lane that ended early may not have.
        self.lane.apply_pending_update();
        if out.stepped && self.status.is_running() && !self.lane.net.is_finite() {
            let step = self.lane.steps();
            self.set_status(LaneStatus::Diverged { step }, &mut out.events);
        }
        if !out.points.is_empty() {
            out.events.insert(
                0,
                EngineEvent::Steps {
                    lane: self.index,
                    points: out.points,
                },
            );
        }
        out.events
    }

    fn set_status(&mut self, status: LaneStatus, events: &mut Vec<EngineEvent>) {
        self.status = status;
        events.push(EngineEvent::Status {
            lane: self.index,
            status,
        });
    }

    /// Adds the last step's gates to the firing counters (per unit; per class and unit, stored
    /// class-major: class c, unit i at c·N + i).
    fn count_firing(&mut self) {
        let units = self.lane.net.units();
        let y = &self.y;
        if let Some(active) = self.lane.last_active_gates() {
            // The gated kernels listed the gates that are on: count only those.
            for (b, i) in active {
                self.unit_fired[i] += 1;
                self.class_fired[y[b] as usize * units + i] += 1;
            }
        } else {
            // Unit by unit (the gates are stored column-major: a unit's B gates adjacent),
            // without branches: a gate that is off adds 0.
            let gates = self.lane.last_gates();
            for (i, column) in gates.columns().into_iter().enumerate() {
                let mut fired = 0;
                for (&h, &label) in column.iter().zip(y) {
                    let on = u32::from(h != 0.0);
                    fired += on;
                    self.class_fired[label as usize * units + i] += on;
                }
                self.unit_fired[i] += fired;
            }
        }
        for &label in y {
            self.class_seen[label as usize] += 1;
        }
        self.heat_steps += y.len() as u32;
    }

    fn heat_row(&mut self, step: u64) -> HeatRow {
        let n = self.heat_steps.max(1) as f32;
        let rates = self
            .unit_fired
            .iter()
            .map(|&c| (255.0 * c as f32 / n).round() as u8)
            .collect();
        self.unit_fired.fill(0);
        self.heat_steps = 0;
        HeatRow {
            step,
            count: 1,
            rates,
        }
    }

    fn class_snapshot(&mut self, step: u64) -> ClassFiring {
        let units = self.unit_fired.len();
        let mut rates = vec![0u8; CLASSES * units];
        for class in 0..CLASSES {
            let seen = self.class_seen[class];
            if seen == 0 {
                continue;
            }
            for i in 0..units {
                let r = self.class_fired[class * units + i] as f32 / seen as f32;
                rates[class * units + i] = (255.0 * r).round() as u8;
            }
        }
        self.class_fired.fill(0);
        self.class_seen = [0; CLASSES];
        ClassFiring {
            step,
            classes: CLASSES,
            units,
            rates,
        }
    }

    fn probe(&mut self, step: u64, ctx: &Context<'_>) -> Option<ProbePoint> {
        let mut rng = rng_for(ctx.seed, &format!("probe/{}/{step}", self.info.name));
        let (variance, signal) = self.lane.probe_with(
            ctx.probe_x.view(),
            ctx.probe_y,
            ctx.metrics.probe_samples,
            &mut rng,
            &mut self.probe_buffers,
        )?;
        Some(ProbePoint {
            step,
            count: 1,
            variance,
            signal,
        })
    }
}

/// A race ready to run.
pub struct Race {
    info: RaceInfo,
    metrics: MetricsSpec,
    data: Arc<DataSplit>,
    lanes: Vec<LaneRunner>,
    pool: rayon::ThreadPool,
    probe_x: Array2<f32>,
    probe_y: Vec<u8>,
    /// Continues from a checkpoint: `run` opens with `Resumed` and these status changes.
    resumed: Option<Vec<EngineEvent>>,
    final_checkpoint: bool,
    /// Checkpoints handed back once saved, whose memory the next checkpoint reuses.
    recycled: (Sender<RaceCheckpoint>, Receiver<RaceCheckpoint>),
}

/// A race running on its own thread.
pub struct RaceHandle {
    /// Send controls here.
    pub commands: Sender<Command>,
    /// Receive events here.
    pub events: Receiver<EngineEvent>,
    /// Joins the engine thread and gives the race back (for checkpoints).
    pub thread: JoinHandle<Race>,
}

impl Race {
    /// Sets up the lanes of `experiment` on `data`, with a pool of `threads` threads
    /// (0: one per core), and never more threads than lanes: a lane's steps run one at a time.
    pub fn new(
        experiment: &Experiment,
        data: Arc<DataSplit>,
        threads: usize,
    ) -> Result<Race, String> {
        let seed = experiment.seed;
        let input_dim = data.train.input_dim();
        let batch = experiment.training.batch_size;
        if data.train.is_empty() || data.heldout.is_empty() {
            return Err("the data set has an empty training or held-out part".into());
        }
        let init = GatedNet::init(
            input_dim,
            CLASSES,
            &experiment.network,
            &mut rng_for(seed, "init"),
        );
        let total_steps = experiment.total_steps(data.train.len());
        let schedule =
            MinibatchSchedule::new(data.train.len(), batch, derive_seed(seed, "minibatches"));
        let units = experiment.network.experts;
        let lanes: Vec<LaneRunner> = experiment
            .lanes
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let settings = experiment.lane_settings(spec);
                let mut lane = Lane::new(
                    init.clone(),
                    settings,
                    rng_for(seed, &format!("lane/{}", spec.name)),
                );
                // The runner brings the weights up to date wherever it reads them.
                lane.set_deferred_expert_steps(true);
                LaneRunner {
                    index,
                    info: LaneInfo {
                        name: spec.name.clone(),
                        estimator: lane.estimator().describe(),
                        family: spec.estimator.family(),
                        settings,
                    },
                    lane,
                    schedule: schedule.clone(),
                    x: crate::nn::aligned::aligned_zeros(
                        batch.min(data.train.len()),
                        input_dim,
                        false,
                    ),
                    y: Vec::with_capacity(batch),
                    status: LaneStatus::Running,
                    unit_fired: vec![0; units],
                    heat_steps: 0,
                    class_fired: vec![0; units * CLASSES],
                    class_seen: [0; CLASSES],
                    probe_buffers: ProbeBuffers::default(),
                }
            })
            .collect();
        let probe_n = experiment.metrics.probe_batch.min(data.train.len());
        let order = permutation(data.train.len(), &mut rng_for(seed, "probe-batch"));
        let (probe_x, probe_y) = data.train.gather(&order[..probe_n]);
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.clamp(1, lanes.len().max(1)))
            .thread_name(|i| format!("gradrace-lane-{i}"))
            .build()
            .map_err(|e| format!("cannot start the thread pool: {e}"))?;
        let info = RaceInfo {
            experiment: experiment.name.clone(),
            description: experiment.description.clone(),
            data: data.name.clone(),
            train_examples: data.train.len(),
            heldout_examples: data.heldout.len(),
            input_dim,
            gater_hidden: experiment.network.gater_hidden,
            experts: units,
            classes: CLASSES,
            batch_size: batch,
            total_steps,
            steps_per_epoch: schedule.steps_per_epoch(),
            seed,
            sparsity_target: experiment.training.sparsity_target,
        };
        Ok(Race {
            info,
            metrics: experiment.metrics,
            data,
            lanes,
            pool,
            probe_x,
            probe_y,
            resumed: None,
            final_checkpoint: false,
            recycled: crossbeam_channel::unbounded(),
        })
    }

    /// Sets up `experiment` on `data` like [`Race::new`], then puts every lane in the state of
    /// `checkpoint` (taken from a race of the same experiment on the same data; the planned length
    /// may differ). Lanes stopped by the user, and finished lanes that the planned length now
    /// lets continue, run again; diverged lanes stay diverged. `run` then opens with
    /// [`EngineEvent::Resumed`] followed by the status of every lane that runs again.
    pub fn resume(
        experiment: &Experiment,
        data: Arc<DataSplit>,
        checkpoint: RaceCheckpoint,
        threads: usize,
    ) -> Result<Race, String> {
        let mut race = Race::new(experiment, data, threads)?;
        if checkpoint.lanes.len() != race.lanes.len() {
            return Err(format!(
                "the checkpoint has {} lanes, the experiment {}",
                checkpoint.lanes.len(),
                race.lanes.len()
            ));
        }
        let total = race.info.total_steps;
        let mut opening = Vec::new();
        for (runner, saved) in race.lanes.iter_mut().zip(checkpoint.lanes) {
            let name = &runner.info.name;
            if saved.name != *name {
                return Err(format!(
                    "lane {}: the checkpoint has \"{}\" there, the experiment \"{name}\"",
                    runner.index + 1,
                    saved.name
                ));
            }
            let units = runner.unit_fired.len();
            if saved.unit_fired.len() != units || saved.class_fired.len() != units * CLASSES {
                return Err(format!(
                    "lane \"{name}\": firing counters for {} / {} gate units, the network has {units}",
                    saved.unit_fired.len(),
                    saved.class_fired.len() / CLASSES
                ));
            }
            let steps = saved.state.steps;
            runner
                .lane
                .restore(saved.state)
                .map_err(|e| format!("lane \"{name}\": {e}"))?;
            runner.unit_fired = saved.unit_fired;
            runner.heat_steps = saved.heat_steps;
            runner.class_fired = saved.class_fired;
            runner.class_seen = saved.class_seen;
            runner.status = match saved.status {
                LaneStatus::Stopped { .. } | LaneStatus::Done if steps < total => {
                    LaneStatus::Running
                }
                LaneStatus::Running if steps >= total => LaneStatus::Done,
                s => s,
            };
            if runner.status != saved.status {
                opening.push(EngineEvent::Status {
                    lane: runner.index,
                    status: runner.status,
                });
            }
        }
        race.resumed = Some(opening);
        Ok(race)
    }

    /// A copy of the state of every lane. The lanes are copied in parallel on the race's pool,
    /// into the memory of a checkpoint handed back through [`Race::recycler`] when there is one:
    /// this copy is all a running race pauses for.
    pub fn checkpoint(&self) -> RaceCheckpoint {
        let mut spare = None;
        while let Ok(c) = self.recycled.1.try_recv() {
            spare = Some(c);
        }
        let mut lanes = match spare {
            Some(c) if c.lanes.len() == self.lanes.len() => c.lanes,
            _ => Vec::new(),
        };
        if lanes.is_empty() {
            return RaceCheckpoint {
                lanes: self.pool.install(|| {
                    self.lanes
                        .par_iter()
                        .map(|r| LaneCheckpoint {
                            name: r.info.name.clone(),
                            state: r.lane.checkpoint(),
                            status: r.status,
                            unit_fired: r.unit_fired.clone(),
                            heat_steps: r.heat_steps,
                            class_fired: r.class_fired.clone(),
                            class_seen: r.class_seen,
                        })
                        .collect()
                }),
            };
        }
        self.pool.install(|| {
            lanes
                .par_iter_mut()
                .zip(self.lanes.par_iter())
                .for_each(|(c, r)| {
                    c.name.clone_from(&r.info.name);
                    r.lane.checkpoint_into(&mut c.state);
                    c.status = r.status;
                    c.unit_fired.clone_from(&r.unit_fired);
                    c.heat_steps = r.heat_steps;
                    c.class_fired.clone_from(&r.class_fired);
                    c.class_seen = r.class_seen;
                })
        });
        RaceCheckpoint { lanes }
    }

    /// Where to hand back a checkpoint that is no longer needed, so that the next one reuses its
    /// memory instead of allocating (and faulting in) a fresh copy of every lane.
    pub fn recycler(&self) -> Sender<RaceCheckpoint> {
        self.recycled.0.clone()
    }

    /// Takes a checkpoint now and keeps it for reuse: call before a race that will be
    /// checkpointed while it runs, so that even the first checkpoint is only a copy.
    pub fn prepare_checkpoints(&self) {
        let _ = self.recycled.0.send(self.checkpoint());
    }

    /// With `true`, `run` sends a [`EngineEvent::Checkpoint`] (request `None`) right after
    /// `Finished`, so that a consumer can save the race as it ended.
    pub fn set_final_checkpoint(&mut self, on: bool) {
        self.final_checkpoint = on;
    }

    /// True for a race set up by [`Race::resume`].
    pub fn is_resumed(&self) -> bool {
        self.resumed.is_some()
    }

    /// The race's description.
    pub fn info(&self) -> &RaceInfo {
        &self.info
    }

    /// The threads the lanes' steps run on.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The lanes' descriptions.
    pub fn lane_infos(&self) -> Vec<LaneInfo> {
        self.lanes.iter().map(|l| l.info.clone()).collect()
    }

    /// The lanes themselves (parameters, estimator state), in order.
    pub fn lanes(&self) -> impl Iterator<Item = &Lane> {
        self.lanes.iter().map(|l| &l.lane)
    }

    /// Each lane's status.
    pub fn statuses(&self) -> Vec<LaneStatus> {
        self.lanes.iter().map(|l| l.status).collect()
    }

    /// True when no lane is still running.
    pub fn is_finished(&self) -> bool {
        self.lanes.iter().all(|l| !l.status.is_running())
    }

    /// The event that opens a race.
    pub fn started_event(&self) -> EngineEvent {
        EngineEvent::Started {
            info: self.info.clone(),
            lanes: self.lane_infos(),
        }
    }

    /// The events that open `run`: `Started`, or for a resumed race `Resumed` and the status of
    /// every lane that runs again.
    pub fn opening_events(&self) -> Vec<EngineEvent> {
        match &self.resumed {
            None => vec![self.started_event()],
            Some(statuses) => {
                let mut events = vec![EngineEvent::Resumed {
                    info: self.info.clone(),
                    lanes: self.lane_infos(),
                }];
                events.extend(statuses.iter().cloned());
                events
            }
        }
    }

    /// Advances every running lane by up to `steps` steps, in parallel; returns the events in
    /// lane order.
    ///
    /// The pool's threads share the lanes step by step: a free thread takes the free lane that
    /// has done the fewest steps (ties: the first), runs one step and puts it back. Lanes thus
    /// stay within a step of each other, and a thread waits for the others only at the end of
    /// the chunk, whatever the lanes cost — with lanes of unequal cost, handing each thread
    /// whole lanes would leave one thread idle while the other finishes the slow lanes. Which
    /// thread runs a step changes nothing in its numbers.
    pub fn advance(&mut self, steps: u64) -> Vec<EngineEvent> {
        let ctx = Context {
            data: &self.data,
            metrics: self.metrics,
            total_steps: self.info.total_steps,
            seed: self.info.seed,
            probe_x: &self.probe_x,
            probe_y: &self.probe_y,
        };
        let workers = self.pool.current_num_threads().min(self.lanes.len());
        if workers <= 1 {
            return self
                .lanes
                .iter_mut()
                .flat_map(|l| l.advance(steps, &ctx))
                .collect();
        }
        let schedule = Mutex::new(StepSchedule {
            done: self.lanes.iter().map(|l| l.lane.steps()).collect(),
            left: vec![steps; self.lanes.len()],
            busy: vec![false; self.lanes.len()],
        });
        let slots: Vec<Mutex<(&mut LaneRunner, ChunkOutput)>> = self
            .lanes
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
                lane.step(&ctx, out, chunk_ends)
            };
            lock(&schedule).give_back(i, ran);
        };
        self.pool.scope(|s| {
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

    /// Marks every running lane as stopped.
    pub fn stop(&mut self) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        for l in &mut self.lanes {
            if l.status.is_running() {
                let step = l.lane.steps();
                l.set_status(LaneStatus::Stopped { step }, &mut events);
            }
        }
        events
    }

    /// Runs to the end (or until `Stop`), obeying `commands` and sending every event to
    /// `events`. A consumer that went away does not stop the race; a dropped command channel
    /// means "no more commands".
    pub fn run(&mut self, commands: &Receiver<Command>, events: &Sender<EngineEvent>) {
        let send = |e: EngineEvent| {
            let _ = events.send(e);
        };
        self.opening_events().into_iter().for_each(send);
        let finish = |race: &Race| {
            send(EngineEvent::Finished);
            if race.final_checkpoint {
                send(EngineEvent::Checkpoint {
                    request: None,
                    checkpoint: Arc::new(race.checkpoint()),
                });
            }
        };
        let mut paused = false;
        let mut pace: Option<f64> = None;
        let mut commands_open = true;
        loop {
            let mut single_step = false;
            // Look at the controls: block only while paused.
            loop {
                let next = if paused && commands_open {
                    commands.recv().map_err(|_| ())
                } else {
                    commands.try_recv().map_err(|_| ())
                };
                let Ok(cmd) = next else {
                    if paused && commands_open {
                        // The controller is gone: nobody can resume, so carry on.
                        commands_open = false;
                        paused = false;
                    }
                    break;
                };
                match cmd {
                    Command::Pause => {
                        if !paused {
                            paused = true;
                            send(EngineEvent::Paused(true));
                        }
                    }
                    Command::Resume => {
                        if paused {
                            paused = false;
                            send(EngineEvent::Paused(false));
                        }
                    }
                    Command::Step => {
                        if !paused {
                            paused = true;
                            send(EngineEvent::Paused(true));
                        }
                        single_step = true;
                        break;
                    }
                    Command::Stop => {
                        self.stop().into_iter().for_each(send);
                        finish(self);
                        return;
                    }
                    Command::SetPace(p) => pace = p.filter(|v| *v > 0.0 && v.is_finite()),
                    Command::Checkpoint(request) => send(EngineEvent::Checkpoint {
                        request: Some(request),
                        checkpoint: Arc::new(self.checkpoint()),
                    }),
                }
            }
            if self.is_finished() {
                finish(self);
                return;
            }
            let steps = if single_step {
                1
            } else {
                match pace {
                    Some(p) => (p * 0.05).clamp(1.0, self.metrics.chunk_steps as f64) as u64,
                    None => self.metrics.chunk_steps,
                }
            };
            let started = Instant::now();
            self.advance(steps).into_iter().for_each(send);
            if let (Some(p), false) = (pace, single_step) {
                let want = Duration::from_secs_f64(steps as f64 / p);
                if let Some(rest) = want.checked_sub(started.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
        }
    }

    /// Starts the race on its own thread.
    pub fn spawn(mut self) -> RaceHandle {
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, ev_rx) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("gradrace-engine".into())
            .spawn(move || {
                self.run(&cmd_rx, &ev_tx);
                self
            })
            .expect("the engine thread starts");
        RaceHandle {
            commands: cmd_tx,
            events: ev_rx,
            thread,
        }
    }
}
