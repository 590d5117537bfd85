//! `/api/v1/notifications`: the outbox as supervisors and admins see it — what was sent to whom,
//! what waits, what failed and why — and `retry` for a failed one.

use super::auth::Identity;
use super::problem::Problem;
use super::views::{Cursor, Page, timestamp};
use super::{AppState, db};
use crate::domain::lifecycle::DomainError;
use crate::domain::ticket::{Actor, Role};
use crate::domain::{FieldError, collect};
use crate::service::notifications as service;
use crate::store::{self, outbox};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

fn may_see(who: &Actor) -> Result<(), Problem> {
    match who {
        Actor::User {
            role: Role::Supervisor | Role::Admin,
            ..
        } => Ok(()),
        _ => Err(
            DomainError::Forbidden("only supervisors and admins see notifications".into()).into(),
        ),
    }
}

fn view(row: outbox::OutboxRow, tz: chrono_tz::Tz) -> Value {
    let recipients: Value = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
    let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "ticket_id": row.ticket_id,
        "ticket_number": data.get("number"),
        "event_id": row.event_id,
        "template": row.template,
        "to": recipients.get("to"),
        "roles": recipients.get("roles"),
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": (matches!(row.status.as_str(), "pending" | "sending"))
            .then(|| timestamp(row.next_attempt_at, tz)),
        "last_error": row.last_error,
        "sent_at": row.sent_at.map(|t| timestamp(t, tz)),
        "message_id": row.message_id,
        "created_at": timestamp(row.created_at, tz),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    status: Option<String>,
    ticket: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, Problem> {
    may_see(&who.0)?;
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let limit = collect(e, Page::limit(p.limit.as_deref()));
    let status = match p.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => collect(
            e,
            outbox::STATUSES
                .contains(&s)
                .then(|| s.to_string())
                .ok_or_else(|| {
                    FieldError::new(
                        "status",
                        format!("must be one of {}", outbox::STATUSES.join(", ")),
                    )
                }),
        ),
    };
    let ticket = match p.ticket.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => collect(
            e,
            t.parse::<crate::domain::ticket::TicketId>()
                .map(|id| id.to_string())
                .map_err(|_| FieldError::new("ticket", "is not a ticket id")),
        ),
    };
    let before = collect(e, p.cursor.as_deref().map(Cursor::decode).transpose()).flatten();
    let Some(limit) = limit.filter(|_| errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let filter = outbox::Filter {
        status,
        ticket,
        before,
        limit: limit + 1,
    };
    let rows = db(&state, move |conn| service::list(conn, &filter)).await?;
    let tz = state.settings.timezone;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |r| r.id.clone(), |r| view(r, tz))))
}

pub async fn retry(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    may_see(&who.0)?;
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(Problem::not_found("notification"));
    }
    let found = db(&state, move |conn| service::retry(conn, &id, store::now())).await?;
    let tz = state.settings.timezone;
    match found {
        None => Err(Problem::not_found("notification")),
        Some(Ok(row)) => {
            tracing::info!(notification = %row.id, "notification queued again by hand");
            Ok(HttpResponse::Ok().json(view(row, tz)))
        }
        Some(Err(row)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!(
                "this notification is {}: only a failed or waiting one can be retried",
                row.status
            ),
        )),
    }
}
