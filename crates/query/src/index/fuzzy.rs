//! Fuzzy search over subjects and senders with `nucleo-matcher` (the faster of the two
//! candidates on this machine; see README "Query performance"). Each distinct
//! subject, sender address and display name present in the result is scored once —
//! far fewer than rows — in chunks; after each chunk the caller gets the best rows so
//! far and may stop, so the console runs it on a worker thread and shows results as
//! they come.

use std::ops::ControlFlow;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use serde::Serialize;

use super::schema as s;
use super::{EmailIndex, RowSet};

/// One ranked row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FuzzyHit {
    /// The row.
    pub row: u32,
    /// Higher is better.
    pub score: u32,
}

/// Where a search stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzyProgress {
    /// Distinct values scored so far.
    pub scanned: usize,
    /// Distinct values to score.
    pub total: usize,
    /// The best rows so far, best first (ties: newest first).
    pub hits: Vec<FuzzyHit>,
    /// Rows matching so far.
    pub matched: usize,
    /// Whether every value was scored.
    pub done: bool,
}

/// The columns searched.
const SEARCHED: [usize; 3] = [s::SUBJECT, s::FROM, s::DISPLAY_NAME];

impl EmailIndex {
    /// Searches subjects and senders of `rows` for `pattern`, scoring `chunk` distinct
    /// values at a time; `on_chunk` sees the best `limit` rows after each chunk and
    /// returns `Break` to stop early. Returns the last progress.
    pub fn fuzzy(
        &self,
        rows: &RowSet,
        pattern: &str,
        limit: usize,
        chunk: usize,
        on_chunk: &mut dyn FnMut(&FuzzyProgress) -> ControlFlow<()>,
    ) -> FuzzyProgress {
        let pat = Pattern::new(
            pattern,
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        // The distinct values present in the result.
        let present: Vec<Vec<bool>> = SEARCHED
            .iter()
            .map(|&c| {
                let col = self.s(c);
                col.counts(rows).into_iter().map(|n| n > 0).collect()
            })
            .collect();
        let work: Vec<(usize, u32)> = present
            .iter()
            .enumerate()
            .flat_map(|(k, p)| {
                p.iter()
                    .enumerate()
                    .filter(|(_, x)| **x)
                    .map(move |(c, _)| (k, c as u32))
            })
            .collect();
        let mut scores: Vec<Vec<u32>> = SEARCHED
            .iter()
            .map(|&c| vec![0u32; self.s(c).dict.len()])
            .collect();
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut progress = FuzzyProgress {
            scanned: 0,
            total: work.len(),
            hits: Vec::new(),
            matched: 0,
            done: work.is_empty(),
        };
        // Ranking scans the result's rows: do it after the first chunk (first results
        // fast), then at most every 50 ms, and at the end.
        let mut last_publish: Option<std::time::Instant> = None;
        for part in work.chunks(chunk.max(1)) {
            for &(k, code) in part {
                let v = self.s(SEARCHED[k]).dict.get(code);
                if let Some(sc) = pat.score(Utf32Str::new(v, &mut buf), &mut matcher) {
                    // Zero means "no match" in the table: shift real scores up by one.
                    scores[k][code as usize] = sc + 1;
                }
            }
            progress.scanned += part.len();
            progress.done = progress.scanned == progress.total;
            let due = last_publish.is_none_or(|t| t.elapsed().as_millis() >= 50);
            if !(due || progress.done) {
                continue;
            }
            self.rank(rows, &scores, limit, &mut progress);
            last_publish = Some(std::time::Instant::now());
            if on_chunk(&progress).is_break() {
                return progress;
            }
        }
        if work.is_empty() {
            let _ = on_chunk(&progress);
        }
        progress
    }

    fn rank(&self, rows: &RowSet, scores: &[Vec<u32>], limit: usize, p: &mut FuzzyProgress) {
        let cols: Vec<&super::column::StrColumn> = SEARCHED.iter().map(|&c| self.s(c)).collect();
        let mut hits: Vec<(u32, i64, u32)> = Vec::new();
        rows.for_each(|r| {
            let best = (0..3)
                .map(|k| scores[k][cols[k].codes.get(r) as usize])
                .max()
                .unwrap_or(0);
            if best > 0 {
                hits.push((best - 1, self.time[r], r as u32));
            }
        });
        p.matched = hits.len();
        let cmp = |a: &(u32, i64, u32), b: &(u32, i64, u32)| {
            b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
        };
        if limit < hits.len() {
            hits.select_nth_unstable_by(limit, cmp);
            hits.truncate(limit);
        }
        hits.sort_unstable_by(cmp);
        p.hits = hits
            .into_iter()
            .map(|(score, _, row)| FuzzyHit { row, score })
            .collect();
    }
}
