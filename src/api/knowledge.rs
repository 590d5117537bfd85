//! `/api/v1/knowledge`: the policy knowledge base (惠企政策知识库) — list and search, create, read,
//! edit (publish and archive are edits of `state`) and the version history; and
//! `/api/v1/tickets/{id}/knowledge`, a replied consultation kept as a draft article (存为知识).
//! Each handler carries its part of the OpenAPI document.

use super::auth::Identity;
use super::body;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use super::tickets::{parse_choice, parse_department, parse_q};
use super::views::{self, Cursor, Page};
use crate::app::case_knowledge;
use crate::app::knowledge::{self as service, Article, ArticleSummary, Query, Version};
use crate::domain::collect;
use crate::domain::knowledge::{self, ArticleInput, ArticleState};
use crate::domain::lifecycle::payload::Empty;
use crate::domain::ticket::TicketId;
use crate::store::{self, knowledge::Start};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

/// The deepest a search's pages go: past this, a narrower search serves better.
const DEEPEST: i64 = 10_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to search for in the title, keywords, 文号 and body: Chinese of one or more
    /// characters (税, 退税, 增值税留抵退税), words of letters and digits (ETC); every term must
    /// match. Best matches first. Up to 100 characters.
    q: Option<String>,
    #[param(value_type = Option<ArticleState>)]
    state: Option<String>,
    /// The issuing department's code.
    department: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

impl ListParams {
    /// The checked query and page size, or every problem with the parameters at once.
    pub fn query(self) -> Result<(Query, i64), Problem> {
        let mut errors = vec![];
        let e = &mut errors;
        let q = collect(e, parse_q(self.q.as_deref())).flatten();
        let state = collect(
            e,
            parse_choice::<ArticleState>("state", self.state.as_deref()),
        )
        .flatten();
        let department = collect(e, parse_department(self.department.as_deref())).flatten();
        let limit = collect(e, views::limit(self.limit.as_deref()));
        // A list pages by id (newest first), a search by place among its ranked results.
        let start = collect(
            e,
            match self.cursor.as_deref() {
                None => Ok(Start::First),
                Some(c) => {
                    let key = Cursor::decode(c)?;
                    if q.is_some() {
                        key.parse::<i64>()
                            .ok()
                            .filter(|n| (1..=DEEPEST).contains(n))
                            .map(Start::Skip)
                    } else {
                        key.parse::<Uuid>()
                            .ok()
                            .map(|id| Start::Below(id.to_string()))
                    }
                    .ok_or_else(Cursor::invalid)
                }
            },
        );
        match (limit, start) {
            (Some(limit), Some(start)) if errors.is_empty() => Ok((
                Query {
                    q,
                    state,
                    department,
                    start,
                    limit: limit + 1,
                },
                limit,
            )),
            _ => Err(Problem::invalid(errors)),
        }
    }
}

/// A page of a list or a search: `rows` holds up to `limit + 1`; a search's cursor is the place
/// of its next result, a list's the id of its last.
pub fn page(rows: Vec<ArticleSummary>, query: &Query, limit: i64) -> Page<ArticleSummary> {
    match (&query.q, &query.start) {
        (Some(_), start) => {
            let skipped = match start {
                Start::Skip(n) => *n,
                _ => 0,
            };
            let more = rows.len() as i64 > limit;
            let mut items = rows;
            items.truncate(limit as usize);
            Page {
                next_cursor: (more && skipped + limit <= DEEPEST)
                    .then(|| Cursor::encode(&(skipped + limit).to_string())),
                items,
            }
        }
        (None, _) => Page::of(rows, limit, |a| a.id.clone(), |a| a),
    }
}

#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge",
    description = "The articles the caller may read (operators: published; a department: its own and everyone's published; supervisors and admins: all), newest first, or with `q` a search, best match first.",
    params(ListParams),
    responses(
        (status = 200, body = Page<ArticleSummary>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters, or an unknown department", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list(
    who: Identity,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Problem> {
    let (query, limit) = params.into_inner().query()?;
    let asked = query.clone();
    let st = state.clone();
    let rows = db(&state, move |conn| {
        service::list(conn, &st.settings, &who.0, asked)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page(rows, &query, limit)))
}

#[utoipa::path(post, path = "/api/v1/knowledge", tag = "knowledge",
    description = "A new article (departments, under their own department; admins, under any). It starts as a `draft` unless `state` says otherwise.",
    request_body = ArticleInput,
    responses(
        (status = 201, description = "written; `Location` and `ETag` set", body = Article),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not a department or admin, or another department's", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn create(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let bytes = body::read(&req, payload, &state).await?;
    // Who may write comes before what is wrong with the request.
    knowledge::may_write(&who.0)?;
    let input = body::parse(&req, &bytes, None)?;
    let st = state.clone();
    let article = db(&state, move |conn| {
        service::create(conn, &st.settings, &who.0, &input, store::now())
    })
    .await?;
    Ok(created(article))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/knowledge", tag = "knowledge",
    description = "存为知识: the replied consultation as a new `draft` article — its subject as the title; its question (the description) and the answer (its last `reply`) in the body, with the case's number; filed under the department that answered, without keywords, 文号 or dates. The department that answered the case (one of its people) or an admin; the body is empty or `{}`. Checked in this order: 401, 404, 403, 409, 422.",
    params(("id" = String, Path, format = Uuid, description = "ticket id")),
    request_body(content = Option<Empty>, description = "nothing, or `{}`"),
    responses(
        (status = 201, description = "the draft; `Location` (the article) and `ETag` set", body = Article),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not the department that answered the case, nor an admin", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such case, or not one the caller sees", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 409, description = "not a consultation, or not answered yet", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "a body that asks for something", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn keep_answer(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let id: TicketId = path.parse().map_err(|_| Problem::not_found("ticket"))?;
    let bytes = body::read(&req, payload, &state).await?;
    let actor = who.0;
    let input = match body::parse(&req, &bytes, Some(json!({}))) {
        Ok(input) => input,
        Err(unreadable) => {
            // Who may do what comes before what is wrong with the body.
            db(&state, move |conn| {
                case_knowledge::authorize(conn, &actor, id)
            })
            .await?;
            return Err(unreadable);
        }
    };
    let st = state.clone();
    let article = db(&state, move |conn| {
        case_knowledge::keep(conn, &st.settings, &actor, id, &input, store::now())
    })
    .await?;
    Ok(created(article))
}

#[utoipa::path(get, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = String, Path, format = Uuid, description = "article id")),
    responses(
        (status = 200, description = "the article; `ETag` is its version", body = Article),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such article, or not one the caller may read", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn get(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = article_id(&path)?;
    let st = state.clone();
    let article = db(&state, move |conn| {
        service::get(conn, &st.settings, &who.0, id)
    })
    .await?;
    Ok(with_etag(article))
}

#[utoipa::path(patch, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    description = "Changes the fields sent, as a new version (`state: published` publishes, `archived` withdraws; `null` clears `doc_number`, `valid_from`, `valid_to`). A department edits its own articles, an admin any. Checked in this order: 401, 404, 403, 412, 422.",
    params(
        ("id" = String, Path, format = Uuid, description = "article id"),
        ("If-Match" = Option<String>, Header, description = "the version seen, as given in `ETag`"),
    ),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "the article as it is now", body = Article),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 403, description = "not this caller's to edit", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such article, or not one the caller may read", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 412, description = "stale If-Match", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "invalid fields", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn update(
    who: Identity,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let id = article_id(&path)?;
    let if_match = body::if_match(&req);
    let bytes = body::read(&req, payload, &state).await?;
    let actor = who.0;
    let input = match body::parse(&req, &bytes, None) {
        Ok(input) => input,
        Err(unreadable) => {
            // Who may do what comes before what is wrong with the body.
            db(&state, move |conn| {
                service::authorize_update(conn, &actor, id, if_match)
            })
            .await?;
            return Err(unreadable);
        }
    };
    let st = state.clone();
    let article = db(&state, move |conn| {
        service::update(
            conn,
            &st.settings,
            &actor,
            id,
            &input,
            if_match,
            store::now(),
        )
    })
    .await?;
    Ok(with_etag(article))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/knowledge/{id}/versions", tag = "knowledge",
    description = "Every version of the article, newest first: what it said, who wrote it when, and which fields it changed.",
    params(("id" = String, Path, format = Uuid, description = "article id"), VersionParams),
    responses(
        (status = 200, description = "the versions, newest first", body = Page<Version>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 404, description = "no such article, or not one the caller may read", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn versions(
    who: Identity,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<VersionParams>,
) -> Result<HttpResponse, Problem> {
    let id = article_id(&path)?;
    let mut errors = vec![];
    let limit = collect(&mut errors, views::limit(params.limit.as_deref()));
    let before = collect(
        &mut errors,
        params
            .cursor
            .as_deref()
            .map(|c| {
                Cursor::decode(c)?
                    .parse::<i64>()
                    .map_err(|_| Cursor::invalid())
            })
            .transpose(),
    );
    let (Some(limit), Some(before)) = (limit, before) else {
        return Err(Problem::invalid(errors));
    };
    let st = state.clone();
    let rows = db(&state, move |conn| {
        service::versions(conn, &st.settings, &who.0, id, before, limit + 1)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |v| v.version.to_string(), |v| v)))
}

/// An article's id: anything that is not a UUID names no article.
pub fn article_id(text: &str) -> Result<Uuid, Problem> {
    text.parse()
        .map_err(|_| Problem::not_found("knowledge article"))
}

/// 201 with the new article, its address and its version.
fn created(article: Article) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/knowledge/{}", article.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", article.version)))
        .json(article)
}

fn with_etag(article: Article) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", article.version)))
        .json(article)
}
