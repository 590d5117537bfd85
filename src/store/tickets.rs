//! Tickets, their co-handling departments and their timeline. Writing a change is
//! `write_effects`: the ticket (guarded by its version), its departments and its one event.

use super::conn::{DbConn, MultiBackend};
use super::outbox::{self, MailRoles, OutboxRow};
use super::schema::{ticket_departments, ticket_events, tickets};
use super::timers::TimerRow;
use super::{StoreError, backend};
use crate::domain::Phone;
use crate::domain::lifecycle::Recipient;
use crate::domain::lifecycle::{Effects, Event};
use crate::domain::ticket::{Actor, Category, Contact, Enterprise, Role, State, Ticket, TicketId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    pub id: String,
    pub number: String,
    pub state: String,
    pub outcome: Option<String>,
    pub channel: String,
    pub category: String,
    pub urgency: String,
    pub enterprise_name: String,
    pub credit_code: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub subject: String,
    pub description: String,
    pub lead_department: Option<String>,
    pub pending_extension: Option<String>,
    pub merged_into: Option<String>,
    pub reopen_count: i32,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
}

/// What a change may alter of a ticket: what it was logged with stays as it was.
#[derive(AsChangeset)]
#[diesel(table_name = tickets, treat_none_as_null = true)]
pub struct TicketChange<'a> {
    pub state: &'a str,
    pub outcome: Option<&'a str>,
    pub lead_department: Option<&'a str>,
    pub pending_extension: Option<String>,
    pub merged_into: Option<String>,
    pub reopen_count: i32,
    pub version: i64,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub escalation_level: i32,
}

impl<'a> TicketChange<'a> {
    fn of(t: &'a Ticket) -> Self {
        TicketChange {
            state: t.state.as_str(),
            outcome: t.outcome.map(|o| o.as_str()),
            lead_department: t.lead_department.as_deref(),
            pending_extension: t
                .pending_extension
                .as_ref()
                .map(|p| serde_json::to_string(p).expect("an extension request serialises")),
            merged_into: t.merged_into.map(|m| m.to_string()),
            reopen_count: t.reopen_count,
            version: t.version,
            updated_at: t.updated_at,
            due_at: t.due_at,
            escalation_level: t.escalation_level,
        }
    }
}

impl TicketRow {
    fn from_ticket(t: &Ticket) -> Self {
        TicketRow {
            id: t.id.to_string(),
            number: t.number.clone(),
            state: t.state.to_string(),
            outcome: t.outcome.map(|o| o.to_string()),
            channel: t.channel.to_string(),
            category: t.category.to_string(),
            urgency: t.urgency.to_string(),
            enterprise_name: t.enterprise.name.clone(),
            credit_code: t.enterprise.credit_code.clone(),
            contact_name: t.contact.name.clone(),
            contact_phone: t.contact.phone.clone(),
            subject: t.subject.clone(),
            description: t.description.clone(),
            lead_department: t.lead_department.clone(),
            pending_extension: t
                .pending_extension
                .as_ref()
                .map(|p| serde_json::to_string(p).expect("an extension request serialises")),
            merged_into: t.merged_into.map(|m| m.to_string()),
            reopen_count: t.reopen_count,
            version: t.version,
            created_by: t.created_by.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            due_at: t.due_at,
            escalation_level: t.escalation_level,
        }
    }

    fn into_ticket(self, co_departments: Vec<String>) -> Result<Ticket, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("ticket {}: {what}", self.id));
        Ok(Ticket {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            number: self.number.clone(),
            state: self.state.parse().map_err(|_| corrupt("state"))?,
            outcome: self
                .outcome
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("outcome"))?,
            channel: self.channel.parse().map_err(|_| corrupt("channel"))?,
            category: self.category.parse().map_err(|_| corrupt("category"))?,
            urgency: self.urgency.parse().map_err(|_| corrupt("urgency"))?,
            enterprise: Enterprise {
                name: self.enterprise_name.clone(),
                credit_code: self.credit_code.clone(),
            },
            contact: Contact {
                name: self.contact_name.clone(),
                phone: self.contact_phone.clone(),
            },
            subject: self.subject.clone(),
            description: self.description.clone(),
            lead_department: self.lead_department.clone(),
            co_departments,
            pending_extension: self
                .pending_extension
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("pending_extension"))?,
            merged_into: self
                .merged_into
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("merged_into"))?,
            reopen_count: self.reopen_count,
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            due_at: self.due_at,
            escalation_level: self.escalation_level,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_events)]
pub struct EventRow {
    pub id: String,
    pub ticket_id: String,
    pub seq: i64,
    pub action: String,
    pub actor_kind: String,
    pub actor_username: Option<String>,
    pub actor_role: Option<String>,
    pub actor_department: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub level: Option<i32>,
    pub payload: String,
    pub at: NaiveDateTime,
}

impl EventRow {
    fn new(ticket: &Ticket, event: &Event) -> Self {
        let (kind, username, role, department) = match &event.actor {
            Actor::User {
                username,
                role,
                department,
            } => (
                "user",
                Some(username.clone()),
                Some(role.to_string()),
                department.clone(),
            ),
            Actor::System => ("system", None, None, None),
        };
        EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_id: ticket.id.to_string(),
            seq: ticket.version,
            action: event.action.clone(),
            actor_kind: kind.to_string(),
            actor_username: username,
            actor_role: role,
            actor_department: department,
            from_state: event.from_state.map(|s| s.to_string()),
            to_state: event.to_state.to_string(),
            level: event.level,
            payload: event.payload.to_string(),
            at: event.at,
        }
    }

    /// The event as the domain knows it, with its stored id and sequence number.
    pub fn into_event(self) -> Result<(String, i64, Event), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", self.id));
        let actor = match self.actor_kind.as_str() {
            "system" => Actor::System,
            _ => Actor::User {
                username: self.actor_username.clone().unwrap_or_default(),
                role: self
                    .actor_role
                    .as_deref()
                    .unwrap_or_default()
                    .parse::<Role>()
                    .map_err(|_| corrupt("actor_role"))?,
                department: self.actor_department.clone(),
            },
        };
        let event = Event {
            action: self.action.clone(),
            actor,
            from_state: self
                .from_state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("from_state"))?,
            to_state: self.to_state.parse().map_err(|_| corrupt("to_state"))?,
            level: self.level,
            payload: serde_json::from_str(&self.payload).map_err(|_| corrupt("payload"))?,
            at: self.at,
        };
        Ok((self.id, self.seq, event))
    }
}

/// Writes a new ticket and its `create` event.
pub fn insert(conn: &mut DbConn, effects: &Effects, mail: &MailRoles) -> Result<(), StoreError> {
    let ticket = &effects.ticket;
    diesel::insert_into(tickets::table)
        .values(TicketRow::from_ticket(ticket))
        .execute(conn)?;
    replace_co_departments(conn, ticket)?;
    let mut rows = Appends::default();
    rows.add(effects);
    rows.write(conn, mail)
}

/// Writes the changes decided one after the other on `before` (by `lifecycle::apply`, or by the
/// escalation ladder). Fails with `Concurrent` when the ticket is no longer at the version the
/// decisions were made on.
pub fn write_effects(
    conn: &mut DbConn,
    before: &Ticket,
    changes: &[Effects],
    mail: &MailRoles,
) -> Result<(), StoreError> {
    write_batch(conn, &[(before, changes)], mail)
}

/// `write_effects` for many tickets at once, in few statements: one update per ticket and per
/// moved timer, the new events, timers and notifications inserted together.
pub fn write_batch(
    conn: &mut DbConn,
    items: &[(&Ticket, &[Effects])],
    mail: &MailRoles,
) -> Result<(), StoreError> {
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
    rows.write(conn, mail)
}

/// The rows changes add besides the ticket: events, timers, notifications.
#[derive(Default)]
struct Appends {
    events: Vec<EventRow>,
    started: Vec<TimerRow>,
    changed: Vec<TimerRow>,
    /// Notifications with the roles they go to, resolved to addresses when written.
    outbox: Vec<(OutboxRow, Vec<Recipient>)>,
}

impl Appends {
    fn add(&mut self, effects: &Effects) {
        let ticket = &effects.ticket;
        let event = EventRow::new(ticket, &effects.event);
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
        // The deadlines this change set or moved, for the mail to name.
        let deadlines: Vec<serde_json::Value> = effects
            .timers
            .started
            .iter()
            .chain(&effects.timers.changed)
            .filter(|t| t.ended_at.is_none())
            .map(|t| {
                serde_json::json!({
                    "kind": t.kind,
                    "due_at": t.due_at,
                    "duration": t.duration.map(|d| d.to_string()),
                    "extended_days": t.extended_days,
                })
            })
            .collect();
        let by_department = effects.event.actor.department().map(str::to_string);
        for n in &effects.notifications {
            let data = serde_json::json!({
                "number": ticket.number,
                "subject": ticket.subject,
                "enterprise": ticket.enterprise.name,
                "state": ticket.state,
                "lead_department": ticket.lead_department,
                "co_departments": ticket.co_departments,
                "action": effects.event.action,
                "payload": effects.event.payload,
                "timer": n.timer,
                "level": n.level,
                "due_at": ticket.due_at,
                "deadlines": deadlines,
                "by_department": by_department,
                "by_system": matches!(effects.event.actor, crate::domain::ticket::Actor::System),
            });
            let row = OutboxRow::new(ticket.id, &event.id, n, &data, effects.event.at);
            self.outbox.push((row, n.to.clone()));
        }
        self.events.push(event);
    }

    fn write(self, conn: &mut DbConn, mail: &MailRoles) -> Result<(), StoreError> {
        // Ended and moved timers first: a stage restarted in the same change reuses its kind.
        backend::update_timers(conn, &self.changed)?;
        backend::insert_timers(conn, &self.started)?;
        backend::insert_events(conn, &self.events)?;
        // Recipients become addresses now, in the transaction of the change: later changes to
        // departments or users do not reroute this mail.
        let wanted: BTreeSet<Recipient> = self
            .outbox
            .iter()
            .flat_map(|(_, to)| to.iter().cloned())
            .collect();
        let addresses = outbox::resolve(conn, &wanted, mail)?;
        let rows: Vec<OutboxRow> = self
            .outbox
            .into_iter()
            .map(|(mut row, to)| {
                let mut all: Vec<&String> = to.iter().flat_map(|r| &addresses[r]).collect();
                all.sort();
                all.dedup();
                if all.is_empty() {
                    row.status = "failed".into();
                    row.last_error = Some("no address for any recipient".into());
                }
                row.recipients = serde_json::json!({ "to": all, "roles": to }).to_string();
                row
            })
            .collect();
        backend::insert_outbox(conn, &rows)?;
        Ok(())
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
                ticket_departments::department_code.eq(code),
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

/// The filters of `GET /tickets`, already checked.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<State>,
    pub category: Option<Category>,
    /// Lead or co-handler.
    pub department: Option<String>,
    /// A department user's own scope: lead or co-handler now.
    pub visible_to: Option<String>,
    pub q: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    /// With `(true, now)` the tickets with a running timer past its deadline at `now`; with
    /// `(false, now)` the others.
    pub overdue: Option<(bool, NaiveDateTime)>,
    /// Tickets whose nearest deadline is before this moment.
    pub due_before: Option<NaiveDateTime>,
    /// Keyset cursor: only tickets with an id below this one (ids are time-ordered UUIDv7).
    pub before: Option<TicketId>,
    pub limit: i64,
}

/// A page of tickets, newest first.
pub fn list(conn: &mut DbConn, filter: &Filter) -> Result<Vec<Ticket>, StoreError> {
    let mut query = tickets::table
        .select(TicketRow::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(state) = filter.state {
        query = query.filter(tickets::state.eq(state.to_string()));
    }
    if let Some(category) = filter.category {
        query = query.filter(tickets::category.eq(category.to_string()));
    }
    for department in [&filter.department, &filter.visible_to]
        .into_iter()
        .flatten()
    {
        let co_handled = ticket_departments::table
            .filter(ticket_departments::department_code.eq(department.clone()))
            .select(ticket_departments::ticket_id);
        query = query.filter(
            tickets::lead_department
                .eq(department.clone())
                .or(tickets::id.eq_any(co_handled)),
        );
    }
    if let Some(q) = &filter.q {
        // Case-insensitive on both backends (SQLite's LIKE is, PostgreSQL's is not); % and _
        // are searched for as themselves.
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
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
    let rows = query
        .order(tickets::id.desc())
        .limit(filter.limit)
        .load(conn)?;
    with_departments(conn, rows)
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
