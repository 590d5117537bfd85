//! `GET /api/v1/departments`: the units cases are dispatched to, for everyone signed in.

use super::auth::Identity;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use super::views::{self, Cursor, Page};
use crate::app::departments;
use crate::store::rows::DepartmentRow;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor`.
    cursor: Option<String>,
}

/// A department (承办单位).
#[derive(Serialize, ToSchema)]
#[schema(as = Department)]
pub struct DepartmentView {
    code: String,
    name: String,
    /// The department's mailbox.
    email: String,
    head_email: Option<String>,
}

impl From<DepartmentRow> for DepartmentView {
    fn from(d: DepartmentRow) -> Self {
        DepartmentView {
            code: d.code,
            name: d.name,
            email: d.email,
            head_email: d.head_email,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "departments",
    params(Params),
    responses(
        (status = 200, body = Page<DepartmentView>),
        (status = 401, description = "no or bad token", body = Problem, content_type = PROBLEM),
        (status = 422, description = "bad parameters", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn list(
    _: Identity,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, Problem> {
    let limit = views::limit(params.limit.as_deref())?;
    let after = params.cursor.as_deref().map(Cursor::decode).transpose()?;
    let rows = db(&state, move |conn| {
        departments::list(conn, after.as_deref(), limit + 1)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(
        rows,
        limit,
        |d| d.code.clone(),
        DepartmentView::from,
    )))
}
