//! What can go wrong in storage, sorted so that callers can answer it: the database away or busy
//! (503, retry), a row not found, a concurrent writer, a row that cannot be read back.

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
