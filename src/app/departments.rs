//! The departments cases are dispatched to, as everyone signed in may read them.

use super::error::AppError;
use super::state::Settings;
use crate::store::rows::DepartmentRow;
use crate::store::{DbConn, departments};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Departments in code order, after `after`, up to `limit`.
pub fn list(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DepartmentRow>, AppError> {
    Ok(departments::list(conn, after, limit)?)
}

/// Adds a department unless one with its code exists; whether it was added.
pub fn add_if_missing(conn: &mut DbConn, row: &DepartmentRow) -> Result<bool, AppError> {
    Ok(departments::insert_if_missing(conn, row)?)
}

/// Every department's name by code, for pages: held by `settings` for a few seconds.
pub fn names(
    conn: &mut DbConn,
    settings: &Settings,
) -> Result<Arc<BTreeMap<String, String>>, AppError> {
    Ok(settings.department_names.get(conn)?)
}
