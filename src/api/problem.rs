//! Errors as RFC 7807 `application/problem+json`, each with a stable `code` and, for invalid
//! input, `errors: [{field, message}]`. Every failure of the API leaves through here.

use crate::app::AppError;
use crate::auth::AuthError;
use crate::domain::FieldError;
use crate::domain::lifecycle::DomainError;
use crate::store::StoreError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// The media type of every error.
pub const PROBLEM: &str = "application/problem+json";

/// RFC 7807 problem details, the body of every error.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:closedloop:problem:validation_failed", "title": "Unprocessable Entity",
    "status": 422, "detail": "enterprise.credit_code: the check character is wrong: expected 'D'",
    "code": "validation_failed",
    "errors": [{"field": "enterprise.credit_code", "message": "the check character is wrong: expected 'D'"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable: malformed_json, unauthorized, forbidden, not_found, method_not_allowed,
    /// invalid_state, stale_version, payload_too_large, unsupported_media_type, request_timeout,
    /// validation_failed, idempotency_key_reused, concurrent_change, too_many_attempts,
    /// unavailable, internal.
    pub code: &'static str,
    /// For invalid input: the fields that are wrong (the first 20; `detail` gives the count).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 20)]
    pub errors: Vec<FieldError>,
    /// Seconds for `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

/// How many wrong fields a 422 lists at most.
pub const ERRORS_SHOWN: usize = 20;
/// How long a field's name or message may run in a 422; what a caller sent is echoed this far.
const TEXT_SHOWN: usize = 200;

fn shorten(text: &str) -> String {
    match text.char_indices().nth(TEXT_SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:closedloop:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: vec![],
            retry_after: None,
        }
    }

    /// A 422 naming the fields that are wrong: the first `ERRORS_SHOWN` of them, each cut to a
    /// readable length, so that a body repeating one mistake many times gets a short answer.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let total = errors.len();
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", shorten(&one.field), shorten(&one.message)),
            _ if total > ERRORS_SHOWN => {
                format!("{total} fields are invalid; the first {ERRORS_SHOWN} are listed")
            }
            _ => format!("{total} fields are invalid"),
        };
        let errors = errors
            .into_iter()
            .take(ERRORS_SHOWN)
            .map(|e| FieldError::new(shorten(&e.field), shorten(&e.message)))
            .collect();
        Problem {
            errors,
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Problem::invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "malformed_json", detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body may be at most {limit} bytes"),
        )
    }

    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }

    pub fn unavailable() -> Self {
        Problem {
            retry_after: Some(1),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unavailable or busy; retry shortly",
            )
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM));
        if self.status == 401 {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.body(serde_json::to_string(self).expect("a problem serialises"))
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, "forbidden", m),
            DomainError::Stale { .. } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                e.to_string(),
            ),
            DomainError::Conflict(m) => Problem::new(StatusCode::CONFLICT, "invalid_state", m),
            DomainError::Invalid(errors) => Problem::invalid(errors),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Problem::unavailable()
            }
            StoreError::NotFound => Problem::not_found("resource"),
            StoreError::Concurrent => Problem::new(
                StatusCode::CONFLICT,
                "concurrent_change",
                "the ticket changed while this request was handled; read it again and retry",
            ),
            other => {
                tracing::error!(error = %other, "store error");
                Problem::internal()
            }
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => d.into(),
            AppError::Store(s) => s.into(),
            AppError::NotFound => Problem::not_found("ticket"),
            AppError::Missing(what) => Problem::not_found(what),
            AppError::KeyReused => Problem {
                errors: vec![FieldError::new("Idempotency-Key", e.to_string())],
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    e.to_string(),
                )
            },
        }
    }
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Self {
        Problem::invalid(vec![e])
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
    }
}
