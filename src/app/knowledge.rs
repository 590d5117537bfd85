//! The policy knowledge base (惠企政策知识库): departments write their articles (admins any), every
//! write one transaction of the article and its version; everyone signed in reads what their
//! role may (`domain::knowledge::Readers`) and searches it by the same terms on both databases;
//! an operator logging a consultation is offered the articles its text mentions (`suggest`).
//! Articles are shown with their body rendered (`domain::markdown`) and, past their `valid_to`
//! in the configured zone, marked expired.

use super::error::AppError;
use super::state::Settings;
use crate::domain::knowledge::{
    self, ArticleInput, ArticleState, Content, Readers, Visibility, expired,
};
use crate::domain::lifecycle::DomainError;
use crate::domain::terms::{self, Grams};
use crate::domain::ticket::Actor;
use crate::domain::{DepartmentCode, FieldError, markdown, time};
use crate::store::knowledge::{self as repo, Filter, Search, Start};
use crate::store::rows::{
    ArticleRow, ArticleSummaryRow, ArticleVersionRow, stored_date, stored_keywords,
};
use crate::store::{self, DbConn, StoreError, conn, departments};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// A suggestion is made of the first this many terms of a draft's text.
pub const SUGGEST_TERMS: usize = 32;

/// A suggestion weighs this many times as many articles as it shows.
const SUGGEST_POOL: i64 = 4;

/// An article as the API and the console show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019b0a6e-5c2a-7f31-9a40-1c2b3d4e5f60", "title": "小微企业增值税期末留抵退税",
    "body": "## 适用对象\n\n符合条件的小微企业……", "body_html": "<h2>适用对象</h2>\n<p>符合条件的小微企业……</p>\n",
    "keywords": ["留抵退税", "增值税"], "department": "shuiwu", "department_name": "区税务局",
    "doc_number": "鄂税发〔2026〕8号", "valid_from": "2026-01-01", "valid_to": "2027-12-31",
    "expired": false, "state": "published", "visibility": "public", "version": 2,
    "created_at": "2026-12-08T09:30:00+08:00", "created_by": "shuiwu",
    "updated_at": "2026-12-08T10:05:00+08:00", "updated_by": "shuiwu"
}))]
pub struct Article {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    /// Markdown, as written.
    pub body: String,
    /// The body as HTML, safe to show: raw HTML in it is escaped, script links dropped.
    pub body_html: String,
    pub keywords: Vec<String>,
    /// The issuing department's code.
    pub department: String,
    pub department_name: String,
    /// 文号.
    pub doc_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<NaiveDate>,
    /// Past `valid_to`, today in the configured zone.
    pub expired: bool,
    pub state: ArticleState,
    pub visibility: Visibility,
    /// Also the `ETag`; send it back as `If-Match`.
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub updated_by: String,
    /// `updated_at` as stored (UTC), for pages.
    #[serde(skip)]
    #[schema(ignore)]
    pub updated: NaiveDateTime,
}

/// An article in a list or a search's results: all but its body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub keywords: Vec<String>,
    pub department: String,
    pub department_name: String,
    pub doc_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<NaiveDate>,
    pub expired: bool,
    pub state: ArticleState,
    pub visibility: Visibility,
    pub version: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub updated_by: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub updated: NaiveDateTime,
}

/// One version of an article: what it said, who wrote it when, and what it changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ArticleVersion)]
pub struct Version {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    pub department: String,
    pub doc_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<NaiveDate>,
    pub state: ArticleState,
    pub visibility: Visibility,
    /// The fields this version changed from the one before (for the first: those it set).
    pub changed: Vec<String>,
    #[schema(format = DateTime)]
    pub at: String,
    pub by: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub written: NaiveDateTime,
}

/// Today in the configured zone: what `valid_to` is compared with.
pub fn today(settings: &Settings) -> NaiveDate {
    settings
        .timezone
        .from_utc_datetime(&store::now())
        .date_naive()
}

/// What an article is found by: its title, keywords, 文号 and body, cut into terms.
fn search_text(content: &Content) -> String {
    terms::column(&content.searchable(), Grams::PairsAndSingles)
}

fn missing() -> AppError {
    AppError::NoSuch("knowledge article")
}

/// The department an article is filed under must exist (422 naming `department`).
fn known_department(conn: &mut DbConn, code: &DepartmentCode) -> Result<(), AppError> {
    if departments::existing(conn, std::slice::from_ref(code))?.is_empty() {
        let unknown = FieldError::new("department", format!("unknown department '{code}'"));
        return Err(AppError::Domain(unknown.into()));
    }
    Ok(())
}

/// How rows are shown: departments by name, times in the zone, expiry against today.
struct Shown {
    names: Arc<BTreeMap<String, String>>,
    today: NaiveDate,
    tz: chrono_tz::Tz,
}

impl Shown {
    fn new(conn: &mut DbConn, settings: &Settings) -> Result<Shown, AppError> {
        Ok(Shown {
            names: settings.department_names.get(conn)?,
            today: today(settings),
            tz: settings.timezone,
        })
    }

    fn name(&self, code: &str) -> String {
        self.names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    fn article(&self, row: &ArticleRow) -> Result<Article, AppError> {
        let c = row.content()?;
        Ok(Article {
            id: row.id.clone(),
            body_html: markdown::to_html(&c.body),
            department_name: self.name(&c.department),
            department: c.department.to_string(),
            expired: expired(c.valid_to, self.today),
            title: c.title,
            body: c.body,
            keywords: c.keywords,
            doc_number: c.doc_number,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
            state: c.state,
            visibility: c.visibility,
            version: row.version,
            created_at: time::rfc3339(row.created_at, self.tz),
            created_by: row.created_by.clone(),
            updated_at: time::rfc3339(row.updated_at, self.tz),
            updated_by: row.updated_by.clone(),
            updated: row.updated_at,
        })
    }

    fn summary(&self, row: ArticleSummaryRow) -> Result<ArticleSummary, AppError> {
        let corrupt =
            |field: &str| StoreError::Corrupt(format!("knowledge article {}: {field}", row.id));
        let valid_to = stored_date(&row.valid_to).map_err(|_| corrupt("valid_to"))?;
        Ok(ArticleSummary {
            keywords: stored_keywords(&row.keywords).ok_or_else(|| corrupt("keywords"))?,
            valid_from: stored_date(&row.valid_from).map_err(|_| corrupt("valid_from"))?,
            state: row.state.parse().map_err(|_| corrupt("state"))?,
            visibility: row.visibility.parse().map_err(|_| corrupt("visibility"))?,
            department_name: self.name(&row.department),
            expired: expired(valid_to, self.today),
            valid_to,
            updated_at: time::rfc3339(row.updated_at, self.tz),
            updated: row.updated_at,
            id: row.id,
            title: row.title,
            department: row.department,
            doc_number: row.doc_number,
            version: row.version,
            updated_by: row.updated_by,
        })
    }

    fn version(&self, row: &ArticleVersionRow) -> Result<Version, AppError> {
        let (c, changed) = row.content()?;
        Ok(Version {
            version: row.version,
            title: c.title,
            body: c.body,
            keywords: c.keywords,
            department: c.department.to_string(),
            doc_number: c.doc_number,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
            state: c.state,
            visibility: c.visibility,
            changed,
            at: time::rfc3339(row.at, self.tz),
            by: row.by.clone(),
            written: row.at,
        })
    }
}

/// Shows `row` as an article, with the departments' names and today's date.
fn show(conn: &mut DbConn, settings: &Settings, row: &ArticleRow) -> Result<Article, AppError> {
    Shown::new(conn, settings)?.article(row)
}

/// A new article by a department (its own) or an admin, with its first version.
pub fn create(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    input: &Value,
    now: NaiveDateTime,
) -> Result<Article, AppError> {
    knowledge::may_write(actor)?;
    let content = knowledge::new_article(ArticleInput::read(input)?, actor)?;
    let by = actor.username().unwrap_or("system");
    let row = conn::write(conn, |c| -> Result<ArticleRow, AppError> {
        known_department(c, &content.department)?;
        let row = ArticleRow::new(&Uuid::now_v7().to_string(), &content, now, by);
        let version = ArticleVersionRow::of(&row, &content.changed(None));
        repo::insert(c, &row, &search_text(&content), &version)?;
        Ok(row)
    })?;
    show(conn, settings, &row)
}

/// The article, if `actor` may read it.
fn readable(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    for_update: bool,
) -> Result<ArticleRow, AppError> {
    let id = id.to_string();
    let row = if for_update {
        repo::find_for_update(conn, &id)?
    } else {
        repo::find(conn, &id)?
    };
    row.filter(|r| {
        r.state
            .parse()
            .is_ok_and(|state| Readers::of(actor).may_read(state, &r.department))
    })
    .ok_or_else(missing)
}

pub fn get(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: Uuid,
) -> Result<Article, AppError> {
    let row = readable(conn, actor, id, false)?;
    show(conn, settings, &row)
}

/// Whether `actor` may edit the article and `if_match` is current, the body aside: to answer a
/// request whose body is unreadable in the contract's order (404, 403, 412 before the 400).
pub fn authorize_update(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<(), AppError> {
    let row = readable(conn, actor, id, false)?;
    may_update(actor, &row, if_match)
}

fn may_update(actor: &Actor, row: &ArticleRow, if_match: Option<i64>) -> Result<(), AppError> {
    knowledge::may_edit(actor, &row.department)?;
    match if_match {
        Some(expected) if expected != row.version => Err(DomainError::Stale {
            expected,
            current: row.version,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Changes the fields `input` names (`state` publishes or archives), as a new version recording
/// which changed; an edit that changes nothing writes nothing. Checked in the contract's order:
/// 404, 403, 412, 422.
pub fn update(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: Uuid,
    input: &Value,
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<Article, AppError> {
    let by = actor.username().unwrap_or("system");
    let row = conn::write(conn, |c| -> Result<ArticleRow, AppError> {
        let row = readable(c, actor, id, true)?;
        may_update(actor, &row, if_match)?;
        let current = row.content()?;
        let next = knowledge::edited(&current, ArticleInput::read(input)?, actor)?;
        let changed = next.changed(Some(&current));
        if changed.is_empty() {
            return Ok(row);
        }
        if next.department != current.department {
            known_department(c, &next.department)?;
        }
        let edited = row.edited(&next, now, by);
        let version = ArticleVersionRow::of(&edited, &changed);
        repo::update(c, &edited, &search_text(&next), &version)?;
        Ok(edited)
    })?;
    show(conn, settings, &row)
}

/// An article's versions, newest first, below version `before`.
pub fn versions(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Version>, AppError> {
    readable(conn, actor, id, false)?;
    let rows = repo::versions(conn, &id.to_string(), before, limit)?;
    let shown = Shown::new(conn, settings)?;
    rows.iter().map(|r| shown.version(r)).collect()
}

/// An article and its latest `limit` versions, for its page: visibility checked once.
pub fn page(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    id: Uuid,
    limit: i64,
) -> Result<(Article, Vec<Version>), AppError> {
    let row = readable(conn, actor, id, false)?;
    let rows = repo::versions(conn, &row.id, None, limit)?;
    let shown = Shown::new(conn, settings)?;
    let versions = rows
        .iter()
        .map(|r| shown.version(r))
        .collect::<Result<_, _>>()?;
    Ok((shown.article(&row)?, versions))
}

/// What a list or search asks for, already checked.
#[derive(Debug, Clone)]
pub struct Query {
    /// Words to search for (every term must match); none lists newest first.
    pub q: Option<String>,
    pub state: Option<ArticleState>,
    pub department: Option<DepartmentCode>,
    pub start: Start,
    pub limit: i64,
}

/// The articles `actor` may read that `query` asks for: a search's best matches first, then the
/// newest; without `q`, the newest first. An unknown `department` is a 422.
pub fn list(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    query: Query,
) -> Result<Vec<ArticleSummary>, AppError> {
    if let Some(code) = &query.department {
        known_department(conn, code)?;
    }
    let filter = Filter {
        search: query.q.as_deref().map(|q| Search {
            terms: terms::query(q),
            any: false,
        }),
        state: query.state,
        department: query.department,
        readers: Readers::of(actor),
        valid_on: None,
        start: query.start,
        limit: query.limit,
    };
    summaries(conn, settings, &filter)
}

fn summaries(
    conn: &mut DbConn,
    settings: &Settings,
    filter: &Filter,
) -> Result<Vec<ArticleSummary>, AppError> {
    let rows = repo::list(conn, filter)?;
    let shown = Shown::new(conn, settings)?;
    rows.into_iter().map(|r| shown.summary(r)).collect()
}

/// The published, unexpired articles that mention any of the first `SUGGEST_TERMS` terms of
/// `text` (a consultation being logged), best match first, at most `limit`. An article sharing
/// only the words every consultation has (企业, 申请, 办理) with the text is left out when
/// another shares much more: each holds at least half as many of the text's terms as the one
/// holding most.
pub fn suggest(
    conn: &mut DbConn,
    settings: &Settings,
    text: &str,
    limit: i64,
) -> Result<Vec<ArticleSummary>, AppError> {
    let mut terms = terms::query(text);
    terms.truncate(SUGGEST_TERMS);
    terms.sort();
    terms.dedup();
    let filter = Filter {
        search: Some(Search {
            terms: terms.clone(),
            any: true,
        }),
        state: None,
        department: None,
        readers: Readers::Published,
        valid_on: Some(today(settings)),
        start: Start::First,
        limit: (limit * SUGGEST_POOL).max(limit),
    };
    let found = summaries(conn, settings, &filter)?;
    let ids: Vec<String> = found.iter().map(|a| a.id.clone()).collect();
    let held: BTreeMap<String, usize> = repo::search_texts(conn, &ids)?
        .into_iter()
        .map(|(id, text)| {
            let own: BTreeSet<&str> = text.split(' ').collect();
            let shared = terms.iter().filter(|t| own.contains(t.as_str())).count();
            (id, shared)
        })
        .collect();
    let most = held.values().copied().max().unwrap_or(0);
    Ok(found
        .into_iter()
        .filter(|a| held.get(&a.id).is_some_and(|n| n * 2 >= most))
        .take(limit.max(0) as usize)
        .collect())
}
