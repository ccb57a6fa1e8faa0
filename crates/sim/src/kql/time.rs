//! Datetime and timespan text: KQL literals (`1d`, `datetime(2026-11-01)`) and the
//! ISO-8601 forms of `runHuntingQuery`'s `Timespan` parameter. All results are ticks
//! (100 ns) since the Unix epoch, computed with checked arithmetic so absurd inputs
//! become errors rather than overflows.

use super::{KqlError, TICKS_PER_SECOND};

const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
/// Ticks in a day.
pub const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

/// Whether `unit` is a KQL timespan literal suffix.
pub fn is_timespan_unit(unit: &str) -> bool {
    timespan_literal("0", unit).is_some()
}

/// The value of a KQL timespan literal such as `1d`, `1.5h`, `100ms`; `None` when the
/// unit is not a timespan unit or the value overflows.
pub fn timespan_literal(number: &str, unit: &str) -> Option<i64> {
    let per: f64 = match unit {
        "d" | "day" | "days" => TICKS_PER_DAY as f64,
        "h" | "hr" | "hrs" | "hour" | "hours" => TICKS_PER_HOUR as f64,
        "m" | "min" | "minute" | "minutes" => TICKS_PER_MINUTE as f64,
        "s" | "sec" | "second" | "seconds" => TICKS_PER_SECOND as f64,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000.0,
        "microsecond" | "microseconds" => 10.0,
        "tick" | "ticks" => 1.0,
        _ => return None,
    };
    if let Ok(n) = number.parse::<i64>() {
        return n.checked_mul(per as i64);
    }
    let ticks = number.parse::<f64>().ok()? * per;
    (ticks.is_finite() && ticks.abs() < 9.0e18).then_some(ticks.round() as i64)
}

/// Parses the datetime forms KQL and the Graph `Timespan` parameter accept
/// (`2026-11-01`, `2026-11-01T08:00`, `2026-11-01 08:00:00.1234567`, RFC 3339 with an offset)
/// into ticks: the one parser in `model::time`.
pub use whalewatch_model::time::parse_ticks as parse_datetime;

/// Parses an ISO-8601 duration (`P30D`, `PT12H`, `P1DT2H30M`, `PT0.5S`, `P2W`) into
/// ticks. Years and months are rejected: their length depends on the calendar.
pub fn parse_iso_duration(s: &str) -> Result<i64, String> {
    let upper = s.trim().to_ascii_uppercase();
    let Some(body) = upper.strip_prefix('P') else {
        return Err("a duration must start with `P` (for example P30D or PT12H)".into());
    };
    if body.is_empty() || body == "T" {
        return Err("the duration has no components".into());
    }
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut num = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() || c == '.' || c == ',' {
            num.push(if c == ',' { '.' } else { c });
            continue;
        }
        if c == 'T' {
            if in_time || !num.is_empty() {
                return Err("misplaced `T` in duration".into());
            }
            in_time = true;
            continue;
        }
        let per = match (c, in_time) {
            ('W', false) => 7 * TICKS_PER_DAY,
            ('D', false) => TICKS_PER_DAY,
            ('H', true) => TICKS_PER_HOUR,
            ('M', true) => TICKS_PER_MINUTE,
            ('S', true) => TICKS_PER_SECOND,
            ('Y' | 'M', false) => {
                return Err(
                    "years and months are not supported in durations; use days (e.g. P30D)".into(),
                );
            }
            _ => return Err(format!("unexpected `{c}` in duration")),
        };
        if num.is_empty() {
            return Err(format!("missing number before `{c}`"));
        }
        let value: f64 = num.parse().map_err(|_| format!("invalid number `{num}`"))?;
        let ticks = value * per as f64;
        if !ticks.is_finite() || ticks >= 9.0e18 {
            return Err("duration is too large".into());
        }
        total = total
            .checked_add(ticks.round() as i64)
            .ok_or("duration is too large")?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!("number `{num}` has no unit"));
    }
    Ok(total)
}

enum Part {
    At(i64),
    Span(i64),
}

fn parse_part(s: &str) -> Result<Part, String> {
    let t = s.trim();
    if t.starts_with(['P', 'p']) {
        parse_iso_duration(t).map(Part::Span)
    } else {
        parse_datetime(t)
            .map(Part::At)
            .ok_or_else(|| format!("`{t}` is neither an ISO-8601 datetime nor a duration"))
    }
}

/// Turns `runHuntingQuery`'s optional `Timespan` parameter into a `[start, end)` tick
/// window. Accepted forms: `P30D` (back from `now`), `start/end`, `duration/end`,
/// `start/duration`, and a lone `start` (ending at `now`).
pub fn parse_timespan_param(s: &str, now: i64) -> Result<(i64, i64), KqlError> {
    let bad = |reason: String| KqlError::InvalidTimespan {
        value: s.to_string(),
        reason,
    };
    let overflow = || bad("the time range is out of bounds".into());
    let mut parts = s.split('/');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    if parts.next().is_some() {
        return Err(bad(
            "expected at most one `/` separating start and end".into()
        ));
    }
    let (start, end) = match (
        parse_part(first).map_err(bad)?,
        second.map(parse_part).transpose().map_err(bad)?,
    ) {
        (Part::Span(d), None) => (now.checked_sub(d).ok_or_else(overflow)?, now),
        (Part::At(a), None) => (a, now),
        (Part::At(a), Some(Part::At(b))) => (a, b),
        (Part::Span(d), Some(Part::At(b))) => (b.checked_sub(d).ok_or_else(overflow)?, b),
        (Part::At(a), Some(Part::Span(d))) => (a, a.checked_add(d).ok_or_else(overflow)?),
        (Part::Span(_), Some(Part::Span(_))) => {
            return Err(bad(
                "at least one side of `start/end` must be a datetime".into()
            ));
        }
    };
    if start > end {
        return Err(bad("the start is after the end".into()));
    }
    Ok((start, end))
}
