//! `/api/v1/notifications`: the outbox as supervisors and admins see it — what was sent to whom,
//! what waits, what failed and why — and `retry` for a failed one.

use super::auth::Identity;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use super::views::{self, Cursor, Page, Time};
use crate::app::notifications as service;
use crate::domain::lifecycle::DomainError;
use crate::domain::ticket::{Actor, Role};
use crate::domain::{FieldError, collect};
use crate::store::rows::OutboxRow;
use crate::store::{self, outbox};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

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

/// A notification of the outbox.
#[derive(Serialize, ToSchema)]
#[schema(as = Notification)]
pub struct NotificationView {
    #[schema(format = Uuid)]
    id: String,
    ticket_id: Option<String>,
    ticket_number: Option<String>,
    event_id: Option<String>,
    /// dispatch, co_dispatch, returned, supervised, coordination, extension_requested,
    /// extension_decided, replied, warning, escalation, digest.
    template: String,
    /// The addresses it goes to.
    to: Vec<String>,
    /// The roles they were resolved from.
    #[schema(value_type = Vec<Object>)]
    roles: Value,
    /// pending, sending, sent, failed.
    status: String,
    attempts: i32,
    #[schema(value_type = Option<String>, format = DateTime)]
    next_attempt_at: Option<Time>,
    last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    sent_at: Option<Time>,
    message_id: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Time,
}

fn view(row: OutboxRow, tz: chrono_tz::Tz) -> NotificationView {
    let recipients: Value = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
    let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
    let to = recipients["to"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let waiting = matches!(row.status.as_str(), "pending" | "sending");
    NotificationView {
        ticket_number: data["number"].as_str().map(str::to_string),
        to,
        roles: recipients
            .get("roles")
            .cloned()
            .unwrap_or(Value::Array(vec![])),
        next_attempt_at: waiting.then_some(Time(row.next_attempt_at, tz)),
        sent_at: row.sent_at.map(|t| Time(t, tz)),
        created_at: Time(row.created_at, tz),
        id: row.id,
        ticket_id: row.ticket_id,
        event_id: row.event_id,
        template: row.template,
        status: row.status,
        attempts: row.attempts,
        last_error: row.last_error,
        message_id: row.message_id,
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// pending, sending, sent or failed.
    status: Option<String>,
    /// A ticket id.
    #[param(format = Uuid)]
    ticket: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    description = "The outbox, newest first (supervisors and admins).",
    params(Params),
    responses(
        (status = 200, body = Page<NotificationView>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not a supervisor or admin", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, Problem> {
    may_see(&who.0)?;
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let limit = collect(e, views::limit(p.limit.as_deref()));
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

#[utoipa::path(post, path = "/api/v1/notifications/{id}/retry", tag = "notifications",
    description = "Makes a failed (or waiting) notification due now, with a fresh count of attempts.",
    params(("id" = String, Path, format = Uuid, description = "notification id")),
    responses(
        (status = 200, body = NotificationView),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not a supervisor or admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such notification", body = Problem, content_type = PROBLEM),
        (status = 409, description = "being sent, or sent", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
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
