//! `/api/v1/calendar`: the working-day calendar by year (everyone reads, admins load a year), and
//! when a period from a given moment ends, so an operator can tell an enterprise what to expect.

use super::auth::Identity;
use super::body;
use super::problem::PROBLEM;
use super::problem::Problem;
use super::state::{AppState, db};
use super::views::{Time, timestamp};
use crate::app::calendar as service;
use crate::domain::calendar::Year;
use crate::domain::duration::Duration;
use crate::domain::lifecycle::DomainError;
use crate::domain::ticket::Role;
use crate::domain::{FieldError, collect, time};
use crate::store;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};

/// A year of the working-day calendar.
#[derive(Serialize, ToSchema)]
#[schema(as = CalendarYear)]
pub struct YearView {
    year: i32,
    /// Whether the year is loaded; an unknown year is counted Monday to Friday.
    known: bool,
    /// Official days off (YYYY-MM-DD).
    off: Vec<String>,
    /// Make-up working days on weekends.
    work: Vec<String>,
    known_until: Option<String>,
    rule: &'static str,
    /// After PUT: how many running deadlines were counted again.
    #[serde(skip_serializing_if = "Option::is_none")]
    recounted_timers: Option<usize>,
}

fn year_view(year: i32, days: Option<&Year>, known_until: Option<NaiveDate>) -> YearView {
    let list = |set: Option<&BTreeSet<NaiveDate>>| -> Vec<String> {
        set.map(|s| s.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default()
    };
    YearView {
        year,
        known: days.is_some(),
        off: list(days.map(|d| &d.off)),
        work: list(days.map(|d| &d.work)),
        known_until: known_until.map(|d| d.to_string()),
        rule: "a working day is Monday to Friday and not in `off`, or a day in `work`; an unknown year is counted Monday to Friday",
        recounted_timers: None,
    }
}

fn parse_year(text: &str) -> Result<i32, Problem> {
    text.parse::<i32>()
        .ok()
        .filter(|y| (1970..=9999).contains(y))
        .ok_or_else(|| Problem::not_found("calendar year"))
}

#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "1970 to 9999")),
    responses(
        (status = 200, body = YearView),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "not a year", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get(
    _: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let year = parse_year(&path)?;
    let calendar = state.settings.calendars.current();
    Ok(HttpResponse::Ok().json(year_view(
        year,
        calendar.years().get(&year),
        calendar.known_until(),
    )))
}

/// A year's official days off and make-up working days, as the State Council publishes them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CalendarInput, example = json!({"off": ["2027-01-01", "2027-02-06"], "work": ["2027-02-14"]}))]
pub struct YearInput {
    /// Days off (YYYY-MM-DD), in the year.
    off: Vec<String>,
    /// Make-up working days (YYYY-MM-DD), in the year.
    work: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "calendar",
    description = "Loads a year's official days off and make-up working days (admins); running deadlines that reach into it are counted again.",
    params(("year" = i32, Path, description = "1970 to 9999")),
    request_body = YearInput,
    responses(
        (status = 200, body = YearView),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "not a year", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad dates", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn put(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let year = parse_year(&path)?;
    let bytes = body::read(&req, payload, &state).await?;
    if who.0.role() != Some(Role::Admin) {
        return Err(DomainError::Forbidden("only admins load the calendar".into()).into());
    }
    let input: YearInput = crate::domain::from_json(&body::parse(&req, &bytes, None)?)?;
    let mut errors = vec![];
    let mut dates = |field: &str, list: &[String]| -> BTreeSet<NaiveDate> {
        let mut out = BTreeSet::new();
        for (i, text) in list.iter().enumerate() {
            match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(d) if d.year() == year => {
                    out.insert(d);
                }
                Ok(_) => errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    format!("{text} is not in {year}"),
                )),
                Err(_) => errors.push(FieldError::new(
                    format!("{field}[{i}]"),
                    "must be a date like 2027-01-01",
                )),
            }
        }
        out
    };
    let days = Year {
        off: dates("off", &input.off),
        work: dates("work", &input.work),
    };
    for both in days.off.intersection(&days.work) {
        errors.push(FieldError::new(
            "work",
            format!("{both} is listed as off and as a working day"),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let st = state.clone();
    let stored = days.clone();
    let recounted = db(&state, move |conn| {
        service::put_year(conn, &st.settings, year, stored)
    })
    .await?;
    let calendar = state.settings.calendars.current();
    let mut view = year_view(year, Some(&days), calendar.known_until());
    view.recounted_timers = Some(recounted);
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// RFC 3339 (write + as %2B), years 1970 to 9999; default now.
    from: Option<String>,
    /// 3wd, 4wh, 7d, 2h, 30m or 45s, at most ten years; the period must end by 9999-12-31.
    #[param(required = true)]
    duration: Option<String>,
}

/// When a period ends.
#[derive(Serialize, ToSchema)]
#[schema(as = Deadline)]
pub struct DeadlineView {
    #[schema(value_type = String, format = DateTime)]
    from: Time,
    #[schema(value_type = String)]
    duration: Duration,
    #[schema(value_type = String, format = DateTime)]
    due_at: Time,
    /// Some day counted lies in a year the calendar does not know (counted Monday to Friday).
    beyond_calendar: bool,
}

/// `GET /calendar/deadline?from=RFC3339&duration=3wd` → `{"due_at": …}`.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar",
    description = "When a period from a moment ends, on the working-day calendar.",
    params(DeadlineParams),
    responses(
        (status = 200, body = DeadlineView),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
    ))]
pub async fn deadline(
    _: Identity,
    state: web::Data<AppState>,
    params: web::Query<DeadlineParams>,
) -> Result<HttpResponse, Problem> {
    let mut errors = vec![];
    let tz = state.settings.timezone;
    let from = match params.from.as_deref().map(str::trim) {
        None | Some("") => Some(store::now()),
        Some(text) => collect(&mut errors, time::parse("from", text, tz)),
    };
    let duration = match params.duration.as_deref() {
        None => {
            errors.push(FieldError::new("duration", "is required, e.g. 3wd"));
            None
        }
        Some(text) => text
            .parse::<Duration>()
            .map_err(|e| errors.push(FieldError::new("duration", e.to_string())))
            .ok(),
    };
    let (Some(from), Some(duration)) = (from, duration) else {
        return Err(Problem::invalid(errors));
    };
    let due = service::deadline(&state.settings, from, duration);
    if !time::writable(due.at, tz) {
        return Err(Problem::field(
            "duration",
            format!(
                "from {} the period ends past the year {}",
                timestamp(from, tz),
                time::YEARS.end()
            ),
        ));
    }
    Ok(HttpResponse::Ok().json(DeadlineView {
        from: Time(from, tz),
        duration,
        due_at: Time(due.at, tz),
        beyond_calendar: due.beyond_calendar,
    }))
}
