//! Session save/load speed for the paper experiment after about an hour of training: seven
//! paper-size lanes (784 → 400 → 2000 gates, 2000 experts; checkpoint included) and histories at
//! the recorder's capacities (what a long run keeps), pushed through the real Recorder. Prints
//! the engine's pause to take a checkpoint, save and load times, and the file sizes, against the
//! targets (save < 1 s, load < 1 s, pause < 50 ms).
//!
//! `cargo bench --bench session`

use std::sync::Arc;
use std::time::{Duration, Instant};

use gradrace::config::builtin::resolve;
use gradrace::data::embedded;
use gradrace::engine::{
    ClassFiring, EngineEvent, EvalPoint, HeatRow, LaneStatus, ProbePoint, Race, StepPoint,
};
use gradrace::history::Recorder;
use gradrace::history::recorder::{HEAT_CAPACITY, SPARSE_CAPACITY, STEP_CAPACITY};
use gradrace::seed::rng_for;
use gradrace::session::{DataFingerprint, Session, SessionContext, save};
use rand::Rng as _;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let experiment = resolve("paper-mnist").expect("built-in experiment");
    let data = Arc::new(embedded());
    let mut race = Race::new(&experiment, data.clone(), 0).expect("race");
    eprintln!("training one step of the seven paper lanes (non-zero velocities)...");
    let mut recorder = Recorder::new();
    recorder.apply(race.started_event());
    race.advance(1);
    let units = experiment.network.experts;
    let mut rng = rng_for(1, "bench");
    for lane in 0..recorder.lanes.len() {
        let points: Vec<StepPoint> = (1..STEP_CAPACITY as u64)
            .map(|step| StepPoint {
                step,
                count: 1,
                cross_entropy: rng.random(),
                sparsity_penalty: rng.random(),
                accuracy: rng.random(),
                firing_rate: rng.random(),
                sparsity_weight: 0.1,
                dense_main_macs: 5.0e7,
                active_main_macs: rng.random::<f64>() * 5.0e7,
                gater_macs: 3.0e7,
                seconds: rng.random::<f32>() * 0.05,
                evaluations: 1.0,
                backward_passes: 1.0,
            })
            .collect();
        recorder.apply(EngineEvent::Steps { lane, points });
        for i in 1..SPARSE_CAPACITY as u64 {
            let point = EvalPoint {
                step: i * 10,
                count: 1,
                loss: rng.random(),
                error: rng.random(),
                firing_rate: rng.random(),
            };
            recorder.apply(EngineEvent::Eval { lane, point });
            let point = ProbePoint {
                step: i * 10,
                count: 1,
                variance: rng.random(),
                signal: rng.random(),
                variance_se: rng.random(),
            };
            recorder.apply(EngineEvent::Probe { lane, point });
        }
        for i in 1..HEAT_CAPACITY as u64 {
            let row = HeatRow {
                step: i * 25,
                count: 1,
                rates: (0..units).map(|_| rng.random()).collect(),
            };
            recorder.apply(EngineEvent::Heat { lane, row });
        }
        let snapshot = ClassFiring {
            step: 40_000,
            classes: 10,
            units,
            rates: (0..10 * units).map(|_| rng.random()).collect(),
        };
        recorder.apply(EngineEvent::ClassFiring { lane, snapshot });
        recorder.apply(EngineEvent::Status {
            lane,
            status: LaneStatus::Stopped { step: 40_000 },
        });
    }
    let context = SessionContext {
        experiment: experiment.clone(),
        data: DataFingerprint::of(&data),
        created: "2025-01-01T00:00:00Z".into(),
    };

    // What the session writer does: one checkpoint prepared before the race starts, then at
    // every autosave the engine copies its state into the memory of the previous checkpoint
    // (handed back once saved) — that copy is the engine's whole pause.
    let cold = Instant::now();
    race.prepare_checkpoints();
    let cold = cold.elapsed();
    let recycler = race.recycler();
    // The relay's copy of the history (on the session thread, not the engine's).
    let t = Instant::now();
    let copy = recorder.clone();
    let history_copy = t.elapsed();
    drop(copy);

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary directory");
    let path = dir.path().join("paper.ron");
    let mut pauses = Vec::new();
    let mut saves = Vec::new();
    let mut loads = Vec::new();
    let mut saved: Option<gradrace::session::SavedSession> = None;
    for _ in 0..7 {
        let t = Instant::now();
        let checkpoint = race.checkpoint();
        pauses.push(t.elapsed());
        let t = Instant::now();
        let s = save(&path, &context, &recorder, Some(&checkpoint)).expect("save");
        saves.push(t.elapsed());
        if let Some(old) = saved.replace(s).and_then(|o| o.sidecar) {
            let _ = std::fs::remove_file(old);
        }
        let t = Instant::now();
        let session = Session::load(&path).expect("load");
        let loaded = session.load_checkpoint().expect("load checkpoint");
        loads.push(t.elapsed());
        assert_eq!(session.recorder.lanes.len(), 7);
        assert_eq!(loaded.step(), checkpoint.step());
        recycler.send(checkpoint).expect("the race takes it back");
    }
    let saved = saved.expect("saved");
    let ron_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let side_bytes = saved
        .sidecar
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    let t = Instant::now();
    let session = Session::load(&path).expect("load");
    let replay_load = t.elapsed();
    drop(session);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pause = *pauses.iter().max().expect("pauses");
    println!(
        "session of the paper experiment: 7 lanes × {} parameters, histories at the recorder's caps",
        race.lanes().next().map_or(0, |l| l.parameter_count())
    );
    println!("  document  {:>8.1} MB", ron_bytes as f64 / 1e6);
    println!("  sidecar   {:>8.1} MB", side_bytes as f64 / 1e6);
    println!(
        "  engine pause to checkpoint   median {:>7.1} ms  max {:>7.1} ms   target < 50 ms   ratio {:.2}",
        ms(median(pauses.clone())),
        ms(pause),
        ms(pause) / 50.0
    );
    println!(
        "  first checkpoint (before the race starts) {:>7.1} ms",
        ms(cold)
    );
    println!(
        "  history copy (session thread)       {:>7.1} ms",
        ms(history_copy)
    );
    println!(
        "  save (document + sidecar)    median {:>7.1} ms  max {:>7.1} ms   target < 1000 ms ratio {:.2}",
        ms(median(saves.clone())),
        ms(*saves.iter().max().expect("saves")),
        ms(*saves.iter().max().expect("saves")) / 1000.0
    );
    println!(
        "  load (document + checkpoint) median {:>7.1} ms  max {:>7.1} ms   target < 1000 ms ratio {:.2}",
        ms(median(loads.clone())),
        ms(*loads.iter().max().expect("loads")),
        ms(*loads.iter().max().expect("loads")) / 1000.0
    );
    println!(
        "  load for replay (document only)     {:>7.1} ms",
        ms(replay_load)
    );
}
