//! Merging a sweep: every done run's session read back, each lane's latest held-out error
//! grouped by setting (the values of the varied axes other than the lane and the seed) and
//! estimator (the lane), and summarised over the seeds as a mean with its Student-t 95%
//! interval. The table depends only on the runs' results — not on where, when or how fast they
//! ran — so a sweep run locally and on Slurm gives the same bytes.

use std::fmt::Write as _;

use super::axis::{Axis, Role};
use super::directory::{RunStatus, SweepDir};
use super::expand::Run;
use super::file::Sweep;
use crate::stats::MeanInterval;

/// One lane of one run, as `runs.csv` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneResult {
    /// The run's index.
    pub run: usize,
    /// The run's id.
    pub id: String,
    /// The values of every varied axis (empty where the run does not set it).
    pub values: Vec<String>,
    /// The setting: values of the setting axes.
    pub setting: Vec<String>,
    /// Lane name (the estimator column).
    pub lane: String,
    /// Estimator description.
    pub estimator: String,
    /// Seed.
    pub seed: u64,
    /// Steps taken.
    pub steps: u64,
    /// Status.
    pub status: String,
    /// Latest held-out error.
    pub heldout_error: Option<f32>,
    /// Latest held-out loss.
    pub heldout_loss: Option<f32>,
    /// Training loss over the last steps.
    pub train_loss: Option<f32>,
    /// Firing rate over the last steps.
    pub firing_rate: Option<f32>,
    /// Share of the main path's multiply-adds skipped.
    pub compute_saved: Option<f32>,
    /// Measured seconds per step.
    pub seconds_per_step: Option<f32>,
}

/// One cell: an estimator at a setting over its seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Mean and interval of the held-out error.
    pub error: MeanInterval,
    /// The estimator's best setting (lowest mean).
    pub best: bool,
}

/// The merged sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sweep's name.
    pub sweep: String,
    /// Every varied axis (for `runs.csv`).
    pub axes: Vec<&'static str>,
    /// The setting axes (the rows' labels).
    pub setting_axes: Vec<&'static str>,
    /// The settings, in the order of the runs.
    pub settings: Vec<Vec<String>>,
    /// The estimators (lane names), in the order of the runs.
    pub estimators: Vec<String>,
    /// `cells[setting][estimator]`.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// Every lane of every done run.
    pub lanes: Vec<LaneResult>,
    /// Runs not done: (index, why).
    pub missing: Vec<(usize, String)>,
}

/// Merges the runs of `sweep` found in `dir`.
pub fn collect(sweep: &Sweep, runs: &[Run], dir: &SweepDir) -> Table {
    let axes: Vec<&'static Axis> = sweep.varied_axes();
    let setting_axes: Vec<&'static Axis> = axes
        .iter()
        .copied()
        .filter(|a| a.role == Role::Setting)
        .collect();
    let mut lanes = Vec::new();
    let mut missing = Vec::new();
    for run in runs {
        let session = match dir.status(run) {
            RunStatus::Done(s) => s,
            RunStatus::Missing => {
                missing.push((run.index, "not raced yet".to_string()));
                continue;
            }
            RunStatus::Redo(why) => {
                missing.push((run.index, why));
                continue;
            }
        };
        let shown = |a: &Axis| run.value(a).map_or(String::new(), ToString::to_string);
        let values: Vec<String> = axes.iter().map(|a| shown(a)).collect();
        let setting: Vec<String> = setting_axes
            .iter()
            .map(|a| run.value(a).map_or("(base)".into(), ToString::to_string))
            .collect();
        let r = &session.recorder;
        let race_seed = r.info.as_ref().map_or(0, |i| i.seed);
        for (h, s) in r.lanes.iter().zip(r.summaries()) {
            lanes.push(LaneResult {
                run: run.index,
                id: run.id.clone(),
                values: values.clone(),
                setting: setting.clone(),
                lane: h.info.name.clone(),
                estimator: s.estimator.clone(),
                seed: h.info.seed_or(race_seed),
                steps: s.steps,
                status: s.status_label(),
                heldout_error: s.heldout_error,
                heldout_loss: s.heldout_loss,
                train_loss: s.train_loss,
                firing_rate: s.firing_rate,
                compute_saved: s.compute_saved,
                seconds_per_step: s.seconds_per_step,
            });
        }
    }
    let mut settings: Vec<Vec<String>> = Vec::new();
    let mut estimators: Vec<String> = Vec::new();
    // Settings in the order of the runs, whether or not they are done yet.
    for run in runs {
        let setting: Vec<String> = setting_axes
            .iter()
            .map(|a| run.value(a).map_or("(base)".into(), ToString::to_string))
            .collect();
        if !settings.contains(&setting) {
            settings.push(setting);
        }
        for l in &run.experiment.lanes {
            if !estimators.contains(&l.name) {
                estimators.push(l.name.clone());
            }
        }
    }
    let mut cells: Vec<Vec<Option<Cell>>> = settings
        .iter()
        .map(|setting| {
            estimators
                .iter()
                .map(|lane| {
                    let errors: Vec<f64> = lanes
                        .iter()
                        .filter(|l| l.setting == *setting && l.lane == *lane)
                        .filter_map(|l| l.heldout_error.map(f64::from))
                        .collect();
                    MeanInterval::of(&errors).map(|error| Cell { error, best: false })
                })
                .collect()
        })
        .collect();
    for e in 0..estimators.len() {
        let best = (0..settings.len())
            .filter_map(|s| cells[s][e].map(|c| (s, c.error.mean)))
            .fold(None, |best: Option<(usize, f64)>, (s, m)| match best {
                Some((_, b)) if b <= m => best,
                _ => Some((s, m)),
            });
        if let Some((s, _)) = best
            && let Some(c) = cells[s][e].as_mut()
        {
            c.best = true;
        }
    }
    Table {
        sweep: sweep.name.clone(),
        axes: axes.iter().map(|a| a.name).collect(),
        setting_axes: setting_axes.iter().map(|a| a.name).collect(),
        settings,
        estimators,
        cells,
        lanes,
        missing,
    }
}

/// `mean ± half-width%` (the mean alone with one seed).
fn percent(m: &MeanInterval) -> String {
    match m.half_width {
        Some(h) => format!("{:.2} ± {:.2}%", 100.0 * m.mean, 100.0 * h),
        None => format!("{:.2}%", 100.0 * m.mean),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let fields: Vec<String> = fields.into_iter().map(|f| csv_field(&f)).collect();
    fields.join(",") + "\n"
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

impl Table {
    /// The row labels' headers: the setting axes, or `setting` when nothing but lanes and seeds
    /// varies.
    fn label_headers(&self) -> Vec<String> {
        if self.setting_axes.is_empty() {
            vec!["setting".into()]
        } else {
            self.setting_axes.iter().map(|s| s.to_string()).collect()
        }
    }

    fn labels(&self, s: usize) -> Vec<String> {
        if self.setting_axes.is_empty() {
            vec!["(base)".into()]
        } else {
            self.settings[s].clone()
        }
    }

    /// The title line.
    fn title(&self) -> String {
        format!(
            "{}: held-out error (latest evaluation), mean ± 95% CI over seeds (Student t), (n \
             seeds); * best setting per estimator",
            self.sweep
        )
    }

    /// The aligned text table.
    pub fn text(&self) -> String {
        let mut rows: Vec<Vec<String>> = vec![
            self.label_headers()
                .into_iter()
                .chain(self.estimators.iter().cloned())
                .collect(),
        ];
        for (s, cells) in self.cells.iter().enumerate() {
            let mut row = self.labels(s);
            row.extend(cells.iter().map(|c| match c {
                Some(c) => format!(
                    "{} ({}){}",
                    percent(&c.error),
                    c.error.n,
                    if c.best { " *" } else { "" }
                ),
                None => "–".into(),
            }));
            rows.push(row);
        }
        let columns = rows[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let line = |row: &[String]| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, &w)| format!("{c:<w$}"))
                .collect();
            cells.join("   ").trim_end().to_string() + "\n"
        };
        let mut out = self.title() + "\n\n";
        out += &line(&rows[0]);
        out += &"─".repeat(widths.iter().sum::<usize>() + 3 * (columns - 1));
        out.push('\n');
        for row in &rows[1..] {
            out += &line(row);
        }
        out
    }

    /// The table in Markdown (the best setting in bold).
    pub fn markdown(&self) -> String {
        let headers: Vec<String> = self
            .label_headers()
            .into_iter()
            .chain(self.estimators.iter().cloned())
            .collect();
        let mut out = format!("{}\n\n| {} |\n", self.title(), headers.join(" | "));
        let labels = self.label_headers().len();
        let rules: Vec<&str> = (0..headers.len())
            .map(|i| if i < labels { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "| {} |", rules.join(" | "));
        for (s, cells) in self.cells.iter().enumerate() {
            let mut row = self.labels(s);
            row.extend(cells.iter().map(|c| match c {
                Some(c) if c.best => format!("**{}** ({})", percent(&c.error), c.error.n),
                Some(c) => format!("{} ({})", percent(&c.error), c.error.n),
                None => "–".into(),
            }));
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }

    /// The table in long form: one line per setting and estimator.
    pub fn csv(&self) -> String {
        let mut out = csv_line(self.label_headers().into_iter().chain(
            [
                "estimator",
                "n",
                "mean_heldout_error",
                "ci95_half_width",
                "std",
                "best",
            ]
            .map(String::from),
        ));
        for (s, cells) in self.cells.iter().enumerate() {
            for (e, c) in cells.iter().enumerate() {
                let Some(c) = c else { continue };
                out += &csv_line(self.labels(s).into_iter().chain([
                    self.estimators[e].clone(),
                    c.error.n.to_string(),
                    c.error.mean.to_string(),
                    opt(c.error.half_width),
                    opt(c.error.std),
                    c.best.to_string(),
                ]));
            }
        }
        out
    }

    /// Every lane of every done run, one line each.
    pub fn runs_csv(&self) -> String {
        let mut out = csv_line(
            ["run", "id"]
                .map(String::from)
                .into_iter()
                .chain(self.axes.iter().map(|a| a.to_string()))
                .chain(
                    [
                        "lane",
                        "estimator",
                        "seed",
                        "steps",
                        "status",
                        "heldout_error",
                        "heldout_loss",
                        "train_loss",
                        "firing_rate",
                        "compute_saved",
                        "seconds_per_step",
                    ]
                    .map(String::from),
                ),
        );
        for l in &self.lanes {
            out += &csv_line(
                [l.run.to_string(), l.id.clone()]
                    .into_iter()
                    .chain(l.values.iter().cloned())
                    .chain([
                        l.lane.clone(),
                        l.estimator.clone(),
                        l.seed.to_string(),
                        l.steps.to_string(),
                        l.status.clone(),
                        opt(l.heldout_error),
                        opt(l.heldout_loss),
                        opt(l.train_loss),
                        opt(l.firing_rate),
                        opt(l.compute_saved),
                        opt(l.seconds_per_step),
                    ]),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let m = |v: &[f64]| MeanInterval::of(v).unwrap();
        Table {
            sweep: "t".into(),
            axes: vec!["lane", "training.learning_rate", "seed"],
            setting_axes: vec!["training.learning_rate"],
            settings: vec![vec!["0.05".into()], vec!["0.2".into()]],
            estimators: vec!["st".into(), "unbiased, K=2".into()],
            cells: vec![
                vec![
                    Some(Cell {
                        error: m(&[0.10, 0.12, 0.11]),
                        best: true,
                    }),
                    None,
                ],
                vec![
                    Some(Cell {
                        error: m(&[0.2, 0.3]),
                        best: false,
                    }),
                    Some(Cell {
                        error: m(&[0.15]),
                        best: true,
                    }),
                ],
            ],
            lanes: Vec::new(),
            missing: Vec::new(),
        }
    }

    #[test]
    fn renders_text_markdown_and_csv() {
        let t = table();
        let text = t.text();
        assert!(text.contains("training.learning_rate   st                       unbiased, K=2\n"), "{text}");
        assert!(text.contains("0.05                     11.00 ± 2.48% (3) *   –\n"), "{text}");
        assert!(text.contains("0.2                      25.00 ± 63.53% (2)    15.00% (1) *\n"), "{text}");
        let md = t.markdown();
        assert!(md.contains("| training.learning_rate | st | unbiased, K=2 |\n| --- | ---: | ---: |\n"), "{md}");
        assert!(md.contains("| 0.05 | **11.00 ± 2.48%** (3) | – |\n"), "{md}");
        let csv = t.csv();
        assert!(csv.starts_with(
            "training.learning_rate,estimator,n,mean_heldout_error,ci95_half_width,std,best\n"
        ));
        assert!(csv.contains("\n0.2,\"unbiased, K=2\",1,0.15,,,true\n"), "{csv}");
    }
}
