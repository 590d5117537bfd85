//! Policy durations as written in config and the API: `3wd` working days, `4wh` working hours,
//! `7d` calendar days, and elapsed `2h`, `30m`, `45s`. Counting them against the calendar is the
//! calendar's job; this type only knows what was written.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duration {
    WorkingDays(u32),
    WorkingHours(u32),
    CalendarDays(u32),
    Hours(u32),
    Minutes(u32),
    Seconds(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a duration: write a whole number and a unit, one of wd, wh, d, h, m, s (e.g. 3wd, 4wh, 7d, 2h, 30m, 45s)"
)]
pub struct DurationError(pub String);

impl Duration {
    /// The elapsed length of a duration that does not depend on the calendar.
    pub fn as_elapsed(self) -> Option<chrono::Duration> {
        match self {
            Duration::Hours(n) => Some(chrono::Duration::hours(n.into())),
            Duration::Minutes(n) => Some(chrono::Duration::minutes(n.into())),
            Duration::Seconds(n) => Some(chrono::Duration::seconds(n.into())),
            _ => None,
        }
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (number, unit) = t.split_at(split);
        let n: u32 = number.parse().map_err(|_| err())?;
        // No period is longer than ten years: far past any time limit, and safe to count with.
        let (d, max) = match unit {
            "wd" => (Duration::WorkingDays(n), 2_600),
            "wh" => (Duration::WorkingHours(n), 20_000),
            "d" => (Duration::CalendarDays(n), 3_660),
            "h" => (Duration::Hours(n), 87_840),
            "m" => (Duration::Minutes(n), 5_270_400),
            "s" => (Duration::Seconds(n), 316_224_000),
            _ => return Err(err()),
        };
        if n > max {
            return Err(DurationError(format!("{s} (more than ten years)")));
        }
        Ok(d)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Duration::WorkingDays(n) => (n, "wd"),
            Duration::WorkingHours(n) => (n, "wh"),
            Duration::CalendarDays(n) => (n, "d"),
            Duration::Hours(n) => (n, "h"),
            Duration::Minutes(n) => (n, "m"),
            Duration::Seconds(n) => (n, "s"),
        };
        write!(f, "{n}{unit}")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_prints_it_back() {
        for text in ["3wd", "4wh", "7d", "2h", "30m", "45s", "0s"] {
            assert_eq!(text.parse::<Duration>().unwrap().to_string(), text);
        }
        assert_eq!("15wd".parse(), Ok(Duration::WorkingDays(15)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "",
            "wd",
            "3",
            "3w",
            "-1d",
            "1.5h",
            "3 wd",
            "99999999999d",
            "4294967295h",
            "3661d",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }
}
