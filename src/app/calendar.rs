//! The calendar as the API offers it: read a year, load a new one (and count the running deadlines
//! that fall in it again), and say when a period from a given moment ends.

use super::error::AppError;
use super::state::Settings;
use crate::domain::calendar::{Due, Year};
use crate::domain::duration::Duration;
use crate::domain::kpi;
use crate::domain::lifecycle::summary;
use crate::domain::timer::Plan;
use crate::store::{self, DbConn, conn};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};

/// The year as the calendar knows it; `None` when it does not.
pub fn year(settings: &Settings, year: i32) -> Option<Year> {
    settings.calendars.current().years().get(&year).cloned()
}

/// Replaces a year's days off and make-up working days, then counts again every running deadline
/// that reaches into that year. Returns how many timers moved.
pub fn put_year(
    conn: &mut DbConn,
    settings: &Settings,
    year: i32,
    days: Year,
) -> Result<usize, AppError> {
    let moved = conn::write(conn, |c| -> Result<usize, AppError> {
        store::calendar::replace_year(c, year, &days)?;
        let calendar = settings.calendars.with_years(store::calendar::load(c)?);
        let tz = calendar.timezone();
        let start_of_year = NaiveDate::from_ymd_opt(year, 1, 1)
            .expect("a valid year")
            .and_hms_opt(0, 0, 0)
            .expect("valid");
        let from = tz
            .from_local_datetime(&start_of_year)
            .earliest()
            .map_or(start_of_year, |t| t.naive_utc());
        let mut moved = 0;
        // Each ticket is locked (in id order) and its timers read again under the lock, so a
        // person's action on it waits rather than racing the recount.
        let mut tickets: Vec<_> = store::timers::running_due_from(c, from)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        tickets.sort();
        tickets.dedup();
        for id in tickets {
            let Some(ticket) = store::tickets::find_for_update(c, id)? else {
                continue;
            };
            let plan = Plan {
                calendar: &calendar,
                warn_before: settings.policy.warn_before(ticket.category, ticket.urgency),
                steps: &settings.policy.steps,
            };
            let mut running = store::timers::running(c, id)?;
            let mut changed = false;
            let mut counts = kpi::Deltas::new();
            for timer in running
                .iter_mut()
                .filter(|t| t.due_at >= from || t.next_fire_at.is_some_and(|n| n >= from))
            {
                let before = timer.clone();
                timer.recount(&plan);
                if *timer != before {
                    store::timers::update(c, id, timer)?;
                    kpi::merge(&mut counts, &kpi::moved(&ticket, &before, timer, tz));
                    changed = true;
                    moved += 1;
                }
            }
            // The ticket's nearest deadline is a summary of its running timers: refresh it.
            if changed {
                let (due_at, level) = summary(&running);
                store::tickets::set_summary(c, id, due_at, level)?;
                store::kpi::append(c, &counts)?;
            }
        }
        Ok(moved)
    })?;
    settings.calendars.reload(conn)?;
    Ok(moved)
}

/// When a period of `duration` from `from` (UTC) ends on the current calendar.
pub fn deadline(settings: &Settings, from: NaiveDateTime, duration: Duration) -> Due {
    settings.calendars.current().due(from, duration)
}
