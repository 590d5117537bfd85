//! Who is at the browser: the session behind the `cl_session` cookie (looked up on every
//! request, so a session ended by logout is dead at once), the larger-text preference, and the
//! CSRF checks every state-changing form passes — the session's token once signed in, a
//! double-submit cookie on the sign-in form before.

use super::render;
use crate::api::state::{AppState, db};
use crate::app::sessions::{self, Session};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use minijinja::context;
use std::fmt;

pub const SESSION_COOKIE: &str = "cl_session";
/// The sign-in form's token, before there is a session to hold one.
pub const LOGIN_COOKIE: &str = "cl_login";
/// `large`: the larger-text mode (长者版), remembered per browser.
pub const TEXT_COOKIE: &str = "cl_text";

/// What every console request knows of its visitor.
pub struct Visitor {
    pub session: Option<Session>,
    /// The cookie's secret, to end the session on logout.
    pub secret: Option<String>,
    pub large_text: bool,
    pub login_token: Option<String>,
    /// The path and query asked for, to come back to after signing in.
    pub here: String,
    /// Whether cookies must be `Secure` (the service is reached over https).
    pub secure: bool,
    /// Whether the request is a GET (or HEAD): a page to come back to after signing in.
    pub reading: bool,
}

/// A signed-in visitor; anyone else is sent to the sign-in page first.
pub struct Signed(pub Visitor);

impl Signed {
    pub fn session(&self) -> &Session {
        self.0.session.as_ref().expect("signed in")
    }
}

/// Why a console request ends early, each answered as a page (or a redirect).
#[derive(Debug)]
pub enum Refusal {
    /// Not signed in: to the sign-in page, then back to `next`.
    SignIn { next: String },
    /// 403: a form without a valid token, or a role that may not.
    Forbidden(String),
    /// 404: no such page or case, or not one this visitor may see.
    NotFound,
    /// 503: the database is away or busy.
    Unavailable,
    /// 500: something broke on our side.
    Internal,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::SignIn { .. } => StatusCode::SEE_OTHER,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message) = match self {
            Refusal::SignIn { next } => {
                return render::see_other(&format!("/login?next={}", encode(next)));
            }
            Refusal::Forbidden(m) => ("无权操作", m.as_str()),
            Refusal::NotFound => ("没有找到", "没有这个页面或工单，或者它不在您的办理范围内。"),
            Refusal::Unavailable => (
                "系统繁忙",
                "数据库暂时无法访问，请稍后刷新重试。已填写的内容没有丢失的，请勿关闭页面。",
            ),
            Refusal::Internal => ("页面出错了", "请稍后重试；问题已记录。"),
        };
        let assets = render::assets();
        let mut response = render::page(
            self.status_code(),
            "error.html",
            context! { title, message, css => assets.css.path, js => assets.js.path },
        );
        if matches!(self, Refusal::Unavailable) {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

impl From<crate::api::problem::Problem> for Refusal {
    fn from(p: crate::api::problem::Problem) -> Self {
        match p.status {
            404 => Refusal::NotFound,
            403 => Refusal::Forbidden(p.detail),
            503 => Refusal::Unavailable,
            _ => Refusal::Internal,
        }
    }
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequest for Visitor {
    type Error = Refusal;
    type Future = LocalBoxFuture<'static, Result<Self, Refusal>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered")
            .clone();
        let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let large_text = req
            .cookie(TEXT_COOKIE)
            .is_some_and(|c| c.value() == "large");
        let login_token = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
        let here = req
            .uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.to_string());
        let secure = state.secure_cookies;
        let reading = req.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let session = match secret.clone().filter(|s| s.len() <= 100) {
                None => None,
                Some(secret) => db(&state, move |conn| {
                    sessions::find(conn, &secret, crate::store::now())
                })
                .await
                .map_err(Refusal::from)?,
            };
            Ok(Visitor {
                secret: session.as_ref().and(secret),
                session,
                large_text,
                login_token,
                here,
                secure,
                reading,
            })
        })
    }
}

impl FromRequest for Signed {
    type Error = Refusal;
    type Future = LocalBoxFuture<'static, Result<Self, Refusal>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let visitor = Visitor::from_request(req, payload);
        Box::pin(async move {
            let visitor = visitor.await?;
            if visitor.session.is_none() {
                // A form posted without a session is not sent again after signing in.
                let next = if visitor.reading {
                    visitor.here.clone()
                } else {
                    "/".to_string()
                };
                return Err(Refusal::SignIn { next });
            }
            Ok(Signed(visitor))
        })
    }
}

/// Compares tokens in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Visitor {
    /// A state-changing form's token: the session's, or before signing in the sign-in cookie's.
    /// 403 otherwise, before anything is read or written.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Refusal> {
        let expected = match &self.session {
            Some(s) => Some(s.csrf_token.as_str()),
            None => self.login_token.as_deref(),
        };
        match (expected, sent) {
            (Some(e), Some(s)) if same(e, s) => Ok(()),
            _ => Err(Refusal::Forbidden(
                "这个表单已失效（缺少或不匹配的安全令牌）。请刷新页面后重新提交。".into(),
            )),
        }
    }

    /// A cookie of the console: HttpOnly, SameSite=Strict, Secure under https.
    pub fn cookie(
        &self,
        name: &'static str,
        value: String,
        max_age: Option<i64>,
    ) -> Cookie<'static> {
        let mut c = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .finish();
        if let Some(seconds) = max_age {
            c.set_max_age(actix_web::cookie::time::Duration::seconds(seconds));
        }
        c
    }
}
