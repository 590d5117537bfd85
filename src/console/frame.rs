//! What every signed-in page shows around its content: who is signed in, the navigation of their
//! role, the form token, the larger-text mode; and the rows that lists of cases are made of, with
//! their deadlines in 工作日 wording.

use super::render;
use super::visitor::Signed;
use crate::app::sessions::Session;
use crate::domain::calendar::Calendar;
use crate::domain::ticket::{Role, Ticket};
use crate::domain::words;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct Nav {
    href: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Serialize)]
pub struct Frame {
    pub title: String,
    pub username: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub department: Option<String>,
    pub csrf: String,
    pub large: bool,
    pub css: String,
    pub js: String,
    pub nav: Vec<Nav>,
    pub here: String,
    /// A word after an action: done, or why not.
    pub notice: Option<String>,
}

/// The home of each role.
pub fn home(role: Role) -> &'static str {
    match role {
        Role::Operator => "/desk",
        Role::Department => "/workbench",
        Role::Supervisor => "/board",
        Role::Admin => "/admin/calendar",
    }
}

impl Frame {
    pub fn new(who: &Signed, title: &str, names: &BTreeMap<String, String>) -> Frame {
        let session: &Session = who.session();
        let role = session.actor.role().expect("a person");
        let items: &[(&'static str, &'static str)] = match role {
            Role::Operator => &[
                ("/desk", "话务员工作台"),
                ("/tickets/new", "受理登记"),
                ("/tickets", "工单查询"),
                ("/knowledge", "知识库"),
                ("/reports", "考核报表"),
            ],
            Role::Department => &[
                ("/workbench", "承办工作台"),
                ("/tickets", "工单查询"),
                ("/knowledge", "知识库"),
                ("/reports", "考核报表"),
            ],
            Role::Supervisor => &[
                ("/board", "督办台"),
                ("/tickets", "工单查询"),
                ("/knowledge", "知识库"),
                ("/reports", "考核报表"),
            ],
            Role::Admin => &[
                ("/admin/calendar", "工作日历"),
                ("/tickets", "工单查询"),
                ("/knowledge", "知识库"),
                ("/reports", "考核报表"),
            ],
        };
        let path = who.0.here.split('?').next().unwrap_or("/");
        let assets = render::assets();
        Frame {
            title: title.to_string(),
            username: session.actor.username().unwrap_or_default().to_string(),
            role: role.as_str(),
            role_label: words::role(role),
            department: session.actor.department().map(|d| {
                names
                    .get(d.as_str())
                    .cloned()
                    .unwrap_or_else(|| d.to_string())
            }),
            csrf: session.csrf_token.clone(),
            large: who.0.large_text,
            css: assets.css.path.clone(),
            js: assets.js.path.clone(),
            nav: items
                .iter()
                .map(|(href, label)| Nav {
                    href,
                    label,
                    current: path == *href,
                })
                .collect(),
            here: who.0.here.clone(),
            notice: None,
        }
    }
}

/// How a deadline stands, in 工作日: `剩余 1.5 个工作日`, `已超期 2 个工作日`; and a class for
/// its colour (`ok`, `soon` within a working day, `late`).
pub fn due_wording(
    due: Option<NaiveDateTime>,
    now: NaiveDateTime,
    calendar: &Calendar,
) -> (String, &'static str) {
    let Some(due) = due else {
        return ("—".into(), "none");
    };
    let per_day = calendar.minutes_per_working_day().max(1) as f64;
    if due >= now {
        let days = calendar.working_minutes(now, due) as f64 / per_day;
        let class = if days < 1.0 { "soon" } else { "ok" };
        if days < 0.05 {
            ("今日到期（剩余不足 0.1 个工作日）".into(), "soon")
        } else {
            (
                format!("剩余 {} 个工作日", words::working_days(days)),
                class,
            )
        }
    } else {
        let days = calendar.working_minutes(due, now) as f64 / per_day;
        if days < 0.05 {
            ("已超期（不足 0.1 个工作日）".into(), "late")
        } else {
            (
                format!("已超期 {} 个工作日", words::working_days(days)),
                "late",
            )
        }
    }
}

/// One case in a list.
#[derive(Serialize)]
pub struct Row {
    id: String,
    number: String,
    state: &'static str,
    state_label: &'static str,
    category: &'static str,
    subject: String,
    enterprise: String,
    lead: Option<String>,
    due: String,
    due_class: &'static str,
    level: i32,
    level_label: &'static str,
    created: String,
}

pub fn rows(
    tickets: &[Ticket],
    names: &BTreeMap<String, String>,
    now: NaiveDateTime,
    calendar: &Calendar,
    tz: Tz,
) -> Vec<Row> {
    tickets
        .iter()
        .map(|t| {
            let (due, due_class) = due_wording(t.due_at, now, calendar);
            Row {
                id: t.id.to_string(),
                number: t.number.clone(),
                state: t.state.as_str(),
                state_label: words::state(t.state),
                category: words::category(t.category),
                subject: t.subject.clone(),
                enterprise: t.enterprise.name.clone(),
                lead: t.lead_department.as_ref().map(|d| {
                    names
                        .get(d.as_str())
                        .cloned()
                        .unwrap_or_else(|| d.to_string())
                }),
                due,
                due_class,
                level: t.escalation_level,
                level_label: words::escalation_level(t.escalation_level),
                created: words::moment(t.created_at, tz),
            }
        })
        .collect()
}
