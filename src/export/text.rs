//! The paper's table as aligned text, for the terminal.

use super::table::{HEADERS, PaperTable};

/// The table as aligned text: caption, columns, notes.
pub fn render(t: &PaperTable) -> String {
    let rows: Vec<[String; 9]> = t.rows.iter().map(|r| r.cells(" ± ")).collect();
    let mut header = HEADERS;
    header[3] = "best err %";
    header[4] = "last err %";
    header[5] = "Δ last vs ref %";
    header[6] = "test firing %";
    header[7] = "saved %";
    header[8] = "net saved %";
    let mut out = format!("{}\n\n", t.caption);
    out.push_str(&crate::report::table(&header, &rows));
    out.push('\n');
    for n in &t.notes {
        out.push_str(n);
        out.push('\n');
    }
    out
}
