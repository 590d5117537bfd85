//! Reading request bodies and headers the way the contract wants: over the limit is 413, sent as
//! another type than JSON 415, not JSON at all 400, and anything else wrong a 422 that names the
//! field.

use super::problem::Problem;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use futures_util::StreamExt;
use serde_json::Value;

/// Reads the whole body, refusing it (413) as soon as it grows past the limit, and (408) when it
/// has not all arrived within the time allowed. Whether it is JSON is for `parse` to say, once the
/// caller has checked who is asking.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    state: &super::state::AppState,
) -> Result<web::Bytes, Problem> {
    match tokio::time::timeout(
        state.body_timeout,
        read_within(req, payload, state.body_limit),
    )
    .await
    {
        Ok(read) => read,
        Err(_) => Err(Problem::new(
            actix_web::http::StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} s",
                state.body_timeout.as_secs()
            ),
        )),
    }
}

async fn read_within(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, Problem> {
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
    Ok(body.freeze())
}

/// The body as JSON: 415 when it is declared as something else, 400 when it is not JSON at all,
/// 422 when a text holds a NUL character (no store keeps one). An empty body reads as `empty`
/// (actions without a payload may send none, with or without a type).
pub fn parse(req: &HttpRequest, body: &[u8], empty: Option<Value>) -> Result<Value, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty
            .ok_or_else(|| Problem::malformed("the request body is empty; send a JSON object"));
    }
    if let Some(declared) = req.headers().get(header::CONTENT_TYPE)
        && !is_json(declared.to_str().unwrap_or_default())
    {
        return Err(Problem::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON: send Content-Type: application/json",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::malformed(format!("the request body is not valid JSON: {e}")))?;
    match nul_at(&value, "") {
        Some(field) => Err(Problem::field(&field, "may not contain the NUL character")),
        None => Ok(value),
    }
}

/// `application/json`, or a JSON-based type such as `application/problem+json`, with any
/// parameters (`; charset=utf-8`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// The path of the first string (or key) holding a NUL character.
fn nul_at(value: &Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "body".into()
        } else {
            path.into()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join("?"))
            } else {
                nul_at(v, &join(k))
            }
        }),
        _ => None,
    }
}

/// `If-Match: "3"` (or `3`) → `Some(3)`; `*` or no header → `None`. A tag that is
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
    // If-Match compares strongly: a weak tag never matches.
    if value.starts_with("W/") {
        return Some(-1);
    }
    Some(value.trim_matches('"').parse().unwrap_or(-1))
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
