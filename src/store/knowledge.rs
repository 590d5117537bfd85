//! The knowledge base (惠企政策知识库): articles and their versions. An article is written with its
//! version in the caller's transaction, and with its search terms (`domain::terms`), which each
//! backend's text index reads (`backend::knowledge_search`).

use super::backend::{self, Bind};
use super::conn::DbConn;
use super::error::StoreError;
use super::rows::{ArticleRow, ArticleSummaryRow, ArticleVersionRow};
use super::schema::{knowledge_articles, knowledge_versions};
use crate::domain::DepartmentCode;
use crate::domain::knowledge::{ArticleState, Readers};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Writes a new article, its search terms and its first version.
pub fn insert(
    conn: &mut DbConn,
    row: &ArticleRow,
    search_text: &str,
    version: &ArticleVersionRow,
) -> Result<(), StoreError> {
    diesel::insert_into(knowledge_articles::table)
        .values((row, knowledge_articles::search_text.eq(search_text)))
        .execute(conn)?;
    diesel::insert_into(knowledge_versions::table)
        .values(version)
        .execute(conn)?;
    Ok(())
}

/// Writes an article's next version (`row`, one past the version it was read at) with its terms
/// and its version row; `Concurrent` when the article moved on meanwhile.
pub fn update(
    conn: &mut DbConn,
    row: &ArticleRow,
    search_text: &str,
    version: &ArticleVersionRow,
) -> Result<(), StoreError> {
    let written = diesel::update(
        knowledge_articles::table
            .find(&row.id)
            .filter(knowledge_articles::version.eq(row.version - 1)),
    )
    .set((row, knowledge_articles::search_text.eq(search_text)))
    .execute(conn)?;
    if written != 1 {
        return Err(StoreError::Concurrent);
    }
    diesel::insert_into(knowledge_versions::table)
        .values(version)
        .execute(conn)?;
    Ok(())
}

/// How many articles there are, in every state.
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(knowledge_articles::table.count().get_result(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ArticleRow>, StoreError> {
    Ok(knowledge_articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?)
}

/// An article for an edit, locked on PostgreSQL until the transaction ends, so that two edits
/// queue and the second builds on the first.
pub fn find_for_update(conn: &mut DbConn, id: &str) -> Result<Option<ArticleRow>, StoreError> {
    backend::article_for_update(conn, id)
}

/// An article's versions, newest first, below version `before`.
pub fn versions(
    conn: &mut DbConn,
    id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ArticleVersionRow>, StoreError> {
    let mut query = knowledge_versions::table
        .filter(knowledge_versions::article_id.eq(id))
        .select(ArticleVersionRow::as_select())
        .order(knowledge_versions::version.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(knowledge_versions::version.lt(before));
    }
    Ok(query.load(conn)?)
}

/// A search of the articles' terms.
#[derive(Debug, Clone)]
pub struct Search {
    /// From `domain::terms::query`; none finds nothing.
    pub terms: Vec<String>,
    /// Any of the terms rather than all of them.
    pub any: bool,
}

/// Where a page starts: a list runs newest first by id, a search's ranked results by place.
#[derive(Debug, Clone)]
pub enum Start {
    First,
    /// Ids below this one.
    Below(String),
    /// After this many results.
    Skip(i64),
}

/// Which articles a list or search wants.
#[derive(Debug, Clone)]
pub struct Filter {
    pub search: Option<Search>,
    pub state: Option<ArticleState>,
    pub department: Option<DepartmentCode>,
    pub readers: Readers,
    /// Only articles not expired on this local date.
    pub valid_on: Option<NaiveDate>,
    pub start: Start,
    pub limit: i64,
}

/// A page of articles without their bodies: a search's best match first (then the newest), a
/// list's newest first.
pub fn list(conn: &mut DbConn, filter: &Filter) -> Result<Vec<ArticleSummaryRow>, StoreError> {
    let ids = page_ids(conn, filter)?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut rows = knowledge_articles::table
        .filter(knowledge_articles::id.eq_any(&ids))
        .select(ArticleSummaryRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// The ids of a page, in one statement written out as text: the text search is the backend's.
fn page_ids(conn: &mut DbConn, filter: &Filter) -> Result<Vec<String>, StoreError> {
    let mut from = "knowledge_articles a";
    let mut conditions: Vec<&str> = vec![];
    let mut binds = vec![];
    let mut order = "a.id DESC".to_string();
    let mut order_binds = vec![];
    if let Some(search) = &filter.search {
        if search.terms.is_empty() {
            return Ok(vec![]);
        }
        let found = backend::knowledge_search(conn, &search.terms, search.any);
        from = found.from;
        conditions.push(found.condition);
        binds.push(Bind::Text(found.query));
        order = format!("{} DESC, a.id DESC", found.score);
        order_binds = found.score_binds;
    }
    if let Some(state) = filter.state {
        conditions.push("a.state = ?");
        binds.push(Bind::Text(state.to_string()));
    }
    if let Some(department) = &filter.department {
        conditions.push("a.department = ?");
        binds.push(Bind::Text(department.to_string()));
    }
    match &filter.readers {
        Readers::All => {}
        Readers::Published => {
            conditions.push("a.state = ?");
            binds.push(Bind::Text(ArticleState::Published.to_string()));
        }
        Readers::PublishedOr(own) => {
            conditions.push("(a.state = ? OR a.department = ?)");
            binds.push(Bind::Text(ArticleState::Published.to_string()));
            binds.push(Bind::Text(own.to_string()));
        }
    }
    if let Some(day) = filter.valid_on {
        // Dates are stored YYYY-MM-DD: as text they sort as days do.
        conditions.push("(a.valid_to IS NULL OR a.valid_to >= ?)");
        binds.push(Bind::Text(day.format("%Y-%m-%d").to_string()));
    }
    let mut skip = 0;
    match &filter.start {
        Start::First => {}
        Start::Below(id) => {
            conditions.push("a.id < ?");
            binds.push(Bind::Text(id.clone()));
        }
        Start::Skip(n) => skip = *n,
    }
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!("SELECT a.id FROM {from} {condition} ORDER BY {order} LIMIT ? OFFSET ?");
    binds.extend(order_binds);
    binds.push(Bind::Int(filter.limit));
    binds.push(Bind::Int(skip));
    let ids: Vec<backend::Id> = backend::load(conn, &sql, &binds)?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

/// The id and title of those of `ids` that are published and not expired on `today` (a local
/// date), in the order asked. For a handful of ids (a consultation's articles, at most 20): one
/// short `IN (…)`.
pub fn published_valid(
    conn: &mut DbConn,
    ids: &[String],
    today: NaiveDate,
) -> Result<Vec<(String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let today = today.format("%Y-%m-%d").to_string();
    let mut found: Vec<(String, String)> = knowledge_articles::table
        .filter(knowledge_articles::id.eq_any(ids))
        .filter(knowledge_articles::state.eq(ArticleState::Published.as_str()))
        .filter(
            knowledge_articles::valid_to
                .is_null()
                .or(knowledge_articles::valid_to.ge(today)),
        )
        .select((knowledge_articles::id, knowledge_articles::title))
        .load(conn)?;
    found.sort_by_key(|(id, _)| ids.iter().position(|i| i == id));
    Ok(found)
}

/// The search terms (space-separated) of those of `ids` that exist: to tell how much of a draft
/// each found article holds.
pub fn search_texts(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(knowledge_articles::table
        .filter(knowledge_articles::id.eq_any(ids))
        .select((knowledge_articles::id, knowledge_articles::search_text))
        .load(conn)?)
}

/// 知识库更新数: how many versions (creates and edits) were written in `[from, to)` (UTC), by the
/// department the article belonged to at each.
pub fn updates_by_department(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(knowledge_versions::table
        .filter(knowledge_versions::at.ge(from))
        .filter(knowledge_versions::at.lt(to))
        .group_by(knowledge_versions::department)
        .select((knowledge_versions::department, diesel::dsl::count_star()))
        .order(knowledge_versions::department.asc())
        .load(conn)?)
}
