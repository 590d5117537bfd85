//! The `closedloop` command: serve, migrate, seed, users and tokens, config check.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use closedloop::config::Config;
use closedloop::domain::duration::Duration;
use closedloop::domain::ticket::Role;
use closedloop::store::{conn, users};
use closedloop::{seed, server};
use std::io::BufRead;
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
    /// Run the HTTP API.
    Serve {
        /// Seed the departments and the demo users and complaints first, and print demo tokens.
        #[arg(long)]
        demo: bool,
    },
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
    /// Check the configuration; exits non-zero naming the bad key.
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
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve { demo } => serve(&config, demo),
        Command::Migrate => {
            let pool = conn::pool(
                &config.database.url,
                1,
                std::time::Duration::from_secs(5),
                std::time::Duration::from_secs(5),
            )?;
            let ran = conn::migrate(&mut *pool.get()?)?;
            println!("{ran} migration(s) applied");
            Ok(())
        }
        Command::Seed { demo, dir } => {
            let pool = server::pool(&config)?;
            seed_now(&config, &pool, &dir, demo)
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
            let pool = server::pool(&config)?;
            let user = seed::UserSeed {
                username,
                role,
                department,
                email,
            };
            seed::add_user(&mut *pool.get()?, &user, password.as_deref())?;
            println!("user {} added", user.username);
            Ok(())
        }
        Command::Token { username, ttl } => {
            let pool = server::pool(&config)?;
            let user = users::find_by_username(&mut *pool.get()?, &username)?
                .filter(|u| u.active)
                .with_context(|| format!("no active user '{username}'"))?;
            let ttl = match ttl {
                Some(d) => Some(
                    d.as_elapsed()
                        .context("--ttl must be elapsed time: h, m or s")?
                        .num_seconds(),
                ),
                None => None,
            };
            let state = server::state(&config, pool)?;
            let role: Role = user.role.parse().map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now().timestamp();
            println!(
                "{}",
                state.tokens.issue(
                    &user.username,
                    role,
                    user.department_code.as_deref(),
                    now,
                    ttl
                )
            );
            Ok(())
        }
        Command::Check => {
            println!(
                "configuration ok (profile {:?}, database {})",
                config.app.profile,
                closedloop::config::redact_url(&config.database.url)
            );
            Ok(())
        }
    }
}

fn seed_now(
    config: &Config,
    pool: &closedloop::store::Pool,
    dir: &std::path::Path,
    demo: bool,
) -> anyhow::Result<()> {
    if demo && config.app.profile == closedloop::config::Profile::Production {
        bail!("demo users have the password \"demo\": not in the production profile");
    }
    let settings = server::settings(config)?;
    let report = seed::run(&mut *pool.get()?, dir, demo, &settings)?;
    println!(
        "seeded {} department(s), {} user(s), {} complaint(s)",
        report.departments, report.users, report.complaints
    );
    Ok(())
}

fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let pool = server::pool(config)?;
    if demo {
        seed_now(config, &pool, std::path::Path::new("seeds"), true)?;
    }
    let state = actix_web::web::Data::new(server::state(config, pool)?);
    let listener = TcpListener::bind(&config.http.addr)
        .with_context(|| format!("binding {}", config.http.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "closedloop listening");
    if demo {
        let now = chrono::Utc::now().timestamp();
        println!(
            "Demo tokens (valid {}; passwords are \"{}\"):",
            config.auth.token_ttl,
            seed::DEMO_PASSWORD
        );
        for (user, role, department) in [
            ("operator", Role::Operator, None),
            ("supervisor", Role::Supervisor, None),
            ("shijian", Role::Department, Some("shijian")),
        ] {
            println!(
                "  export {}_TOKEN={}",
                user.to_uppercase(),
                state.tokens.issue(user, role, department, now, None)
            );
        }
    }
    let workers = config.http.workers;
    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(server::housekeeping(state.clone()));
        server::run(state, listener, workers)?.await
    })?;
    Ok(())
}
