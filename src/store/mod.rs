//! Storage on SQLite or PostgreSQL through diesel: the schema, the connection and pool, and the
//! queries, each taking `&mut DbConn` so the caller decides the transaction.

mod backend;
pub mod calendar;
pub mod conn;
pub mod departments;
pub mod idempotency;
pub mod leases;
pub mod outbox;
pub mod schema;
pub mod tickets;
pub mod timers;
pub mod users;

pub use conn::{DbConn, Pool, PooledConn};

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is too busy: the caller gets 503 and may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
    /// Another writer changed the row first.
    #[error("changed concurrently")]
    Concurrent,
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value that the code cannot read back: a bug or a hand-edited row.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(kind, info) => {
                let message = info.message();
                let busy =
                    message.contains("database is locked") || message.contains("database is busy");
                match kind {
                    DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::UnableToSendCommand
                    | DatabaseErrorKind::SerializationFailure => {
                        StoreError::Unavailable(message.to_string())
                    }
                    _ if busy => StoreError::Unavailable(message.to_string()),
                    _ => StoreError::Database(e),
                }
            }
            DieselError::BrokenTransactionManager => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Database(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Whether `e` is a unique-key violation: the sign that a concurrent writer inserted first.
pub fn is_unique_violation(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// The current time as stored: UTC, to the microsecond (what both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}
