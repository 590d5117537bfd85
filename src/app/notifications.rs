//! The outbox as people see it: listing notifications and retrying one that failed. Sending is
//! `notify::postman`'s, on the mailer's loop.

use super::error::AppError;
use crate::store::outbox::{self, Filter};
use crate::store::rows::OutboxRow;
use crate::store::{DbConn, conn};
use chrono::NaiveDateTime;

pub fn list(conn: &mut DbConn, filter: &Filter) -> Result<Vec<OutboxRow>, AppError> {
    Ok(outbox::list(conn, filter)?)
}

/// Makes a failed (or waiting) notification due now. `Ok(None)`: no such notification.
/// `Err(Conflict)` when it is being sent or was sent.
pub fn retry(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<Result<OutboxRow, OutboxRow>>, AppError> {
    conn::write(conn, |c| -> Result<_, AppError> {
        let Some(mut row) = outbox::find(c, id)? else {
            return Ok(None);
        };
        if !outbox::retry(c, &mut row, now)? {
            return Ok(Some(Err(row)));
        }
        Ok(Some(Ok(row)))
    })
}
