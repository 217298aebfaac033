//! The merged sweep as a researcher reads it: the grid of settings (rows) × estimators
//! (columns), each cell the mean held-out error over the seeds with its 95% interval
//! (x̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n) and n, the best setting of each estimator marked — as aligned text,
//! Markdown and CSV — and every lane of every run in long form (`runs.csv`).

use crate::report::{aligned, percent_mean};
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

    fn headers(&self) -> Vec<String> {
        self.label_headers()
            .into_iter()
            .chain(self.estimators.iter().cloned())
            .collect()
    }

    /// The title line.
    fn title(&self) -> String {
        format!(
            "{}: held-out error (latest evaluation), mean ± 95% CI over seeds (Student t), (n \
             seeds); * best setting per estimator",
            self.sweep
        )
    }

    /// The aligned text table: labels left-aligned, cells right-aligned.
    pub fn text(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .cells
            .iter()
            .enumerate()
            .map(|(s, cells)| {
                let mut row = self.labels(s);
                row.extend(cells.iter().map(|c| match c {
                    Some(c) => format!(
                        "{} ({}){}",
                        percent_mean(&c.error),
                        c.error.n,
                        if c.best { " *" } else { "  " }
                    ),
                    None => "–  ".into(),
                }));
                row
            })
            .collect();
        let headers = self.headers();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let table = aligned(&headers, self.label_headers().len(), true, &rows);
        format!("{}\n\n{table}", self.title())
    }

    /// The table in Markdown (the best setting in bold).
    pub fn markdown(&self) -> String {
        let headers = self.headers();
        let labels = self.label_headers().len();
        let rules: Vec<&str> = (0..headers.len())
            .map(|i| if i < labels { "---" } else { "---:" })
            .collect();
        let mut out = format!(
            "{}\n\n| {} |\n| {} |\n",
            self.title(),
            headers.join(" | "),
            rules.join(" | ")
        );
        for (s, cells) in self.cells.iter().enumerate() {
            let mut row = self.labels(s);
            row.extend(cells.iter().map(|c| match c {
                Some(c) if c.best => format!("**{}** ({})", percent_mean(&c.error), c.error.n),
                Some(c) => format!("{} ({})", percent_mean(&c.error), c.error.n),
                None => "–".into(),
            }));
            out += &format!("| {} |\n", row.join(" | "));
        }
        out
    }

    /// The table in long form: one line per setting and estimator.
    pub fn csv(&self) -> Result<String, csv::Error> {
        let mut records = vec![
            self.label_headers()
                .into_iter()
                .chain(
                    [
                        "estimator",
                        "n",
                        "mean_heldout_error",
                        "ci95_half_width",
                        "std",
                        "best",
                    ]
                    .map(String::from),
                )
                .collect::<Vec<_>>(),
        ];
        for (s, cells) in self.cells.iter().enumerate() {
            for (e, c) in cells.iter().enumerate() {
                let Some(c) = c else { continue };
                records.push(
                    self.labels(s)
                        .into_iter()
                        .chain([
                            self.estimators[e].clone(),
                            c.error.n.to_string(),
                            c.error.mean.to_string(),
                            opt(c.error.half_width),
                            opt(c.error.std),
                            c.best.to_string(),
                        ])
                        .collect(),
                );
            }
        }
        csv_text(&records)
    }

    /// Every lane of every done run, one line each.
    pub fn runs_csv(&self) -> Result<String, csv::Error> {
        let mut records = vec![
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
                )
                .collect::<Vec<_>>(),
        ];
        for l in &self.lanes {
            records.push(
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
                    ])
                    .collect(),
            );
        }
        csv_text(&records)
    }
}

/// `records` as CSV text (RFC 4180 quoting).
fn csv_text(records: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(r)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or(String::new(), |v| v.to_string())
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
        // 11 ± 2.262·0.01/√3 = 11.00 ± 2.48%; 25 ± 12.706·0.0707/√2 = 25.00 ± 63.53%.
        let want = "training.learning_rate                    st  unbiased, K=2\n\
                    ───────────────────────────────────────────────────────────\n\
                    0.05                     11.00 ± 2.48% (3) *            –\n\
                    0.2                     25.00 ± 63.53% (2)     15.00% (1) *\n";
        assert!(text.ends_with(want), "{text}");
        let md = t.markdown();
        assert!(
            md.contains("| training.learning_rate | st | unbiased, K=2 |\n| --- | ---: | ---: |\n"),
            "{md}"
        );
        assert!(
            md.contains("| 0.05 | **11.00 ± 2.48%** (3) | – |\n"),
            "{md}"
        );
        let csv = t.csv().unwrap();
        assert!(csv.starts_with(
            "training.learning_rate,estimator,n,mean_heldout_error,ci95_half_width,std,best\n"
        ));
        assert!(
            csv.contains("\n0.2,\"unbiased, K=2\",1,0.15,,,true\n"),
            "{csv}"
        );
    }
}
