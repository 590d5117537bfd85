//! Reading request bodies and headers the way the contract wants: over the limit is 413, not
//! JSON at all is 400, and anything else wrong is a 422 that names the field.

use super::problem::Problem;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use futures_util::StreamExt;
use serde_json::Value;

/// Reads the whole body, refusing it as soon as it grows past `limit`. An empty body reads as
/// `empty` (actions without a payload may be posted with none).
pub async fn json(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    empty: Option<Value>,
) -> Result<Value, Problem> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Problem::too_large(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| Problem::malformed(format!("the request body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(Problem::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty
            .ok_or_else(|| Problem::malformed("the request body is empty; send a JSON object"));
    }
    serde_json::from_slice(&body)
        .map_err(|e| Problem::malformed(format!("the request body is not valid JSON: {e}")))
}

/// `If-Match: "3"` (or `W/"3"`, or `3`) → `Some(3)`; `*` or no header → `None`. A tag that is
/// not one of ours can never match the current version, so it reads as version -1 (→ 412).
pub fn if_match(req: &HttpRequest) -> Option<i64> {
    let value = req
        .headers()
        .get(header::IF_MATCH)?
        .to_str()
        .unwrap_or("-1")
        .trim();
    if value == "*" {
        return None;
    }
    let tag = value.trim_start_matches("W/").trim_matches('"');
    Some(tag.parse().unwrap_or(-1))
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, Problem> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_string()))
}
