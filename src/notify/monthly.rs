//! The monthly report (月度考核报表) to leadership and supervisors: on the first working day of a
//! month, once `mail.digest_at` has passed, last month's workbook — figures by department,
//! category and channel, the ranking, the cases overdue at the month's end — written into the
//! outbox with the workbook attached, once per month (its Message-ID says which month).

use super::recipients;
use crate::app::error::AppError;
use crate::app::reports::{self, Period, export};
use crate::app::state::Settings;
use crate::domain::figures::{Figure, GroupBy};
use crate::domain::notification::Recipient;
use crate::domain::ticket::Actor;
use crate::domain::{kpi, time};
use crate::store::rows::OutboxRow;
use crate::store::{DbConn, conn, outbox};
use base64::Engine;
use chrono::{Datelike, NaiveDateTime, NaiveTime};
use serde_json::json;
use std::collections::BTreeSet;

/// The report of the month before `date` has one Message-ID, which also keeps it to one.
pub fn message_id(period: &Period) -> String {
    format!(
        "<monthly-{:04}-{:02}@closedloop>",
        period.from.year(),
        period.from.month()
    )
}

/// Whether `now` is on or after the month's first working day at `at` (local).
fn due(now: NaiveDateTime, at: NaiveTime, settings: &Settings) -> bool {
    let calendar = settings.calendars.current();
    let local = now.and_utc().with_timezone(&settings.timezone);
    let today = local.date_naive();
    let first_working = today
        .with_day(1)
        .expect("the first of the month")
        .iter_days()
        .find(|d| calendar.is_working_day(*d))
        .expect("a working day in every month");
    today > first_working || (today == first_working && local.time() >= at)
}

/// Writes last month's report into the outbox when it is due and not written yet. Returns
/// whether it wrote one.
pub fn queue(
    conn: &mut DbConn,
    at: NaiveTime,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    if !settings.kpi.monthly_report || !due(now, at, settings) {
        return Ok(false);
    }
    let period = Period::last_month(kpi::local_day(now, settings.timezone));
    let message_id = message_id(&period);
    if outbox::exists(conn, &message_id)? {
        return Ok(false);
    }
    // Read before the write transaction: the figures take longer than a write should hold.
    let all = Actor::System;
    let mut tables = vec![];
    let mut total = None;
    for by in GroupBy::ALL {
        let report = reports::kpis(conn, settings, &all, period, *by, now)?;
        if *by == GroupBy::Department {
            total = Some(report.total.clone());
        }
        tables.push(export::kpi_table(&report));
    }
    tables.push(export::ranking_table(&reports::ranking(
        conn, settings, &all, period, now,
    )?));
    let end = time::start_of_day(period.to, settings.timezone).min(now);
    tables.push(export::overdue_table(&reports::overdue(
        conn, settings, &all, end, now,
    )?));
    let workbook = export::xlsx(&tables)
        .map_err(|e| crate::store::StoreError::Corrupt(format!("the monthly workbook: {e}")))?;
    let total = total.expect("the department table");
    let figure = |f: Figure| serde_json::to_value(total.figures[&f]).unwrap_or_default();
    let data = json!({
        "month": format!("{}年{}月", period.from.year(), period.from.month()),
        "from": period.from,
        "to": period.to,
        "figures": {
            "received": figure(Figure::Received),
            "interim_reply_rate": figure(Figure::InterimReplyRate),
            "substantive_reply_3m_rate": figure(Figure::SubstantiveReply3mRate),
            "on_time_completion_rate": figure(Figure::OnTimeCompletionRate),
            "satisfaction_rate": figure(Figure::SatisfactionRate),
            "overdue_open": figure(Figure::OverdueOpen),
        },
        "attachment": {
            "filename": format!("kpi-{:04}-{:02}.xlsx", period.from.year(), period.from.month()),
            "content_type": export::XLSX,
            "base64": base64::engine::general_purpose::STANDARD.encode(&workbook),
        },
    });
    conn::write(conn, |c| -> Result<bool, AppError> {
        let wanted = BTreeSet::from([Recipient::Leadership, Recipient::Supervisors]);
        let found = recipients::resolve(c, &wanted, &settings.mail)?;
        let mut to: Vec<String> = found.into_values().flatten().collect();
        to.sort();
        to.dedup();
        let roles = json!([Recipient::Leadership, Recipient::Supervisors]);
        let row = OutboxRow::summary("monthly", &to, &roles, &data, &message_id, now);
        Ok(outbox::insert_once(c, &row)?)
    })
}
