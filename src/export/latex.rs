//! The paper's table as LaTeX with booktabs rules (`\usepackage{booktabs}`), ready for
//! `\input{}`: a `table` float with the caption (the notes included) above a `tabular`.

use super::table::{PaperTable, paired_cell, percent_cell};

/// `s` with LaTeX's special characters escaped and the Unicode symbols of estimator
/// descriptions written as math.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("\\ensuremath{\\pm}"),
            '√' => out.push_str("\\ensuremath{\\surd}"),
            '×' => out.push_str("\\ensuremath{\\times}"),
            '·' => out.push_str("\\ensuremath{\\cdot}"),
            '−' => out.push_str("\\ensuremath{-}"),
            '–' => out.push_str("--"),
            '—' => out.push_str("---"),
            '≤' => out.push_str("\\ensuremath{\\leq}"),
            '≥' => out.push_str("\\ensuremath{\\geq}"),
            'Δ' => out.push_str("\\ensuremath{\\Delta}"),
            'σ' => out.push_str("\\ensuremath{\\sigma}"),
            'τ' => out.push_str("\\ensuremath{\\tau}"),
            'κ' => out.push_str("\\ensuremath{\\kappa}"),
            'λ' => out.push_str("\\ensuremath{\\lambda}"),
            '∞' => out.push_str("\\ensuremath{\\infty}"),
            '₀' => out.push_str("\\ensuremath{_0}"),
            _ => out.push(c),
        }
    }
    out
}

/// The table as a booktabs `table` float labelled `tab:gradrace`.
pub fn render(t: &PaperTable) -> String {
    let pm = " $\\pm$ ";
    let mut out = String::new();
    out.push_str("% gradrace table: \\usepackage{booktabs}\n");
    out.push_str("\\begin{table}[t]\n\\centering\n\\small\n");
    out.push_str(&format!(
        "\\caption{{{}. {}}}\n\\label{{tab:gradrace}}\n",
        escape(&t.caption),
        escape(&t.notes.join(" "))
    ));
    out.push_str("\\begin{tabular}{llrrrrrrr}\n\\toprule\n");
    out.push_str(
        " & & & \\multicolumn{3}{c}{Held-out error (\\%)} & Test firing & \
         \\multicolumn{2}{c}{Saved (\\%)} \\\\\n\\cmidrule(lr){4-6} \\cmidrule(lr){8-9}\n",
    );
    out.push_str(
        "Lane & Estimator & $n$ & Best & Last & $\\Delta$ last vs ref. & (\\%) & Main path & Net \
         \\\\\n\\midrule\n",
    );
    for r in &t.rows {
        let cells = [
            escape(&r.lane),
            escape(&r.estimator),
            r.n.to_string(),
            percent_cell(&r.best, 2, pm),
            percent_cell(&r.last, 2, pm),
            paired_cell(r, pm, "(ref.)")
                .replace(" *", "$^*$")
                .replace('-', "$-$"),
            percent_cell(&r.test_firing, 1, pm),
            percent_cell(&r.saved, 1, pm),
            percent_cell(&r.net_saved, 1, pm),
        ]
        .map(|c| c.replace('–', "--"));
        out.push_str(&cells.join(" & "));
        out.push_str(" \\\\\n");
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n\\end{table}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape("a_b & 10%"), "a\\_b \\& 10\\%");
        assert_eq!(
            escape("sts (b~Bern(√p))"),
            "sts (b\\textasciitilde{}Bern(\\ensuremath{\\surd}p))"
        );
        assert_eq!(escape("σ=1"), "\\ensuremath{\\sigma}=1");
    }
}
