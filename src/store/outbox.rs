//! The notification outbox: rows written in the transaction of the change they tell of, sent
//! afterwards by the mailer. Recipients are written as the lifecycle named them.

use super::StoreError;
use super::conn::DbConn;
use super::schema::outbox;
use crate::domain::lifecycle::Notification;
use crate::domain::ticket::TicketId;
use chrono::NaiveDateTime;
use diesel::prelude::*;

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
