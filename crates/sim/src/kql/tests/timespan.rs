//! The `Timespan` request parameter.

use super::*;
use crate::kql::parse_timespan_param;

/// 2024-02-15T08:00:00Z
const FEB15: i64 = 1_707_984_000 * TICKS_PER_SECOND;

#[test]
fn duration_back_from_now() {
    assert_eq!(parse_timespan_param("P30D", T0), Ok((T0 - 30 * DAY, T0)));
    assert_eq!(parse_timespan_param("PT12H", T0), Ok((T0 - 12 * HOUR, T0)));
    assert_eq!(
        parse_timespan_param("P1DT2H30M", T0),
        Ok((T0 - DAY - 2 * HOUR - 30 * 60 * TICKS_PER_SECOND, T0))
    );
    assert_eq!(
        parse_timespan_param("PT0.5S", T0),
        Ok((T0 - TICKS_PER_SECOND / 2, T0))
    );
    assert_eq!(parse_timespan_param("P2W", T0), Ok((T0 - 14 * DAY, T0)));
    assert_eq!(
        parse_timespan_param("pt10m", T0),
        Ok((T0 - 600 * TICKS_PER_SECOND, T0))
    );
}

#[test]
fn start_and_end_forms() {
    assert_eq!(
        parse_timespan_param("2024-02-01T08:00:00Z/2024-02-15T08:00:00Z", T0),
        Ok((FEB15 - 14 * DAY, FEB15))
    );
    assert_eq!(
        parse_timespan_param("P30D/2024-02-15T08:00:00Z", T0),
        Ok((FEB15 - 30 * DAY, FEB15))
    );
    assert_eq!(
        parse_timespan_param("2024-02-01T08:00:00Z/P14D", T0),
        Ok((FEB15 - 14 * DAY, FEB15))
    );
    assert_eq!(
        parse_timespan_param("2024-02-15T08:00:00Z", T0),
        Ok((FEB15, T0))
    );
    assert_eq!(
        parse_timespan_param("2024-02-15", T0),
        Ok((FEB15 - 8 * HOUR, T0))
    );
}

#[test]
fn invalid_timespans_explain_why() {
    let e = parse_timespan_param("P1M", T0).unwrap_err();
    assert!(
        matches!(&e, KqlError::InvalidTimespan { reason, .. } if reason.contains("months")),
        "{e}"
    );
    for bad in [
        "",
        "30D",
        "P",
        "PT",
        "P1H",
        "PT1D",
        "P1.2.3D",
        "P5",
        "P1D/P2D",
        "a/b/c",
        "2024-02-15T08:00:00Z/2024-02-01T00:00:00Z",
        "P99999999999D",
        "tomorrow",
    ] {
        let e = parse_timespan_param(bad, T0);
        assert!(
            matches!(e, Err(KqlError::InvalidTimespan { .. })),
            "{bad}: {e:?}"
        );
    }
    assert!(
        parse_timespan_param("yesterday", T0)
            .unwrap_err()
            .to_string()
            .starts_with("Invalid Timespan `yesterday`")
    );
}
