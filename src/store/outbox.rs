//! The notification outbox as rows: written in the transaction of the change they tell of (by
//! `notify::outbox`), leased, settled and listed. What goes into a row is `notify`'s business.

use super::backend;
use super::conn::{self, DbConn};
use super::error::StoreError;
use super::rows::OutboxRow;
use super::schema::outbox;
use crate::domain::ticket::TicketId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeMap;

/// The queued notifications of a ticket, oldest first.
pub fn for_ticket(conn: &mut DbConn, ticket: TicketId) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::ticket_id.eq(ticket.to_string()))
        .order(outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
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

/// Inserts notifications, in statements of up to 500 rows.
pub fn insert(conn: &mut DbConn, rows: &[OutboxRow]) -> Result<(), StoreError> {
    backend::insert_outbox(conn, rows)
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
