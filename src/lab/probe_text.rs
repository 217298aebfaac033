//! A probe as text: aligned tables (bias and variance of one estimate; the MSE of an average of
//! M estimates; the MSE at equal main-path budgets) and a small-multiples chart of the MSE
//! against the main-path evaluations spent, one log-log braille panel per estimator.

use super::probe::{BUDGETS, MsePoint, Objective, ProbeReport, ProbeRow, SAMPLE_COUNTS};

/// Width the header and the notes are wrapped to.
const TEXT_WIDTH: usize = 100;

/// `text` wrapped at spaces to lines of at most `width` characters, every line after the first
/// indented by `indent` spaces.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        } else if len > 0 && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// `v` with `digits` significant digits: plain between 10⁻³ and 10⁴, scientific otherwise.
pub fn significant(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-3..4).contains(&magnitude) {
        let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{:.*e}", digits.saturating_sub(1), v)
    }
}

/// A relative MSE: the value, or "< upper bound" where the unresolved bias could make it more
/// than half again as large.
fn point(p: &MsePoint) -> String {
    if !p.bias_resolved && p.relative_mse_upper > 1.5 * p.relative_mse {
        format!("< {}", significant(p.relative_mse_upper, 2))
    } else {
        significant(p.relative_mse, 3)
    }
}

fn with_se(v: f64, se: f64) -> String {
    format!("{} ± {}", significant(v, 3), significant(se, 2))
}

/// Aligned columns: the first `left` columns left-aligned, the others right-aligned.
fn aligned(header: &[String], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
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
                let pad = w - c.chars().count();
                if i < left {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    out.push_str(&"─".repeat(widths.iter().sum::<usize>() + 2 * (widths.len().max(1) - 1)));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// The row's name, marked † when it optimises another objective.
fn marked(row: &ProbeRow) -> String {
    match row.objective {
        Objective::BernoulliGates => row.name.clone(),
        Objective::Other => format!("{} †", row.name),
    }
}

fn power_of_ten(n: u64) -> String {
    match n {
        1 => "1".into(),
        10 => "10".into(),
        100 => "100".into(),
        n => {
            let e = (n as f64).log10().round() as i32;
            if 10u64.pow(e as u32) == n {
                format!("1e{e}")
            } else {
                n.to_string()
            }
        }
    }
}

impl ProbeReport {
    /// The header, the three tables and what their columns mean.
    pub fn table(&self) -> String {
        let mut out = wrap(&self.problem.title, TEXT_WIDTH, 2);
        let mut lines = self.problem.details.clone();
        let r = &self.reference;
        let g = significant(r.norm, 3);
        lines.push(match &r.estimator {
            None => format!("reference g: the exact gradient, ‖g‖ = {g}"),
            Some((name, description)) => format!(
                "reference g: the mean of {} estimates of {name} ({description}; {} evaluations \
                 each), ‖g‖ = {g} (noise removed); its own standard error √(tr Σ_g/N) is {} of \
                 ‖g‖, removed from every squared bias and accounted for in every standard error \
                 below",
                r.samples,
                r.evaluations,
                percent(r.relative_se)
            ),
        });
        let s = &self.settings;
        lines.push(format!(
            "measured: ∂L/∂a of the batch-mean loss ({} coordinate{}), {} independent estimates \
             per estimator in {} groups (seed {}); moving-average baselines warmed on {} \
             independent draws, then frozen",
            self.dims,
            if self.dims == 1 { "" } else { "s" },
            s.samples,
            s.groups,
            s.seed,
            s.warm_up
        ));
        for line in lines {
            out.push_str(&wrap(&format!("  {line}"), TEXT_WIDTH, 4));
        }
        out.push('\n');

        out.push_str("Bias and variance of one estimate\n\n");
        let header: Vec<String> = [
            "estimator",
            "K",
            "rel. bias",
            "cosine",
            "tr Σ",
            "tr Σ / coord",
            "MSE",
            "MSE / ‖g‖²",
        ]
        .map(String::from)
        .to_vec();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let m = &row.measured;
                vec![
                    marked(row),
                    row.evaluations.to_string(),
                    if m.bias_resolved {
                        with_se(m.relative_bias, m.relative_bias_se)
                    } else {
                        format!("< {}", significant(m.relative_bias_upper, 2))
                    },
                    with_se(m.cosine, m.cosine_se),
                    with_se(m.total_variance, m.total_variance_se),
                    significant(m.variance_per_coordinate, 3),
                    with_se(m.mse, m.mse_se),
                    point(&row.mse_point(1.0)),
                ]
            })
            .collect();
        out.push_str(&aligned(&header, &rows, 1));

        out.push_str("\nMSE/‖g‖² of the mean of M estimates: (bias² + tr Σ / M) / ‖g‖²\n\n");
        let mut header = vec!["estimator".to_string(), "K".to_string()];
        header.extend(
            SAMPLE_COUNTS
                .iter()
                .map(|&m| format!("M={}", power_of_ten(m))),
        );
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![marked(row), row.evaluations.to_string()];
                cells.extend(row.mse_of_mean.iter().map(point));
                cells
            })
            .collect();
        out.push_str(&aligned(&header, &rows, 1));

        out.push_str(
            "\nMSE/‖g‖² at a budget of E main-path evaluations per example (M = ⌊E/K⌋ \
             estimates)\n\n",
        );
        let mut header = vec!["estimator".to_string(), "K".to_string()];
        header.extend(BUDGETS.iter().map(|&e| format!("E={}", power_of_ten(e))));
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![marked(row), row.evaluations.to_string()];
                cells.extend(row.mse_at_budget.iter().map(|p| match p {
                    Some(p) => point(p),
                    None => "–".into(),
                }));
                cells
            })
            .collect();
        out.push_str(&aligned(&header, &rows, 1));

        out.push('\n');
        out.push_str(&wrap(LEGEND, TEXT_WIDTH, 0));
        let others: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| r.objective_note.map(|n| format!("{}: {n}", r.name)))
            .collect();
        if !others.is_empty() {
            out.push_str(&wrap(
                &format!(
                    "† another objective — these gates are not Bernoulli(σ(a)), so the estimator \
                     follows the gradient of its own expected loss and its bias against g \
                     includes the change of objective: {}.",
                    others.join("; ")
                ),
                TEXT_WIDTH,
                0,
            ));
        }
        out
    }

    /// The small multiples: for each estimator, MSE/‖g‖² of the mean of the estimates bought
    /// with E main-path evaluations per example, (bias² + tr Σ·K/E)/‖g‖², against E from 1 to
    /// 10⁵, on log-log axes shared by every panel; `width` columns at most.
    pub fn chart(&self, width: usize) -> String {
        const LABEL: usize = 6;
        const CELLS: usize = 15;
        const ROWS: usize = 5;
        const DECADES: f64 = 8.0;
        const PANEL: usize = CELLS + 3;
        let (x0, x1) = (0.0f64, 5.0f64);
        let curve = |row: &ProbeRow, e: f64| -> Option<f64> {
            let k = row.evaluations as f64;
            if e < k {
                return None;
            }
            let p = row.mse_point(e / k);
            // Where the unresolved bias could dominate, the line stops.
            if !p.bias_resolved && p.relative_mse_upper > 1.5 * p.relative_mse {
                return None;
            }
            let v = p.relative_mse;
            (v > 0.0 && v.is_finite()).then(|| v.log10())
        };
        let columns = 2 * CELLS;
        let xs: Vec<f64> = (0..columns)
            .map(|i| 10f64.powf(x0 + (x1 - x0) * i as f64 / (columns - 1) as f64))
            .collect();
        let values: Vec<f64> = self
            .rows
            .iter()
            .flat_map(|r| xs.iter().filter_map(move |&e| curve(r, e)))
            .collect();
        if values.is_empty() {
            return "(nothing to chart: no positive mean squared error)\n".into();
        }
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min).floor();
        let mut hi = values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .ceil();
        if hi <= lo {
            hi = lo + 1.0;
        }
        // At most DECADES decades, from the top: what falls below is not drawn.
        let lo = lo.max(hi - DECADES);
        let dots = 4 * ROWS;
        let mut out = wrap(
            &format!(
                "MSE/‖g‖² of the mean of the estimates bought with E main-path evaluations per \
                 example, (bias² + tr Σ·K/E)/‖g‖², against E (log-log; across: E from 1 to 1e5; \
                 up: 1e{lo} to 1e{hi}, lower values not drawn)"
            ),
            width.min(TEXT_WIDTH),
            0,
        );
        out.push('\n');
        let per_line = ((width.saturating_sub(LABEL)) / PANEL).max(1);
        for chunk in self.rows.chunks(per_line) {
            let mut title = " ".repeat(LABEL);
            for row in chunk {
                let name: String = marked(row).chars().take(PANEL - 1).collect();
                let pad = PANEL - name.chars().count();
                title.push_str(&format!("{name}{}", " ".repeat(pad)));
            }
            out.push_str(title.trim_end());
            out.push('\n');
            // Braille cells: 2 dots across, 4 down; bit of dot (column, row).
            const BIT: [[u32; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
            let grids: Vec<Vec<u32>> = chunk
                .iter()
                .map(|row| {
                    let mut grid = vec![0u32; CELLS * ROWS];
                    let mut previous: Option<usize> = None;
                    for (i, &e) in xs.iter().enumerate() {
                        let Some(v) = curve(row, e) else {
                            previous = None;
                            continue;
                        };
                        let y = ((hi - v) / (hi - lo) * (dots - 1) as f64).round();
                        if y > (dots - 1) as f64 {
                            previous = None;
                            continue;
                        }
                        let y = y.max(0.0) as usize;
                        let (from, to) = match previous {
                            Some(p) if p < y => (p + 1, y),
                            Some(p) if p > y => (y, p - 1),
                            _ => (y, y),
                        };
                        for yy in from..=to {
                            grid[(yy / 4) * CELLS + i / 2] |= BIT[i % 2][yy % 4];
                        }
                        previous = Some(y);
                    }
                    grid
                })
                .collect();
            for line in 0..ROWS {
                let label = match line {
                    0 => format!("1e{hi}"),
                    l if l == ROWS - 1 => format!("1e{lo}"),
                    _ => String::new(),
                };
                let mut text = format!("{label:>w$} ", w = LABEL - 1);
                for grid in &grids {
                    text.push('│');
                    for c in 0..CELLS {
                        let bits = grid[line * CELLS + c];
                        text.push(char::from_u32(0x2800 + bits).unwrap_or(' '));
                    }
                    text.push_str("  ");
                }
                out.push_str(text.trim_end());
                out.push('\n');
            }
            let mut axis = " ".repeat(LABEL);
            for _ in chunk {
                axis.push('└');
                axis.push_str(&"─".repeat(CELLS));
                axis.push_str("  ");
            }
            out.push_str(axis.trim_end());
            out.push('\n');
        }
        let mut ticks = " ".repeat(LABEL + 1);
        ticks.push('1');
        let right = "1e5";
        ticks.push_str(&" ".repeat(CELLS - 1 - right.len() + 1));
        ticks.push_str(right);
        out.push_str(&format!("{ticks}  evaluations\n"));
        out.push_str(&wrap(
            "An unbiased estimator's line falls by a decade per decade of evaluations; a biased \
             one's flattens at its bias²; a line stops where a bias not resolved from 0 could \
             dominate.",
            width.min(TEXT_WIDTH),
            0,
        ));
        out
    }
}

fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{}%", significant(100.0 * v, 2))
    } else {
        "–".into()
    }
}

/// What the columns mean, printed under the tables.
pub const LEGEND: &str = "\
K: main-path evaluations per estimate. rel. bias: ‖E ĝ − g‖/‖g‖, from the squared bias \
‖m − ḡ‖² − tr Σ/M − tr Σ_g/N (m the mean of the M estimates, ḡ the reference: the noise of both \
means removed) over ‖g‖² = ‖ḡ‖² − tr Σ_g/N; \"< x\" where the squared bias is within 2 standard \
errors of 0: not resolved, x its upper bound. cosine: \
cos(E ĝ, g) = m·ḡ/√((‖m‖² − tr Σ/M)‖g‖²). tr Σ: the total variance of one estimate, Σᵢ Var ĝᵢ; \
tr Σ / coord: per coordinate. MSE: E‖ĝ − g‖² = bias² + tr Σ. ±: one standard error, by the \
jackknife over the groups of estimates (and of the reference's), the relative bias's by the delta \
method. The MSE of a mean of M estimates is bias² + tr Σ/M (\"< x\": the upper bound, where the \
unresolved bias could dominate); at a budget of E evaluations per example M = ⌊E/K⌋.";
