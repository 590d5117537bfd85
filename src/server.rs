//! Putting the service together: the shared state (pool, tokens, settings) and the HTTP server.

use crate::api::{self, AppState};
use crate::auth::Tokens;
use crate::config::Config;
use crate::service::{Calendars, Settings};
use crate::store::outbox::MailRoles;
use crate::store::{self, conn};
use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;

pub fn settings(config: &Config) -> anyhow::Result<Settings> {
    let timezone = config.timezone()?;
    Ok(Settings {
        number_prefix: config.app.number_prefix.clone(),
        timezone,
        idempotency_ttl: elapsed(config.http.idempotency_ttl),
        policy: config.policy()?,
        mail: MailRoles {
            desk: config.mail.desk.clone(),
            supervisors: config.mail.supervisors.clone(),
            leadership: config.mail.leadership.clone(),
        },
        calendars: Calendars::new(
            timezone,
            config.business_hours(),
            config.calendar.day_off_roll,
        ),
    })
}

/// The elapsed length of a duration that `Config::validate` has checked is elapsed time.
pub fn elapsed(d: crate::domain::duration::Duration) -> chrono::Duration {
    d.as_elapsed().expect("checked by Config::validate")
}

/// `elapsed` as the standard library counts it (above zero, also checked by `Config::validate`).
pub fn std_elapsed(d: crate::domain::duration::Duration) -> std::time::Duration {
    elapsed(d).to_std().expect("checked by Config::validate")
}

/// Opens connections as `[database]` says.
fn manager(config: &Config) -> conn::Manager {
    let db = &config.database;
    conn::Manager::new(&db.url, std_elapsed(db.busy_timeout))
        .statement_timeout(std_elapsed(db.statement_timeout))
}

/// Opens the pool, and migrates when `database.migrate_on_start` says so.
pub fn pool(config: &Config) -> anyhow::Result<store::Pool> {
    let db = &config.database;
    let pool = conn::pool(manager(config), db.pool_size, std_elapsed(db.pool_timeout))
        .with_context(|| format!("opening {}", crate::config::redact_url(&db.url)))?;
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
        .with_context(|| format!("opening {}", crate::config::redact_url(&db.url)))?;
    if migrate && db.migrate_on_start {
        conn::migrate(&mut connection)?;
    }
    Ok(connection)
}

pub fn state(config: &Config, pool: store::Pool) -> anyhow::Result<AppState> {
    Ok(AppState {
        tokens: Tokens::new(
            config.auth.jwt_secret.expose(),
            elapsed(config.auth.token_ttl),
        ),
        settings: load_settings(config, &mut *pool.get()?)?,
        pool,
        body_limit: config.http.body_limit,
        body_timeout: std_elapsed(config.http.request_timeout),
        gauges_read_at: Default::default(),
        throttle: crate::auth::Throttle::new(
            config.auth.max_failures,
            std_elapsed(config.auth.lockout),
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
    let origins = http.cors_origins.clone();
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
            cors = cors.allowed_origin(origin.trim_end_matches('/'));
        }
        App::new()
            .wrap(Condition::new(!origins.is_empty(), cors))
            .wrap(from_fn(api::edge::edge))
            .app_data(state.clone())
            .configure(api::routes)
    })
    .workers(workers)
    .client_request_timeout(std_elapsed(http.request_timeout))
    .shutdown_timeout(std_elapsed(http.shutdown_timeout).as_secs().max(1))
    // The caller decides when to stop (both SIGINT and SIGTERM gracefully).
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Hourly upkeep while serving: forgets idempotency keys past their lifetime.
pub async fn housekeeping(state: web::Data<AppState>) {
    let mut every_hour = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let st = state.clone();
        let purged = api::db(&state, move |conn| {
            crate::service::tickets::purge_idempotency_keys(conn, &st.settings)
        })
        .await;
        match purged {
            Ok(n) if n > 0 => tracing::info!(keys = n, "expired idempotency keys purged"),
            Ok(_) => {}
            Err(problem) => tracing::warn!(%problem, "idempotency key purge failed; will retry"),
        }
    }
}

/// How the mailer sends, from `[mail]`.
pub fn mailing(config: &Config) -> anyhow::Result<crate::service::notifications::Mailing> {
    let mail = &config.mail;
    Ok(crate::service::notifications::Mailing {
        from: mail.from.parse().context("mail.from")?,
        public_url: config.app.public_url.clone(),
        max_attempts: mail.max_attempts.min(i32::MAX as u32) as i32,
        retry_after: elapsed(mail.retry_after),
        retry_max: elapsed(mail.retry_max),
        lease: elapsed(mail.lease),
        send_timeout: std_elapsed(mail.smtp_timeout),
        digest_at: config.digest_at(),
        // One lease per wave of concurrent sends, so that no leased row waits its turn while
        // its lease runs out.
        batch: 4,
        concurrency: 4,
    })
}

/// The mail templates: built in, with those of `mail.templates` in their place.
pub fn templates(config: &Config) -> anyhow::Result<crate::mail::Templates> {
    let dir = &config.mail.templates;
    crate::mail::Templates::load((!dir.is_empty()).then(|| std::path::Path::new(dir)))
        .context("mail.templates")
}

/// Templates, transport and settings for sending mail.
pub fn postman(config: &Config) -> anyhow::Result<crate::service::notifications::Postman> {
    Ok(crate::service::notifications::Postman {
        mailing: mailing(config)?,
        templates: templates(config)?,
        transport: crate::mail::Transport::from_config(&config.mail).context("mail.transport")?,
    })
}
