//! The daily digest of overdue cases to supervisors, on working days at `mail.digest_at`: written
//! into the outbox like any notification, once per day (its Message-ID says which day). It opens
//! with the district plan's two figures: yesterday's 7-day procedural replies, and this year's
//! substantive replies within 3 months.

use super::recipients;
use crate::app::error::AppError;
use crate::app::reports::{self, Period};
use crate::app::state::Settings;
use crate::domain::figures::{Figure, GroupBy};
use crate::domain::notification::Recipient;
use crate::domain::ticket::Actor;
use crate::store::rows::OutboxRow;
use crate::store::{DbConn, conn, outbox, timers};
use chrono::{Datelike, NaiveDateTime, NaiveTime};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// How many overdue tickets a digest lists; it says how many more there are.
const LINES: i64 = 300;

/// Writes today's digest of overdue cases to the supervisors, when `now` is past `digest_at` on a
/// working day and it is not written yet. Returns whether it wrote one.
pub fn queue(
    conn: &mut DbConn,
    at: NaiveTime,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let calendar = settings.calendars.current();
    let local = now.and_utc().with_timezone(&calendar.timezone());
    let date = local.date_naive();
    if local.time() < at || !calendar.is_working_day(date) {
        return Ok(false);
    }
    let message_id = message_id(date);
    if outbox::exists(conn, &message_id)? {
        return Ok(false);
    }
    let figures = plan_figures(conn, settings, date, now)?;
    conn::write(conn, |c| -> Result<bool, AppError> {
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
            "figures": figures,
            "total": total,
            "omitted": total - seen.len() as i64,
            "groups": groups.into_iter().map(|(d, tickets)| json!({"department": d, "tickets": tickets})).collect::<Vec<_>>(),
        });
        let wanted = BTreeSet::from([Recipient::Supervisors]);
        let to = recipients::resolve(c, &wanted, &settings.mail)?
            .remove(&Recipient::Supervisors)
            .unwrap_or_default();
        let roles = json!([Recipient::Supervisors]);
        let row = OutboxRow::summary("digest", &to, &roles, &data, &message_id, now);
        Ok(outbox::insert_once(c, &row)?)
    })
}

/// The district plan's two figures, as the digest states them: the 7-day procedural replies due
/// yesterday, and the substantive replies within 3 months of this year's cases so far.
fn plan_figures(
    conn: &mut DbConn,
    settings: &Settings,
    today: chrono::NaiveDate,
    now: NaiveDateTime,
) -> Result<Value, AppError> {
    let yesterday = today.pred_opt().unwrap_or(today);
    let year = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let mut total = |from, to| -> Result<Value, AppError> {
        let p = Period { from, to };
        let r = reports::kpis(conn, settings, &Actor::System, p, GroupBy::Department, now)?;
        Ok(json!(r.total.figures))
    };
    let interim = total(yesterday, today)?;
    let replied = total(year, today.max(year.succ_opt().unwrap_or(year)))?;
    Ok(json!({
        "interim_reply_rate": interim[Figure::InterimReplyRate.as_str()],
        "substantive_reply_3m_rate": replied[Figure::SubstantiveReply3mRate.as_str()],
    }))
}

/// The digest of a day has one Message-ID, which also keeps it to one per day.
pub fn message_id(date: chrono::NaiveDate) -> String {
    format!("<digest-{date}@closedloop>")
}
