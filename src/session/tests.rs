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
    for budget in budgets {
        let mut fail = |written: u64| {
            if written > budget {
                Err(std::io::Error::other("disk unplugged"))
            } else {
                Ok(())
            }
        };
        let err = save_with(&path, &ctx, &r2, Some(&c2), &mut fail).unwrap_err();
        assert!(matches!(err, SessionError::Write(_)), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            text_before,
            "budget {budget}"
        );
        assert_eq!(dir_names(dir.path()), before, "budget {budget}");
    }
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

/// A small valid session document (with a checkpoint record) and its directory.
fn sample_document() -> (tempfile::TempDir, PathBuf, String) {
    let (ctx, r, c) = small_race(9);
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

    let newer = text.replacen(&format!("format: {FORMAT},"), "format: 7,", 1);
    let e = parse(&newer).unwrap_err();
    assert!(e.message().contains("newer"), "{e}");
    // Even when the rest changed shape too.
    let newer = newer.replacen("finished:", "completed:", 1);
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
    let e = Session::parse(escape.as_bytes(), &path)
        .unwrap()
        .load_checkpoint()
        .unwrap_err();
    assert!(e.message().contains("plain file name"), "{e}");
}

/// Mutations of a valid document: replace, delete or duplicate a span, or put a number where
/// one was.
#[derive(Debug, Clone)]
enum Mutation {
    Byte(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Number(usize, u64),
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
    ]
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
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Session::parse(&bytes, Path::new("x.ron"));
        let mut prefixed = b"GradraceSession(".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = Session::parse(&prefixed, Path::new("x.ron"));
    }
}

#[test]
fn mutated_sessions_never_panic() {
    let (_dir, path, text) = sample_document();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::default());
    runner
        .run(&proptest::collection::vec(mutation(), 1..4), |ms| {
            let mut bytes = text.as_bytes().to_vec();
            for m in &ms {
                let t = String::from_utf8_lossy(&bytes).into_owned();
                bytes = mutate(&t, m);
            }
            if let Ok(s) = Session::parse(&bytes, &path) {
                exercise(&s);
            }
            Ok(())
        })
        .unwrap();
}
