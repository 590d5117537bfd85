//! `/api/v1/tickets`: create (with `Idempotency-Key`), list, get, actions and the timeline. Each
//! handler carries its part of the OpenAPI document.

use super::auth::Identity;
use super::body;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use super::views::{self, Cursor, EventView, Page, TicketView, TimerView};
use crate::app::tickets::{self as service, Created};
use crate::domain::lifecycle::payload::{
    AnswerInput, ContentPayload, DecisionPayload, DispatchPayload, Empty, ExtensionPayload,
    FeedbackPayload, MergeInput, ReasonPayload, RejectInput, SuperviseInput,
};
use crate::domain::lifecycle::{self, ActionKind};
use crate::domain::ticket::{Category, State, Ticket, TicketId};
use crate::domain::{DepartmentCode, FieldError, collect, has_control, time};
use crate::store::{self, tickets::Filter};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    description = "受理: the hotline logs a complaint (operators). An `Idempotency-Key` makes a retry return the first answer.",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; kept 24 h per user")),
    request_body = lifecycle::NewTicketInput,
    responses(
        (status = 201, description = "logged; `Location` and `ETag` set", body = TicketView),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not an operator", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields, or the key reused with another body", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
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

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, format = Uuid, description = "ticket id")),
    responses(
        (status = 200, description = "the case; `ETag` is its version", body = TicketView),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let actor = who.0;
    let viewer = actor.clone();
    let ticket = db(&state, move |conn| service::get(conn, &actor, id)).await?;
    Ok(with_etag(views::ticket(
        &ticket,
        &viewer,
        state.settings.timezone,
    )))
}

/// The body of an action: the fields of the action's payload (DESIGN.md's lifecycle table).
/// Which fields an action reads depends on the action; a field it does not read is refused.
pub struct ActionBody;

impl PartialSchema for ActionBody {
    fn schema() -> RefOr<Schema> {
        let mut any = AnyOfBuilder::new().description(Some(
            "dispatch/assign: DispatchPayload · return, coordinate, withdraw: ReasonPayload · reject: RejectInput · answer: AnswerInput · interim_reply, reply, comment: ContentPayload · request_extension: ExtensionPayload · decide_extension: DecisionPayload · supervise: SuperviseInput · feedback: FeedbackPayload · merge: MergeInput · sign, archive: Empty (or no body)",
        ));
        for name in Self::payloads() {
            any = any.item(Ref::from_schema_name(name));
        }
        any.into()
    }
}

impl ToSchema for ActionBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend([
            (DispatchPayload::name().into(), DispatchPayload::schema()),
            (ReasonPayload::name().into(), ReasonPayload::schema()),
            (ContentPayload::name().into(), ContentPayload::schema()),
            (ExtensionPayload::name().into(), ExtensionPayload::schema()),
            (DecisionPayload::name().into(), DecisionPayload::schema()),
            (SuperviseInput::name().into(), SuperviseInput::schema()),
            (FeedbackPayload::name().into(), FeedbackPayload::schema()),
            (MergeInput::name().into(), MergeInput::schema()),
            (RejectInput::name().into(), RejectInput::schema()),
            (AnswerInput::name().into(), AnswerInput::schema()),
            (Empty::name().into(), Empty::schema()),
        ]);
        FeedbackPayload::schemas(schemas);
    }
}

impl ActionBody {
    fn payloads() -> [&'static str; 11] {
        [
            "DispatchPayload",
            "ReasonPayload",
            "ContentPayload",
            "ExtensionPayload",
            "DecisionPayload",
            "SuperviseInput",
            "FeedbackPayload",
            "MergeInput",
            "RejectInput",
            "AnswerInput",
            "Empty",
        ]
    }
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/actions/{action}", tag = "tickets",
    description = "One step of the lifecycle (分办, 签收, 答复, 督办, 协调, 反馈, 归档 …). Checked in this order: 401, 404, 403, 412, 409, 422.",
    params(
        ("id" = String, Path, format = Uuid, description = "ticket id"),
        ("action" = ActionKind, Path, description = "the action"),
        ("If-Match" = Option<String>, Header, description = "the version seen, as given in `ETag`"),
    ),
    request_body = ActionBody,
    responses(
        (status = 200, description = "the case after the action", body = TicketView),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "this role may not", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case or action", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 409, description = "not in this state", body = Problem, content_type = PROBLEM),
        (status = 412, description = "stale If-Match", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
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
    Ok(with_etag(views::ticket(
        &ticket,
        &viewer,
        state.settings.timezone,
    )))
}

/// `GET /tickets/{id}/timers`: every timer of the ticket, in the order they started.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/timers", tag = "tickets",
    params(("id" = String, Path, format = Uuid, description = "ticket id")),
    responses(
        (status = 200, description = "every deadline of the case, in one page", body = Page<TimerView>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn timers(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let actor = who.0;
    let timers = db(&state, move |conn| service::timers(conn, &actor, id)).await?;
    let tz = state.settings.timezone;
    let items: Vec<TimerView> = timers.iter().map(|t| views::timer(t, tz)).collect();
    Ok(HttpResponse::Ok().json(Page::all(items)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets",
    params(("id" = String, Path, format = Uuid, description = "ticket id"), EventParams),
    responses(
        (status = 200, description = "the timeline, oldest first", body = Page<EventView>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not yours", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn events(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, Problem> {
    let id = ticket_id(&path)?;
    let limit = views::limit(params.limit.as_deref())?;
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
        events.iter().collect(),
        limit,
        |(_, seq, _)| seq.to_string(),
        |(id, seq, event)| views::event(id, *seq, event, tz),
    );
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<State>)]
    state: Option<String>,
    /// Lead or co-handling department code.
    department: Option<String>,
    #[param(value_type = Option<Category>)]
    category: Option<String>,
    /// Number, subject, enterprise name or credit code contains this, or the contact's phone is
    /// this number in any common form (a department does not find a 举报 by its reporter's
    /// phone); up to 100 characters.
    q: Option<String>,
    /// RFC 3339 or YYYY-MM-DD (the start of that day); years 1970 to 9999 in the configured zone.
    created_from: Option<String>,
    /// RFC 3339 or YYYY-MM-DD (that day included); years 1970 to 9999 in the configured zone.
    created_to: Option<String>,
    /// A running deadline has passed.
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// The nearest deadline is before this (RFC 3339 or a date).
    due_before: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

impl ListParams {
    /// The checked filter and page size, or every problem with the parameters at once.
    pub fn filter(self, tz: chrono_tz::Tz, now: NaiveDateTime) -> Result<(Filter, i64), Problem> {
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
        let limit = collect(e, views::limit(self.limit.as_deref()));
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
                    ..Filter::default()
                },
                limit,
            )),
            _ => Err(Problem::invalid(errors)),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    description = "Cases the caller may see, newest first. A department sees the cases it leads or co-handles.",
    params(ListParams),
    responses(
        (status = 200, body = Page<TicketView>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
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

pub fn parse_choice<T: std::str::FromStr<Err = String>>(
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

pub fn parse_q(value: Option<&str>) -> Result<Option<String>, FieldError> {
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

/// A department code as a filter.
pub fn parse_department(value: Option<&str>) -> Result<Option<DepartmentCode>, FieldError> {
    match value.map(str::trim) {
        Some("") | None => Ok(None),
        Some(d) => DepartmentCode::parse(d)
            .map(Some)
            .map_err(|e| FieldError::new("department", e.to_string())),
    }
}

fn ticket_id(text: &str) -> Result<TicketId, Problem> {
    text.parse().map_err(|_| Problem::not_found("ticket"))
}

fn with_etag(view: TicketView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", view.version())))
        .json(view)
}
