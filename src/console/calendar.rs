//! `/admin/calendar`: the working-day calendar for admins — a year's official days off and
//! make-up working days, and loading a year as the State Council publishes it.

use super::forms::{Form, split_list};
use super::frame::Frame;
use super::render::{page, see_other};
use super::visitor::{Refusal, Signed};
use crate::api::state::{AppState, db};
use crate::app::{self, departments};
use crate::domain::calendar::Year;
use crate::domain::ticket::Role;
use crate::domain::{FieldError, time};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Datelike, NaiveDate, Weekday};
use minijinja::context;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
    done: Option<String>,
}

#[derive(Serialize)]
struct Day {
    date: String,
    weekday: &'static str,
}

fn days(set: &std::collections::BTreeSet<NaiveDate>) -> Vec<Day> {
    set.iter()
        .map(|d| Day {
            date: format!("{}月{}日", d.month(), d.day()),
            weekday: match d.weekday() {
                Weekday::Mon => "周一",
                Weekday::Tue => "周二",
                Weekday::Wed => "周三",
                Weekday::Thu => "周四",
                Weekday::Fri => "周五",
                Weekday::Sat => "周六",
                Weekday::Sun => "周日",
            },
        })
        .collect()
}

fn admin_only(who: &Signed) -> Result<(), Refusal> {
    if who.session().actor.role() == Some(Role::Admin) {
        Ok(())
    } else {
        Err(Refusal::Forbidden("工作日历由系统管理员维护。".into()))
    }
}

fn calendar_page(
    who: &Signed,
    state: &AppState,
    names: &BTreeMap<String, String>,
    year: i32,
    status: StatusCode,
    form: Option<(&str, &str, BTreeMap<String, String>)>,
    notice: Option<String>,
) -> HttpResponse {
    let calendar = state.settings.calendars.current();
    let known = calendar.years().get(&year);
    let mut frame = Frame::new(who, "工作日历", names);
    frame.notice = notice;
    let list = |set: Option<&std::collections::BTreeSet<NaiveDate>>| -> String {
        set.map(|s| {
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
    };
    let (off_text, work_text, errors) = match form {
        Some((off, work, errors)) => (off.to_string(), work.to_string(), errors),
        None => (
            list(known.map(|y| &y.off)),
            list(known.map(|y| &y.work)),
            BTreeMap::new(),
        ),
    };
    let years: Vec<i32> = calendar.years().keys().copied().collect();
    page(
        status,
        "calendar.html",
        context! {
            frame, year, known => known.is_some(), years,
            off => known.map(|y| days(&y.off)).unwrap_or_default(),
            work => known.map(|y| days(&y.work)).unwrap_or_default(),
            known_until => calendar.known_until().map(|d| d.to_string()),
            off_text, work_text, errors,
            prev => year - 1, next => year + 1,
        },
    )
}

/// `GET /admin/calendar?year=2027`.
pub async fn show(
    who: Signed,
    state: web::Data<AppState>,
    query: web::Query<YearQuery>,
) -> Result<HttpResponse, Refusal> {
    admin_only(&who)?;
    let this_year = chrono::Utc::now()
        .with_timezone(&state.settings.timezone)
        .year();
    let year = query
        .year
        .filter(|y| time::YEARS.contains(y))
        .unwrap_or(this_year);
    let st = state.clone();
    let names = db(&state, move |conn| departments::names(conn, &st.settings)).await?;
    let notice = query
        .done
        .as_ref()
        .map(|_| format!("{year} 年的日历已载入，相关期限已重新计算。"));
    Ok(calendar_page(
        &who,
        &state,
        &names,
        year,
        StatusCode::OK,
        None,
        notice,
    ))
}

/// Dates one per line (or separated by commas or spaces), each in `year`.
fn dates(
    field: &str,
    text: &str,
    year: i32,
    errors: &mut Vec<FieldError>,
) -> std::collections::BTreeSet<NaiveDate> {
    let mut out = std::collections::BTreeSet::new();
    for item in split_list(text) {
        match NaiveDate::parse_from_str(item, "%Y-%m-%d") {
            Ok(d) if d.year() == year => {
                out.insert(d);
            }
            Ok(_) => errors.push(FieldError::new(field, format!("{item} 不在 {year} 年"))),
            Err(_) => errors.push(FieldError::new(
                field,
                format!("{item} 不是日期（应写成 {year}-01-01）"),
            )),
        }
    }
    out
}

/// `POST /admin/calendar/{year}` (`off`, `work`: dates): replaces the year and counts the running
/// deadlines that reach into it again, as `PUT /api/v1/calendar/{year}` does.
pub async fn load(
    who: Signed,
    state: web::Data<AppState>,
    path: web::Path<i32>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    admin_only(&who)?;
    let year = path.into_inner();
    if !time::YEARS.contains(&year) {
        return Err(Refusal::NotFound);
    }
    let (off_text, work_text) = (
        form.get("off").unwrap_or_default(),
        form.get("work").unwrap_or_default(),
    );
    let mut errors = vec![];
    let days = Year {
        off: dates("off", off_text, year, &mut errors),
        work: dates("work", work_text, year, &mut errors),
    };
    for both in days.off.intersection(&days.work) {
        errors.push(FieldError::new(
            "work",
            format!("{both} 同时列为休息日和调休上班日"),
        ));
    }
    if !errors.is_empty() {
        let st = state.clone();
        let names = db(&state, move |conn| departments::names(conn, &st.settings)).await?;
        let mut by_field = BTreeMap::new();
        for e in &errors {
            by_field
                .entry(e.field.clone())
                .or_insert_with(|| e.message.clone());
        }
        return Ok(calendar_page(
            &who,
            &state,
            &names,
            year,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((off_text, work_text, by_field)),
            Some("日历没有载入：请按提示修改。".into()),
        ));
    }
    let st = state.clone();
    db(&state, move |conn| {
        app::calendar::put_year(conn, &st.settings, year, days)
    })
    .await?;
    Ok(see_other(&format!("/admin/calendar?year={year}&done=1")))
}
