//! `gradrace bench --quick --json` runs in well under a minute and prints one JSON record with
//! every measurement; a bad experiment name is bad input (exit 2).

use std::time::{Duration, Instant};

use assert_cmd::Command;

#[test]
fn quick_bench_prints_one_parsable_json_record() {
    let started = Instant::now();
    let out = Command::cargo_bin("gradrace")
        .unwrap()
        .args(["bench", "quick", "--quick", "--json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one record on one line");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["experiment"], "quick");
    assert_eq!(v["threads"], 1);
    let layer = v["layer"].as_array().unwrap();
    let rates: Vec<f64> = layer
        .iter()
        .map(|r| r["firing_rate"].as_f64().unwrap())
        .collect();
    assert_eq!(rates.len(), 6);
    for (r, want) in rates.iter().zip([0.01, 0.05, 0.10, 0.25, 0.50, 1.0]) {
        assert!((r - want).abs() < 1e-6);
    }
    for r in layer {
        let (d, s, x) = (
            r["dense_seconds"].as_f64().unwrap(),
            r["sparse_seconds"].as_f64().unwrap(),
            r["speedup"].as_f64().unwrap(),
        );
        assert!(d > 0.0 && s > 0.0 && (x - d / s).abs() < 1e-9 * x.max(1.0));
        let (floor, cap) = (
            r["floor_seconds"].as_f64().unwrap(),
            r["speedup_cap"].as_f64().unwrap(),
        );
        assert!(floor > 0.0 && (cap - d / floor).abs() < 1e-9 * cap.max(1.0));
    }
    let lanes = v["lanes"].as_array().unwrap();
    assert_eq!(lanes.len(), 5, "every lane of the quick experiment");
    for lane in lanes {
        assert!(lane["examples_per_second"].as_f64().unwrap() > 0.0);
        assert!(lane["speedup"].as_f64().unwrap() > 0.0);
    }
    // Gated lanes were brought to the 10% target before timing; the dense lane fires everywhere.
    let straight = lanes
        .iter()
        .find(|l| l["lane"] == "straight-through")
        .unwrap();
    let rate = straight["firing_rate"].as_f64().unwrap();
    assert!(
        (0.03..0.25).contains(&rate),
        "straight-through firing {rate}"
    );
    // A gate that fires uses its expert: the used fraction lies between the firing rate and 1.
    let used = straight["experts_used"].as_f64().unwrap();
    assert!(rate <= used && used <= 1.0, "straight-through: {used} used");
    let dense = lanes.iter().find(|l| l["lane"] == "dense").unwrap();
    assert_eq!(dense["firing_rate"].as_f64().unwrap(), 1.0);
    assert_eq!(dense["experts_used"].as_f64().unwrap(), 1.0);
    assert_eq!(dense["main_path"], "dense");
    assert!(v["kernel"]["layer_gflops"].as_f64().unwrap() > 0.0);
    // The FMA peak is measured on x86-64 CPUs with AVX2 or AVX-512, and reported as null
    // elsewhere.
    let peak = &v["kernel"]["peak_gflops"];
    assert!(
        peak.is_null() || peak.as_f64().unwrap() > 0.0,
        "peak {peak}"
    );
}

#[test]
fn unknown_experiment_is_bad_input() {
    let out = Command::cargo_bin("gradrace")
        .unwrap()
        .args(["bench", "no-such-experiment", "--quick"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
