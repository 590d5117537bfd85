//! Timers in the database: written only as part of a ticket's change, read to decide the next one,
//! and claimed by the scheduler when they come due.

use super::backend;
use super::conn::DbConn;
use super::error::StoreError;
use super::rows::{TimerChange, TimerRow};
use super::schema::timers;
use crate::domain::ticket::TicketId;
use crate::domain::timer::Timer;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

pub fn update(conn: &mut DbConn, ticket: TicketId, timer: &Timer) -> Result<(), StoreError> {
    let row = TimerRow::new(ticket, timer);
    diesel::update(timers::table.find(&row.id))
        .set(TimerChange::of(&row))
        .execute(conn)?;
    Ok(())
}

/// The running timers of a ticket.
pub fn running(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<Timer>, StoreError> {
    timers::table
        .filter(timers::ticket_id.eq(ticket.to_string()))
        .filter(timers::ended_at.is_null())
        .order(timers::started_at.asc())
        .select(TimerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TimerRow::into_timer)
        .collect()
}

/// The running timers of many tickets.
pub fn running_for(
    conn: &mut DbConn,
    tickets: &[TicketId],
) -> Result<BTreeMap<TicketId, Vec<Timer>>, StoreError> {
    for_tickets(conn, tickets, true)
}

/// Every timer of many tickets, each ticket's in the order they started.
pub fn all_for(
    conn: &mut DbConn,
    tickets: &[TicketId],
) -> Result<BTreeMap<TicketId, Vec<Timer>>, StoreError> {
    for_tickets(conn, tickets, false)
}

fn for_tickets(
    conn: &mut DbConn,
    tickets: &[TicketId],
    running_only: bool,
) -> Result<BTreeMap<TicketId, Vec<Timer>>, StoreError> {
    let keys: Vec<String> = tickets.iter().map(ToString::to_string).collect();
    let mut query = timers::table
        .filter(timers::ticket_id.eq_any(keys))
        .select(TimerRow::as_select())
        .into_boxed::<super::conn::MultiBackend>();
    if running_only {
        query = query.filter(timers::ended_at.is_null());
    }
    let rows = query
        .order((timers::started_at.asc(), timers::id.asc()))
        .load(conn)?;
    let mut by_ticket: BTreeMap<TicketId, Vec<Timer>> = BTreeMap::new();
    for row in rows {
        let ticket = row
            .ticket_id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("timer {}", row.id)))?;
        by_ticket.entry(ticket).or_default().push(row.into_timer()?);
    }
    Ok(by_ticket)
}

/// Every timer a ticket has had, in the order they started.
pub fn all(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<Timer>, StoreError> {
    timers::table
        .filter(timers::ticket_id.eq(ticket.to_string()))
        .order((timers::started_at.asc(), timers::id.asc()))
        .select(TimerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TimerRow::into_timer)
        .collect()
}

/// Running timers whose deadline or next step falls on or after `from`: the ones a new calendar
/// year may move.
pub fn running_due_from(
    conn: &mut DbConn,
    from: NaiveDateTime,
) -> Result<Vec<(TicketId, Timer)>, StoreError> {
    let rows = timers::table
        .filter(timers::ended_at.is_null())
        .filter(timers::due_at.ge(from).or(timers::next_fire_at.ge(from)))
        .select(TimerRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let ticket = r
                .ticket_id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("timer {}", r.id)))?;
            Ok((ticket, r.into_timer()?))
        })
        .collect()
}

/// Claims up to `limit` tickets with a timer due at `now`, locking their rows until the
/// transaction ends. On PostgreSQL tickets locked by another scheduler or by a person's action
/// are skipped (`SKIP LOCKED`), so that each due step fires exactly once.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<TicketId>, StoreError> {
    match backend::claim_due_tickets(conn, now, limit)? {
        // A ticket with two due timers comes twice.
        Some(ids) => ids
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|id| {
                id.parse()
                    .map_err(|_| StoreError::Corrupt(format!("ticket {id}")))
            })
            .collect(),
        None => due_tickets(conn, now, limit),
    }
}

/// The tickets with a timer due at `now` (up to `limit`), without locking them.
pub fn due_tickets(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<TicketId>, StoreError> {
    let ids: Vec<String> = timers::table
        .filter(timers::ended_at.is_null())
        .filter(timers::next_fire_at.is_not_null())
        .filter(timers::next_fire_at.le(now))
        .order(timers::next_fire_at.asc())
        .limit(limit)
        .select(timers::ticket_id)
        .load(conn)?;
    let unique: std::collections::BTreeSet<String> = ids.into_iter().collect();
    unique
        .into_iter()
        .map(|id| {
            id.parse()
                .map_err(|_| StoreError::Corrupt(format!("ticket {id}")))
        })
        .collect()
}

/// How many running timers are past their deadline, and how many were counted past the calendar.
pub fn gauges(conn: &mut DbConn, now: NaiveDateTime) -> Result<(i64, i64), StoreError> {
    let overdue = timers::table
        .filter(timers::ended_at.is_null())
        .filter(timers::due_at.lt(now))
        .count()
        .get_result(conn)?;
    let beyond = timers::table
        .filter(timers::ended_at.is_null())
        .filter(timers::beyond_calendar.eq(true))
        .count()
        .get_result(conn)?;
    Ok((overdue, beyond))
}

/// A running timer past its deadline, with what a reader needs of its ticket.
#[derive(Debug, Clone, Queryable)]
pub struct Overdue {
    pub kind: String,
    pub due_at: NaiveDateTime,
    pub level: i32,
    pub ticket_id: String,
    pub number: String,
    pub subject: String,
    pub enterprise: String,
    pub lead_department: Option<String>,
}

/// Up to `limit` overdue running timers, the longest overdue first, and how many tickets have one.
pub fn overdue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<(Vec<Overdue>, i64), StoreError> {
    use super::schema::tickets;
    let late = timers::table
        .inner_join(tickets::table)
        .filter(timers::ended_at.is_null())
        .filter(timers::due_at.lt(now));
    let rows = late
        .order((timers::due_at.asc(), timers::id.asc()))
        .limit(limit)
        .select((
            timers::kind,
            timers::due_at,
            timers::level,
            tickets::id,
            tickets::number,
            tickets::subject,
            tickets::enterprise_name,
            tickets::lead_department,
        ))
        .load(conn)?;
    let tickets: i64 = late
        .select(diesel::dsl::count(timers::ticket_id).aggregate_distinct())
        .first(conn)?;
    Ok((rows, tickets))
}

/// Sets who answers for a timer's stage, as counted again from its ticket's timeline.
pub fn set_department(
    conn: &mut DbConn,
    id: uuid::Uuid,
    department: Option<&crate::domain::DepartmentCode>,
) -> Result<(), StoreError> {
    diesel::update(timers::table.find(id.to_string()))
        .set(timers::department.eq(department.map(|d| d.as_str())))
        .execute(conn)?;
    Ok(())
}
