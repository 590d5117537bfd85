//! Pages: the templates under `templates/console/` (minijinja, escaped as HTML), the static files
//! under `static/` served from the binary with their content's hash in the name, and the answers
//! a page is sent in — with a CSP that lets in this origin's own script and styles only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use minijinja::{Environment, Value};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// What a page may load: this origin's script and styles, nothing inline, no frames.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

macro_rules! template {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../templates/console/", $name)),
        )
    };
}

const TEMPLATES: &[(&str, &str)] = &[
    template!("base.html"),
    template!("macros.html"),
    template!("login.html"),
    template!("queues.html"),
    template!("board.html"),
    template!("tickets.html"),
    template!("new.html"),
    template!("ticket.html"),
    template!("calendar.html"),
    template!("reports.html"),
    template!("enterprise.html"),
    template!("similar.html"),
    template!("knowledge.html"),
    template!("knowledge_article.html"),
    template!("knowledge_form.html"),
    template!("error.html"),
];

/// A file of `static/`, served under a name that changes with its content.
pub struct Asset {
    pub path: String,
    pub body: &'static [u8],
    pub content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, body: &'static [u8], content_type: &'static str) -> Asset {
        let digest = Sha256::digest(body);
        let short: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
        Asset {
            path: format!("/static/{stem}.{short}.{ext}"),
            body,
            content_type,
        }
    }
}

pub struct Assets {
    pub css: Asset,
    pub js: Asset,
}

pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        css: Asset::new(
            "console",
            "css",
            include_bytes!("../../static/console.css"),
            "text/css; charset=utf-8",
        ),
        js: Asset::new(
            "console",
            "js",
            include_bytes!("../../static/console.js"),
            "text/javascript; charset=utf-8",
        ),
    })
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("templates/console/{name}: {e}"));
        }
        env
    })
}

/// Renders a template; a template that fails to render is a bug, answered with the 500 page.
pub fn render(name: &str, context: Value) -> Result<String, minijinja::Error> {
    environment().get_template(name)?.render(context)
}

/// A page with `status`, or the plain 500 page when its template fails.
pub fn page(status: StatusCode, name: &str, context: Value) -> HttpResponse {
    match render(name, context) {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(template = name, error = %e, "a console page did not render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>出错了</title><h1>页面出错了</h1><p>请稍后重试；问题已记录。</p></html>".into(),
            )
        }
    }
}

pub fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(html)
}

/// `303 See Other` to `to`: where a form's answer sends the browser.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// `GET /static/{name}`: an asset, cached for good (its name changes with its content).
pub async fn asset(path: web::Path<String>) -> HttpResponse {
    let assets = assets();
    let wanted = format!("/static/{}", path.into_inner());
    let Some(asset) = [&assets.css, &assets.js]
        .into_iter()
        .find(|a| a.path == wanted)
    else {
        return HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("没有这个文件");
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .body(asset.body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        let env = super::environment();
        for (name, _) in super::TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }
}
