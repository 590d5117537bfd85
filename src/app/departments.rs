//! The departments cases are dispatched to, as everyone signed in may read them.

use super::error::AppError;
use crate::store::rows::DepartmentRow;
use crate::store::{DbConn, departments};

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

/// Every department's name by code, for pages and mail.
pub fn names(conn: &mut DbConn) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    Ok(departments::names(conn)?)
}
