//! Sessions: round trips, interrupted saves, damaged and foreign files.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::config::{Length, MetricsSpec, builtin::resolve};
use crate::data::{DataSplit, embedded};
use crate::engine::{
    ClassFiring, EngineEvent, EvalPoint, HeatRow, LaneStatus, ProbePoint, Race, StepPoint,
};

/// A two-lane race (unbiased: baselines; noisy rectifier: adaptive L1) on a 784 → 6 → 10 network
/// and 300 digits, run for `steps` steps; its context, history and checkpoint.
fn small_race(steps: u64) -> (SessionContext, Recorder, RaceCheckpoint) {
    let mut e = resolve("quick").unwrap();
    e.network.gater_hidden = 6;
    e.network.experts = 10;
    e.training.length = Length::Steps(100);
    e.metrics = MetricsSpec {
        eval_every: 10,
        probe_every: 7,
        probe_samples: 3,
        probe_batch: 8,
        heat_every: 4,
        chunk_steps: 5,
    };
    e.retain_lanes(|l| l.name == "unbiased" || l.name == "noisy-rectifier" || l.name == "sts");
    let all = embedded();
    let idx: Vec<usize> = (0..300).collect();
    let data = Arc::new(DataSplit {
        name: "tiny".into(),
        train: all.train.subset(&idx, "tiny train"),
        heldout: all.heldout.subset(&idx[..100], "tiny held-out"),
    });
    let ctx = SessionContext {
        experiment: e.clone(),
        data: DataFingerprint::of(&data),
        created: "2025-01-01T00:00:00Z".into(),
    };
    let mut race = Race::new(&e, data, 1).unwrap();
    let mut r = Recorder::new();
    r.apply(race.started_event());
    for ev in race.advance(steps) {
        r.apply(ev);
    }
    (ctx, r, race.checkpoint())
}

/// Events that fill one lane's series past their capacities (so they are downsampled and end
/// with partial points), with awkward floats.
fn long_history_events(lane: usize, units: usize, raw: u64) -> Vec<EngineEvent> {
    let mut events = Vec::new();
    let odd = [0.1f32, -0.0, 1e-40, f32::MAX, 3.0e-8, 2.5];
    let points = (1..=raw)
        .map(|step| StepPoint {
            step,
            count: 1,
            cross_entropy: odd[step as usize % odd.len()] + step as f32 * 1e-4,
            sparsity_penalty: 0.5,
            accuracy: (step % 33) as f32 / 32.0,
            firing_rate: 0.1,
            sparsity_weight: 1e-5 * step as f32,
            dense_main_macs: 1.0e9,
            active_main_macs: step as f64 * 1.5,
            gater_macs: f64::from(step as u32).sqrt(),
            seconds: 0.01,
            evaluations: (1 + step % 4) as f32,
            backward_passes: 1.0,
        })
        .collect();
    events.push(EngineEvent::Steps { lane, points });
    for step in 1..=raw / 2 {
        events.push(EngineEvent::Eval {
            lane,
            point: EvalPoint {
                step,
                count: 1,
                loss: 1.0 / step as f32,
                error: 0.3,
                firing_rate: 0.1,
            },
        });
        events.push(EngineEvent::Probe {
            lane,
            point: ProbePoint {
                step,
                count: 1,
                variance: step as f64 * 1e-9,
                signal: 1e300,
                variance_se: step as f64 * 1e-10,
            },
        });
    }
    for step in 1..=raw / 7 {
        events.push(EngineEvent::Heat {
            lane,
            row: HeatRow {
                step,
                count: 1,
                rates: (0..units)
                    .map(|u| ((u as u64 * 31 + step) % 256) as u8)
                    .collect(),
            },
        });
    }
    events.push(EngineEvent::ClassFiring {
        lane,
        snapshot: ClassFiring {
            step: raw,
            classes: 10,
            units,
            rates: (0..10 * units).map(|i| (i % 251) as u8).collect(),
        },
    });
    events
}

#[test]
fn downsampled_histories_roundtrip_and_continue_exactly() {
    let (ctx, mut r, _) = small_race(3);
    let units = ctx.experiment.network.experts;
    // 3 + 20,002 raw step points: stride 4 with a partial point; 10,001 evaluations and probes
    // (stride 4); 2,857 heat rows (stride 4).
    for lane in 0..r.lanes.len() {
        for e in long_history_events(lane, units, 20_002) {
            r.apply(e);
        }
    }
    r.apply(EngineEvent::Status {
        lane: 1,
        status: LaneStatus::Diverged { step: 20_001 },
    });
    assert!(r.lanes[0].steps.stride() > 1 && r.lanes[0].steps.filled() > 0);
    assert!(r.lanes[0].heat.stride() > 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.ron");
    let saved = save(&path, &ctx, &r, None).unwrap();
    assert!(saved.sidecar.is_none());
    let mut loaded = Session::load(&path).unwrap();
    assert_eq!(loaded.recorder, r);
    assert_eq!(loaded.context, ctx);
    assert!(loaded.checkpoint.is_none());
    assert!(loaded.load_checkpoint().is_err());
    // Both continue identically (the downsampling state came back too).
    for lane in 0..r.lanes.len() {
        for e in long_history_events(lane, units, 5_003) {
            r.apply(e.clone());
            loaded.recorder.apply(e);
        }
    }
    assert_eq!(loaded.recorder, r);
}

#[test]
fn checkpoints_roundtrip_bit_exactly() {
    let (ctx, r, c) = small_race(23);
    assert!(c.lanes.iter().any(|l| l.state.baseline.is_some()));
    assert!(c.lanes.iter().any(|l| l.state.l1.is_some()));
    assert!(c.lanes.iter().any(|l| l.state.velocities.is_some()));
    assert!(c.lanes.iter().any(|l| l.state.velocities.is_none()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ron");
    let saved = save(&path, &ctx, &r, Some(&c)).unwrap();
    let s = Session::load(&path).unwrap();
    assert_eq!(s.sidecar_path(), saved.sidecar);
    let back = s.load_checkpoint().unwrap();
    assert!(back == c);
    assert_eq!(s.recorder, r);
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn an_interrupted_save_leaves_the_previous_session_intact() {
    let (ctx, r1, c1) = small_race(12);
    let (_, r2, c2) = small_race(31);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ron");
    let first = save(&path, &ctx, &r1, Some(&c1)).unwrap();
    let before = dir_names(dir.path());
    let text_before = std::fs::read(&path).unwrap();
    // How many bytes a full second save writes.
    let total = {
        let other = dir.path().join("probe.ron");
        let s = save(&other, &ctx, &r2, Some(&c2)).unwrap();
        std::fs::remove_file(&other).unwrap();
        std::fs::remove_file(s.sidecar.unwrap()).unwrap();
        s.bytes
    };
    // Fail after every 1/37th of the bytes: inside the sidecar, between the files, inside the
    // document, and just before the end.
    // (Saves differ in length by a few bytes: the id is written in decimal.)
    let mut budgets: Vec<u64> = (0..37).map(|i| i * total / 37).collect();
    budgets.push(total - 40);
    let mut degraded = 0;
    for budget in budgets {
        let mut fail = |_: &Path, written: u64| {
            if written > budget {
                Err(std::io::Error::other("disk unplugged"))
            } else {
                Ok(())
            }
        };
        match save_with(&path, &ctx, &r2, Some(&c2), &mut fail) {
            Err(err) => {
                assert!(matches!(err, SessionError::Write(_)), "{err}");
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    text_before,
                    "budget {budget}"
                );
            }
            // Failed inside the checkpoint with room left for the document: the history is
            // saved without it (and the previous checkpoint is left alone).
            Ok(saved) => {
                degraded += 1;
                assert!(saved.sidecar.is_none(), "budget {budget}");
                let e = saved.checkpoint_error.as_ref().expect("what was not saved");
                assert!(e.reason.contains("disk unplugged") && !e.storage_full());
                let s = Session::load(&path).unwrap();
                assert_eq!(s.recorder, r2);
                assert!(s.checkpoint.is_none());
                std::fs::write(&path, &text_before).unwrap();
            }
        }
        assert_eq!(dir_names(dir.path()), before, "budget {budget}");
    }
    assert!(degraded > 0);
    let s = Session::load(&path).unwrap();
    assert_eq!(s.recorder, r1);
    assert!(s.load_checkpoint().unwrap() == c1);
    assert_eq!(s.sidecar_path(), first.sidecar);
    // What a crash (no clean-up at all) leaves behind does not disturb anything either.
    let stray = dir.path().join(".run.ron.tmp-999-0");
    std::fs::write(&stray, &text_before[..text_before.len() / 2]).unwrap();
    std::fs::write(dir.path().join("run.deadbeef.ckpt"), b"GRADRACECKPT half").unwrap();
    let s = Session::load(&path).unwrap();
    assert!(s.load_checkpoint().unwrap() == c1);
    let listed = list_sessions(dir.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].path, path);
}

/// A full device with room for the history but not for the checkpoint: the history is saved
/// (atomically, the document alone), and the result says what was not saved and why.
#[test]
fn a_checkpoint_that_does_not_fit_still_saves_the_history() {
    let (ctx, r, c) = small_race(12);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.ron");
    let mut no_room_for_checkpoints = |file: &Path, _: u64| {
        if file.extension().is_some_and(|e| e == "ckpt") {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            Ok(())
        }
    };
    let saved = save_with(&path, &ctx, &r, Some(&c), &mut no_room_for_checkpoints).unwrap();
    assert!(saved.sidecar.is_none());
    let e = saved.checkpoint_error.clone().unwrap();
    assert!(e.storage_full() && e.bytes > 4 * 10_000, "{e:?}");
    let said = saved.describe();
    assert!(
        said.contains("history only")
            && said.contains("no space left")
            && said.contains("not resumable"),
        "{said}"
    );
    let s = Session::load(&path).unwrap();
    assert_eq!(s.recorder, r);
    assert!(s.checkpoint.is_none());
    // Nothing else is left behind: no partial checkpoint, no temporary file.
    assert_eq!(dir_names(dir.path()), ["full.ron"]);
    // With no room for anything, nothing changes: the previous session stays.
    let before = std::fs::read(&path).unwrap();
    let mut full = |_: &Path, _: u64| Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
    let e = save_with(&path, &ctx, &r, Some(&c), &mut full).unwrap_err();
    assert!(
        e.to_string().contains("the device is full")
            && e.to_string().contains("nor could its checkpoint"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir_names(dir.path()), ["full.ron"]);
}

/// A small valid session document (with a checkpoint record) and its directory.
fn sample_document() -> (tempfile::TempDir, PathBuf, String) {
    document_after(9)
}

/// A valid session document after `steps` steps of [`small_race`], and its directory.
fn document_after(steps: u64) -> (tempfile::TempDir, PathBuf, String) {
    let (ctx, r, c) = small_race(steps);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.ron");
    save(&path, &ctx, &r, Some(&c)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    (dir, path, text)
}

fn parse(text: &str) -> Result<Session, SessionError> {
    Session::parse(text.as_bytes(), Path::new("x.ron"))
}

#[test]
fn damaged_foreign_and_newer_files_are_clear_errors() {
    let (_dir, path, text) = sample_document();
    assert!(parse(&text).is_ok());

    let e = parse("").unwrap_err();
    assert!(e.message().contains("empty"), "{e}");
    let e = parse(crate::config::builtin::BUILTIN[0].1).unwrap_err();
    assert!(e.message().contains("not a gradrace session"), "{e}");
    assert!(e.position().is_some());
    let e = Session::parse(b"\xff\xfe garbage", Path::new("x.ron")).unwrap_err();
    assert!(e.message().contains("UTF-8"), "{e}");

    // Every truncation short of the closing parenthesis is an error, never a shorter session.
    let end = text.rfind(')').unwrap();
    for cut in (0..end).step_by(end / 97 + 1).chain([end - 1, end]) {
        let cut_text = Session::parse(&text.as_bytes()[..cut], Path::new("x.ron"));
        assert!(cut_text.is_err(), "truncated at {cut} of {end}");
    }

    // A newer file (as a newer gradrace writes it: with its checksum).
    let mut newer = text.replacen(&format!("format: {FORMAT},"), "format: 7,", 1);
    let e = parse(&newer).unwrap_err();
    assert!(e.message().contains("checksum does not match"), "{e}");
    assert!(checksum::seal(&mut newer));
    let e = parse(&newer).unwrap_err();
    assert!(e.message().contains("newer"), "{e}");
    assert_eq!(e.position(), Some((3, 5)), "{e}");
    // Even when the rest changed shape too.
    let mut newer = newer.replacen("finished:", "completed:", 1);
    assert!(checksum::seal(&mut newer));
    let e = parse(&newer).unwrap_err();
    assert!(
        e.message().contains("format 7") && e.message().contains("newer"),
        "{e}"
    );

    let wrong = text.replacen("finished: false", "finished: 12", 1);
    let e = parse(&wrong).unwrap_err();
    let line = text[..text.find("finished: false").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert_eq!(e.position().map(|p| p.0), Some(line), "{e}");

    let missing = text.replacen("    finished: false,\n", "", 1);
    let e = parse(&missing).unwrap_err();
    assert!(e.message().contains("finished"), "{e}");

    // Columns of different lengths, with their position.
    let start = text.find("count: Text([1,").unwrap();
    let broken = format!(
        "{}count: Text([1, 1,{}",
        &text[..start],
        &text[start + 15..]
    );
    let e = parse(&broken).unwrap_err();
    assert!(e.message().contains("column"), "{e}");
    assert!(e.position().is_some());

    // The checkpoint's sidecar: missing, truncated, damaged, from another save.
    let s = Session::load(&path).unwrap();
    let side = s.sidecar_path().unwrap();
    let good = std::fs::read(&side).unwrap();
    assert!(s.load_checkpoint().is_ok());
    std::fs::write(&side, &good[..good.len() - 9]).unwrap();
    let e = s.load_checkpoint().unwrap_err();
    assert!(e.message().contains("bytes"), "{e}");
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    std::fs::write(&side, &flipped).unwrap();
    let e = s.load_checkpoint().unwrap_err();
    assert!(e.message().contains("damaged"), "{e}");
    let mut other = good.clone();
    other[16] ^= 1;
    std::fs::write(&side, &other).unwrap();
    let e = s.load_checkpoint().unwrap_err();
    assert!(e.message().contains("another save"), "{e}");
    std::fs::remove_file(&side).unwrap();
    let e = s.load_checkpoint().unwrap_err();
    assert!(e.message().contains("cannot read"), "{e}");
    let escape = text.replacen(".ckpt\"", ".ckpt/../../etc/passwd\"", 1);
    let e = Session::parse_with(escape.as_bytes(), &path, IGNORE_CHECKSUM)
        .unwrap()
        .load_checkpoint()
        .unwrap_err();
    assert!(e.message().contains("plain file name"), "{e}");
}

/// Mutations of a valid document: replace, delete or duplicate a span, put a number where one
/// was, flip a bit, swap two neighbouring digits, or swap two neighbouring values of a list
/// (steps out of order, say).
#[derive(Debug, Clone)]
enum Mutation {
    Byte(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Number(usize, u64),
    Flip(usize, u8),
    SwapDigits(usize),
    SwapValues(usize),
}

fn mutate(text: &str, m: &Mutation) -> Vec<u8> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = b.to_vec();
    match *m {
        Mutation::Byte(i, v) => out[i % n] = v,
        Mutation::Delete(i, len) => {
            let i = i % n;
            out.drain(i..(i + len).min(n));
        }
        Mutation::Duplicate(i, len) => {
            let i = i % n;
            let piece = b[i..(i + len).min(n)].to_vec();
            out.splice(i..i, piece);
        }
        Mutation::Number(i, v) => {
            // Replace the digits of the number at or after position i.
            let Some(start) = (i % n..n).find(|&j| b[j].is_ascii_digit()) else {
                return out;
            };
            let end = (start..n).find(|&j| !b[j].is_ascii_digit()).unwrap_or(n);
            out.splice(start..end, v.to_string().into_bytes());
        }
        Mutation::Flip(i, bit) => out[i % n] ^= 1 << (bit % 8),
        Mutation::SwapDigits(i) => {
            // The first two neighbouring digits at or after i that differ.
            if let Some(j) = (i % n..n.saturating_sub(1))
                .find(|&j| b[j].is_ascii_digit() && b[j + 1].is_ascii_digit() && b[j] != b[j + 1])
            {
                out.swap(j, j + 1);
            }
        }
        Mutation::SwapValues(i) => {
            // The first two neighbouring values of a `Text([a,b,...])` list at or after i.
            // (From a character boundary: an earlier mutation may have left a '�' behind.)
            let from = (i % n..n).find(|&j| text.is_char_boundary(j)).unwrap_or(n);
            let Some(list) = text[from..].find("Text([").map(|p| from + p + 6) else {
                return out;
            };
            let end = list + text[list..].find(']').unwrap_or(0);
            let values: Vec<&str> = text[list..end].split(',').collect();
            if let Some(k) =
                (0..values.len().saturating_sub(1)).find(|&k| values[k] != values[k + 1])
            {
                let mut swapped = values.clone();
                swapped.swap(k, k + 1);
                out.splice(list..end, swapped.join(",").into_bytes());
            }
        }
    }
    out
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Byte(i, v)),
        (any::<usize>(), 1usize..200).prop_map(|(i, l)| Mutation::Delete(i, l)),
        (any::<usize>(), 1usize..200).prop_map(|(i, l)| Mutation::Duplicate(i, l)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u64),
                Just(1),
                Just(2),
                Just(u32::MAX as u64),
                Just(u64::MAX),
                any::<u64>()
            ]
        )
            .prop_map(|(i, v)| Mutation::Number(i, v)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::SwapDigits),
        any::<usize>().prop_map(Mutation::SwapValues),
    ]
}

/// What every loaded history keeps, checked independently of the loader: steps from 1 and
/// increasing, points covering at least one raw point, heat rows as wide as the race has
/// experts, and the values the engine promises (finite losses, fractions in [0, 1], finite
/// non-negative counts and times).
fn assert_invariants(s: &Session) {
    let r = &s.recorder;
    let experts = r.info.as_ref().unwrap().experts;
    let increasing = |what: &str, points: Vec<(u64, u32)>| {
        let mut previous = 0;
        for (step, count) in points {
            assert!(step > previous, "{what}: step {step} after {previous}");
            assert!(count > 0, "{what}: a point of 0 raw points");
            previous = step;
        }
    };
    let fraction = |v: f32| (0.0..=1.0).contains(&v);
    let count = |v: f64| v.is_finite() && v >= 0.0;
    for l in &r.lanes {
        increasing("steps", l.steps.iter().map(|p| (p.step, p.count)).collect());
        increasing("evals", l.evals.iter().map(|p| (p.step, p.count)).collect());
        increasing(
            "probes",
            l.probes.iter().map(|p| (p.step, p.count)).collect(),
        );
        increasing("heat", l.heat.iter().map(|p| (p.step, p.count)).collect());
        assert!(l.heat.iter().all(|h| h.rates.len() == experts));
        for p in l.steps.iter() {
            assert!(p.cross_entropy.is_finite(), "{p:?}");
            assert!(fraction(p.accuracy) && fraction(p.firing_rate), "{p:?}");
            for v in [
                f64::from(p.sparsity_weight),
                p.dense_main_macs,
                p.active_main_macs,
                p.gater_macs,
                f64::from(p.seconds),
                f64::from(p.evaluations),
                f64::from(p.backward_passes),
            ] {
                assert!(count(v), "{p:?}");
            }
        }
        for p in l.evals.iter() {
            assert!(fraction(p.error) && fraction(p.firing_rate), "{p:?}");
        }
    }
}

/// Everything a replay or a resumed race does with a loaded session.
fn exercise(s: &Session) {
    let mut r = s.recorder.clone();
    let _ = r.summaries();
    let _ = crate::cli::replay::text(s, false);
    replay_dashboard(&r);
    let units = r.info.as_ref().map_or(0, |i| i.experts);
    for lane in 0..r.lanes.len() {
        for e in long_history_events(lane, units, 40) {
            r.apply(e);
        }
    }
    let _ = r.summaries();
    if let Ok(c) = s.load_checkpoint()
        && let Ok(mut race) = Race::resume(&s.context.experiment, Arc::new(small_data()), c, 1)
    {
        for e in race.advance(3) {
            r.apply(e);
        }
    }
}

/// The replay dashboard on `recorder`: every panel drawn, on a large and a cramped screen, at
/// the end, the start and in between, with the toggles of every panel flipped.
fn replay_dashboard(recorder: &Recorder) {
    use crate::tui::app::App;
    use crate::tui::keys::Action;
    use crate::tui::panels::{draw, test_support::rendered};
    let mut app = App::replay(recorder.clone(), std::time::Instant::now());
    let draw_all = |app: &App| {
        for (w, h) in [(160, 48), (50, 14)] {
            rendered(w, h, |frame, _| draw(frame, app));
        }
    };
    draw_all(&app);
    for action in [
        Action::SeekStart,
        Action::SeekForwardFar,
        Action::LogScale,
        Action::Smoothing,
        Action::Window,
        Action::HeatMode,
        Action::UnitOrder,
        Action::VarianceMode,
        Action::SortNext,
        Action::FocusNext,
    ] {
        app.act(action);
        draw_all(&app);
    }
}

fn small_data() -> DataSplit {
    let all = embedded();
    let idx: Vec<usize> = (0..300).collect();
    DataSplit {
        name: "tiny".into(),
        train: all.train.subset(&idx, "tiny train"),
        heldout: all.heldout.subset(&idx[..100], "tiny held-out"),
    }
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(2028))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Session::parse(&bytes, Path::new("x.ron"));
        let mut prefixed = b"GradraceSession(".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = Session::parse(&prefixed, Path::new("x.ron"));
    }
}

/// `text` after the mutations `ms`.
fn mutated(text: &str, ms: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for m in ms {
        let t = String::from_utf8_lossy(&bytes).into_owned();
        bytes = mutate(&t, m);
    }
    bytes
}

const IGNORE_CHECKSUM: LoadOptions = LoadOptions {
    ignore_checksum: true,
};

/// Every changed document is refused, with the file, line and column: by the parser, by the
/// checks of each history while parsing, or by the checksum. The one exception is a document
/// whose checksum field is gone, which reads as one written before checksums: it must then keep
/// every invariant (see the next test).
#[test]
fn mutated_sessions_are_refused_with_a_position() {
    let (_dir, path, text) = sample_document();
    assert!(Session::parse(text.as_bytes(), &path).is_ok());
    let mut runner = proptest::test_runner::TestRunner::new(crate::testing::proptest_config(2031));
    runner
        .run(&proptest::collection::vec(mutation(), 1..4), |ms| {
            let bytes = mutated(&text, &ms);
            if bytes == text.as_bytes() {
                return Ok(());
            }
            let without_checksum = !String::from_utf8_lossy(&bytes).contains("checksum");
            match Session::parse(&bytes, &path) {
                Ok(s) => {
                    prop_assert!(without_checksum, "a changed document was accepted: {ms:?}");
                    assert_invariants(&s);
                }
                Err(e) => {
                    prop_assert!(
                        e.position().is_some() || without_checksum,
                        "{ms:?}: refused without a position: {e}"
                    );
                    prop_assert!(e.to_string().starts_with(&*path.to_string_lossy()));
                }
            }
            Ok(())
        })
        .unwrap();
}

/// With the checksum ignored (a deliberate hand edit), a changed document is either refused or
/// keeps every invariant of a history, and replays and resumes without a panic: it is never
/// shown with steps out of order, empty points or values the engine never records.
#[test]
fn mutated_sessions_read_without_checksum_keep_every_invariant_and_never_panic() {
    let (_dir, path, text) = sample_document();
    let mut runner = proptest::test_runner::TestRunner::new(crate::testing::proptest_config(2032));
    runner
        .run(&proptest::collection::vec(mutation(), 1..4), |ms| {
            let bytes = mutated(&text, &ms);
            if let Ok(s) = Session::parse_with(&bytes, &path, IGNORE_CHECKSUM) {
                assert_invariants(&s);
                exercise(&s);
            }
            Ok(())
        })
        .unwrap();
}

/// Bit flips anywhere in a document (the "6 of 10 loaded silently") are all refused,
/// with a position.
#[test]
fn every_bit_flip_is_refused() {
    let (_dir, path, text) = sample_document();
    let n = text.len();
    for k in 0..400 {
        let i = k * n / 400;
        let bit = (k * 7 % 8) as u8;
        let bytes = mutate(&text, &Mutation::Flip(i, bit));
        let e = Session::parse(&bytes, &path).expect_err(&format!("byte {i} bit {bit}"));
        assert!(e.position().is_some(), "byte {i} bit {bit}: {e}");
    }
}

/// The case: one digit of an evaluation's step column changed. The checksum refuses
/// it; read without the checksum, a step out of order is refused by validation (positioned,
/// naming the rule), and the same edit that keeps the steps in order is a deliberate edit that
/// loads.
#[test]
fn a_changed_evaluation_step_is_refused() {
    let (_dir, path, text) = document_after(31);
    let evals = text.find("evals:").unwrap();
    let steps = evals + text[evals..].find("step: Text([").unwrap() + 12;
    let end = steps + text[steps..].find(']').unwrap();
    let values: Vec<u64> = text[steps..end]
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    assert!(values.len() >= 3, "{values:?}");
    let with = |v: &[u64]| {
        let list = v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        format!("{}{list}{}", &text[..steps], &text[end..])
    };
    // The second evaluation moved after the third: out of order.
    let mut out_of_order = values.clone();
    out_of_order[1] = values[2] + 1;
    let bad = with(&out_of_order);
    let e = Session::parse(bad.as_bytes(), &path).unwrap_err();
    assert!(e.message().contains("checksum"), "{e}");
    assert!(e.position().is_some());
    let e = Session::parse_with(bad.as_bytes(), &path, IGNORE_CHECKSUM).unwrap_err();
    assert!(
        e.message().contains("steps must start at 1 and increase"),
        "{e}"
    );
    let line = text[..steps].matches('\n').count() + 1;
    assert!(e.position().is_some_and(|(l, _)| l >= line), "{e}");
    // Swapped with its neighbour: out of order too.
    let mut swapped = values.clone();
    swapped.swap(0, 1);
    assert!(Session::parse_with(with(&swapped).as_bytes(), &path, IGNORE_CHECKSUM).is_err());
    // Still in order: only the checksum can tell, and `--ignore-checksum` reads it as edited.
    let mut edited = values.clone();
    edited[0] = values[0] - 1;
    let edited = with(&edited);
    assert!(Session::parse(edited.as_bytes(), &path).is_err());
    let s = Session::parse_with(edited.as_bytes(), &path, IGNORE_CHECKSUM).unwrap();
    assert_eq!(
        s.recorder.lanes[0].evals.iter().next().unwrap().step,
        values[0] - 1
    );
}

/// Values the engine never records (a non-finite training loss, an error rate above 1) are
/// refused even when the checksum is ignored; a document without a checksum (written before
/// checksums) loads.
#[test]
fn broken_promises_are_refused_and_documents_without_checksum_load() {
    let (_dir, path, text) = document_after(31);
    let start = text.find("cross_entropy: Text([").unwrap() + 21;
    let end = start + text[start..].find(',').unwrap();
    let nan = format!("{}NaN{}", &text[..start], &text[end..]);
    let e = Session::parse_with(nan.as_bytes(), &path, IGNORE_CHECKSUM).unwrap_err();
    assert!(
        e.message().contains("`cross_entropy` = NaN must be finite"),
        "{e}"
    );
    let start = text.find("error: Text([").unwrap() + 13;
    let end = start + text[start..].find(',').unwrap();
    let above = format!("{}1.5{}", &text[..start], &text[end..]);
    let e = Session::parse_with(above.as_bytes(), &path, IGNORE_CHECKSUM).unwrap_err();
    assert!(e.message().contains("must be a fraction in [0, 1]"), "{e}");

    let line = text.lines().find(|l| l.contains("checksum:")).unwrap();
    assert!(line.trim().starts_with("checksum: \"crc32:"), "{line}");
    let old = text.replacen(&format!("{line}\n"), "", 1);
    let s = Session::parse(old.as_bytes(), &path).unwrap();
    assert_eq!(s, Session::parse(text.as_bytes(), &path).unwrap());
}
