//! What every handler shares, and running blocking database work off the async executor.

use super::problem::Problem;
use crate::app::{AppError, Settings};
use crate::auth::{Throttle, Tokens};
use crate::store::{DbConn, Pool, StoreError};
use actix_web::web;

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
    /// Whether the console's cookies are `Secure`: the service is reached over https.
    pub secure_cookies: bool,
    /// Failed sign-ins, to slow down password guessing.
    pub throttle: Throttle,
}

/// Runs blocking database work on actix's blocking pool, with a connection from the pool.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
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
