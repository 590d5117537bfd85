//! The people who sign in: finding the active user of a name for the password check (the API's
//! `/auth/token`, the CLI's `token`), and adding a user (`closedloop user add`, the seeds).

use super::error::AppError;
use crate::auth;
use crate::domain::FieldError;
use crate::domain::ticket::Role;
use crate::store::rows::UserRow;
use crate::store::{self, DbConn, departments, users};
use serde::Deserialize;

/// A user to add, as `closedloop user add` and `seeds/demo.toml` give one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub department: Option<String>,
    pub email: Option<String>,
}

/// The user of this name, active or not.
pub fn find_user(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::find_by_username(conn, username)?)
}

/// The active user of this name, if there is one.
pub fn active_user(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(find_user(conn, username)?.filter(|u| u.active))
}

/// Adds a user, the password hashed with argon2. A duplicate name, a department user without a
/// department or an unknown department is refused, naming the field.
pub fn add_user(conn: &mut DbConn, user: &NewUser, password: Option<&str>) -> Result<(), AppError> {
    let invalid = |field: &str, message: String| -> AppError {
        crate::domain::lifecycle::DomainError::from(FieldError::new(field, message)).into()
    };
    match (&user.role, &user.department) {
        (Role::Department, None) => {
            return Err(invalid(
                "department",
                "a department user needs a department".into(),
            ));
        }
        (_, Some(code)) if departments::find(conn, code)?.is_none() => {
            return Err(invalid(
                "department",
                format!("unknown department '{code}' (run `closedloop seed` first?)"),
            ));
        }
        _ => {}
    }
    if users::find_by_username(conn, &user.username)?.is_some() {
        return Err(invalid(
            "username",
            format!("user '{}' exists already", user.username),
        ));
    }
    users::insert(
        conn,
        &UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            username: user.username.clone(),
            password_hash: password.map(auth::hash_password),
            role: user.role.to_string(),
            department_code: user.department.clone(),
            email: user.email.clone(),
            active: true,
            created_at: store::now(),
        },
    )?;
    Ok(())
}
