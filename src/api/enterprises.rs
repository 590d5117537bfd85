//! `/api/v1/enterprises/…` (一企一档: an enterprise's file, finding enterprises, the ones with
//! the most cases in a period) and `POST /api/v1/tickets/similar` (the earlier cases a case being
//! logged probably repeats).

use super::auth::Identity;
use super::body;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use super::views::{self, Cursor, Page, TicketView, Time};
use crate::app::enterprises::{self as service, File};
use crate::app::reports::Period;
use crate::domain::similar::Why;
use crate::domain::ticket::{Actor, Category, Satisfaction, State, TicketId};
use crate::domain::{collect, time};
use crate::store::{self, enterprises::EnterpriseRow};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// An enterprise as the list and the file show it.
#[derive(Serialize, ToSchema)]
pub struct EnterpriseView {
    /// 统一社会信用代码.
    credit_code: String,
    /// The name its latest case gave.
    name: String,
    #[schema(value_type = String, format = DateTime)]
    first_seen_at: Time,
    #[schema(value_type = String, format = DateTime)]
    last_seen_at: Time,
    /// Cases that named it, of every state.
    ticket_count: i64,
}

fn enterprise(e: &EnterpriseRow, tz: Tz) -> EnterpriseView {
    EnterpriseView {
        credit_code: e.credit_code.clone(),
        name: e.name.clone(),
        first_seen_at: Time(e.first_seen_at, tz),
        last_seen_at: Time(e.last_seen_at, tz),
        ticket_count: e.ticket_count,
    }
}

/// A name the enterprise was logged under.
#[derive(Serialize, ToSchema)]
pub struct NameView {
    name: String,
    #[schema(value_type = String, format = DateTime)]
    first_at: Time,
    #[schema(value_type = String, format = DateTime)]
    last_at: Time,
    cases: i64,
}

/// 一企一档: the enterprise, its names, its cases counted and rated, and a page of them.
#[derive(Serialize, ToSchema)]
pub struct FileView<'a> {
    enterprise: EnterpriseView,
    /// Every name its cases were logged under, the latest first (曾用名).
    names: Vec<NameView>,
    /// Its cases the caller may see (a department: those it leads or co-handles).
    cases_total: i64,
    open: i64,
    /// Cases that repeat an earlier one (`duplicate_of`) or were merged into one.
    repeats: i64,
    #[schema(value_type = BTreeMap<String, i64>)]
    by_state: BTreeMap<State, i64>,
    #[schema(value_type = BTreeMap<String, i64>)]
    by_category: BTreeMap<Category, i64>,
    /// Feedback ratings of its cases, and 满意率 (null without ratings).
    #[schema(value_type = BTreeMap<String, i64>)]
    ratings: BTreeMap<Satisfaction, i64>,
    satisfaction_rate: Option<f64>,
    /// Its cases, newest first.
    cases: Page<TicketView<'a>>,
}

fn file<'a>(f: &'a File, viewer: &'a Actor, limit: i64, tz: Tz) -> FileView<'a> {
    FileView {
        enterprise: enterprise(&f.enterprise, tz),
        names: f
            .names
            .iter()
            .map(|n| NameView {
                name: n.name.clone(),
                first_at: Time(n.first_at, tz),
                last_at: Time(n.last_at, tz),
                cases: n.cases,
            })
            .collect(),
        cases_total: f.total(),
        open: f.open(),
        repeats: f.repeats(),
        by_state: f.by_state(),
        by_category: f.by_category(),
        ratings: f.ratings.clone(),
        satisfaction_rate: f.satisfaction_rate(),
        cases: Page::of(
            f.cases.iter().collect(),
            limit,
            |t| t.id.to_string(),
            |t| views::ticket(t, viewer, tz),
        ),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileParams {
    /// Cases per page, 1 to 200 (default 50).
    limit: Option<String>,
    /// From `cases.next_cursor`.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/enterprises/{credit_code}", tag = "enterprises",
    description = "一企一档: the enterprise with this credit code, the names it was logged under, its cases counted by state and category, their feedback ratings and repeats, and a page of its cases (newest first). A department sees only the cases it leads or co-handles, and the enterprise only if it has one.",
    params(("credit_code" = String, Path, description = "统一社会信用代码"), FileParams),
    responses(
        (status = 200, body = FileView),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no case names this enterprise (that the caller may see)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "not a valid credit code, or bad paging", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get(
    who: Identity,
    state: web::Data<AppState>,
    code: web::Path<String>,
    params: web::Query<FileParams>,
) -> Result<HttpResponse, Problem> {
    let mut errors = vec![];
    let e = &mut errors;
    let code = collect(e, service::credit_code("credit_code", &code));
    let limit = collect(e, views::limit(params.limit.as_deref()));
    let before = collect(
        e,
        params
            .cursor
            .as_deref()
            .map(|c| {
                Cursor::decode(c)?
                    .parse::<TicketId>()
                    .map_err(|_| Cursor::invalid())
            })
            .transpose(),
    );
    let (Some(code), Some(limit), Some(before)) = (code, limit, before) else {
        return Err(Problem::invalid(errors));
    };
    let tz = state.settings.timezone;
    let actor = who.0;
    let viewer = actor.clone();
    let f = db(&state, move |conn| {
        service::file(conn, &actor, &code, before, limit + 1)
    })
    .await?;
    Ok(HttpResponse::Ok().json(file(&f, &viewer, limit, tz)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Part of the name, or the start of the credit code; all when left out.
    q: Option<String>,
    /// 1 to 200 (default 50).
    limit: Option<String>,
}

/// A list of enterprises.
#[derive(Serialize, ToSchema)]
pub struct EnterpriseList {
    items: Vec<EnterpriseView>,
}

#[utoipa::path(get, path = "/api/v1/enterprises", tag = "enterprises",
    description = "Enterprises whose name contains `q` or whose credit code starts with it, the most recently seen first. Operators, supervisors and admins (a department finds enterprises through its cases).",
    params(SearchParams),
    responses(
        (status = 200, body = EnterpriseList),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "a department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn search(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, Problem> {
    let p = params.into_inner();
    let limit = views::limit(p.limit.as_deref()).map_err(|e| Problem::invalid(vec![e]))?;
    let q = p.q.unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(Problem::field("q", "at most 200 characters"));
    }
    let tz = state.settings.timezone;
    let rows = db(&state, move |conn| service::search(conn, &who.0, &q, limit)).await?;
    Ok(HttpResponse::Ok().json(EnterpriseList {
        items: rows.iter().map(|e| enterprise(e, tz)).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HotParams {
    /// The first day of the period, YYYY-MM-DD (local).
    #[param(format = Date)]
    from: Option<String>,
    /// The day after the period's last, YYYY-MM-DD.
    #[param(format = Date)]
    to: Option<String>,
    /// 1 to 200 (default 50).
    limit: Option<String>,
}

/// An enterprise with many cases in a period.
#[derive(Serialize, ToSchema)]
pub struct HotView {
    credit_code: String,
    name: String,
    /// Cases created in the period.
    cases: i64,
    /// Of them, not archived yet.
    open: i64,
}

/// 热点企业: the enterprises with the most cases created in a period.
#[derive(Serialize, ToSchema)]
pub struct HotList {
    #[schema(format = Date)]
    from: String,
    #[schema(format = Date)]
    to: String,
    items: Vec<HotView>,
}

#[utoipa::path(get, path = "/api/v1/enterprises/hot", tag = "enterprises",
    description = "热点企业: the enterprises with the most cases created in `[from, to)` (local days), most first. Operators, supervisors and admins.",
    params(HotParams),
    responses(
        (status = 200, body = HotList),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "a department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad dates or limit", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn hot(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<HotParams>,
) -> Result<HttpResponse, Problem> {
    let p = params.into_inner();
    let mut errors = vec![];
    let e = &mut errors;
    let period = collect(e, Period::parse(p.from.as_deref(), p.to.as_deref()));
    let limit = collect(e, views::limit(p.limit.as_deref()));
    let (Some(period), Some(limit)) = (period, limit) else {
        return Err(Problem::invalid(errors));
    };
    let tz = state.settings.timezone;
    let (from, to) = (
        time::start_of_day(period.from, tz),
        time::start_of_day(period.to, tz),
    );
    let rows = db(&state, move |conn| {
        service::hot(conn, &who.0, from, to, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(HotList {
        from: period.from.to_string(),
        to: period.to.to_string(),
        items: rows
            .into_iter()
            .map(|r| HotView {
                credit_code: r.credit_code,
                name: r.name,
                cases: r.cases,
                open: r.open,
            })
            .collect(),
    }))
}

/// An earlier case the draft probably repeats.
#[derive(Serialize, ToSchema)]
pub struct SimilarView<'a> {
    ticket: TicketView<'a>,
    /// 0 to 1: 55 % shared text, 25 % shared subject, 20 % the same enterprise.
    score: f64,
    reasons: &'a [Why],
}

/// The likely repeats of a draft, closest first.
#[derive(Serialize, ToSchema)]
pub struct SimilarList<'a> {
    items: Vec<SimilarView<'a>>,
}

/// A draft as the 受理 form holds it: any of these, other fields ignored.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SimilarDraft {
    subject: Option<String>,
    description: Option<String>,
    /// `{"credit_code": …}`, used once it is a valid code; `name` and others are ignored.
    #[schema(value_type = Option<Object>)]
    enterprise: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/api/v1/tickets/similar", tag = "tickets",
    description = "重复件识别 while a case is logged: the earlier cases the draft (a create body, in part) probably repeats, closest first, at most 10 — the open and recently closed (90 days) cases of the same enterprise, and cases whose subject and description share telling words — each with a score and the reasons. Operators, supervisors and admins.",
    request_body = SimilarDraft,
    responses(
        (status = 200, body = SimilarList),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "a department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "a field of the wrong type", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn similar(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let bytes = body::read(&req, payload, &state).await?;
    let input = body::parse(&req, &bytes, None)?;
    let draft = service::draft(&input)?;
    let tz = state.settings.timezone;
    let actor = who.0;
    let viewer = actor.clone();
    let st = state.clone();
    let found = db(&state, move |conn| {
        service::similar(conn, &st.settings, &actor, &draft, store::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(SimilarList {
        items: found
            .iter()
            .map(|s| SimilarView {
                ticket: views::ticket(&s.ticket, &viewer, tz),
                score: s.closeness.score,
                reasons: &s.closeness.reasons,
            })
            .collect(),
    }))
}
