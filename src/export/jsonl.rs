//! JSON Lines: one JSON object per line and row, keyed by the column names; per-unit values as
//! an array `rates` (0–255 as recorded); numbers in their recorded types' shortest round-trip
//! form, `null` where not finite.

use std::io::{self, Write};

use super::records::{Cell, Column, Sink};

/// A JSON Lines writer of export rows.
pub struct JsonlSink<'w> {
    out: &'w mut dyn Write,
    keys: Vec<String>,
    line: String,
}

impl<'w> JsonlSink<'w> {
    /// Rows to `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        JsonlSink {
            out,
            keys: Vec::new(),
            line: String::new(),
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Sink for JsonlSink<'_> {
    fn begin(&mut self, columns: &[Column]) -> io::Result<()> {
        self.keys = columns
            .iter()
            .map(|c| match c {
                Column::Named(n) => json_string(n),
                Column::Units(_) => json_string("rates"),
            })
            .collect();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        line.push('{');
        for (i, (k, c)) in self.keys.iter().zip(cells).enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(k);
            line.push(':');
            match c {
                Cell::Text(t) => line.push_str(&json_string(t)),
                Cell::Num(n) => line.push_str(&n.json()),
                Cell::Units(u) => {
                    line.push('[');
                    for (j, v) in u.iter().enumerate() {
                        if j > 0 {
                            line.push(',');
                        }
                        line.push_str(&v.to_string());
                    }
                    line.push(']');
                }
            }
        }
        line.push_str("}\n");
        self.out.write_all(line.as_bytes())
    }
}
