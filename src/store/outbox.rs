//! The notification outbox: rows written in the transaction of the change they tell of, sent
//! afterwards by the mailer. Recipients are written as the lifecycle named them.

use super::conn::{self, DbConn};
use super::schema::outbox;
use super::schema::{departments, users};
use super::{StoreError, backend};
use crate::domain::lifecycle::{Notification, Recipient};
use crate::domain::ticket::TicketId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub ticket_id: Option<String>,
    pub event_id: Option<String>,
    pub template: String,
    pub recipients: String,
    pub data: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
}

impl OutboxRow {
    /// One notification of a ticket's event, due to be sent now.
    pub fn new(
        ticket: TicketId,
        event_id: &str,
        n: &Notification,
        data: &serde_json::Value,
        now: NaiveDateTime,
    ) -> Self {
        let id = uuid::Uuid::now_v7();
        OutboxRow {
            id: id.to_string(),
            ticket_id: Some(ticket.to_string()),
            event_id: Some(event_id.to_string()),
            template: n.template.to_string(),
            recipients: serde_json::to_string(&n.to).expect("recipients serialise"),
            data: data.to_string(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
            // Stable across retries, so that receivers can tell a resend from a new mail.
            message_id: format!("<{id}@closedloop>"),
            created_at: now,
        }
    }
}

/// The queued notifications of a ticket, oldest first.
pub fn for_ticket(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::ticket_id.eq(ticket.to_string()))
        .order(outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// The addresses behind the roles the lifecycle names, besides the users who have an email:
/// `mail.desk`, `mail.supervisors`, `mail.leadership` in config.
#[derive(Debug, Clone, Default)]
pub struct MailRoles {
    pub desk: Vec<String>,
    pub supervisors: Vec<String>,
    pub leadership: Vec<String>,
}

/// Turns recipients named by role into addresses as they are now, so that a notification goes
/// where it was meant to when it was written, whatever changes later.
pub fn resolve(
    conn: &mut DbConn,
    wanted: &BTreeSet<Recipient>,
    mail: &MailRoles,
) -> Result<BTreeMap<Recipient, Vec<String>>, StoreError> {
    if wanted.is_empty() {
        // A change that sends no mail (a create) asks nothing of the database.
        return Ok(BTreeMap::new());
    }
    let codes: Vec<&str> = wanted
        .iter()
        .filter_map(|r| match r {
            Recipient::Department(c) | Recipient::DepartmentHead(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    let units: Vec<(String, String, Option<String>)> = departments::table
        .filter(departments::code.eq_any(&codes))
        .select((
            departments::code,
            departments::email,
            departments::head_email,
        ))
        .load(conn)?;
    let people: Vec<(String, Option<String>, Option<String>)> = users::table
        .filter(users::active.eq(true))
        .filter(users::email.is_not_null())
        .filter(
            users::role
                .eq_any(["operator", "supervisor"])
                .or(users::department_code.eq_any(&codes)),
        )
        .select((users::role, users::department_code, users::email))
        .load(conn)?;
    let with_role = |role: &str| -> Vec<String> {
        people
            .iter()
            .filter(|(r, _, _)| r == role)
            .filter_map(|(_, _, e)| e.clone())
            .collect()
    };
    let mut out = BTreeMap::new();
    for r in wanted {
        let mut addresses: Vec<String> = match r {
            Recipient::Department(code) => {
                let unit = units
                    .iter()
                    .filter(|(c, _, _)| c == code)
                    .map(|(_, e, _)| e.clone());
                let staff = people
                    .iter()
                    .filter(|(role, d, _)| role == "department" && d.as_deref() == Some(code))
                    .filter_map(|(_, _, e)| e.clone());
                unit.chain(staff).collect()
            }
            Recipient::DepartmentHead(code) => units
                .iter()
                .filter(|(c, _, _)| c == code)
                .filter_map(|(_, _, h)| h.clone())
                .collect(),
            Recipient::Desk => mail
                .desk
                .iter()
                .cloned()
                .chain(with_role("operator"))
                .collect(),
            Recipient::Supervisors => mail
                .supervisors
                .iter()
                .cloned()
                .chain(with_role("supervisor"))
                .collect(),
            Recipient::Leadership => mail.leadership.clone(),
        };
        addresses.sort();
        addresses.dedup();
        out.insert(r.clone(), addresses);
    }
    Ok(out)
}

/// The states of a notification: waiting (`pending`), leased by a mailer until `next_attempt_at`
/// (`sending`), delivered to the mail server (`sent`), given up (`failed`).
pub const STATUSES: [&str; 4] = ["pending", "sending", "sent", "failed"];

/// Leases up to `limit` due notifications until `until`, oldest due first, in one short
/// transaction: each becomes `sending` with one more attempt counted. A mailer that dies
/// mid-send leaves them `sending`; once `until` has passed they are due again, with the same
/// Message-ID. PostgreSQL skips rows another mailer is leasing at the same moment.
pub fn lease_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    conn::write(conn, |c| {
        let ids = backend::due_outbox(c, now, limit)?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::status.eq("sending"),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::next_attempt_at.eq(until),
            ))
            .execute(c)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::next_attempt_at.asc())
            .select(OutboxRow::as_select())
            .load(c)?)
    })
}

/// What became of one leased send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Delivered (to some addresses, with why the others were refused).
    Sent(Option<String>),
    /// Try again at this time.
    Retry(NaiveDateTime, String),
    Failed(String),
}

/// Records the outcome of a send and where each address stands (`recipients`). A retry or a
/// failure is recorded only while the lease is still ours (same attempt, same lease expiry): once
/// it ran out and another mailer took the row, the newer holder decides. A delivery is recorded
/// whoever holds the row now, so that it is not sent again. `false`: nothing was recorded.
pub fn settle(
    conn: &mut DbConn,
    row: &OutboxRow,
    outcome: &Outcome,
    recipients: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    // A write transaction, so that on SQLite it waits its turn among the writers: a delivery
    // that could not be recorded would be sent again.
    conn::write(conn, |c| {
        let ours = outbox::table
            .filter(outbox::id.eq(&row.id))
            .filter(outbox::status.eq("sending"))
            .filter(outbox::attempts.eq(row.attempts))
            .filter(outbox::next_attempt_at.eq(row.next_attempt_at));
        let n = match outcome {
            Outcome::Sent(note) => diesel::update(
                outbox::table
                    .filter(outbox::id.eq(&row.id))
                    .filter(outbox::status.ne("sent")),
            )
            .set((
                outbox::status.eq("sent"),
                outbox::sent_at.eq(Some(now)),
                outbox::last_error.eq(note),
                outbox::recipients.eq(recipients),
            ))
            .execute(c)?,
            Outcome::Retry(at, error) => diesel::update(ours)
                .set((
                    outbox::status.eq("pending"),
                    outbox::next_attempt_at.eq(at),
                    outbox::last_error.eq(Some(error)),
                    outbox::recipients.eq(recipients),
                ))
                .execute(c)?,
            Outcome::Failed(error) => diesel::update(ours)
                .set((
                    outbox::status.eq("failed"),
                    outbox::last_error.eq(Some(error)),
                    outbox::recipients.eq(recipients),
                ))
                .execute(c)?,
        };
        Ok(n == 1)
    })
}

/// Which notifications a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub ticket: Option<String>,
    /// Keyset: rows with an id below this one (ids are UUIDv7, so newest first).
    pub before: Option<String>,
    pub limit: i64,
}

/// Notifications, newest first.
pub fn list(conn: &mut DbConn, filter: &Filter) -> Result<Vec<OutboxRow>, StoreError> {
    let mut q = outbox::table.into_boxed();
    if let Some(s) = &filter.status {
        q = q.filter(outbox::status.eq(s.clone()));
    }
    if let Some(t) = &filter.ticket {
        q = q.filter(outbox::ticket_id.eq(t.clone()));
    }
    if let Some(b) = &filter.before {
        q = q.filter(outbox::id.lt(b.clone()));
    }
    Ok(q.order(outbox::id.desc())
        .limit(filter.limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OutboxRow>, StoreError> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// Makes a failed or waiting notification due now, with a fresh count of attempts.
/// `false` when it is being sent or was sent; otherwise `row` is changed to match.
pub fn retry(
    conn: &mut DbConn,
    row: &mut OutboxRow,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        outbox::table
            .find(&row.id)
            .filter(outbox::status.eq_any(["failed", "pending"])),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
    ))
    .execute(conn)?;
    if n == 1 {
        row.status = "pending".into();
        row.attempts = 0;
        row.next_attempt_at = now;
    }
    Ok(n == 1)
}

/// How many notifications are in each state.
pub fn depth(conn: &mut DbConn) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Writes a notification that belongs to no ticket (the digest), once per Message-ID: `false`
/// when one with this Message-ID exists already.
pub fn insert_once(conn: &mut DbConn, row: &OutboxRow) -> Result<bool, StoreError> {
    backend::insert_outbox_once(conn, row)
}

pub fn exists(conn: &mut DbConn, message_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        outbox::table.filter(outbox::message_id.eq(message_id)),
    ))
    .get_result(conn)?)
}
