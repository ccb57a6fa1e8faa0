//! `e`: the current result, every row, as CSV and JSON — raw values, byte for byte
//! (exports are for tools and tickets; only the screen is sanitised), except that a
//! CSV cell a spreadsheet would run as a formula is guarded (`query::records`, the
//! same policy as `query --format csv`). Both files are owner-only (0600).

use std::io::Write;
use std::path::Path;

use super::panes;
use super::update::ExportJob;
use whalewatch_query::records::{CsvCells, CsvWriter, JsonArrayWriter};

/// Writes `job` to `dir` as `<pane>-<time>.csv` and `.json`; returns the paths.
pub fn write(job: &ExportJob, dir: &Path) -> std::io::Result<String> {
    let stem = match &job.path {
        Some(p) => p.clone(),
        None => {
            whalewatch_config::paths::create_private_dir(dir)?;
            dir.join(format!(
                "{}-{}",
                job.pane.name(),
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ))
        }
    };
    let csv_path = stem.with_extension("csv");
    let json_path = stem.with_extension("json");
    let file = |p: &Path| whalewatch_config::paths::create_private(p).map(std::io::BufWriter::new);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::action::{Action, Pane};
    use crate::update::tests::state;
    use crate::update::{Effect, Msg, update};

    /// The console's `e` on the campaigns pane sorted by Messages (descending): the
    /// counts come out by value (10 before 9), a formula-leading campaign name is
    /// guarded as the CLI guards it, and both files are owner-only.
    #[test]
    fn export_sorts_numbers_guards_formulas_and_is_owner_only() {
        let mut s = state();
        let hostile = "=cmd|' /c calc'!A0";
        let campaigns = &mut Arc::make_mut(&mut s.data.campaigns).campaigns;
        campaigns[0].name = hostile.into();
        // Counts whose text order differs from their numeric order.
        for (c, n) in Arc::make_mut(&mut s.data.campaign_stats)
            .iter_mut()
            .zip([9, 10, 2, 100])
        {
            c.messages = n;
        }
        update(&mut s, Msg::Action(Action::Pane(Pane::Campaigns)));
        let g = s.grid_mut().expect("campaigns grid");
        g.column = g
            .columns
            .iter()
            .position(|c| c.title == "Messages")
            .expect("a Messages column");
        update(&mut s, Msg::Action(Action::SortDescending));
        let dir = std::env::temp_dir().join(format!("ww-export-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let effects = update(&mut s, Msg::Action(Action::Export));
        let Some(Effect::Export(job)) = effects.into_iter().next() else {
            panic!("no export effect");
        };
        let mut job = *job;
        job.path = Some(dir.join("campaigns"));
        super::write(&job, &dir).unwrap();
        let csv = std::fs::read_to_string(dir.join("campaigns.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let m = headers.iter().position(|h| h == "Messages").unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let counts: Vec<u64> = rows.iter().map(|r| r[m].parse().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        assert!(
            counts.iter().any(|c| *c >= 10) && counts.iter().any(|c| *c < 10),
            "one- and two-digit counts: {counts:?}"
        );
        assert!(csv.contains(&format!("'{hostile}")), "{csv}");
        let json = std::fs::read_to_string(dir.join("campaigns.json")).unwrap();
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(json.contains("=cmd|"), "JSON keeps the raw value");
        assert_eq!(back.as_array().unwrap().len(), rows.len());
        #[cfg(unix)]
        for f in ["campaigns.csv", "campaigns.json"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
