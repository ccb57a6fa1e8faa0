//! Refresh progress for people: a bar per source on a terminal (indicatif), plain
//! lines otherwise (CI logs, pipes), and the summary table.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{Progress, RefreshSummary};

/// Reports progress on stderr.
pub struct Reporter {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
}

impl Reporter {
    /// Bars when stderr is a terminal, lines otherwise.
    pub fn stderr() -> Reporter {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| (MultiProgress::new(), Mutex::new(HashMap::new())));
        Reporter { bars }
    }

    /// Handles one event.
    pub fn report(&self, p: &Progress) {
        let Some((multi, bars)) = &self.bars else {
            match p {
                Progress::Started {
                    source,
                    expected_rows: Some(n),
                } => eprintln!("refresh: {source}: {n} rows to read"),
                Progress::Started { source, .. } => eprintln!("refresh: {source}"),
                Progress::Rows { .. } => {}
                Progress::Finished(s) => eprintln!(
                    "refresh: {}: {} received, {} new, {} updated in {:.1}s",
                    s.source, s.fetched, s.stats.new, s.stats.updated, s.seconds
                ),
                Progress::Warning(w) => eprintln!("refresh: warning: {w}"),
            }
            return;
        };
        let Ok(mut bars) = bars.lock() else { return };
        match p {
            Progress::Started {
                source,
                expected_rows,
            } => {
                let bar = match expected_rows {
                    Some(n) => ProgressBar::new(*n).with_style(
                        ProgressStyle::with_template(
                            "{prefix:>26} [{bar:30}] {pos}/{len} rows {per_sec}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    ),
                    None => ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{prefix:>26} {spinner} {pos} received")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    ),
                };
                let bar = multi.add(bar.with_prefix(source.clone()));
                bars.insert(source.clone(), bar);
            }
            Progress::Rows { source, rows } => {
                if let Some(b) = bars.get(source) {
                    b.set_position(*rows);
                }
            }
            Progress::Finished(s) => {
                if let Some(b) = bars.get(&s.source) {
                    b.set_position(s.fetched);
                    b.finish();
                }
            }
            Progress::Warning(w) => {
                let _ = multi.println(format!("warning: {w}"));
            }
        }
    }
}

/// The summary printed on stdout after a refresh.
/// The command that lists a source's quarantined records (the directory's are kept
/// as users, groups and group members).
fn quarantine_command(summary_source: &str) -> String {
    if summary_source == "directory" {
        "whalewatch quarantine".to_owned()
    } else {
        format!("whalewatch quarantine --source {summary_source}")
    }
}

pub fn summary_table(s: &RefreshSummary) -> String {
    let mut out = format!(
        "{:<31} {:>9} {:>9} {:>9} {:>9} {:>6} {:>8}\n",
        "source", "received", "new", "updated", "same", "calls", "seconds"
    );
    for src in &s.sources {
        out.push_str(&format!(
            "{:<31} {:>9} {:>9} {:>9} {:>9} {:>6} {:>8.1}\n",
            src.source,
            src.fetched,
            src.stats.new,
            src.stats.updated,
            src.stats.unchanged,
            src.calls,
            src.seconds
        ));
    }
    let received: u64 = s.sources.iter().map(|x| x.fetched).sum();
    let h = s.hunting_use();
    if h.calls > 0 {
        out.push_str(&format!(
            "hunting: {} rows in {} calls ({} rows/call; fewest the {}-row cap allows: {}), {} row counts, {} halved; the quota ({} calls/min) bounds a refresh to {} rows/min\n",
            h.rows,
            h.calls,
            h.rows_per_call(),
            whalewatch_tenant::hunting::HUNTING_ROW_CAP,
            h.fewest_calls,
            h.counting_calls,
            h.splits,
            s.hunting_calls_per_minute,
            h.quota_rows_per_minute,
        ));
    }
    out.push_str(&format!(
        "total: {received} received in {:.1}s ({:.0}/s); {} requests, {} retries, {} throttled ({:.1}s waited), {} token renewals\n",
        s.seconds,
        received as f64 / s.seconds.max(1e-9),
        s.http.requests,
        s.http.retries,
        s.http.throttled,
        s.http.throttle_wait.as_secs_f64(),
        s.http.token_renewals
    ));
    for src in s.sources.iter().filter(|x| !x.removed.is_empty()) {
        let parts: Vec<String> = src
            .removed
            .iter()
            .map(|(l, n)| format!("{n} {l}"))
            .collect();
        out.push_str(&format!(
            "removed from the cache by {}: {}\n",
            src.source,
            parts.join(", ")
        ));
    }
    for src in s.sources.iter().filter(|x| !x.held.is_empty()) {
        out.push_str(&format!(
            "kept as cached (shrank sharply, not applied) by {}: {}\n",
            src.source,
            src.held.join(", ")
        ));
    }
    for src in s.sources.iter().filter(|x| x.rejected > 0) {
        out.push_str(&format!(
            "rejected: {}: {} records without their key or unreadable, kept aside; `{}` lists them\n",
            src.source,
            src.rejected,
            quarantine_command(&src.source)
        ));
    }
    for w in &s.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
