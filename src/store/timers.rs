//! Timers in the database: written only as part of a ticket's change, read to decide the next one,
//! and claimed by the scheduler when they come due.

pub use super::backend::CLAIM_DUE_SQL;
use super::conn::DbConn;
use super::schema::timers;
use super::{StoreError, backend};
use crate::domain::ticket::TicketId;
use crate::domain::timer::Timer;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = timers)]
pub struct TimerRow {
    pub id: String,
    pub ticket_id: String,
    pub kind: String,
    pub started_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub warn_at: NaiveDateTime,
    pub warned_at: Option<NaiveDateTime>,
    pub level: i32,
    pub next_fire_at: Option<NaiveDateTime>,
    pub last_fired_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub duration: Option<String>,
    pub extended_days: i32,
    pub beyond_calendar: bool,
}

/// What can change of a running timer: its deadline, warning, ladder and end.
#[derive(AsChangeset)]
#[diesel(table_name = timers, treat_none_as_null = true)]
pub struct TimerChange<'a> {
    due_at: NaiveDateTime,
    warn_at: NaiveDateTime,
    warned_at: Option<NaiveDateTime>,
    level: i32,
    next_fire_at: Option<NaiveDateTime>,
    last_fired_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    outcome: Option<&'a str>,
    extended_days: i32,
    beyond_calendar: bool,
}

impl<'a> TimerChange<'a> {
    pub fn of(row: &'a TimerRow) -> Self {
        TimerChange {
            due_at: row.due_at,
            warn_at: row.warn_at,
            warned_at: row.warned_at,
            level: row.level,
            next_fire_at: row.next_fire_at,
            last_fired_at: row.last_fired_at,
            ended_at: row.ended_at,
            outcome: row.outcome.as_deref(),
            extended_days: row.extended_days,
            beyond_calendar: row.beyond_calendar,
        }
    }
}

impl TimerRow {
    pub fn new(ticket: TicketId, t: &Timer) -> Self {
        TimerRow {
            id: t.id.to_string(),
            ticket_id: ticket.to_string(),
            kind: t.kind.to_string(),
            started_at: t.started_at,
            due_at: t.due_at,
            warn_at: t.warn_at,
            warned_at: t.warned_at,
            level: t.level,
            next_fire_at: t.next_fire_at,
            last_fired_at: t.last_fired_at,
            ended_at: t.ended_at,
            outcome: t.outcome.map(|o| o.to_string()),
            duration: t.duration.map(|d| d.to_string()),
            extended_days: t.extended_days as i32,
            beyond_calendar: t.beyond_calendar,
        }
    }

    pub fn into_timer(self) -> Result<Timer, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("timer {}: {what}", self.id));
        Ok(Timer {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            kind: self.kind.parse().map_err(|_| corrupt("kind"))?,
            started_at: self.started_at,
            due_at: self.due_at,
            warn_at: self.warn_at,
            warned_at: self.warned_at,
            level: self.level,
            next_fire_at: self.next_fire_at,
            last_fired_at: self.last_fired_at,
            ended_at: self.ended_at,
            outcome: self
                .outcome
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
            duration: self
                .duration
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("duration"))?,
            extended_days: self.extended_days.max(0) as u32,
            beyond_calendar: self.beyond_calendar,
        })
    }
}

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
    let keys: Vec<String> = tickets.iter().map(ToString::to_string).collect();
    let rows = timers::table
        .filter(timers::ticket_id.eq_any(keys))
        .filter(timers::ended_at.is_null())
        .order(timers::started_at.asc())
        .select(TimerRow::as_select())
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
