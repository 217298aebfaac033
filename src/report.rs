//! Plain-text reports: the leaderboard printed at the end of a headless race and by
//! `replay --summary`.

use crate::engine::metrics::Metrics;
use crate::engine::{LaneStatus, StepPoint};
use crate::history::view::{BLOWUP_FACTOR, BLOWUP_WINDOW};
use crate::history::{FIRING_WINDOW, LaneSummary, RaceEventKind, Recorder};

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

/// What the firing and savings columns mean, printed under the leaderboard.
pub const SAVINGS_NOTE: &str = "firing: share of the gates not exactly zero over the last 500 \
training steps (\"off target\": more than 2 points from the lane's target); saved: share of the \
main path's multiply-adds (forward + backward) the lane really skipped; net saved: after paying \
for the gater; ms/step: measured wall time. Measured speedup vs the same lane computing every \
expert: `gradrace bench`.\n";

/// An aligned text table with every column left-aligned (trailing spaces trimmed).
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let parts: Vec<String> = cells
            .zip(&widths)
            .map(|(c, &w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = line(&mut header.iter().copied());
    out.push('\n');
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        out.push('\n');
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
    header.extend(recorder.lanes.iter().map(|l| l.info.name.clone()));
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
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(row));
    }
    out
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
    let names: Vec<&str> = recorder
        .lanes
        .iter()
        .map(|l| l.info.name.as_str())
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
        for e in &lane.events {
            let what = match e.status {
                LaneStatus::Running => format!("running again from step {}", e.step),
                LaneStatus::Done => format!("done at step {}", e.step),
                s => s.label(),
            };
            out.push_str(&format!("{}: {what}\n", lane.info.name));
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
                lane.info.name,
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
