//! The race: every lane trains the same network on the same minibatches in the same order, and
//! the lanes advance in parallel on a rayon pool, chunk by chunk, between two looks at the
//! controls (pause, resume, single step, stop, pace). Within a chunk the threads share the
//! lanes step by step (see [`super::scheduler`]).
//!
//! Seed discipline: the initial parameters come from `rng_for(seed, "init")`, the minibatch order
//! from `derive_seed(seed, "minibatches")`, each lane's gate noise from
//! `rng_for(seed, "lane/<name>")` and each variance probe from `rng_for(seed,
//! "probe/<name>/<step>")`. Nothing in a lane depends on thread scheduling or on the other lanes,
//! so results are identical with any number of threads and when lanes are added or removed.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use ndarray::Array2;
use rayon::prelude::*;

use super::checkpoint::{LaneCheckpoint, RaceCheckpoint};
use super::error::RaceError;
use super::lane::{Lane, ProbeBuffers};
use super::metrics::{LaneStatus, TrajectoryPoint};
use super::protocol::{Control, EngineEvent, LaneInfo, RaceInfo};
use super::runner::{Context, LaneRunner};
use super::scheduler;
use crate::config::{Experiment, MetricsSpec};
use crate::data::{CLASSES, DataSplit, MinibatchSchedule, permutation};
use crate::net::GatedNet;
use crate::seed::{derive_seed, rng_for};

/// A race ready to run.
pub struct Race {
    info: RaceInfo,
    metrics: MetricsSpec,
    data: Arc<DataSplit>,
    lanes: Vec<LaneRunner>,
    pool: rayon::ThreadPool,
    /// Per seed: the fixed probe minibatch.
    probes: Vec<(Array2<f32>, Vec<u8>)>,
    /// Lanes of the experiment (the runners are every lane for each seed in turn).
    lanes_per_seed: usize,
    /// The same-trajectory probe: the reference lane's index (among one seed's lanes) and the
    /// reference gradient's estimates.
    same_trajectory: Option<(usize, usize)>,
    /// The reference lane's step at the last same-trajectory probe (or at the start).
    trajectory_probed_at: u64,
    /// Continues from a checkpoint: `run` opens with `Resumed` and these status changes.
    resumed: Option<Vec<EngineEvent>>,
    final_checkpoint: bool,
    /// Checkpoints handed back once saved, whose memory the next checkpoint reuses.
    recycled: (Sender<RaceCheckpoint>, Receiver<RaceCheckpoint>),
}

/// A race running on its own thread.
pub struct RaceHandle {
    /// Send controls here.
    pub commands: Sender<Control>,
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
    ) -> Result<Race, RaceError> {
        let seeds = experiment.seed_list();
        let input_dim = data.train.input_dim();
        let batch = experiment.training.batch_size;
        if data.train.is_empty() || data.heldout.is_empty() {
            return Err(RaceError::EmptyData);
        }
        let total_steps = experiment.total_steps(data.train.len());
        let units = experiment.network.experts;
        let mut lanes = Vec::with_capacity(seeds.len() * experiment.lanes.len());
        let mut probes = Vec::with_capacity(seeds.len());
        // Seed by seed: the common initialisation, minibatch order and probe minibatch of that
        // seed, then every lane with its own gate noise — exactly a single-seed race with it.
        for (seed_index, &seed) in seeds.iter().enumerate() {
            let init = GatedNet::init(
                input_dim,
                CLASSES,
                &experiment.network,
                &mut rng_for(seed, "init"),
            );
            let schedule =
                MinibatchSchedule::new(data.train.len(), batch, derive_seed(seed, "minibatches"));
            for spec in &experiment.lanes {
                let settings = experiment.lane_settings(spec);
                let lane = Lane::new(
                    init.clone(),
                    settings,
                    rng_for(seed, &format!("lane/{}", spec.name)),
                );
                lanes.push(LaneRunner {
                    index: lanes.len(),
                    seed,
                    seed_index,
                    info: LaneInfo {
                        name: spec.name.clone(),
                        estimator: lane.estimator().describe(),
                        family: spec.estimator.family(),
                        settings,
                        seed: Some(seed),
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
                    step_seconds: 0.0,
                });
            }
            let probe_n = experiment.metrics.probe_batch.min(data.train.len());
            let order = permutation(data.train.len(), &mut rng_for(seed, "probe-batch"));
            probes.push(data.train.gather(&order[..probe_n]));
        }
        let schedule = MinibatchSchedule::new(data.train.len(), batch, 0);
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.clamp(1, lanes.len().max(1)))
            .thread_name(|i| format!("gradrace-lane-{i}"))
            .build()?;
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
            seed: seeds[0],
            seeds: seeds.clone(),
            sparsity_target: experiment.training.sparsity_target,
            reference_lane: experiment
                .same_trajectory
                .as_ref()
                .map(|t| t.reference_lane.clone()),
        };
        Ok(Race {
            info,
            metrics: experiment.metrics,
            data,
            lanes,
            pool,
            probes,
            lanes_per_seed: experiment.lanes.len(),
            same_trajectory: experiment.same_trajectory.as_ref().and_then(|t| {
                let lane = experiment
                    .lanes
                    .iter()
                    .position(|l| l.name == t.reference_lane)?;
                Some((lane, t.reference_samples))
            }),
            trajectory_probed_at: 0,
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
    ) -> Result<Race, RaceError> {
        let mut race = Race::new(experiment, data, threads)?;
        if checkpoint.lanes.len() != race.lanes.len() {
            return Err(RaceError::LaneCount {
                checkpoint: checkpoint.lanes.len(),
                experiment: race.lanes.len(),
            });
        }
        let total = race.info.total_steps;
        let mut opening = Vec::new();
        for (runner, saved) in race.lanes.iter_mut().zip(checkpoint.lanes) {
            let name = &runner.info.name;
            if saved.name != *name || saved.seed != runner.seed {
                return Err(RaceError::LaneName {
                    index: runner.index + 1,
                    saved: format!("{} (seed {})", saved.name, saved.seed),
                    name: format!("{name} (seed {})", runner.seed),
                });
            }
            let units = runner.unit_fired.len();
            if saved.unit_fired.len() != units || saved.class_fired.len() != units * CLASSES {
                return Err(RaceError::Counters {
                    name: name.clone(),
                    unit_counters: saved.unit_fired.len(),
                    class_counters: saved.class_fired.len() / CLASSES,
                    units,
                });
            }
            let steps = saved.state.steps;
            runner
                .lane
                .restore(saved.state)
                .map_err(|source| RaceError::Restore {
                    name: name.clone(),
                    source,
                })?;
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
        // The probe at the checkpoint's step, if any, ran before the checkpoint was taken.
        race.trajectory_probed_at = race
            .same_trajectory
            .map_or(0, |(lane, _)| race.lanes[lane].lane.steps());
        race.resumed = Some(opening);
        Ok(race)
    }

    /// A copy of the state of every lane. The lanes are copied in parallel on the race's pool,
    /// into the memory of a checkpoint handed back through [`Race::recycler`] when there is one:
    /// this copy is all a running race pauses for.
    pub fn checkpoint(&mut self) -> RaceCheckpoint {
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
                        .par_iter_mut()
                        .map(|r| LaneCheckpoint {
                            name: r.info.name.clone(),
                            seed: r.seed,
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
                .zip(self.lanes.par_iter_mut())
                .for_each(|(c, r)| {
                    c.name.clone_from(&r.info.name);
                    c.seed = r.seed;
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
    pub fn prepare_checkpoints(&mut self) {
        let checkpoint = self.checkpoint();
        let _ = self.recycled.0.send(checkpoint);
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

    /// Advances every running lane by up to `steps` steps, in parallel on the race's pool (see
    /// [`super::scheduler`]); returns the events in lane order. With a same-trajectory probe,
    /// the steps stop at every probe step for it, so that it happens at the same steps however
    /// the race is cut into chunks.
    pub fn advance(&mut self, steps: u64) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        let mut left = steps;
        while left > 0 {
            let n = match self.next_trajectory_probe() {
                Some(at) => left.min(at.saturating_sub(self.reference_steps()).max(1)),
                None => left,
            };
            let ctx = Context {
                data: &self.data,
                metrics: self.metrics,
                total_steps: self.info.total_steps,
                probes: &self.probes,
            };
            events.extend(scheduler::advance(&self.pool, &mut self.lanes, n, &ctx));
            left -= n;
            if self.next_trajectory_probe() == Some(self.reference_steps()) {
                events.extend(self.probe_same_trajectory());
            }
        }
        events
    }

    /// Steps the reference lane of the same-trajectory probe has taken (0 without one).
    fn reference_steps(&self) -> u64 {
        self.same_trajectory
            .map_or(0, |(lane, _)| self.lanes[lane].lane.steps())
    }

    /// The reference lane's next probe step, while it runs and a probe is due.
    fn next_trajectory_probe(&self) -> Option<u64> {
        let (lane, _) = self.same_trajectory?;
        let every = self.metrics.probe_every;
        // A lane that just finished is probed at its last step; a diverged or stopped one not.
        let status = self.lanes[lane].status;
        if every == 0 || !(status.is_running() || status == LaneStatus::Done) {
            return None;
        }
        let steps = self.lanes[lane].lane.steps();
        if steps > self.trajectory_probed_at && steps.is_multiple_of(every) {
            return Some(steps);
        }
        Some((steps / every + 1) * every)
    }

    /// The same-trajectory probe at the reference lane's current step (see
    /// [`super::trajectory`]), one event per lane with gates: seed by seed, that seed's lanes at
    /// that seed's reference lane's parameters. The seeds' reference gradients are computed one
    /// seed after the other (each in parallel blocks), then every lane's point in parallel.
    fn probe_same_trajectory(&mut self) -> Vec<EngineEvent> {
        let Some((reference, samples)) = self.same_trajectory else {
            return Vec::new();
        };
        let step = self.lanes[reference].lane.steps();
        self.trajectory_probed_at = step;
        let per_seed = self.lanes_per_seed.max(1);
        let groups: Vec<usize> = (0..self.probes.len())
            .filter(|&g| self.lanes[g * per_seed + reference].lane.steps() == step)
            .collect();
        for &g in &groups {
            self.lanes[g * per_seed + reference].lane.parameters();
        }
        let lanes = &self.lanes;
        let sites: Vec<super::trajectory::Site<'_>> = groups
            .iter()
            .map(|&g| {
                let (probe_x, probe_y) = &self.probes[g];
                let at = &lanes[g * per_seed + reference];
                let net = at
                    .lane
                    .current_parameters()
                    .expect("brought up to date above");
                self.pool.install(|| {
                    super::trajectory::Site::new(
                        net,
                        probe_x.view(),
                        probe_y,
                        samples,
                        at.seed,
                        step,
                    )
                })
            })
            .collect();
        let jobs: Vec<(usize, usize)> = (0..sites.len())
            .flat_map(|s| (0..per_seed).map(move |l| (s, l)))
            .collect();
        let k = self.metrics.probe_samples;
        let points: Vec<Option<TrajectoryPoint>> = self.pool.install(|| {
            jobs.par_iter()
                .map(|&(s, l)| {
                    let runner = &lanes[groups[s] * per_seed + l];
                    sites[s].point(&runner.lane, &runner.info.name, k)
                })
                .collect()
        });
        jobs.iter()
            .zip(points)
            .filter_map(|(&(s, l), point)| {
                point.map(|point| EngineEvent::Trajectory {
                    lane: groups[s] * per_seed + l,
                    point,
                })
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
    pub fn run(&mut self, commands: &Receiver<Control>, events: &Sender<EngineEvent>) {
        let send = |e: EngineEvent| {
            let _ = events.send(e);
        };
        self.opening_events().into_iter().for_each(send);
        let finish = |race: &mut Race| {
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
                    Control::Pause => {
                        if !paused {
                            paused = true;
                            send(EngineEvent::Paused(true));
                        }
                    }
                    Control::Resume => {
                        if paused {
                            paused = false;
                            send(EngineEvent::Paused(false));
                        }
                    }
                    Control::Step => {
                        if !paused {
                            paused = true;
                            send(EngineEvent::Paused(true));
                        }
                        single_step = true;
                        break;
                    }
                    Control::Stop => {
                        self.stop().into_iter().for_each(send);
                        finish(self);
                        return;
                    }
                    Control::SetPace(p) => pace = p.filter(|v| *v > 0.0 && v.is_finite()),
                    Control::Checkpoint(request) => send(EngineEvent::Checkpoint {
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
