//! The HTTP API under `/api/v1`: thin handlers, one file per resource. They parse, call a service
//! off the async executor, and shape the answer; decisions are made in the domain.

pub mod auth;
pub mod body;
pub mod calendar;
pub mod departments;
pub mod edge;
pub mod notifications;
pub mod openapi;
pub mod problem;
pub mod tickets;
pub mod views;

use crate::auth::Tokens;
use crate::service::{ServiceError, Settings};
use crate::store::{DbConn, Pool, StoreError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use problem::Problem;

/// What every handler shares; built once, outside the server's worker factory.
pub struct AppState {
    pub pool: Pool,
    pub tokens: Tokens,
    pub settings: Settings,
    pub body_limit: usize,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// When `/metrics` last read the database's gauges.
    pub gauges_read_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Failed sign-ins, to slow down password guessing.
    pub throttle: crate::auth::Throttle,
}

/// Runs blocking database work on actix's blocking pool, with a connection from the pool.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ServiceError> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(StoreError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|_| Problem::internal())?
    .map_err(Problem::from)
}

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
            .service(resource("/tickets/{id}", "GET").route(web::get().to(tickets::get)))
            .service(
                resource("/tickets/{id}/actions/{action}", "POST")
                    .route(web::post().to(tickets::act)),
            )
            .service(resource("/tickets/{id}/events", "GET").route(web::get().to(tickets::events)))
            .service(resource("/tickets/{id}/timers", "GET").route(web::get().to(tickets::timers)))
            // The literal path first: `{year}` would take "deadline" too.
            .service(resource("/calendar/deadline", "GET").route(web::get().to(calendar::deadline)))
            .service(
                resource("/calendar/{year}", "GET, PUT")
                    .route(web::get().to(calendar::get))
                    .route(web::put().to(calendar::put)),
            )
            .service(resource("/departments", "GET").route(web::get().to(departments::list)))
            .service(resource("/notifications", "GET").route(web::get().to(notifications::list)))
            .service(
                resource("/notifications/{id}/retry", "POST")
                    .route(web::post().to(notifications::retry)),
            ),
    )
    .service(resource("/docs", "GET").route(web::get().to(|| async {
        HttpResponse::Found()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    .service(resource("/healthz", "GET").route(web::get().to(healthz)))
    .service(resource("/metrics", "GET").route(web::get().to(metrics)))
    .service(resource("/readyz", "GET").route(web::get().to(readyz)))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| Problem::field("query", e.to_string()).into()),
    )
    .default_service(web::to(not_found));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Ready: the database answers and is migrated (503 otherwise). A calendar that does not cover the
/// next 60 days is a warning in the body: deadlines there are counted Monday to Friday.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let checked = db(&state, move |conn| {
        let migrated = crate::store::conn::migrations_current(conn)?;
        st.settings.calendars.refresh(conn)?;
        Ok(migrated)
    })
    .await;
    let calendar = state.settings.calendars.current();
    let horizon = (crate::store::now() + chrono::Duration::days(60)).date();
    let mut warnings = vec![];
    if calendar.known_until().is_none_or(|until| until < horizon) {
        warnings.push(format!(
            "the working-day calendar is known until {}, not through {horizon}: load the next year with PUT /api/v1/calendar/{{year}}",
            calendar.known_until().map_or("no year".to_string(), |d| d.to_string())
        ));
    }
    let body = |status: &str, database: &str| serde_json::json!({"status": status, "database": database, "calendar_known_until": calendar.known_until(), "warnings": warnings});
    match checked {
        Ok(true) => HttpResponse::Ok().json(body("ready", "ok")),
        Ok(false) => {
            HttpResponse::ServiceUnavailable().json(body("not ready", "migrations pending"))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(body("not ready", "unavailable")),
    }
}

/// Prometheus text: the process's counters, and the database's gauges read now. With the
/// database away the counters still come, with `closedloop_database_up 0`.
/// The database's gauges are read at most every `GAUGES_EVERY`, whoever scrapes how often.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    const GAUGES_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
    let pool = state.pool.state();
    crate::metrics::set_pool(pool.connections, pool.idle_connections);
    let due = {
        let mut last = state.gauges_read_at.lock().expect("metrics lock");
        let due = last.is_none_or(|at| at.elapsed() >= GAUGES_EVERY);
        if due {
            *last = Some(std::time::Instant::now());
        }
        due
    };
    if due {
        let started = std::time::Instant::now();
        let read = db(&state, |conn| {
            crate::service::scheduler::observe(conn, crate::store::now())?;
            crate::service::notifications::observe(conn)?;
            let counts = crate::store::tickets::count_by_state(conn)?;
            crate::metrics::set_tickets_by_state(&counts);
            Ok(())
        })
        .await;
        crate::metrics::set_database_up(read.is_ok(), started.elapsed());
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render())
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
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such endpoint: {}", req.path()),
    )
    .error_response()
}
