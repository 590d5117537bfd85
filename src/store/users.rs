//! People who sign in: operators, department staff, supervisors and admins.

use super::conn::DbConn;
use super::error::StoreError;
use super::rows::UserRow;
use super::schema::users;
use diesel::prelude::*;

pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConn, user: &UserRow) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

/// The active users with an email who have one of `roles` or belong to one of `departments`:
/// their role, department and address.
pub fn with_email(
    conn: &mut DbConn,
    roles: &[&str],
    departments: &[&str],
) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
    let rows: Vec<(String, Option<String>, Option<String>)> = users::table
        .filter(users::active.eq(true))
        .filter(users::email.is_not_null())
        .filter(
            users::role
                .eq_any(roles)
                .or(users::department_code.eq_any(departments)),
        )
        .select((users::role, users::department_code, users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(role, department, email)| Some((role, department, email?)))
        .collect())
}
