//! `e`: the current result, every row, as CSV and JSON — raw values, byte for byte
//! (exports are for tools and tickets; only the screen is sanitised), except that a
//! CSV cell a spreadsheet would run as a formula is guarded (`query::records`, the
//! same policy as `query --format csv`). Both files are owner-only (0600).

use std::io::Write;
use std::path::Path;

use super::panes;
use crate::query::records::{CsvCells, CsvWriter, JsonArrayWriter};
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
    let file = |p: &Path| crate::config::paths::create_private(p).map(std::io::BufWriter::new);
    let mut csv = CsvWriter::new(file(&csv_path)?, CsvCells::Guarded);
    let mut json = JsonArrayWriter::new(file(&json_path)?)?;
    let titles: Vec<&str> = job.columns.iter().map(|c| c.title).collect();
    csv.row(&titles)?;
    for &r in job.rows.iter() {
        let cells: Vec<String> = job
            .columns
            .iter()
            .map(|c| panes::cell(&job.data, r, c.id))
            .collect();
        csv.row(&cells)?;
        let obj: serde_json::Map<String, serde_json::Value> = titles
            .iter()
            .zip(cells)
            .map(|(t, c)| (t.to_string(), serde_json::Value::String(c)))
            .collect();
        json.element(&obj)?;
    }
    csv.finish()?.flush()?;
    json.finish()?;
    Ok(format!(
        "{} and {}",
        csv_path.display(),
        json_path.display()
    ))
}
