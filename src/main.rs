//! The `closedloop` command: serve, migrate, seed, users and tokens, config check.

use anyhow::{Context, bail};
use chrono::Datelike;
use clap::{Parser, Subcommand};
use closedloop::app::accounts;
use closedloop::app::reports::rollup;
use closedloop::config::Config;
use closedloop::domain::duration::Duration;
use closedloop::domain::ticket::Role;
use closedloop::jobs::mailer::Mailer;
use closedloop::jobs::scheduler::Scheduler;
use closedloop::store::{DbConn, conn};
use closedloop::{seed, server};
use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "closedloop",
    version,
    about = "The closed loop of enterprise complaints for a 12345 hotline"
)]
struct Cli {
    /// A TOML file with the keys to change from config/default.toml.
    #[arg(long, global = true, env = "CLOSEDLOOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API and the scheduler.
    Serve {
        /// Seed the departments and the demo users and complaints first, and print demo tokens.
        #[arg(long)]
        demo: bool,
        /// Leave the deadline scheduler to `closedloop worker` instances.
        #[arg(long)]
        no_scheduler: bool,
        /// Leave sending mail to `closedloop worker` instances.
        #[arg(long)]
        no_mailer: bool,
    },
    /// Run the background work only (the deadline scheduler and the mailer), without HTTP.
    Worker,
    /// Apply the database migrations built into this binary.
    Migrate,
    /// Load the departments from seeds/ (again: nothing changes).
    Seed {
        /// Also add demo users (password "demo") and sample complaints. Refused in production.
        #[arg(long)]
        demo: bool,
        #[arg(long, default_value = "seeds")]
        dir: PathBuf,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a token for a user, for scripts and first set-up.
    Token {
        #[arg(long)]
        username: String,
        /// How long the token is valid: e.g. 8h, 30m.
        #[arg(long)]
        ttl: Option<Duration>,
    },
    /// The KPI counts: count them again from the timeline, or compare them with it.
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// Check the configuration (exits non-zero naming the bad key), then the database: reachable,
    /// migrated, and a working-day calendar that covers the next 60 days.
    Check {
        /// Exit non-zero on warnings too (migrations pending, calendar running out).
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Subcommand)]
enum KpiCommand {
    /// Replace the counts with what every ticket's timeline says (other writers wait meanwhile).
    Rebuild,
    /// Compare the counts with what every ticket's timeline says; exits non-zero if they differ.
    Check,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: Role,
        /// The department code, for role `department`.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> anyhow::Result<()> {
    give_large_blocks_back();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| config.log.level.as_str().into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == closedloop::config::LogFormat::Json {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        logs.init();
    }
    match cli.command {
        Command::Serve {
            demo,
            no_scheduler,
            no_mailer,
        } => serve(&config, demo, !no_scheduler, !no_mailer),
        Command::Worker => worker(&config),
        Command::Migrate => {
            let mut db = server::connect(&config, false)?;
            let ran = conn::migrate(&mut db)?;
            println!("{ran} migration(s) applied");
            Ok(())
        }
        Command::Seed { demo, dir } => {
            seed_now(&config, &mut server::connect(&config, true)?, &dir, demo)
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    department,
                    email,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let line = line.trim_end_matches(['\r', '\n']).to_string();
                if line.len() < 8 {
                    bail!("the password must have at least 8 characters");
                }
                Some(line)
            } else {
                None
            };
            let mut db = server::connect(&config, true)?;
            let user = accounts::NewUser {
                username,
                role,
                department,
                email,
            };
            accounts::add_user(&mut db, &user, password.as_deref()).map_err(seed::describe)?;
            println!("user {} added", user.username);
            Ok(())
        }
        Command::Token { username, ttl } => {
            let mut db = server::connect(&config, true)?;
            let user = accounts::active_user(&mut db, &username)?
                .with_context(|| format!("no active user '{username}'"))?;
            let ttl = match ttl {
                Some(d) => Some(
                    d.as_elapsed()
                        .context("--ttl must be elapsed time: h, m or s")?
                        .num_seconds(),
                ),
                None => None,
            };
            let tokens = closedloop::auth::Tokens::new(
                config.auth.jwt_secret.expose(),
                config.auth.token_ttl.chrono(),
            );
            let role: Role = user.role.parse().map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now().timestamp();
            println!(
                "{}",
                tokens.issue(
                    &user.username,
                    role,
                    user.department_code.as_deref(),
                    now,
                    ttl
                )
            );
            Ok(())
        }
        Command::Check { strict } => check(&config, strict),
        Command::Kpi { command } => {
            let mut db = server::connect(&config, true)?;
            let settings = server::load_settings(&config, &mut db)?;
            match command {
                KpiCommand::Rebuild => {
                    let done = rollup::rebuild(&mut db, &settings, closedloop::store::now())?;
                    println!(
                        "counted {} ticket(s) from their timelines: {} count row(s); history set again on {} ticket(s) and {} timer(s)",
                        done.tickets, done.keys, done.tickets_fixed, done.timers_fixed
                    );
                    Ok(())
                }
                KpiCommand::Check => {
                    let (differences, found) = rollup::check(&mut db, &settings)?;
                    for (key, kept, timeline) in differences.iter().take(20) {
                        println!("{key:?}: kept {:?}, timeline {:?}", kept.0, timeline.0);
                    }
                    let stale = found.tickets_differing.len() + found.timers_differing.len();
                    if differences.is_empty() && stale == 0 {
                        println!(
                            "the KPI counts agree with {} ticket(s)' timelines",
                            found.tickets
                        );
                        Ok(())
                    } else {
                        bail!(
                            "{} count row(s) and {stale} ticket or timer record(s) differ from the timeline; `closedloop kpi rebuild` sets them again",
                            differences.len()
                        )
                    }
                }
            }
        }
    }
}

fn check(config: &Config, strict: bool) -> anyhow::Result<()> {
    server::templates(config)?;
    println!(
        "configuration ok (profile {:?}, mail {:?}, database {})",
        config.app.profile,
        config.mail.transport,
        config.database.url.redacted()
    );
    let mut db = server::connect(config, false).context("database.url")?;
    let mut warnings = vec![];
    let settings = server::settings(config)?;
    if closedloop::app::health::migrated(&mut db, &settings)? {
        let calendar = settings.calendars.current();
        let horizon = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive();
        match calendar.known_until() {
            Some(until) if until >= horizon => {
                println!("calendar ok: known until {until}");
            }
            known => {
                let year = known.map_or(horizon.year(), |d| d.year() + 1);
                warnings.push(format!(
                    "calendar: known until {}, not through {horizon}; deadlines after it are counted Monday to Friday. Load {year} with PUT /api/v1/calendar/{year}",
                    known.map_or("no year".into(), |d| d.to_string())
                ));
            }
        }
    } else {
        warnings.push(
            "database: migrations pending (closedloop migrate, or start the service with database.migrate_on_start); the calendar is checked once migrated".into(),
        );
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    if strict && !warnings.is_empty() {
        bail!("{} warning(s), and --strict", warnings.len());
    }
    Ok(())
}

fn seed_now(
    config: &Config,
    db: &mut DbConn,
    dir: &std::path::Path,
    demo: bool,
) -> anyhow::Result<()> {
    if demo && config.app.profile == closedloop::config::Profile::Production {
        bail!("demo users have the password \"demo\": not in the production profile");
    }
    let settings = server::load_settings(config, db)?;
    let report = seed::run(db, dir, demo, &settings)?;
    println!(
        "seeded {} department(s), {} user(s), {} complaint(s), {} article(s)",
        report.departments, report.users, report.complaints, report.articles
    );
    Ok(())
}

/// The scheduler, when `scheduler.enabled` (and the caller) wants it.
fn scheduler(
    config: &Config,
    state: &closedloop::api::AppState,
    wanted: bool,
) -> Option<Scheduler> {
    if !(wanted && config.scheduler.enabled) {
        tracing::info!("scheduler off in this process");
        return None;
    }
    let tick = config.scheduler.tick.std();
    Some(Scheduler::spawn(
        state.pool.clone(),
        state.settings.clone(),
        tick,
        config.is_sqlite(),
    ))
}

/// The mailer, when `mail.enabled` (and the caller) wants it.
fn mailer(
    config: &Config,
    state: &closedloop::api::AppState,
    wanted: bool,
) -> anyhow::Result<Option<Mailer>> {
    if !(wanted && config.mail.enabled) {
        tracing::info!("mailer off in this process");
        return Ok(None);
    }
    let tick = config.mail.tick.std();
    if config.mail.transport == closedloop::config::MailTransport::File {
        tracing::info!(dir = %config.mail.dir, "mail is written as .eml files, not sent");
    }
    Ok(Some(Mailer::spawn(
        state.pool.clone(),
        state.settings.clone(),
        server::postman(config)?,
        tick,
        config.is_sqlite(),
    )))
}

/// The background loops of this process, stopped together within the shutdown bound.
struct Background {
    scheduler: Option<Scheduler>,
    mailer: Option<Mailer>,
}

impl Background {
    fn signal(&mut self) {
        if let Some(s) = &self.scheduler {
            s.signal();
        }
        if let Some(m) = &mut self.mailer {
            m.signal();
        }
    }

    /// Waits for both until `deadline`, saying so when one had to be left.
    fn join_until(self, deadline: std::time::Instant) {
        if let Some(s) = self.scheduler
            && !s.join_until(deadline)
        {
            tracing::warn!("the scheduler did not finish in time; its transaction rolls back");
        }
        if let Some(m) = self.mailer
            && !m.join_until(deadline)
        {
            tracing::warn!(
                "the mailer did not finish in time; mail in flight goes again after its lease"
            );
        }
    }
}

/// SIGINT or SIGTERM.
async fn stop_signal() -> std::io::Result<()> {
    use actix_web::rt::signal::{ctrl_c, unix};
    let mut term = unix::signal(unix::SignalKind::terminate())?;
    futures_util::future::select(Box::pin(ctrl_c()), Box::pin(term.recv())).await;
    Ok(())
}

fn worker(config: &Config) -> anyhow::Result<()> {
    let pool = server::pool(config)?;
    let state = server::state(config, pool)?;
    let mut background = Background {
        mailer: mailer(config, &state, true)?,
        scheduler: scheduler(config, &state, true),
    };
    if background.scheduler.is_none() && background.mailer.is_none() {
        bail!("scheduler.enabled and mail.enabled are false: this worker would have nothing to do");
    }
    tracing::info!("closedloop worker running; stop it with Ctrl-C or SIGTERM");
    actix_web::rt::System::new().block_on(stop_signal())?;
    tracing::info!("stopping: the scheduler and mailer finish their transaction");
    background.signal();
    background.join_until(std::time::Instant::now() + config.http.shutdown_timeout.std());
    Ok(())
}

fn serve(
    config: &Config,
    demo: bool,
    with_scheduler: bool,
    with_mailer: bool,
) -> anyhow::Result<()> {
    let pool = server::pool(config)?;
    if demo {
        seed_now(
            config,
            &mut *pool.get()?,
            std::path::Path::new("seeds"),
            true,
        )?;
    }
    let state = actix_web::web::Data::new(server::state(config, pool)?);
    let listener = TcpListener::bind(&config.http.addr)
        .with_context(|| format!("binding {}", config.http.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "closedloop listening");
    if demo {
        let now = chrono::Utc::now().timestamp();
        let mut out = std::io::stdout().lock();
        // A closed stdout (the output piped into something that ended) must not stop the service.
        let _ = writeln!(
            out,
            "Demo tokens (valid {}; passwords are \"{}\"):",
            config.auth.token_ttl,
            seed::DEMO_PASSWORD
        );
        for (user, role, department) in [
            ("operator", Role::Operator, None),
            ("supervisor", Role::Supervisor, None),
            ("shijian", Role::Department, Some("shijian")),
        ] {
            let _ = writeln!(
                out,
                "  export {}_TOKEN={}",
                user.to_uppercase(),
                state.tokens.issue(user, role, department, now, None)
            );
        }
        let _ = out.flush();
    }
    let mut background = Background {
        mailer: mailer(config, &state, with_mailer)?,
        scheduler: scheduler(config, &state, with_scheduler),
    };
    let http = config.http.clone();
    let bound = config.http.shutdown_timeout.std();
    // SIGINT and SIGTERM both stop gracefully: no new connections, in-flight requests finish
    // (for at most http.shutdown_timeout), the scheduler and mailer finish their transaction.
    let deadline = actix_web::rt::System::new().block_on(async {
        actix_web::rt::spawn(server::housekeeping(state.clone()));
        let server = server::run(state, listener, &http)?;
        let handle = server.handle();
        let mut running = actix_web::rt::spawn(server);
        tokio::select! {
            ended = &mut running => {
                ended??;
                anyhow::bail!("the HTTP server stopped by itself");
            }
            signal = stop_signal() => signal?,
        }
        let deadline = std::time::Instant::now() + bound;
        tracing::info!("stopping: in-flight requests and background work finish");
        background.signal();
        handle.stop(true).await;
        let _ = running.await;
        anyhow::Ok(deadline)
    })?;
    background.join_until(deadline);
    tracing::info!("stopped");
    Ok(())
}

/// glibc raises its threshold for serving large blocks from fresh pages each time such a block
/// is freed, so after one sign-in (argon2 works in 19 MiB) every arena keeps blocks of that size
/// for good: the service sat at 47 MiB before its first request and passed 110 MiB under load.
/// A fixed threshold keeps the adjustment off: large blocks come from `mmap` and go back to the
/// system when freed (peak 46 MiB in the same load run; BENCHMARKS.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_blocks_back() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread
    // starts, and a refusal (return 0) leaves glibc's defaults, which are merely larger.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_blocks_back() {}
