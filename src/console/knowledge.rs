//! `/knowledge` (知识库): the policy knowledge base for every role — search and list, an
//! article's page with its metadata and version history, and the forms departments (their own)
//! and admins (any department's) write articles with; and 存为知识 on a case's page, a replied
//! consultation kept as a draft. The same use cases as the API (`app::knowledge`,
//! `app::case_knowledge`), so the same checks, rights and Chinese messages beside each field.

use super::cases::{choices, department_choices, field_errors, names_of};
use super::forms::{Form, asked};
use super::frame::Frame;
use super::render::{self, page, see_other};
use super::visitor::{Refusal, Signed};
use crate::api::knowledge::{ListParams, article_id, page as paged};
use crate::api::problem::Problem;
use crate::api::state::{AppState, db};
use crate::app::knowledge::{self as service, Article, ArticleSummary, Version};
use crate::app::{AppError, case_knowledge, departments};
use crate::domain::knowledge::{self, ArticleState, Visibility};
use crate::domain::lifecycle::DomainError;
use crate::domain::ticket::{Actor, Role, TicketId};
use crate::domain::words;
use crate::store::rows::DepartmentRow;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::context;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// How many versions an article's page lists.
const HISTORY: i64 = 100;

/// `2026-01-01 至 2027-12-31`, `2026-01-01 起`, or 长期有效.
fn validity(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (Some(f), Some(t)) => format!("{f} 至 {t}"),
        (Some(f), None) => format!("{f} 起"),
        (None, Some(t)) => format!("至 {t}"),
        (None, None) => "长期有效".into(),
    }
}

/// One article in a list (and among the policies beside the 受理 form).
#[derive(Serialize)]
pub struct Row {
    id: String,
    title: String,
    doc_number: Option<String>,
    department: String,
    valid: String,
    state: &'static str,
    state_label: &'static str,
    expired: bool,
}

pub fn row(a: ArticleSummary) -> Row {
    Row {
        valid: validity(a.valid_from, a.valid_to),
        state: a.state.as_str(),
        state_label: words::article_state(a.state),
        id: a.id,
        title: a.title,
        doc_number: a.doc_number,
        department: a.department_name,
        expired: a.expired,
    }
}

fn may_write(actor: &Actor) -> bool {
    knowledge::may_write(actor).is_ok()
}

fn writers_only(who: &Signed) -> Result<(), Refusal> {
    knowledge::may_write(&who.session().actor)
        .map_err(|_| Refusal::Forbidden("知识库文章由承办单位和系统管理员编写。".into()))
}

/// `GET /knowledge?q=&state=&department=`: the API's list and search as a form.
pub async fn list(
    who: Signed,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Refusal> {
    let (asked, params) = asked::<ListParams>(&req);
    let parsed = params
        .map_err(|_| Problem::field("query", "unknown filter"))
        .and_then(ListParams::query);
    let actor = who.session().actor.clone();
    let st = state.clone();
    let (found, list) = db(&state, move |conn| {
        let found = match parsed {
            Ok((query, limit)) => service::list(conn, &st.settings, &actor, query.clone())
                .map(|rows| paged(rows, &query, limit))
                .map_err(Problem::from),
            Err(p) => Err(p),
        };
        Ok((found, departments::list(conn, None, 500)?))
    })
    .await?;
    let frame = Frame::new(&who, "知识库", &names_of(&list));
    let (rows, next, errors) = match found {
        Ok(page) => {
            let next = page.next_cursor.map(|cursor| {
                let mut next = asked.clone();
                next.insert("cursor".into(), cursor);
                serde_urlencoded::to_string(&next).unwrap_or_default()
            });
            (
                page.items.into_iter().map(row).collect::<Vec<_>>(),
                next,
                BTreeMap::new(),
            )
        }
        Err(p) if p.status == 422 => (vec![], None, field_errors(&p)),
        Err(p) => return Err(p.into()),
    };
    let actor = &who.session().actor;
    Ok(page(
        StatusCode::OK,
        "knowledge.html",
        context! {
            frame, rows, next, errors, asked,
            may_write => may_write(actor),
            // Operators read only what is published: a choice of state says nothing to them.
            show_state => actor.role() != Some(Role::Operator),
            states => choices(ArticleState::ALL, ArticleState::as_str, words::article_state),
            departments => department_choices(&list),
        },
    ))
}

/// An entry of the version history: who, when, and what changed.
#[derive(Serialize)]
struct Entry {
    version: i64,
    at: String,
    by: String,
    changes: String,
}

fn entry(v: &Version, tz: chrono_tz::Tz) -> Entry {
    let changes = if v.version == 1 {
        "创建".to_string()
    } else if v.changed.is_empty() {
        "未改动".to_string()
    } else {
        let fields: Vec<&str> = v.changed.iter().map(|f| words::article_field(f)).collect();
        format!("修改了{}", fields.join("、"))
    };
    Entry {
        version: v.version,
        at: words::moment(v.written, tz),
        by: v.by.clone(),
        changes,
    }
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
    stale: Option<String>,
}

/// `GET /knowledge/{id}`: the article rendered, its metadata and its versions.
pub async fn show(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, Refusal> {
    let id = article_id(&path).map_err(|_| Refusal::NotFound)?;
    let actor = who.session().actor.clone();
    let st = state.clone();
    let (article, versions, names) = db(&state, move |conn| {
        let (article, versions) = service::page(conn, &st.settings, &actor, id, HISTORY)?;
        Ok((article, versions, departments::names(conn, &st.settings)?))
    })
    .await?;
    let tz = state.settings.timezone;
    let mut frame = Frame::new(&who, &article.title, &names);
    frame.notice = if query.stale.is_some() {
        Some("这篇文章刚刚被他人修改，您看到的已是最新内容；请确认后再编辑。".into())
    } else {
        query.done.as_deref().map(|d| match d {
            "create" => "文章已保存。".to_string(),
            _ => "修改已保存。".to_string(),
        })
    };
    let history: Vec<Entry> = versions.iter().map(|v| entry(v, tz)).collect();
    Ok(page(
        StatusCode::OK,
        "knowledge_article.html",
        context! {
            frame, history,
            may_edit => knowledge::may_edit(&who.session().actor, &article.department).is_ok(),
            state_label => words::article_state(article.state),
            visibility_label => words::visibility(article.visibility),
            valid => validity(article.valid_from, article.valid_to),
            updated => words::moment(article.updated, tz),
            a => article,
        },
    ))
}

/// What the article form is drawn with.
struct Draw<'a> {
    who: &'a Signed,
    departments: &'a [DepartmentRow],
    /// Where the form posts, and the article's version for an edit.
    action: String,
    version: Option<i64>,
    cancel: String,
}

impl<'a> Draw<'a> {
    /// The form of a new article.
    fn new_article(who: &'a Signed, departments: &'a [DepartmentRow]) -> Self {
        Draw {
            who,
            departments,
            action: "/knowledge/new".into(),
            version: None,
            cancel: "/knowledge".into(),
        }
    }

    /// The form of article `id`, seen at `version`.
    fn editing(
        who: &'a Signed,
        departments: &'a [DepartmentRow],
        id: &str,
        version: Option<i64>,
    ) -> Self {
        Draw {
            who,
            departments,
            action: format!("/knowledge/{id}/edit"),
            version,
            cancel: format!("/knowledge/{id}"),
        }
    }

    fn form(
        &self,
        status: StatusCode,
        values: &Value,
        errors: BTreeMap<String, String>,
    ) -> HttpResponse {
        let names = names_of(self.departments);
        let editing = self.version.is_some();
        let heading = if editing {
            "编辑文章"
        } else {
            "新建文章"
        };
        let mut frame = Frame::new(self.who, heading, &names);
        if !errors.is_empty() {
            frame.notice = Some("文章没有保存：请按提示修改。".into());
        }
        frame.here = self.action.clone();
        let actor = &self.who.session().actor;
        page(
            status,
            "knowledge_form.html",
            context! {
                frame, values, errors, heading,
                action => self.action, version => self.version, cancel => self.cancel,
                is_admin => actor.role() == Some(Role::Admin),
                own_department => actor.department().map(|d| names.get(d.as_str()).cloned().unwrap_or_else(|| d.to_string())),
                departments => department_choices(self.departments),
                states => choices(ArticleState::ALL, ArticleState::as_str, words::article_state),
                visibilities => choices(Visibility::ALL, Visibility::as_str, words::visibility),
            },
        )
    }
}

/// The form's fields as the article holds them.
fn values_of(a: &Article) -> Value {
    json!({
        "title": a.title, "body": a.body, "keywords": a.keywords.join("，"),
        "department": a.department, "doc_number": a.doc_number,
        "valid_from": a.valid_from, "valid_to": a.valid_to,
        "state": a.state, "visibility": a.visibility,
    })
}

/// `GET /knowledge/new`.
pub async fn new(who: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Refusal> {
    writers_only(&who)?;
    let list = db(&state, |conn| departments::list(conn, None, 500)).await?;
    let draw = Draw::new_article(&who, &list);
    let values = json!({"state": "draft", "visibility": "internal"});
    Ok(draw.form(StatusCode::OK, &values, BTreeMap::new()))
}

/// `POST /knowledge/new`: writes the article through `app::knowledge::create`, as the API does.
pub async fn create(
    who: Signed,
    state: web::Data<AppState>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    writers_only(&who)?;
    let actor = who.session().actor.clone();
    let st = state.clone();
    let input = form.article();
    let (done, list) = db(&state, move |conn| {
        let done = service::create(conn, &st.settings, &actor, &input, crate::store::now());
        Ok((done, departments::list(conn, None, 500)?))
    })
    .await?;
    match done.map_err(Problem::from) {
        Ok(article) => Ok(see_other(&format!("/knowledge/{}?done=create", article.id))),
        Err(p) if p.status == 422 => Ok(Draw::new_article(&who, &list).form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.flat(),
            field_errors(&p),
        )),
        Err(p) => Err(p.into()),
    }
}

/// `GET /knowledge/{id}/edit`: the form filled in with the article as it is now.
pub async fn edit(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Refusal> {
    let id = article_id(&path).map_err(|_| Refusal::NotFound)?;
    let actor = who.session().actor.clone();
    let st = state.clone();
    let (article, list) = db(&state, move |conn| {
        let article = service::get(conn, &st.settings, &actor, id)?;
        Ok((article, departments::list(conn, None, 500)?))
    })
    .await?;
    knowledge::may_edit(&who.session().actor, &article.department)
        .map_err(|_| Refusal::Forbidden("这篇文章由其他部门维护，您不能编辑。".into()))?;
    let draw = Draw::editing(&who, &list, &article.id, Some(article.version));
    Ok(draw.form(StatusCode::OK, &values_of(&article), BTreeMap::new()))
}

/// `POST /knowledge/{id}/edit`: the form's `version` is the page's, sent as `If-Match`: an
/// article changed since is shown again fresh, never overwritten.
pub async fn update(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    let id = article_id(&path).map_err(|_| Refusal::NotFound)?;
    let if_match = form
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok());
    let actor = who.session().actor.clone();
    let st = state.clone();
    let input = form.article();
    let (done, list) = db(&state, move |conn| {
        let done = service::update(
            conn,
            &st.settings,
            &actor,
            id,
            &input,
            if_match,
            crate::store::now(),
        );
        Ok((done, departments::list(conn, None, 500)?))
    })
    .await?;
    match done {
        Ok(_) => Ok(see_other(&format!("/knowledge/{id}?done=edit"))),
        Err(AppError::Domain(DomainError::Stale { .. })) => {
            Ok(see_other(&format!("/knowledge/{id}?stale=1")))
        }
        Err(AppError::Domain(DomainError::Forbidden(_))) => Err(Refusal::Forbidden(
            "这篇文章由其他部门维护，您不能编辑，也不能把文章转到其他部门。".into(),
        )),
        Err(e) => match Problem::from(e) {
            p if p.status == 422 => {
                let draw = Draw::editing(&who, &list, &id.to_string(), if_match);
                Ok(draw.form(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form.flat(),
                    field_errors(&p),
                ))
            }
            p => Err(p.into()),
        },
    }
}

/// `POST /tickets/{id}/knowledge` (存为知识): the case's question and answer as a draft article,
/// through `app::case_knowledge` as the API writes it; then the draft's edit form, to check it
/// and add its 文号, dates and keywords before publishing.
pub async fn keep_answer(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    let id: TicketId = path.parse().map_err(|_| Refusal::NotFound)?;
    let actor = who.session().actor.clone();
    let st = state.clone();
    let done = db(&state, move |conn| {
        Ok(case_knowledge::keep(
            conn,
            &st.settings,
            &actor,
            id,
            &json!({}),
            crate::store::now(),
        ))
    })
    .await?;
    match done.map_err(Problem::from) {
        Ok(article) => Ok(see_other(&format!("/knowledge/{}/edit", article.id))),
        Err(p) if p.status == 403 => Err(Refusal::Forbidden(
            "只有答复本件的承办单位或系统管理员可以把答复存为知识。".into(),
        )),
        Err(p) if p.status == 409 => {
            let assets = render::assets();
            Ok(page(
                StatusCode::CONFLICT,
                "error.html",
                context! {
                    title => "不能存为知识",
                    message => "只有已答复的咨询类工单可以存为知识：本件不是咨询，或者还没有答复。",
                    css => assets.css.path, js => assets.js.path,
                },
            ))
        }
        Err(p) => Err(p.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_reads_as_a_period() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert_eq!(
            validity(d("2026-01-01"), d("2027-12-31")),
            "2026-01-01 至 2027-12-31"
        );
        assert_eq!(validity(d("2026-01-01"), None), "2026-01-01 起");
        assert_eq!(validity(None, None), "长期有效");
    }
}
