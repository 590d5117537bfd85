//! The API's routes: every resource with the methods it takes (any other is a 405 naming them),
//! the operational endpoints, and the answers for what matches nothing.

use super::problem::Problem;
use super::{
    auth, calendar, departments, enterprises, knowledge, notifications, openapi, ops, reports,
    tickets,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Before the `/api/v1` scope, which would take `/api/v1/openapi.json` for its own.
    cfg.service(
        utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
            .url("/api/v1/openapi.json", openapi::document().clone()),
    );
    cfg.service(
        web::scope("/api/v1")
            .service(resource("/auth/token", "POST").route(web::post().to(auth::token)))
            .service(
                resource("/tickets", "GET, POST")
                    .route(web::post().to(tickets::create))
                    .route(web::get().to(tickets::list)),
            )
            // The literal path first: `{id}` would take "similar" too.
            .service(
                resource("/tickets/similar", "POST").route(web::post().to(enterprises::similar)),
            )
            .service(resource("/tickets/{id}", "GET").route(web::get().to(tickets::get)))
            .service(
                resource("/tickets/{id}/actions/{action}", "POST")
                    .route(web::post().to(tickets::act)),
            )
            .service(resource("/tickets/{id}/events", "GET").route(web::get().to(tickets::events)))
            .service(resource("/tickets/{id}/timers", "GET").route(web::get().to(tickets::timers)))
            .service(
                resource("/tickets/{id}/knowledge", "POST")
                    .route(web::post().to(knowledge::keep_answer)),
            )
            // The literal path first: `{year}` would take "deadline" too.
            .service(resource("/calendar/deadline", "GET").route(web::get().to(calendar::deadline)))
            .service(
                resource("/calendar/{year}", "GET, PUT")
                    .route(web::get().to(calendar::get))
                    .route(web::put().to(calendar::put)),
            )
            .service(resource("/departments", "GET").route(web::get().to(departments::list)))
            .service(resource("/enterprises", "GET").route(web::get().to(enterprises::search)))
            .service(resource("/enterprises/hot", "GET").route(web::get().to(enterprises::hot)))
            .service(
                resource("/enterprises/{credit_code}", "GET")
                    .route(web::get().to(enterprises::get)),
            )
            .service(resource("/notifications", "GET").route(web::get().to(notifications::list)))
            .service(
                resource("/notifications/{id}/retry", "POST")
                    .route(web::post().to(notifications::retry)),
            )
            .service(resource("/reports/kpis", "GET").route(web::get().to(reports::kpis)))
            .service(resource("/reports/ranking", "GET").route(web::get().to(reports::ranking)))
            .service(resource("/reports/overdue", "GET").route(web::get().to(reports::overdue)))
            .service(
                resource("/knowledge", "GET, POST")
                    .route(web::get().to(knowledge::list))
                    .route(web::post().to(knowledge::create)),
            )
            .service(
                resource("/knowledge/{id}", "GET, PATCH")
                    .route(web::get().to(knowledge::get))
                    .route(web::patch().to(knowledge::update)),
            )
            .service(
                resource("/knowledge/{id}/versions", "GET")
                    .route(web::get().to(knowledge::versions)),
            ),
    )
    .service(resource("/docs", "GET").route(web::get().to(|| async {
        HttpResponse::Found()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    .service(resource("/healthz", "GET").route(web::get().to(ops::healthz)))
    .service(resource("/metrics", "GET").route(web::get().to(ops::metrics)))
    .service(resource("/readyz", "GET").route(web::get().to(ops::readyz)))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| Problem::field("query", e.to_string()).into()),
    )
    .default_service(web::to(not_found));
}

/// An endpoint answering the methods in `allow`; any other method is a 405 problem naming them.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        let mut response = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} is not allowed here; this endpoint takes {allow}",
                req.method()
            ),
        )
        .error_response();
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(allow),
        );
        response
    }))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if crate::console::routes::is_page(req.path()) {
        return crate::console::visitor::Refusal::NotFound.error_response();
    }
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such endpoint: {}", req.path()),
    )
    .error_response()
}
