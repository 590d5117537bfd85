//! `/api/v1/reports/…`: the KPI table of a period, the departments' ranking and the cases overdue
//! at a moment — as JSON, or with `format=csv` / `format=xlsx` (or `Accept: text/csv` or the
//! XLSX type) as files an office forwards. Scoped to who asks (`app::reports::Scope`).

use super::auth::Identity;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use crate::app::reports::{self, Period, export};
use crate::domain::figures::GroupBy;
use crate::domain::{FieldError, collect};
use crate::store;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use export::{CSV, XLSX};

/// How a report is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    /// From `format=`, else from an `Accept` that asks for CSV or XLSX only; JSON by default.
    fn of(req: &HttpRequest, asked: Option<&str>) -> Result<Format, FieldError> {
        match asked.map(str::trim) {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(_) => Err(FieldError::new("format", "must be one of: json, csv, xlsx")),
            None => {
                let accept = req
                    .headers()
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                Ok(match accept.split(';').next().unwrap_or("").trim() {
                    "text/csv" => Format::Csv,
                    XLSX => Format::Xlsx,
                    _ => Format::Json,
                })
            }
        }
    }
}

/// A table as the file `format` asks for, named `name` (without its extension).
pub fn file(table: &export::Table, format: Format, name: &str) -> Result<HttpResponse, Problem> {
    let (body, content_type, ext) = match format {
        Format::Csv => (export::csv(table).into_bytes(), CSV, "csv"),
        Format::Xlsx => (
            export::xlsx(std::slice::from_ref(table)).map_err(|e| {
                tracing::error!(error = %e, "a workbook could not be written");
                Problem::internal()
            })?,
            XLSX,
            "xlsx",
        ),
        Format::Json => unreachable!("JSON is answered as JSON"),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(body))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KpiParams {
    /// The first day of the period, YYYY-MM-DD (local).
    #[param(format = Date)]
    from: Option<String>,
    /// The day after the period's last, YYYY-MM-DD: the period is `[from, to)`.
    #[param(format = Date)]
    to: Option<String>,
    /// department (default), category or channel.
    group_by: Option<String>,
    /// json (default), csv or xlsx.
    format: Option<String>,
}

fn period(from: Option<&str>, to: Option<&str>, e: &mut Vec<FieldError>) -> Option<Period> {
    match Period::parse(from, to) {
        Ok(p) => Some(p),
        Err(err) => {
            e.push(err);
            None
        }
    }
}

#[utoipa::path(get, path = "/api/v1/reports/kpis", tag = "reports",
    description = "The KPI table of a period (`[from, to)`, local days) by department, category or channel: each figure as `{value, numerator, denominator}` (a rate with no cases is `null`), and the total. Supervisors and admins see every department; a department its own; an operator the hotline's. How each figure is counted: docs/kpis.md.",
    params(KpiParams),
    responses(
        (status = 200, description = "the figures", content(
            (reports::Report = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad dates, group_by or format", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn kpis(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<KpiParams>,
) -> Result<HttpResponse, Problem> {
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let period = period(p.from.as_deref(), p.to.as_deref(), e);
    let by = match p.group_by.as_deref().map(str::trim) {
        None | Some("") => Some(GroupBy::Department),
        Some(g) => collect(
            e,
            g.parse::<GroupBy>()
                .map_err(|m| FieldError::new("group_by", m)),
        ),
    };
    let format = collect(e, Format::of(&req, p.format.as_deref()));
    let (Some(period), Some(by), Some(format)) = (period, by, format) else {
        return Err(Problem::invalid(errors));
    };
    let st = state.clone();
    let report = db(&state, move |conn| {
        reports::kpis(conn, &st.settings, &who.0, period, by, store::now())
    })
    .await?;
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        _ => file(
            &export::kpi_table(&report),
            format,
            &format!("kpis-{by}-{}-{}", period.from, period.to),
        ),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingParams {
    /// The first day of the period, YYYY-MM-DD (local).
    #[param(format = Date)]
    from: Option<String>,
    /// The day after the period's last, YYYY-MM-DD.
    #[param(format = Date)]
    to: Option<String>,
    /// json (default), csv or xlsx.
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/ranking", tag = "reports",
    description = "The departments ranked by their score over a period (weights and lines from `[kpi.weights]`), the 红榜 and 黑榜, and the departments with no cases to score listed apart. A department sees only its own place; operators may not.",
    params(RankingParams),
    responses(
        (status = 200, description = "the ranking", content(
            (reports::Ranking = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "an operator", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad dates or format", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn ranking(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<RankingParams>,
) -> Result<HttpResponse, Problem> {
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let period = period(p.from.as_deref(), p.to.as_deref(), e);
    let format = collect(e, Format::of(&req, p.format.as_deref()));
    let (Some(period), Some(format)) = (period, format) else {
        return Err(Problem::invalid(errors));
    };
    let st = state.clone();
    let ranking = db(&state, move |conn| {
        reports::ranking(conn, &st.settings, &who.0, period, store::now())
    })
    .await?;
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(ranking)),
        _ => file(
            &export::ranking_table(&ranking),
            format,
            &format!("ranking-{}-{}", period.from, period.to),
        ),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverdueParams {
    /// An RFC 3339 time, or a date meaning its end (local midnight after it); default now.
    at: Option<String>,
    /// json (default), csv or xlsx.
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/overdue", tag = "reports",
    description = "The cases with a deadline running and past at a moment (the list behind `overdue_open`), longest overdue first, one line per overdue stage; at most 10,000 lines (`truncated`). Scoped as the KPIs are.",
    params(OverdueParams),
    responses(
        (status = 200, description = "the overdue cases", content(
            (reports::OverdueReport = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "a bad time or format", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn overdue(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<OverdueParams>,
) -> Result<HttpResponse, Problem> {
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let now = store::now();
    let at = match p.at.as_deref().map(str::trim) {
        None | Some("") => Some(now),
        Some(text) => collect(e, reports::parse_moment(text, &state.settings)),
    };
    let format = collect(e, Format::of(&req, p.format.as_deref()));
    let (Some(at), Some(format)) = (at, format) else {
        return Err(Problem::invalid(errors));
    };
    let st = state.clone();
    let report = db(&state, move |conn| {
        reports::overdue(conn, &st.settings, &who.0, at, now)
    })
    .await?;
    match format {
        Format::Json => Ok(HttpResponse::Ok().json(report)),
        _ => file(
            &export::overdue_table(&report),
            format,
            &format!("overdue-{}", at.format("%Y%m%dT%H%M%SZ")),
        ),
    }
}
