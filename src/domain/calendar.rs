//! The working-day calendar and how periods are counted on it (工作日 / 调休).
//! A date is a working day if it is Monday–Friday and not an official day off, or if it is a
//! make-up working day. The day (or hour) a period starts in is not counted; a working-day period
//! ends at close of business of its last working day. Dates in a year the calendar does not know
//! are counted on the Monday–Friday rule, and the result says so.

use super::duration::Duration;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// One year's official days off and make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Year {
    pub off: BTreeSet<NaiveDate>,
    pub work: BTreeSet<NaiveDate>,
}

/// Where a calendar-day period that ends on a day off ends instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOffRoll {
    /// It ends on its last day, whatever that day is.
    None,
    /// Moved to the close of the next working day when the last day is an official holiday.
    Holidays,
    /// Moved when the last day is any day off, weekends included.
    DaysOff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// UTC.
    pub at: NaiveDateTime,
    /// Some day counted lies in a year the calendar does not know.
    pub beyond_calendar: bool,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    /// Business periods of a working day, in order.
    hours: Vec<(NaiveTime, NaiveTime)>,
    roll: DayOffRoll,
    years: BTreeMap<i32, Year>,
}

/// No period is counted further than this many days, whatever a policy says.
const HORIZON_DAYS: u64 = 3660;

impl Calendar {
    pub fn new(
        tz: Tz,
        hours: Vec<(NaiveTime, NaiveTime)>,
        roll: DayOffRoll,
        years: BTreeMap<i32, Year>,
    ) -> Self {
        let mut hours = hours;
        hours.sort();
        assert!(
            !hours.is_empty(),
            "business hours are checked by the config"
        );
        Calendar {
            tz,
            hours,
            roll,
            years,
        }
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    pub fn years(&self) -> &BTreeMap<i32, Year> {
        &self.years
    }

    pub fn knows(&self, date: NaiveDate) -> bool {
        self.years.contains_key(&date.year())
    }

    /// The last day of the last year the calendar knows.
    pub fn known_until(&self) -> Option<NaiveDate> {
        let last = *self.years.keys().next_back()?;
        NaiveDate::from_ymd_opt(last, 12, 31)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.years.get(&date.year()) {
            Some(y) if y.work.contains(&date) => true,
            Some(y) if y.off.contains(&date) => false,
            _ => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.years
            .get(&date.year())
            .is_some_and(|y| y.off.contains(&date))
    }

    fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        self.tz.from_utc_datetime(&utc).naive_local()
    }

    /// Local wall time → UTC; a time skipped by a clock change counts from just after the gap.
    fn utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.naive_utc();
            }
            probe += chrono::Duration::minutes(30);
        }
        local
    }

    fn close_of_business(&self, date: NaiveDate) -> NaiveDateTime {
        self.utc(date.and_time(self.hours.last().expect("non-empty").1))
    }

    /// When a period of `d` that starts at `from` (UTC) ends.
    pub fn due(&self, from: NaiveDateTime, d: Duration) -> Due {
        let start = self.local(from);
        match d {
            Duration::WorkingDays(n) => {
                let mut date = start.date();
                let mut beyond = !self.knows(date);
                let mut counted = 0;
                // "0wd": by close of business today, or of the next working day.
                if n == 0
                    && !(self.is_working_day(date)
                        && start.time() < self.hours.last().expect("non-empty").1)
                {
                    counted = -1;
                }
                let mut steps = 0;
                while counted < n as i64 && steps < HORIZON_DAYS {
                    date = date + Days::new(1);
                    steps += 1;
                    beyond |= !self.knows(date);
                    if self.is_working_day(date) {
                        counted += 1;
                    }
                }
                Due {
                    at: self.close_of_business(date),
                    beyond_calendar: beyond,
                }
            }
            Duration::WorkingHours(n) => self.add_working_minutes(start, i64::from(n) * 60),
            Duration::CalendarDays(n) => {
                let last = start.date() + Days::new(u64::from(n).min(HORIZON_DAYS));
                let rolls = match self.roll {
                    DayOffRoll::None => false,
                    DayOffRoll::Holidays => self.is_holiday(last),
                    DayOffRoll::DaysOff => !self.is_working_day(last),
                };
                if rolls {
                    let next = self.due(
                        self.utc(last.and_hms_opt(23, 0, 0).expect("valid")),
                        Duration::WorkingDays(1),
                    );
                    return Due {
                        beyond_calendar: next.beyond_calendar || !self.knows(last),
                        ..next
                    };
                }
                Due {
                    at: self.utc(last.and_hms_opt(23, 59, 59).expect("valid")),
                    beyond_calendar: !self.knows(last),
                }
            }
            elapsed => Due {
                at: from
                    + elapsed
                        .as_elapsed()
                        .expect("the other units are elapsed time"),
                beyond_calendar: false,
            },
        }
    }

    /// The business minutes of one working day.
    pub fn minutes_per_working_day(&self) -> i64 {
        self.hours
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }

    /// The business minutes between `from` and `to` (UTC), on working days within business
    /// hours: how much working time is left before a deadline, or has passed since.
    pub fn working_minutes(&self, from: NaiveDateTime, to: NaiveDateTime) -> i64 {
        if to <= from {
            return 0;
        }
        let (start, end) = (self.local(from), self.local(to));
        let mut total = 0;
        let mut date = start.date();
        for _ in 0..HORIZON_DAYS {
            if date > end.date() {
                break;
            }
            if self.is_working_day(date) {
                for &(open, close) in &self.hours {
                    let a = start.max(date.and_time(open));
                    let b = end.min(date.and_time(close));
                    if b > a {
                        total += (b - a).num_minutes();
                    }
                }
            }
            date = date + Days::new(1);
        }
        total
    }

    /// Working hours count inside business hours only, from the whole hour after `start`.
    fn add_working_minutes(&self, start: NaiveDateTime, minutes: i64) -> Due {
        // The hour a period starts in is not counted, even when it starts on the hour.
        let mut t = start
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .expect("valid")
            + chrono::Duration::hours(1);
        let mut left = minutes;
        let mut beyond = !self.knows(t.date());
        for _ in 0..HORIZON_DAYS {
            let date = t.date();
            beyond |= !self.knows(date);
            if self.is_working_day(date) {
                for &(open, close) in &self.hours {
                    let from = t.max(date.and_time(open));
                    let until = date.and_time(close);
                    if from >= until {
                        continue;
                    }
                    let available = (until - from).num_minutes();
                    if left <= available {
                        return Due {
                            at: self.utc(from + chrono::Duration::minutes(left)),
                            beyond_calendar: beyond,
                        };
                    }
                    left -= available;
                }
            }
            t = (date + Days::new(1)).and_time(NaiveTime::MIN);
        }
        Due {
            at: self.utc(t),
            beyond_calendar: true,
        }
    }

    /// The moment `d` before `due` (UTC), counted the same way: for a warning ahead of a deadline.
    pub fn before(&self, due: NaiveDateTime, d: Duration) -> NaiveDateTime {
        let local = self.local(due);
        match d {
            Duration::WorkingDays(0) | Duration::WorkingHours(0) => due,
            Duration::WorkingDays(n) => {
                let mut date = local.date();
                let mut counted = 0;
                let mut steps = 0;
                while counted < n && steps < HORIZON_DAYS {
                    date = date - Days::new(1);
                    steps += 1;
                    if self.is_working_day(date) {
                        counted += 1;
                    }
                }
                self.close_of_business(date)
            }
            Duration::WorkingHours(n) => {
                let mut left = i64::from(n) * 60;
                let mut t = local;
                for _ in 0..HORIZON_DAYS {
                    let date = t.date();
                    if self.is_working_day(date) {
                        for &(open, close) in self.hours.iter().rev() {
                            let until = t.min(date.and_time(close));
                            let from = date.and_time(open);
                            if until <= from {
                                continue;
                            }
                            let available = (until - from).num_minutes();
                            if left <= available {
                                return self.utc(until - chrono::Duration::minutes(left));
                            }
                            left -= available;
                        }
                    }
                    t = date.and_time(NaiveTime::MIN) - chrono::Duration::seconds(1);
                }
                self.utc(t)
            }
            Duration::CalendarDays(n) => due - chrono::Duration::days(i64::from(n)),
            elapsed => {
                due - elapsed
                    .as_elapsed()
                    .expect("the other units are elapsed time")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dates(list: &[&str]) -> BTreeSet<NaiveDate> {
        list.iter().map(|s| d(s)).collect()
    }

    /// 2024 from the reference (国办发明电〔2023〕7号), enough of it for the worked examples.
    pub(crate) fn calendar(roll: DayOffRoll) -> Calendar {
        let mut off: Vec<String> = vec!["2024-01-01".into()];
        let ranges = [
            ("2024-02-10", 8),
            ("2024-04-04", 3),
            ("2024-05-01", 5),
            ("2024-06-10", 1),
            ("2024-09-15", 3),
            ("2024-10-01", 7),
        ];
        for (start, n) in ranges {
            for i in 0..n {
                off.push((d(start) + Days::new(i)).to_string());
            }
        }
        let off: Vec<&str> = off.iter().map(String::as_str).collect();
        let y2024 = Year {
            off: dates(&off),
            work: dates(&[
                "2024-02-04",
                "2024-02-18",
                "2024-04-07",
                "2024-04-28",
                "2024-05-11",
                "2024-09-14",
                "2024-09-29",
                "2024-10-12",
            ]),
        };
        let y2025 = Year {
            off: dates(&[
                "2025-01-01",
                "2025-01-28",
                "2025-01-29",
                "2025-01-30",
                "2025-01-31",
                "2025-02-01",
                "2025-02-02",
                "2025-02-03",
                "2025-02-04",
            ]),
            work: dates(&["2025-01-26", "2025-02-08"]),
        };
        let hours = vec![
            (
                NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            ),
            (
                NaiveTime::from_hms_opt(14, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 30, 0).unwrap(),
            ),
        ];
        Calendar::new(
            chrono_tz::Asia::Shanghai,
            hours,
            roll,
            [(2024, y2024), (2025, y2025)].into(),
        )
    }

    /// Local Shanghai time → UTC.
    fn at(s: &str) -> NaiveDateTime {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        local - chrono::Duration::hours(8)
    }

    fn due(from: &str, d: &str) -> (String, bool) {
        let due = calendar(DayOffRoll::Holidays).due(at(from), d.parse().unwrap());
        let local = due.at + chrono::Duration::hours(8);
        (
            local.format("%Y-%m-%d %H:%M").to_string(),
            due.beyond_calendar,
        )
    }

    #[test]
    fn the_worked_examples_of_the_reference() {
        // Fri 09-27 → Sun 09-29 (make-up), Mon 09-30, Tue 10-08.
        assert_eq!(
            due("2024-09-27 10:00", "3wd"),
            ("2024-10-08 17:30".into(), false)
        );
        assert_eq!(
            due("2024-02-05 09:00", "3wd"),
            ("2024-02-08 17:30".into(), false)
        );
        // Thu 02-08 → Fri 02-09 (除夕 is a working day in 2024), Sun 02-18 (make-up), Mon 02-19.
        assert_eq!(
            due("2024-02-08 16:00", "3wd"),
            ("2024-02-19 17:30".into(), false)
        );
    }

    #[test]
    fn make_up_days_count_and_weekends_do_not() {
        assert!(calendar(DayOffRoll::Holidays).is_working_day(d("2024-09-29")));
        assert!(!calendar(DayOffRoll::Holidays).is_working_day(d("2024-10-07")));
        // Received on a Saturday: Monday is the first day counted.
        assert_eq!(
            due("2024-03-02 10:00", "1wd"),
            ("2024-03-04 17:30".into(), false)
        );
        // Received after close on Friday: the same.
        assert_eq!(
            due("2024-03-01 18:30", "1wd"),
            ("2024-03-04 17:30".into(), false)
        );
        // 2024-05-11 is a make-up Saturday.
        assert_eq!(
            due("2024-05-10 10:00", "1wd"),
            ("2024-05-11 17:30".into(), false)
        );
    }

    #[test]
    fn across_the_year_boundary_and_beyond_the_calendar() {
        // Tue 2024-12-31 → Thu 2025-01-02 (01-01 off), Fri 01-03.
        assert_eq!(
            due("2024-12-31 10:00", "2wd"),
            ("2025-01-03 17:30".into(), false)
        );
        // 2025-01-26 is a make-up Sunday; 01-28..02-04 are off.
        assert_eq!(
            due("2025-01-24 10:00", "3wd"),
            ("2025-02-05 17:30".into(), false)
        );
        // 2026 is not loaded in this calendar: counted Monday–Friday, and flagged.
        assert_eq!(
            due("2025-12-30 10:00", "3wd"),
            ("2026-01-02 17:30".into(), true)
        );
        assert_eq!(
            due("2026-06-01 10:00", "1wd"),
            ("2026-06-02 17:30".into(), true)
        );
    }

    #[test]
    fn working_hours_run_inside_business_hours() {
        // The hour it starts in is not counted: from 10:00.
        assert_eq!(due("2024-03-04 09:20", "2wh").0, "2024-03-04 12:00");
        assert_eq!(due("2024-03-04 10:00", "2wh").0, "2024-03-04 15:30");
        // Lunch is not counted.
        assert_eq!(due("2024-03-04 10:40", "2wh").0, "2024-03-04 15:30");
        // Before opening: from 08:30.
        assert_eq!(due("2024-03-04 07:10", "1wh").0, "2024-03-04 09:30");
        // Evening: the next working morning; over a weekend to Monday.
        assert_eq!(due("2024-03-01 16:50", "2wh").0, "2024-03-04 10:00");
        // Into a make-up Sunday.
        assert_eq!(due("2024-09-27 16:30", "1wh").0, "2024-09-29 09:00");
    }

    #[test]
    fn calendar_days_end_at_midnight_and_roll_over_holidays() {
        assert_eq!(due("2024-03-04 10:00", "7d").0, "2024-03-11 23:59");
        // Ends on Sunday 03-10: not a holiday, so it stays.
        assert_eq!(due("2024-03-03 10:00", "7d").0, "2024-03-10 23:59");
        // Ends on 10-03 (National Day): moved to the close of 10-08.
        assert_eq!(due("2024-09-26 10:00", "7d").0, "2024-10-08 17:30");
        let days_off =
            calendar(DayOffRoll::DaysOff).due(at("2024-03-03 10:00"), "7d".parse().unwrap());
        assert_eq!(
            days_off.at + chrono::Duration::hours(8),
            at("2024-03-11 17:30") + chrono::Duration::hours(8)
        );
        let none = calendar(DayOffRoll::None).due(at("2024-09-26 10:00"), "7d".parse().unwrap());
        assert_eq!(
            none.at + chrono::Duration::hours(8),
            at("2024-10-03 23:59") + chrono::Duration::hours(8) + chrono::Duration::seconds(59)
        );
    }

    #[test]
    fn elapsed_time_ignores_the_calendar() {
        assert_eq!(due("2024-10-01 10:00", "2h").0, "2024-10-01 12:00");
        assert_eq!(due("2024-10-01 10:00", "45s").0, "2024-10-01 10:00");
        assert_eq!(due("2024-10-01 10:00", "30m").0, "2024-10-01 10:30");
    }

    #[test]
    fn zero_working_days_is_today_or_the_next_working_day() {
        assert_eq!(due("2024-03-04 10:00", "0wd").0, "2024-03-04 17:30");
        assert_eq!(due("2024-03-04 18:00", "0wd").0, "2024-03-05 17:30");
        assert_eq!(due("2024-03-02 10:00", "0wd").0, "2024-03-04 17:30");
    }

    #[test]
    fn before_counts_back_the_same_way() {
        let c = calendar(DayOffRoll::Holidays);
        let local = |t: NaiveDateTime| {
            (t + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        };
        // One working day before Tue 10-08 close is Mon 09-30 close (the holiday is skipped).
        assert_eq!(
            local(c.before(at("2024-10-08 17:30"), "1wd".parse().unwrap())),
            "2024-09-30 17:30"
        );
        assert_eq!(
            local(c.before(at("2024-03-04 10:00"), "2wh".parse().unwrap())),
            "2024-03-01 17:00"
        );
        assert_eq!(
            local(c.before(at("2024-03-04 15:30"), "2wh".parse().unwrap())),
            "2024-03-04 11:00"
        );
        assert_eq!(
            local(c.before(at("2024-03-04 15:30"), "2h".parse().unwrap())),
            "2024-03-04 13:30"
        );
    }

    #[test]
    fn escalation_steps_count_from_the_deadline() {
        let c = calendar(DayOffRoll::Holidays);
        let deadline = at("2024-09-30 17:30");
        assert_eq!(c.due(deadline, "0s".parse().unwrap()).at, deadline);
        assert_eq!(
            c.due(deadline, "1wd".parse().unwrap()).at,
            at("2024-10-08 17:30")
        );
    }
}
