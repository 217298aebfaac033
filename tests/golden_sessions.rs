//! Golden session files: sessions written by earlier versions of the format must keep loading
//! (and resuming) as it evolves. When the format changes, add a migration — never regenerate
//! these files.

use std::path::Path;
use std::sync::Arc;

use gradrace::data::embedded;
use gradrace::engine::{LaneStatus, Race, RaceCheckpoint};
use gradrace::session::{DataFingerprint, Session};

/// The golden session of format 2 (seeds, the same-trajectory probe, a checksum).
const V2: &str = "tests/fixtures/session-v2.ron";

#[test]
fn format_1_loads_and_resumes() {
    let s = Session::load(Path::new("tests/fixtures/session-v1.ron")).unwrap();
    assert_eq!(s.context.experiment.name, "tiny");
    assert_eq!(s.context.experiment.seed, 5);
    assert_eq!(s.gradrace, "0.1.0");
    let r = &s.recorder;
    assert!(r.finished);
    assert_eq!(
        r.events,
        [gradrace::history::RaceEvent {
            step: 30,
            kind: gradrace::history::RaceEventKind::Finished
        }]
    );
    let names: Vec<&str> = r.lanes.iter().map(|l| l.info.name.as_str()).collect();
    assert_eq!(names, ["unbiased", "sts", "rectifier"]);
    for lane in &r.lanes {
        assert_eq!(lane.steps.len(), 30);
        // Written before the budget metrics existed: one evaluation and one backward pass.
        assert!(
            lane.steps
                .iter()
                .all(|p| p.evaluations == 1.0 && p.backward_passes == 1.0)
        );
        assert_eq!(lane.last_step(), 30);
        let evals: Vec<u64> = lane.evals.iter().map(|e| e.step).collect();
        assert_eq!(evals, [10, 20, 30]);
        let probes: Vec<u64> = lane.probes.iter().map(|e| e.step).collect();
        assert_eq!(probes, [10, 20, 30]);
        let heat: Vec<u64> = lane.heat.iter().map(|h| h.step).collect();
        assert_eq!(heat, [4, 8, 12, 16, 20, 24, 28, 30]);
        assert!(lane.heat.iter().all(|h| h.rates.len() == 8));
        assert_eq!(lane.class_firing.as_ref().unwrap().rates.len(), 80);
        assert_eq!(lane.status, LaneStatus::Done);
    }
    // The data it trained on is still the embedded set, and the checkpoint resumes.
    let data = Arc::new(embedded());
    s.context
        .data
        .check_same(&DataFingerprint::of(&data))
        .unwrap();
    let c = s.load_checkpoint().unwrap();
    assert_eq!(c.step(), 30);
    assert!(c.lanes[0].state.baseline.is_some() && c.lanes[1].state.velocities.is_some());
    // Format 1 saved the λ of an L1 term averaged over the minibatch (of 16 here); the summed
    // term of format 2 gives each gate the same gradient with λ / 16.
    let l1 = c.lanes[2].state.l1.unwrap();
    assert_eq!(l1.lambda, 0.000_174_494_14 / 16.0);
    resumes_to_35(&s, data, c);
}

#[test]
fn format_2_with_seeds_a_trajectory_probe_and_a_checksum_loads_and_resumes() {
    let s = Session::load(Path::new(V2)).unwrap();
    assert_eq!(s.context.experiment.name, "tiny-v2");
    let r = &s.recorder;
    assert!(r.finished);
    // Three lanes × two seeds, seed-major, each lane carrying its seed.
    let lanes: Vec<(&str, Option<u64>)> = r
        .lanes
        .iter()
        .map(|l| (l.info.name.as_str(), l.info.seed))
        .collect();
    assert_eq!(
        lanes,
        [
            ("straight-through", Some(5)),
            ("disarm", Some(5)),
            ("rectifier", Some(5)),
            ("straight-through", Some(6)),
            ("disarm", Some(6)),
            ("rectifier", Some(6)),
        ]
    );
    for lane in &r.lanes {
        assert_eq!(lane.steps.len(), 30);
        assert_eq!(lane.status, LaneStatus::Done);
        // DisARM evaluates an antithetic pair; the others one draw.
        let evaluations = if lane.info.name == "disarm" { 2.0 } else { 1.0 };
        assert!(lane.steps.iter().all(|p| p.evaluations == evaluations));
        let probed: Vec<u64> = lane.trajectory.iter().map(|t| t.step).collect();
        assert_eq!(probed, [10, 20, 30], "{}", lane.info.name);
        assert!(lane.trajectory.iter().all(|t| t.total_variance >= 0.0));
    }
    // The rectifier without noise is deterministic: no variance across its estimates.
    for lane in r.lanes.iter().filter(|l| l.info.name == "rectifier") {
        assert!(lane.trajectory.iter().all(|t| t.total_variance == 0.0));
    }
    assert!(
        r.lanes
            .iter()
            .flat_map(|l| l.trajectory.iter())
            .all(|t| (-1.0..=1.0).contains(&t.cosine))
    );
    // The checksum is verified: one changed digit in the document is refused.
    let text = std::fs::read_to_string(V2).unwrap();
    let at = text.find("step: Text([10, 20, 30])").unwrap();
    let edited = format!(
        "{}step: Text([10, 21, 30]){}",
        &text[..at],
        &text[at + 24..]
    );
    assert!(Session::parse(edited.as_bytes(), Path::new(V2)).is_err());
    // The checkpoint resumes every lane × seed.
    let data = Arc::new(embedded());
    s.context
        .data
        .check_same(&DataFingerprint::of(&data))
        .unwrap();
    let c = s.load_checkpoint().unwrap();
    assert_eq!(c.step(), 30);
    assert_eq!(c.lanes.len(), 6);
    resumes_to_35(&s, data, c);
}

/// Resumes `s` from its checkpoint `c` (at step 30) to step 35: every lane runs on and ends done.
fn resumes_to_35(s: &Session, data: Arc<gradrace::data::DataSplit>, c: RaceCheckpoint) {
    let mut e = s.context.experiment.clone();
    e.training.length = gradrace::config::Length::Steps(35);
    let mut race = Race::resume(&e, data, c, 1).unwrap();
    let mut rec = s.recorder.clone();
    for ev in race.opening_events().into_iter().chain(race.advance(10)) {
        rec.apply(ev);
    }
    assert_eq!(rec.step(), 35);
    assert!(rec.lanes.iter().all(|l| l.status == LaneStatus::Done));
}
