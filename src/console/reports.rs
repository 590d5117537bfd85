//! `/reports` (考核报表): a period's figures as a table by department, category or channel, the
//! ranking, and charts a person would rather look at than read — the two rates the district
//! plan sets against their targets, cases received per day, the categories' shares — drawn on
//! the server as SVG (no script, nothing inline the CSP would refuse). `/reports/export` hands
//! the same tables over as CSV or Excel. Scoped as the API's reports.

use super::frame::Frame;
use super::render::page;
use super::visitor::{Refusal, Signed};
use crate::api::reports::{Format, file};
use crate::api::state::{AppState, db};
use crate::app::reports::{self, Period, Received, Report, export};
use crate::domain::figures::{Figure, GroupBy, Measure};
use crate::domain::ticket::{Actor, Role};
use crate::domain::{kpi, words};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
pub struct Query {
    /// this_month (default), last_month, this_year, custom.
    period: Option<String>,
    /// For `custom`: the first and the last day, both taken in.
    from: Option<String>,
    until: Option<String>,
    group_by: Option<String>,
    /// For `/reports/export`: kpis, ranking or overdue; csv or xlsx.
    what: Option<String>,
    format: Option<String>,
}

/// The period a query asks for, as the form shows it, or why not (field → message).
fn period(q: &Query, today: NaiveDate) -> (String, Result<Period, BTreeMap<String, String>>) {
    let month = today.with_day(1).expect("the first of the month");
    let next_month = month
        .checked_add_months(chrono::Months::new(1))
        .expect("a next month");
    let kind = q.period.clone().unwrap_or_else(|| "this_month".into());
    let chosen = match kind.as_str() {
        "last_month" => Ok(Period::last_month(today)),
        "this_year" => Ok(Period {
            from: NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("1 January"),
            to: NaiveDate::from_ymd_opt(today.year() + 1, 1, 1).expect("1 January"),
        }),
        "custom" => {
            let mut errors = BTreeMap::new();
            let day = |field: &str, text: Option<&str>, errors: &mut BTreeMap<String, String>| {
                let parsed = text
                    .map(str::trim)
                    .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                    .filter(|d| crate::domain::time::YEARS.contains(&d.year()));
                if parsed.is_none() {
                    errors.insert(field.to_string(), "请选择日期（如 2026-11-01）".to_string());
                }
                parsed
            };
            let from = day("from", q.from.as_deref(), &mut errors);
            let until = day("until", q.until.as_deref(), &mut errors);
            match (from, until) {
                (Some(from), Some(until)) => match until
                    .succ_opt()
                    .map(|to| Period::parse(Some(&from.to_string()), Some(&to.to_string())))
                {
                    Some(Ok(p)) => Ok(p),
                    _ => {
                        errors.insert(
                            "until".into(),
                            "结束日期不能早于开始日期，且统计期间不超过十年".into(),
                        );
                        Err(errors)
                    }
                },
                _ => Err(errors),
            }
        }
        _ => Ok(Period {
            from: month,
            to: next_month,
        }),
    };
    (kind, chosen)
}

fn group_by(q: &Query) -> GroupBy {
    q.group_by
        .as_deref()
        .and_then(|g| g.parse().ok())
        .unwrap_or(GroupBy::Department)
}

/// A figure in a table cell: `90.0%` with `9/10` beside it, a count, or "—".
#[derive(Serialize)]
struct Shown {
    text: String,
    parts: Option<String>,
    /// Below the plan's target (a rate), for colour.
    low: bool,
}

fn shown(f: Figure, m: &Measure, targets: &BTreeMap<Figure, f64>) -> Shown {
    use crate::domain::figures::Kind;
    match m.kind {
        Kind::Count => Shown {
            text: (m.numerator as i64).to_string(),
            parts: None,
            low: false,
        },
        Kind::Rate => Shown {
            text: m.value.map_or("—".into(), |v| format!("{:.1}%", v * 100.0)),
            parts: Some(format!(
                "{}/{}",
                m.numerator as i64,
                m.denominator.unwrap_or(0)
            )),
            low: match (m.value, targets.get(&f)) {
                // Lower is better where the floor is above the target.
                (Some(v), Some(t)) if f == Figure::ReturnRate || f == Figure::ReopenRate => {
                    v > *t + 0.1
                }
                (Some(v), Some(t)) => v < *t,
                _ => false,
            },
        },
        Kind::Mean => Shown {
            text: m.value.map_or("—".into(), |v| format!("{v:.1}")),
            parts: m.denominator.map(|d| format!("{d} 件")),
            low: false,
        },
    }
}

/// The figures the page's table shows, in order (the workbook has them all).
const COLUMNS: &[Figure] = &[
    Figure::Received,
    Figure::SignOnTimeRate,
    Figure::OnTimeCompletionRate,
    Figure::InterimReplyRate,
    Figure::SubstantiveReply3mRate,
    Figure::SatisfactionRate,
    Figure::ReturnRate,
    Figure::ReopenRate,
    Figure::OverdueOpen,
    Figure::Supervised,
    Figure::Extensions,
    Figure::AvgHandlingWd,
];

#[derive(Serialize)]
struct TableRow {
    name: String,
    total: bool,
    cells: Vec<Shown>,
}

#[derive(Serialize)]
struct Column {
    label: &'static str,
    key: &'static str,
}

/// The table's rows: the groups with anything to count (the others are named apart), then the
/// total.
fn table(report: &Report, targets: &BTreeMap<Figure, f64>) -> (Vec<TableRow>, Vec<String>) {
    let quiet = |r: &&reports::Row| r.sums == crate::domain::figures::Sums::default();
    let idle = report
        .groups
        .iter()
        .filter(quiet)
        .map(|r| r.name.clone())
        .collect();
    let rows = report
        .groups
        .iter()
        .filter(|r| !quiet(r))
        .map(|r| (r, false))
        .chain(std::iter::once((&report.total, true)))
        .map(|(r, total)| TableRow {
            name: r.name.clone(),
            total,
            cells: COLUMNS
                .iter()
                .map(|f| shown(*f, &r.figures[f], targets))
                .collect(),
        })
        .collect();
    (rows, idle)
}

/// One bar of the rates chart: a unit's rate, with its length on a 0–100 % scale.
#[derive(Serialize)]
struct Bar {
    value: Option<String>,
    width: f64,
}

#[derive(Serialize)]
struct RateLine {
    name: String,
    interim: Bar,
    replied: Bar,
}

/// Pixels of the rates chart for 100 %.
const SCALE: f64 = 420.0;

fn bar(m: &Measure) -> Bar {
    Bar {
        value: m.value.map(|v| format!("{:.1}%", v * 100.0)),
        width: (m.value.unwrap_or(0.0) * SCALE * 10.0).round() / 10.0,
    }
}

/// The units with something to show for the plan's two rates.
fn rate_lines(report: &Report) -> Vec<RateLine> {
    report
        .groups
        .iter()
        .filter(|r| {
            r.figures[&Figure::InterimReplyRate].value.is_some()
                || r.figures[&Figure::SubstantiveReply3mRate].value.is_some()
        })
        .map(|r| RateLine {
            name: r.name.clone(),
            interim: bar(&r.figures[&Figure::InterimReplyRate]),
            replied: bar(&r.figures[&Figure::SubstantiveReply3mRate]),
        })
        .collect()
}

/// Received per day as a line: the points of a polyline in a 680 × 160 box, and its labels.
#[derive(Serialize)]
struct Line {
    points: String,
    max: i64,
    total: i64,
    first: String,
    last: String,
    /// The busiest day, for the description.
    peak: String,
    dots: Vec<(f64, f64, String)>,
}

fn line(received: &Received) -> Line {
    let (w, h) = (680.0, 160.0);
    let n = received.days.len().max(1);
    let max = received.days.iter().map(|(_, c)| *c).max().unwrap_or(0);
    let top = max.max(1) as f64;
    let x = |i: usize| {
        if n == 1 {
            w / 2.0
        } else {
            (i as f64 * w / (n - 1) as f64 * 10.0).round() / 10.0
        }
    };
    let y = |c: i64| ((h - c as f64 / top * h) * 10.0).round() / 10.0;
    let points = received
        .days
        .iter()
        .enumerate()
        .map(|(i, (_, c))| format!("{},{}", x(i), y(*c)))
        .collect::<Vec<_>>()
        .join(" ");
    let peak = received
        .days
        .iter()
        .max_by_key(|(_, c)| *c)
        .filter(|(_, c)| *c > 0)
        .map(|(d, c)| format!("{}月{}日最多，{c} 件", d.month(), d.day()))
        .unwrap_or_else(|| "期间没有受理".into());
    // Dots for a month or so; a year's line is read as a line.
    let dots = if n <= 62 {
        received
            .days
            .iter()
            .enumerate()
            .map(|(i, (d, c))| (x(i), y(*c), format!("{}月{}日 {c} 件", d.month(), d.day())))
            .collect()
    } else {
        vec![]
    };
    Line {
        points,
        max,
        total: received.days.iter().map(|(_, c)| c).sum(),
        first: received
            .days
            .first()
            .map(|(d, _)| format!("{}月{}日", d.month(), d.day()))
            .unwrap_or_default(),
        last: received
            .days
            .last()
            .map(|(d, _)| format!("{}月{}日", d.month(), d.day()))
            .unwrap_or_default(),
        peak,
        dots,
    }
}

/// A category's share of the cases received: a piece of one 100 % bar, and its legend.
#[derive(Serialize)]
struct Share {
    name: &'static str,
    count: i64,
    percent: String,
    x: f64,
    width: f64,
    colour: &'static str,
}

fn shares(received: &Received) -> Vec<Share> {
    const COLOURS: [&str; 5] = ["#1f4e8c", "#2e7d4f", "#b86e00", "#a4262c", "#6b4c9a"];
    let total: i64 = received.categories.iter().map(|(_, c)| c).sum();
    let mut x = 0.0;
    received
        .categories
        .iter()
        .zip(COLOURS)
        .map(|((c, count), colour)| {
            let share = if total > 0 {
                *count as f64 / total as f64
            } else {
                0.0
            };
            let width = (share * 680.0 * 10.0).round() / 10.0;
            let piece = Share {
                name: words::category(*c),
                count: *count,
                percent: format!("{:.1}%", share * 100.0),
                x,
                width,
                colour,
            };
            x += width;
            piece
        })
        .collect()
}

#[derive(Serialize)]
struct Place {
    rank: usize,
    name: String,
    score: String,
    cases: i64,
    board: &'static str,
    cells: Vec<Shown>,
}

/// The ranking's rows, in order (those with nothing to score are named apart).
fn places(r: &reports::Ranking, targets: &BTreeMap<Figure, f64>) -> Vec<Place> {
    let weighted: Vec<Figure> = r.weights.keys().copied().collect();
    r.ranked
        .iter()
        .map(|x| Place {
            rank: x.rank,
            name: x.name.clone(),
            score: format!("{:.1}", x.score),
            cases: x.cases,
            board: if r.red.contains(&x.key) {
                "red"
            } else if r.black.contains(&x.key) {
                "black"
            } else {
                ""
            },
            cells: weighted
                .iter()
                .map(|f| shown(*f, &x.figures[f], targets))
                .collect(),
        })
        .collect()
}

/// `GET /reports`.
pub async fn show(
    who: Signed,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, Refusal> {
    let actor = who.session().actor.clone();
    let now = crate::store::now();
    let today = kpi::local_day(now, state.settings.timezone);
    let (kind, chosen) = period(&query, today);
    let by = group_by(&query);
    let targets: BTreeMap<Figure, f64> = state
        .settings
        .kpi
        .weights
        .iter()
        .map(|(f, w)| (*f, w.target))
        .collect();
    let st = state.clone();
    let loaded = match chosen.clone() {
        Ok(p) => Some(
            db(&state, move |conn| {
                let s = &st.settings;
                let names = crate::app::departments::names(conn, s)?;
                let units = reports::kpis(conn, s, &actor, p, GroupBy::Department, now)?;
                let table = if by == GroupBy::Department {
                    None
                } else {
                    Some(reports::kpis(conn, s, &actor, p, by, now)?)
                };
                let ranking = match actor.role() {
                    Some(Role::Operator) => None,
                    _ => Some(reports::ranking(conn, s, &actor, p, now)?),
                };
                let received = reports::received(conn, &actor, p)?;
                Ok((names, units, table, ranking, received))
            })
            .await?,
        ),
        Err(_) => None,
    };
    let names = match &loaded {
        Some((names, ..)) => names.clone(),
        None => {
            let st = state.clone();
            db(&state, move |conn| {
                crate::app::departments::names(conn, &st.settings)
            })
            .await?
        }
    };
    let frame = Frame::new(&who, "考核报表", &names);
    let columns: Vec<Column> = COLUMNS
        .iter()
        .map(|f| Column {
            label: f.label(),
            key: f.as_str(),
        })
        .collect();
    let errors = chosen.clone().err().unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (from, until) = match &chosen {
        Ok(p) => (
            p.from.to_string(),
            p.to.pred_opt().unwrap_or(p.to).to_string(),
        ),
        Err(_) => (
            query.from.clone().unwrap_or_default(),
            query.until.clone().unwrap_or_default(),
        ),
    };
    let targets_view = context! {
        interim => targets.get(&Figure::InterimReplyRate).map(|t| t * SCALE),
        interim_label => targets.get(&Figure::InterimReplyRate).map(|t| format!("{:.0}%", t * 100.0)),
        replied => targets.get(&Figure::SubstantiveReply3mRate).map(|t| t * SCALE),
        replied_label => targets.get(&Figure::SubstantiveReply3mRate).map(|t| format!("{:.0}%", t * 100.0)),
    };
    let figures = match (loaded, chosen) {
        (Some((_, units, table_report, ranking, received)), Ok(p)) => {
            let shown_report = table_report.as_ref().unwrap_or(&units);
            let places: Option<Vec<Place>> = ranking.as_ref().map(|r| places(r, &targets));
            let weighted: Vec<&'static str> = ranking
                .as_ref()
                .map(|r| r.weights.keys().map(|f| f.label()).collect())
                .unwrap_or_default();
            let unranked: Vec<String> = ranking
                .as_ref()
                .map(|r| r.unranked.iter().map(|u| u.name.clone()).collect())
                .unwrap_or_default();
            let tz = state.settings.timezone;
            let overdue_at = crate::domain::time::start_of_day(p.to, tz).min(now);
            let last = p.to.pred_opt().unwrap_or(p.to);
            let (rows, idle) = table(shown_report, &targets);
            Some(context! {
                period_text => format!("{} 至 {}", p.from, last),
                rows, idle,
                generated_at => words::moment(now, tz),
                overdue_at => words::moment(overdue_at, tz),
                unranked,
                overdue_total => units.total.sums.overdue_open,
                rates => rate_lines(&units),
                line => line(&received),
                shares => shares(&received),
                places, weighted,
                of => ranking.as_ref().map(|r| r.of),
                query => format!("period=custom&from={}&until={last}&group_by={by}", p.from),
            })
        }
        _ => None,
    };
    let definitions: Vec<_> = COLUMNS
        .iter()
        .map(|f| context! { label => f.label(), text => f.definition() })
        .collect();
    let ctx = context! {
        frame, kind, from, until, errors, columns, figures, definitions,
        group_by => by.as_str(),
        targets => targets_view,
    };
    Ok(page(status, "reports.html", ctx))
}

/// `GET /reports/export?what=kpis|ranking|overdue&format=csv|xlsx` (and the period): the
/// report as a file, as the API gives it.
pub async fn export(
    who: Signed,
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, Refusal> {
    let actor: Actor = who.session().actor.clone();
    let now = crate::store::now();
    let today = kpi::local_day(now, state.settings.timezone);
    let (_, chosen) = period(&query, today);
    let Ok(p) = chosen else {
        return Err(Refusal::NotFound);
    };
    let format = match query.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        _ => return Err(Refusal::NotFound),
    };
    let by = group_by(&query);
    let what = query.what.clone().unwrap_or_else(|| "kpis".into());
    let st = state.clone();
    let (table, name) = db(&state, move |conn| {
        let s = &st.settings;
        Ok(match what.as_str() {
            "ranking" => (
                export::ranking_table(&reports::ranking(conn, s, &actor, p, now)?),
                format!("ranking-{}-{}", p.from, p.to),
            ),
            "overdue" => {
                let at = crate::domain::time::start_of_day(p.to, s.timezone).min(now);
                (
                    export::overdue_table(&reports::overdue(conn, s, &actor, at, now)?),
                    format!("overdue-{}", p.to),
                )
            }
            _ => (
                export::kpi_table(&reports::kpis(conn, s, &actor, p, by, now)?),
                format!("kpis-{by}-{}-{}", p.from, p.to),
            ),
        })
    })
    .await?;
    file(&table, format, &name).map_err(Refusal::from)
}
