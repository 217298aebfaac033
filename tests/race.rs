//! The race engine: determinism, thread-count independence, fairness between lanes, controls and
//! divergence.

use std::sync::Arc;
use std::time::Duration;

use gradrace::config::{Experiment, LaneSpec, Length, parse_experiment};
use gradrace::data::{DataSplit, embedded};
use gradrace::engine::{Control, EngineEvent, LaneStatus, Race, StepPoint};
use gradrace::history::Recorder;

const TINY: &str = r#"
Experiment(
    name: "tiny",
    seed: 5,
    network: (gater_hidden: 12, experts: 24),
    training: (batch_size: 16, length: Steps(60)),
    metrics: (eval_every: 20, probe_every: 15, probe_samples: 4, probe_batch: 16, heat_every: 5, chunk_steps: 7),
    same_trajectory: (reference_lane: "st", reference_samples: 8),
    lanes: [
        (name: "st", estimator: StraightThrough(variant: Identity)),
        (name: "sts", estimator: StochasticTimesSmooth(bernoulli: SqrtP, beta_noise: (mode: 0.1, beta: 40.0))),
        (name: "rect", estimator: NoisyRectifier(noise: Gaussian(std: 1.0))),
        (name: "unbiased", estimator: Unbiased(baseline: OptimalPerUnit)),
        (name: "dense", estimator: Dense),
    ],
)
"#;

fn tiny() -> Experiment {
    parse_experiment(TINY, "tiny").unwrap()
}

fn data() -> Arc<DataSplit> {
    // A small slice of the embedded digits keeps evaluation cheap.
    let full = embedded();
    let train: Vec<usize> = (0..2000).collect();
    let held: Vec<usize> = (0..300).collect();
    Arc::new(DataSplit {
        name: "tiny".into(),
        train: full.train.subset(&train, "train"),
        heldout: full.heldout.subset(&held, "held-out"),
    })
}

/// Runs the race to the end in the calling thread and returns its recorder.
fn run(experiment: &Experiment, threads: usize) -> Recorder {
    let mut race = Race::new(experiment, data(), threads).unwrap();
    let (_ctl, commands) = crossbeam_channel::unbounded();
    let (tx, rx) = crossbeam_channel::unbounded();
    race.run(&commands, &tx);
    let mut rec = Recorder::new();
    rx.try_iter().for_each(|e| rec.apply(e));
    assert!(rec.finished);
    rec
}

/// A lane's recorded history without the measured wall time (the one non-reproducible field).
fn history(rec: &Recorder, lane: &str) -> String {
    let h = rec
        .lanes
        .iter()
        .find(|l| l.info.name == lane)
        .expect("lane exists");
    let steps: Vec<StepPoint> = h
        .steps
        .iter()
        .map(|p| StepPoint { seconds: 0.0, ..*p })
        .collect();
    format!(
        "{steps:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        h.evals.to_vec(),
        h.probes.to_vec(),
        h.heat.to_vec(),
        h.class_firing,
        h.status,
        h.trajectory.to_vec()
    )
}

#[test]
fn same_config_and_seed_give_identical_histories_with_one_or_two_threads() {
    let e = tiny();
    let a = run(&e, 1);
    let b = run(&e, 1);
    let c = run(&e, 2);
    for lane in ["st", "sts", "rect", "unbiased", "dense"] {
        let ha = history(&a, lane);
        assert_eq!(ha, history(&b, lane), "{lane}: two runs differ");
        assert_eq!(ha, history(&c, lane), "{lane}: 1 vs 2 threads differ");
    }
    // Every lane recorded every kind of metric.
    for l in &a.lanes {
        assert_eq!(l.last_step(), 60, "{}", l.info.name);
        assert_eq!(l.evals.len(), 3);
        assert_eq!(l.heat.len(), 12);
        assert_eq!(l.status, LaneStatus::Done);
        if l.info.name != "dense" {
            assert_eq!(l.probes.len(), 4, "{}", l.info.name);
            // Same-trajectory probes at steps 15, 30, 45 and 60, whatever the chunks (7 steps).
            let at: Vec<u64> = l.trajectory.iter().map(|p| p.step).collect();
            assert_eq!(at, [15, 30, 45, 60], "{}", l.info.name);
        }
    }
    let mut other = e.clone();
    other.seed = 6;
    let d = run(&other, 2);
    assert_ne!(history(&a, "st"), history(&d, "st"), "the seed matters");
}

/// Seeds as a race dimension: a race of three seeds gives, for each seed, exactly the numbers of
/// a single-seed race with that seed (every lane, every metric, same-trajectory probes included,
/// on two threads against one), and its lanes carry their seeds.
#[test]
fn a_three_seed_race_is_three_single_seed_races() {
    let mut three = tiny();
    three.seeds = Some(gradrace::config::Seeds::List(vec![5, 9, 2]));
    let together = run(&three, 2);
    assert_eq!(together.lanes.len(), 3 * three.lanes.len());
    assert_eq!(together.info.as_ref().unwrap().seeds, [5, 9, 2]);
    for (k, seed) in [5u64, 9, 2].into_iter().enumerate() {
        let mut single = tiny();
        single.seed = seed;
        let alone = run(&single, 1);
        for (i, lane) in alone.lanes.iter().enumerate() {
            let name = &lane.info.name;
            let mut group = Recorder::new();
            group.lanes = vec![together.lanes[k * single.lanes.len() + i].clone()];
            assert_eq!(group.lanes[0].info.seed, Some(seed), "{name}");
            let mut one = Recorder::new();
            one.lanes = vec![lane.clone()];
            assert_eq!(
                history(&group, name),
                history(&one, name),
                "{name}, seed {seed}"
            );
        }
    }
    // The count form: seed, seed + 1, seed + 2.
    let counted: Experiment = parse_experiment(
        &TINY.replace("seed: 5,", "seed: 5,\n    seeds: 3,"),
        "counted",
    )
    .unwrap();
    assert_eq!(counted.seed_list(), [5, 6, 7]);
    let listed: Experiment = parse_experiment(
        &TINY.replace("seed: 5,", "seed: 5,\n    seeds: [4, 1],"),
        "listed",
    )
    .unwrap();
    assert_eq!(listed.seed_list(), [4, 1]);
    assert!(
        parse_experiment(
            &TINY.replace("seed: 5,", "seed: 5,\n    seeds: [4, 4],"),
            "twice"
        )
        .is_err()
    );
}

/// The same-trajectory probe measures the lanes without touching them: with it on and off,
/// every lane trains to the same bits.
#[test]
fn the_same_trajectory_probe_changes_no_lane() {
    let on = tiny();
    let mut off = on.clone();
    off.same_trajectory = None;
    let finish = |e: &Experiment| {
        let mut race = Race::new(e, data(), 2).unwrap();
        let mut rec = Recorder::new();
        for ev in race.opening_events() {
            rec.apply(ev);
        }
        while !race.is_finished() {
            for ev in race.advance(11) {
                rec.apply(ev);
            }
        }
        (rec, race.checkpoint())
    };
    let (with, with_state) = finish(&on);
    let (without, without_state) = finish(&off);
    assert!(without.lanes.iter().all(|l| l.trajectory.is_empty()));
    assert!(with.lanes[0].trajectory.len() == 4);
    for (a, b) in with.lanes.iter().zip(&without.lanes) {
        let name = &a.info.name;
        let mut a_history = history(&with, name);
        let b_history = history(&without, name);
        // Everything but the trajectory probes themselves (the last line).
        a_history.truncate(a_history.rfind('\n').unwrap());
        assert!(
            b_history.starts_with(&a_history),
            "{name}: training changed"
        );
        assert_eq!(b.trajectory.len(), 0);
    }
    assert!(with_state == without_state, "the final parameters differ");
}

#[test]
fn a_race_runs_on_at_most_one_thread_per_lane() {
    let e = tiny();
    let lanes = e.lanes.len();
    for (asked, got) in [
        (1, 1),
        (2, 2),
        (lanes, lanes),
        (lanes + 1, lanes),
        (1_000_000, lanes),
    ] {
        assert_eq!(
            Race::new(&e, data(), asked).unwrap().threads(),
            got,
            "{asked} asked"
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        Race::new(&e, data(), 0).unwrap().threads(),
        cores.min(lanes)
    );
}

#[test]
fn a_lane_is_unchanged_when_other_lanes_are_added_or_removed() {
    let full = tiny();
    // (With the reference lane of the same-trajectory probe, so that it still runs.)
    let mut alone = full.clone();
    alone.lanes.retain(|l| l.name == "sts" || l.name == "st");
    let mut more = full.clone();
    more.lanes.insert(
        0,
        LaneSpec::new("extra", gradrace::EstimatorSpec::Sigmoid { noise_std: 0.5 }),
    );
    let a = run(&full, 2);
    let b = run(&alone, 2);
    let c = run(&more, 2);
    assert_eq!(history(&a, "sts"), history(&b, "sts"));
    assert_eq!(history(&a, "sts"), history(&c, "sts"));
}

#[test]
fn a_divergent_lane_is_marked_and_the_others_finish() {
    let mut e = tiny();
    e.training.max_norm = None;
    e.lanes.truncate(2);
    e.lanes[1].learning_rate = Some(1e30);
    e.lanes[1].gater_learning_rate = Some(1e30);
    let rec = run(&e, 2);
    let ok = &rec.lanes[0];
    let bad = &rec.lanes[1];
    assert_eq!(ok.status, LaneStatus::Done);
    assert_eq!(ok.last_step(), 60);
    match bad.status {
        LaneStatus::Diverged { step } => assert!(step <= 60),
        other => panic!("expected divergence, got {other:?}"),
    }
    assert!(bad.status.label().starts_with("diverged at step"));
}

fn steps_in(events: &[EngineEvent]) -> usize {
    events
        .iter()
        .map(|e| match e {
            EngineEvent::Steps { points, .. } => points.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn pause_stops_progress_single_step_advances_one_and_stop_ends_every_lane() {
    let mut e = tiny();
    e.training.length = Length::Steps(1_000_000);
    e.lanes.truncate(3);
    let handle = Race::new(&e, data(), 2).unwrap().spawn();
    let ev = &handle.events;
    handle.commands.send(Control::Pause).unwrap();
    // Drain until the engine acknowledges the pause.
    let mut before = Vec::new();
    loop {
        let event = ev
            .recv_timeout(Duration::from_secs(30))
            .expect("engine alive");
        if event == EngineEvent::Paused(true) {
            break;
        }
        before.push(event);
    }
    // While paused nothing advances.
    assert!(
        ev.recv_timeout(Duration::from_millis(300)).is_err(),
        "no events while paused"
    );
    // One step: exactly one new point per lane.
    handle.commands.send(Control::Step).unwrap();
    let mut after = Vec::new();
    while let Ok(event) = ev.recv_timeout(Duration::from_millis(500)) {
        after.push(event);
    }
    assert_eq!(steps_in(&after), 3, "one step for each of the three lanes");
    let mut rec = Recorder::new();
    before.into_iter().chain(after).for_each(|e| rec.apply(e));
    let reached: Vec<u64> = rec.lanes.iter().map(|l| l.last_step()).collect();
    assert!(
        reached.windows(2).all(|w| w[0] == w[1]),
        "lanes in lockstep: {reached:?}"
    );
    // Stop ends every lane cleanly.
    handle.commands.send(Control::Stop).unwrap();
    let mut end = Vec::new();
    loop {
        let event = ev
            .recv_timeout(Duration::from_secs(30))
            .expect("engine alive");
        let done = event == EngineEvent::Finished;
        end.push(event);
        if done {
            break;
        }
    }
    end.into_iter().for_each(|e| rec.apply(e));
    for l in &rec.lanes {
        assert_eq!(l.status, LaneStatus::Stopped { step: reached[0] });
    }
    let race = handle.thread.join().unwrap();
    assert!(race.is_finished());
}
