//! Departments (承办单位): the lead and co-handling units a ticket is dispatched to.

use super::backend;
use super::conn::DbConn;
use super::error::StoreError;
use super::rows::DepartmentRow;
use super::schema::departments;
use crate::domain::DepartmentCode;
use diesel::prelude::*;
use std::collections::BTreeSet;

pub fn list(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DepartmentRow>, StoreError> {
    let mut query = departments::table
        .select(DepartmentRow::as_select())
        .order(departments::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(departments::code.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn find(conn: &mut DbConn, code: &str) -> Result<Option<DepartmentRow>, StoreError> {
    Ok(departments::table
        .find(code)
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which of `codes` name existing departments. The callers' lists are bounded (a dispatch names
/// at most 21), so this is one short `IN (…)`.
pub fn existing(
    conn: &mut DbConn,
    codes: &[DepartmentCode],
) -> Result<BTreeSet<DepartmentCode>, StoreError> {
    if codes.is_empty() {
        return Ok(BTreeSet::new());
    }
    let codes: Vec<&str> = codes.iter().map(DepartmentCode::as_str).collect();
    let found: Vec<String> = departments::table
        .filter(departments::code.eq_any(codes))
        .select(departments::code)
        .load(conn)?;
    Ok(found.into_iter().map(DepartmentCode::from_stored).collect())
}

/// The mailbox and head's address of each of `codes` that exists.
pub fn mailboxes(
    conn: &mut DbConn,
    codes: &[&str],
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    Ok(departments::table
        .filter(departments::code.eq_any(codes))
        .select((
            departments::code,
            departments::email,
            departments::head_email,
        ))
        .load(conn)?)
}

pub fn insert_if_missing(conn: &mut DbConn, row: &DepartmentRow) -> Result<bool, StoreError> {
    backend::insert_department_if_missing(conn, row)
}

/// Every department's name by code, for mail.
pub fn names(conn: &mut DbConn) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = departments::table
        .select((departments::code, departments::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
