//! Fuzzy search over subjects, senders, recipients and URLs with `nucleo-matcher` (the
//! faster of the two candidates on this machine; see README "Query performance").
//! Each distinct value present in the result is scored once — far fewer than rows —
//! in chunks; after each chunk the caller gets the best values so far and may stop,
//! so the console runs it on a worker thread and shows results as they come. A hit
//! is a value (a sender, a subject, a URL), not a row: the console turns it into a
//! filter term, or opens the row when only one carries it.

use std::ops::ControlFlow;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use serde::Serialize;

use super::column::Dict;
use super::schema as s;
use super::{EmailIndex, RowSet};

/// What a search hit is a value of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchField {
    /// `Subject`.
    Subject,
    /// `SenderFromAddress`.
    Sender,
    /// `SenderDisplayName`.
    SenderName,
    /// `RecipientEmailAddress`.
    Recipient,
    /// `EmailUrlInfo.Url`.
    Url,
}

impl SearchField {
    /// Every searched field, in the order values are scored (subjects first: what an
    /// analyst most often remembers).
    pub const ALL: [SearchField; 5] = [
        SearchField::Subject,
        SearchField::Sender,
        SearchField::SenderName,
        SearchField::Recipient,
        SearchField::Url,
    ];

    /// The filter-language field a hit becomes (`from:x@y`).
    pub fn filter_field(self) -> &'static str {
        match self {
            SearchField::Subject => "subject",
            SearchField::Sender => "from",
            SearchField::SenderName => "display-name",
            SearchField::Recipient => "to",
            SearchField::Url => "url",
        }
    }

    /// A short label for lists.
    pub fn label(self) -> &'static str {
        match self {
            SearchField::Subject => "subject",
            SearchField::Sender => "sender",
            SearchField::SenderName => "name",
            SearchField::Recipient => "recipient",
            SearchField::Url => "url",
        }
    }
}

/// One ranked value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// Which column the value is of.
    pub field: SearchField,
    /// The value, raw (untrusted: sanitise before display).
    pub value: String,
    /// Higher is better.
    pub score: u32,
    /// Rows of the result with this value (for URLs: messages carrying it).
    pub count: u32,
}

/// Where a search stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchProgress {
    /// Distinct values scored so far.
    pub scanned: usize,
    /// Distinct values to score.
    pub total: usize,
    /// The best values so far, best first (ties: more rows first).
    pub hits: Vec<SearchHit>,
    /// Values matching so far.
    pub matched: usize,
    /// Whether every value was scored.
    pub done: bool,
}

/// A value of one field: its dictionary position and how many rows carry it.
struct Candidate {
    field: usize,
    code: u32,
    count: u32,
}

impl EmailIndex {
    /// The dictionary of a searched field.
    fn search_dict(&self, f: SearchField) -> &Dict {
        match f {
            SearchField::Subject => &self.s(s::SUBJECT).dict,
            SearchField::Sender => &self.s(s::FROM).dict,
            SearchField::SenderName => &self.s(s::DISPLAY_NAME).dict,
            SearchField::Recipient => &self.s(s::RECIPIENT).dict,
            SearchField::Url => &self.side.urls.columns[0].dict,
        }
    }

    /// How many rows of `rows` carry each value of `f` (URLs: messages).
    fn search_counts(&self, f: SearchField, rows: &RowSet) -> Vec<u32> {
        let col = match f {
            SearchField::Subject => s::SUBJECT,
            SearchField::Sender => s::FROM,
            SearchField::SenderName => s::DISPLAY_NAME,
            SearchField::Recipient => s::RECIPIENT,
            SearchField::Url => {
                let nmid = self.s(s::NMID);
                let mut present = vec![false; nmid.dict.len()];
                rows.for_each(|r| present[nmid.codes.get(r) as usize] = true);
                let urls = &self.side.urls;
                let mut counts = vec![0u32; urls.columns[0].dict.len()];
                for (e, &m) in urls.message.iter().enumerate() {
                    if present.get(m as usize).copied().unwrap_or(false) {
                        counts[urls.columns[0].codes.get(e) as usize] += 1;
                    }
                }
                return counts;
            }
        };
        self.s(col).counts(rows)
    }

    /// Searches the subjects, senders, recipients and URLs of `rows` for `pattern`,
    /// scoring `chunk` distinct values at a time; `on_chunk` sees the best `limit`
    /// values after the first chunk, then at most every 50 ms and at the end, and
    /// returns `Break` to stop early (a newer query). Returns the last progress.
    pub fn search(
        &self,
        rows: &RowSet,
        pattern: &str,
        limit: usize,
        chunk: usize,
        on_chunk: &mut dyn FnMut(&SearchProgress) -> ControlFlow<()>,
    ) -> SearchProgress {
        let pat = Pattern::new(
            pattern,
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        // The distinct, non-empty values present in the result, field by field.
        let mut work: Vec<Candidate> = Vec::new();
        for (k, f) in SearchField::ALL.into_iter().enumerate() {
            let dict = self.search_dict(f);
            for (code, n) in self.search_counts(f, rows).into_iter().enumerate() {
                if n > 0 && !dict.get(code as u32).is_empty() {
                    work.push(Candidate {
                        field: k,
                        code: code as u32,
                        count: n,
                    });
                }
            }
        }
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        // (score, count, work position) of every match so far.
        let mut found: Vec<(u32, u32, usize)> = Vec::new();
        let mut progress = SearchProgress {
            scanned: 0,
            total: work.len(),
            hits: Vec::new(),
            matched: 0,
            done: work.is_empty(),
        };
        let mut last_publish: Option<std::time::Instant> = None;
        let mut start = 0;
        while start < work.len() {
            let end = (start + chunk.max(1)).min(work.len());
            for (i, c) in work[start..end].iter().enumerate() {
                let v = self.search_dict(SearchField::ALL[c.field]).get(c.code);
                if let Some(sc) = pat.score(Utf32Str::new(v, &mut buf), &mut matcher) {
                    found.push((sc, c.count, start + i));
                }
            }
            start = end;
            progress.scanned = end;
            progress.done = end == work.len();
            let due = last_publish.is_none_or(|t| t.elapsed().as_millis() >= 50);
            if !(due || progress.done) {
                continue;
            }
            self.rank_values(&work, &mut found, limit, &mut progress);
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

    /// Puts the best `limit` of `found` first, in order, and copies them out.
    fn rank_values(
        &self,
        work: &[Candidate],
        found: &mut [(u32, u32, usize)],
        limit: usize,
        p: &mut SearchProgress,
    ) {
        p.matched = found.len();
        let cmp = |a: &(u32, u32, usize), b: &(u32, u32, usize)| {
            b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
        };
        let n = limit.min(found.len());
        if n < found.len() && n > 0 {
            found.select_nth_unstable_by(n - 1, cmp);
        }
        let best = &mut found[..n];
        best.sort_unstable_by(cmp);
        p.hits = best
            .iter()
            .map(|&(score, count, i)| {
                let c = &work[i];
                let field = SearchField::ALL[c.field];
                SearchHit {
                    field,
                    value: self.search_dict(field).get(c.code).to_string(),
                    score,
                    count,
                }
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_filter_fields() {
        for f in SearchField::ALL {
            assert!(
                crate::lang::fields::lookup(crate::lang::Entity::Emails, f.filter_field())
                    .is_some(),
                "{f:?}"
            );
        }
    }
}
