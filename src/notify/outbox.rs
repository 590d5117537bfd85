//! Queuing a change's notifications in the outbox, in the change's transaction: what each mail
//! will be told (the ticket, the action, the deadlines set or moved), and to whom — the roles the
//! change named, turned into addresses now. One with no address at all is written `failed`,
//! never dropped, so that people see it and can retry it.

use super::recipients::{self, MailRoles};
use crate::domain::lifecycle::Effects;
use crate::domain::notification::Recipient;
use crate::domain::ticket::Actor;
use crate::store::rows::OutboxRow;
use crate::store::{DbConn, StoreError, outbox};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Writes the notifications of `changes`, each with the id of the event it tells of.
pub fn queue(
    conn: &mut DbConn,
    changes: &[(&Effects, &str)],
    roles: &MailRoles,
) -> Result<(), StoreError> {
    let pending: Vec<(OutboxRow, &[Recipient])> = changes
        .iter()
        .flat_map(|(effects, event_id)| rows(effects, event_id))
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let wanted: BTreeSet<Recipient> = pending
        .iter()
        .flat_map(|(_, to)| to.iter().cloned())
        .collect();
    let addresses = recipients::resolve(conn, &wanted, roles)?;
    let rows: Vec<OutboxRow> = pending
        .into_iter()
        .map(|(mut row, to)| {
            let mut all: Vec<&String> = to.iter().flat_map(|r| &addresses[r]).collect();
            all.sort();
            all.dedup();
            if all.is_empty() {
                row.status = "failed".into();
                row.last_error = Some("no address for any recipient".into());
            }
            row.recipients = json!({ "to": all, "roles": to }).to_string();
            row
        })
        .collect();
    outbox::insert(conn, &rows)
}

/// The rows of one change's notifications, with the roles each goes to.
fn rows<'a>(effects: &'a Effects, event_id: &str) -> Vec<(OutboxRow, &'a [Recipient])> {
    let ticket = &effects.ticket;
    // The deadlines this change set or moved, for the mail to name.
    let deadlines: Vec<Value> = effects
        .timers
        .started
        .iter()
        .chain(&effects.timers.changed)
        .filter(|t| t.ended_at.is_none())
        .map(|t| {
            json!({
                "kind": t.kind,
                "due_at": t.due_at,
                "duration": t.duration.map(|d| d.to_string()),
                "extended_days": t.extended_days,
            })
        })
        .collect();
    let by_department = effects.event.actor.department();
    effects
        .notifications
        .iter()
        .map(|n| {
            let data = json!({
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
                "by_system": matches!(effects.event.actor, Actor::System),
            });
            let row = OutboxRow::new(ticket.id, event_id, n, &data, effects.event.at);
            (row, n.to.as_slice())
        })
        .collect()
}
