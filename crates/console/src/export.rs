//! `e`: the current result, every row and every column, as CSV and JSON — raw
//! values, byte for byte (exports are for tools and tickets; only the screen is
//! sanitised), except that a CSV cell a spreadsheet would run as a formula is guarded
//! (`query::records`, the same writer and policy as `query --format csv`). Mail is
//! written as the CLI writes it: every `EmailEvents` column of each cached row, in
//! the grid's order. Both files are owner-only (0600).

use std::io::Write;
use std::path::Path;

use super::action::Pane;
use super::panes;
use super::update::ExportJob;
use whalewatch_cache::Cache;
use whalewatch_model::email::EmailEvent;
use whalewatch_model::hunting::HuntingRow;
use whalewatch_query::records::{CsvCells, CsvWriter, JsonArrayWriter, json_cell};

/// What an export wrote, for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub csv: std::path::PathBuf,
    pub json: std::path::PathBuf,
    pub rows: usize,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = if self.rows == 1 { "row" } else { "rows" };
        write!(
            f,
            "exported {} {rows} to {} and {}",
            self.rows,
            self.csv.display(),
            self.json.display()
        )
    }
}

/// Writes `job` to `dir` as `<pane>-<time>.csv` and `.json` (or to the job's own
/// path); mail rows are read back from the cache at `cache`.
pub fn write(job: &ExportJob, cache: &Path, dir: &Path) -> std::io::Result<Written> {
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
    if job.pane == Pane::Emails {
        write_mail(job, cache, &mut csv, &mut json)?;
    } else {
        // The pane's every column (not only those on screen), raw cells; in JSON the
        // record `query --format json` writes where there is one (an alert as the
        // service sent it, a campaign with its figures).
        let columns = panes::default_columns(job.pane);
        let titles: Vec<&str> = columns.iter().map(|c| c.title).collect();
        // The console holds alerts without their JSON (`AlertIndex::without_raw`):
        // read it back, with the analyst's unconfirmed writes applied as on screen.
        let mut sent: std::collections::HashMap<String, serde_json::Value> =
            if job.pane == Pane::Alerts {
                Cache::open_read_only(cache)
                    .and_then(|c| c.alerts_newest(None))
                    .map_err(std::io::Error::other)?
                    .into_iter()
                    .map(|row| (row.alert.id.clone(), row.alert.raw))
                    .collect()
            } else {
                std::collections::HashMap::new()
            };
        csv.row(&titles)?;
        for &r in job.rows.iter() {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| panes::export_cell(&job.data, r, c.id))
                .collect();
            csv.row(&cells)?;
            let record = match job.pane {
                Pane::Alerts => job
                    .data
                    .alerts
                    .items
                    .get(r as usize)
                    .map(|a| {
                        sent.remove(&a.alert.id).ok_or_else(|| {
                            std::io::Error::other(
                                "the cache changed while exporting (a refresh ran); export again",
                            )
                        })
                    })
                    .transpose()?,
                Pane::Campaigns => job
                    .data
                    .campaigns
                    .campaigns
                    .get(r as usize)
                    .map(|c| c.to_json()),
                _ => None,
            };
            match record {
                Some(v) => json.element(&v)?,
                None => {
                    let obj: serde_json::Map<String, serde_json::Value> = titles
                        .iter()
                        .zip(cells)
                        .map(|(t, c)| (t.to_string(), serde_json::Value::String(c)))
                        .collect();
                    json.element(&obj)?;
                }
            }
        }
    }
    csv.finish()?.flush()?;
    json.finish()?;
    Ok(Written {
        csv: csv_path,
        json: json_path,
        rows: job.rows.len(),
    })
}

/// Every `EmailEvents` column of each row, read from the cache by key (the preview's
/// own rows before the index is built), as `query emails --format csv|json` writes them.
fn write_mail<W: Write, J: Write>(
    job: &ExportJob,
    cache: &Path,
    csv: &mut CsvWriter<W>,
    json: &mut JsonArrayWriter<J>,
) -> std::io::Result<()> {
    let columns = EmailEvent::COLUMNS;
    csv.row(columns)?;
    let open = match &job.data.emails {
        Some(_) => Some(Cache::open_read_only(cache).map_err(std::io::Error::other)?),
        None => None,
    };
    for &r in job.rows.iter() {
        let event = match (&job.data.emails, &open) {
            (Some(ix), Some(c)) => c
                .email(&ix.key(r as usize))
                .map_err(std::io::Error::other)?
                .ok_or_else(|| {
                    std::io::Error::other(
                        "the cache changed while exporting (a refresh ran); export again",
                    )
                })?,
            _ => job.data.preview.get(r as usize).cloned().ok_or_else(|| {
                std::io::Error::other("the preview changed while exporting; export again")
            })?,
        };
        let v = serde_json::to_value(&event)?;
        csv.row(columns.iter().map(|c| json_cell(&v, c)))?;
        json.element(&v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::action::{Action, Pane};
    use crate::update::tests::state;
    use crate::update::{Effect, Msg, update};

    /// `e` on the alert queue: every column (not only those shown), times at full
    /// precision (the grid shows minutes), each alert's JSON as the service sent it,
    /// owner-only files.
    #[test]
    fn alert_export_has_every_column_and_full_times() {
        let mut s = state();
        // Show fewer columns than the pane has: the export still has them all.
        s.grid_mut().expect("grid").columns.truncate(3);
        let dir = std::env::temp_dir().join(format!("ww-export-alerts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let effects = update(&mut s, Msg::Action(Action::Export));
        let Some(Effect::Export(job)) = effects.into_iter().next() else {
            panic!("no export effect");
        };
        let written = super::write(&job, &crate::update::tests::fixture().0, &dir).unwrap();
        assert_eq!(written.rows, s.grid().unwrap().rows.len());
        let csv = std::fs::read_to_string(&written.csv).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let all: Vec<String> = crate::panes::default_columns(Pane::Alerts)
            .iter()
            .map(|c| c.title.to_string())
            .collect();
        assert_eq!(headers, all);
        let last = headers.iter().position(|h| h == "Last activity").unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let first = &s.data.alerts.items[s.grid().unwrap().rows[0] as usize].alert;
        assert_eq!(
            &rows[0][last],
            whalewatch_model::time::format_datetime(
                first.last_activity_date_time.as_ref().unwrap()
            )
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&written.json).unwrap()).unwrap();
        // The console holds the parsed alert only (its JSON tree would be the largest
        // part of its heap); the export reads the JSON back from the cache.
        assert!(first.raw.is_null(), "the snapshot keeps no alert JSON");
        let cache =
            whalewatch_cache::Cache::open_read_only(&crate::update::tests::fixture().0).unwrap();
        let sent = cache.tenant_alert(&first.id).unwrap().unwrap().raw;
        assert!(sent.is_object());
        assert_eq!(json[0], sent, "the alert as the service sent it");
        #[cfg(unix)]
        for f in [&written.csv, &written.json] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
        super::write(&job, &super::super::update::tests::fixture().0, &dir).unwrap();
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
