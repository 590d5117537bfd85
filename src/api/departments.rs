//! `GET /api/v1/departments`: the units cases are dispatched to, for everyone signed in.

use super::problem::Problem;
use super::views::{Cursor, Page};
use super::{AppState, auth::Identity, db};
use crate::store::departments;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    _: Identity,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, Problem> {
    let limit = Page::limit(params.limit.as_deref())?;
    let after = params.cursor.as_deref().map(Cursor::decode).transpose()?;
    let rows = db(&state, move |conn| {
        Ok(departments::list(conn, after.as_deref(), limit + 1)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, |d| d.code.clone(), |d| d)))
}
