//! `/api/v1/calendar`: the working-day calendar by year (everyone reads, admins load a year), and
//! when a period from a given moment ends, so an operator can tell an enterprise what to expect.

use super::auth::Identity;
use super::problem::Problem;
use super::views::timestamp;
use super::{AppState, body, db};
use crate::domain::calendar::Year;
use crate::domain::duration::Duration;
use crate::domain::lifecycle::DomainError;
use crate::domain::ticket::Role;
use crate::domain::{FieldError, collect, time};
use crate::service::calendar as service;
use crate::store;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn year_view(year: i32, days: Option<&Year>, known_until: Option<NaiveDate>) -> Value {
    let list = |set: Option<&BTreeSet<NaiveDate>>| -> Vec<String> {
        set.map(|s| s.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default()
    };
    json!({
        "year": year,
        "known": days.is_some(),
        "off": list(days.map(|d| &d.off)),
        "work": list(days.map(|d| &d.work)),
        "known_until": known_until.map(|d| d.to_string()),
        "rule": "a working day is Monday to Friday and not in `off`, or a day in `work`; an unknown year is counted Monday to Friday",
    })
}

fn parse_year(text: &str) -> Result<i32, Problem> {
    text.parse::<i32>()
        .ok()
        .filter(|y| (1970..=9999).contains(y))
        .ok_or_else(|| Problem::not_found("calendar year"))
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearInput {
    off: Vec<String>,
    work: Vec<String>,
}

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
    view["recounted_timers"] = json!(recounted);
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineParams {
    from: Option<String>,
    duration: Option<String>,
}

/// `GET /calendar/deadline?from=RFC3339&duration=3wd` → `{"due_at": …}`.
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
    Ok(HttpResponse::Ok().json(json!({
        "from": timestamp(from, tz),
        "duration": duration,
        "due_at": timestamp(due.at, tz),
        "beyond_calendar": due.beyond_calendar,
    })))
}
