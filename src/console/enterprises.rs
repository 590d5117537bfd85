//! 一企一档 in the console: an enterprise's page (`/enterprises/{credit_code}`), linked from every
//! case; and the panel beside the 受理 form (`/tickets/new/similar`), which shows, while the
//! operator types, the enterprise's file and the earlier cases the new one probably repeats —
//! and, for a consultation, the policies of the knowledge base its words match.

use super::frame::{Frame, rows};
use super::render::page;
use super::visitor::{Refusal, Signed};
use crate::api::state::{AppState, db};
use crate::api::views::Cursor;
use crate::app::{self, enterprises};
use crate::domain::credit_code::CreditCode;
use crate::domain::ticket::{Category, Satisfaction, TicketId};
use crate::domain::words;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Count {
    label: &'static str,
    cases: i64,
}

#[derive(Serialize)]
struct Name {
    name: String,
    first: String,
    last: String,
    cases: i64,
}

/// The figures of a file, worded for the page and the panel.
#[derive(Serialize)]
struct Summary {
    name: String,
    credit_code: String,
    first_seen: String,
    last_seen: String,
    total: i64,
    open: i64,
    repeats: i64,
    satisfaction: String,
    by_state: Vec<Count>,
    by_category: Vec<Count>,
    ratings: Vec<Count>,
    names: Vec<Name>,
}

fn summary(f: &enterprises::File, tz: chrono_tz::Tz) -> Summary {
    // In the glossary's order (the enums'), those with cases only.
    let by_state: Vec<Count> = f
        .by_state()
        .into_iter()
        .map(|(s, cases)| Count {
            label: words::state(s),
            cases,
        })
        .collect();
    let by_category: Vec<Count> = f
        .by_category()
        .into_iter()
        .map(|(k, cases)| Count {
            label: words::category(k),
            cases,
        })
        .collect();
    Summary {
        name: f.enterprise.name.clone(),
        credit_code: f.enterprise.credit_code.clone(),
        first_seen: words::moment(f.enterprise.first_seen_at, tz),
        last_seen: words::moment(f.enterprise.last_seen_at, tz),
        total: f.total(),
        open: f.open(),
        repeats: f.repeats(),
        satisfaction: f
            .satisfaction_rate()
            .map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "暂无回访".into()),
        by_state,
        by_category,
        ratings: Satisfaction::ALL
            .iter()
            .map(|s| Count {
                label: words::satisfaction(*s),
                cases: f.ratings.get(s).copied().unwrap_or(0),
            })
            .collect(),
        names: f
            .names
            .iter()
            .map(|n| Name {
                name: n.name.clone(),
                first: words::moment(n.first_at, tz),
                last: words::moment(n.last_at, tz),
                cases: n.cases,
            })
            .collect(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
}

const CASES_PER_PAGE: i64 = 50;

/// `GET /enterprises/{credit_code}`: the enterprise's file, its cases newest first.
pub async fn show(
    who: Signed,
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let code = CreditCode::parse(&code).map_err(|_| Refusal::NotFound)?;
    let before: Option<TicketId> = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            Cursor::decode(c)
                .ok()
                .and_then(|c| c.parse().ok())
                .ok_or(Refusal::NotFound)?,
        ),
    };
    let actor = who.session().actor.clone();
    let st = state.clone();
    let (file, names) = db(&state, move |conn| {
        let file = enterprises::file(conn, &actor, &code, before, CASES_PER_PAGE + 1);
        Ok((file, app::departments::names(conn, &st.settings)?))
    })
    .await?;
    let mut file = file?;
    let more = file.cases.len() as i64 > CASES_PER_PAGE;
    file.cases.truncate(CASES_PER_PAGE as usize);
    let next = more.then(|| Cursor::encode(&file.cases.last().expect("more").id.to_string()));
    let tz = state.settings.timezone;
    let calendar = state.settings.calendars.current();
    let frame = Frame::new(
        &who,
        &format!("企业档案 · {}", file.enterprise.name),
        &names,
    );
    Ok(page(
        StatusCode::OK,
        "enterprise.html",
        context! {
            frame,
            e => summary(&file, tz),
            rows => rows(&file.cases, &names, crate::store::now(), &calendar, tz),
            next_cursor => next,
        },
    ))
}

#[derive(Deserialize)]
pub struct DraftQuery {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    credit_code: String,
    /// The category chosen so far: a consultation is also offered the knowledge base's policies.
    #[serde(default)]
    category: String,
}

#[derive(Serialize)]
struct Hit {
    id: String,
    number: String,
    subject: String,
    enterprise: String,
    state: &'static str,
    state_label: &'static str,
    created: String,
    percent: i64,
    reasons: Vec<String>,
}

/// How many policies the panel suggests for a consultation.
const POLICIES: i64 = 5;

/// `GET /tickets/new/similar?subject=…&description=…&credit_code=…&category=…`: the panel beside
/// the 受理 form, as HTML the form's script puts in place — for a consultation, the published
/// policies in force its words match; the enterprise's file once its code is valid; and the
/// likely repeats, each of which the operator may mark as the case this one repeats.
pub async fn similar(
    who: Signed,
    state: web::Data<AppState>,
    query: web::Query<DraftQuery>,
) -> Result<HttpResponse, Refusal> {
    let q = query.into_inner();
    let draft = enterprises::draft(&serde_json::json!({
        "subject": q.subject,
        "description": q.description,
        "enterprise": {"credit_code": q.credit_code},
    }))?;
    let code = CreditCode::parse(&q.credit_code).ok();
    let consultation = q.category.parse::<Category>().ok() == Some(Category::Consultation);
    let text = format!("{}\n{}", q.subject, q.description);
    let actor = who.session().actor.clone();
    let now = crate::store::now();
    let st = state.clone();
    let (found, file, policies) = db(&state, move |conn| {
        let policies = if consultation {
            app::knowledge::suggest(conn, &st.settings, &text, POLICIES)?
        } else {
            vec![]
        };
        let found = enterprises::similar(conn, &st.settings, &actor, &draft, now);
        let file = match &code {
            Some(code) => match enterprises::summary(conn, &actor, code) {
                Ok(f) => Some(f),
                Err(app::AppError::NoSuch(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok((found, file, policies))
    })
    .await?;
    let tz = state.settings.timezone;
    let hits: Vec<Hit> = found?
        .into_iter()
        .map(|s| Hit {
            id: s.ticket.id.to_string(),
            number: s.ticket.number.clone(),
            subject: s.ticket.subject.clone(),
            enterprise: s.ticket.enterprise.name.clone(),
            state: s.ticket.state.as_str(),
            state_label: words::state(s.ticket.state),
            created: words::moment(s.ticket.created_at, tz),
            percent: (s.closeness.score * 100.0).round() as i64,
            reasons: s.closeness.reasons.iter().map(|r| r.text.clone()).collect(),
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "similar.html",
        context! {
            hits,
            policies => policies.into_iter().map(super::knowledge::row).collect::<Vec<_>>(),
            e => file.as_ref().map(|f| summary(f, tz)),
            asked => !q.subject.trim().is_empty() || !q.description.trim().is_empty() || !q.credit_code.trim().is_empty(),
        },
    ))
}
