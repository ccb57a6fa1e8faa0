//! `e`: the current result, every row, as CSV and JSON — raw values, byte for byte
//! (exports are for tools and tickets; only the screen is sanitised).

use std::io::Write;
use std::path::Path;

use super::panes;
use super::update::ExportJob;

/// Writes `job` to `dir` as `<pane>-<time>.csv` and `.json`; returns the paths.
pub fn write(job: &ExportJob, dir: &Path) -> std::io::Result<String> {
    let stem = match &job.path {
        Some(p) => p.clone(),
        None => {
            crate::config::paths::create_private_dir(dir)?;
            dir.join(format!(
                "{}-{}",
                job.pane.name(),
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ))
        }
    };
    let csv_path = stem.with_extension("csv");
    let json_path = stem.with_extension("json");
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
    let titles: Vec<&str> = job.columns.iter().map(|c| c.title).collect();
    writeln!(
        csv,
        "{}",
        titles
            .iter()
            .map(|t| quote(t))
            .collect::<Vec<_>>()
            .join(",")
    )?;
    let mut records = Vec::with_capacity(job.rows.len());
    for &r in job.rows.iter() {
        let cells: Vec<String> = job
            .columns
            .iter()
            .map(|c| panes::cell(&job.data, r, c.id))
            .collect();
        writeln!(
            csv,
            "{}",
            cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
        )?;
        let obj: serde_json::Map<String, serde_json::Value> = titles
            .iter()
            .zip(cells)
            .map(|(t, c)| (t.to_string(), serde_json::Value::String(c)))
            .collect();
        records.push(serde_json::Value::Object(obj));
    }
    csv.flush()?;
    let json = std::fs::File::create(&json_path)?;
    serde_json::to_writer_pretty(std::io::BufWriter::new(json), &records)
        .map_err(std::io::Error::other)?;
    Ok(format!(
        "{} and {}",
        csv_path.display(),
        json_path.display()
    ))
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet does not run an attacker's subject as a formula.
fn quote(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
