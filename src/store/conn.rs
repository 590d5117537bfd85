//! One connection type for both backends, the pool, migrations and transactions. The variant is
//! chosen by the URL scheme; the few statements that differ between backends live in `backend.rs`.

use super::error::StoreError;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Taken around migrations so that instances starting together migrate one after the other.
const MIGRATION_LOCK: i64 = 0x636c_6f73_6564; // "closed"

/// Opens connections of the variant the URL names, set up for closedloop.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    busy_timeout: Duration,
    statement_timeout: Duration,
}

/// A PostgreSQL URL with the libpq settings that make a database which stops answering (a hung
/// server, a cut network) an error within seconds rather than a request that hangs: a connect
/// timeout, TCP keepalives and a TCP user timeout. Those the URL sets itself are left alone.
pub fn postgres_url(url: &str) -> String {
    let mut out = url.to_string();
    for (key, value) in [
        ("connect_timeout", "3"),
        ("keepalives", "1"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "3"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ] {
        if !out.contains(&format!("{key}=")) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{key}={value}"));
        }
    }
    out
}

impl Manager {
    pub fn new(url: &str, busy_timeout: Duration) -> Self {
        Self {
            url: url.to_string(),
            busy_timeout,
            statement_timeout: Duration::from_secs(60),
        }
    }

    /// PostgreSQL: the longest a statement may run.
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.statement_timeout = limit;
        self
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite://")
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                        "cannot create {}: {e}",
                        dir.display()
                    )))
                })?;
            }
            let mut conn = SqliteConnection::establish(path)?;
            // WAL lets readers go on while one writer writes; FULL keeps an acknowledged ticket
            // through a power cut, not only through a crash of the process.
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON;",
                self.busy_timeout.as_millis()
            ))
            .map_err(r2d2::Error::QueryError)?;
            let file = sqlite_file(&mut conn).map_err(r2d2::Error::QueryError)?;
            WriterQueue::register(file, self.busy_timeout);
            Ok(DbConn::Sqlite(conn))
        } else {
            let mut conn = PgConnection::establish(&postgres_url(&self.url))?;
            // A query the database cannot finish in time is given up, not waited on forever.
            conn.batch_execute(&format!(
                "SET statement_timeout = {}",
                self.statement_timeout.as_millis()
            ))
            .map_err(r2d2::Error::QueryError)?;
            Ok(DbConn::Postgres(conn))
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// The pool, built once. A request waits at most `timeout` for a connection, then gets 503.
pub fn pool(manager: Manager, size: u32, timeout: Duration) -> Result<Pool, StoreError> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(if manager.is_sqlite() { 1 } else { size.min(2) }))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build(manager)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Applies the pending migrations of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut DbConn) -> Result<usize, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(failed),
        DbConn::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let ran = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(failed);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            ran
        }
    }
}

/// Whether every migration built into this binary has been applied.
pub fn migrations_current(conn: &mut DbConn) -> Result<bool, StoreError> {
    let none_pending = match conn {
        DbConn::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|p| p.is_empty()),
        DbConn::Postgres(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|p| p.is_empty()),
    };
    none_pending.map_err(|e| StoreError::Migration(e.to_string()))
}

/// The file an SQLite connection has open, as SQLite resolved it.
fn sqlite_file(conn: &mut SqliteConnection) -> diesel::QueryResult<String> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "(SELECT file FROM pragma_database_list WHERE name = 'main')",
    ))
    .get_result(conn)
}

/// The writers of one SQLite file in this process, let in one at a time in the order they came.
///
/// SQLite's busy handler polls the write lock with growing sleeps: the lock sits idle while the
/// waiters sleep, and a waiter can lose every race for it. Under 32 writers that made a write wait
/// past the busy timeout (a 503) while others went ahead; with the queue, only the writer at its
/// head waits on SQLite's lock (for writers of other processes), and the lock passes on at once.
#[derive(Clone)]
struct WriterQueue {
    turn: Arc<parking_lot::Mutex<()>>,
    patience: Duration,
}

type Turn = parking_lot::ArcMutexGuard<parking_lot::RawMutex, ()>;

impl WriterQueue {
    fn all() -> &'static parking_lot::Mutex<HashMap<String, WriterQueue>> {
        static ALL: OnceLock<parking_lot::Mutex<HashMap<String, WriterQueue>>> = OnceLock::new();
        ALL.get_or_init(Default::default)
    }

    fn register(file: String, patience: Duration) {
        if file.is_empty() {
            // An in-memory database: private to its connection, nobody to wait for.
            return;
        }
        Self::all()
            .lock()
            .entry(file)
            .or_insert_with(|| WriterQueue {
                turn: Arc::default(),
                patience,
            });
    }

    /// Waits for this connection's turn to write; `None` when no pool of this process opened its
    /// file (an in-memory database): then SQLite's own busy handler alone applies. Every write of
    /// the service goes through `write`, so none of them bypasses the line.
    fn wait_turn(conn: &mut SqliteConnection) -> diesel::QueryResult<Option<Turn>> {
        let file = sqlite_file(conn)?;
        let Some(queue) = Self::all().lock().get(&file).cloned() else {
            return Ok(None);
        };
        match queue.turn.try_lock_arc_for(queue.patience) {
            Some(turn) => Ok(Some(turn)),
            None => Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new("database is locked (writers queued past the busy timeout)".to_string()),
            )),
        }
    }
}

/// A writer's turn; when it ends, the next writer in line goes next, not whoever asks first.
struct InLine(Option<Turn>);

impl Drop for InLine {
    fn drop(&mut self) {
        if let Some(turn) = self.0.take() {
            parking_lot::ArcMutexGuard::unlock_fair(turn);
        }
    }
}

/// Runs `f` in a write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, so writers queue
/// on the busy timeout instead of failing when a read turns into a write; the writers of this
/// process wait in line first (`WriterQueue`).
pub fn write<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let _turn = match conn {
        DbConn::Sqlite(c) => {
            let turn = InLine(WriterQueue::wait_turn(c)?);
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            turn
        }
        DbConn::Postgres(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            InLine(None)
        }
    };
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The error that made us roll back is the one worth reporting.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}
