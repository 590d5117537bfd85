//! The notification outbox: rows written in the transaction of the change they tell of, sent
//! afterwards by the mailer. Recipients are written as the lifecycle named them.

use super::StoreError;
use super::conn::DbConn;
use super::schema::outbox;
use super::schema::{departments, users};
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
