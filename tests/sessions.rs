//! Sessions end to end: exact resume, round trips, the session writer on a running race.

mod common;

use std::path::Path;
use std::time::Duration;

use common::race::{apply_all, assert_same_state, context, data, experiment, metrics};
use gradrace::engine::{Control, EngineEvent, Race, RaceHandle};
use gradrace::history::Recorder;
use gradrace::session::{Session, SessionWriter, WriteHook, WriterOptions, save};

const N: u64 = 45;

#[test]
fn n_steps_save_resume_n_steps_equals_2n_steps_in_one_go() {
    exact_resume(experiment(2 * N));
}

/// The same for every estimator of the zoo: REINFORCE leave-one-out (four draws), ARM and DisARM
/// (antithetic pairs), the binary Concrete with a temperature schedule, Gumbel-Rao, ReinMax.
#[test]
fn every_estimator_of_the_zoo_resumes_exactly() {
    exact_resume(common::race::zoo_experiment(2 * N));
}

/// N steps, save, load, resume, N steps: the metrics and the final state of 2N steps in one go.
fn exact_resume(e: gradrace::config::Experiment) {
    let d = data();

    let mut one = Race::new(&e, d.clone(), 2).unwrap();
    let mut straight = Recorder::new();
    apply_all(&mut straight, one.opening_events());
    apply_all(&mut straight, one.advance(2 * N));

    let mut first = Race::new(&e, d.clone(), 1).unwrap();
    let mut history = Recorder::new();
    apply_all(&mut history, first.opening_events());
    apply_all(&mut history, first.advance(N));
    let checkpoint = first.checkpoint();
    drop(first);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("half.ron");
    save(&path, &context(&e, &d), &history, Some(&checkpoint)).unwrap();

    let session = Session::load(&path).unwrap();
    assert_eq!(session.recorder, history, "the history round-trips");
    let loaded = session.load_checkpoint().unwrap();
    assert_same_state(&loaded, &checkpoint);
    let mut resumed = Race::resume(&e, d, loaded, 1).unwrap();
    let mut continued = session.recorder;
    let opening = resumed.opening_events();
    assert!(matches!(opening[0], EngineEvent::Resumed { .. }));
    apply_all(&mut continued, opening);
    apply_all(&mut continued, resumed.advance(N));

    assert_eq!(continued.step(), 2 * N);
    let (a, b) = (metrics(&straight), metrics(&continued));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(x == y, "lane {i}: metric histories differ");
    }
    assert_eq!(a.len(), b.len());
    assert_same_state(&one.checkpoint(), &resumed.checkpoint());
    // The probes, heat rows and evaluations really are there.
    assert!(straight.lanes[0].probes.len() >= 5 && straight.lanes[0].heat.len() >= 12);
}

/// A new race of `steps` steps on the test data, saved to `path` by a session writer with a
/// checkpoint, every `autosave` (None: only when asked), each write going through `write_hook`.
fn start_writing(
    steps: u64,
    path: &Path,
    autosave: Option<Duration>,
    write_hook: Option<WriteHook>,
) -> (RaceHandle, SessionWriter) {
    let (e, d) = (experiment(steps), data());
    SessionWriter::start(
        Race::new(&e, d.clone(), 1).unwrap(),
        context(&e, &d),
        Recorder::new(),
        path.to_path_buf(),
        WriterOptions {
            autosave,
            checkpoint: true,
            replaces_sidecar: None,
            write_hook,
        },
    )
}

/// Runs `race` through a session writer saving to `path`, stopping it (as Ctrl-C does) once the
/// furthest lane has passed `stop_after` steps, or letting it finish when None.
fn run_saved(
    race: Race,
    recorder: Recorder,
    path: &Path,
    stop_after: Option<u64>,
    replaces: Option<std::path::PathBuf>,
) -> Recorder {
    let e = experiment(2 * N);
    let d = data();
    let (handle, writer) = SessionWriter::start(
        race,
        context(&e, &d),
        recorder.clone(),
        path.to_path_buf(),
        WriterOptions {
            autosave: Some(Duration::from_millis(5)),
            checkpoint: true,
            replaces_sidecar: replaces,
            write_hook: None,
        },
    );
    let mut seen = recorder;
    let mut stopped = false;
    for event in handle.events.iter() {
        let finished = event == EngineEvent::Finished;
        seen.apply(event);
        if let Some(s) = stop_after
            && !stopped
            && seen.step() >= s
        {
            handle.commands.send(Control::Stop).unwrap();
            stopped = true;
        }
        if finished {
            break;
        }
    }
    handle.thread.join().unwrap();
    let saved = writer
        .finish()
        .expect("a final save")
        .expect("the final save succeeds");
    assert_eq!(saved.path, path);
    seen
}

#[test]
fn a_race_stopped_saved_and_resumed_matches_one_never_stopped() {
    let e = experiment(2 * N);
    let d = data();
    let mut straight = Recorder::new();
    let mut one = Race::new(&e, d.clone(), 2).unwrap();
    apply_all(&mut straight, one.opening_events());
    apply_all(&mut straight, one.advance(2 * N));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ron");
    let race = Race::new(&e, d.clone(), 2).unwrap();
    let seen = run_saved(race, Recorder::new(), &path, Some(N / 2), None);
    let session = Session::load(&path).unwrap();
    // What the consumer saw is what was saved (statuses, history, everything).
    assert_eq!(session.recorder, seen);
    let step = session.recorder.step();
    assert!(step < 2 * N, "stopped early (at {step})");
    assert!(
        session
            .recorder
            .lanes
            .iter()
            .all(|l| matches!(l.status, gradrace::engine::LaneStatus::Stopped { .. }))
    );

    let old_sidecar = session.sidecar_path().unwrap();
    let race = Race::resume(&e, d, session.load_checkpoint().unwrap(), 1).unwrap();
    let seen = run_saved(
        race,
        session.recorder,
        &path,
        None,
        Some(old_sidecar.clone()),
    );
    let end = Session::load(&path).unwrap();
    assert_eq!(end.recorder, seen);
    assert!(end.recorder.finished);
    // The race's own events: ended (stopped), resumed from the checkpoint, ended.
    use gradrace::history::RaceEventKind::{Finished, Resumed};
    let kinds: Vec<_> = end
        .recorder
        .events
        .iter()
        .map(|e| (e.kind, e.step))
        .collect();
    assert_eq!(
        kinds,
        [(Finished, step), (Resumed, step), (Finished, 2 * N)]
    );
    assert!(
        metrics(&end.recorder) == metrics(&straight),
        "histories differ"
    );
    assert_same_state(&end.load_checkpoint().unwrap(), &one.checkpoint());
    // The replaced sidecar is gone; exactly the document and its sidecar remain.
    assert!(!old_sidecar.exists());
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].ends_with(".ckpt") && names[1] == "run.ron",
        "{names:?}"
    );
}

#[test]
fn save_now_answers_with_the_current_state_while_running_and_after_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("now.ron");
    let (handle, writer) = start_writing(400, &path, None, None);
    handle.commands.send(Control::Pause).unwrap();
    let mut saver = writer.saver();
    let mut seen = Recorder::new();
    // Wait for the pause to take effect, then save: a paused engine still answers.
    for event in handle.events.iter() {
        let paused = event == EngineEvent::Paused(true);
        seen.apply(event);
        if paused {
            break;
        }
    }
    let message = saver(&seen).unwrap().describe();
    assert!(message.contains("now.ron"), "{message}");
    let s = Session::load(&path).unwrap();
    // Paused: nothing moved between the event and the save.
    assert_eq!(metrics(&s.recorder), metrics(&seen));
    let c = s.load_checkpoint().unwrap();
    assert_eq!(c.step(), seen.step());
    handle.commands.send(Control::Stop).unwrap();
    for event in handle.events.iter() {
        if event == EngineEvent::Finished {
            break;
        }
    }
    handle.thread.join().unwrap();
    // After the end the saver reports the final save.
    let after = saver(&seen).unwrap().describe();
    assert!(after.contains("now.ron"), "{after}");
    let final_save = writer.finish().unwrap().unwrap();
    assert_eq!(
        Session::load(&final_save.path).unwrap().recorder.step(),
        seen.step()
    );
}

/// A checkpoint whose baseline claims more observed minibatches than its lane took steps (a
/// damaged or edited file: the count would overflow once the race goes on) is refused, naming
/// the lane; the same checkpoint with a consistent count resumes.
#[test]
fn a_baseline_that_observed_more_steps_than_its_lane_took_is_refused() {
    let e = experiment(2 * N);
    let d = data();
    let mut race = Race::new(&e, d.clone(), 1).unwrap();
    race.advance(10);
    let checkpoint = race.checkpoint();
    let lane = checkpoint
        .lanes
        .iter()
        .position(|l| l.state.baseline.is_some())
        .expect("the quick race has a lane with a learned baseline");
    let steps = checkpoint.lanes[lane].state.steps;
    assert_eq!(
        checkpoint.lanes[lane]
            .state
            .baseline
            .as_ref()
            .unwrap()
            .observed,
        steps
    );
    for observed in [steps + 1, u64::MAX] {
        let mut bad = checkpoint.clone();
        bad.lanes[lane].state.baseline.as_mut().unwrap().observed = observed;
        let message = match Race::resume(&e, d.clone(), bad, 1) {
            Ok(_) => panic!("observed = {observed} after {steps} steps was accepted"),
            Err(m) => m.to_string(),
        };
        let name = &checkpoint.lanes[lane].name;
        assert!(
            message.contains(&format!("lane \"{name}\"")) && message.contains("observed"),
            "{message}"
        );
    }
    assert!(Race::resume(&e, d, checkpoint, 1).is_ok());
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A device with room for one checkpoint but not two: every save after the first would need
/// the new checkpoint written while the previous one is still there. The writer then saves the
/// history alone, which frees the previous checkpoint, deletes it and saves again: the race
/// ends resumable, with one checkpoint on disk.
#[test]
fn a_device_with_room_for_one_checkpoint_keeps_the_race_resumable() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.ron");
    let watched = dir.path().to_path_buf();
    let room_for_one = WriteHook(Arc::new(move |file: &Path, _| {
        let another = std::fs::read_dir(&watched)
            .unwrap()
            .flatten()
            .any(|f| f.file_name().to_string_lossy().ends_with(".ckpt"));
        if file.extension().is_some_and(|x| x == "ckpt") && another {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            Ok(())
        }
    }));
    let (handle, writer) = start_writing(
        2 * N,
        &path,
        Some(Duration::from_millis(5)),
        Some(room_for_one),
    );
    let status = writer.status();
    for event in handle.events.iter() {
        if event == EngineEvent::Finished {
            break;
        }
    }
    handle.thread.join().unwrap();
    let saved = writer.finish().unwrap().unwrap();
    assert!(status.saves() >= 2, "{} saves", status.saves());
    assert!(saved.sidecar.is_some(), "{}", saved.describe());
    let s = Session::load(&path).unwrap();
    assert_eq!(s.load_checkpoint().unwrap().step(), 2 * N);
    let names = names_in(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
}

/// A failed autosave (the device full for everything) leaves the last good session as it was
/// and the race running; the save is tried again at the next interval — even with the race
/// paused, when nothing changed since — and succeeds once there is room again.
#[test]
fn a_failed_autosave_keeps_the_last_good_session_and_is_retried() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retry.ron");
    let full = Arc::new(AtomicBool::new(false));
    let device = Arc::clone(&full);
    let hook = WriteHook(Arc::new(move |_: &Path, _| {
        if device.load(Ordering::SeqCst) {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            Ok(())
        }
    }));
    let (handle, writer) = start_writing(4000, &path, Some(Duration::from_millis(50)), Some(hook));
    let status = writer.status();
    let events = handle.events.clone();
    let drain = std::thread::spawn(move || {
        for event in events.iter() {
            if event == EngineEvent::Finished {
                break;
            }
        }
    });
    // A good save, then a full device.
    let good = writer.save_now().unwrap();
    assert!(good.sidecar.is_some());
    let good_text = std::fs::read(&path).unwrap();
    full.store(true, Ordering::SeqCst);
    let waited = std::time::Instant::now();
    let failures = |s: &gradrace::session::SaveStatus| matches!(s.last(), Some(Err(_)));
    while !failures(&status) {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "no autosave failed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let failed_at = status.saves();
    // The last good session is intact, and the race still runs.
    assert_eq!(std::fs::read(&path).unwrap(), good_text);
    assert!(Session::load(&path).unwrap().load_checkpoint().is_ok());
    handle.commands.send(Control::Pause).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Room again: the next interval saves, though the paused race has not moved.
    full.store(false, Ordering::SeqCst);
    let waited = std::time::Instant::now();
    loop {
        let ok = status.saves() > failed_at && matches!(status.last(), Some(Ok(_)));
        if ok {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the failed save was not tried again"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = Session::load(&path).unwrap();
    assert!(
        s.recorder.step() > good.step,
        "{} vs {}",
        s.recorder.step(),
        good.step
    );
    assert_eq!(s.load_checkpoint().unwrap().step(), s.recorder.step());
    handle.commands.send(Control::Stop).unwrap();
    drain.join().unwrap();
    handle.thread.join().unwrap();
    assert!(writer.finish().unwrap().is_ok());
    assert_eq!(names_in(dir.path()).len(), 2, "{:?}", names_in(dir.path()));
}
