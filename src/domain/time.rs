//! Moments as the API takes and gives them: RFC 3339 with the configured zone's offset, within
//! the years both stores keep and RFC 3339 can write (1970 to 9999, seen in that zone). A time
//! outside them is refused where it comes in, and a deadline counted past them is refused too.

use super::field::FieldError;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone};
use chrono_tz::Tz;
use std::ops::RangeInclusive;

/// The years a moment may fall in, in the configured zone.
pub const YEARS: RangeInclusive<i32> = 1970..=9999;

/// Whether `at` (UTC) falls in `YEARS` as the zone sees it.
pub fn writable(at: NaiveDateTime, tz: Tz) -> bool {
    YEARS.contains(&tz.from_utc_datetime(&at).year())
}

/// `at` (UTC) in RFC 3339 with the zone's offset, to the second: what the timeline keeps.
pub fn rfc3339(at: NaiveDateTime, tz: Tz) -> String {
    tz.from_utc_datetime(&at)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time (UTC), within `YEARS` in the zone.
pub fn parse(field: &str, text: &str, tz: Tz) -> Result<NaiveDateTime, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!(
                "must be an RFC 3339 time, e.g. 2026-12-04T17:30:00+08:00 (write + as %2B in a URL), in the years {} to {}",
                YEARS.start(),
                YEARS.end()
            ),
        )
    };
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| bad())?
        .naive_utc();
    writable(at, tz).then_some(at).ok_or_else(bad)
}

/// An RFC 3339 time, or a date: the start of that day in the zone, or with `end_of_day` the
/// start of the next (so `created_to=2026-11-28` takes in the 28th). Dates in `YEARS`.
pub fn parse_time_or_date(
    field: &str,
    text: &str,
    tz: Tz,
    end_of_day: bool,
) -> Result<NaiveDateTime, FieldError> {
    let text = text.trim();
    let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") else {
        return parse(field, text, tz).map_err(|e| {
            FieldError::new(field, format!("{} — or a date, e.g. 2026-11-28", e.message))
        });
    };
    if !YEARS.contains(&date.year()) {
        return Err(FieldError::new(
            field,
            format!(
                "must be a date in the years {} to {}",
                YEARS.start(),
                YEARS.end()
            ),
        ));
    }
    let day = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(start_of_day(day, tz))
}

/// Local midnight of `date` as UTC; a midnight skipped by a clock change is the first moment
/// of the day that exists.
pub fn start_of_day(date: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..=4)
        .find_map(|half_hours| {
            let probe = midnight + chrono::Duration::minutes(30 * half_hours);
            tz.from_local_datetime(&probe).earliest()
        })
        .map_or(midnight, |t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn utc(text: &str) -> NaiveDateTime {
        DateTime::parse_from_rfc3339(text).unwrap().naive_utc()
    }

    #[test]
    fn times_are_taken_within_the_years_in_the_zone() {
        assert_eq!(
            parse("due", "2099-12-04T17:30:00+08:00", Shanghai),
            Ok(utc("2099-12-04T09:30:00Z"))
        );
        for far in [
            "9999-12-31T23:59:59-12:00",
            "0000-01-01T00:00:00Z",
            "1969-12-31T15:59:59Z",
            "not a time",
            "2026-12-04",
        ] {
            assert!(parse("due", far, Shanghai).is_err(), "{far}");
        }
        // Local midnight of 1 January 1970 is still 1969 in UTC: the zone decides.
        assert_eq!(
            parse("from", "1970-01-01T00:00:00+08:00", Shanghai),
            Ok(utc("1969-12-31T16:00:00Z"))
        );
    }

    #[test]
    fn dates_are_local_days() {
        assert_eq!(
            parse_time_or_date("created_from", "1970-01-01", Shanghai, false),
            Ok(utc("1969-12-31T16:00:00Z"))
        );
        assert_eq!(
            parse_time_or_date("created_to", "2026-11-28", Shanghai, true),
            Ok(utc("2026-11-28T16:00:00Z"))
        );
        assert_eq!(
            parse_time_or_date("created_to", "9999-12-31", Shanghai, true),
            Ok(utc("9999-12-31T16:00:00Z"))
        );
        for bad in ["1969-12-31", "10000-01-01", "2026-13-01", "0000-01-01"] {
            let e = parse_time_or_date("created_from", bad, Shanghai, false).unwrap_err();
            assert_eq!(e.field, "created_from", "{bad}");
        }
    }

    #[test]
    fn written_times_carry_the_modern_offset() {
        // 1970 on: the zone's own rules, never a local mean time like +08:06.
        assert_eq!(
            rfc3339(utc("1969-12-31T16:00:00Z"), Shanghai),
            "1970-01-01T00:00:00+08:00"
        );
        assert_eq!(
            rfc3339(utc("9999-12-31T15:59:59Z"), Shanghai),
            "9999-12-31T23:59:59+08:00"
        );
        assert!(!writable(utc("9999-12-31T16:00:00Z"), Shanghai));
    }
}
