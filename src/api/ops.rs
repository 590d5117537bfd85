//! The operational endpoints: alive (`/healthz`), ready (`/readyz`) and the Prometheus metrics.

use super::state::{AppState, db};
use crate::app::health;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "the process is alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    status: &'static str,
    /// `ok`, `migrations pending` or `unavailable`.
    database: &'static str,
    calendar_known_until: Option<String>,
    warnings: Vec<String>,
}

/// Ready: the database answers and is migrated (503 otherwise). A calendar that does not cover the
/// next 60 days is a warning in the body: deadlines there are counted Monday to Friday.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "ready; `warnings` when the calendar runs out within 60 days", body = Readiness),
        (status = 503, description = "database unreachable or not migrated", body = Readiness),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let checked = db(&state, move |conn| health::migrated(conn, &st.settings)).await;
    let calendar = state.settings.calendars.current();
    let horizon = (crate::store::now() + chrono::Duration::days(60)).date();
    let mut warnings = vec![];
    if calendar.known_until().is_none_or(|until| until < horizon) {
        warnings.push(format!(
            "the working-day calendar is known until {}, not through {horizon}: load the next year with PUT /api/v1/calendar/{{year}}",
            calendar.known_until().map_or("no year".to_string(), |d| d.to_string())
        ));
    }
    let body = |status, database| Readiness {
        status,
        database,
        calendar_known_until: calendar.known_until().map(|d| d.to_string()),
        warnings,
    };
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
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
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
        let read = db(&state, |conn| health::observe(conn, crate::store::now())).await;
        crate::metrics::set_database_up(read.is_ok(), started.elapsed());
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render())
}
