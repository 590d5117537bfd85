//! What a use case can fail with: the domain's refusal, the store's trouble, or a case the caller
//! may not see. The API and the console turn it into an answer in one place each.

use crate::domain::lifecycle::DomainError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such ticket, or not one the caller may see.
    #[error("no such ticket")]
    NotFound,
    /// No such thing of this kind (a knowledge article), or not one the caller may see.
    #[error("no such {0}")]
    Missing(&'static str),
    /// An `Idempotency-Key` used again with another request body.
    #[error("this Idempotency-Key was used with a different request body")]
    KeyReused,
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Store(e.into())
    }
}
