//! Signing in and out, and the larger-text mode. Sign-in checks the same users, argon2 hashes and
//! throttle as `POST /api/v1/auth/token`; a session lasts `auth.token_ttl` and logout ends it in
//! the database at once.

use super::forms::Form;
use super::frame::home;
use super::render::{self, page, see_other};
use super::visitor::{LOGIN_COOKIE, Refusal, SESSION_COOKIE, Signed, TEXT_COOKIE, Visitor};
use crate::api::auth::{SignInError, check_password};
use crate::api::state::{AppState, db};
use crate::app::sessions;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

/// A path of this site to go back to, or none: never another site (`//host`, `https:`).
pub fn local_path(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .filter(|n| n.len() <= 2000 && !n.chars().any(char::is_control))
        .map(str::to_string)
}

/// `/`: the sign-in page when signed out, else the visitor's home.
pub async fn root(visitor: Visitor) -> HttpResponse {
    match &visitor.session {
        Some(s) => see_other(home(s.actor.role().expect("a person"))),
        None => see_other("/login"),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn login_page(
    visitor: &Visitor,
    status: StatusCode,
    token: &str,
    username: &str,
    next: Option<&str>,
    error: Option<String>,
) -> HttpResponse {
    let assets = render::assets();
    page(
        status,
        "login.html",
        context! {
            title => "登录",
            css => assets.css.path, js => assets.js.path,
            large => visitor.large_text,
            csrf => token, username, next, error,
            back => match next {
                Some(n) => format!("/login?next={}", super::visitor::encode(n)),
                None => "/login".to_string(),
            },
        },
    )
}

/// `GET /login`. The form's token is set as a cookie too (double submit), so a sign-in can only
/// be posted from this page.
pub async fn login_form(visitor: Visitor, query: web::Query<LoginQuery>) -> HttpResponse {
    let next = local_path(query.next.as_deref());
    if let Some(s) = &visitor.session {
        return see_other(
            next.as_deref()
                .unwrap_or(home(s.actor.role().expect("a person"))),
        );
    }
    let token = visitor
        .login_token
        .clone()
        .unwrap_or_else(sessions::random_token);
    let mut response = login_page(&visitor, StatusCode::OK, &token, "", next.as_deref(), None);
    let _ = response.add_cookie(&visitor.cookie(LOGIN_COOKIE, token, None));
    response
}

/// `POST /login` (`username`, `password`, `csrf_token`, `next`).
pub async fn login(
    visitor: Visitor,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    visitor.check_csrf(form.get("csrf_token"))?;
    let username = form.get("username").unwrap_or_default().trim().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let next = local_path(form.get("next"));
    let token = visitor.login_token.clone().unwrap_or_default();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let refuse = |status, error: String| {
        Ok(login_page(
            &visitor,
            status,
            &token,
            &username,
            next.as_deref(),
            Some(error),
        ))
    };
    if username.is_empty() || password.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "请填写用户名和密码。".into(),
        );
    }
    let user = match check_password(&state, &username, password, &address).await {
        Ok(user) => user,
        Err(SignInError::Wrong) => {
            return refuse(StatusCode::UNAUTHORIZED, "用户名或密码不正确。".into());
        }
        Err(SignInError::Throttled(seconds)) => {
            let minutes = seconds.div_ceil(60);
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("登录失败次数过多，请 {minutes} 分钟后再试。"),
            );
        }
        Err(SignInError::Failed(problem)) => return Err(problem.into()),
    };
    let ttl = chrono::Duration::seconds(state.tokens.ttl_seconds());
    let (secret, session) = db(&state, move |conn| {
        sessions::open(conn, &user, ttl, crate::store::now())
    })
    .await?;
    let to = next.unwrap_or_else(|| home(session.actor.role().expect("a person")).to_string());
    let mut response = see_other(&to);
    let _ = response.add_cookie(&visitor.cookie(SESSION_COOKIE, secret, Some(ttl.num_seconds())));
    let _ = response.add_removal_cookie(&visitor.cookie(LOGIN_COOKIE, String::new(), None));
    Ok(response)
}

/// `POST /logout`: the session ends in the database, so its cookie opens nothing any more.
pub async fn logout(
    who: Signed,
    state: web::Data<AppState>,
    form: Form,
) -> Result<HttpResponse, Refusal> {
    who.0.check_csrf(form.get("csrf_token"))?;
    let secret = who.0.secret.clone().expect("signed in");
    db(&state, move |conn| sessions::end(conn, &secret)).await?;
    let mut response = see_other("/login");
    let _ = response.add_removal_cookie(&who.0.cookie(SESSION_COOKIE, String::new(), None));
    Ok(response)
}

/// `POST /prefs/text`: the larger-text mode on or off, remembered by this browser for a year.
pub async fn text_size(visitor: Visitor, form: Form) -> Result<HttpResponse, Refusal> {
    visitor.check_csrf(form.get("csrf_token"))?;
    let large = form.get("size") == Some("large");
    let back = local_path(form.get("back")).unwrap_or_else(|| "/".into());
    let mut response = see_other(&back);
    let value = if large { "large" } else { "normal" };
    let _ = response.add_cookie(&visitor.cookie(TEXT_COOKIE, value.into(), Some(365 * 86400)));
    Ok(response)
}
