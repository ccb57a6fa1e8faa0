//! Printing records: an aligned table for people (untrusted text sanitized, cut to
//! fit), and JSON, JSON lines or CSV with the raw values for machines.

use std::io::{IsTerminal, Write};

use serde_json::Value;

use crate::safe_text;

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
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
            let text = serde_json::to_string_pretty(&records.raw).map_err(std::io::Error::other)?;
            writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
        }
        Format::Jsonl => {
            for r in &records.raw {
                let text = serde_json::to_string(r).map_err(std::io::Error::other)?;
                writeln!(out, "{}", safe_text::terminal_safe_json(&text))?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "{}",
                records
                    .columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for r in &records.rows {
                // Raw bytes into a file or pipe; never raw control characters onto a terminal.
                let fields: Vec<String> = r
                    .iter()
                    .map(|c| {
                        if tty {
                            csv_field(&safe_text::sanitize(c))
                        } else {
                            csv_field(c)
                        }
                    })
                    .collect();
                writeln!(out, "{}", fields.join(","))?;
            }
        }
    }
    out.flush()
}

/// RFC 4180 quoting.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    }
}
