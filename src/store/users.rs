//! People who sign in: operators, department staff, supervisors and admins.

use super::StoreError;
use super::conn::DbConn;
use super::schema::users;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub department_code: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

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
