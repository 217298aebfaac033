//! Several recorded races shown as one: every lane of every part kept, its name prefixed with
//! its part's label (`A/straight-through`) when there is more than one part. What `replay`,
//! `table`, `export` and `plot` show when given several sessions.

use super::recorder::{LaneHistory, Recorder};
use crate::engine::RaceInfo;

/// The races of `parts` (label, recorder) as one recorder. With a single part, the recorder
/// unchanged. With several, every lane `name` of part `label` becomes `label/name`, in the order
/// of the parts; the race's description is the first part's with the experiments and data sets
/// of all parts joined (" + ", each once), the seeds of all parts (each once, in order), the
/// longest planned length, the largest network (for the heatmap's height) and the first part's
/// reference lane, prefixed. The race-level events (pauses, ends) are left out: they belong to
/// one part each, and every lane keeps its own status changes. The merged race is finished when
/// every part is.
pub fn merge(parts: Vec<(String, Recorder)>) -> Recorder {
    if parts.len() == 1 {
        return parts.into_iter().next().map(|(_, r)| r).unwrap_or_default();
    }
    let mut info: Option<RaceInfo> = None;
    let mut lanes: Vec<LaneHistory> = Vec::new();
    let mut finished = !parts.is_empty();
    for (label, recorder) in parts {
        finished &= recorder.finished;
        if let Some(part) = &recorder.info {
            match &mut info {
                None => {
                    let mut first = part.clone();
                    first.seeds = seeds_of(part);
                    first.reference_lane =
                        part.reference_lane.as_ref().map(|r| format!("{label}/{r}"));
                    info = Some(first);
                }
                Some(info) => {
                    join_once(&mut info.experiment, &part.experiment);
                    join_once(&mut info.data, &part.data);
                    for s in seeds_of(part) {
                        if !info.seeds.contains(&s) {
                            info.seeds.push(s);
                        }
                    }
                    info.total_steps = info.total_steps.max(part.total_steps);
                    info.experts = info.experts.max(part.experts);
                    info.gater_hidden = info.gater_hidden.max(part.gater_hidden);
                }
            }
        }
        let race_seed = recorder.info.as_ref().map_or(0, |i| i.seed);
        for mut lane in recorder.lanes {
            lane.info.name = format!("{label}/{}", lane.info.name);
            // The part's seed, explicit: the merged race's seed may be another part's.
            lane.info.seed = Some(lane.info.seed_or(race_seed));
            lanes.push(lane);
        }
    }
    Recorder {
        info,
        lanes,
        paused: false,
        finished,
        events: Vec::new(),
    }
}

/// The seeds of a race: its list, or its one seed for races recorded before there were lists.
pub fn seeds_of(info: &RaceInfo) -> Vec<u64> {
    if info.seeds.is_empty() {
        vec![info.seed]
    } else {
        info.seeds.clone()
    }
}

/// Appends " + `more`" to `text` unless `more` is already one of its parts.
fn join_once(text: &mut String, more: &str) {
    if !text.split(" + ").any(|p| p == more) {
        text.push_str(" + ");
        text.push_str(more);
    }
}

/// Short labels for `n` parts: A, B, …, Z, AA, AB, ….
pub fn letters(n: usize) -> Vec<String> {
    (0..n)
        .map(|mut i| {
            let mut s = Vec::new();
            loop {
                s.push(b'A' + (i % 26) as u8);
                if i < 26 {
                    break;
                }
                i = i / 26 - 1;
            }
            s.reverse();
            String::from_utf8(s).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::synthetic;

    #[test]
    fn every_lane_is_kept_and_prefixed_with_its_part() {
        let a = synthetic::recorder(3, 200);
        let mut b = synthetic::recorder(2, 400);
        if let Some(i) = &mut b.info {
            i.experiment = "other".into();
            i.seeds = vec![9];
            i.seed = 9;
        }
        // Lanes of a session from before races had seeds run with the race's seed.
        for lane in &mut b.lanes {
            lane.info.seed = None;
        }
        let first_seed = a.info.as_ref().unwrap().seed;
        let one = merge(vec![("A".into(), a.clone())]);
        assert_eq!(one, a, "one part: unchanged");
        let m = merge(vec![("A".into(), a.clone()), ("B".into(), b.clone())]);
        assert_eq!(m.lanes.len(), 5);
        let names: Vec<String> = m.lanes.iter().map(|l| l.info.name.clone()).collect();
        for (lane, part) in a
            .lanes
            .iter()
            .map(|l| ("A", l))
            .chain(b.lanes.iter().map(|l| ("B", l)))
        {
            assert!(
                names.contains(&format!("{lane}/{}", part.info.name)),
                "{names:?}"
            );
        }
        // Histories untouched; the part's race seed made explicit, a lane's own seed kept.
        assert_eq!(m.lanes[3].steps, b.lanes[0].steps);
        assert_eq!(m.lanes[3].info.seed, Some(9));
        assert_eq!(
            m.lanes[0].info.seed,
            a.lanes[0].info.seed.or(Some(first_seed))
        );
        let info = m.info.as_ref().unwrap();
        let first = a.info.as_ref().unwrap();
        assert_eq!(info.experiment, format!("{} + other", first.experiment));
        assert_eq!(info.data, first.data, "the same data set once");
        assert!(info.seeds.contains(&9));
        assert_eq!(
            info.total_steps,
            first.total_steps.max(b.info.as_ref().unwrap().total_steps)
        );
        assert_eq!(m.step(), 400);
        assert!(m.events.is_empty());
    }

    #[test]
    fn letters_run_past_z() {
        let l = letters(28);
        assert_eq!(&l[..3], ["A", "B", "C"]);
        assert_eq!(&l[25..], ["Z", "AA", "AB"]);
        assert_eq!(letters(26 * 27 + 1).last().unwrap(), "AAA");
    }
}
