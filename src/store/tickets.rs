//! Tickets, their co-handling departments and their timeline. Writing a change is `write_batch`:
//! the ticket (guarded by its version), its departments, its event and its timers; its
//! notifications are `notify::outbox`'s, in the same transaction.

use super::backend;
use super::conn::{DbConn, MultiBackend};
use super::error::StoreError;
use super::rows::{EventRow, TicketChange, TicketRow, TimerRow};
use super::schema::{ticket_departments, ticket_events, tickets};
use crate::domain::DepartmentCode;
use crate::domain::Phone;
use crate::domain::lifecycle::Effects;
use crate::domain::ticket::{Category, State, Ticket, TicketId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

/// Writes a new ticket, its co-handling departments, its `create` event and its timers; returns
/// the event's id.
pub fn insert(conn: &mut DbConn, effects: &Effects) -> Result<String, StoreError> {
    let ticket = &effects.ticket;
    diesel::insert_into(tickets::table)
        .values(TicketRow::from_ticket(ticket))
        .execute(conn)?;
    replace_co_departments(conn, ticket)?;
    let mut rows = Appends::default();
    rows.add(effects);
    rows.write(conn)
        .map(|mut ids| ids.pop().expect("one event"))
}

/// Writes the changes decided one after the other on each ticket (by `lifecycle::apply`, or by
/// the escalation ladder), in few statements: one update per ticket and per moved timer, the
/// new events and timers inserted together. Fails with `Concurrent` when a ticket is no longer
/// at the version its changes were decided on. Returns the ids of the events written, one per
/// change, in order.
pub fn write_batch(
    conn: &mut DbConn,
    items: &[(&Ticket, &[Effects])],
) -> Result<Vec<String>, StoreError> {
    let mut rows = Appends::default();
    let mut changes = Vec::with_capacity(items.len());
    for (before, effects) in items {
        let Some(last) = effects.last() else {
            continue;
        };
        let after = &last.ticket;
        changes.push((
            before.id.to_string(),
            before.version,
            TicketChange::of(after),
        ));
        if after.co_departments != before.co_departments {
            diesel::delete(
                ticket_departments::table
                    .filter(ticket_departments::ticket_id.eq(before.id.to_string())),
            )
            .execute(conn)?;
            replace_co_departments(conn, after)?;
        }
        for change in effects.iter() {
            rows.add(change);
        }
    }
    if backend::update_tickets(conn, &changes)? != changes.len() {
        return Err(StoreError::Concurrent);
    }
    rows.write(conn)
}

/// The rows changes add besides the ticket: events and timers.
#[derive(Default)]
struct Appends {
    events: Vec<EventRow>,
    started: Vec<TimerRow>,
    changed: Vec<TimerRow>,
}

impl Appends {
    fn add(&mut self, effects: &Effects) {
        let ticket = &effects.ticket;
        for timer in &effects.timers.changed {
            let row = TimerRow::new(ticket.id, timer);
            // A timer changed twice in one batch is written once, as it is last.
            if let Some(new) = self.started.iter_mut().find(|t| t.id == row.id) {
                *new = row;
            } else if let Some(old) = self.changed.iter_mut().find(|t| t.id == row.id) {
                *old = row;
            } else {
                self.changed.push(row);
            }
        }
        self.started.extend(
            effects
                .timers
                .started
                .iter()
                .map(|t| TimerRow::new(ticket.id, t)),
        );
        self.events.push(EventRow::new(ticket, &effects.event));
    }

    fn write(self, conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
        // Ended and moved timers first: a stage restarted in the same change reuses its kind.
        backend::update_timers(conn, &self.changed)?;
        backend::insert_timers(conn, &self.started)?;
        backend::insert_events(conn, &self.events)?;
        Ok(self.events.into_iter().map(|e| e.id).collect())
    }
}

/// Tickets by id, with their co-handling departments (missing ones left out).
pub fn find_many(conn: &mut DbConn, ids: &[TicketId]) -> Result<Vec<Ticket>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows = tickets::table
        .filter(tickets::id.eq_any(keys))
        .select(TicketRow::as_select())
        .load(conn)?;
    with_departments(conn, rows)
}

fn replace_co_departments(conn: &mut DbConn, ticket: &Ticket) -> Result<(), StoreError> {
    // One statement per department: a ticket has a handful, and batch inserts are not portable.
    for code in &ticket.co_departments {
        diesel::insert_into(ticket_departments::table)
            .values((
                ticket_departments::ticket_id.eq(ticket.id.to_string()),
                ticket_departments::department_code.eq(code.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: TicketId) -> Result<Option<Ticket>, StoreError> {
    let row = tickets::table
        .find(id.to_string())
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?;
    with_departments(conn, row.into_iter().collect()).map(|mut v| v.pop())
}

/// Loads a ticket for a change, locking its row on PostgreSQL until the transaction ends, so that
/// racing actions queue and each decides on the state the previous one left.
pub fn find_for_update(conn: &mut DbConn, id: TicketId) -> Result<Option<Ticket>, StoreError> {
    let row = backend::ticket_for_update(conn, &id.to_string())?;
    with_departments(conn, row.into_iter().collect()).map(|mut v| v.pop())
}

/// How many tickets there are, in every state.
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(tickets::table.count().get_result(conn)?)
}

fn with_departments(conn: &mut DbConn, rows: Vec<TicketRow>) -> Result<Vec<Ticket>, StoreError> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let pairs: Vec<(String, String)> = ticket_departments::table
        .filter(ticket_departments::ticket_id.eq_any(&ids))
        .select((
            ticket_departments::ticket_id,
            ticket_departments::department_code,
        ))
        .order((
            ticket_departments::ticket_id,
            ticket_departments::department_code,
        ))
        .load(conn)?;
    let mut co: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (ticket, department) in pairs {
        co.entry(ticket).or_default().push(department);
    }
    rows.into_iter()
        .map(|r| {
            let departments = co.remove(&r.id).unwrap_or_default();
            r.into_ticket(departments)
        })
        .collect()
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `q` in lower case for a `LIKE … ESCAPE '\\'`, its `%` and `_` searched for as themselves.
pub fn like_text(q: &str) -> String {
    q.to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The filters of `GET /tickets`, already checked.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub category: Option<Category>,
    /// Lead or co-handler.
    pub department: Option<DepartmentCode>,
    /// A department user's own scope: lead or co-handler now.
    pub visible_to: Option<DepartmentCode>,
    pub q: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    /// With `(true, now)` the tickets with a running timer past its deadline at `now`; with
    /// `(false, now)` the others.
    pub overdue: Option<(bool, NaiveDateTime)>,
    /// Tickets whose nearest deadline is before this moment.
    pub due_before: Option<NaiveDateTime>,
    /// Any of these states (besides `state`).
    pub states: Vec<State>,
    /// Led by this department (not merely co-handled).
    pub lead: Option<DepartmentCode>,
    /// Co-handled by this department.
    pub co_handler: Option<DepartmentCode>,
    /// Returned by a department at least once (`true`), or never (`false`).
    pub returned: Option<bool>,
    /// With a pending extension request (`true`), or without.
    pub pending_extension: Option<bool>,
    /// Keyset cursor: only tickets with an id below this one (ids are time-ordered UUIDv7).
    pub before: Option<TicketId>,
    /// Of this enterprise (its credit code, canonical).
    pub credit_code: Option<String>,
    /// Repeats of this case (重复件).
    pub duplicate_of: Option<TicketId>,
    pub limit: i64,
}

/// Which of a department's cases a query of ids asks for.
#[derive(Clone, Copy)]
enum Part<'a> {
    /// Every case the filters allow.
    All,
    /// Those `department` leads.
    Led(&'a DepartmentCode),
    /// Those it co-handles.
    CoHandled(&'a DepartmentCode),
}

/// A page of tickets, newest first. The page's ids come first, in queries an index can often
/// answer alone (a department's queue reads its `(lead_department, state, id)` range; whole rows
/// drew PostgreSQL to scan the table backwards from the newest), then the rows by id. "Led or
/// co-handled by" is asked as two such queries, merged: one `OR` left the planner no index to
/// follow.
pub fn list(conn: &mut DbConn, filter: &Filter) -> Result<Vec<Ticket>, StoreError> {
    let departments: Vec<&DepartmentCode> = [&filter.department, &filter.visible_to]
        .into_iter()
        .flatten()
        .collect();
    let mut ids = match departments.as_slice() {
        [d] => {
            let mut ids = page_ids(conn, filter, Part::Led(d))?;
            ids.extend(page_ids(conn, filter, Part::CoHandled(d))?);
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            ids
        }
        [a, b] if a == b => {
            let mut ids = page_ids(conn, filter, Part::Led(a))?;
            ids.extend(page_ids(conn, filter, Part::CoHandled(a))?);
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            ids
        }
        _ => page_ids(conn, filter, Part::All)?,
    };
    ids.truncate(filter.limit.max(0) as usize);
    let mut rows = tickets::table
        .filter(tickets::id.eq_any(&ids))
        .select(TicketRow::as_select())
        .load(conn)?;
    rows.sort_unstable_by(|a, b| b.id.cmp(&a.id));
    with_departments(conn, rows)
}

/// The ids of a page of tickets, newest first: those `filter` allows, of `part`.
fn page_ids(conn: &mut DbConn, filter: &Filter, part: Part) -> Result<Vec<String>, StoreError> {
    let mut query = tickets::table
        .select(tickets::id)
        .into_boxed::<MultiBackend>();
    match part {
        Part::Led(d) => query = query.filter(tickets::lead_department.eq(d.to_string())),
        Part::CoHandled(d) => {
            let co_handled = ticket_departments::table
                .filter(ticket_departments::department_code.eq(d.to_string()))
                .select(ticket_departments::ticket_id);
            query = query.filter(tickets::id.eq_any(co_handled));
        }
        Part::All => {}
    }
    if let Some(state) = filter.state {
        query = query.filter(tickets::state.eq(state.to_string()));
    }
    if let Some(category) = filter.category {
        query = query.filter(tickets::category.eq(category.to_string()));
    }
    if let Some(code) = &filter.credit_code {
        query = query.filter(tickets::credit_code.eq(code.clone()));
    }
    if let Some(earlier) = filter.duplicate_of {
        query = query.filter(tickets::duplicate_of.eq(earlier.to_string()));
    }
    if !filter.states.is_empty() {
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        query = query.filter(tickets::state.eq_any(states));
    }
    if let Some(lead) = &filter.lead {
        query = query.filter(tickets::lead_department.eq(lead.to_string()));
    }
    if let Some(co) = &filter.co_handler {
        let co_handled = ticket_departments::table
            .filter(ticket_departments::department_code.eq(co.to_string()))
            .select(ticket_departments::ticket_id);
        query = query.filter(tickets::id.eq_any(co_handled));
    }
    if let Some(returned) = filter.returned {
        // Looked up per ticket through the timeline's (ticket_id, seq) index.
        let a_return = diesel::dsl::exists(
            ticket_events::table
                .filter(ticket_events::ticket_id.eq(tickets::id))
                .filter(ticket_events::action.eq("return")),
        );
        query = if returned {
            query.filter(a_return)
        } else {
            query.filter(diesel::dsl::not(a_return))
        };
    }
    match filter.pending_extension {
        Some(true) => query = query.filter(tickets::pending_extension.is_not_null()),
        Some(false) => query = query.filter(tickets::pending_extension.is_null()),
        None => {}
    }
    // Asked apart above when there is one department to ask about; both kept here otherwise.
    let either = [&filter.department, &filter.visible_to]
        .into_iter()
        .flatten();
    for department in either.filter(|_| matches!(part, Part::All)) {
        let co_handled = ticket_departments::table
            .filter(ticket_departments::department_code.eq(department.to_string()))
            .select(ticket_departments::ticket_id);
        query = query.filter(
            tickets::lead_department
                .eq(department.to_string())
                .or(tickets::id.eq_any(co_handled)),
        );
    }
    if let Some(q) = &filter.q {
        // Case-insensitive on both backends (SQLite's LIKE is, PostgreSQL's is not); % and _
        // are searched for as themselves.
        let pattern = format!("%{}%", like_text(q));
        let text = lower(tickets::number)
            .like(pattern.clone())
            .escape('\\')
            .or(lower(tickets::subject).like(pattern.clone()).escape('\\'))
            .or(lower(tickets::enterprise_name)
                .like(pattern.clone())
                .escape('\\'))
            .or(lower(tickets::credit_code).like(pattern).escape('\\'));
        // A caller's number, in whatever form it was typed, finds the cases logged with it;
        // but a department never finds a 举报 by its reporter's number, which it may not see.
        query = match Phone::parse(q) {
            Ok(phone) if filter.visible_to.is_some() => query.filter(
                text.or(tickets::contact_phone
                    .eq(phone.to_string())
                    .and(tickets::category.ne(Category::Report.to_string()))),
            ),
            Ok(phone) => query.filter(text.or(tickets::contact_phone.eq(phone.to_string()))),
            Err(_) => query.filter(text),
        };
    }
    if let Some(from) = filter.created_from {
        query = query.filter(tickets::created_at.ge(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(tickets::created_at.lt(to));
    }
    match filter.overdue {
        Some((true, now)) => query = query.filter(tickets::due_at.lt(now)),
        Some((false, now)) => {
            query = query.filter(tickets::due_at.is_null().or(tickets::due_at.ge(now)))
        }
        None => {}
    }
    if let Some(due_before) = filter.due_before {
        query = query.filter(tickets::due_at.lt(due_before));
    }
    if let Some(before) = filter.before {
        query = query.filter(tickets::id.lt(before.to_string()));
    }
    Ok(query
        .order(tickets::id.desc())
        .limit(filter.limit)
        .load(conn)?)
}

/// The timeline of a ticket in order, after the event with sequence number `after`.
pub fn events(
    conn: &mut DbConn,
    id: TicketId,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(ticket_events::table
        .filter(ticket_events::ticket_id.eq(id.to_string()))
        .filter(ticket_events::seq.gt(after))
        .order(ticket_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// The ticket's latest event of `action` (its last reply, say).
pub fn last_event(
    conn: &mut DbConn,
    id: TicketId,
    action: &str,
) -> Result<Option<EventRow>, StoreError> {
    Ok(ticket_events::table
        .filter(ticket_events::ticket_id.eq(id.to_string()))
        .filter(ticket_events::action.eq(action))
        .order(ticket_events::seq.desc())
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// The next human number of `year`, counted in the caller's transaction.
pub fn next_number(conn: &mut DbConn, year: i32) -> Result<i64, StoreError> {
    backend::bump_counter(conn, year)
}

/// Refreshes a ticket's summary of its running timers (nearest deadline, highest level) after
/// its deadlines were counted again; the ticket's state and version are untouched.
pub fn set_summary(
    conn: &mut DbConn,
    id: TicketId,
    due_at: Option<NaiveDateTime>,
    escalation_level: i32,
) -> Result<(), StoreError> {
    diesel::update(tickets::table.find(id.to_string()))
        .set((
            tickets::due_at.eq(due_at),
            tickets::escalation_level.eq(escalation_level),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many tickets are in each state.
pub fn count_by_state(
    conn: &mut DbConn,
) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = tickets::table
        .group_by(tickets::state)
        .select((tickets::state, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The ticket of this number, if there is one.
pub fn find_by_number(conn: &mut DbConn, number: &str) -> Result<Option<Ticket>, StoreError> {
    let row = tickets::table
        .filter(tickets::number.eq(number))
        .select(TicketRow::as_select())
        .first(conn)
        .optional()?;
    with_departments(conn, row.into_iter().collect()).map(|mut v| v.pop())
}

/// The open cases (not archived) of one lead department (`None`: not dispatched yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentCounts {
    pub department: Option<String>,
    pub open: i64,
    /// With a deadline past.
    pub overdue: i64,
    pub supervised: i64,
}

/// The open cases by lead department at `now`: three grouped counts.
pub fn department_counts(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<DepartmentCounts>, StoreError> {
    use diesel::dsl::count_star;
    let open = || tickets::table.filter(tickets::state.ne(State::Archived.as_str()));
    let all: Vec<(Option<String>, i64)> = open()
        .group_by(tickets::lead_department)
        .select((tickets::lead_department, count_star()))
        .load(conn)?;
    let overdue: BTreeMap<Option<String>, i64> = open()
        .filter(tickets::due_at.lt(now))
        .group_by(tickets::lead_department)
        .select((tickets::lead_department, count_star()))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .collect();
    let supervised: BTreeMap<Option<String>, i64> = tickets::table
        .filter(tickets::state.eq(State::Supervised.as_str()))
        .group_by(tickets::lead_department)
        .select((tickets::lead_department, count_star()))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .map(|(department, open)| DepartmentCounts {
            overdue: overdue.get(&department).copied().unwrap_or(0),
            supervised: supervised.get(&department).copied().unwrap_or(0),
            department,
            open,
        })
        .collect())
}

/// The open cases past a deadline at `now`, by lead department and escalation level.
pub fn overdue_levels(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<(Option<String>, i32, i64)>, StoreError> {
    Ok(tickets::table
        .filter(tickets::state.ne(State::Archived.as_str()))
        .filter(tickets::due_at.lt(now))
        .group_by((tickets::lead_department, tickets::escalation_level))
        .select((
            tickets::lead_department,
            tickets::escalation_level,
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

/// Up to `limit` tickets after the one with id `after`, in id order: to walk every ticket.
pub fn page_by_id(
    conn: &mut DbConn,
    after: Option<TicketId>,
    limit: i64,
) -> Result<Vec<Ticket>, StoreError> {
    let mut query = tickets::table
        .select(TicketRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(after) = after {
        query = query.filter(tickets::id.gt(after.to_string()));
    }
    let rows = query.order(tickets::id.asc()).limit(limit).load(conn)?;
    with_departments(conn, rows)
}

/// The timelines of many tickets, each in order.
pub fn events_for(
    conn: &mut DbConn,
    ids: &[TicketId],
) -> Result<BTreeMap<TicketId, Vec<EventRow>>, StoreError> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows: Vec<EventRow> = ticket_events::table
        .filter(ticket_events::ticket_id.eq_any(keys))
        .order((ticket_events::ticket_id.asc(), ticket_events::seq.asc()))
        .select(EventRow::as_select())
        .load(conn)?;
    let mut by_ticket: BTreeMap<TicketId, Vec<EventRow>> = BTreeMap::new();
    for row in rows {
        let ticket = row
            .ticket_id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("event {}", row.id)))?;
        by_ticket.entry(ticket).or_default().push(row);
    }
    Ok(by_ticket)
}

/// Writes what a ticket's history says of it for the KPIs (its first department and first
/// reply), as counted again from its timeline; its version and state are untouched.
pub fn set_history(conn: &mut DbConn, t: &Ticket) -> Result<(), StoreError> {
    diesel::update(tickets::table.find(t.id.to_string()))
        .set((
            tickets::first_department.eq(t.first_department.as_ref().map(|d| d.as_str())),
            tickets::replied_at.eq(t.replied_at),
            tickets::replied_by.eq(t.replied_by.as_ref().map(|d| d.as_str())),
        ))
        .execute(conn)?;
    Ok(())
}
