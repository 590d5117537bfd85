//! Putting the service together: the shared state (pool, tokens, settings) and the HTTP server.

use crate::api::{self, AppState};
use crate::app::{Calendars, Settings};
use crate::auth::Tokens;
use crate::config::Config;
use crate::notify::{MailRoles, Mailing, Postman, Templates, Transport};
use crate::store::{self, conn};
use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;

pub fn settings(config: &Config) -> anyhow::Result<Settings> {
    let timezone = config.calendar.timezone.0;
    let addresses = |list: &[crate::config::Address]| -> Vec<String> {
        list.iter().map(|a| a.as_str().to_string()).collect()
    };
    Ok(Settings {
        number_prefix: config.app.number_prefix.as_str().to_string(),
        timezone,
        idempotency_ttl: config.http.idempotency_ttl.chrono(),
        policy: config.policy()?,
        mail: MailRoles {
            desk: addresses(&config.mail.desk),
            supervisors: addresses(&config.mail.supervisors),
            leadership: addresses(&config.mail.leadership),
        },
        department_names: Default::default(),
        rarity: Default::default(),
        kpi: crate::app::state::KpiSettings {
            weights: config.kpi.weights.clone(),
            board_size: config.kpi.board_size,
            monthly_report: config.kpi.monthly_report,
        },
        calendars: Calendars::new(
            timezone,
            config.business_hours(),
            config.calendar.day_off_roll,
        ),
    })
}

/// Opens connections as `[database]` says.
fn manager(config: &Config) -> conn::Manager {
    let db = &config.database;
    conn::Manager::new(db.url.expose(), db.busy_timeout.std())
        .statement_timeout(db.statement_timeout.std())
}

/// Opens the pool, and migrates when `database.migrate_on_start` says so.
pub fn pool(config: &Config) -> anyhow::Result<store::Pool> {
    let db = &config.database;
    let pool = conn::pool(manager(config), db.pool_size.get(), db.pool_timeout.std())
        .with_context(|| format!("opening {}", db.url.redacted()))?;
    if db.migrate_on_start {
        let ran = conn::migrate(&mut *pool.get()?)?;
        if ran > 0 {
            tracing::info!(migrations = ran, "database migrated");
        }
    }
    Ok(pool)
}

/// The settings with the calendar loaded from the database.
pub fn load_settings(config: &Config, conn: &mut store::DbConn) -> anyhow::Result<Settings> {
    let settings = settings(config)?;
    settings.calendars.refresh(conn)?;
    Ok(settings)
}

/// One connection, for the one-shot commands (no pool and its threads: a process that exits
/// while a pool thread is still talking to PostgreSQL can crash on the way out).
pub fn connect(config: &Config, migrate: bool) -> anyhow::Result<store::DbConn> {
    use diesel::r2d2::ManageConnection;
    let db = &config.database;
    let mut connection = manager(config)
        .connect()
        .with_context(|| format!("opening {}", db.url.redacted()))?;
    if migrate && db.migrate_on_start {
        conn::migrate(&mut connection)?;
    }
    Ok(connection)
}

pub fn state(config: &Config, pool: store::Pool) -> anyhow::Result<AppState> {
    let settings = load_settings(config, &mut *pool.get()?)?;
    // Tickets from before the KPI counts existed are counted from their timelines, once.
    if let Some(done) =
        crate::app::reports::rollup::rebuild_if_never(&mut *pool.get()?, &settings, store::now())?
    {
        tracing::info!(
            tickets = done.tickets,
            keys = done.keys,
            "KPI counts made from the timeline"
        );
    }
    // Cases from before the similar-case look-up existed get their search terms, once.
    let indexed = crate::app::enterprises::index_earlier_cases(&mut *pool.get()?)?;
    if indexed > 0 {
        tracing::info!(tickets = indexed, "search terms written for earlier cases");
    }
    Ok(AppState {
        tokens: Tokens::new(
            config.auth.jwt_secret.expose(),
            config.auth.token_ttl.chrono(),
        ),
        settings,
        pool,
        body_limit: config.http.body_limit,
        body_timeout: config.http.request_timeout.std(),
        gauges_read_at: Default::default(),
        secure_cookies: config.app.public_url.starts_with("https://"),
        throttle: crate::auth::Throttle::new(
            config.auth.max_failures.get(),
            config.auth.lockout.std(),
        ),
    })
}

/// The HTTP server on `listener`; it runs when the returned `Server` is awaited.
pub fn run(
    state: web::Data<AppState>,
    listener: TcpListener,
    http: &crate::config::Http,
) -> std::io::Result<Server> {
    let workers = if http.workers == 0 {
        std::thread::available_parallelism().map_or(2, usize::from)
    } else {
        http.workers
    };
    let origins: Vec<String> = http
        .cors_origins
        .iter()
        .map(|o| o.as_str().to_string())
        .collect();
    let server = HttpServer::new(move || {
        let mut cors = actix_cors::Cors::default()
            .allowed_methods(["GET", "POST", "PUT"])
            .allowed_headers([
                actix_web::http::header::AUTHORIZATION,
                actix_web::http::header::CONTENT_TYPE,
                actix_web::http::header::IF_MATCH,
            ])
            .allowed_header("idempotency-key")
            .allowed_header(api::edge::REQUEST_ID)
            .expose_headers(["etag", "location", api::edge::REQUEST_ID])
            .max_age(3600);
        for origin in &origins {
            cors = cors.allowed_origin(origin);
        }
        App::new()
            .wrap(Condition::new(!origins.is_empty(), cors))
            .wrap(from_fn(api::edge::edge))
            .app_data(state.clone())
            .configure(api::routes)
            .configure(crate::console::routes)
    })
    .workers(workers)
    .client_request_timeout(http.request_timeout.std())
    .shutdown_timeout(http.shutdown_timeout.std().as_secs().max(1))
    // The caller decides when to stop (both SIGINT and SIGTERM gracefully).
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Hourly upkeep while serving: forgets idempotency keys and console sessions past their lifetime.
pub async fn housekeeping(state: web::Data<AppState>) {
    let mut every_hour = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let st = state.clone();
        let purged = api::db(&state, move |conn| {
            let keys = crate::app::tickets::purge_idempotency_keys(conn, &st.settings)?;
            let sessions = crate::app::sessions::purge(conn, crate::store::now())?;
            Ok(keys + sessions)
        })
        .await;
        match purged {
            Ok(n) if n > 0 => {
                tracing::info!(rows = n, "expired idempotency keys and sessions purged")
            }
            Ok(_) => {}
            Err(problem) => tracing::warn!(%problem, "idempotency key purge failed; will retry"),
        }
    }
}

/// How the mailer sends, from `[mail]`.
pub fn mailing(config: &Config) -> anyhow::Result<Mailing> {
    let mail = &config.mail;
    Ok(Mailing {
        from: mail.from.0.clone(),
        public_url: config.app.public_url.clone(),
        max_attempts: mail.max_attempts.get().min(i32::MAX as u32) as i32,
        retry_after: mail.retry_after.chrono(),
        retry_max: mail.retry_max.chrono(),
        lease: mail.lease.chrono(),
        send_timeout: mail.smtp_timeout.std(),
        digest_at: mail.digest_at.0,
        // One lease per wave of concurrent sends, so that no leased row waits its turn while
        // its lease runs out.
        batch: 4,
        concurrency: 4,
    })
}

/// The mail templates: built in, with those of `mail.templates` in their place.
pub fn templates(config: &Config) -> anyhow::Result<Templates> {
    Templates::load(config.mail.templates.0.as_deref()).context("mail.templates")
}

/// Templates, transport and settings for sending mail.
pub fn postman(config: &Config) -> anyhow::Result<Postman> {
    Ok(Postman {
        mailing: mailing(config)?,
        templates: templates(config)?,
        transport: Transport::from_config(&config.mail).context("mail.transport")?,
    })
}
