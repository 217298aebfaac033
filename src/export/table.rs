//! The paper's table, over seeds: per lane, the held-out error of the best and of the last
//! evaluation, the firing rate of the test-time gates and the compute saved, each as the mean
//! over the lane's seeds with its 95% Student-t interval ([`MeanInterval`]), n, and the paired
//! difference of last-evaluation error from the session's reference lane. Lanes of several
//! sessions are rows of one table (prefixed `A/…`), and what sets the sessions apart is said
//! under it. Rendered by [`super::text`], [`super::markdown`], [`super::csv`], [`super::latex`].

use super::sessions::{Sessions, seed_text, seeds_of};
use crate::history::{FIRING_WINDOW, LaneHistory};
use crate::stats::{MeanInterval, PairedDifference};

/// One row: a lane over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperRow {
    /// Lane name (prefixed with its session's label when there are several).
    pub lane: String,
    /// Estimator description.
    pub estimator: String,
    /// Seeds (runs of the lane).
    pub n: usize,
    /// Lowest held-out error of each seed's evaluations.
    pub best: Option<MeanInterval>,
    /// Step of that best evaluation, averaged over the seeds.
    pub best_step: Option<f64>,
    /// Held-out error of each seed's last evaluation.
    pub last: Option<MeanInterval>,
    /// Firing rate of the test-time gates at each seed's last evaluation.
    pub test_firing: Option<MeanInterval>,
    /// Share of main-path multiply-adds skipped over the last [`FIRING_WINDOW`] steps.
    pub saved: Option<MeanInterval>,
    /// The same after paying for the gater.
    pub net_saved: Option<MeanInterval>,
    /// Last-evaluation error minus the reference lane's, paired by seed; None for the
    /// reference lane itself and where no seed is shared.
    pub paired: Option<PairedDifference>,
    /// True for the reference lane of the paired column.
    pub is_reference: bool,
    /// Lanes that did not end as planned, e.g. "1 diverged at step 1234" (empty when every seed
    /// finished or is still running).
    pub trouble: String,
}

/// The table with its caption and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperTable {
    /// What the table is: experiment, data, seeds, steps.
    pub caption: String,
    /// One row per lane, in race order.
    pub rows: Vec<PaperRow>,
    /// The reference lane(s) of the paired column.
    pub references: Vec<String>,
    /// What the columns and intervals are, and how the sessions differ.
    pub notes: Vec<String>,
}

/// Column headers, shared by the renderers (text, Markdown, CSV).
pub const HEADERS: [&str; 9] = [
    "lane",
    "estimator",
    "n",
    "best held-out error",
    "last held-out error",
    "Δ last vs reference",
    "test-time firing",
    "saved",
    "net saved",
];

/// The note on the interval, used by every renderer.
pub const INTERVAL_NOTE: &str = "Mean over seeds ± half-width of its 95% confidence interval \
(Student's t with n − 1 degrees of freedom); a single seed gives the value alone, with no \
interval.";

/// One seed's values of a lane.
struct SeedValues {
    seed: u64,
    best: Option<(f32, u64)>,
    last: Option<(f32, f32)>,
    saved: Option<(f64, f64)>,
}

fn seed_values(h: &LaneHistory, race_seed: u64) -> SeedValues {
    let best = h
        .evals
        .iter()
        .filter(|e| e.error.is_finite())
        .min_by(|a, b| a.error.total_cmp(&b.error))
        .map(|e| (e.error, e.step));
    let last = h.evals.last().map(|e| (e.error, e.firing_rate));
    let saved = h.recent(FIRING_WINDOW).map(|r| {
        let dense = r.dense_main_macs.max(1.0);
        (
            1.0 - r.active_main_macs / dense,
            1.0 - (r.active_main_macs + r.gater_macs) / dense,
        )
    });
    SeedValues {
        seed: h.info.seed_or(race_seed),
        best,
        last,
        saved,
    }
}

fn interval(values: impl Iterator<Item = f64>) -> Option<MeanInterval> {
    MeanInterval::of(&values.collect::<Vec<_>>())
}

impl PaperTable {
    /// The table of `sessions`.
    pub fn of(sessions: &Sessions) -> PaperTable {
        let several = sessions.several();
        let mut rows = Vec::new();
        let mut references = Vec::new();
        let mut downsampled = false;
        for (label, session) in &sessions.parts {
            let r = &session.recorder;
            let race_seed = r.info.as_ref().map_or(0, |i| i.seed);
            let prefix = |name: &str| {
                if several {
                    format!("{label}/{name}")
                } else {
                    name.to_string()
                }
            };
            // Lanes by name, in race order, each with its seeds.
            let mut groups: Vec<(&str, Vec<&LaneHistory>)> = Vec::new();
            for h in &r.lanes {
                downsampled |= h.evals.stride() > 1 || h.steps.stride() > 1;
                match groups.iter_mut().find(|(n, _)| *n == h.info.name) {
                    Some((_, g)) => g.push(h),
                    None => groups.push((&h.info.name, vec![h])),
                }
            }
            let reference = r
                .info
                .as_ref()
                .and_then(|i| i.reference_lane.clone())
                .filter(|name| groups.iter().any(|(n, _)| n == name))
                .or_else(|| groups.first().map(|(n, _)| n.to_string()));
            let values: Vec<Vec<SeedValues>> = groups
                .iter()
                .map(|(_, g)| g.iter().map(|h| seed_values(h, race_seed)).collect())
                .collect();
            let last_errors = |v: &[SeedValues]| -> Vec<(u64, f64)> {
                v.iter()
                    .filter_map(|s| s.last.map(|l| (s.seed, f64::from(l.0))))
                    .collect()
            };
            let reference_errors = reference
                .as_ref()
                .and_then(|name| groups.iter().position(|(n, _)| n == name))
                .map(|i| last_errors(&values[i]))
                .unwrap_or_default();
            if let Some(name) = &reference {
                references.push(prefix(name));
            }
            for ((name, lanes), v) in groups.iter().zip(&values) {
                let is_reference = reference.as_deref() == Some(*name);
                let mut trouble: Vec<(String, usize)> = Vec::new();
                for h in lanes {
                    use crate::engine::LaneStatus;
                    let label = match h.status {
                        LaneStatus::Diverged { step } => format!("diverged at step {step}"),
                        LaneStatus::Stopped { step } => format!("stopped at step {step}"),
                        _ => continue,
                    };
                    match trouble.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, k)) => *k += 1,
                        None => trouble.push((label, 1)),
                    }
                }
                let best: Vec<(f32, u64)> = v.iter().filter_map(|s| s.best).collect();
                rows.push(PaperRow {
                    lane: prefix(name),
                    estimator: lanes[0].info.estimator.clone(),
                    n: lanes.len(),
                    best: interval(best.iter().map(|b| f64::from(b.0))),
                    best_step: (!best.is_empty())
                        .then(|| best.iter().map(|b| b.1 as f64).sum::<f64>() / best.len() as f64),
                    last: interval(v.iter().filter_map(|s| s.last.map(|l| f64::from(l.0)))),
                    test_firing: interval(v.iter().filter_map(|s| s.last.map(|l| f64::from(l.1)))),
                    saved: interval(v.iter().filter_map(|s| s.saved.map(|x| x.0))),
                    net_saved: interval(v.iter().filter_map(|s| s.saved.map(|x| x.1))),
                    paired: if is_reference {
                        None
                    } else {
                        PairedDifference::of(&last_errors(v), &reference_errors)
                    },
                    is_reference,
                    trouble: trouble
                        .iter()
                        .map(|(l, k)| format!("{k} {l}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let mut notes = vec![INTERVAL_NOTE.to_string()];
        notes.push(format!(
            "Best: the lowest held-out error among each seed's evaluations — chosen on the \
             held-out set it is reported on, so optimistic; last: the final evaluation. Held-out \
             error and test-time firing use the deterministic test-time gates; saved: share of \
             the main path's multiply-adds (forward and backward) skipped over the last \
             {FIRING_WINDOW} training steps; net saved: after paying for the gater."
        ));
        if !references.is_empty() {
            notes.push(format!(
                "Δ last vs reference: last held-out error minus that of {} with the same seed \
                 (same initial parameters and minibatches), mean ± 95% interval over the seeds \
                 both ran; * where the interval excludes 0.",
                references.join(", ")
            ));
        }
        for r in rows.iter().filter(|r| !r.trouble.is_empty()) {
            notes.push(format!(
                "{}: {} (of {} seeds); their values are those recorded until then.",
                r.lane, r.trouble, r.n
            ));
        }
        if downsampled {
            notes.push(
                "Some histories were downsampled (a long run): their evaluations and steps are \
                 means of neighbouring records."
                    .into(),
            );
        }
        if several {
            notes.push(format!("Sessions: {}.", sessions.legend().join("; ")));
            let diff = sessions.differences();
            if !diff.is_empty() {
                notes.push(format!(
                    "The sessions differ — {} — so rows of different sessions are not a \
                     controlled comparison.",
                    diff.join("; ")
                ));
            }
        }
        PaperTable {
            caption: caption(sessions),
            rows,
            references,
            notes,
        }
    }
}

/// "paper-mnist on mnist-10k (embedded) (8000 training / 2000 held-out examples), 5 seeds
/// 2013–2017, 5000 steps (20 epochs): held-out error (%) over seeds".
fn caption(sessions: &Sessions) -> String {
    let mut parts = Vec::new();
    for (label, s) in &sessions.parts {
        let Some(info) = &s.recorder.info else {
            continue;
        };
        let steps = s.recorder.step();
        let epochs = steps as f64 / info.steps_per_epoch.max(1) as f64;
        let epochs = if (epochs - epochs.round()).abs() < 1e-9 {
            format!("{epochs:.0}")
        } else {
            format!("{epochs:.1}")
        };
        let what = format!(
            "{} on {} ({} training / {} held-out examples), {}, {steps} steps ({epochs} epochs)",
            info.experiment,
            info.data,
            info.train_examples,
            info.heldout_examples,
            seed_text(&seeds_of(info)),
        );
        parts.push(if sessions.several() {
            format!("{label}: {what}")
        } else {
            what
        });
    }
    format!(
        "Held-out error, test-time firing and compute saved (%) — {}",
        parts.join("; ")
    )
}

/// A value in percent with `decimals`, with its interval when there is one ("1.87 ± 0.12").
pub fn percent_cell(m: &Option<MeanInterval>, decimals: usize, pm: &str) -> String {
    match m {
        Some(m) => match m.half_width {
            Some(h) => format!("{:.decimals$}{pm}{:.decimals$}", 100.0 * m.mean, 100.0 * h),
            None => format!("{:.decimals$}", 100.0 * m.mean),
        },
        None => "–".into(),
    }
}

/// The paired column's cell ("+0.31 ± 0.20 *", "(reference)", "–").
pub fn paired_cell(row: &PaperRow, pm: &str, reference: &str) -> String {
    if row.is_reference {
        return reference.into();
    }
    match &row.paired {
        Some(p) => match p.difference.half_width {
            Some(h) => format!(
                "{:+.2}{pm}{:.2}{}",
                100.0 * p.difference.mean,
                100.0 * h,
                if p.significant { " *" } else { "" }
            ),
            None => format!("{:+.2}", 100.0 * p.difference.mean),
        },
        None => "–".into(),
    }
}

impl PaperRow {
    /// The cells of the row as text (the renderers' common form), `pm` between a mean and its
    /// half-width.
    pub fn cells(&self, pm: &str) -> [String; 9] {
        [
            self.lane.clone(),
            self.estimator.clone(),
            self.n.to_string(),
            percent_cell(&self.best, 2, pm),
            percent_cell(&self.last, 2, pm),
            paired_cell(self, pm, "(reference)"),
            percent_cell(&self.test_firing, 1, pm),
            percent_cell(&self.saved, 1, pm),
            percent_cell(&self.net_saved, 1, pm),
        ]
    }
}
