//! The console's routes (DESIGN.md, "Wave 2 contract"): every page answers GET (and HEAD), every
//! form POSTs with its `csrf_token`; any other method is a 405.

use super::{calendar, cases, enterprises, knowledge, queues, render, reports, sign_in};
use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::web;

/// A page or form answering the methods in `allow`; any other method is a 405 naming them.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let mut response = render::html_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>不支持的操作</title><p>这个地址不支持这种请求。</p></html>".into(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
        response
    }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/", "GET").route(web::get().to(sign_in::root)))
        .service(
            resource("/login", "GET, POST")
                .route(web::get().to(sign_in::login_form))
                .route(web::post().to(sign_in::login)),
        )
        .service(resource("/logout", "POST").route(web::post().to(sign_in::logout)))
        .service(resource("/prefs/text", "POST").route(web::post().to(sign_in::text_size)))
        .service(resource("/desk", "GET").route(web::get().to(queues::desk)))
        .service(resource("/workbench", "GET").route(web::get().to(queues::workbench)))
        .service(resource("/board", "GET").route(web::get().to(queues::board)))
        .service(
            resource("/board/notifications/{id}/retry", "POST")
                .route(web::post().to(queues::retry)),
        )
        .service(resource("/tickets", "GET").route(web::get().to(cases::list)))
        // The literal paths first: `{id}` would take "new" too.
        .service(
            resource("/tickets/new", "GET, POST")
                .route(web::get().to(cases::new))
                .route(web::post().to(cases::create)),
        )
        .service(resource("/tickets/new/check", "GET").route(web::get().to(cases::check)))
        .service(resource("/tickets/new/similar", "GET").route(web::get().to(enterprises::similar)))
        .service(resource("/tickets/{id}", "GET").route(web::get().to(cases::show)))
        .service(
            resource("/tickets/{id}/actions/{action}", "POST").route(web::post().to(cases::act)),
        )
        .service(
            resource("/tickets/{id}/knowledge", "POST")
                .route(web::post().to(knowledge::keep_answer)),
        )
        .service(
            resource("/enterprises/{credit_code}", "GET").route(web::get().to(enterprises::show)),
        )
        .service(resource("/knowledge", "GET").route(web::get().to(knowledge::list)))
        // The literal path first: `{id}` would take "new" too.
        .service(
            resource("/knowledge/new", "GET, POST")
                .route(web::get().to(knowledge::new))
                .route(web::post().to(knowledge::create)),
        )
        .service(resource("/knowledge/{id}", "GET").route(web::get().to(knowledge::show)))
        .service(
            resource("/knowledge/{id}/edit", "GET, POST")
                .route(web::get().to(knowledge::edit))
                .route(web::post().to(knowledge::update)),
        )
        .service(resource("/reports", "GET").route(web::get().to(reports::show)))
        .service(resource("/reports/export", "GET").route(web::get().to(reports::export)))
        .service(resource("/admin", "GET").route(web::get().to(cases::admin)))
        .service(resource("/admin/calendar", "GET").route(web::get().to(calendar::show)))
        .service(resource("/admin/calendar/{year}", "POST").route(web::post().to(calendar::load)))
        .service(resource("/static/{name}", "GET").route(web::get().to(render::asset)));
}

/// Whether a path is the console's (a page), not the API's: for the answers of the edge.
pub fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/docs")
        || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}
