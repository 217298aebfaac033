//! Publishing saved races from the binary: `table`, `export`, `plot` and `replay` of one session
//! or several; the export read back value by value, bit for bit; figures that are valid SVG and
//! PNG with one series per lane; bad input refused with exit code 2.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use gradrace::engine::metrics::Metrics;
use gradrace::engine::{EvalPoint, ProbePoint, StepPoint, TrajectoryPoint};
use gradrace::history::LaneHistory;
use gradrace::session::Session;

const V1: &str = "tests/fixtures/session-v1.ron";
const SAMPLE: &str = "assets/sample-session.ron";
const TINY: &str = "tests/fixtures/tiny-experiment.ron";

fn gradrace() -> Command {
    Command::cargo_bin("gradrace").unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A three-seed race of the tiny experiment (40 steps, a same-trajectory probe), saved in `dir`.
fn seeded_session(dir: &Path) -> PathBuf {
    let experiment = std::fs::read_to_string(TINY).unwrap().replace(
        "lanes: [",
        "same_trajectory: (reference_lane: \"sts\", reference_samples: 4),\n    lanes: [",
    );
    let file = dir.join("tiny-seeds.ron");
    std::fs::write(&file, experiment).unwrap();
    let session = dir.join("seeded.ron");
    let out = gradrace()
        .args([
            "race",
            file.to_str().unwrap(),
            "--seeds",
            "3",
            "--steps",
            "40",
        ])
        .args([
            "--headless",
            "--autosave",
            "0",
            "--out",
            session.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    session
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// `text` read back in `ty` and compared bit for bit with `want` (the declared value as f64).
fn same_bits(text: &str, ty: &str, want: f64, what: &str) {
    let got = match ty {
        "f32" => f64::from(
            text.parse::<f32>()
                .unwrap_or_else(|e| panic!("{what}: {text}: {e}")),
        ),
        "f64" => text
            .parse::<f64>()
            .unwrap_or_else(|e| panic!("{what}: {text}: {e}")),
        other => panic!("{what}: type {other}"),
    };
    assert!(
        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
        "{what}: {text} read as {got}, recorded {want}"
    );
}

/// Every declared value of every point of `P` of every lane, keyed by (lane, seed, kind, step,
/// metric).
fn declared<P: Metrics>(
    out: &mut HashMap<(String, String, String, String, String), f64>,
    lanes: &[LaneHistory],
    race_seed: u64,
    kind: &str,
    series: impl Fn(&LaneHistory) -> Vec<P>,
) {
    for h in lanes {
        for p in series(h) {
            for m in P::METRICS {
                let key = (
                    h.info.name.clone(),
                    h.info.seed_or(race_seed).to_string(),
                    kind.to_string(),
                    p.step().to_string(),
                    m.name.to_string(),
                );
                assert!(
                    out.insert(key, (m.value)(&p)).is_none(),
                    "one value per key"
                );
            }
        }
    }
}

fn all_declared(s: &Session) -> HashMap<(String, String, String, String, String), f64> {
    let r = &s.recorder;
    let seed = r.info.as_ref().unwrap().seed;
    let mut all = HashMap::new();
    declared::<StepPoint>(&mut all, &r.lanes, seed, "step", |h| h.steps.to_vec());
    declared::<EvalPoint>(&mut all, &r.lanes, seed, "eval", |h| h.evals.to_vec());
    declared::<ProbePoint>(&mut all, &r.lanes, seed, "probe", |h| h.probes.to_vec());
    declared::<TrajectoryPoint>(&mut all, &r.lanes, seed, "trajectory", |h| {
        h.trajectory.to_vec()
    });
    all
}

/// Every value of the tidy CSV equals the session's, bit for bit in its recorded type, and every
/// recorded value is there exactly once; the per-kind files agree with it.
#[test]
fn the_csv_export_holds_every_recorded_value_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let session = seeded_session(tmp.path());
    for file in [session.as_path(), Path::new(V1)] {
        let out_dir = tmp.path().join(format!(
            "csv-{}",
            file.file_stem().unwrap().to_string_lossy()
        ));
        let out = gradrace()
            .args(["export", file.to_str().unwrap(), "--csv"])
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let s = Session::load(file).unwrap();
        let mut want = all_declared(&s);
        assert!(want.keys().any(|k| k.2 == "eval"));
        let (_, dictionary) = read_csv(&out_dir.join("dictionary.csv"));
        let types: HashMap<(String, String), String> = dictionary
            .iter()
            .map(|r| ((r[0].clone(), r[1].clone()), r[4].clone()))
            .collect();
        let (header, rows) = read_csv(&out_dir.join("metrics.csv"));
        assert_eq!(
            header,
            [
                "session",
                "lane",
                "seed",
                "kind",
                "step",
                "count",
                "examples_seen",
                "evaluations_so_far",
                "seconds_so_far",
                "metric",
                "value"
            ]
        );
        let batch = s.recorder.info.as_ref().unwrap().batch_size as u64;
        for row in &rows {
            assert_eq!(row[0], "A");
            let key = (
                row[1].clone(),
                row[2].clone(),
                row[3].clone(),
                row[4].clone(),
                row[9].clone(),
            );
            let value = want
                .remove(&key)
                .unwrap_or_else(|| panic!("{key:?} exported twice or never recorded"));
            let ty = &types[&(row[3].clone(), row[9].clone())];
            same_bits(&row[10], ty, value, &format!("{key:?}"));
            let step: u64 = row[4].parse().unwrap();
            assert_eq!(
                row[6].parse::<u64>().unwrap(),
                step * batch,
                "examples seen"
            );
        }
        assert!(
            want.is_empty(),
            "not exported: {:?}",
            want.keys().take(3).collect::<Vec<_>>()
        );
        // The wide file of training steps: the same values, one row per point.
        let (header, rows) = read_csv(&out_dir.join("steps.csv"));
        let lanes = &s.recorder.lanes;
        assert_eq!(
            rows.len(),
            lanes.iter().map(|h| h.steps.len()).sum::<usize>()
        );
        let mut i = 0;
        for h in lanes {
            let mut evaluations = 0.0f64;
            for p in h.steps.iter() {
                let row = &rows[i];
                i += 1;
                assert_eq!(
                    (row[1].as_str(), row[3].parse::<u64>().unwrap()),
                    (h.info.name.as_str(), p.step)
                );
                evaluations += f64::from(p.evaluations) * f64::from(p.count);
                assert_eq!(
                    row[6].parse::<f64>().unwrap(),
                    evaluations,
                    "cumulative evaluations"
                );
                for m in StepPoint::METRICS {
                    let col = header.iter().position(|c| c == m.name).unwrap();
                    same_bits(
                        &row[col],
                        &types[&("step".into(), m.name.into())],
                        (m.value)(p),
                        m.name,
                    );
                }
            }
        }
        // Heat rows as recorded, one column per unit.
        let (header, rows) = read_csv(&out_dir.join("heat.csv"));
        let units = s.recorder.info.as_ref().unwrap().experts;
        assert_eq!(header.iter().filter(|c| c.starts_with('u')).count(), units);
        let first = &lanes[0].heat.to_vec()[0];
        let cells: Vec<u8> = rows[0][8..].iter().map(|c| c.parse().unwrap()).collect();
        assert_eq!(cells, first.rates);
        for name in [
            "evals",
            "probes",
            "trajectory",
            "class_firing",
            "lanes",
            "sessions",
        ] {
            assert!(out_dir.join(format!("{name}.csv")).is_file(), "{name}");
        }
        let (_, lanes_rows) = read_csv(&out_dir.join("lanes.csv"));
        assert_eq!(lanes_rows.len(), lanes.len());
    }
}

/// The JSON Lines export holds the same values, `rates` as arrays.
#[test]
fn the_jsonl_export_holds_the_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("jsonl");
    let out = gradrace()
        .args(["export", V1, "--jsonl"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = Session::load(Path::new(V1)).unwrap();
    let mut want = all_declared(&s);
    let types: HashMap<(String, String), String> =
        std::fs::read_to_string(dir.join("dictionary.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let field = |k: &str| v[k].as_str().unwrap().to_string();
                ((field("kind"), field("metric")), field("type"))
            })
            .collect();
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = (
            v["lane"].as_str().unwrap().to_string(),
            v["seed"].as_u64().unwrap().to_string(),
            v["kind"].as_str().unwrap().to_string(),
            v["step"].as_u64().unwrap().to_string(),
            v["metric"].as_str().unwrap().to_string(),
        );
        let recorded = want.remove(&key).unwrap();
        // JSON has no NaN: a value not measured (an older session's) is null.
        if v["value"].is_null() {
            assert!(recorded.is_nan(), "{key:?}: null for {recorded}");
            continue;
        }
        // The number's own text, read exactly in its recorded type (serde_json's own float
        // parsing may miss the last bit without its float_roundtrip feature).
        let start = line.find("\"value\":").unwrap() + "\"value\":".len();
        let number = &line[start..line[start..].find(['}', ',']).unwrap() + start];
        assert!(v["value"].is_number(), "{key:?}: {number}");
        same_bits(
            number,
            &types[&(key.2.clone(), key.4.clone())],
            recorded,
            &format!("{key:?}"),
        );
    }
    assert!(want.is_empty());
    let heat = std::fs::read_to_string(dir.join("heat.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(heat.lines().next().unwrap()).unwrap();
    assert_eq!(first["rates"].as_array().unwrap().len(), 8);
}

#[test]
fn export_into_a_directory_with_files_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let out = gradrace()
        .args(["export", V1, "--csv"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing written"
    );
    let out = gradrace()
        .args(["export", V1, "--csv"])
        .arg(&dir)
        .arg("--force")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "mine"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "no temporary file left: {names:?}"
    );
    // Neither or both of --csv and --jsonl, a missing session, plot into a full directory.
    for args in [
        vec!["export", V1],
        vec!["export", V1, "--csv", "a", "--jsonl", "b"],
        vec!["export", "no-such.ron", "--csv", "x"],
    ] {
        let out = gradrace().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = gradrace()
        .args(["plot", V1, "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn the_table_of_a_session_without_seeds_has_no_intervals() {
    let out = gradrace().args(["table", V1]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for lane in ["unbiased", "sts", "rectifier"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(lane))
            .unwrap_or_else(|| panic!("{lane}: {text}"));
        assert!(!row.contains('±'), "{row}");
        assert!(row.contains(" 1 "), "n = 1: {row}");
    }
    assert!(text.contains("95% confidence interval"), "{text}");
    assert!(text.contains("seed 5"), "{text}");
    // Every format.
    let md = stdout(
        &gradrace()
            .args(["table", V1, "--format", "markdown"])
            .output()
            .unwrap(),
    );
    assert!(
        md.contains("| lane | estimator | n |") && md.contains("| ---: |"),
        "{md}"
    );
    let tex = stdout(
        &gradrace()
            .args(["table", V1, "--format", "latex"])
            .output()
            .unwrap(),
    );
    for part in [
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        "\\begin{tabular}",
        "\\caption{",
    ] {
        assert!(tex.contains(part), "{part}: {tex}");
    }
    let csv_text = stdout(
        &gradrace()
            .args(["table", V1, "--format", "csv"])
            .output()
            .unwrap(),
    );
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let s = Session::load(Path::new(V1)).unwrap();
    let last = s.recorder.lanes[0].evals.last().unwrap().error;
    let header = r.headers().unwrap().clone();
    let col = header.iter().position(|h| h == "last_error_pct").unwrap();
    assert_eq!(
        rows[0][col].parse::<f64>().unwrap(),
        100.0 * f64::from(last)
    );
    let ci = header
        .iter()
        .position(|h| h == "last_error_ci95_pct")
        .unwrap();
    assert_eq!(&rows[0][ci], "", "no interval with one seed");
}

#[test]
fn the_table_of_seeds_has_intervals_and_several_sessions_are_prefixed_and_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let session = seeded_session(tmp.path());
    let out = gradrace().arg("table").arg(&session).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text.lines().find(|l| l.starts_with("sts")).unwrap();
    assert!(row.contains('±') && row.contains(" 3 "), "{row}");
    assert!(text.contains("(reference)"), "{text}");
    // With the golden session of another experiment: one table, lanes prefixed, the difference
    // said.
    let out = gradrace()
        .arg("table")
        .arg(&session)
        .arg(V1)
        .args(["--labels", "new,old"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("new/sts") && text.contains("old/sts"),
        "{text}"
    );
    assert!(text.contains("The sessions differ"), "{text}");
    // The replay of both as one race.
    let out = gradrace()
        .arg("replay")
        .arg(&session)
        .arg(V1)
        .arg("--text")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("2 sessions as one race"), "{text}");
    assert!(
        text.contains("A/unbiased") && text.contains("B/rectifier"),
        "{text}"
    );
    assert!(
        text.contains("another experiment") || text.contains("differ"),
        "{text}"
    );
    // Labels must match the sessions.
    let out = gradrace()
        .args(["table", V1, "--labels", "a,b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `table --out FILE` writes what standard output would show; an existing FILE needs --force,
/// and a session being read is never replaced, even with --force (exit code 2, file untouched).
#[test]
fn table_out_writes_a_new_file_and_replaces_only_with_force_and_never_a_session() {
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("run.ron");
    std::fs::copy(V1, &session).unwrap();
    let shown = stdout(&gradrace().arg("table").arg(&session).output().unwrap());
    let file = tmp.path().join("tables/run.txt");
    let table = |file: &Path, force: bool| {
        let mut cmd = gradrace();
        cmd.arg("table").arg(&session).arg("--out").arg(file);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    let out = table(&file, false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), shown.trim());
    std::fs::write(&file, "mine").unwrap();
    let out = table(&file, false);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    let out = table(&file, true);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), shown.trim());
    let before = std::fs::read(&session).unwrap();
    let out = table(&tmp.path().join("tables/../run.ron"), true);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("files being read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&session).unwrap(), before);
}

/// An experiment given instead of a session stands for its latest saved race in `sessions/`
/// (said on standard error); with none saved, exit code 2 and the command that makes one.
#[test]
fn an_experiment_stands_for_its_latest_saved_race() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = format!("{}/{TINY}", env!("CARGO_MANIFEST_DIR"));
    for given in ["paper-mnist", tiny.as_str()] {
        let out = gradrace()
            .current_dir(tmp.path())
            .args(["table", given])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{given}");
        let err = stderr(&out);
        assert!(
            err.contains("not a gradrace session but an experiment"),
            "{err}"
        );
        assert!(err.contains("gradrace race"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let sessions = tmp.path().join("sessions");
    std::fs::create_dir(&sessions).unwrap();
    let older = sessions.join("tiny-older.ron");
    std::fs::copy(V1, &older).unwrap();
    let newer = seeded_session(&sessions);
    let out = gradrace()
        .current_dir(tmp.path())
        .args(["table", &tiny, "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "reading its latest saved race, sessions/{}",
            newer.file_name().unwrap().to_string_lossy()
        )),
        "{}",
        stderr(&out)
    );
    let text = stdout(&out);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let n = r.headers().unwrap().iter().position(|h| h == "n").unwrap();
    for row in r.records() {
        assert_eq!(&row.unwrap()[n], "3", "the three-seed race, saved last");
    }
    // The session an experiment stood for is one of the files read: --out never replaces it.
    let before = std::fs::read(&newer).unwrap();
    let out = gradrace()
        .current_dir(tmp.path())
        .args(["table", &tiny, "--force", "--out"])
        .arg(&newer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("files being read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&newer).unwrap(), before);
}

/// A damaged or foreign file is refused by every command with exit code 2, its name and the
/// line and column of the problem, and no panic.
#[test]
fn a_damaged_session_is_refused_with_its_file_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(V1).unwrap();
    let damaged = tmp.path().join("damaged.ron");
    // A number where the race's description expects a string, on a known line.
    let (line, text) = good
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("experiment_name:"))
        .unwrap();
    let broken: String = good
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                format!(
                    "{}experiment_name: 42,\n",
                    &text[..text.len() - text.trim_start().len()]
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&damaged, broken).unwrap();
    let foreign = tmp.path().join("notes.ron");
    std::fs::write(&foreign, "(a: 1)\n").unwrap();
    let out_dir = tmp.path().join("out");
    for file in [&damaged, &foreign] {
        let f = file.to_str().unwrap();
        let o = out_dir.to_str().unwrap();
        for args in [
            vec!["table", f],
            vec!["export", f, "--csv", o],
            vec!["export", V1, f, "--jsonl", o],
            vec!["plot", f, "--out", o],
            vec!["replay", V1, f, "--text"],
        ] {
            let out = gradrace().args(&args).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(f), "{args:?}: names the file: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(!out_dir.exists(), "{args:?}: nothing written");
        }
    }
    let err = stderr(
        &gradrace()
            .args(["table", damaged.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert!(
        err.contains(&format!("{}:{}:", damaged.display(), line + 1)),
        "line of the problem: {err}"
    );
    let err = stderr(
        &gradrace()
            .args(["table", foreign.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert!(err.contains(&format!("{}:1:1", foreign.display())), "{err}");
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom, from a printed table.
fn t975(df: usize) -> f64 {
    [12.706, 4.303, 3.182, 2.776, 2.571][df - 1]
}

/// Mean and 95% half-width, computed here from the definition: x̄ ± t · s / √n.
fn mean_hw(v: &[f64]) -> (f64, Option<f64>) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, None);
    }
    let s = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    (mean, Some(t975(v.len() - 1) * s / n.sqrt()))
}

fn close(got: &str, want: f64, what: &str) {
    let g: f64 = got
        .parse()
        .unwrap_or_else(|e| panic!("{what}: {got:?}: {e}"));
    assert!(
        (g - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: {g} vs {want}"
    );
}

/// The table's numbers, recomputed from the session's evaluations: per lane, every seed's best
/// and last held-out error and test-time firing, their mean and t interval, and the paired
/// difference of last errors from the reference lane; the Markdown and LaTeX tables show the
/// same numbers rounded.
#[test]
fn the_table_is_the_mean_and_t_interval_of_each_seeds_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let session = seeded_session(tmp.path());
    let s = Session::load(&session).unwrap();
    let out = gradrace()
        .arg("table")
        .arg(&session)
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let names = ["unbiased", "sts", "rectifier"];
    assert_eq!(
        rows.iter().map(|r| r[0].to_string()).collect::<Vec<_>>(),
        names
    );
    let per_seed = |lane: &str| -> Vec<(u64, f64, f64, f64)> {
        s.recorder
            .lanes
            .iter()
            .filter(|h| h.info.name == lane)
            .map(|h| {
                let evals = h.evals.to_vec();
                let best = evals
                    .iter()
                    .map(|e| f64::from(e.error))
                    .fold(f64::MAX, f64::min);
                let last = evals.last().unwrap();
                (
                    h.info.seed.unwrap(),
                    best,
                    f64::from(last.error),
                    f64::from(last.firing_rate),
                )
            })
            .collect()
    };
    let reference = per_seed("sts");
    let md = stdout(
        &gradrace()
            .arg("table")
            .arg(&session)
            .args(["--format", "markdown"])
            .output()
            .unwrap(),
    );
    let tex = stdout(
        &gradrace()
            .arg("table")
            .arg(&session)
            .args(["--format", "latex"])
            .output()
            .unwrap(),
    );
    for (row, lane) in rows.iter().zip(names) {
        let seeds = per_seed(lane);
        assert_eq!(seeds.len(), 3);
        assert_eq!(&row[col("n")], "3");
        for (what, values) in [
            ("best_error", seeds.iter().map(|s| s.1).collect::<Vec<_>>()),
            ("last_error", seeds.iter().map(|s| s.2).collect()),
            ("test_firing", seeds.iter().map(|s| s.3).collect()),
        ] {
            let (mean, hw) = mean_hw(&values);
            close(
                &row[col(&format!("{what}_pct"))],
                100.0 * mean,
                &format!("{lane} {what}"),
            );
            close(
                &row[col(&format!("{what}_ci95_pct"))],
                100.0 * hw.unwrap(),
                &format!("{lane} {what} ci"),
            );
            if what == "last_error" {
                let cell = format!("{:.2} ± {:.2}", 100.0 * mean, 100.0 * hw.unwrap());
                let md_row = md
                    .lines()
                    .find(|l| l.starts_with(&format!("| {lane} |")))
                    .unwrap();
                assert!(md_row.contains(&cell), "{cell} in {md_row}");
                let tex_cell = cell.replace(" ± ", " $\\pm$ ");
                let tex_row = tex.lines().find(|l| l.starts_with(lane)).unwrap();
                assert!(tex_row.contains(&tex_cell), "{tex_cell} in {tex_row}");
            }
        }
        if lane == "sts" {
            assert_eq!(&row[col("last_vs_reference_significant")], "reference");
            assert_eq!(&row[col("last_vs_reference_pct")], "");
        } else {
            let diffs: Vec<f64> = seeds
                .iter()
                .map(|a| a.2 - reference.iter().find(|b| b.0 == a.0).unwrap().2)
                .collect();
            let (mean, hw) = mean_hw(&diffs);
            close(
                &row[col("last_vs_reference_pct")],
                100.0 * mean,
                &format!("{lane} paired"),
            );
            close(
                &row[col("last_vs_reference_ci95_pct")],
                100.0 * hw.unwrap(),
                &format!("{lane} paired ci"),
            );
            let significant = (mean.abs() > hw.unwrap()).to_string();
            assert_eq!(
                &row[col("last_vs_reference_significant")],
                significant.as_str()
            );
        }
    }
    // The LaTeX table is complete booktabs with the caption's interval note.
    for part in [
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        "Student's t",
        "3 seeds 5--7",
    ] {
        assert!(tex.contains(part), "{part}: {tex}");
    }
    assert!(
        md.contains("3 seeds 5–7") && md.contains("(reference)"),
        "{md}"
    );
}

/// The text elements of an SVG document, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(body.trim().to_string())
        })
        .collect()
}

/// Polylines drawn in `color` (the curves and their legend samples).
fn polylines_in(svg: &str, color: &str) -> usize {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p[..p.find("/>").unwrap_or(p.len())].contains(color))
        .count()
}

#[test]
fn the_figures_are_valid_svg_and_png_with_a_series_per_lane() {
    let tmp = tempfile::tempdir().unwrap();
    let session = seeded_session(tmp.path());
    let dir = tmp.path().join("svg");
    let out = gradrace()
        .arg("plot")
        .arg(&session)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = Session::load(&session).unwrap();
    let lanes = ["unbiased", "sts", "rectifier"];
    // The dashboard's Okabe–Ito colours, in lane order.
    let colors = ["#E69F00", "#56B4E9", "#009E73"];
    let opts = resvg::usvg::Options::default();
    for name in [
        "heldout-error",
        "training-loss",
        "estimator-variance",
        "compute-savings",
        "firing-heatmap-sts",
    ] {
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        resvg::usvg::Tree::from_str(&svg, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        match name {
            "heldout-error" | "training-loss" => {
                for c in colors {
                    // The curve and its legend sample.
                    assert_eq!(polylines_in(&svg, c), 2, "{name} {c}");
                }
                for l in lanes {
                    assert!(
                        svg_texts(&svg).contains(&l.to_string()),
                        "{name}: legend {l}"
                    );
                }
                // Three seeds: one band per lane.
                assert_eq!(svg.matches("<polygon").count(), lanes.len(), "{name}");
            }
            "estimator-variance" => {
                // Every gated lane's estimate has noise: one curve each.
                let with_noise = s
                    .recorder
                    .lanes
                    .iter()
                    .filter(|h| h.probes.iter().any(|p| p.variance > 0.0))
                    .map(|h| h.info.name.clone())
                    .collect::<std::collections::BTreeSet<_>>();
                let curves: usize = colors.iter().map(|c| polylines_in(&svg, c)).sum();
                assert_eq!(curves, 2 * with_noise.len(), "{name}");
            }
            "compute-savings" => {
                for l in lanes {
                    assert!(svg_texts(&svg).contains(&l.to_string()), "{name}: {l}");
                }
            }
            _ => assert!(svg.matches("<rect").count() > 50, "{name}: heat cells"),
        }
    }
    let captions = std::fs::read_to_string(dir.join("captions.md")).unwrap();
    assert!(captions.contains("95% Student-t interval"), "{captions}");
    // PNG: the same figures rasterised.
    let png_dir = tmp.path().join("png");
    let out = gradrace()
        .arg("plot")
        .arg(&session)
        .args(["--format", "png", "--lane", "rectifier", "--out"])
        .arg(&png_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["heldout-error", "firing-heatmap-rectifier"] {
        let bytes = std::fs::read(png_dir.join(format!("{name}.png"))).unwrap();
        let img = resvg::tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        // 3× the 480-unit width; the key under a line chart adds to the height.
        assert_eq!(img.width(), 1440, "{name}");
        assert!(img.height() >= 1020, "{name}: {}", img.height());
        // Not blank: dark pixels of text and axes.
        let dark = img
            .pixels()
            .iter()
            .filter(|p| p.red() < 100 && p.green() < 100)
            .count();
        assert!(dark > 1000, "{name}: {dark} dark pixels");
    }
    let out = gradrace()
        .arg("plot")
        .arg(&session)
        .args(["--lane", "nope", "--out"])
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !tmp.path().join("x").exists(),
        "nothing created on bad input"
    );
}

#[test]
fn the_sample_session_exports_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["export", SAMPLE, "--csv", "c"],
        vec!["plot", SAMPLE, "--out", "p"],
        vec!["table", SAMPLE, "--format", "markdown"],
    ] {
        let out = gradrace()
            .current_dir(tmp.path())
            .args(args.iter().map(|a| {
                if *a == SAMPLE {
                    format!("{}/{SAMPLE}", env!("CARGO_MANIFEST_DIR"))
                } else {
                    a.to_string()
                }
            }))
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}
