//! Records as the CLI and the console hand them out: one sort order for cells and
//! one CSV and one JSON writer, so `query --sort` sorts like the console's `s` and
//! `query --format csv` is as safe in a spreadsheet as the console's export.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::io::Write;

/// A cell's sort key: numbers before text, numbers by value (`9` before `10`, a
/// trailing `%` ignored), text case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Number(f64),
    Text(String),
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
            (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
        }
    }
}

impl SortKey {
    /// The key of a cell's text.
    pub fn of(s: &str) -> SortKey {
        match number(s) {
            Some(n) => SortKey::Number(n),
            None => SortKey::Text(s.to_lowercase()),
        }
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// The order of `n` items sorted by the cell `cell(i)` gives (stable: equal cells
/// keep their order; descending reverses the comparison, not the ties).
pub fn sorted_order<'a>(n: usize, cell: impl Fn(usize) -> &'a str, descending: bool) -> Vec<usize> {
    let keys: Vec<SortKey> = (0..n).map(|i| SortKey::of(cell(i))).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let o = keys[a].cmp(&keys[b]);
        if descending { o.reverse() } else { o }
    });
    order
}

/// How CSV cells that a spreadsheet would evaluate are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvCells {
    /// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return (and not a
    /// plain number) gets a leading `'`, so Excel or LibreOffice shows an attacker's
    /// `=cmd|'/c calc'!A0` subject as text instead of running it.
    Guarded,
    /// Byte-exact values, for tools that are not spreadsheets (`--format csv-raw`).
    Raw,
}

/// `s` as [`CsvCells::Guarded`] writes it.
pub fn guard_formula(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && number(s).is_none() {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Field `column` of a JSON record as an export cell (the key compared
/// case-insensitively, as hunting columns are): a string as it is, null or missing
/// as empty, anything else as its JSON. The CLI's exports and the console's `e`
/// both turn a cached `EmailEvent` into CSV cells this way.
pub fn json_cell(record: &serde_json::Value, column: &str) -> String {
    let value = record
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(column)))
        .map(|(_, v)| v);
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The one CSV writer: RFC 4180 quoting (the `csv` crate) and the formula policy.
pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
    cells: CsvCells,
}

impl<W: Write> CsvWriter<W> {
    /// A writer of `cells` policy onto `out`.
    pub fn new(out: W, cells: CsvCells) -> CsvWriter<W> {
        CsvWriter {
            out: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(out),
            cells,
        }
    }

    /// Writes one record (the header is a record too).
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        let cells: Vec<S> = cells.into_iter().collect();
        let out = cells.iter().map(|c| match self.cells {
            CsvCells::Guarded => guard_formula(c.as_ref()),
            CsvCells::Raw => Cow::Borrowed(c.as_ref()),
        });
        self.out
            .write_record(out.map(|c| c.into_owned()))
            .map_err(csv_io)
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> std::io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// The one JSON writer: an array with one compact element per line, each made
/// terminal-safe ([`whalewatch_model::safe_text::terminal_safe_json`]; the values parse back
/// byte-exact), so the same bytes are right on a terminal, in a pipe and in a file.
pub struct JsonArrayWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonArrayWriter<W> {
    /// Starts the array.
    pub fn new(mut out: W) -> std::io::Result<JsonArrayWriter<W>> {
        write!(out, "[")?;
        Ok(JsonArrayWriter { out, first: true })
    }

    /// Writes one element.
    pub fn element(&mut self, v: &impl serde::Serialize) -> std::io::Result<()> {
        let text = serde_json::to_string(v).map_err(std::io::Error::other)?;
        let sep = if self.first { "\n  " } else { ",\n  " };
        self.first = false;
        write!(
            self.out,
            "{sep}{}",
            whalewatch_model::safe_text::terminal_safe_json(&text)
        )
    }

    /// Closes the array and hands back the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        writeln!(self.out, "{}]", if self.first { "" } else { "\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_by_value_before_text() {
        let cells = ["10", "9", "abc", "100", "-2", "Abd", "5%"];
        let order = sorted_order(cells.len(), |i| cells[i], false);
        let sorted: Vec<&str> = order.iter().map(|&i| cells[i]).collect();
        assert_eq!(sorted, ["-2", "5%", "9", "10", "100", "abc", "Abd"]);
        let order = sorted_order(cells.len(), |i| cells[i], true);
        assert_eq!(cells[order[0]], "Abd");
        assert_eq!(cells[order[2]], "100");
    }

    #[test]
    fn formulas_are_guarded_and_raw_stays_raw() {
        let row = [
            "=cmd|'/c calc'!A0",
            "@SUM(1)",
            "+1+2",
            "-1",
            "\tx",
            "a,\"b\"",
            "plain",
        ];
        let mut w = CsvWriter::new(Vec::new(), CsvCells::Guarded);
        w.row(row).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "'=cmd|'/c calc'!A0,'@SUM(1),'+1+2,-1,'\tx,\"a,\"\"b\"\"\",plain\n"
        );
        let mut w = CsvWriter::new(Vec::new(), CsvCells::Raw);
        w.row(row).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(
            text.starts_with("=cmd|'/c calc'!A0,@SUM(1),+1+2,-1,"),
            "{text}"
        );
    }

    #[test]
    fn json_array_parses_back_to_the_raw_values() {
        let rows = vec![
            serde_json::json!({"Subject": "a\u{1b}[2J\u{202e}x"}),
            serde_json::json!({"n": 1}),
        ];
        let mut w = JsonArrayWriter::new(Vec::new()).unwrap();
        for r in &rows {
            w.element(r).unwrap();
        }
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
        let back: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, rows);
        let empty = JsonArrayWriter::new(Vec::new()).unwrap().finish().unwrap();
        assert_eq!(empty, b"[]\n");
    }
}
