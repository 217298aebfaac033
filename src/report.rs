//! Plain-text reports: the leaderboard printed at the end of a headless race and by
//! `replay --summary`.

use crate::engine::metrics::Metrics;
use crate::engine::{LaneStatus, StepPoint};
use crate::history::view::{BLOWUP_FACTOR, BLOWUP_WINDOW};
use crate::history::{FIRING_WINDOW, LaneSummary, RaceEventKind, Recorder};
use crate::lab::variance_interval;
use crate::stats::{MeanInterval, PairedDifference};

fn opt(v: Option<f32>, f: impl Fn(f32) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

fn percent(v: f32) -> String {
    format!("{:.1}%", 100.0 * v)
}

/// The leaderboard as an aligned text table, best held-out error first.
pub fn leaderboard(rows: &[LaneSummary]) -> String {
    let mut rows: Vec<&LaneSummary> = rows.iter().collect();
    rows.sort_by(|a, b| {
        let ka = a.heldout_error.unwrap_or(f32::INFINITY);
        let kb = b.heldout_error.unwrap_or(f32::INFINITY);
        ka.total_cmp(&kb)
    });
    let header = [
        "#",
        "lane",
        "estimator",
        "steps",
        "train loss",
        "held-out err",
        "firing",
        "saved",
        "net saved",
        "ms/step",
        "examples/s",
        "status",
    ];
    let table: Vec<[String; 12]> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            [
                (i + 1).to_string(),
                r.name.clone(),
                r.estimator.clone(),
                r.steps.to_string(),
                opt(r.train_loss, |v| format!("{v:.4}")),
                opt(r.heldout_error, percent),
                opt(r.firing_rate, percent),
                opt(r.compute_saved, percent),
                opt(r.net_compute_saved, percent),
                opt(r.seconds_per_step, |v| format!("{:.2}", 1000.0 * v)),
                opt(r.examples_per_second, |v| format!("{v:.0}")),
                r.status_label(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let left = [
        false, true, true, false, false, false, false, false, false, false, false, true,
    ];
    let line = |cells: Vec<String>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(left)
            .map(|((c, &w), l)| {
                if l {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    out.push('\n');
    out.push_str(&"─".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    out.push('\n');
    for row in table {
        out.push_str(&line(row.to_vec()));
        out.push('\n');
    }
    out.push_str(SAVINGS_NOTE);
    out
}

/// The leaderboard of `recorder`: lane by lane for a race of one seed ([`leaderboard`]); over the
/// seeds for a race of several ([`leaderboard_over_seeds`]).
pub fn race_leaderboard(recorder: &Recorder) -> String {
    let seeds = recorder.info.as_ref().map_or(1, |i| i.seeds.len().max(1));
    if seeds > 1 {
        leaderboard_over_seeds(recorder)
    } else {
        leaderboard(&recorder.summaries())
    }
}

/// A lane's leaderboard rows over its seeds, as (seed, row), in the race's lane order.
pub fn rows_by_lane(recorder: &Recorder) -> Vec<(String, Vec<(u64, LaneSummary)>)> {
    let race_seed = recorder.info.as_ref().map_or(0, |i| i.seed);
    let rows = recorder.summaries();
    recorder
        .lanes_by_name()
        .into_iter()
        .map(|group| {
            let name = recorder.lanes[group[0]].info.name.clone();
            let runs = group
                .into_iter()
                .map(|i| (recorder.lanes[i].info.seed_or(race_seed), rows[i].clone()))
                .collect();
            (name, runs)
        })
        .collect()
}

/// `mean ± half-width` of `values` in percent (the mean alone with one value; "–" with none).
fn percent_interval(values: &[f64]) -> String {
    MeanInterval::of(values).map_or_else(|| "–".into(), |m| percent_mean(&m))
}

/// A mean and its 95% interval as percentages: `12.34 ± 1.05%` (`12.34%` with one value).
pub fn percent_mean(m: &MeanInterval) -> String {
    match m.half_width {
        Some(h) => format!("{:.2} ± {:.2}%", 100.0 * m.mean, 100.0 * h),
        None => format!("{:.2}%", 100.0 * m.mean),
    }
}

/// The leaderboard of a race of several seeds: per lane, over its seeds, the mean and 95%
/// confidence interval (Student's t, n − 1 degrees of freedom) of the latest held-out error,
/// the firing rate and the compute saved, n, and the paired difference of held-out error
/// against the reference lane (the same-trajectory probe's, else the first) over the seeds
/// both ran, marked * where its interval excludes 0. Best mean held-out error first.
pub fn leaderboard_over_seeds(recorder: &Recorder) -> String {
    let groups = rows_by_lane(recorder);
    let reference = recorder
        .info
        .as_ref()
        .and_then(|i| i.reference_lane.clone())
        .or_else(|| groups.first().map(|(name, _)| name.clone()))
        .unwrap_or_default();
    let errors = |rows: &[(u64, LaneSummary)]| -> Vec<(u64, f64)> {
        rows.iter()
            .filter_map(|(seed, r)| r.heldout_error.map(|e| (*seed, f64::from(e))))
            .collect()
    };
    let reference_errors = groups
        .iter()
        .find(|(name, _)| *name == reference)
        .map(|(_, rows)| errors(rows))
        .unwrap_or_default();
    let mut table: Vec<(f64, [String; 9])> = groups
        .iter()
        .map(|(name, rows)| {
            let e = errors(rows);
            let values = |f: &dyn Fn(&LaneSummary) -> Option<f32>| -> Vec<f64> {
                rows.iter()
                    .filter_map(|(_, r)| f(r).map(f64::from))
                    .collect()
            };
            let error_values: Vec<f64> = e.iter().map(|p| p.1).collect();
            let paired = if *name == reference {
                "(reference)".to_string()
            } else {
                match PairedDifference::of(&e, &reference_errors) {
                    Some(p) => match p.difference.half_width {
                        Some(h) => format!(
                            "{:+.2} ± {:.2}%{}",
                            100.0 * p.difference.mean,
                            100.0 * h,
                            if p.significant { " *" } else { "" }
                        ),
                        None => format!("{:+.2}%", 100.0 * p.difference.mean),
                    },
                    None => "–".into(),
                }
            };
            let mut statuses: Vec<(String, usize)> = Vec::new();
            for (_, r) in rows {
                let label = r.status_label();
                match statuses.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, n)) => *n += 1,
                    None => statuses.push((label, 1)),
                }
            }
            let status = statuses
                .iter()
                .map(|(l, n)| format!("{n} {l}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sort_key = MeanInterval::of(&error_values).map_or(f64::INFINITY, |m| m.mean);
            (
                sort_key,
                [
                    name.clone(),
                    rows.first()
                        .map_or(String::new(), |(_, r)| r.estimator.clone()),
                    rows.len().to_string(),
                    percent_interval(&error_values),
                    paired,
                    percent_interval(&values(&|r| r.firing_rate)),
                    percent_interval(&values(&|r| r.compute_saved)),
                    opt(
                        MeanInterval::of(&values(&|r| r.examples_per_second))
                            .map(|m| m.mean as f32),
                        |v| format!("{v:.0}"),
                    ),
                    status,
                ],
            )
        })
        .collect();
    table.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rows: Vec<[String; 9]> = table.into_iter().map(|(_, r)| r).collect();
    let mut out = self::table(
        &[
            "lane",
            "estimator",
            "n",
            "held-out err (95% CI)",
            &format!("vs {reference} (paired)"),
            "firing",
            "saved",
            "examples/s",
            "status",
        ],
        &rows,
    );
    out.push_str(SEEDS_NOTE);
    out.push_str(SAVINGS_NOTE);
    out
}

/// What the intervals of [`leaderboard_over_seeds`] are, printed under it.
pub const SEEDS_NOTE: &str = "Over the seeds: mean ± half-width of the 95% confidence interval, \
Student's t with n − 1 degrees of freedom (the latest held-out evaluation of each seed); the \
paired column is the mean difference of held-out error from the reference lane over the seeds \
both ran (same initial parameters and minibatches), * where its interval excludes 0.\n";

/// What the firing and savings columns mean, printed under the leaderboard.
pub const SAVINGS_NOTE: &str = "firing: share of the gates not exactly zero over the last 500 \
training steps (\"off target\": more than 2 points from the lane's target); saved: share of the \
main path's multiply-adds (forward + backward) the lane really skipped; net saved: after paying \
for the gater; ms/step: measured wall time. Measured speedup vs the same lane computing every \
expert: `gradrace bench`.\n";

/// An aligned text table with every column left-aligned (trailing spaces trimmed).
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.to_vec()).collect();
    aligned(header, N, false, &rows)
}

/// An aligned text table: the first `left` columns left-aligned, the others right-aligned,
/// columns two spaces apart, trailing spaces trimmed; with `rule`, a line under the header.
pub fn aligned(header: &[&str], left: usize, rule: bool, rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let parts: Vec<String> = cells
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < left {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    if rule {
        out.push_str(
            &"─".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)),
        );
        out.push('\n');
    }
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Every declared training metric ([`StepPoint::METRICS`]) of every lane over its last
/// [`FIRING_WINDOW`] steps: one row per metric, with its unit, and one column per lane.
pub fn recent_metrics(recorder: &Recorder) -> String {
    let recent: Vec<Option<StepPoint>> = recorder
        .lanes
        .iter()
        .map(|l| l.recent(FIRING_WINDOW))
        .collect();
    let mut header = vec!["metric".to_string()];
    header.extend(recorder.lanes.iter().map(|l| recorder.lane_label(l)));
    let rows: Vec<Vec<String>> = StepPoint::METRICS
        .iter()
        .map(|m| {
            let mut row = vec![if m.unit.is_empty() {
                m.label.to_string()
            } else {
                format!("{} ({})", m.label, m.unit)
            }];
            row.extend(recent.iter().map(|p| match p {
                Some(p) => significant((m.value)(p)),
                None => "–".into(),
            }));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    aligned(&header, 1, false, &rows)
}

/// The latest probe of every lane with gates, at its own parameters on the probe minibatch:
/// mean per-coordinate variance of the gate layer's gradient estimate, its 95% interval
/// v·exp(±1.96·SE/v) ([`variance_interval`]; "–" in sessions saved before the standard error
/// was recorded, or for a noiseless lane), and the signal-to-noise ratio ‖E ĝ‖² / variance
/// (per coordinate, as the dashboard's; the same-trajectory table's SNR divides by tr Σ); None
/// without probes.
pub fn probe_table(recorder: &Recorder) -> Option<String> {
    let rows: Vec<[String; 5]> = recorder
        .lanes
        .iter()
        .filter_map(|l| {
            let p = l.probes.last()?;
            let interval = variance_interval(p.variance, p.variance_se).map_or_else(
                || "–".to_string(),
                |(lo, hi)| format!("{} – {}", significant(lo), significant(hi)),
            );
            let snr = p.snr();
            Some([
                recorder.lane_label(l),
                p.step.to_string(),
                significant(p.variance),
                interval,
                if snr.is_finite() {
                    significant(snr)
                } else {
                    "∞".into()
                },
            ])
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(table(
        &["lane", "step", "variance", "95% interval", "‖Eĝ‖²/var"],
        &rows,
    ))
}

/// The latest same-trajectory probe of every lane with gates: at the reference lane's
/// parameters, cosine to the reference gradient, relative bias ± its standard error, total
/// variance and signal-to-noise ratio (see [`crate::lab::measure`]); None without probes.
pub fn trajectory_table(recorder: &Recorder) -> Option<String> {
    let reference = recorder.info.as_ref()?.reference_lane.clone()?;
    let rows: Vec<[String; 6]> = recorder
        .lanes
        .iter()
        .filter_map(|l| {
            let p = l.trajectory.last()?;
            Some([
                recorder.lane_label(l),
                p.step.to_string(),
                format!("{:.3}", p.cosine),
                format!("{:.3} ± {:.3}", p.relative_bias, p.relative_bias_se),
                significant(p.total_variance),
                significant(p.snr()),
            ])
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut out = format!(
        "at the parameters of \"{reference}\", against a reference gradient (DisARM, unbiased)\n\n"
    );
    out.push_str(&table(
        &[
            "lane",
            "step",
            "cosine",
            "relative bias",
            "total variance",
            "SNR",
        ],
        &rows,
    ));
    Some(out)
}

/// `v` with four significant digits, in scientific notation when very large or small.
fn significant(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0.000".into()
    } else if (1e-3..1e6).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.3e}")
    }
}

/// Held-out error of every lane over the race: one row per evaluation step — at most `max_rows`
/// of them, evenly spread, the last one always shown — and one column per lane giving the error
/// of that lane's latest evaluation at or before the row's step ("–" before its first).
pub fn eval_timeline(recorder: &Recorder, max_rows: usize) -> String {
    let mut steps: Vec<u64> = recorder
        .lanes
        .iter()
        .flat_map(|l| l.evals.iter().map(|e| e.step))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    if steps.is_empty() {
        return "no held-out evaluation yet\n".into();
    }
    let rows = max_rows.max(2);
    let shown: Vec<u64> = if steps.len() <= rows {
        steps
    } else {
        let last = steps.len() - 1;
        let mut picked: Vec<u64> = (0..rows).map(|i| steps[i * last / (rows - 1)]).collect();
        picked.dedup();
        picked
    };
    let names: Vec<String> = recorder
        .lanes
        .iter()
        .map(|l| recorder.lane_label(l))
        .collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count().max(7)).collect();
    let step_width = shown
        .last()
        .map_or(4, |s| s.to_string().len())
        .max("step".len());
    let mut out = format!("{:>step_width$}", "step");
    for (n, w) in names.iter().zip(&mut widths) {
        out.push_str(&format!("  {n:>w$}", w = *w));
    }
    out.push('\n');
    for step in shown {
        out.push_str(&format!("{step:>step_width$}"));
        for (lane, &w) in recorder.lanes.iter().zip(&widths) {
            let cell = lane
                .evals
                .iter()
                .take_while(|e| e.step <= step)
                .last()
                .map_or("–".to_string(), |e| percent(e.error));
            out.push_str(&format!("  {cell:>w$}"));
        }
        out.push('\n');
    }
    out
}

/// The race's pauses, ends and resumptions, then every lane's status changes, one line each:
/// "race: paused at step 1200", "sts: diverged at step 1234".
pub fn lane_events(recorder: &Recorder) -> String {
    let mut out = String::new();
    for e in &recorder.events {
        let what = match e.kind {
            RaceEventKind::Paused => "paused",
            RaceEventKind::Continued => "continued",
            RaceEventKind::Finished => "ended",
            RaceEventKind::Resumed => "resumed from a checkpoint",
        };
        out.push_str(&format!("race: {what} at step {}\n", e.step));
    }
    for lane in &recorder.lanes {
        let name = recorder.lane_label(lane);
        for e in &lane.events {
            let what = match e.status {
                LaneStatus::Running => format!("running again from step {}", e.step),
                LaneStatus::Done => format!("done at step {}", e.step),
                s => s.label(),
            };
            out.push_str(&format!("{name}: {what}\n"));
        }
        for b in lane.view_until(u64::MAX).blow_ups() {
            out.push_str(&format!(
                "{}: blowing up from step {} (training loss above {:.1}× its start of {:.3} \
                 for {BLOWUP_WINDOW} steps, up to {})",
                lane.info.name,
                b.from,
                BLOWUP_FACTOR,
                b.start,
                significant(f64::from(b.worst)),
            ));
            match b.until {
                Some(step) => out.push_str(&format!(", back down at step {step}\n")),
                None => out.push('\n'),
            }
        }
        let target = lane.info.settings.sparsity_target;
        for span in lane.view_until(u64::MAX).off_target() {
            out.push_str(&format!(
                "{}: off target from step {} (firing {} over the last {FIRING_WINDOW} steps, \
                 target {})",
                name,
                span.from,
                percent(span.worst),
                percent(target)
            ));
            match span.until {
                Some(step) => out.push_str(&format!(", back on target at step {step}\n")),
                None => out.push('\n'),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LaneStatus;

    fn row(name: &str, err: Option<f32>) -> LaneSummary {
        LaneSummary {
            name: name.into(),
            estimator: "straight-through (identity)".into(),
            steps: 250,
            train_loss: Some(0.25),
            heldout_error: err,
            heldout_loss: Some(0.3),
            firing_rate: Some(0.1),
            off_target: false,
            blowing_up: false,
            compute_saved: Some(0.9),
            net_compute_saved: Some(0.7),
            seconds_per_step: Some(0.002),
            examples_per_second: Some(16000.0),
            status: LaneStatus::Done,
        }
    }

    #[test]
    fn the_metrics_table_lists_every_declared_metric_for_every_lane() {
        let r = crate::tui::synthetic::recorder(3, 700);
        let t = recent_metrics(&r);
        for m in StepPoint::METRICS {
            assert!(t.contains(m.label), "{} missing:\n{t}", m.name);
        }
        let firing = t.lines().find(|l| l.starts_with("firing rate")).unwrap();
        // Synthetic lanes fire at 10, 12 and 14%.
        assert!(
            firing.contains("0.1000") && firing.contains("0.1400"),
            "{firing}"
        );
        assert_eq!(significant(1.5e9), "1.500e9");
        assert_eq!(significant(0.001234), "0.001234");
        assert_eq!(significant(0.0), "0.000");
    }

    /// Every gated lane's latest probe: its variance inside the interval v·exp(±1.96·SE/v)
    /// (the synthetic SE is 0.2 v), the dense lane left out, and "–" without a standard error.
    #[test]
    fn the_probe_table_gives_each_gated_lanes_latest_variance_and_interval() {
        let r = crate::tui::synthetic::recorder(5, 1000);
        let t = probe_table(&r).unwrap();
        let spread = (1.96f64 * 0.2).exp();
        let mut rows = 0;
        for l in &r.lanes {
            let Some(p) = l.probes.last() else {
                assert!(!t.contains(&r.lane_label(l)), "{t}");
                continue;
            };
            let row = t
                .lines()
                .find(|line| line.starts_with(&format!("{} ", r.lane_label(l))))
                .unwrap_or_else(|| panic!("{} missing:\n{t}", r.lane_label(l)));
            let interval = format!(
                "{} – {}",
                significant(p.variance / spread),
                significant(p.variance * spread)
            );
            assert!(row.contains(&significant(p.variance)), "{row}");
            assert!(row.contains(&interval), "{interval} in {row}");
            rows += 1;
        }
        assert_eq!(rows, 4, "{t}");
        let mut old = Recorder::new();
        for mut e in crate::tui::synthetic::events(1, 400, 8) {
            if let crate::engine::EngineEvent::Probe { point, .. } = &mut e {
                point.variance_se = f64::NAN;
            }
            old.apply(e);
        }
        let t = probe_table(&old).unwrap();
        assert!(t.lines().nth(1).unwrap().contains('–'), "{t}");
    }

    #[test]
    fn best_error_first_and_missing_values_dashed() {
        let t = leaderboard(&[row("b", Some(0.2)), row("a", Some(0.05)), row("c", None)]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].contains("held-out err"));
        assert!(lines[2].contains(" a ") && lines[2].contains("5.0%"));
        assert!(lines[3].contains(" b "));
        assert!(lines[4].contains(" c ") && lines[4].contains('–'));
        assert!(lines[2].contains("90.0%") && lines[2].contains("16000"));
        assert!(t.ends_with(SAVINGS_NOTE));
    }
}
