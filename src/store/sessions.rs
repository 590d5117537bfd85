//! Console sessions: found by the hash of the cookie's secret, ended by logout or by time.

use super::conn::{self, DbConn};
use super::error::StoreError;
use super::rows::SessionRow;
use super::schema::sessions;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> Result<(), StoreError> {
    conn::write(conn, |c| {
        diesel::insert_into(sessions::table)
            .values(row)
            .execute(c)?;
        Ok(())
    })
}

/// The session of this id, if it has not expired by `now`.
pub fn find(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(sessions::table
        .find(id)
        .filter(sessions::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Ends a session; whether there was one.
pub fn delete(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
    conn::write(conn, |c| {
        Ok(diesel::delete(sessions::table.find(id)).execute(c)? == 1)
    })
}

/// Forgets the sessions that expired before `now`; how many.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, StoreError> {
    conn::write(conn, |c| {
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c)?)
    })
}
