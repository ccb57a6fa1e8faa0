//! The time range every timed pane is narrowed to: a filter term (`since:7d`,
//! `between:2026-12-01..2026-12-03`) AND-ed with each grid's filter, so the local
//! index, the view line and a saved view all read it the same way.

use chrono::{DateTime, Utc};
use whalewatch_query::index::Histogram;
use whalewatch_query::lang::{Entity, fields};

/// The spans `ctrl-t` cycles through, after "all".
pub const PRESETS: [&str; 4] = ["1h", "24h", "7d", "30d"];

/// A time range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeRange {
    /// No bound.
    #[default]
    All,
    /// From a point on (`7d` ago, a date, an RFC 3339 time) to now.
    Since(String),
    /// From one point until another (a date end includes that day).
    Between(String, String),
}

impl TimeRange {
    /// Reads `all`, a span or point (`7d`, `2026-12-01`), or `A..B`. The bounds are
    /// checked by the filter language's parser, so a range that parses here always
    /// evaluates.
    pub fn parse(text: &str) -> Result<TimeRange, String> {
        let t = text.trim();
        let r = if t.is_empty() || t.eq_ignore_ascii_case("all") {
            TimeRange::All
        } else if let Some((a, b)) = t.split_once("..") {
            TimeRange::Between(a.trim().to_string(), b.trim().to_string())
        } else {
            TimeRange::Since(t.to_string())
        };
        if let Some(term) = r.term() {
            whalewatch_query::parse(Entity::Emails, &term).map_err(|e| {
                format!("`{t}` is not a time range (all, 1h, 24h, 7d, 30d, a date, or A..B): {e}")
            })?;
        }
        Ok(r)
    }

    /// The text `parse` reads back (`all`, `7d`, `A..B`).
    pub fn text(&self) -> String {
        match self {
            TimeRange::All => "all".into(),
            TimeRange::Since(s) => s.clone(),
            TimeRange::Between(a, b) => format!("{a}..{b}"),
        }
    }

    /// The header's words for it.
    pub fn label(&self) -> String {
        match self {
            TimeRange::All => "all time".into(),
            TimeRange::Since(s) if s.ends_with(['m', 'h', 'd', 'w']) && s.len() <= 5 => {
                format!("last {s}")
            }
            TimeRange::Since(s) => format!("since {s}"),
            TimeRange::Between(a, b) if a == b => a.clone(),
            TimeRange::Between(a, b) => format!("{a}..{b}"),
        }
    }

    /// The filter term, if the range bounds anything.
    pub fn term(&self) -> Option<String> {
        use crate::panes::match_term;
        match self {
            TimeRange::All => None,
            TimeRange::Since(s) => Some(match_term("since", s)),
            TimeRange::Between(a, b) => Some(match_term("between", &format!("{a}..{b}"))),
        }
    }

    /// The term for a pane of `entity`: only entities with a time take it.
    pub fn term_for(&self, entity: Entity) -> Option<String> {
        fields::lookup(entity, "since").and(self.term())
    }

    /// The next preset: all → 1h → 24h → 7d → 30d → all (a custom range → all).
    pub fn next(&self) -> TimeRange {
        let at = match self {
            TimeRange::Since(s) => PRESETS.iter().position(|p| p == s),
            _ => None,
        };
        match (self, at) {
            (TimeRange::All, _) => TimeRange::Since(PRESETS[0].into()),
            (_, Some(i)) if i + 1 < PRESETS.len() => TimeRange::Since(PRESETS[i + 1].into()),
            _ => TimeRange::All,
        }
    }
}

/// Whether histogram buckets starting at `starts` (oldest first) are hours, not days:
/// the index makes hourly buckets for short ranges.
pub fn hourly<'a>(starts: impl IntoIterator<Item = &'a DateTime<Utc>>) -> bool {
    let starts: Vec<&DateTime<Utc>> = starts.into_iter().collect();
    let gap_under_a_day = starts
        .windows(2)
        .any(|w| *w[1] - *w[0] < chrono::Duration::days(1));
    gap_under_a_day || starts.iter().any(|t| t.time() != chrono::NaiveTime::MIN)
}

/// The histogram's bars, oldest first, with their rows (all series): every day (or
/// hour, see [`hourly`]) from the first to the last with mail, empty ones included
/// — the axis is time. The histogram view and bar selection both count bars this way.
pub fn bars(h: &Histogram) -> Vec<(DateTime<Utc>, usize)> {
    let mut days: std::collections::BTreeMap<DateTime<Utc>, usize> = Default::default();
    for b in &h.buckets {
        *days.entry(b.start).or_default() += b.count;
    }
    let step = if hourly(days.keys()) {
        chrono::Duration::hours(1)
    } else {
        chrono::Duration::days(1)
    };
    if let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) {
        let mut t = first;
        while t < last {
            days.entry(t).or_default();
            t += step;
        }
    }
    days.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_dates_and_spans_and_refuses_nonsense() {
        assert_eq!(TimeRange::parse("all"), Ok(TimeRange::All));
        assert_eq!(TimeRange::parse("7d"), Ok(TimeRange::Since("7d".into())));
        assert_eq!(
            TimeRange::parse("2026-12-01..2026-12-03"),
            Ok(TimeRange::Between("2026-12-01".into(), "2026-12-03".into()))
        );
        assert_eq!(
            TimeRange::parse("2026-12-01..2026-12-03")
                .expect("range")
                .term()
                .as_deref(),
            Some("between:2026-12-01..2026-12-03")
        );
        assert!(TimeRange::parse("yesterday-ish").is_err());
        assert!(TimeRange::parse("2026-13-45..x").is_err());
    }

    #[test]
    fn cycles_through_the_presets_and_back_to_all() {
        let mut r = TimeRange::All;
        let mut seen = Vec::new();
        for _ in 0..5 {
            r = r.next();
            seen.push(r.text());
        }
        assert_eq!(seen, ["1h", "24h", "7d", "30d", "all"]);
        assert_eq!(
            TimeRange::Between("a".into(), "b".into()).next(),
            TimeRange::All
        );
        assert_eq!(TimeRange::Since("7d".into()).label(), "last 7d");
    }

    #[test]
    fn only_timed_entities_take_the_range() {
        let r = TimeRange::Since("7d".into());
        assert!(r.term_for(Entity::Emails).is_some());
        assert!(r.term_for(Entity::Users).is_none());
    }
}
