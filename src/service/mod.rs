//! The use cases behind the API and the CLI, each one transaction: load, decide with the pure
//! lifecycle, write the effects. Blocking code: call it from `web::block` or a plain thread.

pub mod tickets;

use crate::domain::lifecycle::DomainError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such ticket, or not one the caller may see.
    #[error("no such ticket")]
    NotFound,
    /// An `Idempotency-Key` used again with another request body.
    #[error("this Idempotency-Key was used with a different request body")]
    KeyReused,
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Store(e.into())
    }
}

/// What the use cases need from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub number_prefix: String,
    pub timezone: chrono_tz::Tz,
    pub idempotency_ttl: chrono::Duration,
}
