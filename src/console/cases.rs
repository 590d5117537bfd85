//! Cases: the list with the API's filters, the 受理 form, the case page (the case, its
//! deadlines as stages, its timeline, and only the actions this visitor may take now — as
//! `lifecycle::available` says, which is what the API would accept), and each action's form.
//! Every change goes through the same use cases as the API: `app::tickets::create` and `act`.

use super::forms::{Form, asked};
use super::frame::{Frame, due_wording, rows};
use super::messages;
use super::render::{page, see_other};
use super::visitor::{Refusal, Signed};
use crate::api::problem::Problem;
use crate::api::state::{AppState, db};
use crate::api::tickets::ListParams;
use crate::api::views;
use crate::app::tickets::{self as cases, Created};
use crate::app::{AppError, departments};
use crate::domain::lifecycle::{self, ActionKind, DomainError};
use crate::domain::ticket::{
    Category, Channel, Role, Satisfaction, State, Ticket, TicketId, Urgency,
};
use crate::domain::{CreditCode, FieldError, Phone, words};
use crate::store::rows::DepartmentRow;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct Choice {
    value: &'static str,
    label: &'static str,
}

pub fn choices<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: value(*v),
            label: label(*v),
        })
        .collect()
}

/// Field errors by field, in Chinese.
pub fn errors_by_field(errors: &[FieldError]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in errors {
        // `co_departments[2]` is shown at `co_departments`.
        let field = e.field.split('[').next().unwrap_or(&e.field).to_string();
        out.entry(field).or_insert_with(|| messages::chinese(e));
    }
    out
}

pub fn field_errors(p: &Problem) -> BTreeMap<String, String> {
    errors_by_field(&p.errors)
}

#[derive(Serialize)]
pub struct Department {
    code: String,
    name: String,
}

pub fn department_choices(list: &[DepartmentRow]) -> Vec<Department> {
    list.iter()
        .map(|d| Department {
            code: d.code.clone(),
            name: d.name.clone(),
        })
        .collect()
}

pub fn names_of(list: &[DepartmentRow]) -> BTreeMap<String, String> {
    list.iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect()
}

/// `GET /tickets`: the API's filters as a form, newest first, cursor pages.
pub async fn list(
    who: Signed,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Refusal> {
    let (asked, params) = asked::<ListParams>(&req);
    let tz = state.settings.timezone;
    let now = crate::store::now();
    let parsed = params
        .map_err(|_| Problem::field("query", "unknown filter"))
        .and_then(|p| p.filter(tz, now));
    let actor = who.session().actor.clone();
    let (found, list) = match parsed {
        Ok((filter, limit)) => db(&state, move |conn| {
            let found = cases::list(conn, &actor, filter).map(|t| (t, limit));
            Ok((found, departments::list(conn, None, 500)?))
        })
        .await
        .map(|(found, list)| (found.map_err(Problem::from), list))?,
        Err(p) => {
            let list = db(&state, |conn| departments::list(conn, None, 500)).await?;
            (Err(p), list)
        }
    };
    let names = names_of(&list);
    let frame = Frame::new(&who, "工单查询", &names);
    let (shown, next_cursor, errors) = match found {
        Ok((mut tickets, limit)) => {
            let more = tickets.len() as i64 > limit;
            tickets.truncate(limit as usize);
            let next = more.then(|| {
                let mut next = asked.clone();
                next.insert(
                    "cursor".into(),
                    views::Cursor::encode(&tickets.last().expect("more").id.to_string()),
                );
                serde_urlencoded::to_string(&next).unwrap_or_default()
            });
            let calendar = state.settings.calendars.current();
            (
                rows(&tickets, &names, now, &calendar, tz),
                next,
                BTreeMap::new(),
            )
        }
        Err(p) if p.status == 422 => (vec![], None, field_errors(&p)),
        Err(p) => return Err(p.into()),
    };
    Ok(page(
        StatusCode::OK,
        "tickets.html",
        context! {
            frame, rows => shown, next_cursor, errors, asked,
            states => choices(State::ALL, State::as_str, words::state),
            categories => choices(Category::ALL, Category::as_str, words::category),
            departments => department_choices(&list),
        },
    ))
}

fn new_form(
    who: &Signed,
    names: &BTreeMap<String, String>,
    values: &Value,
    errors: BTreeMap<String, String>,
    key: &str,
) -> minijinja::Value {
    let mut frame = Frame::new(who, "受理登记", names);
    frame.here = "/tickets/new".into();
    context! {
        frame, values, errors, idempotency_key => key,
        channels => choices(Channel::ALL, Channel::as_str, words::channel),
        categories => choices(Category::ALL, Category::as_str, words::category),
        urgencies => choices(Urgency::ALL, Urgency::as_str, words::urgency),
    }
}

fn operator_only(who: &Signed) -> Result<(), Refusal> {
    lifecycle::may_create(&who.session().actor)
        .map_err(|_| Refusal::Forbidden("只有话务员可以受理登记工单。".into()))
}

/// `GET /tickets/new`: the 受理 form, with a fresh idempotency key: a double click or a page
/// sent again makes one case.
pub async fn new(who: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Refusal> {
    operator_only(&who)?;
    let st = state.clone();
    let names = db(&state, move |conn| departments::names(conn, &st.settings)).await?;
    let key = uuid::Uuid::now_v7().to_string();
    let values = serde_json::json!({"channel": "hotline", "urgency": "normal"});
    Ok(page(
        StatusCode::OK,
        "new.html",
        new_form(&who, &names, &values, BTreeMap::new(), &key),
    ))
}

/// `POST /tickets/new`: logs the case through `app::tickets::create`, as the API does.
pub async fn create(
    who: Signed,
    state: web::Data<AppState>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    operator_only(&who)?;
    let key = form
        .get("idempotency_key")
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let input = form.new_ticket();
    let actor = who.session().actor.clone();
    let st = state.clone();
    let (sent, k) = (input.clone(), key.clone());
    let created = db(&state, move |conn| {
        let tz = st.settings.timezone;
        let render = |t: &Ticket| views::ticket(t, &actor, tz).to_value();
        let created = cases::create(
            conn,
            &st.settings,
            &actor,
            &sent,
            Some(&k),
            crate::store::now(),
            &render,
        );
        Ok((created, departments::names(conn, &st.settings)?))
    })
    .await?;
    let (created, names) = created;
    match created.map_err(Problem::from) {
        Ok(Created::New { ticket, .. }) => {
            Ok(see_other(&format!("/tickets/{}?done=create", ticket.id)))
        }
        Ok(Created::Replayed { body, .. }) => match body["id"].as_str() {
            Some(id) => Ok(see_other(&format!("/tickets/{id}?done=create"))),
            None => Err(Refusal::Internal),
        },
        Err(p) if p.status == 422 => {
            let mut values = form.flat();
            if p.code == "idempotency_key_reused" {
                // The page was changed and sent again: take it as a new case.
                values["_reused"] = true.into();
            }
            Ok(page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "new.html",
                new_form(&who, &names, &values, field_errors(&p), &key),
            ))
        }
        Err(p) => Err(p.into()),
    }
}

#[derive(serde::Deserialize)]
pub struct CheckQuery {
    field: String,
    value: String,
}

#[derive(Serialize)]
struct Checked {
    ok: bool,
    message: String,
    value: String,
}

/// `GET /tickets/new/check?field=enterprise.credit_code&value=…`: the credit code or phone as it is
/// typed, checked by the same validators the API uses; the form's script shows the answer beside
/// the field. Without the script the form is checked when it is sent.
pub async fn check(_: Signed, query: web::Query<CheckQuery>) -> HttpResponse {
    let value = query.value.trim();
    let (ok, message, canonical) = match query.field.as_str() {
        "enterprise.credit_code" => match CreditCode::parse(value) {
            Ok(c) => (true, "统一社会信用代码校验通过".to_string(), c.to_string()),
            Err(e) => (
                false,
                messages::chinese(&FieldError::new("enterprise.credit_code", e.to_string())),
                value.to_string(),
            ),
        },
        "contact.phone" => match Phone::parse(value) {
            Ok(p) => (true, format!("将记录为 {p}"), p.to_string()),
            Err(e) => (
                false,
                messages::chinese(&FieldError::new("contact.phone", e.to_string())),
                value.to_string(),
            ),
        },
        _ => (
            false,
            "只能检查统一社会信用代码和联系电话".to_string(),
            value.to_string(),
        ),
    };
    HttpResponse::Ok().json(Checked {
        ok,
        message,
        value: canonical,
    })
}

#[derive(Serialize)]
struct Stage {
    label: &'static str,
    started: String,
    due: String,
    warn: String,
    level: i32,
    level_label: &'static str,
    outcome: Option<&'static str>,
    running: bool,
    standing: String,
    standing_class: &'static str,
    duration: String,
}

#[derive(Serialize)]
struct Entry {
    at: String,
    label: String,
    system: bool,
    actor: String,
    from: Option<&'static str>,
    to: &'static str,
    details: Vec<(String, String)>,
}

/// The fields of an event's payload a person reads, in Chinese.
fn details(
    payload: &Value,
    names: &BTreeMap<String, String>,
    tz: chrono_tz::Tz,
) -> Vec<(String, String)> {
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let mut out = vec![];
    let Some(map) = payload.as_object() else {
        return out;
    };
    for (key, value) in map {
        let label = match key.as_str() {
            "department" => "主办单位",
            "co_departments" => "协办单位",
            "note" => "意见",
            "reason" => "理由",
            "content" => "内容",
            "working_days" => "延期工作日",
            "approve" => "审批结果",
            "due" => "督办期限",
            "satisfaction" => "满意度",
            "comment" => "企业意见",
            "into" => "并入工单",
            "repeat_of" => "重复件原件",
            "articles" => "所依据的政策",
            "timer" => "期限",
            "due_at" => "到期时间",
            _ => continue,
        };
        let text = match (key.as_str(), value) {
            ("department", Value::String(code)) => name(code),
            ("co_departments", Value::Array(codes)) if codes.is_empty() => continue,
            ("co_departments", Value::Array(codes)) => codes
                .iter()
                .filter_map(Value::as_str)
                .map(name)
                .collect::<Vec<_>>()
                .join("、"),
            ("approve", Value::Bool(b)) => if *b { "同意" } else { "不同意" }.into(),
            ("articles", Value::Array(cited)) if cited.is_empty() => continue,
            ("articles", Value::Array(cited)) => cited
                .iter()
                .filter_map(|a| a["title"].as_str())
                .collect::<Vec<_>>()
                .join("、"),
            ("satisfaction", Value::String(s)) => s
                .parse::<Satisfaction>()
                .map(|s| words::satisfaction(s).to_string())
                .unwrap_or_else(|_| s.clone()),
            ("timer", Value::String(k)) => k
                .parse()
                .map(|k| words::timer_kind(k).to_string())
                .unwrap_or_else(|_| k.clone()),
            ("due" | "due_at", Value::String(t)) => chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| words::moment(t.naive_utc(), tz))
                .unwrap_or_else(|_| t.clone()),
            (_, Value::Null) => continue,
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        out.push((label.to_string(), text));
    }
    // As a person reads a decision: who, then what and why.
    const ORDER: [&str; 15] = [
        "主办单位",
        "协办单位",
        "期限",
        "到期时间",
        "满意度",
        "审批结果",
        "延期工作日",
        "督办期限",
        "理由",
        "内容",
        "意见",
        "企业意见",
        "所依据的政策",
        "并入工单",
        "重复件原件",
    ];
    out.sort_by_key(|(label, _)| ORDER.iter().position(|l| l == label));
    out
}

/// What a case page needs, read in one connection.
struct Loaded {
    ticket: Ticket,
    timers: Vec<crate::domain::timer::Timer>,
    events: Vec<(String, i64, crate::domain::lifecycle::Event)>,
    departments: Vec<DepartmentRow>,
    /// The case this one repeats, and the cases that repeat this one (those the visitor sees).
    related: (Option<Ticket>, Vec<Ticket>),
    /// Knowledge articles matching the case, when the visitor may answer it directly (直办).
    suggested: Vec<crate::app::knowledge::ArticleSummary>,
}

fn load(
    conn: &mut crate::store::DbConn,
    settings: &crate::app::Settings,
    actor: &crate::domain::ticket::Actor,
    id: TicketId,
) -> Result<Loaded, AppError> {
    let (ticket, timers, events) = cases::case(conn, actor, id, 1000)?;
    let events = events
        .into_iter()
        .map(|row| row.into_event())
        .collect::<Result<Vec<_>, _>>()?;
    let related = cases::related(conn, actor, &ticket)?;
    let suggested = if lifecycle::available(&ticket, actor).contains(&ActionKind::Answer) {
        let text = format!("{}\n{}", ticket.subject, ticket.description);
        crate::app::knowledge::suggest(conn, settings, &text, 8)?
    } else {
        vec![]
    };
    Ok(Loaded {
        suggested,
        ticket,
        timers,
        events,
        departments: departments::list(conn, None, 500)?,
        related,
    })
}

fn ticket_id(text: &str) -> Result<TicketId, Refusal> {
    text.parse().map_err(|_| Refusal::NotFound)
}

/// The page of a case, with `notice` on top and, after a refused action, its form's values and
/// errors.
fn case_page(
    who: &Signed,
    state: &AppState,
    loaded: Loaded,
    status: StatusCode,
    notice: Option<String>,
    failed: Option<(ActionKind, Value, BTreeMap<String, String>)>,
) -> HttpResponse {
    let tz = state.settings.timezone;
    let now = crate::store::now();
    let calendar = state.settings.calendars.current();
    let actor = &who.session().actor;
    let names = names_of(&loaded.departments);
    let t = &loaded.ticket;
    let view = views::ticket(t, actor, tz).to_value();
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let stages: Vec<Stage> = loaded
        .timers
        .iter()
        .map(|timer| {
            let (standing, class) = if timer.is_running() {
                due_wording(Some(timer.due_at), now, &calendar)
            } else {
                (String::new(), "none")
            };
            Stage {
                label: words::timer_kind(timer.kind),
                started: words::moment(timer.started_at, tz),
                due: words::moment(timer.due_at, tz),
                warn: words::moment(timer.warn_at, tz),
                level: timer.level,
                level_label: words::escalation_level(timer.level),
                outcome: timer.outcome.map(words::timer_outcome),
                running: timer.is_running(),
                standing,
                standing_class: class,
                duration: words::duration(timer.duration, timer.extended_days),
            }
        })
        .collect();
    let timeline: Vec<Entry> = loaded
        .events
        .iter()
        .map(|(_, _, e)| Entry {
            at: words::moment(e.at, tz),
            label: words::event(&e.action, e.level),
            system: e.actor.role().is_none(),
            actor: match &e.actor {
                crate::domain::ticket::Actor::User {
                    username,
                    role,
                    department,
                } => {
                    let unit = department
                        .as_ref()
                        .map(|d| format!("（{}）", name(d)))
                        .unwrap_or_default();
                    format!("{username} · {}{unit}", words::role(*role))
                }
                crate::domain::ticket::Actor::System => "系统".to_string(),
            },
            from: e.from_state.map(words::state),
            to: words::state(e.to_state),
            details: details(&e.payload, &names, tz),
        })
        .collect();
    let actions: Vec<(&'static str, &'static str)> = lifecycle::available(t, actor)
        .into_iter()
        .map(|a| (a.as_str(), words::action(a)))
        .collect();
    let (failed_action, values, errors) = match failed {
        Some((a, v, e)) => (Some(a.as_str()), v, e),
        None => (None, Value::Null, BTreeMap::new()),
    };
    let pending = t.pending_extension.as_ref().map(|p| {
        context! {
            working_days => p.working_days, reason => p.reason,
            by => name(&p.requested_by), at => words::moment(p.requested_at, tz),
        }
    });
    let mut frame = Frame::new(who, &format!("工单 {}", t.number), &names);
    frame.notice = notice;
    // After a refused action the page stands at the action's address: come back to the case.
    frame.here = format!("/tickets/{}", t.id);
    let (due_text, due_class) = due_wording(t.due_at, now, &calendar);
    page(
        status,
        "ticket.html",
        context! {
            frame, t => view, stages, timeline, actions, failed_action, values, errors, pending,
            due_text, due_class,
            state_label => words::state(t.state),
            category_label => words::category(t.category),
            channel_label => words::channel(t.channel),
            urgency_label => words::urgency(t.urgency),
            outcome_label => t.outcome.map(words::outcome),
            lead_name => t.lead_department.as_deref().map(name),
            co_names => t.co_departments.iter().map(|c| name(c)).collect::<Vec<_>>(),
            created_at => words::moment(t.created_at, tz),
            confidential => t.category == Category::Report,
            departments => department_choices(&loaded.departments),
            satisfactions => choices(Satisfaction::ALL, Satisfaction::as_str, words::satisfaction),
            is_department => actor.role() == Some(Role::Department),
            repeats_of => loaded.related.0.as_ref().map(|e| context! { id => e.id.to_string(), number => e.number.clone() }),
            suggested => loaded.suggested.iter().map(|a| context! {
                id => a.id.clone(), title => a.title.clone(), doc_number => a.doc_number.clone(),
                department => a.department_name.clone(),
            }).collect::<Vec<_>>(),
            repeated_by => loaded.related.1.iter().map(|e| context! { id => e.id.to_string(), number => e.number.clone() }).collect::<Vec<_>>(),
            keep_answer => crate::app::case_knowledge::offered(actor, t, &loaded.events),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
    stale: Option<String>,
}

/// `GET /tickets/{id}`: a department opening a case that is not theirs gets the 404 page, as
/// the API answers 404.
pub async fn show(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CaseQuery>,
) -> Result<HttpResponse, Refusal> {
    let id = ticket_id(&path)?;
    let actor = who.session().actor.clone();
    let st = state.clone();
    let loaded = db(&state, move |conn| load(conn, &st.settings, &actor, id)).await?;
    let notice = if query.stale.is_some() {
        Some("这件工单刚刚被他人更新，您看到的已是最新内容；请确认后再办理。".to_string())
    } else {
        query
            .done
            .as_deref()
            .map(|d| match d.parse::<ActionKind>() {
                Ok(a) => format!("已{}。", words::action(a)),
                Err(_) if d == "create" => "已受理登记。".to_string(),
                Err(_) => "已办理。".to_string(),
            })
    };
    Ok(case_page(
        &who,
        &state,
        loaded,
        StatusCode::OK,
        notice,
        None,
    ))
}

/// `POST /tickets/{id}/actions/{action}`: the form's `version` is the page's, sent as `If-Match`:
/// a page out of date is refused (412) and shown again fresh, never overwriting.
pub async fn act(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    let (id, action) = path.into_inner();
    let id = ticket_id(&id)?;
    let action: ActionKind = action.parse().map_err(|_| Refusal::NotFound)?;
    let tz = state.settings.timezone;
    let payload = form.payload(action, tz);
    let if_match = form
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok());
    let actor = who.session().actor.clone();
    let st = state.clone();
    let sent = payload.clone();
    let outcome = db(&state, move |conn| {
        let mut payload = sent;
        // A merge, or a reject for a repeat, names the other case by its number, as people know it.
        let field = match action {
            ActionKind::Merge => Some("into"),
            ActionKind::Reject => Some("repeat_of"),
            _ => None,
        };
        if let Some(field) = field
            && let Some(number) = payload[field].as_str().map(str::to_string)
            && number.parse::<TicketId>().is_err()
            && let Some(other) = cases::find_by_number(conn, &actor, number.trim())?
        {
            payload[field] = other.id.to_string().into();
        }
        let now = crate::store::now();
        let mut done = cases::act(
            conn,
            &st.settings,
            &actor,
            id,
            action,
            &payload,
            if_match,
            now,
        );
        // What changed since the page was drawn may be only the system's warnings and ladder
        // steps (a new case is warned at once when its first deadline is short): nothing a person
        // decided is overwritten then, so the action goes through on the case as it is now.
        if let Err(AppError::Domain(DomainError::Stale { expected, current })) = &done {
            let since = cases::events(conn, &actor, id, *expected, 1000)?;
            let clocks_only = since.iter().all(|e| {
                e.actor_kind == "system" && e.from_state.as_deref() == Some(e.to_state.as_str())
            });
            if clocks_only {
                let current = Some(*current);
                done = cases::act(
                    conn,
                    &st.settings,
                    &actor,
                    id,
                    action,
                    &payload,
                    current,
                    now,
                );
            }
        }
        let loaded = match &done {
            Ok(_) => None,
            Err(AppError::NotFound) => None,
            Err(_) => Some(load(conn, &st.settings, &actor, id)?),
        };
        // After a return or an assign a department may no longer see the case.
        Ok((done.map(|t| cases::visible(&t, &actor)), loaded))
    })
    .await?;
    match outcome {
        (Ok(true), _) => Ok(see_other(&format!("/tickets/{id}?done={action}"))),
        (Ok(false), _) => Ok(see_other(&format!(
            "{}?done={action}",
            super::frame::home(who.session().actor.role().expect("a person"))
        ))),
        (Err(AppError::NotFound), _) => Err(Refusal::NotFound),
        (Err(AppError::Domain(DomainError::Stale { .. })), _) => {
            Ok(see_other(&format!("/tickets/{id}?stale=1")))
        }
        (Err(e), Some(loaded)) => {
            let problem = Problem::from(e);
            let (status, notice, errors) = match problem.status {
                403 => (
                    StatusCode::FORBIDDEN,
                    format!("您不能对这件工单办理“{}”。", words::action(action)),
                    BTreeMap::new(),
                ),
                409 => (
                    StatusCode::CONFLICT,
                    format!(
                        "工单现在是“{}”，不能办理“{}”：{}",
                        words::state(loaded.ticket.state),
                        words::action(action),
                        conflict(&problem.detail)
                    ),
                    BTreeMap::new(),
                ),
                422 => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "“{}”没有办理：请按提示修改后重新提交。",
                        words::action(action)
                    ),
                    field_errors(&problem),
                ),
                _ => return Err(problem.into()),
            };
            Ok(case_page(
                &who,
                &state,
                loaded,
                status,
                Some(notice),
                Some((action, form.flat(), errors)),
            ))
        }
        (Err(e), None) => Err(Problem::from(e).into()),
    }
}

/// Why an action is not allowed now, in Chinese, for the conflicts the domain names.
fn conflict(detail: &str) -> String {
    if detail.contains("already pending") {
        "已有一份待审批的延期申请".into()
    } else if detail.contains("no pending extension") {
        "没有待审批的延期申请".into()
    } else if detail.contains("sign the ticket before") {
        "请先签收，再答复企业".into()
    } else if detail.contains("extension must be asked for at least") {
        "延期须在办理期限前至少一个工作日提出".into()
    } else {
        "当前状态不允许".into()
    }
}

impl Form {
    /// The form as a flat object of its fields (the last value of a repeated name, and the list
    /// of `co_departments`), to fill the form in again.
    pub fn flat(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (k, v) in &self.0 {
            if k == "csrf_token" {
                continue;
            }
            out.insert(k.clone(), Value::String(v.clone()));
        }
        for list in ["co_departments", "articles"] {
            out.insert(
                list.into(),
                self.all(list).into_iter().map(Value::from).collect(),
            );
        }
        Value::Object(out)
    }
}

/// `GET /admin`: an admin's home.
pub async fn admin(_: Signed) -> HttpResponse {
    see_other("/admin/calendar")
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Problem::from(e).into()
    }
}
