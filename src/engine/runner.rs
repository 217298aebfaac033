//! One lane in a race: its training steps with the measurements the race records around them
//! (held-out evaluations, variance probes, firing counters for the heat rows and per-class
//! snapshots), turned into [`EngineEvent`]s.

use std::time::Instant;

use ndarray::Array2;

use super::lane::{Lane, ProbeBuffers};
use super::metrics::{ClassFiring, EvalPoint, HeatRow, LaneStatus, ProbePoint, StepPoint};
use super::protocol::{EngineEvent, LaneInfo};
use crate::config::MetricsSpec;
use crate::data::{CLASSES, DataSplit, MinibatchSchedule};
use crate::seed::rng_for;

/// Examples per chunk of the held-out evaluation.
const EVAL_CHUNK: usize = 500;

/// Shared, read-only inputs of a chunk.
pub(super) struct Context<'a> {
    pub(super) data: &'a DataSplit,
    pub(super) metrics: MetricsSpec,
    pub(super) total_steps: u64,
    /// Per seed (in the race's order): the fixed probe minibatch.
    pub(super) probes: &'a [(Array2<f32>, Vec<u8>)],
}

/// What a lane produced during one chunk.
#[derive(Default)]
pub(super) struct ChunkOutput {
    pub(super) points: Vec<StepPoint>,
    pub(super) events: Vec<EngineEvent>,
    /// At least one training step ran.
    pub(super) stepped: bool,
}

/// A lane plus what the race keeps for it.
pub(super) struct LaneRunner {
    /// The seed it runs with, and its place in the race's seeds.
    pub(super) seed: u64,
    pub(super) seed_index: usize,
    pub(super) index: usize,
    pub(super) info: LaneInfo,
    pub(super) lane: Lane,
    pub(super) schedule: MinibatchSchedule,
    pub(super) x: Array2<f32>,
    pub(super) y: Vec<u8>,
    pub(super) status: LaneStatus,
    pub(super) unit_fired: Vec<u32>,
    pub(super) heat_steps: u32,
    pub(super) class_fired: Vec<u32>,
    pub(super) class_seen: [u32; CLASSES],
    pub(super) probe_buffers: ProbeBuffers,
    /// Seconds per training step, averaged over the recent steps (0 until the first): the
    /// scheduler's estimate of what the lane's next steps cost.
    pub(super) step_seconds: f64,
}

impl LaneRunner {
    /// Advances the lane by up to `steps` steps on this thread and returns its events.
    pub(super) fn advance(&mut self, steps: u64, ctx: &Context<'_>) -> Vec<EngineEvent> {
        let mut out = ChunkOutput::default();
        for k in 0..steps {
            if !self.step(ctx, &mut out, k + 1 == steps) {
                break;
            }
        }
        self.finish_chunk(out)
    }

    /// One training step with its metrics, recorded in `out`; false (doing nothing) when the
    /// lane has ended. `chunk_ends`: the step is the chunk's last (the divergence check and
    /// checkpoints read the parameters after it).
    pub(super) fn step(
        &mut self,
        ctx: &Context<'_>,
        out: &mut ChunkOutput,
        chunk_ends: bool,
    ) -> bool {
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
            // Reads of the parameters bring them up to date themselves; doing it here counts
            // the update a step held back in that step's time, as the step would have paid had
            // it applied the update at once.
            self.lane.parameters();
        }
        let seconds = started.elapsed().as_secs_f32();
        self.step_seconds = if self.step_seconds > 0.0 {
            0.8 * self.step_seconds + 0.2 * f64::from(seconds)
        } else {
            f64::from(seconds)
        };
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
            evaluations: stats.evaluations as f32,
            backward_passes: stats.backward_passes as f32,
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
    pub(super) fn finish_chunk(&mut self, mut out: ChunkOutput) -> Vec<EngineEvent> {
        if out.stepped && self.status.is_running() && !self.lane.parameters().is_finite() {
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

    pub(super) fn set_status(&mut self, status: LaneStatus, events: &mut Vec<EngineEvent>) {
        self.status = status;
        events.push(EngineEvent::Status {
            lane: self.index,
            status,
        });
    }

    /// Adds the last step's gates to the firing counters (per unit; per class and unit, stored
    /// class-major: class c, unit i at c·N + i).
    fn count_firing(&mut self) {
        let units = self.lane.units();
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
            let Some(gates) = self.lane.last_gates() else {
                return;
            };
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
        let mut rng = rng_for(self.seed, &format!("probe/{}/{step}", self.info.name));
        let (probe_x, probe_y) = &ctx.probes[self.seed_index];
        let reading = self.lane.probe_with(
            probe_x.view(),
            probe_y,
            ctx.metrics.probe_samples,
            &mut rng,
            &mut self.probe_buffers,
        )?;
        Some(ProbePoint {
            step,
            count: 1,
            variance: reading.variance,
            signal: reading.signal,
            variance_se: reading.variance_se,
        })
    }
}
