//! Who is calling: the bearer-token extractor every endpoint takes first (so a bad token is a 401
//! before anything else), and `POST /auth/token` to trade a password for a token.

use super::body;
use super::problem::{PROBLEM, Problem};
use super::state::{AppState, db};
use crate::app::accounts;
use crate::auth::{self, AuthError};
use crate::domain::ticket::{Actor, Role};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::future::{Ready, ready};
use utoipa::ToSchema;

/// The caller, from a valid `Authorization: Bearer` token.
pub struct Identity(pub Actor);

impl FromRequest for Identity {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered");
        ready(
            bearer(req)
                .and_then(|token| state.tokens.verify(token))
                .map(Identity)
                .map_err(Problem::from),
        )
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme's name in any case (RFC 7235).
/// Two `Authorization` headers are refused: which one a proxy or a server reads is anyone's guess.
fn bearer(req: &HttpRequest) -> Result<&str, AuthError> {
    let mut headers = req.headers().get_all(header::AUTHORIZATION);
    let (Some(value), None) = (headers.next(), headers.next()) else {
        return Err(if req.headers().contains_key(header::AUTHORIZATION) {
            AuthError::Ambiguous
        } else {
            AuthError::Missing
        });
    };
    let value = value.to_str().map_err(|_| AuthError::Invalid)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "operator", "password": "demo"}))]
pub struct Credentials {
    username: String,
    password: String,
}

/// A bearer token.
#[derive(Serialize, ToSchema)]
#[schema(as = TokenAnswer)]
pub struct TokenView {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds.
    expires_in: i64,
}

/// `POST /api/v1/auth/token` {username, password} → {access_token, token_type, expires_in}.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()),
    request_body = Credentials,
    responses(
        (status = 200, description = "签发令牌", body = TokenView),
        (status = 400, description = "not JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "wrong username or password", body = Problem, content_type = PROBLEM),
        (status = 408, description = "the body did not arrive in time", body = Problem, content_type = PROBLEM),
        (status = 413, description = "body over the limit", body = Problem, content_type = PROBLEM),
        (status = 415, description = "the body is sent as another type than JSON", body = Problem, content_type = PROBLEM),
        (status = 422, description = "missing or wrong fields", body = Problem, content_type = PROBLEM),
        (status = 429, description = "too many failed sign-ins; see Retry-After", body = Problem, content_type = PROBLEM),
        (status = 503, description = "database unavailable", body = Problem, content_type = PROBLEM),
    ))]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let bytes = body::read(&req, payload, &state).await?;
    let credentials: Credentials = crate::domain::from_json(&body::parse(&req, &bytes, None)?)?;
    let username = credentials.username.trim().to_string();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let user = match check_password(&state, &username, credentials.password, &address).await {
        Ok(user) => user,
        Err(SignInError::Throttled(seconds)) => {
            return Err(Problem {
                retry_after: Some(seconds),
                ..Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("too many failed sign-ins; try again in {seconds} s"),
                )
            });
        }
        Err(SignInError::Wrong) => {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong username or password",
            ));
        }
        Err(SignInError::Failed(problem)) => return Err(problem),
    };
    let role: Role = user.role.parse().map_err(|_| Problem::internal())?;
    let now = chrono::Utc::now().timestamp();
    let token = state.tokens.issue(
        &user.username,
        role,
        user.department_code.as_deref(),
        now,
        None,
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenView {
            access_token: token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_seconds(),
        }))
}

/// Why a sign-in did not go through.
pub enum SignInError {
    /// Too many failures for the name or the address: wait this many seconds.
    Throttled(u32),
    /// No such active user, or not their password.
    Wrong,
    /// The database is away, or something broke.
    Failed(Problem),
}

/// The active user whose password this is, checked as every sign-in is — the API's tokens and the
/// console's sessions alike: throttled per name and address, argon2 off the async executor, as
/// slow for an unknown name as for a known one.
pub async fn check_password(
    state: &AppState,
    username: &str,
    password: String,
    address: &str,
) -> Result<crate::store::rows::UserRow, SignInError> {
    if let Err(wait) = state.throttle.begin(username, address) {
        return Err(SignInError::Throttled(
            wait.as_secs().clamp(1, u32::MAX.into()) as u32,
        ));
    }
    let name = username.to_string();
    let user = db(state, move |conn| accounts::active_user(conn, &name))
        .await
        .map_err(SignInError::Failed)?;
    // Hashing is slow on purpose: do it without holding a database connection. It runs for an
    // unknown user too, so that timing does not tell which names exist.
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // Each check takes its time and memory on purpose: as many at once as there are cores.
    let _turn = hashing_turn().await;
    let ok = web::block(move || auth::verify_password(hash.as_deref(), &password))
        .await
        .map_err(|_| SignInError::Failed(Problem::internal()))?;
    match user.filter(|_| ok) {
        Some(user) => {
            state.throttle.succeeded(username, address);
            Ok(user)
        }
        None => Err(SignInError::Wrong),
    }
}

/// A turn at password hashing, one per core at a time.
async fn hashing_turn() -> tokio::sync::SemaphorePermit<'static> {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    TURNS
        .get_or_init(|| {
            tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
        })
        .acquire()
        .await
        .expect("the semaphore is never closed")
}
