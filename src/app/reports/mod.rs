//! Reports (DESIGN.md, "Wave 2 contract": KPIs): the figures of a period by department, category
//! or channel, the departments' ranking, and the cases overdue at a moment — each scoped to who
//! asks: supervisors and admins see every unit, a department its own, an operator the hotline's.
//! `rollup` keeps the counts they are summed from; `export` writes them as CSV and XLSX.

pub mod export;
pub mod rollup;

use super::error::AppError;
use super::state::Settings;
use crate::domain::FieldError;
use crate::domain::figures::{self, Figure, GroupBy, Measure, Sums};
use crate::domain::kpi;
use crate::domain::ticket::{Actor, Category, Channel, Role};
use crate::domain::{DepartmentCode, time, words};
use crate::store::kpi::{self as counts, Dimension};
use crate::store::{self, DbConn};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// The key of the hotline's own figures among the departments'.
pub const HOTLINE: &str = "hotline";

/// A period of local days, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The longest period a report covers: ten years of days.
const LONGEST: i64 = 3660;

impl Period {
    /// `from` and `to` as the API takes them (`YYYY-MM-DD`), checked: 422 naming the field.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Period, FieldError> {
        let day = |field: &str, text: Option<&str>| -> Result<NaiveDate, FieldError> {
            let text = text.ok_or_else(|| FieldError::new(field, "is required (YYYY-MM-DD)"))?;
            let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))?;
            if !time::YEARS.contains(&day.year()) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "must be in the years {} to {}",
                        time::YEARS.start(),
                        time::YEARS.end()
                    ),
                ));
            }
            Ok(day)
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if from >= to {
            return Err(FieldError::new(
                "to",
                "must be after from (the period is [from, to))",
            ));
        }
        if (to - from).num_days() > LONGEST {
            return Err(FieldError::new("to", "a period spans at most ten years"));
        }
        Ok(Period { from, to })
    }

    /// The month before the one `today` is in.
    pub fn last_month(today: NaiveDate) -> Period {
        let this = today.with_day(1).expect("the first of a month");
        let from = this
            .checked_sub_months(chrono::Months::new(1))
            .expect("a month before");
        Period { from, to: this }
    }

    /// Its end as a UTC moment: local midnight starting `to`.
    fn end(&self, settings: &Settings) -> NaiveDateTime {
        time::start_of_day(self.to, settings.timezone)
    }
}

/// Whose figures a person may see: every unit's, or one unit's (`None`: the hotline's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Unit(Option<DepartmentCode>),
}

impl Scope {
    pub fn of(actor: &Actor) -> Scope {
        match actor.role() {
            Some(Role::Department) => Scope::Unit(actor.department().cloned()),
            Some(Role::Operator) => Scope::Unit(None),
            _ => Scope::All,
        }
    }

    fn unit(&self) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Unit(u) => Some(counts::unit_text(u.as_ref())),
        }
    }
}

/// One row of the table: a unit, category or channel (or the total) and its figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub key: String,
    pub name: String,
    /// Every figure, by its name.
    #[schema(value_type = BTreeMap<String, figures::MeasureSchema>)]
    pub figures: BTreeMap<Figure, Measure>,
    #[serde(skip)]
    #[schema(ignore)]
    pub sums: Sums,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: GroupBy,
    /// When it was made, and when cases were judged overdue (the period's end, or now).
    pub generated_at: String,
    pub overdue_at: String,
    pub groups: Vec<Row>,
    pub total: Row,
}

fn row(key: String, name: String, sums: Sums, settings: &Settings) -> Row {
    let per_day = settings.calendars.current().minutes_per_working_day();
    Row {
        figures: figures::all(&sums, per_day),
        key,
        name,
        sums,
    }
}

/// The groups a report lists, with their names, in the order it lists them: every department
/// (and the hotline), every category or every channel — those with nothing to count too.
fn groups(
    conn: &mut DbConn,
    settings: &Settings,
    by: GroupBy,
    scope: &Scope,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(match by {
        GroupBy::Department => {
            let names = settings.department_names.get(conn)?;
            let mut all = vec![(String::new(), "12345热线".to_string())];
            all.extend(
                names
                    .iter()
                    .map(|(code, name)| (code.clone(), name.clone())),
            );
            match scope.unit() {
                Some(unit) => all.into_iter().filter(|(k, _)| *k == unit).collect(),
                None => all,
            }
        }
        GroupBy::Category => Category::ALL
            .iter()
            .map(|c| (c.to_string(), words::category(*c).to_string()))
            .collect(),
        GroupBy::Channel => Channel::ALL
            .iter()
            .map(|c| (c.to_string(), words::channel(*c).to_string()))
            .collect(),
    })
}

/// The figures of `period` by `by`, as `actor` may see them, made at `now`.
pub fn kpis(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    period: Period,
    by: GroupBy,
    now: NaiveDateTime,
) -> Result<Report, AppError> {
    let scope = Scope::of(actor);
    let unit = scope.unit();
    let tz = settings.timezone;
    let today = kpi::local_day(now, tz);
    let dimension = match by {
        GroupBy::Department => Dimension::Unit,
        GroupBy::Category => Dimension::Category,
        GroupBy::Channel => Dimension::Channel,
    };
    let summed = counts::sums(
        conn,
        period.from,
        period.to,
        dimension,
        unit.as_deref(),
        kpi::three_months_cutoff(today),
        today,
    )?;
    let overdue_at = period.end(settings).min(now);
    let (overdue, overdue_total) =
        counts::overdue_counts(conn, overdue_at, dimension, unit.as_deref())?;
    let mut by_key: BTreeMap<String, Sums> = BTreeMap::new();
    for g in summed {
        let s = by_key.entry(g.key).or_default();
        s.tally.add(&g.tally);
        s.unreplied_old += g.unreplied_old;
        s.handle_counted += g.handle_counted;
        s.interim_counted += g.interim_counted;
    }
    for (key, n) in overdue {
        by_key.entry(key).or_default().overdue_open = n;
    }
    // 知识库更新数: by the department an article belongs to; in the total only, by category or
    // channel; a department's own only, for a department.
    let mut knowledge_total = 0;
    let (start, end) = (
        time::start_of_day(period.from, tz),
        time::start_of_day(period.to, tz),
    );
    for (department, n) in store::knowledge::updates_by_department(conn, start, end)? {
        if unit.as_deref().is_some_and(|u| u != department) {
            continue;
        }
        knowledge_total += n;
        if by == GroupBy::Department {
            by_key.entry(department).or_default().knowledge_updates = n;
        }
    }
    let mut total = Sums::default();
    let mut rows = vec![];
    for (key, name) in groups(conn, settings, by, &scope)? {
        let sums = by_key.remove(&key).unwrap_or_default();
        total.add(&sums);
        let shown = if by == GroupBy::Department && key.is_empty() {
            HOTLINE.to_string()
        } else {
            key
        };
        rows.push(row(shown, name, sums, settings));
    }
    // Counts of units no longer listed (none today: departments are never deleted) still add up.
    for sums in by_key.values() {
        total.add(sums);
    }
    total.overdue_open = overdue_total;
    total.knowledge_updates = knowledge_total;
    Ok(Report {
        from: period.from,
        to: period.to,
        group_by: by,
        generated_at: time::rfc3339(now, tz),
        overdue_at: time::rfc3339(overdue_at, tz),
        groups: rows,
        total: row("total".into(), "合计".into(), total, settings),
    })
}

/// A department's place in the ranking.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    /// 1 for the best; departments with the same score share a rank.
    pub rank: usize,
    pub key: String,
    pub name: String,
    pub score: f64,
    /// Cases dispatched or assigned to it in the period (总工单数).
    pub cases: i64,
    /// The weighted figures, by name.
    #[schema(value_type = BTreeMap<String, figures::MeasureSchema>)]
    pub figures: BTreeMap<Figure, Measure>,
}

/// A department with no cases in any weighted figure: listed apart, not ranked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unranked {
    pub key: String,
    pub name: String,
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranking {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub generated_at: String,
    /// The weights the scores were made with, by figure.
    #[schema(value_type = BTreeMap<String, figures::Weight>)]
    pub weights: BTreeMap<Figure, figures::Weight>,
    /// How many departments were ranked.
    pub of: usize,
    pub ranked: Vec<Ranked>,
    pub unranked: Vec<Unranked>,
    /// 红榜 and 黑榜: the keys of the best and the worst (`kpi.board_size` each, at most half).
    pub red: Vec<String>,
    pub black: Vec<String>,
}

/// The departments ranked by score over `period`. A department sees only its own place; an
/// operator, none (403).
pub fn ranking(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    period: Period,
    now: NaiveDateTime,
) -> Result<Ranking, AppError> {
    if actor.role() == Some(Role::Operator) {
        return Err(crate::domain::lifecycle::DomainError::Forbidden(
            "the ranking is of departments; operators see the hotline's figures".into(),
        )
        .into());
    }
    let all = kpis(
        conn,
        settings,
        &Actor::System,
        period,
        GroupBy::Department,
        now,
    )?;
    let weights = settings.kpi.weights.clone();
    let mut ranked = vec![];
    let mut unranked = vec![];
    for r in all.groups.into_iter().filter(|r| r.key != HOTLINE) {
        let cases = r.sums.tally.get(kpi::Counter::Dispatched);
        match figures::score(&r.figures, &weights) {
            Some(score) => ranked.push(Ranked {
                rank: 0,
                figures: r
                    .figures
                    .into_iter()
                    .filter(|(f, _)| weights.contains_key(f))
                    .collect(),
                key: r.key,
                name: r.name,
                score,
                cases,
            }),
            None => unranked.push(Unranked {
                key: r.key,
                name: r.name,
                cases,
            }),
        }
    }
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.cases.cmp(&a.cases)));
    for i in 0..ranked.len() {
        ranked[i].rank = if i > 0 && ranked[i].score == ranked[i - 1].score {
            ranked[i - 1].rank
        } else {
            i + 1
        };
    }
    let board = settings.kpi.board_size.min(ranked.len() / 2);
    let red = ranked[..board].iter().map(|r| r.key.clone()).collect();
    let black = ranked[ranked.len() - board..]
        .iter()
        .rev()
        .map(|r| r.key.clone())
        .collect();
    let mut out = Ranking {
        from: period.from,
        to: period.to,
        generated_at: all.generated_at,
        weights,
        of: ranked.len(),
        ranked,
        unranked,
        red,
        black,
    };
    if let Scope::Unit(unit) = Scope::of(actor) {
        let mine = unit.map(|u| u.to_string()).unwrap_or_default();
        out.ranked.retain(|r| r.key == mine);
        out.unranked.retain(|r| r.key == mine);
        out.red.retain(|k| *k == mine);
        out.black.retain(|k| *k == mine);
    }
    Ok(out)
}

/// One case overdue at the moment asked, at one of its timers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverdueCase {
    pub id: String,
    pub number: String,
    pub subject: String,
    pub enterprise: String,
    pub category: String,
    pub channel: String,
    pub state: String,
    /// Who answers for the stage: a department's code, or `hotline`.
    pub unit: String,
    pub unit_name: String,
    pub timer: String,
    pub due_at: String,
    /// Working days past the deadline at the moment asked.
    pub overdue_wd: f64,
    pub level: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverdueReport {
    pub at: String,
    pub generated_at: String,
    /// Cases overdue (each once), and the timers listed (at most `OVERDUE_SHOWN`).
    pub total: i64,
    pub items: Vec<OverdueCase>,
    pub truncated: bool,
}

/// How many overdue timers a report lists.
pub const OVERDUE_SHOWN: i64 = 10_000;

/// `at` as the API takes it: an RFC 3339 time, or a date meaning its end (local midnight after).
pub fn parse_moment(text: &str, settings: &Settings) -> Result<NaiveDateTime, FieldError> {
    let at = time::parse_time_or_date("at", text, settings.timezone, true)?;
    if !time::writable(at, settings.timezone) {
        return Err(FieldError::new(
            "at",
            format!("must end by the year {}", time::YEARS.end()),
        ));
    }
    Ok(at)
}

/// The cases with a timer running and past due at `at`, as `actor` may see them.
pub fn overdue(
    conn: &mut DbConn,
    settings: &Settings,
    actor: &Actor,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<OverdueReport, AppError> {
    let unit = Scope::of(actor).unit();
    let rows = counts::overdue(conn, at, unit.as_deref(), OVERDUE_SHOWN + 1)?;
    let (_, total) = counts::overdue_counts(conn, at, Dimension::Unit, unit.as_deref())?;
    let names = settings.department_names.get(conn)?;
    let calendar = settings.calendars.current();
    let per_day = calendar.minutes_per_working_day().max(1) as f64;
    let tz = settings.timezone;
    let truncated = rows.len() as i64 > OVERDUE_SHOWN;
    let items = rows
        .into_iter()
        .take(OVERDUE_SHOWN as usize)
        .map(|o| OverdueCase {
            unit_name: if o.unit.is_empty() {
                "12345热线".into()
            } else {
                names
                    .get(&o.unit)
                    .cloned()
                    .unwrap_or_else(|| o.unit.clone())
            },
            unit: if o.unit.is_empty() {
                HOTLINE.into()
            } else {
                o.unit
            },
            overdue_wd: (calendar.working_minutes(o.due_at, at) as f64 / per_day * 10.0).round()
                / 10.0,
            due_at: time::rfc3339(o.due_at, tz),
            id: o.ticket_id,
            number: o.number,
            subject: o.subject,
            enterprise: o.enterprise,
            category: o.category,
            channel: o.channel,
            state: o.state,
            timer: o.kind,
            level: o.level,
        })
        .collect();
    Ok(OverdueReport {
        at: time::rfc3339(at, tz),
        generated_at: time::rfc3339(now, tz),
        total,
        items,
        truncated,
    })
}

/// Cases received in a period, day by day (every day, none left out) and by category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub days: Vec<(NaiveDate, i64)>,
    pub categories: Vec<(Category, i64)>,
}

/// What `actor` may see of the cases received in `period`, by day and by category.
pub fn received(conn: &mut DbConn, actor: &Actor, period: Period) -> Result<Received, AppError> {
    let unit = Scope::of(actor).unit();
    let by_day: BTreeMap<String, i64> =
        counts::received(conn, period.from, period.to, true, unit.as_deref())?
            .into_iter()
            .collect();
    let by_category: BTreeMap<String, i64> =
        counts::received(conn, period.from, period.to, false, unit.as_deref())?
            .into_iter()
            .collect();
    let days = period
        .from
        .iter_days()
        .take_while(|d| *d < period.to)
        .map(|d| (d, by_day.get(&d.to_string()).copied().unwrap_or(0)))
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|c| (*c, by_category.get(c.as_str()).copied().unwrap_or(0)))
        .collect();
    Ok(Received { days, categories })
}
