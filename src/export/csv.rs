//! CSV: the export files (comma-separated, a header line, RFC 4180 quoting by the `csv` crate;
//! per-unit values as columns `u0`, `u1`, …) and the paper's table.

use std::io::{self, Write};

use super::records::{Cell, Column, Sink};
use super::table::PaperTable;

/// A CSV writer of export rows.
pub struct CsvSink<'w> {
    out: csv::Writer<&'w mut dyn Write>,
    units: usize,
}

impl<'w> CsvSink<'w> {
    /// Rows to `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        CsvSink {
            out: csv::WriterBuilder::new().flexible(false).from_writer(out),
            units: 0,
        }
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl Sink for CsvSink<'_> {
    fn begin(&mut self, columns: &[Column]) -> io::Result<()> {
        let mut header = Vec::new();
        for c in columns {
            match c {
                Column::Named(n) => header.push(n.clone()),
                Column::Units(n) => {
                    self.units = *n;
                    header.extend((0..*n).map(|u| format!("u{u}")));
                }
            }
        }
        self.out.write_record(&header).map_err(io_error)
    }

    fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        let mut record: Vec<String> = Vec::with_capacity(cells.len() + self.units);
        for c in cells {
            match c {
                Cell::Text(t) => record.push(t.to_string()),
                Cell::Num(n) => record.push(n.text()),
                Cell::Units(u) => {
                    record.extend(u.iter().map(u8::to_string));
                    // Narrower networks (of another session) leave their last columns empty.
                    record.extend((u.len()..self.units).map(|_| String::new()));
                }
            }
        }
        self.out.write_record(&record).map_err(io_error)
    }
}

/// The paper's table as CSV: one row per lane; every mean, half-width and paired difference in
/// percent at full precision (empty where there is none), n, and the best evaluation's mean step.
pub fn table(t: &PaperTable, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let header = [
        "lane",
        "estimator",
        "n",
        "best_error_pct",
        "best_error_ci95_pct",
        "best_step_mean",
        "last_error_pct",
        "last_error_ci95_pct",
        "last_vs_reference_pct",
        "last_vs_reference_ci95_pct",
        "last_vs_reference_significant",
        "test_firing_pct",
        "test_firing_ci95_pct",
        "saved_pct",
        "saved_ci95_pct",
        "net_saved_pct",
        "net_saved_ci95_pct",
    ];
    w.write_record(header).map_err(io_error)?;
    let pct = |v: Option<f64>| v.map_or(String::new(), |v| (100.0 * v).to_string());
    for r in &t.rows {
        let m = |x: &Option<crate::stats::MeanInterval>| {
            [pct(x.map(|m| m.mean)), pct(x.and_then(|m| m.half_width))]
        };
        let [best, best_h] = m(&r.best);
        let [last, last_h] = m(&r.last);
        let [firing, firing_h] = m(&r.test_firing);
        let [saved, saved_h] = m(&r.saved);
        let [net, net_h] = m(&r.net_saved);
        let [paired, paired_h] = m(&r.paired.map(|p| p.difference));
        let significant = if r.is_reference {
            "reference".to_string()
        } else {
            r.paired
                .map_or(String::new(), |p| p.significant.to_string())
        };
        w.write_record([
            r.lane.clone(),
            r.estimator.clone(),
            r.n.to_string(),
            best,
            best_h,
            r.best_step.map_or(String::new(), |s| s.to_string()),
            last,
            last_h,
            paired,
            paired_h,
            significant,
            firing,
            firing_h,
            saved,
            saved_h,
            net,
            net_h,
        ])
        .map_err(io_error)?;
    }
    w.flush()
}
