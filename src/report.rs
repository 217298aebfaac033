//! Plain-text reports: the leaderboard printed at the end of a headless race and by
//! `replay --summary`.

use crate::engine::LaneSummary;

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
                r.status.label(),
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

/// What the savings columns mean, printed under the leaderboard.
pub const SAVINGS_NOTE: &str = "saved: share of the main path's multiply-adds (forward + backward) \
the lane really skipped; net saved: after paying for the gater; ms/step: measured wall time. \
Measured speedup vs the same lane computing every expert: `gradrace bench`.\n";

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
            compute_saved: Some(0.9),
            net_compute_saved: Some(0.7),
            seconds_per_step: Some(0.002),
            examples_per_second: Some(16000.0),
            status: LaneStatus::Done,
        }
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
