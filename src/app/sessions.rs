//! Console sessions: opened by a sign-in (the same users, hashes and throttling as the API's
//! tokens), found on every console request, ended by logout or by time. The browser holds a
//! random secret; the database its SHA-256, so a copy of the table opens no session.

use super::error::AppError;
use crate::domain::DepartmentCode;
use crate::domain::ticket::{Actor, Role};
use crate::store::rows::{SessionRow, UserRow};
use crate::store::{DbConn, StoreError, sessions};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// A signed-in person, as the console knows them.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    /// What every state-changing form of this session carries (`csrf_token`).
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

/// 32 random bytes, base64url: a session's secret, a form token.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Opens a session for `user` until `now + ttl`; returns the secret for the cookie.
pub fn open(
    conn: &mut DbConn,
    user: &UserRow,
    ttl: chrono::Duration,
    now: NaiveDateTime,
) -> Result<(String, Session), AppError> {
    let secret = random_token();
    let row = SessionRow {
        id: hash(&secret),
        username: user.username.clone(),
        role: user.role.clone(),
        department_code: user.department_code.clone(),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + ttl,
    };
    sessions::insert(conn, &row)?;
    Ok((secret, session(row)?))
}

/// The live session behind a cookie's secret.
pub fn find(
    conn: &mut DbConn,
    secret: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, AppError> {
    sessions::find(conn, &hash(secret), now)?
        .map(session)
        .transpose()
}

/// Ends the session behind a cookie's secret, at once and for good.
pub fn end(conn: &mut DbConn, secret: &str) -> Result<(), AppError> {
    sessions::delete(conn, &hash(secret))?;
    Ok(())
}

/// Forgets expired sessions; how many.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(sessions::purge(conn, now)?)
}

fn session(row: SessionRow) -> Result<Session, AppError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("session of {}: {what}", row.username));
    let role: Role = row.role.parse().map_err(|_| corrupt("role"))?;
    let department = row.department_code.map(DepartmentCode::from_stored);
    Ok(Session {
        actor: Actor::User {
            username: row.username.clone(),
            role,
            department,
        },
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
    })
}
