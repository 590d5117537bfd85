//! `/api/v1/tickets`: create (with `Idempotency-Key`), list, get, actions and the timeline.

use super::auth::Identity;
use super::problem::Problem;
use super::views::{self, Cursor, Page};
use super::{AppState, body, db};
use crate::domain::lifecycle::ActionKind;
use crate::domain::ticket::{Category, State, Ticket, TicketId};
use crate::domain::{FieldError, collect};
use crate::service::ServiceError;
use crate::service::tickets::{self as service, Created};
use crate::store::{self, departments, tickets::Filter};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn create(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let key = body::idempotency_key(&req)?;
    let input = body::json(&req, payload, state.body_limit, None).await?;
    let actor = who.0;
    let st = state.clone();
    let created = db(&state, move |conn| {
        let tz = st.settings.timezone;
        let render = |t: &Ticket| views::ticket(t, &actor, tz);
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
    let input = body::json(&req, payload, state.body_limit, Some(json!({}))).await?;
    let actor = who.0;
    let viewer = actor.clone();
    let ticket = db(&state, move |conn| {
        service::act(conn, &actor, id, action, &input, if_match, store::now())
    })
    .await?;
    Ok(with_etag(
        &ticket,
        views::ticket(&ticket, &viewer, state.settings.timezone),
    ))
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
    let after = match params.cursor.as_deref().map(Cursor::decode).transpose()? {
        None => 0,
        Some(seq) => seq
            .parse()
            .map_err(|_| Problem::field("cursor", "is not a cursor this API handed out"))?,
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
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Problem> {
    let tz = state.settings.timezone;
    let p = params.into_inner();
    let mut errors = vec![];
    let filter_state = collect(
        &mut errors,
        parse_choice::<State>("state", p.state.as_deref()),
    );
    let category = collect(
        &mut errors,
        parse_choice::<Category>("category", p.category.as_deref()),
    );
    let created_from = collect(
        &mut errors,
        parse_time("created_from", p.created_from.as_deref(), tz),
    );
    let created_to = collect(
        &mut errors,
        parse_time("created_to", p.created_to.as_deref(), tz),
    );
    let q = collect(
        &mut errors,
        match p.q.as_deref().map(str::trim) {
            Some(q) if q.chars().count() > 100 => {
                Err(FieldError::new("q", "may be at most 100 characters"))
            }
            Some("") | None => Ok(None),
            Some(q) => Ok(Some(q.to_string())),
        },
    );
    let limit = Page::limit(p.limit.as_deref())
        .map_err(|e| errors.extend(e.errors))
        .ok();
    let before = collect(
        &mut errors,
        match p.cursor.as_deref().map(Cursor::decode).transpose() {
            Err(e) => Err(e.errors[0].clone()),
            Ok(None) => Ok(None),
            Ok(Some(id)) => id
                .parse::<TicketId>()
                .map(Some)
                .map_err(|_| FieldError::new("cursor", "is not a cursor this API handed out")),
        },
    );
    let (filter_state, category, created_from, created_to, q, before) = (
        filter_state.flatten(),
        category.flatten(),
        created_from.flatten(),
        created_to.flatten(),
        q.flatten(),
        before.flatten(),
    );
    let department = p
        .department
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    let Some(limit) = limit.filter(|_| errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let filter = Filter {
        state: filter_state,
        category,
        department,
        visible_to: None,
        q,
        created_from,
        created_to,
        before,
        limit: limit + 1,
    };
    let actor = who.0;
    let viewer = actor.clone();
    let tickets = db(&state, move |conn| {
        if let Some(code) = &filter.department
            && departments::find(conn, code)?.is_none()
        {
            return Err(ServiceError::Domain(
                FieldError::new("department", format!("unknown department '{code}'")).into(),
            ));
        }
        service::list(conn, &actor, filter)
    })
    .await?;
    let page = Page::of(
        tickets,
        limit,
        |t| t.id.to_string(),
        |t| views::ticket(&t, &viewer, tz),
    );
    Ok(HttpResponse::Ok().json(page))
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

/// An RFC 3339 time, or a date meaning the start of that day in the configured zone.
fn parse_time(
    field: &str,
    value: Option<&str>,
    tz: chrono_tz::Tz,
) -> Result<Option<NaiveDateTime>, FieldError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.naive_utc()));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).earliest())
        .map(|t| Some(t.naive_utc()))
        .ok_or_else(|| {
            FieldError::new(
                field,
                "must be an RFC 3339 time (2026-11-28T09:00:00+08:00; write + as %2B) or a date (2026-11-28)",
            )
        })
}

fn ticket_id(text: &str) -> Result<TicketId, Problem> {
    text.parse().map_err(|_| Problem::not_found("ticket"))
}

fn with_etag(ticket: &Ticket, view: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", ticket.version)))
        .json(view)
}
