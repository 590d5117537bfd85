//! 一企一档 and the similar-case look-up at intake: an enterprise's file (its names, cases,
//! counts, ratings and repeats), finding enterprises, the ones with the most cases in a period,
//! and the earlier cases a case being logged probably repeats.

use super::error::AppError;
use super::state::Settings;
use super::tickets::visible;
use crate::domain::credit_code::CreditCode;
use crate::domain::lifecycle::DomainError;
use crate::domain::similar::{self, Closeness, Draft};
use crate::domain::ticket::{Actor, Category, Role, Satisfaction, State, Ticket, TicketId};
use crate::domain::{DepartmentCode, FieldError};
use crate::store::enterprises::{self as repo, CountRow, EnterpriseRow, HotRow, NameRow};
use crate::store::tickets::{self, Filter};
use crate::store::{DbConn, search};
use chrono::{Duration, NaiveDateTime};
use std::collections::BTreeMap;

/// A closed case is still a likely repeat for this long after it was last changed.
pub const RECENTLY_CLOSED_DAYS: i64 = 90;
/// How many cases the look-up lists at most.
pub const SIMILAR_MAX: usize = 10;
/// How many candidates the database is asked for by text.
const TEXT_CANDIDATES: i64 = 60;
/// Terms held together by at most this share of cases are rare: all cases holding them are
/// ranked (`store::search::matching`).
const RARE_SHARE: f64 = 0.03;
/// How many of the enterprise's own cases are weighed at most (its newest).
const OWN_CANDIDATES: i64 = 50;

/// An enterprise's file as one visitor may see it.
#[derive(Debug)]
pub struct File {
    pub enterprise: EnterpriseRow,
    /// Every name it was logged under, the latest first.
    pub names: Vec<NameRow>,
    pub counts: Vec<CountRow>,
    /// Feedback (回访) ratings of its cases.
    pub ratings: BTreeMap<Satisfaction, i64>,
    /// A page of its cases, newest first.
    pub cases: Vec<Ticket>,
}

impl File {
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|c| c.cases).sum()
    }

    pub fn open(&self) -> i64 {
        self.counts
            .iter()
            .filter(|c| c.state != State::Archived.as_str())
            .map(|c| c.cases)
            .sum()
    }

    /// Its cases by state, and by category (from `counts`, which holds both at once).
    pub fn by_state(&self) -> BTreeMap<State, i64> {
        self.summed(|c| c.state.parse().ok())
    }

    pub fn by_category(&self) -> BTreeMap<Category, i64> {
        self.summed(|c| c.category.parse().ok())
    }

    fn summed<K: Ord>(&self, key: impl Fn(&CountRow) -> Option<K>) -> BTreeMap<K, i64> {
        let mut out = BTreeMap::new();
        for c in &self.counts {
            if let Some(k) = key(c) {
                *out.entry(k).or_insert(0) += c.cases;
            }
        }
        out
    }

    pub fn repeats(&self) -> i64 {
        self.counts.iter().map(|c| c.repeats).sum()
    }

    /// 满意率: satisfied or basically satisfied ÷ all ratings; none without ratings.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        let all: i64 = self.ratings.values().sum();
        let good: i64 = self
            .ratings
            .iter()
            .filter(|(s, _)| **s != Satisfaction::Dissatisfied)
            .map(|(_, n)| n)
            .sum();
        (all > 0).then(|| good as f64 / all as f64)
    }
}

/// A credit code as given in a path or query: checked, in its canonical form.
pub fn credit_code(field: &str, text: &str) -> Result<CreditCode, FieldError> {
    CreditCode::parse(text).map_err(|e| FieldError::new(field, e.to_string()))
}

/// A department sees an enterprise's cases it leads or co-handles, and the enterprise only if
/// it has such a case.
fn own(actor: &Actor) -> Option<DepartmentCode> {
    match actor.role() {
        Some(Role::Department) => actor.department().cloned(),
        _ => None,
    }
}

/// The file of the enterprise with `code`: 404 when no case names it (or none the visitor may
/// see). `before` and `limit` page its cases.
pub fn file(
    conn: &mut DbConn,
    actor: &Actor,
    code: &CreditCode,
    before: Option<TicketId>,
    limit: i64,
) -> Result<File, AppError> {
    let mut file = summary(conn, actor, code)?;
    file.cases = tickets::list(
        conn,
        &Filter {
            credit_code: Some(code.to_string()),
            visible_to: own(actor),
            before,
            limit,
            ..Filter::default()
        },
    )?;
    file.names = repo::names(conn, code.as_str())?;
    Ok(file)
}

/// The file without its names and cases: its counts and ratings, as the 受理 panel shows them
/// while the operator types (404 as for `file`).
pub fn summary(conn: &mut DbConn, actor: &Actor, code: &CreditCode) -> Result<File, AppError> {
    let absent = AppError::NoSuch("enterprise");
    let enterprise = repo::find(conn, code.as_str())?.ok_or(absent)?;
    let visible_to = own(actor);
    let counts = repo::counts(conn, code.as_str(), visible_to.as_ref())?;
    if counts.is_empty() {
        return Err(AppError::NoSuch("enterprise"));
    }
    let mut ratings = BTreeMap::new();
    for payload in repo::feedback(conn, code.as_str(), visible_to.as_ref())? {
        let rated = serde_json::from_str::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| {
                v.get("satisfaction")?
                    .as_str()?
                    .parse::<Satisfaction>()
                    .ok()
            });
        if let Some(s) = rated {
            *ratings.entry(s).or_insert(0) += 1;
        }
    }
    Ok(File {
        enterprise,
        names: vec![],
        counts,
        ratings,
        cases: vec![],
    })
}

/// Enterprises by name or credit code. A department finds none: its cases are its way in.
pub fn search(
    conn: &mut DbConn,
    actor: &Actor,
    q: &str,
    limit: i64,
) -> Result<Vec<EnterpriseRow>, AppError> {
    reader(actor)?;
    Ok(repo::search(conn, q.trim(), limit)?)
}

/// The enterprises with the most cases created in `[from, to)` (热点企业).
pub fn hot(
    conn: &mut DbConn,
    actor: &Actor,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> Result<Vec<HotRow>, AppError> {
    reader(actor)?;
    Ok(repo::hot(conn, from, to, limit)?)
}

/// Enterprises across the district are for the hotline, supervisors and admins (403 for a
/// department, which sees an enterprise through its own cases only).
fn reader(actor: &Actor) -> Result<(), AppError> {
    match actor.role() {
        Some(Role::Department) | None => Err(DomainError::Forbidden(
            "a department sees enterprises through its own cases only".into(),
        )
        .into()),
        _ => Ok(()),
    }
}

/// An earlier case close to a draft, and how close.
#[derive(Debug)]
pub struct Similar {
    pub ticket: Ticket,
    pub closeness: Closeness,
}

/// The earlier cases a draft probably repeats, closest first: the open and recently closed
/// cases of the same enterprise, and any case whose text shares the draft's telling terms.
pub fn similar(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    draft: &Draft,
    now: NaiveDateTime,
) -> Result<Vec<Similar>, AppError> {
    reader(actor)?;
    if draft.is_empty() {
        return Ok(vec![]);
    }
    let rarity = settings.rarity.get(conn)?;
    let asked = draft.query(&rarity);
    let rare = rarity.share_holding_any(&asked) <= RARE_SHARE;
    let mut ids: Vec<TicketId> = search::matching(conn, &asked, TEXT_CANDIDATES, rare)?
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let recent = now - Duration::days(RECENTLY_CLOSED_DAYS);
    let mut own_cases = vec![];
    if let Some(code) = &draft.credit_code {
        own_cases = tickets::list(
            conn,
            &Filter {
                credit_code: Some(code.clone()),
                limit: OWN_CANDIDATES,
                ..Filter::default()
            },
        )?;
        own_cases.retain(|t| t.state != State::Archived || t.updated_at >= recent);
        ids.retain(|id| !own_cases.iter().any(|t| t.id == *id));
    }
    let mut found: Vec<Similar> = own_cases
        .into_iter()
        .chain(tickets::find_many(conn, &ids)?)
        .filter(|t| visible(t, actor))
        .map(|ticket| Similar {
            closeness: similar::closeness(draft, &ticket, &rarity),
            ticket,
        })
        .filter(|s| s.closeness.score >= similar::THRESHOLD)
        .collect();
    found.sort_by(|a, b| {
        b.closeness
            .score
            .total_cmp(&a.closeness.score)
            .then(b.ticket.id.cmp(&a.ticket.id))
    });
    found.truncate(SIMILAR_MAX);
    Ok(found)
}

/// A draft as the 受理 form holds it while the operator types: any of `subject`, `description`
/// and `enterprise.credit_code` (used once it is a valid code), other fields ignored.
pub fn draft(input: &serde_json::Value) -> Result<Draft, AppError> {
    let invalid = |field: &str, m: &str| AppError::Domain(FieldError::new(field, m).into());
    if !input.is_object() {
        return Err(invalid("body", "must be a JSON object"));
    }
    let text = |field: &str, value: Option<&serde_json::Value>| match value {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(serde_json::Value::String(s)) => Ok(s.chars().take(20_000).collect()),
        Some(_) => Err(invalid(field, "must be a string")),
    };
    let subject = text("subject", input.get("subject"))?;
    let description = text("description", input.get("description"))?;
    let code = text(
        "enterprise.credit_code",
        input.get("enterprise").and_then(|e| e.get("credit_code")),
    )?;
    let code = CreditCode::parse(&code).ok();
    Ok(Draft::new(
        &subject,
        &description,
        code.as_ref().map(CreditCode::as_str),
    ))
}

/// Indexes for the look-up the cases logged before it existed, once, in one transaction.
pub fn index_earlier_cases(conn: &mut DbConn) -> Result<usize, AppError> {
    crate::store::conn::write(conn, |c| Ok(search::backfill(c)?))
}
