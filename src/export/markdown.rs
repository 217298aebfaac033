//! The paper's table as Markdown (GitHub's pipe tables), for a README or an issue.

use super::table::{HEADERS, PaperTable};

/// `|` and line breaks would end a cell: escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The table as Markdown: the caption in bold, the table, the notes as a paragraph.
pub fn render(t: &PaperTable) -> String {
    let mut out = format!("**{}**\n\n", cell(&t.caption));
    let header: Vec<String> = HEADERS
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i >= 3 {
                format!("{h} (%)")
            } else {
                h.to_string()
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> = (0..HEADERS.len())
        .map(|i| if i < 2 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for r in &t.rows {
        let cells: Vec<String> = r.cells(" ± ").iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(
        &t.notes
            .iter()
            .map(|n| cell(n))
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    out
}
