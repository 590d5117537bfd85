//! Creating, reading and acting on tickets.

use super::error::AppError;
use super::state::{CALENDAR_CHECK, Settings};
use super::write;
use crate::domain::FieldError;
use crate::domain::lifecycle::{self, ActionKind, Context, Known, Request};
use crate::domain::ticket::{Actor, Role, Ticket, TicketId};
use crate::domain::timer::Timer;
use crate::store::conn::{self, DbConn};
use crate::store::idempotency;
use crate::store::rows::{EventRow, KeyRow};
use crate::store::tickets::{self as repo, Filter};
use crate::store::{self, StoreError, departments};
use chrono::{Datelike, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The answer to a create: a new ticket, or the response remembered for its `Idempotency-Key`.
#[derive(Debug)]
pub enum Created {
    New { ticket: Box<Ticket>, body: Value },
    Replayed { status: u16, body: Value },
}

/// Logs a complaint (受理). With a key, the response is remembered in the same transaction, and a
/// retry with the same body gets it back instead of a second ticket.
pub fn create(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    input: &Value,
    key: Option<&str>,
    now: NaiveDateTime,
    render: &dyn Fn(&Ticket) -> Value,
) -> Result<Created, AppError> {
    let new = lifecycle::validate_new(input, actor)?;
    settings.calendars.refresh_every(conn, CALENDAR_CHECK)?;
    let username = actor.username().unwrap_or("system");
    let hash = request_hash(input);
    // A concurrent request with the same key can win the race to store it (PostgreSQL): then
    // this transaction rolls back and the next round replays the winner's response.
    for _ in 0..3 {
        let outcome = conn::write(conn, |c| -> Result<Created, AppError> {
            if let Some(key) = key {
                match idempotency::find(c, username, key)? {
                    Some(row) if row.created_at >= now - settings.idempotency_ttl => {
                        if row.request_hash != hash {
                            return Err(AppError::KeyReused);
                        }
                        let body = serde_json::from_str(&row.response_body)
                            .map_err(|_| StoreError::Corrupt(format!("idempotency key {key}")))?;
                        return Ok(Created::Replayed {
                            status: row.response_status as u16,
                            body,
                        });
                    }
                    Some(_) => idempotency::forget(c, username, key)?,
                    None => {}
                }
            }
            let year = settings.timezone.from_utc_datetime(&now).year();
            let serial = repo::next_number(c, year)?;
            let number = format!("{}-{year}-{serial:06}", settings.number_prefix);
            let calendar = settings.calendars.current();
            let mut known = Known::default();
            if let Some(earlier) = new.duplicate_of
                && let Some(t) = repo::find(c, earlier)?
            {
                known.tickets.insert(earlier, t.state);
            }
            lifecycle::check_references(&new, &known)?;
            let ctx = Context {
                now,
                known: &known,
                policy: &settings.policy,
                calendar: &calendar,
                timers: &[],
            };
            let effects = lifecycle::create(new.clone(), TicketId::new(), number, actor, &ctx);
            write::created(c, &effects, settings)?;
            let body = render(&effects.ticket);
            if let Some(key) = key {
                let row = KeyRow {
                    username: username.to_string(),
                    key: key.to_string(),
                    request_hash: hash.clone(),
                    response_status: 201,
                    response_body: body.to_string(),
                    ticket_id: Some(effects.ticket.id.to_string()),
                    created_at: now,
                };
                if !idempotency::insert(c, &row)? {
                    return Err(AppError::Store(StoreError::Concurrent));
                }
            }
            Ok(Created::New {
                ticket: Box::new(effects.ticket),
                body,
            })
        });
        match outcome {
            Err(AppError::Store(StoreError::Concurrent)) if key.is_some() => continue,
            other => return other,
        }
    }
    Err(StoreError::Unavailable("idempotency key contended".into()).into())
}

/// SHA-256 of the request body in canonical form (object keys sorted, no whitespace).
fn request_hash(input: &Value) -> String {
    let digest = Sha256::digest(input.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One action on one ticket, decided by `lifecycle::apply` and written with its event in one
/// transaction. The ticket row stays locked from the read to the write.
#[allow(clippy::too_many_arguments)]
pub fn act(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    action: ActionKind,
    payload: &Value,
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<Ticket, AppError> {
    settings.calendars.refresh_every(conn, CALENDAR_CHECK)?;
    conn::write(conn, |c| {
        let lookups = action.lookups(payload);
        // This ticket and the one a merge names are locked in id order, so that two tickets
        // merged into each other at the same moment queue instead of both being archived.
        let mut ids: Vec<TicketId> = std::iter::once(id)
            .chain(lookups.ticket.filter(|t| *t != id))
            .collect();
        ids.sort();
        let mut locked = BTreeMap::new();
        for each in ids {
            if let Some(t) = repo::find_for_update(c, each)? {
                locked.insert(each, t);
            }
        }
        let ticket = locked
            .remove(&id)
            .filter(|t| visible(t, actor))
            .ok_or(AppError::NotFound)?;
        let articles = if lookups.articles.is_empty() {
            BTreeMap::new()
        } else {
            let today = super::knowledge::today(settings);
            store::knowledge::published_valid(c, &lookups.articles, today)?
                .into_iter()
                .collect()
        };
        let known = Known {
            departments: departments::existing(c, &lookups.departments)?,
            tickets: locked.iter().map(|(id, t)| (*id, t.state)).collect(),
            articles,
        };
        let request = Request {
            action,
            payload,
            if_match,
        };
        let timers = store::timers::running(c, id)?;
        let calendar = settings.calendars.current();
        let ctx = Context {
            now,
            known: &known,
            policy: &settings.policy,
            calendar: &calendar,
            timers: &timers,
        };
        let effects = lifecycle::apply(&ticket, &request, actor, &ctx)?;
        write::changed(c, &[(&ticket, std::slice::from_ref(&effects))], settings)?;
        Ok(effects.ticket)
    })
}

/// Whether `actor` may do `action` on the ticket now, payload aside: to answer a request whose
/// body is unreadable in the contract's order (404, 403, 412, 409 before the body's 400 or 422).
pub fn authorize(
    conn: &mut DbConn,
    actor: &Actor,
    id: TicketId,
    action: ActionKind,
    if_match: Option<i64>,
) -> Result<(), AppError> {
    let ticket = get(conn, actor, id)?;
    Ok(lifecycle::authorize(&ticket, action, actor, if_match)?)
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: TicketId) -> Result<Ticket, AppError> {
    repo::find(conn, id)?
        .filter(|t| visible(t, actor))
        .ok_or(AppError::NotFound)
}

/// A page of tickets; a department sees only those it leads or co-handles.
pub fn list(conn: &mut DbConn, actor: &Actor, mut filter: Filter) -> Result<Vec<Ticket>, AppError> {
    if let Some(code) = &filter.department
        && departments::find(conn, code.as_str())?.is_none()
    {
        let unknown = FieldError::new("department", format!("unknown department '{code}'"));
        return Err(AppError::Domain(unknown.into()));
    }
    // A department sees what it leads or co-handles; a filter on either of its own already says
    // so (and the queue's index then serves the query alone).
    let own = actor.department();
    if actor.role() == Some(Role::Department)
        && filter.lead.as_ref() != own
        && filter.co_handler.as_ref() != own
    {
        filter.visible_to = own.cloned();
    }
    Ok(repo::list(conn, &filter)?)
}

/// The case `ticket` repeats and the cases that repeat it (重复件), those `actor` may see.
pub fn related(
    conn: &mut DbConn,
    actor: &Actor,
    ticket: &Ticket,
) -> Result<(Option<Ticket>, Vec<Ticket>), AppError> {
    let earlier = match ticket.duplicate_of {
        Some(id) => repo::find(conn, id)?.filter(|t| visible(t, actor)),
        None => None,
    };
    let repeats = list(
        conn,
        actor,
        Filter {
            duplicate_of: Some(ticket.id),
            limit: 50,
            ..Filter::default()
        },
    )?;
    Ok((earlier, repeats))
}

/// Every timer the ticket has had: running ones with their deadline and level, ended ones with
/// how they ended.
pub fn timers(conn: &mut DbConn, actor: &Actor, id: TicketId) -> Result<Vec<Timer>, AppError> {
    get(conn, actor, id)?;
    Ok(store::timers::all(conn, id)?)
}

/// A case with every timer and the first `limit` events of its timeline, for one visitor: the
/// case page's reads, the visibility checked once.
pub fn case(
    conn: &mut DbConn,
    actor: &Actor,
    id: TicketId,
    limit: i64,
) -> Result<(Ticket, Vec<Timer>, Vec<EventRow>), AppError> {
    let ticket = get(conn, actor, id)?;
    let timers = store::timers::all(conn, id)?;
    let events = repo::events(conn, id, 0, limit)?;
    Ok((ticket, timers, events))
}

pub fn events(
    conn: &mut DbConn,
    actor: &Actor,
    id: TicketId,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    get(conn, actor, id)?;
    Ok(repo::events(conn, id, after, limit)?)
}

/// Departments see the tickets they lead or co-handle now; everyone else sees every ticket.
pub fn visible(ticket: &Ticket, actor: &Actor) -> bool {
    match (actor.role(), actor.department()) {
        (Some(Role::Department), Some(d)) => ticket.involves(d),
        (Some(Role::Department), None) => false,
        _ => true,
    }
}

/// Forgets the idempotency keys older than their configured lifetime.
pub fn purge_idempotency_keys(conn: &mut DbConn, settings: &Settings) -> Result<usize, AppError> {
    let before = Utc::now().naive_utc() - settings.idempotency_ttl;
    Ok(idempotency::purge(conn, before)?)
}

/// The case of this number, if the actor may see it.
pub fn find_by_number(
    conn: &mut DbConn,
    actor: &Actor,
    number: &str,
) -> Result<Option<Ticket>, AppError> {
    Ok(repo::find_by_number(conn, number)?.filter(|t| visible(t, actor)))
}

/// The open cases by lead department: how many, how many overdue at `now`, how many supervised.
pub fn department_counts(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<repo::DepartmentCounts>, AppError> {
    Ok(repo::department_counts(conn, now)?)
}

/// The open cases past a deadline at `now`, by lead department and escalation level.
pub fn overdue_levels(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<(Option<String>, i32, i64)>, AppError> {
    Ok(repo::overdue_levels(conn, now)?)
}
