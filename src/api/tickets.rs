//! `/api/v1/tickets`: create (with `Idempotency-Key`), list, get, actions and the timeline.

use super::auth::Identity;
use super::problem::Problem;
use super::views::{self, Cursor, Page};
use super::{AppState, body, db};
use crate::domain::lifecycle::{self, ActionKind};
use crate::domain::ticket::{Category, State, Ticket, TicketId};
use crate::domain::{FieldError, collect, has_control, time};
use crate::service::tickets::{self as service, Created};
use crate::store::{self, tickets::Filter};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn create(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let bytes = body::read(&req, payload, &state).await?;
    // Who may create comes before what is wrong with the request.
    lifecycle::may_create(&who.0)?;
    let key = body::idempotency_key(&req)?;
    let input = body::parse(&req, &bytes, None)?;
    let actor = who.0;
    let st = state.clone();
    let created = db(&state, move |conn| {
        let tz = st.settings.timezone;
        let render = |t: &Ticket| views::ticket(t, &actor, tz).to_value();
        service::create(
            conn,
            &st.settings,
            &actor,
            &input,
            key.as_deref(),
            store::now(),
            &render,
        )
    })
    .await?;
    let (status, body, replayed) = match created {
        Created::New { body, .. } => (201, body, false),
        Created::Replayed { status, body } => (status, body, true),
    };
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    if let (Some(id), Some(version)) = (body["id"].as_str(), body["version"].as_i64()) {
        response
            .insert_header((header::LOCATION, format!("/api/v1/tickets/{id}")))
            .insert_header((header::ETAG, format!("\"{version}\"")));
    }
    if replayed {
        response.insert_header(("Idempotency-Replayed", "true"));
    }
    Ok(response.json(body))
}

pub async fn get(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let actor = who.0;
    let viewer = actor.clone();
    let ticket = db(&state, move |conn| service::get(conn, &actor, id)).await?;
    Ok(with_etag(
        &ticket,
        views::ticket(&ticket, &viewer, state.settings.timezone),
    ))
}

pub async fn act(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (id, action) = path.into_inner();
    let id = ticket_id(&id)?;
    let action: ActionKind = action.parse().map_err(|m: String| {
        Problem::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("no such action; it {m}"),
        )
    })?;
    let if_match = body::if_match(&req);
    let bytes = body::read(&req, payload, &state).await?;
    let actor = who.0;
    let input = match body::parse(&req, &bytes, Some(json!({}))) {
        Ok(input) => input,
        Err(unreadable) => {
            // Who may do what comes before what is wrong with the body.
            db(&state, move |conn| {
                service::authorize(conn, &actor, id, action, if_match)
            })
            .await?;
            return Err(unreadable);
        }
    };
    let viewer = actor.clone();
    let st = state.clone();
    let ticket = db(&state, move |conn| {
        service::act(
            conn,
            &st.settings,
            &actor,
            id,
            action,
            &input,
            if_match,
            store::now(),
        )
    })
    .await?;
    Ok(with_etag(
        &ticket,
        views::ticket(&ticket, &viewer, state.settings.timezone),
    ))
}

/// `GET /tickets/{id}/timers`: every timer of the ticket, in the order they started.
pub async fn timers(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let actor = who.0;
    let timers = db(&state, move |conn| service::timers(conn, &actor, id)).await?;
    let tz = state.settings.timezone;
    let items: Vec<Value> = timers.iter().map(|t| views::timer(t, tz)).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn events(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let limit = Page::limit(params.limit.as_deref())?;
    let after = match params.cursor.as_deref() {
        None => 0,
        Some(c) => Cursor::decode(c)?.parse().map_err(|_| Cursor::invalid())?,
    };
    let actor = who.0;
    let rows = db(&state, move |conn| {
        service::events(conn, &actor, id, after, limit + 1)
    })
    .await?;
    let tz = state.settings.timezone;
    let events = rows
        .into_iter()
        .map(|row| row.into_event())
        .collect::<Result<Vec<_>, _>>()?;
    let page = Page::of(
        events,
        limit,
        |(_, seq, _)| seq.to_string(),
        |(id, seq, event)| views::event(&id, seq, &event, tz),
    );
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    state: Option<String>,
    department: Option<String>,
    category: Option<String>,
    q: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    overdue: Option<String>,
    due_before: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl ListParams {
    /// The checked filter and page size, or every problem with the parameters at once.
    fn filter(self, tz: chrono_tz::Tz, now: NaiveDateTime) -> Result<(Filter, i64), Problem> {
        let mut errors = vec![];
        let e = &mut errors;
        let state = collect(e, parse_choice::<State>("state", self.state.as_deref())).flatten();
        let category = collect(
            e,
            parse_choice::<Category>("category", self.category.as_deref()),
        )
        .flatten();
        let created_from = collect(
            e,
            parse_time("created_from", self.created_from.as_deref(), tz, false),
        )
        .flatten();
        let created_to = collect(
            e,
            parse_time("created_to", self.created_to.as_deref(), tz, true),
        )
        .flatten();
        let q = collect(e, parse_q(self.q.as_deref())).flatten();
        let department = collect(e, parse_department(self.department.as_deref())).flatten();
        let limit = collect(e, Page::limit(self.limit.as_deref()));
        let before = collect(e, self.cursor.as_deref().map(ticket_cursor).transpose()).flatten();
        let overdue = collect(e, parse_flag("overdue", self.overdue.as_deref())).flatten();
        let due_before = collect(
            e,
            parse_time("due_before", self.due_before.as_deref(), tz, false),
        )
        .flatten();
        match limit {
            Some(limit) if errors.is_empty() => Ok((
                Filter {
                    state,
                    category,
                    department,
                    visible_to: None,
                    q,
                    created_from,
                    created_to,
                    overdue: overdue.map(|o| (o, now)),
                    due_before,
                    before,
                    limit: limit + 1,
                },
                limit,
            )),
            _ => Err(Problem::invalid(errors)),
        }
    }
}

pub async fn list(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Problem> {
    let tz = state.settings.timezone;
    let (filter, limit) = params.into_inner().filter(tz, store::now())?;
    let actor = who.0;
    let viewer = actor.clone();
    let tickets = db(&state, move |conn| service::list(conn, &actor, filter)).await?;
    let page = Page::of(
        tickets.iter().collect(),
        limit,
        |t| t.id.to_string(),
        |t| views::ticket(t, &viewer, tz),
    );
    Ok(HttpResponse::Ok().json(page))
}

fn ticket_cursor(cursor: &str) -> Result<TicketId, FieldError> {
    Cursor::decode(cursor)?
        .parse()
        .map_err(|_| Cursor::invalid())
}

fn parse_choice<T: std::str::FromStr<Err = String>>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|m| FieldError::new(field, m)),
    }
}

/// An RFC 3339 time, or a date: the start of that day in the configured zone, or with
/// `end_of_day` the start of the next (so `created_to=2026-11-28` includes the 28th).
fn parse_time(
    field: &str,
    value: Option<&str>,
    tz: chrono_tz::Tz,
    end_of_day: bool,
) -> Result<Option<NaiveDateTime>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => time::parse_time_or_date(field, v, tz, end_of_day).map(Some),
    }
}

fn parse_flag(field: &str, value: Option<&str>) -> Result<Option<bool>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(FieldError::new(field, "must be true or false")),
    }
}

fn parse_q(value: Option<&str>) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        Some(q) if q.chars().count() > 100 => {
            Err(FieldError::new("q", "may be at most 100 characters"))
        }
        Some(q) if has_control(q) => {
            Err(FieldError::new("q", "may not contain control characters"))
        }
        Some("") | None => Ok(None),
        Some(q) => Ok(Some(q.to_string())),
    }
}

/// A department code as a filter: printable, without blanks around it.
fn parse_department(value: Option<&str>) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        Some(d) if has_control(d) || d.chars().count() > 64 => {
            Err(FieldError::new("department", "is not a department code"))
        }
        Some("") | None => Ok(None),
        Some(d) => Ok(Some(d.to_string())),
    }
}

fn ticket_id(text: &str) -> Result<TicketId, Problem> {
    text.parse().map_err(|_| Problem::not_found("ticket"))
}

fn with_etag(ticket: &Ticket, view: views::TicketView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", ticket.version)))
        .json(view)
}
