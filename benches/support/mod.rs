//! What the database benchmarks share: their arguments, and a fresh database of either backend
//! (PostgreSQL's made and dropped around the run, SQLite's in a temporary directory).

use diesel::{Connection, RunQueryDsl};

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Runs `run` with the URL of a fresh database of `backend` named after `prefix`, then drops it
/// (PostgreSQL: CLOSEDLOOP_TEST_POSTGRES names the server), even when `run` panics.
pub fn with_database(prefix: &str, backend: &str, run: impl FnOnce(&str) + std::panic::UnwindSafe) {
    let admin = std::env::var("CLOSEDLOOP_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let dir = tempfile::tempdir().unwrap();
    let name = format!("closedloop_{prefix}_{}", std::process::id());
    let url = if backend == "postgres" {
        let mut c = diesel::PgConnection::establish(&admin).expect("PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .unwrap();
        format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
    } else {
        format!(
            "sqlite://{}",
            dir.path().join(format!("{prefix}.db")).display()
        )
    };
    let result = std::panic::catch_unwind(|| run(&url));
    if backend == "postgres" {
        let mut c = diesel::PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)
            .unwrap();
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
