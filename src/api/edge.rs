//! What every request passes through on its way in and out: a request id (`X-Request-Id`, taken
//! from the caller when it is sane, made otherwise), one log line and the HTTP metrics per
//! request (by route pattern, never by path or query, which can carry personal data), HEAD
//! answered as GET without a body, and the security headers of every answer.

use crate::metrics;
use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

/// A caller's id is kept when it is short and plain; anything else is replaced.
fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    // Any token is a method to HTTP: the label takes the known ones only.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    // HEAD is GET without the body (RFC 9110 §9.3.2): routed as GET, and the connection, which
    // knows the request was HEAD, sends the head of the answer only.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    let took = started.elapsed();
    metrics::http_request(&method, &route, status, took);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status,
            ms = took.as_secs_f64() * 1000.0,
            "request"
        )
    });
    let docs = route.starts_with("/docs");
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static(REQUEST_ID), value);
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !docs {
        // What is not a console page (which sets its own) is no page: no scripts, no frames.
        // No caches of people's cases either way.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(super::sane("0193a0b0-0000-7000-8000-000000000123"));
        assert!(super::sane("gw:abc_1.2"));
        assert!(!super::sane(""));
        assert!(!super::sane("id with spaces"));
        assert!(!super::sane("id\nforged: header"));
        assert!(!super::sane(&"x".repeat(129)));
    }
}
