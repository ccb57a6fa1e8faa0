//! Window planning for hunting pulls. A refresh first asks the service how many rows
//! each minute (or hour, or day) holds — a `summarize` that returns a few dozen numbers — and
//! then cuts the range into windows that each stay under the row cap. No window is
//! sent blind, so the cap is almost never hit; when it is (rows arrived in between),
//! the window is halved until no window is truncated.

/// Ticks per minute, hour and day (100-ns ticks, as the cache stores time).
pub const MINUTE: i64 = 60 * 10_000_000;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// A half-open time range in ticks; `to == None` means "up to now and beyond", so
/// rows that arrive during the refresh are still picked up by the last window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: Option<i64>,
}

impl Window {
    /// Splits in two halves; an open window splits at `open_end` (a time past the
    /// newest known row).
    pub fn halves(&self, open_end: i64) -> Option<(Window, Window)> {
        let to = self.to.unwrap_or(open_end.max(self.from + 1));
        let mid = self.from + (to - self.from) / 2;
        if mid <= self.from {
            return None;
        }
        Some((
            Window {
                from: self.from,
                to: Some(mid),
            },
            Window {
                from: mid,
                to: self.to,
            },
        ))
    }
}

/// Rows per time bucket, as the histogram query returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: i64,
    pub width: i64,
    pub rows: u64,
}

/// Groups consecutive buckets into windows of at most `budget` rows each. Buckets
/// must be sorted by start and non-overlapping. The first window starts at `from`
/// (the refresh's lower bound, or the first bucket), the last one is open-ended.
pub fn windows(from: Option<i64>, buckets: &[Bucket], budget: u64) -> Vec<Window> {
    let Some(first) = buckets.first() else {
        return vec![Window {
            from: from.unwrap_or(i64::MIN / 2),
            to: None,
        }];
    };
    let mut out = Vec::new();
    // Buckets start at a whole day or hour, usually before `from`: the window starts
    // at `from` itself, or an incremental refresh would re-read the rest of that day.
    let mut start = from.unwrap_or(first.start);
    let mut rows = 0u64;
    for b in buckets {
        if rows > 0 && rows + b.rows > budget {
            out.push(Window {
                from: start,
                to: Some(b.start),
            });
            start = b.start;
            rows = 0;
        }
        rows += b.rows;
    }
    out.push(Window {
        from: start,
        to: None,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(counts: &[u64]) -> Vec<Bucket> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &rows)| Bucket {
                start: i as i64 * DAY,
                width: DAY,
                rows,
            })
            .collect()
    }

    #[test]
    fn windows_cover_everything_once_and_respect_the_budget() {
        let b = days(&[30, 30, 30, 90, 10, 0, 5]);
        let w = windows(None, &b, 100);
        assert_eq!(w.first().map(|w| w.from), Some(0));
        assert_eq!(w.last().map(|w| w.to), Some(None));
        for pair in w.windows(2) {
            assert_eq!(pair[0].to, Some(pair[1].from), "contiguous");
        }
        // Rows per window never exceed the budget unless one bucket alone does.
        for win in &w {
            let rows: u64 = b
                .iter()
                .filter(|x| x.start >= win.from && win.to.is_none_or(|t| x.start < t))
                .map(|x| x.rows)
                .sum();
            assert!(rows <= 100, "{win:?} has {rows}");
        }
        // 90 | 90 + 10 + 0 | 5: 195 rows cannot fit two windows of 100.
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn a_lower_bound_before_the_data_is_kept_and_empty_histograms_give_one_open_window() {
        let w = windows(Some(-5 * DAY), &days(&[10]), 100);
        assert_eq!(
            w,
            vec![Window {
                from: -5 * DAY,
                to: None
            }]
        );
        // A watermark inside the first (floored) bucket is where reading starts.
        let w = windows(Some(DAY + 5 * HOUR), &days(&[10, 40]), 100);
        assert_eq!(
            w,
            vec![Window {
                from: DAY + 5 * HOUR,
                to: None
            }]
        );
        assert_eq!(
            windows(Some(7), &[], 100),
            vec![Window { from: 7, to: None }]
        );
    }

    #[test]
    fn halves_split_closed_and_open_windows_and_stop_at_one_tick() {
        let (a, b) = Window {
            from: 0,
            to: Some(10),
        }
        .halves(0)
        .unwrap();
        assert_eq!(
            (a, b),
            (
                Window {
                    from: 0,
                    to: Some(5)
                },
                Window {
                    from: 5,
                    to: Some(10)
                }
            )
        );
        let (a, b) = Window { from: 0, to: None }.halves(100).unwrap();
        assert_eq!((a.to, b.to), (Some(50), None));
        assert!(
            Window {
                from: 0,
                to: Some(1)
            }
            .halves(0)
            .is_none()
        );
    }
}
