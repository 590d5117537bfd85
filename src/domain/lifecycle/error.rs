//! Why a decision says no, in the contract's order: 403, 412, 409, 422.

use crate::domain::field::FieldError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// 403: this actor may never do this action on this ticket.
    #[error("{0}")]
    Forbidden(String),
    /// 412: the caller saw another version (of a ticket, or of a knowledge article).
    #[error("the current version is {current}, not {expected}")]
    Stale { expected: i64, current: i64 },
    /// 409: not allowed in the ticket's present state.
    #[error("{0}")]
    Conflict(String),
    /// 422: the payload is invalid.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
}

impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        DomainError::Invalid(vec![e])
    }
}

impl From<Vec<FieldError>> for DomainError {
    fn from(e: Vec<FieldError>) -> Self {
        DomainError::Invalid(e)
    }
}
