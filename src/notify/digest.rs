//! The daily digest of overdue cases to supervisors, on working days at `mail.digest_at`: written
//! into the outbox like any notification, once per day (its Message-ID says which day).

use super::recipients::{self, MailRoles};
use crate::domain::calendar::Calendar;
use crate::domain::notification::Recipient;
use crate::store::rows::OutboxRow;
use crate::store::{DbConn, StoreError, conn, outbox, timers};
use chrono::{NaiveDateTime, NaiveTime};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// How many overdue tickets a digest lists; it says how many more there are.
const LINES: i64 = 300;

/// Writes today's digest of overdue cases to the supervisors, when `now` is past `digest_at` on a
/// working day and it is not written yet. Returns whether it wrote one.
pub fn queue(
    conn: &mut DbConn,
    at: NaiveTime,
    calendar: &Calendar,
    roles: &MailRoles,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let local = now.and_utc().with_timezone(&calendar.timezone());
    let date = local.date_naive();
    if local.time() < at || !calendar.is_working_day(date) {
        return Ok(false);
    }
    let message_id = message_id(date);
    conn::write(conn, |c| -> Result<bool, StoreError> {
        if outbox::exists(c, &message_id)? {
            return Ok(false);
        }
        let (late, total) = timers::overdue(c, now, LINES * 2)?;
        // One line per ticket, at its longest-overdue timer; grouped by who must act.
        let mut seen = BTreeSet::new();
        let mut groups: Vec<(Option<String>, Vec<Value>)> = vec![];
        for t in late {
            if seen.len() as i64 >= LINES || !seen.insert(t.ticket_id.clone()) {
                continue;
            }
            let owner = match t.kind.as_str() {
                "dispatch" | "feedback" => None,
                _ => t.lead_department.clone(),
            };
            let line = json!({
                "id": t.ticket_id, "number": t.number, "subject": t.subject,
                "enterprise": t.enterprise, "kind": t.kind, "due_at": t.due_at, "level": t.level,
            });
            match groups.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, lines)) => lines.push(line),
                None => groups.push((owner, vec![line])),
            }
        }
        let data = json!({
            "date": date.to_string(),
            "total": total,
            "omitted": total - seen.len() as i64,
            "groups": groups.into_iter().map(|(d, tickets)| json!({"department": d, "tickets": tickets})).collect::<Vec<_>>(),
        });
        let wanted = BTreeSet::from([Recipient::Supervisors]);
        let to = recipients::resolve(c, &wanted, roles)?
            .remove(&Recipient::Supervisors)
            .unwrap_or_default();
        let id = uuid::Uuid::now_v7().to_string();
        let row = OutboxRow {
            id,
            ticket_id: None,
            event_id: None,
            template: "digest".into(),
            recipients: json!({"to": to, "roles": [Recipient::Supervisors]}).to_string(),
            data: data.to_string(),
            status: if to.is_empty() { "failed" } else { "pending" }.into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: to
                .is_empty()
                .then(|| "no address for any recipient".to_string()),
            sent_at: None,
            message_id: message_id.clone(),
            created_at: now,
        };
        outbox::insert_once(c, &row)
    })
}

/// The digest of a day has one Message-ID, which also keeps it to one per day.
pub fn message_id(date: chrono::NaiveDate) -> String {
    format!("<digest-{date}@closedloop>")
}
