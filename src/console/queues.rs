//! The homes: the operator's desk (话务员工作台), the department's workbench (承办工作台) and the
//! supervisor's board (督办台) — queues of cases, each a constant number of queries however
//! many cases it shows.

use super::forms::Form;
use super::frame::{Frame, Row, home, rows};
use super::render::{page, see_other};
use super::visitor::{Refusal, Signed};
use crate::api::state::{AppState, db};
use crate::app::{self, departments};
use crate::domain::DepartmentCode;
use crate::domain::duration::Duration;
use crate::domain::ticket::{Actor, Role, State, Ticket};
use crate::domain::words;
use crate::store::outbox;
use crate::store::tickets::Filter;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

#[derive(serde::Deserialize)]
pub struct Done {
    done: Option<String>,
    /// Which queue to show; the first when none is named.
    queue: Option<String>,
}

/// A word after an action that sent the visitor here: the case went where they cannot see it.
fn notice(done: &Done) -> Option<String> {
    let action: crate::domain::lifecycle::ActionKind = done.done.as_deref()?.parse().ok()?;
    Some(format!(
        "已{}，工单已移出本单位的办理范围。",
        words::action(action)
    ))
}
use chrono::NaiveDateTime;
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many cases a queue shows.
const SHOWN: i64 = 50;

#[derive(Serialize)]
struct Tab {
    key: &'static str,
    title: &'static str,
    current: bool,
}

/// A queue: its key (`?queue=`), its title and hint, and which cases it holds.
struct Spec {
    key: &'static str,
    title: &'static str,
    hint: &'static str,
    filter: Filter,
}

fn spec(key: &'static str, title: &'static str, hint: &'static str, filter: Filter) -> Spec {
    Spec {
        key,
        title,
        hint,
        filter,
    }
}

/// The queues of a home as tabs, and the one of them to load: one list query a page, however
/// many queues the home has.
fn pick(all: Vec<Spec>, asked: Option<&str>) -> (Vec<Tab>, Vec<Spec>) {
    let chosen = all.iter().position(|q| Some(q.key) == asked).unwrap_or(0);
    let tabs = all
        .iter()
        .enumerate()
        .map(|(i, q)| Tab {
            key: q.key,
            title: q.title,
            current: i == chosen,
        })
        .collect();
    (tabs, all.into_iter().skip(chosen).take(1).collect())
}

#[derive(Serialize)]
struct Queue {
    key: &'static str,
    title: &'static str,
    hint: &'static str,
    rows: Vec<Row>,
    /// More than `SHOWN` wait in it.
    more: bool,
}

fn filter(f: Filter) -> Filter {
    Filter {
        limit: SHOWN + 1,
        ..f
    }
}

/// Loads the queues `wanted` for `actor` in one connection.
fn load(
    conn: &mut crate::store::DbConn,
    actor: &Actor,
    wanted: Vec<Spec>,
) -> Result<Vec<(Spec, Vec<Ticket>)>, app::AppError> {
    wanted
        .into_iter()
        .map(|q| {
            let tickets = app::tickets::list(conn, actor, filter(q.filter.clone()))?;
            Ok((q, tickets))
        })
        .collect()
}

fn shape(
    loaded: Vec<(Spec, Vec<Ticket>)>,
    names: &BTreeMap<String, String>,
    now: NaiveDateTime,
    state: &AppState,
) -> Vec<Queue> {
    let calendar = state.settings.calendars.current();
    loaded
        .into_iter()
        .map(|(q, mut tickets)| {
            let more = tickets.len() as i64 > SHOWN;
            tickets.truncate(SHOWN as usize);
            Queue {
                key: q.key,
                title: q.title,
                hint: q.hint,
                rows: rows(&tickets, names, now, &calendar, state.settings.timezone),
                more,
            }
        })
        .collect()
}

fn require(who: &Signed, role: Role) -> Result<(), Refusal> {
    if who.session().actor.role() == Some(role) {
        Ok(())
    } else {
        Err(Refusal::Forbidden(format!(
            "这个页面供{}使用。",
            words::role(role)
        )))
    }
}

/// `GET /desk`: 待分办, 退回件, 待回访, 超期.
pub async fn desk(
    who: Signed,
    state: web::Data<AppState>,
    done: web::Query<Done>,
) -> Result<HttpResponse, Refusal> {
    if who.session().actor.role() != Some(Role::Operator) {
        return Ok(see_other(home(
            who.session().actor.role().expect("a person"),
        )));
    }
    let actor = who.session().actor.clone();
    let now = crate::store::now();
    let asked = done.queue.clone();
    let st = state.clone();
    let loaded = db(&state, move |conn| {
        let queues = vec![
            spec(
                "accepted",
                "待分办",
                "已受理、尚未分办的工单",
                Filter {
                    state: Some(State::Accepted),
                    returned: Some(false),
                    ..Default::default()
                },
            ),
            spec(
                "returned",
                "退回件",
                "承办单位退回、等待重新分办的工单",
                Filter {
                    state: Some(State::Accepted),
                    returned: Some(true),
                    ..Default::default()
                },
            ),
            spec(
                "replied",
                "待回访",
                "承办单位已答复、等待回访企业的工单",
                Filter {
                    state: Some(State::Replied),
                    ..Default::default()
                },
            ),
            spec(
                "overdue",
                "超期",
                "有期限已过的工单",
                Filter {
                    overdue: Some((true, now)),
                    ..Default::default()
                },
            ),
        ];
        let (tabs, one) = pick(queues, asked.as_deref());
        Ok((
            tabs,
            load(conn, &actor, one)?,
            departments::names(conn, &st.settings)?,
        ))
    })
    .await?;
    let (tabs, loaded, names) = loaded;
    let mut frame = Frame::new(&who, "话务员工作台", &names);
    frame.notice = notice(&done);
    let queues = shape(loaded, &names, now, &state);
    Ok(page(
        StatusCode::OK,
        "queues.html",
        context! { frame, tabs, queues, home => "/desk", heading => "话务员工作台", new_ticket => true },
    ))
}

/// `GET /workbench`: 待签收, 办理中, 即将到期, 已超期, 协办件 — of the visitor's department.
pub async fn workbench(
    who: Signed,
    state: web::Data<AppState>,
    done: web::Query<Done>,
) -> Result<HttpResponse, Refusal> {
    if who.session().actor.role() != Some(Role::Department) {
        return Ok(see_other(home(
            who.session().actor.role().expect("a person"),
        )));
    }
    let actor = who.session().actor.clone();
    let mine: DepartmentCode = actor.department().cloned().expect("a department user");
    let now = crate::store::now();
    let soon = state
        .settings
        .calendars
        .current()
        .due(now, Duration::WorkingDays(2))
        .at;
    let asked = done.queue.clone();
    let st = state.clone();
    let loaded = db(&state, move |conn| {
        let lead = Some(mine.clone());
        let queues = vec![
            spec(
                "dispatched",
                "待签收",
                "已分办给本单位、等待签收的工单",
                Filter {
                    state: Some(State::Dispatched),
                    lead: lead.clone(),
                    ..Default::default()
                },
            ),
            spec(
                "handling",
                "办理中",
                "本单位主办、正在办理（含督办中）的工单",
                Filter {
                    states: vec![State::Handling, State::Supervised],
                    lead: lead.clone(),
                    ..Default::default()
                },
            ),
            spec(
                "soon",
                "即将到期",
                "两个工作日内到期的工单",
                Filter {
                    lead: lead.clone(),
                    overdue: Some((false, now)),
                    due_before: Some(soon),
                    ..Default::default()
                },
            ),
            spec(
                "overdue",
                "已超期",
                "本单位主办、期限已过的工单",
                Filter {
                    lead: lead.clone(),
                    overdue: Some((true, now)),
                    ..Default::default()
                },
            ),
            spec(
                "co",
                "协办件",
                "本单位协办的工单：可查看、可提出协办意见",
                Filter {
                    co_handler: Some(mine.clone()),
                    ..Default::default()
                },
            ),
        ];
        let (tabs, one) = pick(queues, asked.as_deref());
        Ok((
            tabs,
            load(conn, &actor, one)?,
            departments::names(conn, &st.settings)?,
        ))
    })
    .await?;
    let (tabs, loaded, names) = loaded;
    let mut frame = Frame::new(&who, "承办工作台", &names);
    frame.notice = notice(&done);
    let queues = shape(loaded, &names, now, &state);
    Ok(page(
        StatusCode::OK,
        "queues.html",
        context! { frame, tabs, queues, home => "/workbench", heading => "承办工作台", new_ticket => false },
    ))
}

#[derive(Serialize)]
struct DepartmentLine {
    name: String,
    open: i64,
    overdue: i64,
    supervised: i64,
    /// Bar lengths of the chart, in per cent of the longest.
    open_bar: i64,
    overdue_bar: i64,
    levels: [i64; 3],
}

#[derive(Serialize)]
struct FailedMail {
    id: String,
    template: String,
    ticket_number: Option<String>,
    to: String,
    error: Option<String>,
    attempts: i32,
}

/// `GET /board`: overdue cases by department and escalation level, the per-department counts
/// (with a chart), pending extension requests, disputes in 协调, failed notifications.
pub async fn board(who: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Refusal> {
    if who.session().actor.role() == Some(Role::Operator)
        || who.session().actor.role() == Some(Role::Department)
    {
        return Ok(see_other(home(
            who.session().actor.role().expect("a person"),
        )));
    }
    require(&who, Role::Supervisor).or_else(|_| require(&who, Role::Admin))?;
    let actor = who.session().actor.clone();
    let now = crate::store::now();
    let st = state.clone();
    let (loaded, names, counts, levels, failed) = db(&state, move |conn| {
        let queues = vec![
            spec(
                "overdue",
                "超期工单",
                "期限已过、尚未办结的工单，最近受理的在前",
                Filter {
                    overdue: Some((true, now)),
                    ..Default::default()
                },
            ),
            spec(
                "extensions",
                "待审批延期",
                "承办单位提出、等待审批的延期申请",
                Filter {
                    pending_extension: Some(true),
                    ..Default::default()
                },
            ),
            spec(
                "coordinating",
                "协调中",
                "职责有争议、等待协调改派的工单",
                Filter {
                    state: Some(State::Coordinating),
                    ..Default::default()
                },
            ),
        ];
        let failed = app::notifications::list(
            conn,
            &outbox::Filter {
                status: Some("failed".into()),
                limit: 20,
                ..Default::default()
            },
        )?;
        Ok((
            load(conn, &actor, queues)?,
            departments::names(conn, &st.settings)?,
            app::tickets::department_counts(conn, now)?,
            app::tickets::overdue_levels(conn, now)?,
            failed,
        ))
    })
    .await?;
    let frame = Frame::new(&who, "督办台", &names);
    let queues = shape(loaded, &names, now, &state);
    let longest = counts.iter().map(|c| c.open).max().unwrap_or(0).max(1);
    let mut lines: Vec<DepartmentLine> = counts
        .into_iter()
        .map(|c| {
            let mut line_levels = [0; 3];
            for (d, level, n) in &levels {
                if *d == c.department && *level >= 1 {
                    line_levels[(*level as usize).min(3) - 1] += n;
                }
            }
            DepartmentLine {
                name: match &c.department {
                    Some(d) => names.get(d).cloned().unwrap_or_else(|| d.clone()),
                    None => "热线（未分办）".into(),
                },
                open: c.open,
                overdue: c.overdue,
                supervised: c.supervised,
                open_bar: c.open * 100 / longest,
                overdue_bar: c.overdue * 100 / longest,
                levels: line_levels,
            }
        })
        .collect();
    lines.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(b.open.cmp(&a.open)));
    let failed: Vec<FailedMail> = failed
        .into_iter()
        .map(|row| {
            let recipients: serde_json::Value =
                serde_json::from_str(&row.recipients).unwrap_or_default();
            let data: serde_json::Value = serde_json::from_str(&row.data).unwrap_or_default();
            FailedMail {
                to: recipients["to"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join("、")
                    })
                    .unwrap_or_default(),
                ticket_number: data["number"].as_str().map(str::to_string),
                id: row.id,
                template: row.template,
                error: row.last_error,
                attempts: row.attempts,
            }
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "board.html",
        context! { frame, queues, lines, failed },
    ))
}

/// `POST /board/notifications/{id}/retry`: a failed notification is due again now.
pub async fn retry(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    require(&who, Role::Supervisor).or_else(|_| require(&who, Role::Admin))?;
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(Refusal::NotFound);
    }
    let done = db(&state, move |conn| {
        app::notifications::retry(conn, &id, crate::store::now())
    })
    .await?;
    match done {
        None => Err(Refusal::NotFound),
        Some(_) => Ok(see_other("/board#failed")),
    }
}
