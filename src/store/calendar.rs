//! The working-day calendar as data: which years are known, and their days off and make-up
//! working days.

use super::backend;
use super::conn::DbConn;
use super::error::StoreError;
use super::schema::{calendar_days, calendar_years};
use crate::domain::calendar::Year;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::BTreeMap;

pub fn load(conn: &mut DbConn) -> Result<BTreeMap<i32, Year>, StoreError> {
    let mut years: BTreeMap<i32, Year> = calendar_years::table
        .select(calendar_years::year)
        .load::<i32>(conn)?
        .into_iter()
        .map(|y| (y, Year::default()))
        .collect();
    let days: Vec<(String, i32, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::year, calendar_days::kind))
        .load(conn)?;
    for (day, year, kind) in days {
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("calendar day {day}")))?;
        let entry = years.entry(year).or_default();
        match kind.as_str() {
            "work" => entry.work.insert(date),
            _ => entry.off.insert(date),
        };
    }
    Ok(years)
}

/// Replaces one year's days off and make-up working days, and marks the year known. The year's
/// row is written first and never deleted: it is what writers of the same year queue on.
pub fn replace_year(conn: &mut DbConn, year: i32, days: &Year) -> Result<(), StoreError> {
    // The database's clock, not this host's: instances compare it to know when to reload.
    backend::touch_calendar_year(conn, year)?;
    diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year))).execute(conn)?;
    let rows = days
        .off
        .iter()
        .map(|d| (d, "off"))
        .chain(days.work.iter().map(|d| (d, "work")));
    for (day, kind) in rows {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::day.eq(day.format("%Y-%m-%d").to_string()),
                calendar_days::year.eq(year),
                calendar_days::kind.eq(kind),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A mark of the calendar's content (when it last changed, by the database's clock, and how
/// many days it lists): instances compare it to know when to load the calendar again.
pub fn last_change(conn: &mut DbConn) -> Result<(Option<NaiveDateTime>, i64), StoreError> {
    let changed = calendar_years::table
        .select(diesel::dsl::max(calendar_years::updated_at))
        .first(conn)?;
    let days = calendar_days::table.count().get_result(conn)?;
    Ok((changed, days))
}
