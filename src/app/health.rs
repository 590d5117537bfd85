//! How the service stands, for `/readyz`, `/metrics` and `closedloop check`: whether the database
//! is migrated, and the gauges of tickets, deadlines and the outbox.

use super::error::AppError;
use super::state::Settings;
use crate::metrics;
use crate::store::{DbConn, conn, outbox, tickets, timers};
use chrono::NaiveDateTime;

/// Whether the database has every migration this binary knows; when it has, the calendar is
/// refreshed on the way.
pub fn migrated(conn: &mut DbConn, settings: &Settings) -> Result<bool, AppError> {
    let migrated = conn::migrations_current(conn)?;
    if migrated {
        settings.calendars.refresh(conn)?;
    }
    Ok(migrated)
}

/// Sets the database's gauges: tickets by state, overdue timers and timers counted past the known
/// calendar, notifications by status.
pub fn observe(conn: &mut DbConn, now: NaiveDateTime) -> Result<(), AppError> {
    let (overdue, beyond) = timers::gauges(conn, now)?;
    metrics::set_deadline_gauges(overdue, beyond);
    metrics::set_outbox_depth(&outbox::depth(conn)?);
    metrics::set_tickets_by_state(&tickets::count_by_state(conn)?);
    Ok(())
}
