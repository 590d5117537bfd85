//! Departments (承办单位): the lead and co-handling units a ticket is dispatched to.

use super::conn::DbConn;
use super::schema::departments;
use super::{StoreError, backend};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub email: String,
    pub head_email: Option<String>,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

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

/// Which of `codes` name existing departments.
pub fn existing(conn: &mut DbConn, codes: &[String]) -> Result<BTreeSet<String>, StoreError> {
    if codes.is_empty() {
        return Ok(BTreeSet::new());
    }
    let found: Vec<String> = departments::table
        .filter(departments::code.eq_any(codes))
        .select(departments::code)
        .load(conn)?;
    Ok(found.into_iter().collect())
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
