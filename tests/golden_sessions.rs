//! Golden session files: sessions written by earlier versions of the format must keep loading
//! (and resuming) as it evolves. When the format changes, add a migration — never regenerate
//! these files.

use std::path::Path;
use std::sync::Arc;

use gradrace::data::embedded;
use gradrace::engine::{LaneStatus, Race};
use gradrace::session::{DataFingerprint, Session};

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
