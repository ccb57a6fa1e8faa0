//! Printing records: an aligned table for people (untrusted text sanitized, cut to
//! fit), and JSON, JSON lines or CSV with the raw values for machines.

use std::io::{IsTerminal, Write};

use serde_json::Value;

use crate::query::records::{CsvCells, CsvWriter, JsonArrayWriter};
use crate::safe_text;

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    /// CSV with formula-leading cells guarded (`'=...`), safe to open in a spreadsheet.
    Csv,
    /// CSV with every value byte-exact, formula-leading cells included (for tools).
    CsvRaw,
}

impl Format {
    /// The CSV policy of this format, `None` when it is not CSV.
    pub fn csv_cells(self) -> Option<CsvCells> {
        match self {
            Format::Csv => Some(CsvCells::Guarded),
            Format::CsvRaw => Some(CsvCells::Raw),
            _ => None,
        }
    }
}

/// Records to print: column names for the table and CSV, and one JSON object per
/// record carrying every raw value.
pub struct Records {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub raw: Vec<Value>,
}

/// Widest a table column may be before it is cut.
const MAX_COLUMN: usize = 48;

/// Writes `records` in `format` to stdout.
pub fn print(records: &Records, format: Format) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Table => {
            let cells: Vec<Vec<String>> = records
                .rows
                .iter()
                .map(|r| r.iter().map(|c| safe_text::fit(c, MAX_COLUMN)).collect())
                .collect();
            let mut widths: Vec<usize> = records.columns.iter().map(|c| c.len()).collect();
            for r in &cells {
                for (i, c) in r.iter().enumerate() {
                    widths[i] = widths[i].max(safe_text::width(c));
                }
            }
            let line = |out: &mut dyn Write, row: &[String]| -> std::io::Result<()> {
                let mut s = String::new();
                for (i, c) in row.iter().enumerate() {
                    if i > 0 {
                        s.push_str("  ");
                    }
                    s.push_str(c);
                    if i + 1 < row.len() {
                        s.push_str(&" ".repeat(widths[i].saturating_sub(safe_text::width(c))));
                    }
                }
                writeln!(out, "{}", s.trim_end())
            };
            line(
                &mut out,
                &records
                    .columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>(),
            )?;
            for r in &cells {
                line(&mut out, r)?;
            }
        }
        Format::Json => {
            let mut w = JsonArrayWriter::new(&mut out)?;
            for r in &records.raw {
                w.element(r)?;
            }
            w.finish()?;
        }
        Format::Jsonl => {
            for r in &records.raw {
                let text = serde_json::to_string(r).map_err(std::io::Error::other)?;
                writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
            }
        }
        Format::Csv | Format::CsvRaw => {
            let policy = format.csv_cells().unwrap_or(CsvCells::Guarded);
            let mut w = CsvWriter::new(&mut out, policy);
            w.row(&records.columns)?;
            for r in &records.rows {
                // Raw bytes into a file or pipe; never raw control characters onto a terminal.
                w.row(r.iter().map(|c| terminal_cell(c, tty)))?;
            }
            w.finish()?;
        }
    }
    out.flush()
}

/// A cell as CSV carries it: raw into a file or pipe, sanitised onto a terminal.
pub fn terminal_cell(c: &str, tty: bool) -> std::borrow::Cow<'_, str> {
    if tty {
        safe_text::sanitize(c)
    } else {
        std::borrow::Cow::Borrowed(c)
    }
}
