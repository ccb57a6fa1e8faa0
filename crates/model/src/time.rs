//! Datetime parsing that accepts every form Microsoft emits.
//!
//! Graph and advanced hunting use 7-digit fractions (`2021-04-27T12:19:27.7211305Z`), 3-digit
//! fractions, no fraction, and sometimes no timezone at all (`2020-08-18T12:51:51`, which is UTC).
//! A hand-written fast path handles the common ISO 8601 shapes because hunting refreshes parse a
//! timestamp per row for a million rows; anything unusual falls back to chrono's parsers.
//!
//! Stored and compared times are 100-ns ticks since the Unix epoch (Kusto's and .NET's unit). The
//! conversions live here, once, with checked arithmetic: [`checked_ticks`] says when an instant
//! does not fit, [`to_ticks`] saturates (for range bounds), [`from_ticks`] never fails.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// 100-ns ticks in a second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// Ticks of `t` since the Unix epoch, or `None` outside the ±29,227 years an `i64` holds.
pub fn checked_ticks(t: &DateTime<Utc>) -> Option<i64> {
    // In i128: the seconds of `i64::MIN` ticks times 10^7 are below `i64::MIN` before the
    // sub-second part brings them back in range.
    let ticks = i128::from(t.timestamp()) * i128::from(TICKS_PER_SECOND)
        + i128::from(t.timestamp_subsec_nanos() / 100);
    i64::try_from(ticks).ok()
}

/// Ticks of `t` since the Unix epoch, saturating at `i64::MIN`/`i64::MAX` outside the range an
/// `i64` holds (so an absurd bound still orders correctly).
pub fn to_ticks(t: &DateTime<Utc>) -> i64 {
    checked_ticks(t).unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// The instant `ticks` after the Unix epoch (negative: before it). Total: every `i64` of ticks is
/// within chrono's range, so the fallback is never taken.
pub fn from_ticks(ticks: i64) -> DateTime<Utc> {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let nanos = (ticks.rem_euclid(TICKS_PER_SECOND) * 100) as u32;
    DateTime::from_timestamp(secs, nanos).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// [`parse_datetime`] in ticks; `None` for text that is not a timestamp or does not fit.
pub fn parse_ticks(text: &str) -> Option<i64> {
    parse_datetime(text).and_then(|t| checked_ticks(&t))
}

/// Parses a timestamp in any of the accepted forms; a missing timezone means UTC.
///
/// Returns `None` for text that is not a timestamp (callers decide whether that is an error).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    fast_iso8601(text.as_bytes()).or_else(|| slow_parse(text))
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut n: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM]`
fn fast_iso8601(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let mut rest = &b[19..];
    let mut nanos: u32 = 0;
    if let Some((&b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Digits beyond nanosecond precision are ignored rather than rejected.
        let used = len.min(9);
        nanos = digits(&frac[..used])? * 10u32.pow((9 - used) as u32);
        rest = &frac[len..];
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = i64::from(digits(&[*h1, *h2])?);
            let m = i64::from(digits(&[*m1, *m2])?);
            let s = (h * 60 + m) * 60;
            if *sign == b'+' { s } else { -s }
        }
        _ => return None,
    };
    let naive =
        NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    let utc = naive.checked_sub_signed(chrono::Duration::seconds(offset_secs))?;
    Some(Utc.from_utc_datetime(&utc))
}

fn slow_parse(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(text) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(text.trim_end_matches(['Z', 'z']), fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| Utc.from_utc_datetime(&n));
    }
    None
}

/// Formats a timestamp the way Graph `$filter` literals and KQL `datetime()` expect:
/// RFC 3339, UTC, 7-digit fraction.
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    use chrono::Timelike;
    // chrono has no 7-digit fraction specifier; Graph and Kusto use 100 ns ticks.
    let ticks = dt.nanosecond() % 1_000_000_000 / 100;
    format!("{}.{ticks:07}Z", dt.format("%Y-%m-%dT%H:%M:%S"))
}

/// Serde helper for required timestamps: accepts every form, rejects non-timestamps.
pub mod required {
    use super::*;

    /// Deserialises a required timestamp in any accepted form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        parse_datetime(&text)
            .ok_or_else(|| serde::de::Error::custom(format_args!("not a timestamp: {text:?}")))
    }

    /// Serialises as RFC 3339 with a 7-digit fraction.
    pub fn serialize<S: Serializer>(dt: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_datetime(dt))
    }
}

/// Serde helper for optional timestamps: `null`, absent or empty is `None`, text that is
/// not a timestamp is an error for the record (alerts and incidents: their times are
/// watermarks and triage facts).
pub mod optional {
    use super::*;

    /// Deserialises an optional timestamp: `null`, absent or empty is `None`; any form
    /// [`parse_datetime`] reads is a time; anything else (`2026-13-45T99:99:99Z`) is an
    /// error for the record, so it is quarantined rather than stored without its time.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<std::borrow::Cow<str>>::deserialize(d)?;
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => parse_datetime(t)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid date and time {t:?}"))),
        }
    }

    /// Serialises as RFC 3339 with a 7-digit fraction, or `null`.
    pub fn serialize<S: Serializer>(dt: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match dt {
            Some(dt) => s.serialize_str(&format_datetime(dt)),
            None => s.serialize_none(),
        }
    }
}

/// Serde helper for optional timestamps that are only shown (an analyzed email's
/// `loggedDateTime`): text that is not a timestamp (the documentation's `"Datetime"`
/// placeholders) becomes `None`; the raw JSON still carries the original text.
pub mod lenient {
    use super::*;

    /// Deserialises an optional timestamp leniently.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<std::borrow::Cow<str>>::deserialize(d)?;
        Ok(text.as_deref().and_then(parse_datetime))
    }

    /// Serialises as RFC 3339 with a 7-digit fraction, or `null`.
    pub fn serialize<S: Serializer>(dt: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        super::optional::serialize(dt, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        format_datetime(&parse_datetime(s).unwrap_or_else(|| panic!("unparsed {s}")))
    }

    #[test]
    fn accepts_every_fixture_form() {
        assert_eq!(
            ts("2021-04-27T12:19:27.7211305Z"),
            "2021-04-27T12:19:27.7211305Z"
        );
        assert_eq!(
            ts("2021-04-26T07:45:50.116Z"),
            "2021-04-26T07:45:50.1160000Z"
        );
        assert_eq!(ts("2019-03-19T15:21:00Z"), "2019-03-19T15:21:00.0000000Z");
        assert_eq!(ts("2020-08-18T12:51:51"), "2020-08-18T12:51:51.0000000Z");
        assert_eq!(ts("2016-01-09 02:02:12Z"), "2016-01-09T02:02:12.0000000Z");
        assert_eq!(
            ts("2021-01-01T02:00:00+02:00"),
            "2021-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            ts("2021-01-01T02:00:00.123456789123Z"),
            "2021-01-01T02:00:00.1234567Z"
        );
        assert_eq!(
            ts("Wed, 21 Oct 2015 07:28:00 GMT"),
            "2015-10-21T07:28:00.0000000Z"
        );
        assert_eq!(ts("2024-02-29"), "2024-02-29T00:00:00.0000000Z");
    }

    #[test]
    fn ticks_round_trip_at_the_edges_of_the_calendar() {
        for text in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
            "1969-12-31T23:59:59.9999999Z",
            "1970-01-01T00:00:00Z",
            "2026-11-01T08:00:00.1234567Z",
        ] {
            let t = parse_datetime(text).unwrap_or_else(|| panic!("unparsed {text}"));
            let ticks = checked_ticks(&t).unwrap();
            assert_eq!(parse_ticks(text), Some(ticks));
            assert_eq!(from_ticks(ticks), t, "{text}");
            assert_eq!(
                format_datetime(&from_ticks(ticks)),
                text.replace(":00Z", ":00.0000000Z")
            );
        }
        assert_eq!(parse_ticks("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_ticks("1969-12-31T23:59:59.9999999Z"), Some(-1));
        assert_eq!(
            parse_ticks("0001-01-01T00:00:00Z"),
            Some(-621_355_968_000_000_000)
        );
        assert_eq!(
            parse_ticks("9999-12-31T23:59:59.9999999Z"),
            Some(2_534_023_007_999_999_999)
        );
        // Negative ticks are floored, not truncated towards zero.
        assert_eq!(
            format_datetime(&from_ticks(-1)),
            "1969-12-31T23:59:59.9999999Z"
        );
    }

    #[test]
    fn ticks_beyond_i64_are_refused_or_saturate() {
        let far = DateTime::<Utc>::MAX_UTC;
        let early = DateTime::<Utc>::MIN_UTC;
        assert_eq!(checked_ticks(&far), None);
        assert_eq!(checked_ticks(&early), None);
        assert_eq!(to_ticks(&far), i64::MAX);
        assert_eq!(to_ticks(&early), i64::MIN);
        // The ends of the i64 range map back to instants (about ±29,227 years).
        assert_eq!(checked_ticks(&from_ticks(i64::MAX)), Some(i64::MAX));
        assert_eq!(checked_ticks(&from_ticks(i64::MIN)), Some(i64::MIN));
        // One tick past either end is refused, not wrapped.
        let one = chrono::Duration::nanoseconds(100);
        assert_eq!(checked_ticks(&(from_ticks(i64::MAX) + one)), None);
        assert_eq!(checked_ticks(&(from_ticks(i64::MIN) - one)), None);
    }

    #[test]
    fn kql_and_timespan_forms_parse() {
        assert_eq!(ts("2026-11-01 08:00"), "2026-11-01T08:00:00.0000000Z");
        assert_eq!(ts("2026-11-01T08:00"), "2026-11-01T08:00:00.0000000Z");
        assert_eq!(
            ts("2026-11-01 08:00:00.1234567"),
            "2026-11-01T08:00:00.1234567Z"
        );
    }

    #[test]
    fn rejects_placeholders() {
        assert!(parse_datetime("Datetime").is_none());
        assert!(parse_datetime("YYYY-MM-DD HH:MM:SSZ").is_none());
        assert!(parse_datetime("2021-13-01T00:00:00Z").is_none());
    }
}
