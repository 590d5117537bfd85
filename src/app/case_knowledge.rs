//! 存为知识: a replied consultation kept as a draft article of the knowledge base in one step —
//! its question and the answer its department gave, filed under that department, for it to check,
//! complete (文号, 有效期, 关键词) and publish. Separate from `knowledge` and `tickets`, which it
//! both uses: the case is read as `tickets::get` shows it, the article written by
//! `knowledge::create`.

use super::error::AppError;
use super::knowledge::{self, Article};
use super::state::Settings;
use super::tickets;
use crate::domain::knowledge::{Answer, answer_draft, may_keep_answer};
use crate::domain::lifecycle::Event;
use crate::domain::ticket::{Actor, Ticket, TicketId};
use crate::domain::{FieldError, lifecycle::DomainError};
use crate::store::{self, DbConn, StoreError};
use chrono::{NaiveDateTime, TimeZone};
use serde_json::Value;

/// The case and its answer, if `actor` may keep it as knowledge: 404 when the case is not one
/// the actor sees, 403 when not theirs to keep, 409 when not a consultation or not answered.
fn answered(conn: &mut DbConn, actor: &Actor, id: TicketId) -> Result<(Ticket, Answer), AppError> {
    let ticket = tickets::get(conn, actor, id)?;
    let answer = match store::tickets::last_event(conn, id, "reply")? {
        Some(row) => {
            let event_id = row.id.clone();
            let (_, _, event) = row.into_event()?;
            Some(Answer::of(&event).ok_or_else(|| {
                StoreError::Corrupt(format!("event {event_id}: a reply without its content"))
            })?)
        }
        None => None,
    };
    may_keep_answer(actor, &ticket, answer.as_ref())?;
    let answer = answer.expect("a case without an answer is refused above");
    Ok((ticket, answer))
}

/// Whether a case's page offers 存为知识 to `actor`: exactly when `keep` would take it. `events`
/// is the case's timeline as the page shows it, which holds its answer.
pub fn offered(actor: &Actor, ticket: &Ticket, events: &[(String, i64, Event)]) -> bool {
    let answer = Answer::last(events.iter().map(|(_, _, e)| e));
    may_keep_answer(actor, ticket, answer.as_ref()).is_ok()
}

/// Whether `actor` may keep the case's answer, the request's body aside: to answer a request
/// whose body is unreadable in the contract's order (404, 403, 409 before the body's 400).
pub fn authorize(conn: &mut DbConn, actor: &Actor, id: TicketId) -> Result<(), AppError> {
    answered(conn, actor, id).map(|_| ())
}

/// Writes the draft article of case `id`'s answer, through `knowledge::create` (the article and
/// its first version in one transaction). `input` is the request's body: nothing to say, `{}`.
pub fn keep(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    input: &Value,
    now: NaiveDateTime,
) -> Result<Article, AppError> {
    let (ticket, answer) = answered(conn, actor, id)?;
    nothing_asked(input)?;
    let replied_on = settings.timezone.from_utc_datetime(&answer.at).date_naive();
    knowledge::create(
        conn,
        settings,
        actor,
        &answer_draft(&ticket, &answer, replied_on),
        now,
    )
}

/// The body says nothing: `{}` (an empty body reads so too) or `null`. Anything else is a 422.
fn nothing_asked(input: &Value) -> Result<(), DomainError> {
    if input.is_null() {
        return Ok(());
    }
    match input.as_object() {
        Some(fields) if fields.is_empty() => Ok(()),
        Some(fields) => Err(DomainError::Invalid(
            fields
                .keys()
                .map(|k| {
                    FieldError::new(k, "is not accepted here: the draft is made from the case")
                })
                .collect(),
        )),
        None => Err(FieldError::new("body", "must be a JSON object").into()),
    }
}
