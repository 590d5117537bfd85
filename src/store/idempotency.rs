//! Remembered responses of `POST /tickets` by `Idempotency-Key`, so a retried request gets the
//! first response again instead of a second ticket.

use super::conn::DbConn;
use super::error::{StoreError, is_unique_violation};
use super::rows::KeyRow;
use super::schema::idempotency_keys;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The remembered response for this user's key, however old.
pub fn find(conn: &mut DbConn, username: &str, key: &str) -> Result<Option<KeyRow>, StoreError> {
    Ok(idempotency_keys::table
        .find((username, key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a response; `Ok(false)` when a concurrent request with the same key stored first.
pub fn insert(conn: &mut DbConn, row: &KeyRow) -> Result<bool, StoreError> {
    match diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets one expired key, so that it can be used afresh.
pub fn forget(conn: &mut DbConn, username: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find((username, key))).execute(conn)?;
    Ok(())
}

/// Forgets every key stored before `before`; returns how many.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, StoreError> {
    // A write transaction, so that on SQLite it waits its turn among the writers.
    super::conn::write(conn, |c| {
        Ok(
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
                .execute(c)?,
        )
    })
}
